"""Matrix Authentication Service, against the stand-in in mas_standin.py (MAS itself cannot be
installed here): create, set password, promote, demote, verified email."""

import json
import re
import uuid

import pytest

from conftest import VENV_BIN, make_runner
from mas_standin import MasStandIn

STRONG = "Correct-Horse-9"


class MasServer:
    """The stand-in, its admin client, and an inventory that points the role at it."""

    def __init__(self, standin, workdir):
        self.standin = standin
        self.server_name = standin.server_name
        self.client = standin.add_client()
        self.client_secret_file = workdir / "mas_client_secret"
        self.client_secret_file.write_text(self.client.client_secret + "\n")
        self.client_secret_file.chmod(0o600)
        self.url = standin.url
        inventory = workdir / "inventory"
        (inventory / "host_vars" / "matrix.example.com").mkdir(parents=True)
        (inventory / "hosts").write_text(
            f"[matrix_servers]\nmatrix.example.com ansible_connection=local ansible_python_interpreter={VENV_BIN / 'python'}\n"
        )
        (inventory / "host_vars" / "matrix.example.com" / "vars.yml").write_text(
            json.dumps(
                {
                    "matrix_domain": self.server_name,
                    "matrix_authentication_service_enabled": True,
                    "matrix_user_mas_url": self.url,
                    "matrix_user_mas_client_id": self.client.client_id,
                    "matrix_user_mas_client_secret_file": str(self.client_secret_file),
                }
            )
        )
        self.inventory = str(inventory / "hosts")

    @property
    def secrets(self):
        return self.standin.secrets

    @property
    def module_params(self):
        return {
            "backend": "mas",
            "server_name": self.server_name,
            "mas_url": self.url,
            "mas_client_id": self.client.client_id,
            "mas_client_secret_file": str(self.client_secret_file),
        }

    def user(self, username):
        return self.standin.user(username)

    def emails(self, username):
        return [e.email for e in self.user(username).emails]


@pytest.fixture
def mas(tmp_path):
    standin = MasStandIn().start()
    try:
        yield MasServer(standin, tmp_path)
        assert standin.violations == [], "requests or responses outside MAS's API description"
        assert standin.compat_sessions == 0, "a password check left a session open"
    finally:
        standin.stop()


@pytest.fixture
def run_mas(mas, tmp_path):
    return make_runner(mas, tmp_path)


@pytest.fixture
def name():
    return "m-" + uuid.uuid4().hex[:10]


def test_create_rerun_demote_promote_password_through_just(mas, run_mas, name):
    r = run_mas.just("register-user", name, STRONG, "yes", "-e", f"email={name}@example.org", secrets=[STRONG])
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 1
    user = mas.user(name)
    assert user.admin is True and user.check_password(STRONG)
    assert mas.emails(name) == [f"{name}@example.org"] and user.emails[0].verified

    r = run_mas.just("register-user", name, STRONG, "yes", "-e", f"email={name}@example.org", secrets=[STRONG])
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 0
    assert mas.user(name).password_sets == 1 and len(mas.emails(name)) == 1

    r = run_mas.just("register-user", name, STRONG, "no", secrets=[STRONG])
    assert r.recap()["changed"] == 1 and mas.user(name).admin is False

    r = run_mas.just("register-user", name, STRONG, "yes", secrets=[STRONG])
    assert r.recap()["changed"] == 1 and mas.user(name).admin is True

    new = "Battery-Staple-7"
    r = run_mas.just("register-user", name, new, "yes", "-e", "matrix_user_update_password=always", secrets=[new])
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 1
    assert mas.user(name).check_password(new) and not mas.user(name).check_password(STRONG)

    r = run_mas.just("register-user", name, new, "yes", "-e", "matrix_user_update_password=always", secrets=[new])
    assert r.recap()["changed"] == 0
    assert mas.user(name).password_sets == 2


def test_through_ansible_playbook(mas, run_mas, name):
    extra = json.dumps({"username": name, "password": STRONG, "admin": "no"})
    r = run_mas.playbook("--extra-vars", extra, "--tags=register-user", secrets=[STRONG])
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 1
    assert mas.user(name).admin is False and mas.user(name).check_password(STRONG)


@pytest.mark.parametrize("password", ["it's \"$HOME\" x", "`id` a;b#c=d", "-xA9-long", "\\nA9\\n", "pässwörd✓9A", "P9" * 50])
def test_hostile_passwords(mas, run_mas, name, password):
    r = run_mas.just("register-user", name, password, "no", "-e", "matrix_user_mas_skip_password_check=true",
                     secrets=[password])
    assert r.returncode == 0, r.output
    assert mas.user(name).check_password(password)


def test_check_mode_and_diff(mas, run_mas, name):
    params = run_mas.connection(username=name, password=STRONG, admin=True, email=f"{name}@example.org")
    result = run_mas.module(params, secrets=[STRONG], check_mode=True, diff=True)
    assert result["changed"] is True and result["created"] is True
    assert result["diff"]["after"] == {"exists": True, "admin": True, "password": "changed", "email": "added"}
    assert mas.user(name) is None

    mas.standin.add_user(name, STRONG, admin=True)
    r = run_mas.just("register-user", name, STRONG, "no", "--check", "--diff", secrets=[STRONG])
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 1
    assert re.search(r'"before": \{\s*"admin": true,\s*"exists": true', r.stdout), r.stdout
    assert mas.user(name).admin is True


def test_weak_password_is_refused_with_mas_words(mas, run_mas, name):
    mas.standin.add_user(name, STRONG)
    params = run_mas.connection(username=name, password="weakweak", update_password="always")
    result = run_mas.module(params, secrets=["weakweak"])
    assert result.get("failed") is True
    assert "Password is too weak" in result["msg"] and "skip_password_check" in result["msg"], result["msg"]
    assert mas.user(name).check_password(STRONG)


def test_a_list(mas, run_mas, name):
    users = [{"username": f"{name}-{i}", "password": f"{STRONG}-{i}", "admin": i == 0} for i in range(5)]
    result = run_mas.module(run_mas.connection(users=users), secrets=[u["password"] for u in users])
    assert result["totals"]["created"] == 5, result
    again = run_mas.module(run_mas.connection(users=users), secrets=[u["password"] for u in users])
    assert again["changed"] is False


def test_wrong_client_secret(mas, run_mas, name):
    wrong = "not-the-client-secret"
    params = run_mas.connection(username=name, password=STRONG, mas_client_secret=wrong, mas_client_secret_file=None)
    result = run_mas.module(params, secrets=[STRONG, wrong])
    assert result.get("failed") is True
    assert "invalid_client" in result["msg"] and "mas_client_secret" in result["msg"], result["msg"]
    assert mas.user(name) is None


def test_client_without_the_admin_scope(mas, run_mas, name, tmp_path):
    client = mas.standin.add_client(admin=False)
    params = run_mas.connection(username=name, password=STRONG, mas_client_id=client.client_id,
                                mas_client_secret=client.client_secret, mas_client_secret_file=None)
    result = run_mas.module(params, secrets=[STRONG])
    assert result.get("failed") is True
    assert "invalid_scope" in result["msg"] and "admin_clients" in result["msg"], result["msg"]
    assert mas.user(name) is None


def test_a_token_that_expires_mid_run_is_renewed(mas, run_mas, name):
    users = [{"username": f"{name}-{i}", "password": f"{STRONG}-{i}"} for i in range(3)]
    # Every token the stand-in issued expires right after each user is created (concurrency 1: one
    # by one), so each next call meets a 401. The handler already holds the stand-in's lock, hence
    # the direct update instead of expire_tokens().
    original = mas.standin._op_createUser

    def expire_after(*args, **kwargs):
        reply = original(*args, **kwargs)
        mas.standin._tokens = dict.fromkeys(mas.standin._tokens, 0.0)
        return reply

    mas.standin._op_createUser = expire_after
    result = run_mas.module(run_mas.connection(users=users, concurrency=1), secrets=[u["password"] for u in users])
    assert result["totals"]["created"] == 3, result
    assert mas.standin.tokens_issued >= 3
    assert all(mas.user(u["username"]).check_password(u["password"]) for u in users)


def test_email_is_refused_by_other_backends(run, name):
    result = run.module(run.connection(username=name, password=STRONG, email="x@example.org"), secrets=[STRONG])
    assert result.get("failed") is True and "backend: mas" in result["msg"], result["msg"]


def test_missing_mas_settings_are_named(run_mas, name):
    params = run_mas.connection(username=name, password=STRONG, mas_client_id=None)
    result = run_mas.module(params, secrets=[STRONG])
    assert result.get("failed") is True and "`mas_client_id`" in result["msg"], result["msg"]


def test_the_command_line_tool_with_mas_settings_from_the_environment(mas, run_mas, name):
    env = {
        "MATRIX_USER_BACKEND": "mas",
        "MATRIX_USER_SERVER_NAME": mas.server_name,
        "MATRIX_USER_MAS_URL": mas.url,
        "MATRIX_USER_MAS_CLIENT_ID": mas.client.client_id,
        "MATRIX_USER_MAS_CLIENT_SECRET": mas.client.client_secret,
        "MATRIX_USER_PASSWORD": STRONG,
    }
    r = run_mas.cli("register", name, "--admin", "yes", "--email", f"{name}@example.org", env=env, secrets=[STRONG])
    assert r.returncode == 0, r.output
    assert "created" in r.stdout
    assert mas.user(name).admin is True and mas.emails(name) == [f"{name}@example.org"]
    r = run_mas.cli("register", name, "--admin", "yes", env=env, secrets=[STRONG])
    assert r.returncode == 0 and "unchanged" in r.stdout, r.output
