"""End-to-end fixtures: real local Synapse and Dendrite (from tests/servers), and runners for the module, `just` and
`ansible-playbook` that check every output for leaked secrets."""

import contextlib
import html
import json
import os
import re
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
from servers import Dendrite, Homeserver, Postgres, Synapse, free_port  # noqa: F401  (for the tests)

REPO = Path(__file__).resolve().parent.parent
BINARY = REPO / "target" / "release" / "matrix-user"
VENV_BIN = REPO / ".venv" / "bin"
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def forms(secret):
    """A secret and the shapes it takes once escaped in JSON (also with non-ASCII as \\u escapes),
    a URL or form (percent escapes in either case), or HTML."""
    quoted = urllib.parse.quote(secret, safe="")
    return {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        quoted,
        urllib.parse.quote_plus(secret),
        re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), quoted),
        html.escape(secret),
    }


def assert_no_secret(text, secrets):
    for secret in filter(None, secrets):
        for form in forms(secret):
            assert form not in text, f"a secret ({len(secret)} characters) appears in the output"


def files_holding(directory, secrets):
    """The files under `directory` that hold one of `secrets`, in any of its forms. Secrets of
    fewer than 6 characters (`-x`) are left out: files of code hold them by chance."""
    shapes = [form.encode() for secret in secrets if secret and len(secret) >= 6 for form in forms(secret)]
    return sorted(
        path
        for path in Path(directory).rglob("*")
        if path.is_file() and not path.is_symlink() and any(shape in path.read_bytes() for shape in shapes)
    )


#: Module parameters that hold secrets, also inside `users` items.
SECRET_PARAMS = (
    "password", "registration_shared_secret", "admin_access_token", "mas_client_secret", "dendrite_database", "token"
)


def secrets_in(params):
    """The secrets a module's parameters give it (long enough to be told from ordinary words)."""
    found = [params.get(key) for key in SECRET_PARAMS]
    users = params.get("users")
    if isinstance(users, list):
        found += [item.get("password") for item in users if isinstance(item, dict)]
    tokens = params.get("tokens")
    if isinstance(tokens, list):
        found += [item.get("token") for item in tokens if isinstance(item, dict)]
    return [value for value in found if isinstance(value, str) and len(value) >= 8]


@contextlib.contextmanager
def scratch(prefix):
    """A folder of its own in the temporary folder, removed with what the servers left in it once
    they have stopped."""
    with tempfile.TemporaryDirectory(prefix=prefix, ignore_cleanup_errors=True) as folder:
        path = Path(folder)
        path.chmod(0o755)  # PostgreSQL runs as its own user and must reach its folder
        yield path


@pytest.fixture(scope="session")
def synapse():
    with scratch("matrix-user-tests-") as folder, Synapse(folder / "synapse") as server:
        yield server


@pytest.fixture
def name():
    """A user name no other test uses."""
    return "t-" + uuid.uuid4().hex[:12]


class Run:
    """What one command printed; checked for secrets as soon as it is made."""

    def __init__(self, proc, secrets):
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        assert_no_secret(self.stdout + self.stderr, secrets)

    @property
    def output(self):
        return self.stdout + self.stderr

    def recap(self):
        """The PLAY RECAP counters of the one host, e.g. {"ok": 3, "changed": 1, ...}."""
        line = [text for text in self.stdout.splitlines() if " : ok=" in text][-1]
        return {k: int(v) for k, v in (item.split("=") for item in line.split(":", 1)[1].split())}


def make_runner(server, tmp_path):
    """Runners for the three ways in (the module binary, `just`, `ansible-playbook`), aimed at
    `server` (a started Synapse or Dendrite) and checking every output for its secrets."""

    class Runner:
        def module(
            self, params, secrets=(), check_mode=False, diff=False, keep_remote_files=False, module_name="matrix_user"
        ):
            """Runs the module as Ansible does: the args file alone in the task's temporary folder
            (kept afterwards, as with ANSIBLE_KEEP_REMOTE_FILES, when `keep_remote_files`). Besides
            its output, checks that the module read the args file without changing it and left no
            file of its own there or in $TMPDIR."""
            task_dir = tmp_path / f"ansible-tmp-{uuid.uuid4().hex}"
            tmpdir = tmp_path / f"tmpdir-{uuid.uuid4().hex}"
            task_dir.mkdir()
            tmpdir.mkdir()
            args = dict(
                params,
                _ansible_check_mode=check_mode,
                _ansible_diff=diff,
                _ansible_module_name=module_name,
                _ansible_no_log=False,
                _ansible_keep_remote_files=keep_remote_files,
                _ansible_tmpdir=str(task_dir),
                _ansible_remote_tmp=str(tmp_path),
            )
            path = task_dir / "args"
            path.write_text(json.dumps(args))
            env = dict(os.environ, TMPDIR=str(tmpdir))
            proc = subprocess.run([BINARY, path], capture_output=True, text=True, timeout=120, env=env)
            all_secrets = [*secrets, *secrets_in(params), *server.secrets]
            Run(proc, all_secrets)
            assert proc.stderr == "", proc.stderr
            assert [p.name for p in task_dir.iterdir()] == ["args"], "the module left a file beside its args file"
            assert json.loads(path.read_text()) == args, "the module changed its args file"
            assert list(tmpdir.iterdir()) == [], "the module left a file in $TMPDIR"
            return json.loads(proc.stdout)

        def connection(self, **overrides):
            """Module parameters that reach the server with its secrets."""
            params = dict(server.module_params, wait_timeout=5)
            params.update(overrides)
            return {k: v for k, v in params.items() if v is not None}

        def cli(self, *args, secrets=(), env=None, stdin="", timeout=120):
            """The binary as a command-line tool, with no MATRIX_USER_* variable and no config file
            but those given (HOME and XDG_CONFIG_HOME point into the test's own directory)."""
            home = tmp_path / "home"
            tmpdir = tmp_path / f"tmpdir-{uuid.uuid4().hex}"
            tmpdir.mkdir()
            full_env = {k: v for k, v in os.environ.items() if not k.startswith("MATRIX_USER_")}
            full_env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), TMPDIR=str(tmpdir), **(env or {}))
            proc = subprocess.run(
                [BINARY, *map(str, args)], env=full_env, input=stdin, capture_output=True, text=True, timeout=timeout
            )
            result = Run(proc, [*secrets, *server.secrets])
            assert list(tmpdir.iterdir()) == [], "the command-line tool left a file in $TMPDIR"
            return result

        def cli_connection(self):
            """Command-line flags that reach the server with its secrets."""
            return [
                f"--homeserver-url={server.url}",
                f"--server-name={server.server_name}",
                f"--registration-shared-secret-file={server.shared_secret_file}",
                f"--admin-access-token-file={server.admin_token_file}",
                "--wait-timeout=5",
            ]

        def just(self, *args, secrets=(), env=None, stdin=None):
            """`just` with `args`; `stdin` is text to give it on standard input, or a file
            descriptor (a terminal) to give it as standard input."""
            full_env = dict(os.environ, MATRIX_USER_INVENTORY=server.inventory)
            full_env["PATH"] = f"{VENV_BIN}:{full_env['PATH']}"
            return self._ansible([VENV_BIN / "just", *args], full_env, env, secrets, stdin)

        def playbook(self, *args, secrets=(), env=None):
            full_env = dict(os.environ, PATH=f"{VENV_BIN}:{os.environ['PATH']}")
            command = [VENV_BIN / "ansible-playbook", "-i", server.inventory, "setup.yml", *args]
            return self._ansible(command, full_env, env, secrets)

        def _ansible(self, command, full_env, env, secrets, stdin=None):
            """Runs Ansible (directly or through `just`) keeping its remote files
            (ANSIBLE_KEEP_REMOTE_FILES) in folders of the test's own, then checks them: only
            Ansible's own args files may hold a secret, and no temporary file of the controller
            (just's extra-vars file, Ansible's local temp) may outlive the run with one."""
            places = {
                name: tmp_path / f"{name.lower()}-{uuid.uuid4().hex}"
                for name in ("TMPDIR", "ANSIBLE_LOCAL_TEMP", "ANSIBLE_REMOTE_TMP")
            }
            for name, folder in places.items():
                folder.mkdir()
                full_env[name] = str(folder)
            full_env["ANSIBLE_KEEP_REMOTE_FILES"] = "1"
            full_env.update(env or {})
            given = {"input": stdin} if isinstance(stdin, str) else {"stdin": stdin}
            proc = subprocess.run(
                command, cwd=REPO, env=full_env, capture_output=True, text=True, timeout=300, check=False, **given
            )
            all_secrets = [*secrets, *server.secrets]
            result = Run(proc, all_secrets)
            for name, folder in places.items():
                holding = files_holding(folder, all_secrets)
                if name == "ANSIBLE_REMOTE_TMP":
                    holding = [path for path in holding if path.name != "args"]
                assert holding == [], f"files in {name} hold a secret: {[str(p) for p in holding]}"
            result.remote_tmp = places["ANSIBLE_REMOTE_TMP"]
            return result

    return Runner()


@pytest.fixture
def run(synapse, tmp_path):
    """Runners aimed at the local Synapse."""
    return make_runner(synapse, tmp_path)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def dendrite(request):
    """A throwaway Dendrite on SQLite, then one on PostgreSQL."""
    with contextlib.ExitStack() as stack:
        workdir = stack.enter_context(scratch("matrix-user-dendrite-"))
        database = "sqlite"
        if request.param == "postgres":
            database = stack.enter_context(Postgres(workdir / "postgres")).url
        yield stack.enter_context(Dendrite(workdir / "dendrite", database=database))


@pytest.fixture
def run_dendrite(dendrite, tmp_path):
    """Runners aimed at the local Dendrite."""
    return make_runner(dendrite, tmp_path)
