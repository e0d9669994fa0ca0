# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_matrix_user_global_optspecs
    string join \n config= homeserver-url= server-name= backend= registration-shared-secret-file= admin-access-token-file= synapse-config= dendrite-config= provision-admin= provision-admin-file= provision-admin-user= validate-certs= ca-path= timeout= wait-timeout= dendrite-database-file= mas-url= mas-client-id= mas-client-secret-file= skip-password-check= mas-login-interval= mas-login-wait= check diff json q/quiet h/help V/version
end

function __fish_matrix_user_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_matrix_user_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_matrix_user_using_subcommand
    set -l cmd (__fish_matrix_user_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c matrix-user -n "__fish_matrix_user_needs_command" -l config -d 'Config file [default: $XDG_CONFIG_HOME/matrix-user/config.yaml; env: MATRIX_USER_CONFIG]' -r -F
complete -c matrix-user -n "__fish_matrix_user_needs_command" -l homeserver-url -d 'Client-server API base URL [default: http://127.0.0.1:8008]' -r
complete -c matrix-user -n "__fish_matrix_user_needs_command" -l server-name -d 'Domain of user IDs (@john:DOMAIN) [default: learnt with the admin token]' -r
complete -c matrix-user -n "__fish_matrix_user_needs_command" -l backend -d 'Homeserver kind: synapse (default), dendrite, mas' -r
complete -c matrix-user -n "__fish_matrix_user_needs_command" -l registration-shared-secret-file -d 'File holding the registration shared secret (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_needs_command" -l admin-access-token-file -d 'File holding a server admin\'s access token (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_needs_command" -l synapse-config -d 'Synapse\'s config file or conf.d folder on this host, to read the shared secret (and URL) from' -r -F
complete -c matrix-user -n "__fish_matrix_user_needs_command" -l dendrite-config -d 'Dendrite\'s dendrite.yaml on this host, to read the shared secret and account database from' -r -F
complete -c matrix-user -n "__fish_matrix_user_needs_command" -l provision-admin -d 'Without an admin token, register an admin account of the tool\'s own once: yes or no [default: no]' -r
complete -c matrix-user -n "__fish_matrix_user_needs_command" -l provision-admin-file -d 'File (mode 0600) keeping that account\'s password and token' -r -F
complete -c matrix-user -n "__fish_matrix_user_needs_command" -l provision-admin-user -d 'Localpart of that account [default: matrix-user]' -r
complete -c matrix-user -n "__fish_matrix_user_needs_command" -l validate-certs -d 'Check HTTPS certificates: yes or no [default: yes]' -r
complete -c matrix-user -n "__fish_matrix_user_needs_command" -l ca-path -d 'Extra CA certificate (PEM) to trust' -r -F
complete -c matrix-user -n "__fish_matrix_user_needs_command" -l timeout -d 'Seconds to wait for each answer [default: 30]' -r
complete -c matrix-user -n "__fish_matrix_user_needs_command" -l wait-timeout -d 'Seconds to wait for a homeserver that is starting or restarting [default: 60]' -r
complete -c matrix-user -n "__fish_matrix_user_needs_command" -l dendrite-database-file -d 'File holding Dendrite\'s account database (PostgreSQL URL or SQLite path), to promote or demote' -r -F
complete -c matrix-user -n "__fish_matrix_user_needs_command" -l mas-url -d 'MAS base URL (with --backend mas)' -r
complete -c matrix-user -n "__fish_matrix_user_needs_command" -l mas-client-id -d 'ID of a MAS client allowed the urn:mas:admin scope' -r
complete -c matrix-user -n "__fish_matrix_user_needs_command" -l mas-client-secret-file -d 'File holding that MAS client\'s secret (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_needs_command" -l skip-password-check -d 'With MAS, set passwords it finds too simple: yes or no [default: no]' -r
complete -c matrix-user -n "__fish_matrix_user_needs_command" -l mas-login-interval -d 'With MAS, seconds between password-check logins once its rate limit is hit [default: 20]' -r
complete -c matrix-user -n "__fish_matrix_user_needs_command" -l mas-login-wait -d 'With MAS, the longest a run waits for its login rate limit in all [default: 600]' -r
complete -c matrix-user -n "__fish_matrix_user_needs_command" -l check -d 'Change nothing; say what a real run would change'
complete -c matrix-user -n "__fish_matrix_user_needs_command" -l diff -d 'Also show each change\'s before and after'
complete -c matrix-user -n "__fish_matrix_user_needs_command" -l json -d 'Print the module\'s result object (one JSON line) instead of text'
complete -c matrix-user -n "__fish_matrix_user_needs_command" -s q -l quiet -d 'Print nothing but warnings and errors'
complete -c matrix-user -n "__fish_matrix_user_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c matrix-user -n "__fish_matrix_user_needs_command" -s V -l version -d 'Print version'
complete -c matrix-user -n "__fish_matrix_user_needs_command" -f -a "register" -d 'Create one user, or bring an existing one to the wanted admin state (unlocking or reactivating it)'
complete -c matrix-user -n "__fish_matrix_user_needs_command" -f -a "unlock" -d 'Create one user, or bring an existing one to the wanted admin state (unlocking or reactivating it)'
complete -c matrix-user -n "__fish_matrix_user_needs_command" -f -a "reactivate" -d 'Create one user, or bring an existing one to the wanted admin state (unlocking or reactivating it)'
complete -c matrix-user -n "__fish_matrix_user_needs_command" -f -a "lock" -d 'Lock a user: the account stays but cannot log in (Synapse, MAS); a missing user is left missing'
complete -c matrix-user -n "__fish_matrix_user_needs_command" -f -a "deactivate" -d 'Deactivate a user: its sessions end and it cannot log in; a missing user is left missing'
complete -c matrix-user -n "__fish_matrix_user_needs_command" -f -a "ensure" -d 'Ensure every user of a YAML, JSON or CSV file, as the module\'s `users_file`'
complete -c matrix-user -n "__fish_matrix_user_needs_command" -f -a "token" -d 'Create, change or delete one registration token, as the module matrix_registration_token'
complete -c matrix-user -n "__fish_matrix_user_needs_command" -f -a "tokens" -d 'Ensure every registration token of a YAML or JSON file, as the module\'s `tokens` list'
complete -c matrix-user -n "__fish_matrix_user_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l admin -d 'Server admin or not [default: no for a new user; an existing user\'s is left alone]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l update-password -d 'always: also reset an existing user\'s password when it differs [default: on_create]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l displayname -d 'Display name of the user: a new one is created with it, an existing one\'s is set to it' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l user-type -d 'Type of a new user (Synapse only); an existing user\'s is left alone [default: a regular user]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l email -d 'Email address of the user (with backend mas: added as a verified address)' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l password-file -d 'Read the password from FILE (\'-\': standard input); one final line break is dropped' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l insecure-password -d 'The password itself: other local users can read it (prefer the above or MATRIX_USER_PASSWORD)' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l config -d 'Config file [default: $XDG_CONFIG_HOME/matrix-user/config.yaml; env: MATRIX_USER_CONFIG]' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l homeserver-url -d 'Client-server API base URL [default: http://127.0.0.1:8008]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l server-name -d 'Domain of user IDs (@john:DOMAIN) [default: learnt with the admin token]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l backend -d 'Homeserver kind: synapse (default), dendrite, mas' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l registration-shared-secret-file -d 'File holding the registration shared secret (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l admin-access-token-file -d 'File holding a server admin\'s access token (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l synapse-config -d 'Synapse\'s config file or conf.d folder on this host, to read the shared secret (and URL) from' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l dendrite-config -d 'Dendrite\'s dendrite.yaml on this host, to read the shared secret and account database from' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l provision-admin -d 'Without an admin token, register an admin account of the tool\'s own once: yes or no [default: no]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l provision-admin-file -d 'File (mode 0600) keeping that account\'s password and token' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l provision-admin-user -d 'Localpart of that account [default: matrix-user]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l validate-certs -d 'Check HTTPS certificates: yes or no [default: yes]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l ca-path -d 'Extra CA certificate (PEM) to trust' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l timeout -d 'Seconds to wait for each answer [default: 30]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l wait-timeout -d 'Seconds to wait for a homeserver that is starting or restarting [default: 60]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l dendrite-database-file -d 'File holding Dendrite\'s account database (PostgreSQL URL or SQLite path), to promote or demote' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l mas-url -d 'MAS base URL (with --backend mas)' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l mas-client-id -d 'ID of a MAS client allowed the urn:mas:admin scope' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l mas-client-secret-file -d 'File holding that MAS client\'s secret (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l skip-password-check -d 'With MAS, set passwords it finds too simple: yes or no [default: no]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l mas-login-interval -d 'With MAS, seconds between password-check logins once its rate limit is hit [default: 20]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l mas-login-wait -d 'With MAS, the longest a run waits for its login rate limit in all [default: 600]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l password-stdin -d 'Read the password from standard input; one final line break is dropped'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l check -d 'Change nothing; say what a real run would change'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l diff -d 'Also show each change\'s before and after'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -l json -d 'Print the module\'s result object (one JSON line) instead of text'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -s q -l quiet -d 'Print nothing but warnings and errors'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand register" -s h -l help -d 'Print help'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l admin -d 'Server admin or not [default: no for a new user; an existing user\'s is left alone]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l update-password -d 'always: also reset an existing user\'s password when it differs [default: on_create]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l displayname -d 'Display name of the user: a new one is created with it, an existing one\'s is set to it' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l user-type -d 'Type of a new user (Synapse only); an existing user\'s is left alone [default: a regular user]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l email -d 'Email address of the user (with backend mas: added as a verified address)' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l password-file -d 'Read the password from FILE (\'-\': standard input); one final line break is dropped' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l insecure-password -d 'The password itself: other local users can read it (prefer the above or MATRIX_USER_PASSWORD)' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l config -d 'Config file [default: $XDG_CONFIG_HOME/matrix-user/config.yaml; env: MATRIX_USER_CONFIG]' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l homeserver-url -d 'Client-server API base URL [default: http://127.0.0.1:8008]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l server-name -d 'Domain of user IDs (@john:DOMAIN) [default: learnt with the admin token]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l backend -d 'Homeserver kind: synapse (default), dendrite, mas' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l registration-shared-secret-file -d 'File holding the registration shared secret (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l admin-access-token-file -d 'File holding a server admin\'s access token (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l synapse-config -d 'Synapse\'s config file or conf.d folder on this host, to read the shared secret (and URL) from' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l dendrite-config -d 'Dendrite\'s dendrite.yaml on this host, to read the shared secret and account database from' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l provision-admin -d 'Without an admin token, register an admin account of the tool\'s own once: yes or no [default: no]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l provision-admin-file -d 'File (mode 0600) keeping that account\'s password and token' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l provision-admin-user -d 'Localpart of that account [default: matrix-user]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l validate-certs -d 'Check HTTPS certificates: yes or no [default: yes]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l ca-path -d 'Extra CA certificate (PEM) to trust' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l timeout -d 'Seconds to wait for each answer [default: 30]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l wait-timeout -d 'Seconds to wait for a homeserver that is starting or restarting [default: 60]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l dendrite-database-file -d 'File holding Dendrite\'s account database (PostgreSQL URL or SQLite path), to promote or demote' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l mas-url -d 'MAS base URL (with --backend mas)' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l mas-client-id -d 'ID of a MAS client allowed the urn:mas:admin scope' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l mas-client-secret-file -d 'File holding that MAS client\'s secret (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l skip-password-check -d 'With MAS, set passwords it finds too simple: yes or no [default: no]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l mas-login-interval -d 'With MAS, seconds between password-check logins once its rate limit is hit [default: 20]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l mas-login-wait -d 'With MAS, the longest a run waits for its login rate limit in all [default: 600]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l password-stdin -d 'Read the password from standard input; one final line break is dropped'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l check -d 'Change nothing; say what a real run would change'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l diff -d 'Also show each change\'s before and after'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -l json -d 'Print the module\'s result object (one JSON line) instead of text'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -s q -l quiet -d 'Print nothing but warnings and errors'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand unlock" -s h -l help -d 'Print help'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l admin -d 'Server admin or not [default: no for a new user; an existing user\'s is left alone]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l update-password -d 'always: also reset an existing user\'s password when it differs [default: on_create]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l displayname -d 'Display name of the user: a new one is created with it, an existing one\'s is set to it' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l user-type -d 'Type of a new user (Synapse only); an existing user\'s is left alone [default: a regular user]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l email -d 'Email address of the user (with backend mas: added as a verified address)' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l password-file -d 'Read the password from FILE (\'-\': standard input); one final line break is dropped' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l insecure-password -d 'The password itself: other local users can read it (prefer the above or MATRIX_USER_PASSWORD)' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l config -d 'Config file [default: $XDG_CONFIG_HOME/matrix-user/config.yaml; env: MATRIX_USER_CONFIG]' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l homeserver-url -d 'Client-server API base URL [default: http://127.0.0.1:8008]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l server-name -d 'Domain of user IDs (@john:DOMAIN) [default: learnt with the admin token]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l backend -d 'Homeserver kind: synapse (default), dendrite, mas' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l registration-shared-secret-file -d 'File holding the registration shared secret (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l admin-access-token-file -d 'File holding a server admin\'s access token (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l synapse-config -d 'Synapse\'s config file or conf.d folder on this host, to read the shared secret (and URL) from' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l dendrite-config -d 'Dendrite\'s dendrite.yaml on this host, to read the shared secret and account database from' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l provision-admin -d 'Without an admin token, register an admin account of the tool\'s own once: yes or no [default: no]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l provision-admin-file -d 'File (mode 0600) keeping that account\'s password and token' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l provision-admin-user -d 'Localpart of that account [default: matrix-user]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l validate-certs -d 'Check HTTPS certificates: yes or no [default: yes]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l ca-path -d 'Extra CA certificate (PEM) to trust' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l timeout -d 'Seconds to wait for each answer [default: 30]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l wait-timeout -d 'Seconds to wait for a homeserver that is starting or restarting [default: 60]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l dendrite-database-file -d 'File holding Dendrite\'s account database (PostgreSQL URL or SQLite path), to promote or demote' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l mas-url -d 'MAS base URL (with --backend mas)' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l mas-client-id -d 'ID of a MAS client allowed the urn:mas:admin scope' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l mas-client-secret-file -d 'File holding that MAS client\'s secret (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l skip-password-check -d 'With MAS, set passwords it finds too simple: yes or no [default: no]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l mas-login-interval -d 'With MAS, seconds between password-check logins once its rate limit is hit [default: 20]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l mas-login-wait -d 'With MAS, the longest a run waits for its login rate limit in all [default: 600]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l password-stdin -d 'Read the password from standard input; one final line break is dropped'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l check -d 'Change nothing; say what a real run would change'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l diff -d 'Also show each change\'s before and after'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -l json -d 'Print the module\'s result object (one JSON line) instead of text'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -s q -l quiet -d 'Print nothing but warnings and errors'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand reactivate" -s h -l help -d 'Print help'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -l config -d 'Config file [default: $XDG_CONFIG_HOME/matrix-user/config.yaml; env: MATRIX_USER_CONFIG]' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -l homeserver-url -d 'Client-server API base URL [default: http://127.0.0.1:8008]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -l server-name -d 'Domain of user IDs (@john:DOMAIN) [default: learnt with the admin token]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -l backend -d 'Homeserver kind: synapse (default), dendrite, mas' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -l registration-shared-secret-file -d 'File holding the registration shared secret (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -l admin-access-token-file -d 'File holding a server admin\'s access token (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -l synapse-config -d 'Synapse\'s config file or conf.d folder on this host, to read the shared secret (and URL) from' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -l dendrite-config -d 'Dendrite\'s dendrite.yaml on this host, to read the shared secret and account database from' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -l provision-admin -d 'Without an admin token, register an admin account of the tool\'s own once: yes or no [default: no]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -l provision-admin-file -d 'File (mode 0600) keeping that account\'s password and token' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -l provision-admin-user -d 'Localpart of that account [default: matrix-user]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -l validate-certs -d 'Check HTTPS certificates: yes or no [default: yes]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -l ca-path -d 'Extra CA certificate (PEM) to trust' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -l timeout -d 'Seconds to wait for each answer [default: 30]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -l wait-timeout -d 'Seconds to wait for a homeserver that is starting or restarting [default: 60]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -l dendrite-database-file -d 'File holding Dendrite\'s account database (PostgreSQL URL or SQLite path), to promote or demote' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -l mas-url -d 'MAS base URL (with --backend mas)' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -l mas-client-id -d 'ID of a MAS client allowed the urn:mas:admin scope' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -l mas-client-secret-file -d 'File holding that MAS client\'s secret (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -l skip-password-check -d 'With MAS, set passwords it finds too simple: yes or no [default: no]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -l mas-login-interval -d 'With MAS, seconds between password-check logins once its rate limit is hit [default: 20]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -l mas-login-wait -d 'With MAS, the longest a run waits for its login rate limit in all [default: 600]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -l check -d 'Change nothing; say what a real run would change'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -l diff -d 'Also show each change\'s before and after'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -l json -d 'Print the module\'s result object (one JSON line) instead of text'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -s q -l quiet -d 'Print nothing but warnings and errors'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand lock" -s h -l help -d 'Print help'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l password-file -d 'Read the password from FILE (\'-\': standard input); one final line break is dropped' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l insecure-password -d 'The password itself: other local users can read it (prefer the above or MATRIX_USER_PASSWORD)' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l config -d 'Config file [default: $XDG_CONFIG_HOME/matrix-user/config.yaml; env: MATRIX_USER_CONFIG]' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l homeserver-url -d 'Client-server API base URL [default: http://127.0.0.1:8008]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l server-name -d 'Domain of user IDs (@john:DOMAIN) [default: learnt with the admin token]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l backend -d 'Homeserver kind: synapse (default), dendrite, mas' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l registration-shared-secret-file -d 'File holding the registration shared secret (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l admin-access-token-file -d 'File holding a server admin\'s access token (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l synapse-config -d 'Synapse\'s config file or conf.d folder on this host, to read the shared secret (and URL) from' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l dendrite-config -d 'Dendrite\'s dendrite.yaml on this host, to read the shared secret and account database from' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l provision-admin -d 'Without an admin token, register an admin account of the tool\'s own once: yes or no [default: no]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l provision-admin-file -d 'File (mode 0600) keeping that account\'s password and token' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l provision-admin-user -d 'Localpart of that account [default: matrix-user]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l validate-certs -d 'Check HTTPS certificates: yes or no [default: yes]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l ca-path -d 'Extra CA certificate (PEM) to trust' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l timeout -d 'Seconds to wait for each answer [default: 30]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l wait-timeout -d 'Seconds to wait for a homeserver that is starting or restarting [default: 60]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l dendrite-database-file -d 'File holding Dendrite\'s account database (PostgreSQL URL or SQLite path), to promote or demote' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l mas-url -d 'MAS base URL (with --backend mas)' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l mas-client-id -d 'ID of a MAS client allowed the urn:mas:admin scope' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l mas-client-secret-file -d 'File holding that MAS client\'s secret (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l skip-password-check -d 'With MAS, set passwords it finds too simple: yes or no [default: no]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l mas-login-interval -d 'With MAS, seconds between password-check logins once its rate limit is hit [default: 20]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l mas-login-wait -d 'With MAS, the longest a run waits for its login rate limit in all [default: 600]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l erase -d 'Also erase the account as the server defines it (Synapse\'s erasure; MAS asks Synapse to erase it)'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l password-stdin -d 'Read the password from standard input; one final line break is dropped'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l check -d 'Change nothing; say what a real run would change'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l diff -d 'Also show each change\'s before and after'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -l json -d 'Print the module\'s result object (one JSON line) instead of text'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -s q -l quiet -d 'Print nothing but warnings and errors'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand deactivate" -s h -l help -d 'Print help'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l update-password -d 'update_password of every user that does not set its own [default: on_create]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l concurrency -d 'Most requests at once [default: 4]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l absent-state -d 'In exact mode, what becomes of an account the list does not name [default: locked]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l keep -d 'With --exact, a localpart never pruned (a glob: * and ?); may be given again' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l max-changes -d 'In exact mode, the most accounts pruned, as a count or a share of the server\'s (N or N%) [default: 10%]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l config -d 'Config file [default: $XDG_CONFIG_HOME/matrix-user/config.yaml; env: MATRIX_USER_CONFIG]' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l homeserver-url -d 'Client-server API base URL [default: http://127.0.0.1:8008]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l server-name -d 'Domain of user IDs (@john:DOMAIN) [default: learnt with the admin token]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l backend -d 'Homeserver kind: synapse (default), dendrite, mas' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l registration-shared-secret-file -d 'File holding the registration shared secret (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l admin-access-token-file -d 'File holding a server admin\'s access token (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l synapse-config -d 'Synapse\'s config file or conf.d folder on this host, to read the shared secret (and URL) from' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l dendrite-config -d 'Dendrite\'s dendrite.yaml on this host, to read the shared secret and account database from' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l provision-admin -d 'Without an admin token, register an admin account of the tool\'s own once: yes or no [default: no]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l provision-admin-file -d 'File (mode 0600) keeping that account\'s password and token' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l provision-admin-user -d 'Localpart of that account [default: matrix-user]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l validate-certs -d 'Check HTTPS certificates: yes or no [default: yes]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l ca-path -d 'Extra CA certificate (PEM) to trust' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l timeout -d 'Seconds to wait for each answer [default: 30]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l wait-timeout -d 'Seconds to wait for a homeserver that is starting or restarting [default: 60]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l dendrite-database-file -d 'File holding Dendrite\'s account database (PostgreSQL URL or SQLite path), to promote or demote' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l mas-url -d 'MAS base URL (with --backend mas)' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l mas-client-id -d 'ID of a MAS client allowed the urn:mas:admin scope' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l mas-client-secret-file -d 'File holding that MAS client\'s secret (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l skip-password-check -d 'With MAS, set passwords it finds too simple: yes or no [default: no]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l mas-login-interval -d 'With MAS, seconds between password-check logins once its rate limit is hit [default: 20]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l mas-login-wait -d 'With MAS, the longest a run waits for its login rate limit in all [default: 600]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l exact -d 'Exact mode: bring the accounts the file does not name to --absent-state (the module\'s `exclusive`); never admins, appservice users, guests or --keep'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l check -d 'Change nothing; say what a real run would change'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l diff -d 'Also show each change\'s before and after'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -l json -d 'Print the module\'s result object (one JSON line) instead of text'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -s q -l quiet -d 'Print nothing but warnings and errors'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand ensure" -s h -l help -d 'Print help'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l token-file -d 'File holding the token itself [default: generated as NAME-<20 random letters and digits>]' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l uses-allowed -d 'Sign-ups it allows in all: a number (0 or more) or unlimited [default: unlimited]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l expiry-time -d 'Until when it is accepted: RFC 3339 time, date (UTC midnight), relative (30m, 12h, 7d, 2w; set on creation only) or never' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l state -d 'absent: delete it (MAS: revoke it) [default: present]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l config -d 'Config file [default: $XDG_CONFIG_HOME/matrix-user/config.yaml; env: MATRIX_USER_CONFIG]' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l homeserver-url -d 'Client-server API base URL [default: http://127.0.0.1:8008]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l server-name -d 'Domain of user IDs (@john:DOMAIN) [default: learnt with the admin token]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l backend -d 'Homeserver kind: synapse (default), dendrite, mas' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l registration-shared-secret-file -d 'File holding the registration shared secret (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l admin-access-token-file -d 'File holding a server admin\'s access token (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l synapse-config -d 'Synapse\'s config file or conf.d folder on this host, to read the shared secret (and URL) from' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l dendrite-config -d 'Dendrite\'s dendrite.yaml on this host, to read the shared secret and account database from' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l provision-admin -d 'Without an admin token, register an admin account of the tool\'s own once: yes or no [default: no]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l provision-admin-file -d 'File (mode 0600) keeping that account\'s password and token' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l provision-admin-user -d 'Localpart of that account [default: matrix-user]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l validate-certs -d 'Check HTTPS certificates: yes or no [default: yes]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l ca-path -d 'Extra CA certificate (PEM) to trust' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l timeout -d 'Seconds to wait for each answer [default: 30]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l wait-timeout -d 'Seconds to wait for a homeserver that is starting or restarting [default: 60]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l dendrite-database-file -d 'File holding Dendrite\'s account database (PostgreSQL URL or SQLite path), to promote or demote' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l mas-url -d 'MAS base URL (with --backend mas)' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l mas-client-id -d 'ID of a MAS client allowed the urn:mas:admin scope' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l mas-client-secret-file -d 'File holding that MAS client\'s secret (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l skip-password-check -d 'With MAS, set passwords it finds too simple: yes or no [default: no]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l mas-login-interval -d 'With MAS, seconds between password-check logins once its rate limit is hit [default: 20]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l mas-login-wait -d 'With MAS, the longest a run waits for its login rate limit in all [default: 600]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l check -d 'Change nothing; say what a real run would change'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l diff -d 'Also show each change\'s before and after'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -l json -d 'Print the module\'s result object (one JSON line) instead of text'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -s q -l quiet -d 'Print nothing but warnings and errors'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand token" -s h -l help -d 'Print help'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -l config -d 'Config file [default: $XDG_CONFIG_HOME/matrix-user/config.yaml; env: MATRIX_USER_CONFIG]' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -l homeserver-url -d 'Client-server API base URL [default: http://127.0.0.1:8008]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -l server-name -d 'Domain of user IDs (@john:DOMAIN) [default: learnt with the admin token]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -l backend -d 'Homeserver kind: synapse (default), dendrite, mas' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -l registration-shared-secret-file -d 'File holding the registration shared secret (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -l admin-access-token-file -d 'File holding a server admin\'s access token (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -l synapse-config -d 'Synapse\'s config file or conf.d folder on this host, to read the shared secret (and URL) from' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -l dendrite-config -d 'Dendrite\'s dendrite.yaml on this host, to read the shared secret and account database from' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -l provision-admin -d 'Without an admin token, register an admin account of the tool\'s own once: yes or no [default: no]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -l provision-admin-file -d 'File (mode 0600) keeping that account\'s password and token' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -l provision-admin-user -d 'Localpart of that account [default: matrix-user]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -l validate-certs -d 'Check HTTPS certificates: yes or no [default: yes]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -l ca-path -d 'Extra CA certificate (PEM) to trust' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -l timeout -d 'Seconds to wait for each answer [default: 30]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -l wait-timeout -d 'Seconds to wait for a homeserver that is starting or restarting [default: 60]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -l dendrite-database-file -d 'File holding Dendrite\'s account database (PostgreSQL URL or SQLite path), to promote or demote' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -l mas-url -d 'MAS base URL (with --backend mas)' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -l mas-client-id -d 'ID of a MAS client allowed the urn:mas:admin scope' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -l mas-client-secret-file -d 'File holding that MAS client\'s secret (\'-\': standard input)' -r -F
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -l skip-password-check -d 'With MAS, set passwords it finds too simple: yes or no [default: no]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -l mas-login-interval -d 'With MAS, seconds between password-check logins once its rate limit is hit [default: 20]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -l mas-login-wait -d 'With MAS, the longest a run waits for its login rate limit in all [default: 600]' -r
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -l check -d 'Change nothing; say what a real run would change'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -l diff -d 'Also show each change\'s before and after'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -l json -d 'Print the module\'s result object (one JSON line) instead of text'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -s q -l quiet -d 'Print nothing but warnings and errors'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand tokens" -s h -l help -d 'Print help'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand help; and not __fish_seen_subcommand_from register lock deactivate ensure token tokens help" -f -a "register" -d 'Create one user, or bring an existing one to the wanted admin state (unlocking or reactivating it)'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand help; and not __fish_seen_subcommand_from register lock deactivate ensure token tokens help" -f -a "lock" -d 'Lock a user: the account stays but cannot log in (Synapse, MAS); a missing user is left missing'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand help; and not __fish_seen_subcommand_from register lock deactivate ensure token tokens help" -f -a "deactivate" -d 'Deactivate a user: its sessions end and it cannot log in; a missing user is left missing'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand help; and not __fish_seen_subcommand_from register lock deactivate ensure token tokens help" -f -a "ensure" -d 'Ensure every user of a YAML, JSON or CSV file, as the module\'s `users_file`'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand help; and not __fish_seen_subcommand_from register lock deactivate ensure token tokens help" -f -a "token" -d 'Create, change or delete one registration token, as the module matrix_registration_token'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand help; and not __fish_seen_subcommand_from register lock deactivate ensure token tokens help" -f -a "tokens" -d 'Ensure every registration token of a YAML or JSON file, as the module\'s `tokens` list'
complete -c matrix-user -n "__fish_matrix_user_using_subcommand help; and not __fish_seen_subcommand_from register lock deactivate ensure token tokens help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
