"""Credentials found on the host, against real servers: the shared secret (and URL, domain, account
database) read from Synapse's and Dendrite's own configuration files, and the admin token the tool
provisions for itself (`provision_admin`). Other contents of those files carry canary values that
no output may hold."""

import json
import os
import stat
from pathlib import Path

import pytest
import yaml

from conftest import assert_no_secret, files_holding

PASSWORD = "host-Credentials-1"
# In keys the tool must not read: none of these may appear in any output.
CANARIES = ["canary-Macaroon-5be1", "canary-Form-93c0", "canary-DbPassword-77aa"]


def synapse_config(synapse, **keys):
    """A Synapse configuration as the fixture's server runs with it, its secrets in `keys`, plus
    keys holding the canaries."""
    config = {
        "server_name": synapse.server_name,
        "report_stats": False,
        "macaroon_secret_key": CANARIES[0],
        "form_secret": CANARIES[1],
        "database": {"name": "psycopg2", "args": {"user": "synapse", "password": CANARIES[2]}},
        "listeners": [
            {"port": 9000, "type": "metrics"},
            {
                "port": synapse.port,
                "type": "http",
                "tls": False,
                "bind_addresses": ["0.0.0.0"],
                "resources": [{"names": ["client", "federation"]}],
            },
        ],
    }
    config.update(keys)
    return config


def write_yaml(path, config):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config))
    return str(path)


def user_params(name, **more):
    return {"username": name, "password": PASSWORD, **more}


def scanned(result, secrets):
    """`result`, once checked to hold none of `secrets` (nor the canaries)."""
    assert_no_secret(json.dumps(result), [*secrets, *CANARIES])
    return result


# --- Synapse's configuration -----------------------------------------------------------------


def test_inline_secret_and_the_listener_give_what_the_task_left_out(synapse, run, name, tmp_path):
    """No URL, domain or secret given: all three come from homeserver.yaml, and the result says
    where from, without the values."""
    config = write_yaml(
        tmp_path / "homeserver.yaml", synapse_config(synapse, registration_shared_secret=synapse.shared_secret)
    )
    result = run.module(dict(user_params(name), synapse_config=config, wait_timeout=5), secrets=CANARIES)
    assert result["changed"] is True and result["created"] is True, result
    assert result["user_id"] == synapse.user_id(name)
    assert result["credentials"] == {
        "homeserver_url": f"the client listener in {config}",
        "server_name": f"server_name in {config}",
        "registration_shared_secret": f"registration_shared_secret in {config}",
    }
    assert synapse.can_log_in(name, PASSWORD)
    assert synapse.is_admin(name) is False

    again = run.module(dict(user_params(name), synapse_config=[config], wait_timeout=5), secrets=CANARIES)
    assert again["changed"] is False, again


def test_the_secret_from_registration_shared_secret_path(synapse, run, name, tmp_path):
    secret_file = tmp_path / "conf" / "registration_secret"
    secret_file.parent.mkdir()
    secret_file.write_text(f"\n  {synapse.shared_secret}  \n")
    # Relative to the folder of the file that names it.
    config = write_yaml(
        tmp_path / "conf" / "homeserver.yaml",
        synapse_config(synapse, registration_shared_secret_path="registration_secret"),
    )
    result = run.module(dict(user_params(name, admin=True), synapse_config=config, wait_timeout=5), secrets=CANARIES)
    assert result["created"] is True and result["admin"] is True, result
    assert result["credentials"]["registration_shared_secret"] == (
        f"the file {secret_file} (registration_shared_secret_path in {config})"
    )
    assert synapse.is_admin(name) is True and synapse.can_log_in(name, PASSWORD)


def test_conf_d_overrides_the_main_file_as_synapse_does(synapse, run, name, tmp_path):
    """Debian's layout: homeserver.yaml and conf.d/*.yaml; the later file's secret is the one
    used. The main file alone, with its stale secret, is refused by the server."""
    wrong = "canary-StaleSecret-0d1e"
    main = write_yaml(tmp_path / "homeserver.yaml", synapse_config(synapse, registration_shared_secret=wrong))
    write_yaml(tmp_path / "conf.d" / "20-secret.yaml", {"registration_shared_secret": synapse.shared_secret})
    (tmp_path / "conf.d" / "README").write_text("registration_shared_secret: not-yaml-by-name\n")
    stale = run.module(dict(user_params(name), synapse_config=main, wait_timeout=5), secrets=[wrong, *CANARIES])
    assert stale["failed"] is True and "does not match" in stale["msg"], stale
    assert synapse.user(name) is None

    paths = [main, str(tmp_path / "conf.d")]
    result = run.module(dict(user_params(name), synapse_config=paths, wait_timeout=5), secrets=[wrong, *CANARIES])
    assert result["created"] is True, result
    assert result["credentials"]["registration_shared_secret"].endswith("20-secret.yaml")
    assert synapse.can_log_in(name, PASSWORD)


def test_a_parameter_wins_over_the_file(synapse, run, name, tmp_path):
    wrong = "canary-StaleSecret-8f2a"
    config = write_yaml(tmp_path / "homeserver.yaml", synapse_config(synapse, registration_shared_secret=wrong))
    params = dict(user_params(name), synapse_config=config, registration_shared_secret_file=synapse.shared_secret_file)
    result = run.module(dict(params, homeserver_url=synapse.url, wait_timeout=5), secrets=[wrong, *CANARIES])
    assert result["created"] is True, result
    assert set(result["credentials"]) == {"server_name"}


@pytest.mark.parametrize(
    "keys, said",
    [
        ({}, "sets neither registration_shared_secret nor registration_shared_secret_path (files read: {config})"),
        (
            {"registration_shared_secret": "canary-Inline-aa01", "registration_shared_secret_path": "/nonexistent"},
            "{config} sets registration_shared_secret and {config} registration_shared_secret_path: Synapse refuses both",
        ),
        (
            {"registration_shared_secret_path": "missing_secret"},
            "registration_shared_secret_path in {config}: cannot read",
        ),
    ],
    ids=["missing", "both", "unreadable-path"],
)
def test_a_config_without_a_usable_secret_is_refused_before_any_request(synapse, run, name, tmp_path, keys, said):
    config = write_yaml(tmp_path / "homeserver.yaml", synapse_config(synapse, **keys))
    result = run.module(dict(user_params(name), synapse_config=config), secrets=["canary-Inline-aa01", *CANARIES])
    assert result["failed"] is True
    assert result["msg"].startswith("parameter `synapse_config`: "), result["msg"]
    assert said.format(config=config) in result["msg"], result["msg"]
    assert synapse.user(name) is None


def test_a_broken_or_huge_file_is_named_not_quoted(synapse, run, name, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(f"form_secret: {CANARIES[1]}\nlisteners: [{{port: 8008,\n")
    result = run.module(dict(user_params(name), synapse_config=str(broken)), secrets=CANARIES)
    assert result["failed"] is True
    assert result["msg"] == f"parameter `synapse_config`: {broken} is not valid YAML (line 3, column 1)", result["msg"]
    huge = tmp_path / "huge.yaml"
    huge.write_text(f"form_secret: {CANARIES[1]}\n" + "# padding\n" * 120_000)
    result = run.module(dict(user_params(name), synapse_config=str(huge)), secrets=CANARIES)
    assert "larger than 1 MiB" in result["msg"], result["msg"]
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    result = run.module(dict(user_params(name), synapse_config=[str(fifo), "/dev/zero"]))
    assert result["msg"] == f"parameter `synapse_config`: {fifo} is not a regular file", result["msg"]
    result = run.module(dict(user_params(name), synapse_config="/dev/zero"))
    assert result["msg"] == "parameter `synapse_config`: /dev/zero is not a regular file", result["msg"]


def test_the_command_line_tool_reads_the_config_too(synapse, run, name, tmp_path):
    config = write_yaml(
        tmp_path / "homeserver.yaml", synapse_config(synapse, registration_shared_secret=synapse.shared_secret)
    )
    password = tmp_path / "password"
    password.write_text(PASSWORD)
    out = run.cli(
        "register", name, "--password-file", password, "--synapse-config", config, "--wait-timeout=5", secrets=CANARIES
    )
    assert out.returncode == 0, out.output
    assert out.stdout.splitlines() == [f"created {synapse.user_id(name)}", "1 created"]
    assert synapse.can_log_in(name, PASSWORD)


def test_the_command_line_tool_says_it_provisioned_a_token(synapse, run, name, tmp_path):
    password = tmp_path / "password"
    password.write_text(PASSWORD)
    admin_file = tmp_path / "admin.json"
    flags = [
        "--provision-admin",
        "yes",
        "--provision-admin-file",
        admin_file,
        "--provision-admin-user",
        name + "-admin",
    ]
    connection = [f"--homeserver-url={synapse.url}", f"--server-name={synapse.server_name}"]
    connection += [f"--registration-shared-secret-file={synapse.shared_secret_file}", "--wait-timeout=5"]
    args = ["register", name, "--admin", "yes", "--password-file", password, *connection, *flags]
    out = run.cli(*args)
    file = json.loads(admin_file.read_text())
    assert_no_secret(out.output, [file["password"], file["access_token"]])
    assert out.returncode == 0, out.output
    user = synapse.user_id(name)
    assert out.stdout.splitlines() == [
        f"created {user} (admin)",
        f"admin token registered, kept in {admin_file}",
        "1 created",
    ]
    out = run.cli(*args, secrets=[file["password"], file["access_token"]])
    assert out.stdout.splitlines() == [f"unchanged {user} (admin)", "1 unchanged"]


def test_a_config_of_the_other_server_is_refused(run, name, tmp_path):
    result = run.module(dict(user_params(name), backend="dendrite", synapse_config=str(tmp_path / "x.yaml")))
    assert result["msg"] == "parameter `synapse_config`: applies only with backend: synapse"


# --- Dendrite's configuration ------------------------------------------------------------------


def test_dendrite_config_gives_the_secret_and_the_account_database(dendrite, run_dendrite, name, tmp_path):
    """From a copy of the server's dendrite.yaml (with canaries added): creation needs the shared
    secret, demotion the account database; neither is given as a parameter."""
    config = yaml.safe_load((dendrite.dir / "dendrite.yaml").read_text())
    config["client_api"]["recaptcha_private_key"] = CANARIES[0]
    config["canary"] = {"form_secret": CANARIES[1]}
    path = write_yaml(tmp_path / "dendrite.yaml", config)
    params = {"backend": "dendrite", "homeserver_url": dendrite.url, "dendrite_config": path, "wait_timeout": 5}
    result = run_dendrite.module(dict(params, **user_params(name, admin=True)), secrets=CANARIES)
    assert result["created"] is True and result["admin"] is True, result
    assert set(result["credentials"]) == {"registration_shared_secret", "dendrite_database", "server_name"}
    assert result["credentials"]["registration_shared_secret"] == f"client_api.registration_shared_secret in {path}"
    assert dendrite.is_admin(name, PASSWORD) is True

    demoted = run_dendrite.module(dict(params, **user_params(name, admin=False)), secrets=CANARIES)
    assert demoted["changed"] is True and demoted["admin"] is False, demoted
    assert dendrite.is_admin(name, PASSWORD) is False
    again = run_dendrite.module(dict(params, **user_params(name, admin=False)), secrets=CANARIES)
    assert again["changed"] is False, again


# --- The provisioned admin token ----------------------------------------------------------------


def provision_params(server, tmp_path, account, **more):
    params = {
        "homeserver_url": server.url,
        "server_name": server.server_name,
        "registration_shared_secret_file": server.shared_secret_file,
        "provision_admin": True,
        "provision_admin_file": str(tmp_path / "provisioned" / "admin.json"),
        "provision_admin_user": account,
        "wait_timeout": 5,
    }
    (tmp_path / "provisioned").mkdir(exist_ok=True)
    return {**params, **more}


def kept(params):
    path = Path(params["provision_admin_file"])
    mode = stat.S_IMODE(path.lstat().st_mode)
    return mode, json.loads(path.read_text())


def whoami(server, token):
    return server.request("GET", "/_matrix/client/v3/account/whoami", token=token)


def test_a_provisioned_token_is_made_once_then_reused(synapse, run, name, tmp_path):
    account = name + "-admin"
    params = provision_params(synapse, tmp_path, account)
    first = run.module(dict(params, **user_params(name, admin=True)))
    mode, file = kept(params)
    secrets = [file["password"], file["access_token"]]
    scanned(first, secrets)
    assert first["changed"] is True and first["created"] is True, first
    assert first["admin_token"] == {"provisioned": "registered", "file": params["provision_admin_file"]}
    assert first["credentials"] == {"admin_access_token": f"provision_admin_file {params['provision_admin_file']}"}
    assert mode == 0o600
    assert file["user_id"] == synapse.user_id(account)
    assert synapse.is_admin(account) is True
    status, me = whoami(synapse, file["access_token"])
    assert (status, me["user_id"]) == (200, synapse.user_id(account))
    assert [p.name for p in Path(params["provision_admin_file"]).parent.iterdir()] == ["admin.json"]

    # The token is used: an existing user is demoted through the admin API.
    second = scanned(run.module(dict(params, **user_params(name, admin=False))), secrets)
    assert second["changed"] is True and second["admin"] is False, second
    assert second["admin_token"]["provisioned"] == "reused"
    assert synapse.is_admin(name) is False
    third = scanned(run.module(dict(params, **user_params(name, admin=False))), secrets)
    assert third["changed"] is False, third
    assert kept(params) == (0o600, file)


def test_a_revoked_token_is_renewed_with_the_kept_password_then_fails_as_documented(synapse, run, name, tmp_path):
    account = name + "-admin"
    params = provision_params(synapse, tmp_path, account)
    run.module(dict(params, **user_params(name)))
    _, file = kept(params)
    status, _ = synapse.request("POST", "/_matrix/client/v3/logout", {}, token=file["access_token"])
    assert status == 200 and whoami(synapse, file["access_token"])[0] == 401

    check = scanned(run.module(dict(params, **user_params(name)), check_mode=True), [file["password"]])
    assert check["changed"] is True and check["admin_token"]["provisioned"] == "to renew", check
    assert "no longer works" in check["warnings"][0]
    assert kept(params)[1] == file

    renewed = run.module(dict(params, **user_params(name)))
    _, new = kept(params)
    scanned(renewed, [file["password"], new["access_token"]])
    assert renewed["changed"] is True and renewed["admin_token"]["provisioned"] == "renewed", renewed
    assert new["password"] == file["password"] and new["access_token"] != file["access_token"]
    assert whoami(synapse, new["access_token"])[0] == 200

    # Revoked again, and the password changed behind the tool's back: the documented failure.
    synapse.request("POST", "/_matrix/client/v3/logout", {}, token=new["access_token"])
    path = "/_synapse/admin/v2/users/" + synapse.user_id(account)
    status, _ = synapse.request("PUT", path, {"password": "changed-Elsewhere-1"}, token=synapse.admin_token)
    assert status == 200
    failed = scanned(run.module(dict(params, **user_params(name))), [file["password"], new["access_token"]])
    assert failed["failed"] is True and failed["changed"] is False
    assert f"the admin token kept in {params['provision_admin_file']} no longer works" in failed["msg"], failed["msg"]
    assert "set provision_admin_user to a new name, or give admin_access_token" in failed["msg"]


def test_check_mode_provisions_nothing(synapse, run, name, tmp_path):
    account = name + "-admin"
    params = provision_params(synapse, tmp_path, account)
    result = run.module(dict(params, **user_params(name)), check_mode=True)
    assert result["changed"] is True and result["admin_token"]["provisioned"] == "to register", result
    assert f"a real run registers the admin account {synapse.user_id(account)}" in result["warnings"][0]
    assert not Path(params["provision_admin_file"]).exists()
    assert synapse.user(account) is None and synapse.user(name) is None


def test_a_file_others_can_read_is_refused_before_any_request(synapse, run, name, tmp_path):
    account = name + "-admin"
    params = provision_params(synapse, tmp_path, account)
    path = Path(params["provision_admin_file"])
    path.write_text(json.dumps({"user_id": synapse.user_id(account), "password": "canary-Kept-3c4d"}))
    os.chmod(path, 0o644)
    result = run.module(dict(params, **user_params(name)), secrets=["canary-Kept-3c4d"])
    assert result["failed"] is True
    assert result["msg"] == (
        f"parameter `provision_admin_file`: {path} can be read or written by other users (mode 0644): it holds an "
        "admin's password; make it mode 0600 (chmod 600)"
    )
    assert synapse.user(name) is None
    link = path.parent / "link.json"
    link.symlink_to(path)
    os.chmod(path, 0o600)
    result = run.module(dict(params, **user_params(name), provision_admin_file=str(link)))
    assert "is a symbolic link" in result["msg"], result


def test_a_lost_file_of_an_existing_account_says_what_to_do(synapse, run, name, tmp_path):
    account = name + "-admin"
    params = provision_params(synapse, tmp_path, account)
    run.module(dict(params, **user_params(name)))
    Path(params["provision_admin_file"]).unlink()
    result = run.module(dict(params, **user_params(name)))
    assert result["failed"] is True, result
    assert f"{synapse.user_id(account)} exists but {params['provision_admin_file']} does not" in result["msg"]
    assert not Path(params["provision_admin_file"]).exists()


def test_provisioning_is_refused_with_mas(run, name, tmp_path):
    params = {"backend": "mas", "mas_url": "http://127.0.0.1:9", "mas_client_id": "x", "mas_client_secret": "y" * 12}
    result = run.module(
        dict(params, **user_params(name), provision_admin=True, provision_admin_file=str(tmp_path / "f"))
    )
    assert result["msg"].startswith("parameter `provision_admin`: applies only with backend synapse or dendrite")


def test_dendrite_provisioned_token_resets_passwords(dendrite, run_dendrite, name, tmp_path):
    account = name + "-admin"
    params = dict(provision_params(dendrite, tmp_path, account), backend="dendrite")
    first = run_dendrite.module(dict(params, **user_params(name)))
    _, file = kept(params)
    scanned(first, [file["password"], file["access_token"]])
    assert first["created"] is True and first["admin_token"]["provisioned"] == "registered", first
    assert dendrite.is_admin(account, file["password"]) is True

    # Resetting a password needs the admin token on Dendrite.
    changed = run_dendrite.module(dict(params, username=name, password="host-Credentials-2", update_password="always"))
    scanned(changed, [file["password"], file["access_token"]])
    assert changed["password_changed"] is True and changed["admin_token"]["provisioned"] == "reused", changed
    assert dendrite.can_log_in(name, "host-Credentials-2")


def test_the_role_passes_the_config_and_provisions(synapse, run, name, tmp_path):
    """Through the playbook: the shared secret from synapse_config (the inventory's secret files
    emptied), the admin token provisioned once."""
    config = write_yaml(
        tmp_path / "homeserver.yaml", synapse_config(synapse, registration_shared_secret=synapse.shared_secret)
    )
    admin_file = tmp_path / "admin.json"
    extra = {
        "username": name,
        "password": PASSWORD,
        "admin": "yes",
        "matrix_user_registration_shared_secret_file": "",
        "matrix_user_admin_access_token_file": "",
        "matrix_user_synapse_config": [config],
        "matrix_user_provision_admin": True,
        "matrix_user_provision_admin_file": str(admin_file),
        "matrix_user_provision_admin_user": name + "-admin",
    }
    r = run.playbook("--extra-vars", json.dumps(extra), "--tags=register-user", secrets=[PASSWORD, *CANARIES])
    file = json.loads(admin_file.read_text())
    assert_no_secret(r.output, [file["password"], file["access_token"]])
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 1
    assert synapse.is_admin(name) is True and synapse.is_admin(name + "-admin") is True
    assert stat.S_IMODE(admin_file.stat().st_mode) == 0o600
    r = run.playbook(
        "--extra-vars", json.dumps(extra), "--tags=register-user", secrets=[PASSWORD, *CANARIES, *file.values()]
    )
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 0

    # The role's tokens task takes the same variables: the same admin account, its token reused.
    extra["matrix_user_registration_tokens"] = [{"name": name, "uses_allowed": 2}]
    r = run.playbook(
        "--extra-vars", json.dumps(extra), "--tags=registration-tokens", secrets=[PASSWORD, *CANARIES, *file.values()]
    )
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 1
    assert f"created registration token {name}" in r.stdout
    [token] = [t for t in synapse_tokens_of(synapse) if t.startswith(name + "-")]
    assert_no_secret(r.output, [token])
    assert synapse_tokens_of(synapse)[token] == 2
    assert json.loads(admin_file.read_text()) == file


def synapse_tokens_of(synapse):
    """The server's registration tokens, as its own admin API lists them: {token: uses_allowed}."""
    status, body = synapse.request("GET", "/_synapse/admin/v1/registration_tokens", token=synapse.admin_token)
    assert status == 200, body
    return {t["token"]: t["uses_allowed"] for t in body["registration_tokens"]}


def test_a_registration_token_with_only_synapse_config_and_a_provisioned_admin(synapse, run, name, tmp_path):
    """The token module and the command-line tool's `token` take the host's credentials as
    matrix_user does: no URL, domain, secret or admin token given; the admin account is registered
    once and its token reused; nothing of the files reaches any output."""
    config = write_yaml(
        tmp_path / "homeserver.yaml", synapse_config(synapse, registration_shared_secret=synapse.shared_secret)
    )
    account = name + "-admin"
    admin_file = tmp_path / "provisioned" / "admin.json"
    admin_file.parent.mkdir()
    params = {
        "synapse_config": [config],
        "provision_admin": True,
        "provision_admin_file": str(admin_file),
        "provision_admin_user": account,
        "wait_timeout": 5,
        "name": name,
        "uses_allowed": 3,
    }
    tokens = "matrix_registration_token"
    check = run.module(params, secrets=CANARIES, check_mode=True, module_name=tokens)
    # Nothing is registered in check mode, and the tokens cannot be listed without an admin token.
    assert check.get("failed") is True and "admin_access_token" in check["msg"], check
    assert check["admin_token"] == {"provisioned": "to register", "file": str(admin_file)}
    assert not admin_file.exists() and synapse.user(account) is None

    first = run.module(params, secrets=CANARIES, module_name=tokens)
    file = json.loads(admin_file.read_text())
    secrets = [file["password"], file["access_token"], synapse.shared_secret]
    token = first["token"]
    assert_no_secret(json.dumps(first), [*secrets, *CANARIES])
    assert first["changed"] is True and not first.get("failed"), first
    assert token.startswith(name + "-") and synapse_tokens_of(synapse)[token] == 3
    assert first["admin_token"] == {"provisioned": "registered", "file": str(admin_file)}
    assert first["credentials"] == {
        "homeserver_url": f"the client listener in {config}",
        "server_name": f"server_name in {config}",
        "registration_shared_secret": f"registration_shared_secret in {config}",
        "admin_access_token": f"provision_admin_file {admin_file}",
    }
    assert kept({"provision_admin_file": str(admin_file)})[0] == 0o600
    assert synapse.is_admin(account) is True

    again = scanned(run.module(params, secrets=[*secrets, token, *CANARIES], module_name=tokens), [*secrets, token])
    assert again["changed"] is False and "token" not in again, again
    assert again["admin_token"]["provisioned"] == "reused"
    assert json.loads(admin_file.read_text()) == file

    # The command-line tool: the same file, the same account; a change of the limit.
    out = run.cli(
        "token", name, "--uses-allowed", "4", "--synapse-config", config, "--provision-admin", "yes",
        "--provision-admin-file", admin_file, "--provision-admin-user", account, "--wait-timeout=5",
        secrets=[*secrets, token, *CANARIES],
    )
    assert out.returncode == 0, out.output
    assert out.stdout.startswith(f"changed the limits of registration token {name}"), out.output
    assert "admin token" not in out.stdout, out.output
    assert synapse_tokens_of(synapse)[token] == 4
    assert files_holding(tmp_path, [token]) == [], "a file keeps the generated token"


def test_a_run_that_stops_half_way_is_finished_by_the_next(synapse, run, name, tmp_path):
    """The password is kept before the account is registered: a registration the server refuses
    leaves the file (a change on the host, reported), and the next run registers with it."""
    account = name + "-admin"
    wrong = "canary-WrongSecret-61b2"
    params = provision_params(synapse, tmp_path, account)
    del params["registration_shared_secret_file"]
    failed = run.module(dict(params, **user_params(name), registration_shared_secret=wrong))
    mode, file = kept(params)
    scanned(failed, [wrong, file["password"]])
    assert failed["failed"] is True and failed["changed"] is True, failed
    assert "does not match" in failed["msg"]
    assert mode == 0o600 and "access_token" not in file
    assert synapse.user(account) is None

    finished = run.module(dict(params, **user_params(name), registration_shared_secret_file=synapse.shared_secret_file))
    _, now = kept(params)
    scanned(finished, [now["password"], now["access_token"]])
    assert finished["admin_token"]["provisioned"] == "registered" and finished["created"] is True, finished
    assert now["password"] == file["password"]
    assert synapse.is_admin(account) is True
