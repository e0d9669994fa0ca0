# matrix-user: `just --list` shows what each recipe does.

set positional-arguments

# Tools installed by ./bootstrap come first.
export PATH := justfile_directory() / ".venv/bin" + ":" + env("PATH")

# The throwaway local Synapse used by `demo` and the local-synapse recipes.
local_synapse := ".local/synapse"

# List the recipes
default:
    @just --list

# Build the matrix-user binary (the Ansible module and CLI) at target/release/matrix-user
build:
    @scripts/build-module

# Register a user, or bring an existing one to the wanted admin state: just register-user john 'secret' yes
[no-exit-message]
register-user username password admin_yes_or_no *extra_args: build
    #!/usr/bin/env bash
    # A script, not recipe lines: just would echo the password with each line it runs.
    set -euo pipefail
    inventory="${MATRIX_USER_INVENTORY:-inventory/hosts}"
    if [ ! -e "$inventory" ]; then
        echo "No inventory at $inventory: create it as docs/registering-users.md describes, or set MATRIX_USER_INVENTORY." >&2
        exit 1
    fi
    umask 077
    vars=$(mktemp)
    trap 'rm -f "$vars"' EXIT
    scripts/extra-vars "$1" "$2" "$3" > "$vars"
    shift 3
    exec ansible-playbook -i "$inventory" setup.yml --extra-vars "@$vars" \
        --extra-vars matrix_user_module_build=false --tags=register-user "$@"

# Ensure every user in `matrix_user_users` (inventory or -e @file) in one task: just ensure-users -e @users.yml
ensure-users *extra_args: build
    ansible-playbook -i "${MATRIX_USER_INVENTORY:-inventory/hosts}" setup.yml \
        --extra-vars matrix_user_module_build=false --tags=ensure-matrix-users-created "$@"

# Start the throwaway local Synapse (127.0.0.1, SQLite, under .local/) and write its inventory
local-synapse-start:
    @scripts/local-synapse start {{ local_synapse }} > /dev/null

# Stop the throwaway local Synapse
local-synapse-stop:
    @scripts/local-synapse stop {{ local_synapse }}

# Register john twice against the throwaway local Synapse: `changed`, then `ok`
demo: build local-synapse-start
    @echo '== First run: creates @john as an admin'
    @MATRIX_USER_INVENTORY={{ local_synapse }}/inventory/hosts just register-user john "it's \$ecret" yes
    @echo '== Second run: nothing to change'
    @MATRIX_USER_INVENTORY={{ local_synapse }}/inventory/hosts just register-user john "it's \$ecret" yes
    @echo '== The local Synapse keeps running at http://127.0.0.1:8008; stop it with: just local-synapse-stop'

# Run every test: unit tests, then end to end against a real local Synapse, Ansible and just
test: build
    cargo test --workspace --locked
    python -m pytest tests

# Check formatting and lints (Rust, Ansible, YAML)
lint: build
    cargo fmt --all --check
    cargo clippy --workspace --all-targets --locked -- -D warnings
    yamllint --strict .
    ansible-lint
