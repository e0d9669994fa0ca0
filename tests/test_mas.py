"""Matrix Authentication Service, against the stand-in in mas_standin.py (MAS itself cannot be
installed here): create, set password, promote, demote, verified email; and MAS as it really
behaves (shared reference MAS-OBSERVED.md): login rate limit, site-config, locked users, token
revocation, refused passwords."""

import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import VENV_BIN, free_port, make_runner
from mas_standin import MasStandIn

STRONG = "Correct-Horse-9"
WEAK = "Summer2024!"  # refused by MAS's strength check (MAS-OBSERVED.md)
# The stand-in's login rate limit: MAS's 3 at once, but then one per second instead of per 20 s.
LOGIN_INTERVAL = 1.0


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
                    "matrix_user_mas_login_interval": standin.login_interval,
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
            "mas_login_interval": self.standin.login_interval,
        }

    @property
    def cli_env(self):
        """The command-line tool's settings for this server, from the environment."""
        return {
            "MATRIX_USER_BACKEND": "mas",
            "MATRIX_USER_SERVER_NAME": self.server_name,
            "MATRIX_USER_MAS_URL": self.url,
            "MATRIX_USER_MAS_CLIENT_ID": self.client.client_id,
            "MATRIX_USER_MAS_CLIENT_SECRET": self.client.client_secret,
            "MATRIX_USER_MAS_LOGIN_INTERVAL": str(self.standin.login_interval),
        }

    def user(self, username):
        return self.standin.user(username)

    def emails(self, username):
        return [e.email for e in self.user(username).emails]


@pytest.fixture
def mas(tmp_path, request):
    """The stand-in, with MasStandIn's keyword arguments from an indirect parameter if any."""
    options = {"login_interval": LOGIN_INTERVAL, **getattr(request, "param", {})}
    with MasStandIn(**options) as standin:
        yield MasServer(standin, tmp_path)
        assert standin.violations == [], "requests or responses outside MAS's API description"
        assert standin.compat_sessions == 0, "a password check left a session open"
        assert standin.active_admin_sessions == 0, "a run left its admin session active in MAS"


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


def users_file(tmp_path, users):
    path = tmp_path / f"users-{uuid.uuid4().hex}.json"
    path.write_text(json.dumps(users))
    return path


# --- 1, 2: a creation whose password MAS refuses ------------------------------------------------------

HALF_DONE = [
    pytest.param({}, WEAK, "Password is too weak", id="too-weak"),
    # A MAS before v1.3.0 (no site-config) with passwords off: nothing tells beforehand.
    pytest.param({"site_config": False, "password_auth_enabled": False}, STRONG, "Password auth is disabled",
                 id="passwords-disabled"),
]


@pytest.mark.parametrize("mas, password, words", HALF_DONE, indirect=["mas"])
def test_a_half_done_creation_is_changed_and_failed(mas, run_mas, name, password, words):
    result = run_mas.module(run_mas.connection(username=name, password=password), secrets=[password])
    assert result.get("failed") is True and result["changed"] is True and result["created"] is True, result
    assert result["password_changed"] is False and result["user_id"] == f"@{name}:example.com"
    assert words in result["msg"] and "update_password: always" in result["msg"], result["msg"]
    user = mas.user(name)
    assert user is not None and user.locked_at and not user.check_password(password)

    # In a list: the same, and counted.
    other = f"{name}-b"
    result = run_mas.module(run_mas.connection(users=[{"username": other, "password": password}]), secrets=[password])
    assert result.get("failed") is True and result["changed"] is True
    assert result["users"][0]["created"] is True and result["users"][0]["failed"] is True
    assert result["totals"]["created"] == 1 and result["totals"]["failed"] == 1


@pytest.mark.parametrize("mas, password, words", HALF_DONE, indirect=["mas"])
def test_a_half_done_creation_in_the_cli_and_ansible(mas, run_mas, name, password, words):
    env = dict(mas.cli_env, MATRIX_USER_PASSWORD=password)
    r = run_mas.cli("register", name, env=env, secrets=[password])
    assert r.returncode == 1, r.output
    assert f"failed {name}: @{name}:example.com was created" in r.stderr and words in r.stderr, r.output
    assert "1 created, 1 failed" in r.stdout, r.output

    other = f"{name}-b"
    r = run_mas.just("register-user", other, password, "no", secrets=[password])
    assert r.returncode != 0
    assert r.recap()["changed"] == 1 and r.recap()["failed"] == 1, r.stdout
    assert mas.user(other) is not None


def test_a_rerun_finishes_or_names_the_fix(mas, run_mas, name):
    run_mas.module(run_mas.connection(username=name, password=WEAK, admin=True), secrets=[WEAK])
    assert mas.user(name).locked_at and mas.user(name).admin is False

    # The default on_create does not pass it as unchanged: it names the fix, in check mode too.
    for check_mode in (False, True):
        params = run_mas.connection(username=name, password=STRONG, admin=True)
        result = run_mas.module(params, secrets=[STRONG], check_mode=check_mode)
        assert result.get("failed") is True and result["changed"] is False, result
        assert "unfinished" in result["msg"] and "update_password: always" in result["msg"], result["msg"]
    env = dict(mas.cli_env, MATRIX_USER_PASSWORD=STRONG)
    r = run_mas.cli("register", name, env=env, secrets=[STRONG])
    assert r.returncode == 1 and "--update-password always" in r.stderr, r.output

    # always finishes it: password set, flag set, account unlocked; a login works.
    params = run_mas.connection(username=name, password=STRONG, admin=True, update_password="always")
    result = run_mas.module(params, secrets=[STRONG])
    assert result.get("failed") is not True and result["changed"] is True, result
    user = mas.user(name)
    assert user.check_password(STRONG) and user.admin is True and user.locked_at is None
    assert mas.standin.login_attempts == 0  # an unfinished account has no password to check
    for update in ("on_create", "always"):
        params = run_mas.connection(username=name, password=STRONG, admin=True, update_password=update)
        assert run_mas.module(params, secrets=[STRONG])["changed"] is False


# --- 3: MAS's login rate limit ------------------------------------------------------------------------


@pytest.mark.parametrize("mas", [{"login_interval": 2.0}], indirect=True)
def test_checking_many_passwords_waits_out_the_login_limit(mas, run_mas, name, tmp_path):
    users = [{"username": f"{name}-{i}", "password": f"{STRONG}-{i}"} for i in range(6)]
    for user in users:
        mas.standin.add_user(user["username"], user["password"])
    path = users_file(tmp_path, users)
    env = dict(mas.cli_env, MATRIX_USER_WAIT_TIMEOUT="5")
    r = run_mas.cli("ensure", path, "--update-password", "always", "--concurrency", "4", "--json", env=env,
                    secrets=[u["password"] for u in users])
    assert r.returncode == 0, r.output
    result = json.loads(r.stdout)
    assert result["totals"]["unchanged"] == 6 and result["totals"]["failed"] == 0, result
    # One refusal tells the tool it reached the limit; then it waits as MAS requires, not every second.
    assert mas.standin.logins_limited <= 2, mas.standin.logins_limited
    assert all(mas.user(u["username"]).password_sets == 1 for u in users)
    # Progress on the long waits says what MAS limited and how long is left.
    assert "MAS limits password-check logins" in r.stderr and "to go" in r.stderr, r.stderr


@pytest.mark.parametrize("mas", [{"login_interval": 2.0}], indirect=True)
def test_the_wait_for_the_login_limit_is_bounded(mas, run_mas, name):
    users = [{"username": f"{name}-{i}", "password": f"{STRONG}-{i}"} for i in range(6)]
    for user in users:
        mas.standin.add_user(user["username"], user["password"])
    params = run_mas.connection(users=users, update_password="always", concurrency=4, mas_login_interval=2,
                                mas_login_wait=1)
    result = run_mas.module(params, secrets=[u["password"] for u in users])
    assert result["totals"]["unchanged"] == 3 and result["totals"]["failed"] == 3, result
    failed = [u["msg"] for u in result["users"] if u.get("failed")]
    for msg in failed:
        assert "Too many login attempts" in msg and "mas_login_wait" in msg and "to go" in msg, msg
        assert "wait_timeout" not in msg.replace("mas_login_wait", ""), msg
    assert mas.standin.logins_limited <= 1


@pytest.mark.parametrize("mas", [{"login_interval": 1.5}], indirect=True)
def test_a_stricter_login_limit_is_learnt(mas, run_mas, name):
    # MAS allows one login per 1.5 s; the tool is told 0.5 s, and lengthens its pause by half at
    # each refusal that came after a full pause (0.5, 0.75, 1.125, 1.69 s).
    users = [{"username": f"{name}-{i}", "password": f"{STRONG}-{i}"} for i in range(6)]
    for user in users:
        mas.standin.add_user(user["username"], user["password"])
    params = run_mas.connection(users=users, update_password="always", mas_login_interval=0.5)
    result = run_mas.module(params, secrets=[u["password"] for u in users])
    assert result["totals"]["unchanged"] == 6 and result["totals"]["failed"] == 0, result
    assert mas.standin.logins_limited <= 5, mas.standin.logins_limited


# --- 4: site-config: server name, passwords off -------------------------------------------------------


def test_a_wrong_server_name_fails_before_any_change(mas, run_mas, name):
    result = run_mas.module(run_mas.connection(username=name, password=STRONG, server_name="wrong.org"),
                            secrets=[STRONG])
    assert result.get("failed") is True and result["changed"] is False
    assert "example.com" in result["msg"] and "server_name" in result["msg"], result["msg"]
    assert mas.user(name) is None


def test_the_server_name_is_read_from_mas(mas, run_mas, name):
    result = run_mas.module(run_mas.connection(username=name, password=STRONG, server_name=None), secrets=[STRONG])
    assert result.get("failed") is not True, result
    assert result["user_id"] == f"@{name}:example.com" and mas.user(name).check_password(STRONG)


@pytest.mark.parametrize("mas", [{"password_auth_enabled": False}], indirect=True)
def test_passwords_off_fail_before_any_change(mas, run_mas, name):
    result = run_mas.module(run_mas.connection(username=name, password=STRONG), secrets=[STRONG])
    assert result.get("failed") is True and result["changed"] is False
    assert "passwords" in result["msg"] and "MAS" in result["msg"], result["msg"]
    assert mas.user(name) is None
    # An existing user with on_create needs no password: as wanted. With always: refused, no login tried.
    mas.standin.add_user(name, admin=True)
    assert run_mas.module(run_mas.connection(username=name, password=STRONG), secrets=[STRONG])["changed"] is False
    result = run_mas.module(run_mas.connection(username=name, password=STRONG, update_password="always"),
                            secrets=[STRONG])
    assert result.get("failed") is True and "passwords" in result["msg"]
    assert mas.standin.login_attempts == 0


@pytest.mark.parametrize("mas", [{"homeserver_up": False}], indirect=True)
def test_synapse_down_fails_the_creation_and_changes_nothing(mas, run_mas, name):
    result = run_mas.module(run_mas.connection(username=name, password=STRONG), secrets=[STRONG])
    assert result.get("failed") is True and result["changed"] is False, result
    assert "HTTP 500" in result["msg"] and "homeserver" in result["msg"], result["msg"]
    assert mas.user(name) is None
    # What stays in MAS still works: promoting an existing user.
    mas.standin.add_user(name, STRONG)
    result = run_mas.module(run_mas.connection(username=name, password=STRONG, admin=True), secrets=[STRONG])
    assert result["changed"] is True and mas.user(name).admin is True


# --- 5: the admin session ends with the run -----------------------------------------------------------


def test_every_run_revokes_its_admin_token(mas, run_mas, name):
    run_mas.module(run_mas.connection(username=name, password=STRONG), secrets=[STRONG])
    run_mas.module(run_mas.connection(username=name, password=STRONG), secrets=[STRONG], check_mode=True)
    failed = run_mas.module(run_mas.connection(username=f"{name}-x", password=WEAK), secrets=[WEAK])
    assert failed.get("failed") is True
    wrong = run_mas.module(run_mas.connection(username=name, password=STRONG, server_name="wrong.org"),
                           secrets=[STRONG])
    assert wrong.get("failed") is True
    assert mas.standin.tokens_issued == 4 and mas.standin.tokens_revoked == 4
    assert mas.standin.active_admin_sessions == 0


# --- 6: errors name mas_url ---------------------------------------------------------------------------


def test_mas_down_names_mas_url(mas, run_mas, name):
    down = f"http://127.0.0.1:{free_port()}"
    result = run_mas.module(run_mas.connection(username=name, password=STRONG, mas_url=down, wait_timeout=0.3),
                            secrets=[STRONG])
    assert result.get("failed") is True
    assert "mas_url" in result["msg"] and "MAS" in result["msg"] and "homeserver_url" not in result["msg"], result


class _HtmlPage(BaseHTTPRequestHandler):
    def do_GET(self):
        page = b"<!DOCTYPE html>\n<html>\n<head><title>Welcome</title></head>\n<body>\n<h1>It works</h1>\n</body>\n</html>\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *args):
        pass


def test_a_mas_url_that_is_not_mas_gets_one_line(mas, run_mas, name):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HtmlPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        result = run_mas.module(run_mas.connection(username=name, password=STRONG, mas_url=url), secrets=[STRONG])
    finally:
        server.shutdown()
        server.server_close()
    assert result.get("failed") is True
    msg = result["msg"]
    assert "\n" not in msg, msg
    assert "<" not in msg and "text/html" in msg and "mas_url" in msg, msg


# --- 7: locked users ----------------------------------------------------------------------------------


def test_a_locked_user_is_unlocked_by_state_present(mas, run_mas, name):
    # Locked long after its creation, by an administrator: state present (the default) unlocks it,
    # as a change; no login is tried while it is locked (MAS would answer M_USER_LOCKED).
    mas.standin.add_user(name, STRONG).locked_at = "2024-01-01T00:00:00Z"
    params = run_mas.connection(username=name, password=STRONG)
    check = run_mas.module(params, secrets=[STRONG], check_mode=True)
    assert check["changed"] is True and check["msg"].startswith("would unlock"), check
    assert mas.user(name).locked_at == "2024-01-01T00:00:00Z"
    done = run_mas.module(params, secrets=[STRONG])
    assert done["changed"] is True and done["msg"] == f"unlocked @{name}:{mas.server_name}", done
    assert mas.user(name).locked_at is None and mas.standin.login_attempts == 0
    assert run_mas.module(params, secrets=[STRONG])["changed"] is False

    # With update_password: always, the password of a locked user cannot be checked: it is set.
    mas.user(name).locked_at = "2024-01-01T00:00:00Z"
    done = run_mas.module(dict(params, update_password="always"), secrets=[STRONG])
    assert done["msg"].startswith("unlocked") and done["password_changed"] is True, done
    assert mas.user(name).password_sets == 2 and mas.user(name).locked_at is None


# --- 8: an email-only change in the CLI's summary -----------------------------------------------------


def test_an_email_only_change_is_summarised(mas, run_mas, name, tmp_path):
    mas.standin.add_user(name, STRONG)
    path = users_file(tmp_path, [{"username": name, "password": STRONG, "email": f"{name}@example.org"}])
    r = run_mas.cli("ensure", path, "--check", env=mas.cli_env, secrets=[STRONG])
    assert r.returncode == 0 and "1 email to add" in r.stdout, r.output
    r = run_mas.cli("ensure", path, env=mas.cli_env, secrets=[STRONG])
    assert r.returncode == 0 and "1 email added" in r.stdout and "no users" not in r.stdout, r.output
    assert mas.emails(name) == [f"{name}@example.org"]
    r = run_mas.cli("ensure", path, env=mas.cli_env, secrets=[STRONG])
    assert r.returncode == 0 and "1 unchanged" in r.stdout, r.output


# --- 9: what check mode cannot foresee ----------------------------------------------------------------


@pytest.mark.parametrize("mas", [{"reserved_prefixes": ["telegram_"]}], indirect=True)
def test_check_mode_says_what_it_cannot_foresee(mas, run_mas, name):
    reserved = f"telegram_{name}"
    params = run_mas.connection(username=reserved, password=STRONG)
    result = run_mas.module(params, secrets=[STRONG], check_mode=True)
    assert result["changed"] is True and result["msg"].startswith(f"would create @{reserved}:example.com"), result
    assert "cannot foresee" in result["msg"] and "application service" in result["msg"], result["msg"]
    assert "strong enough" in result["msg"]
    env = dict(mas.cli_env, MATRIX_USER_PASSWORD=STRONG)
    r = run_mas.cli("register", reserved, "--check", env=env, secrets=[STRONG])
    assert r.returncode == 0 and f"would create @{reserved}:example.com (check mode cannot foresee" in r.stdout, r.output
    result = run_mas.module(params, secrets=[STRONG])
    assert result.get("failed") is True and result["changed"] is False
    assert "reserved" in result["msg"] and "application service" in result["msg"], result["msg"]
    assert mas.user(reserved) is None
    # What check mode can tell is not hedged.
    mas.standin.add_user(name, STRONG)
    result = run_mas.module(run_mas.connection(username=name, password=STRONG, admin=True), secrets=[STRONG],
                            check_mode=True)
    assert result["msg"] == f"would promote @{name}:example.com to admin", result["msg"]


# --- 10: one listing instead of a look-up per user ----------------------------------------------------


def test_ensure_lists_the_users_once(mas, run_mas, name, tmp_path):
    users = [{"username": f"{name}-{i:02}", "password": f"{STRONG}-{i}"} for i in range(20)]
    path = users_file(tmp_path, users)
    secrets = [u["password"] for u in users]
    r = run_mas.cli("ensure", path, env=mas.cli_env, secrets=secrets)
    assert r.returncode == 0 and "20 created" in r.stdout, r.output
    mas.standin.requests_log.clear()
    r = run_mas.cli("ensure", path, env=mas.cli_env, secrets=secrets)
    assert r.returncode == 0 and "20 unchanged" in r.stdout, r.output
    lookups = [p for m, p, _ in mas.standin.requests_log if m == "GET" and "/users/by-username/" in p]
    listings = [p for m, p, _ in mas.standin.requests_log if m == "GET" and p.startswith("/api/admin/v1/users?")]
    assert lookups == [] and len(listings) == 1, mas.standin.requests_log


def test_exact_mode_locks_the_unlisted(mas, run_mas, name):
    """Exact mode through MAS's paged user list: the unlisted plain users are locked, an admin is
    not; the guard, check mode against the real run, and a second run."""
    users = [{"username": f"{name}-{i}", "password": f"{STRONG}-{i}", "admin": i == 0} for i in range(6)]
    secrets = [u["password"] for u in users]
    run_mas.module(run_mas.connection(users=users), secrets=secrets)
    listed = [users[1], users[2], users[3]]
    unlisted = [users[4]["username"], users[5]["username"]]
    params = run_mas.connection(users=listed, exclusive=True)

    guarded = run_mas.module({**params, "max_changes": "1"}, secrets=secrets)
    assert guarded["failed"] and "would prune 2 of" in guarded["msg"], guarded["msg"]

    check = run_mas.module({**params, "max_changes": "2"}, secrets=secrets, check_mode=True)
    assert sorted(e["user_id"] for e in check["pruned"]) == sorted(f"@{u}:{mas.server_name}" for u in unlisted), check
    assert all(mas.user(u).locked_at is None for u in unlisted)

    done = run_mas.module({**params, "max_changes": "2"}, secrets=secrets)
    assert done["totals"] == check["totals"] and done["totals"]["locked"] == 2, done["totals"]
    assert all(mas.user(u).locked_at is not None for u in unlisted)
    assert mas.user(users[0]["username"]).locked_at is None, "an admin was locked"

    again = run_mas.module({**params, "max_changes": "2"}, secrets=secrets)
    assert not again["changed"] and again["pruned"] == [], again
