"""The controller side of matrix_user.homeserver.matrix_registration_token.

The module is the same `matrix-user` binary as matrix_user, found, installed and run the same way
(plugins/action/matrix_user.py); the binary knows which module it runs as from
`_ansible_module_name`. What differs is the result: a token the run generated is the caller's
(a registered variable holds it), so the result is marked `_ansible_no_log`, which keeps it out of
the play's output (the callbacks get a censored copy) but not out of the variable; and the
connection's verbose log of the binary's raw output is censored (the play context's no_log).
"""

from ansible_collections.matrix_user.homeserver.plugins.action import matrix_user


class ActionModule(matrix_user.ActionModule):
    MODULE = "matrix_registration_token"

    def run(self, tmp=None, task_vars=None):
        # The connection's own verbose log (`ssh` at -vvv) prints a command's raw output unless
        # its play context (a copy of the task's) is no_log: the binary's output may hold a
        # generated token.
        for context in (self._play_context, getattr(self._connection, "_play_context", None)):
            if context is not None:
                context.no_log = True
        result = super().run(tmp, task_vars)
        items = result.get("tokens") if isinstance(result.get("tokens"), list) else []
        if "token" in result or any(isinstance(item, dict) and "token" in item for item in items):
            result["_ansible_no_log"] = True
        return result
