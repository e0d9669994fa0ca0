"""Why the matrix-user binary could not start on a host, in words an operator can act on.

`start_failure(result, binary, host)` reads a failed run's result (the module run, or the start
check right after installing) and returns the cause and the fix, or "" when the binary did start
and the failure is its own (those come with their own message). Used by the action plugin
matrix_user on the controller; plain Python, no Ansible import, so the tests load it by path.
"""

import re

FIX_OTHER_BUILD = (
    "build a binary for the host with `just build-target <target triple>` (docs/real-server.md lists them), "
    "or run the module on the controller with matrix_user_run_on: controller"
)


def start_failure(result, binary="the matrix-user binary", host="the host"):
    # The start check's failure shows only in its exit status.
    if not isinstance(result, dict) or not (result.get("failed") or result.get("rc")):
        return ""
    # Only a module that printed no result ("MODULE FAILURE"; since ansible-core 2.19 "Module result
    # deserialization failed"), or the role's start check (a command result), can be a binary that
    # did not start; any other failure is the module's own, with its own message (a secret file it
    # cannot read says "Permission denied" too).
    msg = str(result.get("msg") or "")
    no_result = "module_stderr" in result or msg.startswith("MODULE FAILURE") or "deserialization failed" in msg
    if not (no_result or "cmd" in result):
        return ""
    text = "\n".join(str(result.get(key) or "") for key in ("module_stderr", "stderr", "module_stdout", "msg"))
    # The command module reports a failed exec as "Error executing command." with the errno as rc
    # (ansible-core 2.19; older ones put "[Errno N] ..." in msg): name it as the shell would.
    if "cmd" in result and "Error executing command" in str(result.get("msg") or ""):
        text += "\n" + {8: "Exec format error", 13: "Permission denied", 2: "No such file or directory"}.get(result.get("rc"), "")
    glibc = re.search(r"version [`']?(GLIBC_[0-9.]+)'? not found", text)
    if glibc:
        return (
            f"{host} cannot start {binary}: the host's C library is older than the binary needs ({glibc.group(1)} not found). "
            "Build a static binary with `just build-target <arch>-unknown-linux-musl` (for example x86_64-unknown-linux-musl), "
            "or build on a machine with the host's glibc, or run the module on the controller with matrix_user_run_on: controller."
        )
    if "Exec format error" in text or "cannot execute binary file" in text:
        return (
            f"{host} cannot start {binary}: Exec format error, the binary is for another architecture or system than the host. "
            f"The role checks this before copying, so the binary changed afterwards: {FIX_OTHER_BUILD}."
        )
    if "Permission denied" in text:
        return (
            f"{host} refuses to execute {binary} (Permission denied): its folder is on a filesystem mounted `noexec` "
            "(or the file lost its execute bit). Set matrix_user_install_dir to a folder on a filesystem that allows "
            "execution (the default is /usr/local/lib/matrix-user as root, ~/.local/lib/matrix-user otherwise), "
            "or run the module on the controller with matrix_user_run_on: controller."
        )
    missing = re.search(r"(No such file or directory|: not found)", text)
    if missing and result.get("rc") in (2, 127, None):
        return (
            f"{host} cannot start {binary}: the file or its program interpreter (the C library's loader, such as "
            "/lib64/ld-linux-x86-64.so.2) is missing on the host, so the binary needs a C library the host does not have. "
            f"Build a static binary with `just build-target <arch>-unknown-linux-musl`, or {FIX_OTHER_BUILD.split(', or ')[1]}."
        )
    if "MODULE FAILURE" in text or result.get("rc") not in (None, 0):
        stderr = str(result.get("module_stderr") or result.get("stderr") or "").strip()
        tail = stderr[-600:] if stderr else "(nothing on stderr)"
        return f"{host}: {binary} did not give a result (exit status {result.get('rc')}); its error output: {tail}"
    return ""
