# The fallback launcher of the collection's modules, which are one native binary, `matrix-user`.
#
# Ansible runs the action plugins (plugins/action/), which install and run the binary; a module file
# run on its own hands its arguments to a matrix-user binary on the host: MATRIX_USER_BINARY, the
# option host_binary, or `matrix-user` on PATH.

import json
import os
import shutil

from ansible.module_utils.basic import AnsibleModule

# The action plugin's own options: they never reach the binary.
ACTION_OPTIONS = ("binary", "host_binary", "install_dir", "run_on", "build", "report")


def run(module_name):
    """Run the binary as the module `module_name` on this task's arguments, and exit with its result."""
    # The binary checks every parameter (the documentation is its contract): this launcher only
    # hands them on, so it declares none and checks none.
    module = AnsibleModule(argument_spec={}, supports_check_mode=True, bypass_checks=True)
    params = dict(module.params)
    binary = os.environ.get("MATRIX_USER_BINARY") or params.get("host_binary") or shutil.which("matrix-user")
    for name in ACTION_OPTIONS:
        params.pop(name, None)
    if not binary or not os.access(binary, os.X_OK):
        module.fail_json(
            msg=f"{module_name}: no matrix-user binary on this host; run the module through its action plugin "
            "(the collection matrix_user.homeserver), which installs it"
        )
    params["_ansible_check_mode"] = module.check_mode
    params["_ansible_diff"] = module._diff
    params["_ansible_module_name"] = module_name
    rc, out, err = module.run_command([binary, "/dev/stdin"], data=json.dumps(params), binary_data=True)
    try:
        result = json.loads(out)
    except ValueError:
        module.fail_json(msg=f"{module_name}: {binary} gave no result (exit status {rc})", stderr=err[-2000:])
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)
