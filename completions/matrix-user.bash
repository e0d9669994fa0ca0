_matrix__user() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="matrix__user"
                ;;
            matrix__user,deactivate)
                cmd="matrix__user__subcmd__deactivate"
                ;;
            matrix__user,ensure)
                cmd="matrix__user__subcmd__ensure"
                ;;
            matrix__user,help)
                cmd="matrix__user__subcmd__help"
                ;;
            matrix__user,lock)
                cmd="matrix__user__subcmd__lock"
                ;;
            matrix__user,reactivate)
                cmd="matrix__user__subcmd__register"
                ;;
            matrix__user,register)
                cmd="matrix__user__subcmd__register"
                ;;
            matrix__user,token)
                cmd="matrix__user__subcmd__token"
                ;;
            matrix__user,tokens)
                cmd="matrix__user__subcmd__tokens"
                ;;
            matrix__user,unlock)
                cmd="matrix__user__subcmd__register"
                ;;
            matrix__user__subcmd__help,deactivate)
                cmd="matrix__user__subcmd__help__subcmd__deactivate"
                ;;
            matrix__user__subcmd__help,ensure)
                cmd="matrix__user__subcmd__help__subcmd__ensure"
                ;;
            matrix__user__subcmd__help,help)
                cmd="matrix__user__subcmd__help__subcmd__help"
                ;;
            matrix__user__subcmd__help,lock)
                cmd="matrix__user__subcmd__help__subcmd__lock"
                ;;
            matrix__user__subcmd__help,register)
                cmd="matrix__user__subcmd__help__subcmd__register"
                ;;
            matrix__user__subcmd__help,token)
                cmd="matrix__user__subcmd__help__subcmd__token"
                ;;
            matrix__user__subcmd__help,tokens)
                cmd="matrix__user__subcmd__help__subcmd__tokens"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        matrix__user)
            opts="-q -h -V --config --homeserver-url --server-name --backend --registration-shared-secret-file --admin-access-token-file --synapse-config --dendrite-config --provision-admin --provision-admin-file --provision-admin-user --validate-certs --ca-path --timeout --wait-timeout --dendrite-database-file --mas-url --mas-client-id --mas-client-secret-file --skip-password-check --mas-login-interval --mas-login-wait --check --diff --json --quiet --help --version register unlock reactivate lock deactivate ensure token tokens help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --homeserver-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --server-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backend)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registration-shared-secret-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --admin-access-token-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --synapse-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dendrite-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --provision-admin)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --provision-admin-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --provision-admin-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --validate-certs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ca-path)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --wait-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dendrite-database-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-client-id)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-client-secret-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --skip-password-check)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-login-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-login-wait)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        matrix__subcmd__user__subcmd__deactivate)
            opts="-q -h --erase --password-file --password-stdin --insecure-password --config --homeserver-url --server-name --backend --registration-shared-secret-file --admin-access-token-file --synapse-config --dendrite-config --provision-admin --provision-admin-file --provision-admin-user --validate-certs --ca-path --timeout --wait-timeout --dendrite-database-file --mas-url --mas-client-id --mas-client-secret-file --skip-password-check --mas-login-interval --mas-login-wait --check --diff --json --quiet --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --insecure-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --homeserver-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --server-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backend)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registration-shared-secret-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --admin-access-token-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --synapse-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dendrite-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --provision-admin)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --provision-admin-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --provision-admin-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --validate-certs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ca-path)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --wait-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dendrite-database-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-client-id)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-client-secret-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --skip-password-check)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-login-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-login-wait)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        matrix__subcmd__user__subcmd__ensure)
            opts="-q -h --update-password --concurrency --exact --absent-state --keep --max-changes --config --homeserver-url --server-name --backend --registration-shared-secret-file --admin-access-token-file --synapse-config --dendrite-config --provision-admin --provision-admin-file --provision-admin-user --validate-certs --ca-path --timeout --wait-timeout --dendrite-database-file --mas-url --mas-client-id --mas-client-secret-file --skip-password-check --mas-login-interval --mas-login-wait --check --diff --json --quiet --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --update-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --concurrency)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --absent-state)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keep)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-changes)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --homeserver-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --server-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backend)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registration-shared-secret-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --admin-access-token-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --synapse-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dendrite-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --provision-admin)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --provision-admin-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --provision-admin-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --validate-certs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ca-path)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --wait-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dendrite-database-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-client-id)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-client-secret-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --skip-password-check)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-login-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-login-wait)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        matrix__subcmd__user__subcmd__help)
            opts="register lock deactivate ensure token tokens help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        matrix__subcmd__user__subcmd__help__subcmd__deactivate)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        matrix__subcmd__user__subcmd__help__subcmd__ensure)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        matrix__subcmd__user__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        matrix__subcmd__user__subcmd__help__subcmd__lock)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        matrix__subcmd__user__subcmd__help__subcmd__register)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        matrix__subcmd__user__subcmd__help__subcmd__token)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        matrix__subcmd__user__subcmd__help__subcmd__tokens)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        matrix__subcmd__user__subcmd__lock)
            opts="-q -h --config --homeserver-url --server-name --backend --registration-shared-secret-file --admin-access-token-file --synapse-config --dendrite-config --provision-admin --provision-admin-file --provision-admin-user --validate-certs --ca-path --timeout --wait-timeout --dendrite-database-file --mas-url --mas-client-id --mas-client-secret-file --skip-password-check --mas-login-interval --mas-login-wait --check --diff --json --quiet --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --homeserver-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --server-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backend)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registration-shared-secret-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --admin-access-token-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --synapse-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dendrite-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --provision-admin)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --provision-admin-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --provision-admin-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --validate-certs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ca-path)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --wait-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dendrite-database-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-client-id)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-client-secret-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --skip-password-check)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-login-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-login-wait)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        matrix__subcmd__user__subcmd__register)
            opts="-q -h --admin --update-password --displayname --user-type --email --password-file --password-stdin --insecure-password --config --homeserver-url --server-name --backend --registration-shared-secret-file --admin-access-token-file --synapse-config --dendrite-config --provision-admin --provision-admin-file --provision-admin-user --validate-certs --ca-path --timeout --wait-timeout --dendrite-database-file --mas-url --mas-client-id --mas-client-secret-file --skip-password-check --mas-login-interval --mas-login-wait --check --diff --json --quiet --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --admin)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --update-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --displayname)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --user-type)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --email)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --insecure-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --homeserver-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --server-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backend)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registration-shared-secret-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --admin-access-token-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --synapse-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dendrite-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --provision-admin)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --provision-admin-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --provision-admin-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --validate-certs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ca-path)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --wait-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dendrite-database-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-client-id)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-client-secret-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --skip-password-check)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-login-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-login-wait)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        matrix__subcmd__user__subcmd__token)
            opts="-q -h --token-file --uses-allowed --expiry-time --state --config --homeserver-url --server-name --backend --registration-shared-secret-file --admin-access-token-file --synapse-config --dendrite-config --provision-admin --provision-admin-file --provision-admin-user --validate-certs --ca-path --timeout --wait-timeout --dendrite-database-file --mas-url --mas-client-id --mas-client-secret-file --skip-password-check --mas-login-interval --mas-login-wait --check --diff --json --quiet --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --token-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --uses-allowed)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --expiry-time)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --state)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --homeserver-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --server-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backend)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registration-shared-secret-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --admin-access-token-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --synapse-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dendrite-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --provision-admin)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --provision-admin-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --provision-admin-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --validate-certs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ca-path)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --wait-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dendrite-database-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-client-id)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-client-secret-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --skip-password-check)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-login-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-login-wait)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        matrix__subcmd__user__subcmd__tokens)
            opts="-q -h --config --homeserver-url --server-name --backend --registration-shared-secret-file --admin-access-token-file --synapse-config --dendrite-config --provision-admin --provision-admin-file --provision-admin-user --validate-certs --ca-path --timeout --wait-timeout --dendrite-database-file --mas-url --mas-client-id --mas-client-secret-file --skip-password-check --mas-login-interval --mas-login-wait --check --diff --json --quiet --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --homeserver-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --server-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backend)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registration-shared-secret-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --admin-access-token-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --synapse-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dendrite-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --provision-admin)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --provision-admin-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --provision-admin-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --validate-certs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ca-path)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --wait-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dendrite-database-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-client-id)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-client-secret-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --skip-password-check)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-login-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-login-wait)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _matrix__user -o nosort -o bashdefault -o default matrix-user
else
    complete -F _matrix__user -o bashdefault -o default matrix-user
fi
