"""The controller side of matrix_user_exec: the module script in one SSH operation when pipelining is on.

Without pipelining, Ansible ships the module script (library/matrix_user_exec, a few hundred
bytes) and its args file to a temporary folder on the host, runs it and removes the folder:
about six SSH operations per task. With pipelining on (ANSIBLE_PIPELINING, as for Python
modules), this plugin sends the same script on the command line and the same arguments on the
connection's stdin instead: one operation, and no args file is ever written on the host. Either
way the installed matrix-user binary (MATRIX_USER_BINARY) reads the same JSON and gives the same
result. `become` wraps the command as it wraps a pipelined Python module; `su`, which cannot
pipeline, and ANSIBLE_KEEP_REMOTE_FILES fall back to the shipped script.
"""

import json
import shlex

from ansible.module_utils.common.json import Direction, get_module_encoder
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash
from ansible.vars.clean import remove_internal_keys

MODULE = "matrix_user_exec"


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def _pipelining(self):
        return self._connection.is_pipelining_enabled()

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        if not self._pipelining():
            result = merge_hash(result, self._execute_module(module_name=MODULE, task_vars=task_vars))
            self._remove_tmp_path(self._connection._shell.tmpdir)
            return result

        module_args = dict(self._task.args)
        self._update_module_args(MODULE, module_args, task_vars)
        bits, _ = self._configure_module(module_name=MODULE, module_args=module_args, task_vars=task_vars)
        encoder = get_module_encoder(bits.serialization_profile, Direction.CONTROLLER_TO_MODULE)
        args_json = json.dumps(module_args, cls=encoder)
        script = bits.b_module_data.decode("utf-8")
        interpreter = (bits.shebang or "#!/bin/sh").removeprefix("#!").strip()
        # `sh -c SCRIPT NAME ARG`: the script sees /dev/stdin as $1, the args "file" it hands over.
        command = f"{interpreter} -c {shlex.quote(script)} {MODULE} /dev/stdin"
        environment = self._compute_environment_string().strip()
        if environment:
            command = f"{environment} {command}"
        res = self._low_level_execute_command(command, sudoable=True, in_data=args_json.encode("utf-8"))
        data = self._parse_returned_data(res, bits.serialization_profile)
        remove_internal_keys(data)
        return merge_hash(result, data)
