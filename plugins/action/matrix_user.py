"""The controller side of matrix_user.homeserver.matrix_user: find, install and run the binary.

The module itself is the `matrix-user` binary (Rust). This action plugin makes it run where the
task says, in as few round trips as the connection allows:

* On a remote host, with pipelining on, one operation when the binary is already installed: one
  `/bin/sh` command checks that `<install dir>/<version>/matrix-user` has the sha256 of one of the
  binaries this collection ships (or, in a source checkout, of one built under target/) and execs
  it on the task's arguments, which arrive on the connection's stdin. Nothing is written on the
  host. When the binary is missing or its checksum differs, the same command prints what the host
  is instead (system, architecture, C library, loaders, user, home); the plugin then picks the
  binary that fits (plugin_utils/host.py), checks its sha256 against bin/manifest.json, copies it
  to a temporary folder, installs it with one command (copy, check the sha256 again, start it
  once with --version, rename into place; a mismatch or a binary that cannot start is removed and
  explained) and runs the task again.
* Without pipelining (a `su` become, ANSIBLE_KEEP_REMOTE_FILES), the arguments go into an args file
  in Ansible's temporary folder instead; the rest is the same.
* On the controller (`run_on: controller`, or a host reached with the local connection), the
  binary that fits the controller runs directly, nothing copied.
* `host_binary`: a matrix-user already on the host (for example from `cargo install`), run as it is.

Only long-standing ActionBase methods are used, alike in ansible-core 2.15 to 2.19, except where
the pipelining decision moved (`_pipelining`); `just test-ansible-range` runs both ends.
"""

import json
import os
import shlex
import subprocess

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.matrix_user.homeserver.plugins.plugin_utils import host as hosts
from ansible_collections.matrix_user.homeserver.plugins.plugin_utils import start as starts

display = Display()

MODULE = "matrix_user"
# With `report`, unchanged users are listed one per line up to this many users in the task.
REPORT_UNCHANGED_MAX = 100
PROBE = "MATRIX-USER-PROBE"
INSTALLED = "MATRIX-USER-INSTALL"

#: Options the action plugin handles itself (never sent to the binary), and the variable each
#: falls back to when the task does not set it.
ACTION_OPTIONS = {
    "binary": "matrix_user_binary",
    "host_binary": "matrix_user_host_binary",
    "install_dir": "matrix_user_install_dir",
    "run_on": "matrix_user_run_on",
    "build": None,
    "report": None,
}

# sha256 of a file on the host, with whichever tool it has; prints only the hex digest.
SHA256 = (
    's=$(sha256sum "$b" 2>/dev/null || shasum -a 256 "$b" 2>/dev/null || openssl dgst -sha256 -r "$b" 2>/dev/null); '
    "s=${s%% *}"
)

# The install folder the host's user gets by default (the become user, with become).
DEFAULT_DIR = (
    'if [ -z "$d" ]; then if [ "$(id -u)" = 0 ]; then d=/usr/local/lib/matrix-user; '
    'else d="$HOME/.local/lib/matrix-user"; fi; fi'
)

PROBE_LINES = f"""echo {PROBE}
echo "installed=$s"
echo "dir=$d"
echo "system=$(uname -s)"
echo "architecture=$(uname -m)"
echo "uid=$(id -u)"
echo "home=$HOME"
if v=$(getconf GNU_LIBC_VERSION 2>/dev/null); then echo "libc=$v"
elif ls /lib/ld-musl-* >/dev/null 2>&1; then echo "libc=musl"
else echo "libc=unknown"; fi
for f in /lib/ld*.so* /lib64/ld*.so* /usr/lib/ld*.so*; do [ -e "$f" ] && echo "loader=$f"; done
true"""


def _plain(value):
    """JSON for what json.dumps does not know (tagged or lazy values of some Ansible versions)."""
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, (list, tuple, set)):
        return list(value)
    return str(value)


def _parse_output(stdout):
    """The binary's one JSON object from its stdout, or None."""
    text = stdout.strip()
    if not text.startswith("{"):
        at = text.find("\n{")
        if at < 0:
            return None
        text = text[at + 1 :]
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _key_values(text, marker):
    lines = text.split(marker, 1)[1].splitlines() if marker in text else []
    return [line for line in lines if "=" in line]


class ActionModule(ActionBase):
    #: The module this plugin runs (the binary is several; plugins/action/matrix_registration_token.py).
    MODULE = MODULE
    _supports_check_mode = True
    _supports_async = False

    # ----------------------------------------------------------------------------------------
    # The task
    # ----------------------------------------------------------------------------------------

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        opts = {name: args.pop(name, None) for name in ACTION_OPTIONS}
        for name, var in ACTION_OPTIONS.items():
            if opts[name] is None and var and var in task_vars:
                opts[name] = self._templar.template(task_vars[var])
        run_on = str(opts["run_on"] or "host")
        if run_on not in ("host", "controller"):
            raise AnsibleActionFail(f"run_on must be `host` or `controller`, not {run_on!r}")
        self._host_name = str(task_vars.get("inventory_hostname") or "the host")
        self._installed = False

        self._update_module_args(self.MODULE, args, task_vars)
        payload = json.dumps(args, default=_plain).encode("utf-8")
        try:
            if boolean(opts["build"] or False, strict=False):
                self._build()
            if run_on == "controller":
                data = self._run_on_controller(payload)
            elif opts["host_binary"]:
                data = self._run_installed(str(opts["host_binary"]), payload)
            elif self._is_local():
                data = self._run_local(payload)
            else:
                data = self._run_on_host(payload, str(opts["binary"] or ""), str(opts["install_dir"] or ""), task_vars)
        except AnsibleActionFail as e:
            # A result, not an exception: the report below shows its message even under no_log.
            data = {"failed": True, "changed": False, "msg": e.message}

        for key in [k for k in data if k.startswith("_ansible_")]:
            del data[key]
        result.update(data)
        result["binary_installed"] = self._installed
        if boolean(opts["report"] or False, strict=False):
            self._report(result)
        return result

    def _report(self, result):
        """One line per user (and the diff, in diff mode), for the play's output."""
        lines = []
        if result.get("binary_installed"):
            lines.append(f"installed matrix-user {self._installed_as}")
        lines.append(str(result.get("msg") or ""))
        for key in ("users", "tokens"):
            items = result.get(key)
            if isinstance(items, list):
                # A directory of thousands prints what changed or failed; its unchanged items are
                # counted in `msg`, not listed.
                quiet = len(items) > REPORT_UNCHANGED_MAX
                lines += [
                    str(item.get("msg") or "")
                    for item in items
                    if isinstance(item, dict) and not (quiet and not item.get("changed") and not item.get("failed"))
                ]
        # Exact mode's pruned accounts: each a change (or a failure).
        if isinstance(result.get("pruned"), list):
            lines += [str(item.get("msg") or "") for item in result["pruned"] if isinstance(item, dict)]
        if self._task.diff and result.get("diff"):
            lines.append("diff: " + json.dumps(result["diff"], sort_keys=True))
        for line in filter(None, lines):
            display.display(f"  [{self._host_name}] {line}", color="red" if result.get("failed") else None)

    def _build(self):
        """In a source checkout, build the binary first (cargo decides whether it is stale)."""
        script = hosts.ROOT / "scripts" / "build-module"
        if not (hosts.is_checkout() and script.is_file()):
            return
        proc = subprocess.run([str(script)], cwd=str(hosts.ROOT), capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise AnsibleActionFail(f"building matrix-user failed ({script}):\n{proc.stdout}{proc.stderr}")

    # ----------------------------------------------------------------------------------------
    # Where the binary runs
    # ----------------------------------------------------------------------------------------

    def _controller_binary(self):
        # In a checkout, what `just build` made for this very machine needs no check (saves reading
        # and hashing megabytes on every task); bundled and other binaries are checked as for a host.
        native = hosts.ROOT / "target" / "release" / "matrix-user"
        if hosts.is_checkout() and os.access(native, os.X_OK):
            return str(native)
        picked = hosts.pick(probe=hosts.local_probe(), host_name="this controller")
        if not picked["ok"]:
            raise AnsibleActionFail(picked["msg"].replace("To fix: ", "To fix, on the controller: "))
        if not os.access(picked["path"], os.X_OK):
            raise AnsibleActionFail(f"{picked['path']} may not be executed here: give it its execute bit (chmod 0755)")
        return picked["path"]

    def _run_on_controller(self, payload):
        """On the controller, as the controller's user (never with become): no connection at all."""
        binary = self._controller_binary()
        env = dict(os.environ)
        env.update({str(k): str(v) for k, v in (self._environment() or {}).items()})
        proc = subprocess.run([binary, "/dev/stdin"], input=payload, capture_output=True, env=env, check=False)
        res = {"rc": proc.returncode, "stdout": proc.stdout.decode("utf-8", "replace"),
               "stderr": proc.stderr.decode("utf-8", "replace")}
        return self._result(res, binary, "this controller")

    def _environment(self):
        """The task's `environment`, as a dict (only what is plain)."""
        merged = {}
        for item in self._task.environment or []:
            item = self._templar.template(item)
            if isinstance(item, dict):
                merged.update(item)
        return merged

    def _run_local(self, payload):
        """A host reached with the local connection is this controller: run the binary as built,
        through the connection so that `become` applies."""
        return self._run_installed(self._controller_binary(), payload)

    def _run_installed(self, binary, payload):
        """A binary already where it runs: exec it, with the arguments on stdin or in a file."""
        args_path = self._args_file(payload)
        res = self._sh(f"exec {shlex.quote(binary)} {shlex.quote(args_path)}", payload if args_path == "/dev/stdin" else None)
        self._cleanup_args()
        return self._result(res, binary, self._host_name)

    def _run_on_host(self, payload, binary, install_dir, task_vars):
        """The installed binary if its checksum is right (one operation), else install and run again."""
        wanted = [c for c in hosts.candidates(binary) if c["path"].exists()]
        version = wanted[0]["version"] if wanted else hosts.workspace_version()
        sums = {c["sha256"] or hosts.sha256(c["path"], remember=c["built_here"]) for c in wanted}
        args_path = self._args_file(payload)
        stdin = payload if args_path == "/dev/stdin" else None
        q = shlex.quote
        check = (
            f"umask 022\nd={q(install_dir)}\n{DEFAULT_DIR}\nb=\"$d\"/{q(version)}/matrix-user\ns=\n"
            f"if [ -f \"$b\" ]; then {SHA256}; fi\n"
        )
        if sums:
            check += f"case \"$s\" in {'|'.join(sorted(sums))}) exec \"$b\" {q(args_path)};; esac\n"
        res = self._sh(check + PROBE_LINES, stdin)
        if PROBE not in res["stdout"]:
            self._cleanup_args()
            return self._result(res, f"{install_dir or 'the install folder'}/{version}/matrix-user", self._host_name)

        probe = "\n".join(_key_values(res["stdout"], PROBE))
        found = dict(line.split("=", 1) for line in probe.splitlines())
        picked = hosts.pick(
            binary=binary,
            probe=probe,
            system=str(task_vars.get("ansible_system") or ""),
            architecture=str(task_vars.get("ansible_architecture") or ""),
            host_name=self._host_name,
        )
        if not picked["ok"]:
            self._cleanup_args()
            return {"failed": True, "changed": False, "msg": picked["msg"]}
        dest = f"{found.get('dir') or install_dir}/{picked['version']}"
        failure = self._install(picked, dest)
        if failure:
            self._cleanup_args()
            return failure
        installed = f"{dest}/matrix-user"
        res = self._sh(f"exec {q(installed)} {q(args_path)}", stdin)
        self._cleanup_args()
        return self._result(res, installed, self._host_name)

    # ----------------------------------------------------------------------------------------
    # Installing
    # ----------------------------------------------------------------------------------------

    def _install(self, picked, dest):
        """Copy the picked binary to `dest`/matrix-user: checked before (pick) and after copying,
        started once; returns a failed result, or None when it is in place."""
        tmpdir = self._connection._shell.tmpdir or self._make_tmp_path()
        source = self._connection._shell.join_path(tmpdir, "matrix-user")
        self._transfer_file(picked["path"], source)
        self._fixup_perms2([tmpdir, source], execute=False)
        q = shlex.quote
        new = f"{dest}/.matrix-user.new"
        script = f"""umask 022
echo {INSTALLED}
mkdir -p {q(dest)} && cp {q(source)} {q(new)} && chmod 0755 {q(new)} || {{ echo status=copy-failed; exit 0; }}
b={q(new)}
{SHA256}
if [ "$s" != {q(picked['sha256'])} ]; then rm -f {q(new)}; echo status=checksum; echo "got=$s"; exit 0; fi
err=$({q(new)} --version 2>&1 >/dev/null)
rc=$?
if [ $rc -ne 0 ]; then rm -f {q(new)}; echo status=start; echo "rc=$rc"; echo "err=$err"; exit 0; fi
mv -f {q(new)} {q(dest + '/matrix-user')} && echo status=ok || echo status=rename-failed"""
        res = self._sh(script, None)
        lines = res["stdout"].split(INSTALLED, 1)[1] if INSTALLED in res["stdout"] else ""
        status = dict(line.split("=", 1) for line in lines.splitlines() if "=" in line and not line.startswith("err="))
        target = f"{dest}/matrix-user"
        if status.get("status") == "ok":
            # Even in check mode: the module must run to predict anything.
            self._installed = True
            self._installed_as = f"{picked['version']} at {target} (sha256 {picked['sha256'][:12]}…)"
            return None
        if status.get("status") == "checksum":
            got = status.get("got") or "none (the host has none of sha256sum, shasum, openssl)"
            return {"failed": True, "changed": False,
                    "msg": f"matrix_user: the copy of {picked['path']} on {self._host_name} has sha256 {got}, "
                           f"not {picked['sha256']}: refused and removed."}
        if status.get("status") == "start":
            err = lines.split("err=", 1)[1] if "err=" in lines else ""
            failed = {"failed": False, "rc": int(status.get("rc") or 1), "cmd": [target, "--version"], "stdout": "",
                      "stderr": err.replace(new, target)}
            why = starts.start_failure(failed, target, self._host_name)
            return {"failed": True, "changed": False, "msg": why + " The binary was removed again."}
        return {"failed": True, "changed": False,
                "msg": f"matrix_user: could not install {target} on {self._host_name} ({status.get('status') or 'no answer'}): "
                       f"{(res['stderr'] or res['stdout']).strip()[-600:]}. Set matrix_user_install_dir to a folder "
                       "the user the module runs as may write to."}

    # ----------------------------------------------------------------------------------------
    # Commands and results
    # ----------------------------------------------------------------------------------------

    def _args_file(self, payload):
        """Where the binary reads its arguments: the connection's stdin when pipelining, else an
        args file in Ansible's temporary folder on the host."""
        if self._is_local() or self._pipelining():
            return "/dev/stdin"
        tmpdir = self._connection._shell.tmpdir or self._make_tmp_path()
        path = self._connection._shell.join_path(tmpdir, "args")
        self._transfer_data(path, payload.decode("utf-8"))
        self._fixup_perms2([tmpdir, path], execute=False)
        return path

    def _pipelining(self):
        """Whether the arguments may go on the connection's stdin: the connection decides since
        ansible-core 2.17 (it knows its become plugin); before, the action base did."""
        decide = getattr(self._connection, "is_pipelining_enabled", None)
        if decide is not None:
            return bool(decide())
        return bool(self._is_pipelining_enabled("new"))

    def _is_local(self):
        return self._connection.transport in ("local", "ansible.builtin.local")

    def _cleanup_args(self):
        """Removes the task's temporary folder on the host (args file, binary copy), unless kept."""
        if self._connection._shell.tmpdir:
            self._remove_tmp_path(self._connection._shell.tmpdir)

    def _sh(self, script, in_data):
        environment = self._compute_environment_string().strip()
        command = f"{environment} /bin/sh -c {shlex.quote(script)}" if environment else script
        res = self._low_level_execute_command(command, sudoable=True, in_data=in_data)
        return {"rc": res.get("rc"), "stdout": res.get("stdout") or "", "stderr": res.get("stderr") or ""}

    def _result(self, res, binary, where):
        data = _parse_output(res["stdout"])
        if data is not None:
            return data
        failed = {
            "failed": True,
            "msg": "MODULE FAILURE: the matrix-user binary gave no result",
            "module_stdout": res["stdout"],
            "module_stderr": res["stderr"],
            "rc": res["rc"],
        }
        why = starts.start_failure(failed, binary, where)
        if why:
            failed["msg"] = why
        return failed
