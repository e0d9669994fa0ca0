"""`matrix-user` as a command-line tool (docs/cli.md), end to end against the local Synapse."""

import json
import time

import pytest
import yaml

from conftest import free_port

MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"

# Everything a shell or a parser could trip on, a trailing space included.
HARD_PASSWORD = "-it's \"$ecret\" `x` \\ ; # = Ünï " + "p" * 100 + " "


def password_file(tmp_path, password):
    """A password file as an editor or `echo` writes it: with a final line break."""
    path = tmp_path / "password"
    path.write_text(password + "\n")
    return path


def test_register_creates_then_says_unchanged(synapse, run, name, tmp_path):
    pw = password_file(tmp_path, HARD_PASSWORD)
    out = run.cli("register", name, "--admin", "yes", "--password-file", pw, *run.cli_connection(), secrets=[HARD_PASSWORD])
    assert out.returncode == 0, out.output
    assert out.stdout.splitlines() == [f"created {synapse.user_id(name)} (admin)", "1 created"]
    assert out.stderr == ""
    assert synapse.is_admin(name) and synapse.can_log_in(name, HARD_PASSWORD)

    out = run.cli("register", name, "--admin", "yes", "--password-file", pw, *run.cli_connection(), secrets=[HARD_PASSWORD])
    assert out.returncode == 0, out.output
    assert out.stdout.splitlines() == [f"unchanged {synapse.user_id(name)} (admin)", "1 unchanged"]

    out = run.cli("register", name, "--admin=no", "--password-file", pw, *run.cli_connection(), secrets=[HARD_PASSWORD])
    assert out.returncode == 0, out.output
    assert out.stdout.splitlines() == [f"demoted {synapse.user_id(name)}", "1 demoted"]
    assert synapse.is_admin(name) is False


def test_check_writes_nothing(synapse, run, name, tmp_path):
    password = "check-Password-1"
    pw = password_file(tmp_path, password)
    out = run.cli("register", name, "--admin", "yes", "--password-file", pw, "--check", *run.cli_connection(), secrets=[password])
    assert out.returncode == 0, out.output
    assert out.stdout.splitlines() == [
        f"would create {synapse.user_id(name)} (admin)",
        "1 to create (check mode: nothing was changed)",
    ]
    assert synapse.user(name) is None

    synapse.create(name, password, admin=False)
    args = ["register", name, "--admin", "yes", "--password-file", pw, "--check", "--diff", *run.cli_connection()]
    out = run.cli(*args, secrets=[password])
    assert out.returncode == 0, out.output
    assert out.stdout.splitlines()[0] == f"would promote {synapse.user_id(name)} (admin)"
    assert '"admin":false' in out.stdout and '"admin":true' in out.stdout
    assert synapse.is_admin(name) is False


def test_json_is_the_module_result(synapse, run, name, tmp_path):
    password = "json-Password-2"
    pw = password_file(tmp_path, password)
    out = run.cli("register", name, "--admin", "yes", "--password-file", pw, "--json", *run.cli_connection(), secrets=[password])
    assert out.returncode == 0, out.output
    assert out.stderr == ""
    result = json.loads(out.stdout)
    user_id = synapse.user_id(name)
    assert result["changed"] is True
    assert result["created"] is True
    assert result["admin"] is True
    assert result["password_changed"] is True  # a new account gets the password
    assert result["user_id"] == user_id
    assert result["msg"] == f"created {user_id} as an admin"
    assert "failed" not in result
    assert result["invocation"]["module_args"] == {
        "username": name,
        "password": MASK,
        "admin": "yes",
        "homeserver_url": synapse.url,
        "server_name": synapse.server_name,
        "registration_shared_secret_file": MASK,
        "admin_access_token_file": MASK,
        "wait_timeout": "5",
    }

    # The module, given the same parameters, answers with the same fields.
    module = run.module(run.connection(username=name, password=password, admin=True), secrets=[password])
    assert set(module) == set(result)
    assert {k: v for k, v in module.items() if k not in ("invocation", "changed", "created", "msg")} == {
        "admin": True,
        "password_changed": False,
        "user_id": user_id,
        "state": "present",
    }

    out = run.cli("register", name, "--admin", "yes", "--password-file", pw, "--json", *run.cli_connection(), secrets=[password])
    result = json.loads(out.stdout)
    assert out.returncode == 0 and result["changed"] is False and result["msg"] == f"{user_id} is already as wanted"


def test_bad_username_is_a_usage_error_and_writes_nothing(synapse, run, name, tmp_path):
    password = "bad-name-Password-3"
    pw = password_file(tmp_path, password)
    out = run.cli("register", f"{name} x", "--password-file", pw, *run.cli_connection(), secrets=[password])
    assert out.returncode == 2, out.output
    assert out.stdout == ""
    assert f'USERNAME "{name} x": may only contain a-z, 0-9' in out.stderr
    assert synapse.user(name) is None

    out = run.cli("register", f"@{name}:elsewhere.org", "--password-file", pw, "--json", *run.cli_connection(), secrets=[password])
    assert out.returncode == 2, out.output
    result = json.loads(out.stdout)
    assert result["failed"] is True and "USERNAME" in result["msg"] and "elsewhere.org" in result["msg"]
    assert synapse.user(name) is None


def test_unreachable_homeserver_fails_within_wait_timeout(run, name, tmp_path):
    password = "unreachable-Password-4"
    pw = password_file(tmp_path, password)
    dead = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    out = run.cli(
        "register", name, "--password-file", pw, *run.cli_connection(), "--homeserver-url", dead, "--wait-timeout", "2",
        secrets=[password],
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert out.returncode == 1, out.output
    assert 1.5 < elapsed < 10, elapsed
    assert out.stdout == ""
    assert f"cannot reach the homeserver at {dead}" in out.stderr
    assert "hint: wait_timeout is set with --wait-timeout" in out.stderr


def test_ensure_twenty_users_from_a_file(synapse, run, name, tmp_path):
    users = [
        {"username": f"{name}-{i:02d}", "password": f"pw {i} 'Ü'", "admin": "yes" if i % 3 == 0 else "no"}
        for i in range(20)
    ]
    passwords = [u["password"] for u in users]
    path = tmp_path / "users.yaml"
    path.write_text(yaml.safe_dump({"users": users}, allow_unicode=True))

    out = run.cli("ensure", path, *run.cli_connection(), secrets=passwords)
    assert out.returncode == 0, out.output
    lines = out.stdout.splitlines()
    assert lines[:-1] == [
        f"created {synapse.user_id(u['username'])}" + (" (admin)" if u["admin"] == "yes" else "") for u in users
    ]
    assert lines[-1] == "20 created"
    for user in users:
        assert synapse.is_admin(user["username"]) is (user["admin"] == "yes"), user["username"]
    for user in users[::6]:
        assert synapse.can_log_in(user["username"], user["password"])

    out = run.cli("ensure", path, "--json", *run.cli_connection(), secrets=passwords)
    assert out.returncode == 0, out.output
    result = json.loads(out.stdout)
    assert result["changed"] is False
    assert result["msg"] == "20 unchanged"
    assert result["totals"] == {
        "created": 0,
        "promoted": 0,
        "demoted": 0,
        "password_changed": 0,
        "displayname_set": 0,
        "locked": 0,
        "unlocked": 0,
        "deactivated": 0,
        "erased": 0,
        "reactivated": 0,
        "unchanged": 20,
        "failed": 0,
    }
    assert len(result["users"]) == 20
    for user, entry in zip(users, result["users"], strict=True):
        assert entry == {
            "username": user["username"],
            "changed": False,
            "msg": f"{synapse.user_id(user['username'])} is already as wanted",
            "user_id": synapse.user_id(user["username"]),
            "created": False,
            "admin": user["admin"] == "yes",
            "password_changed": False,
            "state": "present",
        }
    # The module read the file itself: its name is in the invocation, its passwords nowhere.
    assert result["invocation"]["module_args"]["users_file"] == str(path)
    assert "users" not in result["invocation"]["module_args"]

    # Promote two and demote one, in check mode: said, not done.
    users[1]["admin"] = users[2]["admin"] = "yes"
    users[3]["admin"] = "no"
    path.write_text(json.dumps(users))
    out = run.cli("ensure", "-", "--check", *run.cli_connection(), stdin=path.read_text(), secrets=passwords)
    assert out.returncode == 0, out.output
    lines = out.stdout.splitlines()
    assert lines[1] == f"would promote {synapse.user_id(users[1]['username'])} (admin)"
    assert lines[3] == f"would demote {synapse.user_id(users[3]['username'])}"
    assert lines[-1] == "2 to promote, 1 to demote, 17 unchanged (check mode: nothing was changed)"
    assert synapse.is_admin(users[1]["username"]) is False and synapse.is_admin(users[3]["username"]) is True


def test_ensure_gives_the_module_result_for_the_same_list(synapse, run, name, tmp_path):
    users = [{"username": f"{name}-a", "password": "pw-a-Password"}, {"username": "not valid!", "password": "pw-b-Password"}]
    path = tmp_path / "users.json"
    path.write_text(json.dumps(users))
    passwords = [u["password"] for u in users]
    out = run.cli("ensure", path, "--check", "--json", *run.cli_connection(), secrets=passwords)
    assert out.returncode == 1, out.output
    cli = json.loads(out.stdout)
    module = run.module(run.connection(users=users), secrets=passwords, check_mode=True)
    for key in ("changed", "failed", "msg", "users", "totals"):
        assert cli[key] == module[key], key

    out = run.cli("ensure", path, *run.cli_connection(), secrets=passwords)
    assert out.returncode == 1, out.output
    assert out.stdout.splitlines() == [f"created {synapse.user_id(name + '-a')}", "1 created, 1 failed"]
    assert "failed not valid!: parameter `users[1].username`" in out.stderr


def test_password_from_stdin_and_environment(synapse, run, name):
    out = run.cli("register", name, "--password-stdin", *run.cli_connection(), stdin=HARD_PASSWORD + "\n", secrets=[HARD_PASSWORD])
    assert out.returncode == 0, out.output
    assert synapse.can_log_in(name, HARD_PASSWORD)

    other = name + "-env"
    env = {"MATRIX_USER_PASSWORD": HARD_PASSWORD}
    out = run.cli("register", other, *run.cli_connection(), env=env, secrets=[HARD_PASSWORD])
    assert out.returncode == 0, out.output
    assert synapse.can_log_in(other, HARD_PASSWORD)


def test_secrets_from_environment_stdin_and_config_file(synapse, run, name, tmp_path):
    """Shared secret and token given as values (environment, stdin, config file), never printed."""
    password = "secrets-Password-5"
    env = {
        "MATRIX_USER_HOMESERVER_URL": synapse.url,
        "MATRIX_USER_SERVER_NAME": synapse.server_name,
        "MATRIX_USER_REGISTRATION_SHARED_SECRET": synapse.shared_secret,
        "MATRIX_USER_ADMIN_ACCESS_TOKEN": synapse.admin_token,
        "MATRIX_USER_PASSWORD": password,
    }
    for flags in ([], ["--json"], ["--diff", "--check", "--json"]):
        out = run.cli("register", name, "--admin", "yes", *flags, env=env, secrets=[password])
        assert out.returncode == 0, out.output

    env.pop("MATRIX_USER_ADMIN_ACCESS_TOKEN")
    out = run.cli(
        "register", name, "--admin-access-token-file", "-", "--json", env=env, stdin=synapse.admin_token + "\n", secrets=[password]
    )
    assert out.returncode == 0, out.output
    assert json.loads(out.stdout)["invocation"]["module_args"]["admin_access_token"] == MASK

    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "homeserver_url": synapse.url,
                "server_name": synapse.server_name,
                "registration_shared_secret": synapse.shared_secret,
                "admin_access_token": synapse.admin_token,
            }
        )
    )
    out = run.cli("register", name + "-cfg", "--config", config, env={"MATRIX_USER_PASSWORD": password}, secrets=[password])
    assert out.returncode == 0, out.output
    assert synapse.user(name + "-cfg") is not None

    # A secret in a failure message is masked too: a wrong shared secret, as a value.
    wrong = "not-the-real-shared-secret"
    env = dict(env, MATRIX_USER_REGISTRATION_SHARED_SECRET=wrong)
    out = run.cli("register", name + "-wrong", env=env, secrets=[password, wrong])
    assert out.returncode == 1, out.output
    assert "registration_shared_secret does not match" in out.stderr


def test_insecure_password_flag_warns(synapse, run, name):
    out = run.cli("register", name, "--insecure-password", HARD_PASSWORD, *run.cli_connection(), secrets=[HARD_PASSWORD])
    assert out.returncode == 0, out.output
    assert "warning: --insecure-password puts the password on the command line" in out.stderr
    assert "other local users" in out.stderr
    assert out.stderr.count("warning:") == 1
    assert synapse.can_log_in(name, HARD_PASSWORD)

    out = run.cli("register", name, f"--insecure-password={HARD_PASSWORD}", "--json", *run.cli_connection(), secrets=[HARD_PASSWORD])
    assert out.returncode == 0, out.output
    assert "--insecure-password" in json.loads(out.stdout)["warnings"][0]
    assert "warning: --insecure-password" in out.stderr


def test_flag_beats_environment_beats_config_file(synapse, run, name, tmp_path):
    password = "layers-Password-6"
    dead = f"http://127.0.0.1:{free_port()}"
    config_dir = tmp_path / "home" / ".config" / "matrix-user"
    config_dir.mkdir(parents=True)
    (config_dir / "config.yaml").write_text(
        yaml.safe_dump(
            {
                "homeserver_url": dead,
                "server_name": synapse.server_name,
                "registration_shared_secret_file": synapse.shared_secret_file,
                "admin_access_token_file": synapse.admin_token_file,
                "wait_timeout": 1,
            }
        )
    )
    env = {"MATRIX_USER_PASSWORD": password}

    out = run.cli("register", name, env=env, secrets=[password])
    assert out.returncode == 1 and f"cannot reach the homeserver at {dead}" in out.stderr, out.output

    out = run.cli("register", name, env=dict(env, MATRIX_USER_HOMESERVER_URL=synapse.url), secrets=[password])
    assert out.returncode == 0, out.output
    assert out.stdout.startswith("created ")

    out = run.cli(
        "register", name, "--homeserver-url", dead, env=dict(env, MATRIX_USER_HOMESERVER_URL=synapse.url), secrets=[password]
    )
    assert out.returncode == 1 and f"cannot reach the homeserver at {dead}" in out.stderr, out.output

    # --config replaces the default file; relative paths in it are relative to the file.
    other = tmp_path / "elsewhere" / "matrix-user.yaml"
    other.parent.mkdir()
    (other.parent / "token").write_text(synapse.admin_token + "\n")
    other.write_text(f"homeserver_url: {synapse.url}\nadmin_access_token_file: token\n")
    out = run.cli("register", name, "--config", other, env=env, secrets=[password])
    assert out.returncode == 0, out.output
    assert out.stdout.startswith("unchanged ")


@pytest.mark.parametrize(
    "extra, env, config, says",
    [
        (["--admin", "maybe"], {}, None, "--admin: expected a boolean (yes/no, true/false, on/off, 1/0), got \"maybe\""),
        (["--update-password", "sometimes"], {}, None, "--update-password: expected one of on_create, always"),
        (["--timeout", "soon"], {}, None, "--timeout: expected a number of seconds"),
        (["--backend", "conduit"], {}, None, "--backend: expected one of synapse, dendrite, mas"),
        (["--homeserver-url", "127.0.0.1:8008"], {}, None, "--homeserver-url: must start with http:// or https://"),
        (["--admin-access-token-file", "/nonexistent/token"], {}, None, "--admin-access-token-file: cannot read"),
        ([], {"MATRIX_USER_VALIDATE_CERTS": "perhaps"}, None, "environment variable MATRIX_USER_VALIDATE_CERTS: expected"),
        ([], {}, "pasword: x\n", "unknown setting `pasword` in the config file"),
        ([], {}, "password: x\n", "sets `password`, which is not a connection setting"),
        ([], {}, "- just a list\n", "must be a mapping of settings"),
        (["--frobnicate"], {}, None, "unexpected argument '--frobnicate'"),
        (["--password-stdin"], {}, None, "cannot be used with"),
        (["--registration-shared-secret-file", "-", "--password-file", "-"], {}, None, "standard input can feed only one"),
    ],
)
def test_bad_input_is_a_usage_error_that_names_the_flag(synapse, run, name, tmp_path, extra, env, config, says):
    password = "bad-input-Password-7"
    args = ["register", name, "--insecure-password", password, *run.cli_connection(), *extra]
    if "--password-file" in extra or "--password-stdin" in extra:
        args.remove("--insecure-password")
        args.remove(password)
        if "--password-stdin" in extra:
            args += ["--password-file", password_file(tmp_path, password)]
    if config is not None:
        (tmp_path / "config.yaml").write_text(config)
        args += ["--config", tmp_path / "config.yaml"]
    out = run.cli(*args, env=env, stdin=password + "\n", secrets=[password])
    assert out.returncode == 2, out.output
    assert out.stdout == ""
    assert says in out.stderr, out.stderr
    assert synapse.user(name) is None


def test_missing_password_is_a_usage_error(synapse, run, name):
    out = run.cli("register", name, *run.cli_connection())
    assert out.returncode == 2, out.output
    assert "no password given: use --password-file FILE, --password-stdin, MATRIX_USER_PASSWORD" in out.stderr
    out = run.cli("register", name, "--password-stdin", *run.cli_connection(), stdin="")
    assert out.returncode == 2 and "--password-stdin is empty" in out.stderr, out.output
    assert synapse.user(name) is None


def test_a_lone_file_is_never_run_as_module_arguments(synapse, run, name, tmp_path):
    password = "lone-file-Password-8"
    path = tmp_path / "users.json"
    path.write_text(json.dumps(run.connection(users=[{"username": name, "password": password}])))
    out = run.cli(path, secrets=[password])
    assert out.returncode == 2, out.output
    assert out.stdout == ""
    assert f"Did you mean `matrix-user ensure {path}`?" in out.stderr
    assert synapse.user(name) is None


def test_quiet_prints_nothing_on_success(synapse, run, name, tmp_path):
    password = "quiet-Password-9"
    pw = password_file(tmp_path, password)
    out = run.cli("register", name, "-q", "--password-file", pw, *run.cli_connection(), secrets=[password])
    assert out.returncode == 0, out.output
    assert out.stdout == "" and out.stderr == ""
    assert synapse.user(name) is not None


def test_help_has_examples(run):
    out = run.cli("--help")
    assert out.returncode == 0
    for text in ("register", "ensure", "Examples:", "MATRIX_USER_PASSWORD", "Exit status"):
        assert text in out.stdout, text
    for command in ("register", "ensure"):
        out = run.cli(command, "--help")
        assert out.returncode == 0 and "Examples:" in out.stdout
    out = run.cli()
    assert out.returncode == 2 and "Usage:" in out.stderr
    out = run.cli("--version")
    assert out.returncode == 0 and out.stdout.startswith("matrix-user ")

