# The options both modules' action plugin handles on the controller (plugins/action/matrix_user.py,
# which plugins/action/matrix_registration_token.py extends), and the check and diff modes the
# binary supports, documented once here. Each module adds what its diff shows.


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  binary:
    description:
      - Handled on the controller by the action plugin. The binary on the controller to install on the host, instead of the one the collection
        bundles (or, in a source checkout, builds under C(target/)) that fits the host.
      - Defaults to the variable C(matrix_user_binary).
    type: path
  host_binary:
    description:
      - Handled by the action plugin. A C(matrix-user) already on the host (for example installed with C(cargo install)), run as it is;
        nothing is probed, copied or checksummed.
      - Defaults to the variable C(matrix_user_host_binary).
    type: path
  install_dir:
    description:
      - Handled by the action plugin. Folder on the host for the binary, which goes into a subfolder named after its version. It must allow
        execution (not C(noexec)).
      - Empty for C(/usr/local/lib/matrix-user) when the module runs as root, C(~/.local/lib/matrix-user) otherwise.
      - Defaults to the variable C(matrix_user_install_dir).
    type: path
  run_on:
    description:
      - Handled by the action plugin. C(host) runs the binary on the inventory host; C(controller) runs it on the Ansible controller, as the
        controller's user, without connecting to the host (the homeserver must be reachable from the controller, and C(*_file) options name
        files there).
      - A host reached with the C(local) connection always runs the controller's binary, nothing copied.
      - Defaults to the variable C(matrix_user_run_on), else C(host).
    type: str
    choices: [host, controller]
  build:
    description:
      - Handled by the action plugin. In a source checkout of matrix-user (not in a built collection), build the binary first
        (C(scripts/build-module); cargo decides whether it is stale).
    type: bool
    default: false
  report:
    description:
      - Handled by the action plugin. Print one line per user or token (and the diff in diff mode) under the task, even with C(no_log), which
        hides the result itself. The lines hold no secret, never a token. With more than 100 users or tokens, only those changed or failed
        get a line; the others are counted in the first. Accounts pruned in exact mode get a line each.
    type: bool
    default: false
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
"""
