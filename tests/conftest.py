"""End-to-end fixtures: a real local Synapse, and runners for the module, `just` and
`ansible-playbook` that check every output for leaked secrets."""

import json
import os
import shlex
import socket
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BINARY = REPO / "target" / "release" / "matrix-user"
VENV_BIN = REPO / ".venv" / "bin"
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def forms(secret):
    """A secret and the shapes it takes once escaped in JSON or a URL."""
    return {secret, json.dumps(secret)[1:-1], urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}


def assert_no_secret(text, secrets):
    for secret in secrets:
        for form in forms(secret):
            assert form not in text, f"a secret ({len(secret)} characters) appears in the output"


class Synapse:
    """The local Synapse, seen as its operator would check it."""

    def __init__(self, env):
        self.url = env["MATRIX_USER_TEST_HOMESERVER_URL"]
        self.server_name = env["MATRIX_USER_TEST_SERVER_NAME"]
        self.shared_secret_file = env["MATRIX_USER_TEST_SHARED_SECRET_FILE"]
        self.admin_token_file = env["MATRIX_USER_TEST_ADMIN_TOKEN_FILE"]
        self.inventory = env["MATRIX_USER_TEST_INVENTORY"]
        self.dir = Path(env["MATRIX_USER_TEST_SYNAPSE_DIR"])
        self.shared_secret = Path(self.shared_secret_file).read_text().strip()
        self.admin_token = Path(self.admin_token_file).read_text().strip()

    @property
    def secrets(self):
        return [self.shared_secret, self.admin_token]

    def request(self, method, path, body=None, token=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with NO_PROXY.open(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def user_id(self, localpart):
        return f"@{localpart}:{self.server_name}"

    def user(self, localpart):
        """The account from the admin API, or None when it does not exist."""
        path = "/_synapse/admin/v2/users/" + urllib.parse.quote(self.user_id(localpart), safe="")
        status, body = self.request("GET", path, token=self.admin_token)
        if status == 404:
            return None
        assert status == 200, body
        return body

    def is_admin(self, localpart):
        user = self.user(localpart)
        assert user is not None, f"{localpart} does not exist"
        return user["admin"]

    def can_log_in(self, localpart, password):
        status, body = self.request(
            "POST",
            "/_matrix/client/v3/login",
            {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": localpart}, "password": password},
        )
        if status == 200:
            self.request("POST", "/_matrix/client/v3/logout", {}, token=body["access_token"])
            return True
        assert status == 403, body
        return False

    def create(self, localpart, password, admin):
        """Creates a user behind the tool's back, through the admin API."""
        path = "/_synapse/admin/v2/users/" + urllib.parse.quote(self.user_id(localpart), safe="")
        status, body = self.request("PUT", path, {"password": password, "admin": admin}, token=self.admin_token)
        assert status == 201, body


@pytest.fixture(scope="session")
def synapse():
    workdir = Path(tempfile.mkdtemp(prefix="matrix-user-tests-"))
    env = dict(os.environ, MATRIX_USER_SYNAPSE_PORT=str(free_port()), MATRIX_USER_SERVER_NAME="example.com")
    script = REPO / "scripts" / "local-synapse"
    out = subprocess.run([script, "start", workdir / "synapse"], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    exports = dict(
        line.removeprefix("export ").split("=", 1) for line in out.stdout.splitlines() if line.startswith("export ")
    )
    server = Synapse({k: shlex.split(v)[0] for k, v in exports.items()})
    yield server
    subprocess.run([script, "stop", workdir / "synapse"], env=env, capture_output=True)


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
        line = [l for l in self.stdout.splitlines() if " : ok=" in l][-1]
        return {k: int(v) for k, v in (item.split("=") for item in line.split(":", 1)[1].split())}


@pytest.fixture
def run(synapse, tmp_path):
    """Runners for the three ways in: the module binary, `just`, `ansible-playbook`."""

    class Runner:
        def module(self, params, secrets=(), check_mode=False, diff=False):
            args = dict(params, _ansible_check_mode=check_mode, _ansible_diff=diff, _ansible_no_log=False)
            path = tmp_path / f"args-{uuid.uuid4().hex}"
            path.write_text(json.dumps(args))
            proc = subprocess.run([BINARY, path], capture_output=True, text=True, timeout=120)
            result = Run(proc, [*secrets, *synapse.secrets])
            assert proc.stderr == "", proc.stderr
            return json.loads(proc.stdout)

        def connection(self, **overrides):
            """Module parameters that reach the local Synapse with both secrets."""
            params = {
                "homeserver_url": synapse.url,
                "server_name": synapse.server_name,
                "registration_shared_secret_file": synapse.shared_secret_file,
                "admin_access_token_file": synapse.admin_token_file,
                "wait_timeout": 5,
            }
            params.update(overrides)
            return {k: v for k, v in params.items() if v is not None}

        def just(self, *args, secrets=(), env=None):
            full_env = dict(os.environ, MATRIX_USER_INVENTORY=synapse.inventory, **(env or {}))
            full_env["PATH"] = f"{VENV_BIN}:{full_env['PATH']}"
            proc = subprocess.run(
                [VENV_BIN / "just", *args], cwd=REPO, env=full_env, capture_output=True, text=True, timeout=300
            )
            return Run(proc, [*secrets, *synapse.secrets])

        def playbook(self, *args, secrets=()):
            env = dict(os.environ, PATH=f"{VENV_BIN}:{os.environ['PATH']}")
            proc = subprocess.run(
                [VENV_BIN / "ansible-playbook", "-i", synapse.inventory, "setup.yml", *args],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            return Run(proc, [*secrets, *synapse.secrets])

    return Runner()
