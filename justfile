# matrix-user: `just --list` shows what each recipe does.

set positional-arguments

# Tools installed by ./bootstrap come first.
export PATH := justfile_directory() / ".venv/bin" + ":" + env("PATH")

# List the recipes
default:
    @just --list

# Build the matrix-user binary (the Ansible module and CLI) at target/release/matrix-user
build:
    @scripts/build-module

# Build matrix-user for a host of another architecture or C library: just build-target aarch64-unknown-linux-musl
[no-exit-message]
build-target triple:
    @scripts/build-target "$1"

# Build the Ansible collection matrix_user.homeserver with a prebuilt binary (x86_64, glibc 2.17+); prints the tarball's path
collection:
    @scripts/build-collection

# Register a user, or bring an existing one to the wanted admin state: just register-user john - yes (password from stdin, or asked for; `john 'secret' yes` shows it in ps)
[no-exit-message]
register-user username password admin_yes_or_no *extra_args: _fresh
    #!/usr/bin/env bash
    # A script, not recipe lines: just would echo the password with each line it runs.
    # The password reaches scripts/extra-vars on its standard input, never in a command line: with
    # `-` it is read from standard input or asked for, and only `just` and this shell see the
    # three-argument form's password in theirs.
    set -euo pipefail
    inventory="${MATRIX_USER_INVENTORY:-inventory/hosts}"
    if [ ! -e "$inventory" ]; then
        echo "No inventory at $inventory: create it as docs/registering-users.md describes, or set MATRIX_USER_INVENTORY." >&2
        exit 1
    fi
    umask 077
    vars=$(mktemp)
    # The file holds the password: removed however the script ends (a signal ends it via exit).
    trap 'rm -f "$vars"' EXIT
    trap 'exit 129' HUP
    trap 'exit 130' INT
    trap 'exit 143' TERM
    if [ "$2" != - ]; then
        # printf is a shell builtin: the password goes down the pipe without a command line of its own.
        printf '%s' "$2" | scripts/extra-vars register "$1" "$3" > "$vars"
    elif [ -t 0 ]; then
        # Asked twice without echo: a typo would otherwise become the new account's password.
        IFS= read -r -s -p "Password for $1: " password || { echo >&2; echo "No password given: nothing was run." >&2; exit 1; }
        echo >&2
        if [ -z "$password" ]; then
            echo "No password given: nothing was run." >&2
            exit 1
        fi
        IFS= read -r -s -p "The same password again: " again || { echo >&2; echo "No password given: nothing was run." >&2; exit 1; }
        echo >&2
        if [ "$password" != "$again" ]; then
            echo "The two passwords differ: nothing was run." >&2
            exit 1
        fi
        unset again
        printf '%s' "$password" | scripts/extra-vars register "$1" "$3" --from-user > "$vars"
        unset password
    else
        # Read by the helper itself: one trailing newline (from `echo pw |`) is dropped, an empty password refused.
        scripts/extra-vars register "$1" "$3" --from-user > "$vars"
    fi
    shift 3
    # Not `exec`: the EXIT trap must still run after ansible-playbook.
    ansible-playbook -i "$inventory" setup.yml --extra-vars "@$vars" \
        --extra-vars matrix_user_module_build=false --tags=register-user "$@"

# Ensure every user in `matrix_user_users` in one task: just ensure-users users.yml (read literally; `-e @users.yml` and the inventory are templated)
[no-exit-message]
ensure-users *args: _fresh
    #!/usr/bin/env bash
    set -euo pipefail
    inventory="${MATRIX_USER_INVENTORY:-inventory/hosts}"
    if [ ! -e "$inventory" ]; then
        echo "No inventory at $inventory: create it as docs/registering-users.md describes, or set MATRIX_USER_INVENTORY." >&2
        exit 1
    fi
    if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
        # A vars file: rewritten with every string tagged `!unsafe`, so Ansible templates none of it.
        umask 077
        vars=$(mktemp)
        # The copy holds the passwords: removed however the script ends (a signal ends it via exit).
        trap 'rm -f "$vars"' EXIT
        trap 'exit 129' HUP
        trap 'exit 130' INT
        trap 'exit 143' TERM
        scripts/extra-vars file "$1" > "$vars"
        shift
        set -- --extra-vars "@$vars" "$@"
    fi
    # Not `exec`: the EXIT trap must still run after ansible-playbook.
    ansible-playbook -i "$inventory" setup.yml \
        --extra-vars matrix_user_module_build=false --tags=ensure-matrix-users-created "$@"

# Create a registration token and print its sign-up link for Element: just registration-token spring-party 5 7d (USES: a number or unlimited; EXPIRY: 30m, 12h, 7d, a date, or never)
[no-exit-message]
registration-token name uses expiry *extra_args: _fresh
    #!/usr/bin/env bash
    # The token is generated on the server's host and reaches this terminal once, in the link the
    # playbook prints; it is never on a command line.
    set -euo pipefail
    inventory="${MATRIX_USER_INVENTORY:-inventory/hosts}"
    if [ ! -e "$inventory" ]; then
        echo "No inventory at $inventory: create it as docs/registering-users.md describes, or set MATRIX_USER_INVENTORY." >&2
        exit 1
    fi
    umask 077
    given=$(mktemp)
    vars=$(mktemp)
    trap 'rm -f "$given" "$vars"' EXIT
    trap 'exit 129' HUP
    trap 'exit 130' INT
    trap 'exit 143' TERM
    # Written as JSON and tagged `!unsafe` (scripts/extra-vars): Ansible templates none of it.
    python3 -c 'import json, sys; print(json.dumps(dict(zip(["token_name", "token_uses", "token_expiry"], sys.argv[1:]))))' \
        "$1" "$2" "$3" > "$given"
    scripts/extra-vars file "$given" > "$vars"
    shift 3
    ansible-playbook -i "$inventory" playbooks/registration_token.yml --extra-vars "@$vars" \
        --extra-vars matrix_user_module_build=false "$@"

# Start a throwaway local homeserver (synapse on 127.0.0.1:8008, or dendrite on :8009) under .local/
local-start implementation="synapse": (_known implementation)
    @PYTHONPATH=tests python -m servers start "$1" .local/"$1"

# Stop the throwaway local homeserver
local-stop implementation="synapse": (_known implementation)
    @PYTHONPATH=tests python -m servers stop "$1" .local/"$1"

# Register john twice against a throwaway local homeserver (synapse or dendrite): `changed`, then `ok`
demo implementation="synapse": build (local-start implementation)
    @echo "== First run: creates @john as an admin on the local $1"
    @MATRIX_USER_INVENTORY=".local/$1/inventory/hosts" just register-user john "it's \$ecret" yes
    @echo '== Second run: nothing to change'
    @MATRIX_USER_INVENTORY=".local/$1/inventory/hosts" just register-user john "it's \$ecret" yes
    @echo "== The local $1 keeps running; stop it with: just local-stop $1"

# The binary, rebuilt only when a source is newer than it (cargo otherwise)
[private]
_fresh:
    @scripts/build-module --quick

[private]
_known implementation:
    @case "$1" in synapse|dendrite) ;; *) echo "unknown homeserver '$1': use synapse or dendrite" >&2; exit 2;; esac

# Run every test: unit tests, then end to end against real local Synapse and Dendrite, Ansible, just and SSH
test: build
    @# What the end-to-end tests run on: Debian packages (sshd, sudo, tc, PostgreSQL), and Dendrite, built with Go.
    @scripts/install-test-deps
    @scripts/install-dendrite
    cargo test --workspace --locked
    python -m pytest tests

# ansible-test sanity on the collection as shipped (staged under target/collection; no containers)
sanity *args:
    scripts/sanity "$@"

# The role and its module end to end under ansible-core 2.15 and 2.19 (venvs cached in .local/ansible-range)
test-ansible-range *versions: build
    @scripts/test-ansible-range "$@"

# Regenerate the files made from the parameter table and clap definitions (completions/, man/), then check the hand-written docs against the table
generate:
    MATRIX_USER_UPDATE_COMPLETIONS=1 MATRIX_USER_UPDATE_MAN=1 cargo test --locked -p matrix-user -- completion_scripts_are_current manual_pages_are_current
    cargo test --locked -p matrix-user -- params::

# Check formatting and lints (Rust, Python, shell, Ansible, YAML), then ansible-test sanity on the collection
lint: build
    cargo fmt --all --check
    cargo clippy --workspace --all-targets --locked -- -D warnings
    ruff check .
    shellcheck bootstrap .ci/run scripts/build-module scripts/build-target scripts/install-dendrite scripts/install-test-deps scripts/sanity scripts/test-ansible-range
    yamllint --strict .
    ansible-lint
    scripts/sanity

# Benchmark against a throwaway Synapse at bcrypt 12 and write docs/benchmarks.md (--with-10000: also 10,000 users)
bench *args: build
    scripts/bench "$@"
