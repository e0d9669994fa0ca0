"""Display names kept in step and user types on creation, against real Synapse and Dendrite and the
MAS stand-in: what a user would check (the server's own profile API, the admin API's user_type), a
second run that changes nothing, check mode that predicts exactly and writes nothing, and refusals
before any request."""

import json
import urllib.parse

import pytest

from conftest import free_port, make_runner
from test_lifecycle import settled  # noqa: F401  (fixture: Synapse ready to reactivate accounts)
from test_mas import MasServer, STRONG
from mas_standin import MasStandIn

#: A name with quotes, a shell character and non-ASCII: it reaches the server as written.
NAME = "Jöhn \"J\" O'Brien $x ✓"


def profile_name(server, localpart):
    """The display name as the server's own profile API gives it (None when it has none)."""
    user_id = urllib.parse.quote(server.user_id(localpart), safe="")
    status, body = server.request("GET", f"/_matrix/client/v3/profile/{user_id}/displayname")
    assert status in (200, 404), body
    return body.get("displayname") if status == 200 else None


def keeps_the_name_in_step(server, run, name, password):
    """The display name of an existing account made the wanted one: predicted, set, then as wanted."""
    before = profile_name(server, name)
    assert before != NAME
    params = run.connection(username=name, password=password, displayname=NAME)

    result = run.module(params, secrets=[password], check_mode=True, diff=True)
    assert result["changed"] is True, result
    assert result["msg"] == f"would set the display name of {server.user_id(name)}"
    assert result["diff"]["after"]["displayname"] == "changed"
    assert profile_name(server, name) == before, "check mode changed the name"

    result = run.module(params, secrets=[password], diff=True)
    assert result["changed"] is True and result["created"] is False, result
    assert result["msg"] == f"set the display name of {server.user_id(name)}"
    assert result["diff"]["after"]["displayname"] == "changed"
    assert profile_name(server, name) == NAME
    assert server.can_log_in(name, password)

    result = run.module(params, secrets=[password], diff=True)
    assert result["changed"] is False, result
    assert "displayname" not in result["diff"]["after"]
    result = run.module(params, secrets=[password], check_mode=True)
    assert result["changed"] is False, result


# Synapse


def test_synapse_sets_an_existing_users_display_name(synapse, run, name):
    password = "profile-Password-1"
    result = run.module(run.connection(username=name, password=password), secrets=[password])
    assert result["created"] is True
    keeps_the_name_in_step(synapse, run, name, password)
    assert synapse.user(name)["displayname"] == NAME


def test_synapse_creates_with_the_name_and_then_leaves_it(synapse, run, name):
    password = "profile-Password-2"
    params = run.connection(username=name, password=password, displayname=NAME)
    result = run.module(params, secrets=[password], check_mode=True)
    assert result["changed"] is True and synapse.user(name) is None
    result = run.module(params, secrets=[password])
    assert result["created"] is True
    assert result["msg"] == f"created {synapse.user_id(name)}", "a new user's name is part of its creation"
    assert profile_name(synapse, name) == NAME
    assert run.module(params, secrets=[password])["changed"] is False


def test_synapse_without_an_admin_token_names_it_before_any_change(synapse, run, name):
    password = "profile-Password-3"
    synapse.create(name, password, admin=False)
    params = run.connection(
        username=name, password=password, displayname=NAME, admin_access_token_file=None, update_password="always"
    )
    for check_mode in (True, False):
        result = run.module(params, secrets=[password], check_mode=check_mode)
        assert result.get("failed") is True and result["changed"] is False, result
        assert "display name" in result["msg"] and "admin_access_token" in result["msg"], result["msg"]
    assert profile_name(synapse, name) != NAME


def test_the_command_line_tool_sets_the_name(synapse, run, name, tmp_path):
    password = "profile-Password-4"
    synapse.create(name, password, admin=False)
    password_file = tmp_path / "password"
    password_file.write_text(password)
    command = ["register", *run.cli_connection(), f"--password-file={password_file}", "--displayname", NAME, name]
    r = run.cli("--check", *command, secrets=[password])
    assert r.returncode == 0, r.output
    assert "set display name" in r.stdout and profile_name(synapse, name) != NAME
    r = run.cli(*command, secrets=[password])
    assert r.returncode == 0, r.output
    assert "display name set" in r.stdout, r.stdout
    assert profile_name(synapse, name) == NAME
    r = run.cli(*command, secrets=[password])
    assert r.returncode == 0 and "unchanged" in r.stdout, r.output


def test_the_role_takes_the_name_and_type_as_extra_vars(synapse, run, name):
    password = "role-Password-8"
    extra = {"username": name, "password": password, "admin": "no", "displayname": NAME, "user_type": "bot"}
    r = run.playbook("--extra-vars", json.dumps(extra), "--tags=register-user", secrets=[password])
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 1
    assert synapse.user(name)["user_type"] == "bot"
    assert profile_name(synapse, name) == NAME
    extra["displayname"] = "Renamed"
    r = run.playbook("--extra-vars", json.dumps(extra), "--tags=register-user", secrets=[password])
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 1
    assert profile_name(synapse, name) == "Renamed"
    r = run.playbook("--extra-vars", json.dumps(extra), "--tags=register-user", secrets=[password])
    assert r.returncode == 0 and r.recap()["changed"] == 0, r.output


@pytest.mark.usefixtures("settled")
def test_synapse_names_a_user_made_present_again_and_not_a_disabled_one(synapse, run, name):
    password = "state-Profile-9"
    user_id = synapse.user_id(name)
    params = run.connection(username=name, password=password)
    assert run.module(params, secrets=[password])["created"] is True

    # Locked with a name asked for: locked, the name left as it was.
    result = run.module(dict(params, state="locked", displayname=NAME), secrets=[password])
    assert result["changed"] is True and result["msg"] == f"locked {user_id}", result
    assert synapse.user(name)["locked"] is True and synapse.user(name)["displayname"] != NAME

    # Present with the name: unlocked and named in one run, as check mode said.
    named = dict(params, displayname=NAME)
    check = run.module(named, secrets=[password], check_mode=True, diff=True)
    assert check["msg"] == f"would unlock {user_id} and set the display name of {user_id}", check
    assert synapse.user(name)["locked"] is True, "check mode unlocked"
    result = run.module(named, secrets=[password], diff=True)
    assert result["msg"] == f"unlocked {user_id} and set the display name of {user_id}", result
    assert result["diff"] == check["diff"] and result["diff"]["after"]["displayname"] == "changed", result
    assert synapse.user(name)["locked"] is False and profile_name(synapse, name) == NAME
    assert synapse.can_log_in(name, password)

    # Deactivated, then present with another name: reactivated and renamed; then no change.
    assert run.module(dict(params, state="deactivated", displayname="Ignored"), secrets=[password])["changed"] is True
    assert synapse.user(name)["deactivated"] is True
    renamed = dict(params, displayname="Renamed")
    result = run.module(renamed, secrets=[password])
    assert result["msg"] == f"reactivated {user_id} with the password and set the display name of {user_id}", result
    assert synapse.user(name)["deactivated"] is False and profile_name(synapse, name) == "Renamed"
    assert synapse.can_log_in(name, password)
    assert run.module(renamed, secrets=[password])["changed"] is False


@pytest.mark.parametrize("user_type", ["bot", "support"])
def test_synapse_creates_a_user_of_a_type(synapse, run, name, user_type):
    password = "typed-Password-5"
    params = run.connection(username=name, password=password, user_type=user_type, admin=False)
    result = run.module(params, secrets=[password], check_mode=True)
    assert result["changed"] is True and synapse.user(name) is None
    result = run.module(params, secrets=[password])
    assert result["changed"] is True and result["created"] is True, result
    assert synapse.user(name)["user_type"] == user_type
    assert synapse.can_log_in(name, password)
    # An existing user's type is left alone, whatever is asked.
    other = "support" if user_type == "bot" else "bot"
    result = run.module(dict(params, user_type=other), secrets=[password])
    assert result["changed"] is False, result
    assert synapse.user(name)["user_type"] == user_type


def test_a_users_list_with_types_and_names(synapse, run, name):
    password = "listed-Password-6"
    users = [
        {"username": name + "-bot", "password": password, "user_type": "bot", "displayname": "The Bot"},
        {"username": name + "-plain", "password": password},
    ]
    result = run.module(run.connection(users=users), secrets=[password])
    assert result["changed"] is True and result["totals"]["created"] == 2, result
    assert synapse.user(name + "-bot")["user_type"] == "bot"
    assert synapse.user(name + "-plain")["user_type"] is None
    assert profile_name(synapse, name + "-bot") == "The Bot"
    users[1]["displayname"] = NAME
    result = run.module(run.connection(users=users), secrets=[password])
    assert result["changed"] is True and "1 display name set, 1 unchanged" in result["msg"], result
    assert profile_name(synapse, name + "-plain") == NAME


def test_a_bad_user_type_is_refused_before_any_request(run, name):
    # Nothing listens at this URL: a request would fail as unreachable instead.
    unreachable = f"http://127.0.0.1:{free_port()}"
    password = "refused-Password-7"
    for user_type in ("admin", "Bot", ""):
        params = run.connection(username=name, password=password, user_type=user_type, homeserver_url=unreachable)
        result = run.module(params, secrets=[password])
        assert result.get("failed") is True and result["changed"] is False, result
        assert "user_type" in result["msg"] and "bot, support" in result["msg"], result["msg"]
        assert "reach" not in result["msg"], result["msg"]
    r = run.cli(
        "register",
        f"--homeserver-url={unreachable}",
        "--server-name=example.com",
        "--user-type=robot",
        name,
        env={"MATRIX_USER_PASSWORD": password},
        secrets=[password],
    )
    assert r.returncode != 0
    assert "--user-type" in r.stderr and "bot, support" in r.stderr, r.stderr
    assert "reach" not in r.stderr, r.stderr


# Dendrite


def test_dendrite_sets_an_existing_users_display_name(dendrite, run_dendrite, name):
    password = "dendrite-Profile-1"
    result = run_dendrite.module(run_dendrite.connection(username=name, password=password), secrets=[password])
    assert result["created"] is True
    keeps_the_name_in_step(dendrite, run_dendrite, name, password)


def test_dendrite_creates_with_the_name(dendrite, run_dendrite, name):
    password = "dendrite-Profile-2"
    params = run_dendrite.connection(username=name, password=password, displayname=NAME)
    assert run_dendrite.module(params, secrets=[password])["created"] is True
    assert profile_name(dendrite, name) == NAME
    assert run_dendrite.module(params, secrets=[password])["changed"] is False


def test_dendrite_without_its_database_names_it_before_any_change(dendrite, run_dendrite, name):
    password = "dendrite-Profile-3"
    run_dendrite.module(run_dendrite.connection(username=name, password=password), secrets=[password])
    before = profile_name(dendrite, name)
    params = run_dendrite.connection(username=name, password=password, displayname=NAME, dendrite_database=None)
    for check_mode in (True, False):
        result = run_dendrite.module(params, secrets=[password], check_mode=check_mode)
        assert result.get("failed") is True and result["changed"] is False, result
        assert "dendrite_database" in result["msg"], result["msg"]
    assert profile_name(dendrite, name) == before


def test_dendrite_refuses_a_user_type_before_any_request(dendrite, run_dendrite, name):
    password = "dendrite-Profile-4"
    params = run_dendrite.connection(username=name, password=password, user_type="bot")
    for check_mode in (True, False):
        result = run_dendrite.module(params, secrets=[password], check_mode=check_mode)
        assert result.get("failed") is True and result["changed"] is False, result
        assert "Dendrite has no user types" in result["msg"] and "user_type" in result["msg"], result["msg"]
    assert not dendrite.exists(name)


# MAS (the stand-in)


@pytest.fixture
def mas(tmp_path):
    with MasStandIn(login_interval=1.0) as standin:
        yield MasServer(standin, tmp_path)
        assert standin.violations == [], "requests or responses outside MAS's API description"


def test_mas_creates_with_a_name_and_refuses_to_change_one(mas, tmp_path, name):
    run = make_runner(mas, tmp_path)
    params = run.connection(username=name, password=STRONG, displayname=NAME)
    result = run.module(params, secrets=[STRONG])
    assert result["created"] is True, result
    assert mas.user(name).displayname == NAME
    # MAS's Admin API cannot show it: an existing user's name cannot be kept in step.
    for check_mode in (True, False):
        result = run.module(params, secrets=[STRONG], check_mode=check_mode)
        assert result.get("failed") is True and result["changed"] is False, result
        assert "MAS's Admin API neither shows nor changes" in result["msg"], result["msg"]
        assert "displayname" in result["msg"], result["msg"]


def test_mas_refuses_a_user_type_before_any_request(mas, tmp_path, name):
    run = make_runner(mas, tmp_path)
    result = run.module(run.connection(username=name, password=STRONG, user_type="bot"), secrets=[STRONG])
    assert result.get("failed") is True and result["changed"] is False, result
    assert "MAS's Admin API has no user types" in result["msg"], result["msg"]
    assert mas.user(name) is None
