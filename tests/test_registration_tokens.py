"""Registration tokens (the module matrix_registration_token, the tool's `token` and `tokens`, the
role's variable and `just registration-token`), against a real Synapse and Dendrite v0.13.8 that
take tokens, and the MAS stand-in: create, rerun, change, expire, delete, lists, check mode; a
sign-up through the client API with `m.login.registration_token`, its use counted, and an
exhausted or expired token refused; every output scanned for every token but the one the run
was asked to hand out."""

import contextlib
import json
import os
import re
import subprocess
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import (
    BINARY,
    REPO,
    VENV_BIN,
    Dendrite,
    Postgres,
    Synapse,
    assert_no_secret,
    files_holding,
    free_port,
    make_runner,
    scratch,
)
from mas_standin import MasStandIn
from test_docs import ACTION_OPTIONS
from test_mas import LOGIN_INTERVAL, MasServer
from test_ssh import library, pinned, ssh, user_secrets  # noqa: F401  (the fixtures)
from sshhost import sshd  # noqa: F401  (the fixture)

RANDOM = 20  # letters and digits after a generated token's name


@pytest.fixture(scope="module")
def synapse_tokens():
    """A Synapse whose sign-up is open to whoever holds a registration token."""
    with scratch("matrix-user-tokens-") as folder, Synapse(folder / "synapse", registration_tokens=True) as server:
        yield server


@pytest.fixture(scope="module")
def dendrite_tokens():
    """A Dendrite with its registration-token API on (registration_requires_token)."""
    with scratch("matrix-user-tokens-") as folder, Dendrite(folder / "dendrite", registration_tokens=True) as server:
        yield server


@pytest.fixture
def mas(tmp_path):
    with MasStandIn(login_interval=LOGIN_INTERVAL) as standin:
        yield MasServer(standin, tmp_path)
        assert standin.violations == [], "requests or responses outside MAS's API description"
        assert standin.active_admin_sessions == 0, "a run left its admin session active in MAS"


@pytest.fixture(params=["synapse", "dendrite", "mas"])
def server(request):
    """Each server in turn, with a runner aimed at it."""
    fixture = {"synapse": "synapse_tokens", "dendrite": "dendrite_tokens", "mas": "mas"}[request.param]
    return request.getfixturevalue(fixture)


@pytest.fixture
def run(server, tmp_path):
    return make_runner(server, tmp_path)


@pytest.fixture
def name():
    return "tok-" + uuid.uuid4().hex[:10]


def tokens_module(run, params, **kwargs):
    """The module matrix_registration_token, run as Ansible runs it."""
    return run.module(params, module_name="matrix_registration_token", **kwargs)


def listed(server):
    """The server's tokens, as its own API lists them: {token string: fields}."""
    if isinstance(server, MasServer):
        return {
            t.token: {"uses_allowed": t.usage_limit, "completed": t.times_used, "revoked": t.revoked_at is not None,
                      "expiry": t.expires_at}
            for t in server.standin.registration_tokens.values()
        }
    path = "/_dendrite/admin/registrationTokens" if isinstance(server, Dendrite) else "/_synapse/admin/v1/registration_tokens"
    status, body = server.request("GET", path, token=server.admin_token)
    assert status == 200, body
    return {
        t["token"]: {"uses_allowed": t["uses_allowed"], "completed": t["completed"], "pending": t["pending"],
                     "revoked": False, "expiry": t["expiry_time"]}
        for t in body["registration_tokens"] or []  # Dendrite: null for none
    }


def sign_up(server, username, token, password="Correct-Horse-9-staple"):
    """A sign-up through the client API's user-interactive auth, presenting `token` at the
    `m.login.registration_token` stage: the status and body of the last answer."""
    body = {"username": username, "password": password, "initial_device_display_name": "test"}
    status, answer = server.request("POST", "/_matrix/client/v3/register", body)
    for _ in range(4):
        if status != 401 or "session" not in answer:
            return status, answer
        done = set(answer.get("completed", []))
        flow = next(f["stages"] for f in answer["flows"] if "m.login.registration_token" in f["stages"])
        stage = next(s for s in flow if s not in done)
        auth = {"type": stage, "session": answer["session"]}
        if stage == "m.login.registration_token":
            auth["token"] = token
        status, answer = server.request("POST", "/_matrix/client/v3/register", dict(body, auth=auth))
    return status, answer


def valid(server, token):
    status, body = server.request("GET", "/_matrix/client/v1/register/m.login.registration_token/validity?token=" + token)
    assert status == 200, body
    return body["valid"]


def test_create_rerun_change_check_mode_and_delete(server, run, name):
    params = run.connection(name=name, uses_allowed=5, expiry_time="7d")
    created = tokens_module(run, params, diff=True)
    assert created["changed"] and not created.get("failed"), created
    token = created["token"]
    assert token.startswith(name + "-") and len(token) == len(name) + 1 + RANDOM
    assert created["uses_allowed"] == 5 and created["state"] == "present"
    assert created["diff"]["before"] == {"state": "absent"}
    assert token not in json.dumps(created["diff"]) and token not in json.dumps(created["invocation"])
    on_server = listed(server)[token]
    assert on_server["uses_allowed"] == 5 and on_server["expiry"] is not None

    # From now on the token is a secret every output is scanned for: it is never handed out again.
    again = tokens_module(run, params, secrets=[token])
    assert not again["changed"] and "token" not in again, again
    assert again["msg"] == f"registration token {name} unchanged"

    raised = dict(params, uses_allowed=10)
    predicted = tokens_module(run, raised, secrets=[token], check_mode=True, diff=True)
    assert predicted["changed"] and listed(server)[token]["uses_allowed"] == 5, "check mode wrote"
    done = tokens_module(run, raised, secrets=[token], diff=True)
    if isinstance(server, Dendrite):
        # Dendrite v0.13.8 on SQLite answers a change with the old limits, and keeps them.
        assert done.get("failed") and "did not apply the change" in done["msg"], done
        assert listed(server)[token]["uses_allowed"] == 5
        return delete(server, run, name, token)
    assert done["diff"] == predicted["diff"]
    assert done["diff"]["before"]["uses_allowed"] == 5 and done["diff"]["after"]["uses_allowed"] == 10
    assert listed(server)[token]["uses_allowed"] == 10
    assert not tokens_module(run, raised, secrets=[token])["changed"]

    # A fixed expiry is kept on every run; `never` lifts it.
    later = (datetime.now(timezone.utc) + timedelta(days=30)).replace(microsecond=0)
    dated = tokens_module(run, dict(raised, expiry_time=later.strftime("%Y-%m-%dT%H:%M:%SZ")), secrets=[token])
    assert dated["changed"] and dated["expiry_time"] == later.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert not tokens_module(run, dict(raised, expiry_time=later.isoformat()), secrets=[token])["changed"]
    assert tokens_module(run, dict(raised, expiry_time="never"), secrets=[token])["expiry_time"] is None

    delete(server, run, name, token)


def delete(server, run, name, token):
    """Deletes (MAS: revokes) the token, predicted first by check mode; then nothing to do."""
    gone = dict(run.connection(name=name, state="absent"))
    predicted = tokens_module(run, gone, secrets=[token], check_mode=True)
    assert predicted["changed"] and not listed(server)[token]["revoked"]
    removed = tokens_module(run, gone, secrets=[token])
    assert removed["changed"]
    if isinstance(server, MasServer):
        assert removed["msg"] == f"revoked registration token {name}" and listed(server)[token]["revoked"]
    else:
        assert removed["msg"] == f"deleted registration token {name}" and token not in listed(server)
    assert not tokens_module(run, gone, secrets=[token])["changed"]


def test_a_token_chosen_by_hand_is_never_printed(server, run, name):
    token = "hand-" + uuid.uuid4().hex
    params = run.connection(name="staff", token=token, uses_allowed="unlimited")
    created = tokens_module(run, params, diff=True)
    assert created["changed"] and "token" not in created and created["uses_allowed"] is None
    assert token in listed(server)
    assert not tokens_module(run, params)["changed"]
    assert tokens_module(run, dict(params, state="absent", uses_allowed=None))["changed"]
    if isinstance(server, MasServer):
        # MAS keeps it, revoked: declared present again, it is taken back into use.
        back = tokens_module(run, params)
        assert back["changed"] and back["msg"] == "took back into use registration token staff"
        assert not listed(server)[token]["revoked"]


def test_a_list_of_tokens_with_the_command_line_tool(server, run, name, tmp_path):
    secret = "list-" + uuid.uuid4().hex
    tokens = [
        {"name": name + "-a", "uses_allowed": 2},
        {"name": name + "-b", "token": secret, "expiry_time": "12h"},
        {"name": "bad name"},
    ]
    file = tmp_path / "tokens.yaml"
    file.write_text(json.dumps({"tokens": tokens}))
    env = server.cli_env if isinstance(server, MasServer) else None
    flags = [] if isinstance(server, MasServer) else run.cli_connection()
    if isinstance(server, Dendrite):
        flags.append("--backend=dendrite")
    first = run.cli("tokens", file, "--json", *flags, secrets=[secret], env=env)
    assert first.returncode == 1, first.output  # one bad item fails alone
    result = json.loads(first.stdout)
    items = result.get("tokens")
    assert items, result["msg"]
    assert [item.get("changed") for item in items[:2]] == [True, True]
    assert "`tokens[2].name`" in items[2]["msg"] or "tokens[2].name" in items[2]["msg"]
    generated = items[0]["token"]
    assert "token" not in items[1]
    file.write_text(json.dumps({"tokens": tokens[:2]}))
    again = run.cli("tokens", file, *flags, secrets=[secret, generated], env=env)
    assert again.returncode == 0, again.output
    assert "2 registration tokens: 0 changed, 2 unchanged" in again.stdout


def test_bad_input_is_refused_before_any_request(run, name):
    # Nothing listens here: a refusal that named the server would mean a request was tried.
    closed = run.connection(homeserver_url=f"http://127.0.0.1:{free_port()}", wait_timeout=0)
    past = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for bad, field in [
        ({"expiry_time": past}, "expiry_time"),
        ({"expiry_time": "tomorrow"}, "expiry_time"),
        ({"uses_allowed": -1}, "uses_allowed"),
        ({"token": "has spaces in it"}, "token"),
        ({"name": "a/b"}, "name"),
        ({"state": "revoked"}, "state"),
    ]:
        result = tokens_module(run, {"name": name, **closed, **bad}, secrets=["has spaces in it"])
        assert result.get("failed") and f"`{field}`" in result["msg"], result
        assert "cannot reach" not in result["msg"]


def test_dendrite_refuses_a_dot_and_warns_that_its_sign_up_ignores_tokens(dendrite_tokens, tmp_path, name):
    run = make_runner(dendrite_tokens, tmp_path)
    refused = tokens_module(run, run.connection(name=name, token="with.dot-" + uuid.uuid4().hex))
    assert refused.get("failed") and "`token`" in refused["msg"] and "Dendrite" in refused["msg"]
    made = tokens_module(run, run.connection(name=name))
    assert any("does not ask for one" in w for w in made.get("warnings", [])), made
    # And indeed: its sign-up is closed whatever the token.
    status, _ = sign_up(dendrite_tokens, "u" + uuid.uuid4().hex[:8], made["token"])
    assert status == 403


def test_sign_up_with_a_token_is_counted_and_an_exhausted_token_refused(synapse_tokens, tmp_path, name):
    run = make_runner(synapse_tokens, tmp_path)
    created = tokens_module(run, run.connection(name=name, uses_allowed=1))
    token = created["token"]
    user = "u" + uuid.uuid4().hex[:8]
    status, body = sign_up(synapse_tokens, user, token)
    assert status == 200 and body["user_id"] == synapse_tokens.user_id(user), body
    counted = tokens_module(run, run.connection(name=name, uses_allowed=1), secrets=[token])
    assert not counted["changed"] and counted["completed"] == 1 and counted["pending"] == 0
    assert not valid(synapse_tokens, token)
    status, body = sign_up(synapse_tokens, "u" + uuid.uuid4().hex[:8], token)
    assert status == 401 and body.get("errcode") == "M_UNAUTHORIZED", body
    # Raising the limit lets one more in.
    assert tokens_module(run, run.connection(name=name, uses_allowed=2), secrets=[token])["changed"]
    status, body = sign_up(synapse_tokens, "u" + uuid.uuid4().hex[:8], token)
    assert status == 200, body


def test_an_expired_token_is_refused(synapse_tokens, tmp_path, name):
    run = make_runner(synapse_tokens, tmp_path)
    soon = (datetime.now(timezone.utc) + timedelta(seconds=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    token = tokens_module(run, run.connection(name=name, expiry_time=soon))["token"]
    assert valid(synapse_tokens, token)
    time.sleep(5)
    assert not valid(synapse_tokens, token)
    status, body = sign_up(synapse_tokens, "u" + uuid.uuid4().hex[:8], token)
    assert status == 401 and body.get("errcode") == "M_UNAUTHORIZED", body
    # Declaring a time that has passed is refused; `state: absent` is what ends a token.
    again = tokens_module(run, run.connection(name=name, expiry_time=soon), secrets=[token])
    assert again.get("failed") and "in the past" in again["msg"]
    assert tokens_module(run, run.connection(name=name, state="absent"), secrets=[token])["changed"]


def test_mas_sign_up_counts_and_revoked_tokens_are_refused(mas, tmp_path, name):
    run = make_runner(mas, tmp_path)
    token = tokens_module(run, run.connection(name=name, uses_allowed=1))["token"]
    assert mas.standin.sign_up_with(token)
    assert tokens_module(run, run.connection(name=name), secrets=[token])["completed"] == 1
    assert not mas.standin.sign_up_with(token), "an exhausted token was taken"
    assert tokens_module(run, run.connection(name=name, uses_allowed=3), secrets=[token])["changed"]
    assert mas.standin.sign_up_with(token)
    assert tokens_module(run, run.connection(name=name, state="absent"), secrets=[token])["changed"]
    assert not mas.standin.sign_up_with(token), "a revoked token was taken"
    # The name is free again: a new token, not the revoked one.
    fresh = tokens_module(run, run.connection(name=name), secrets=[token])["token"]
    assert fresh != token and mas.standin.sign_up_with(fresh)


def test_the_role_variable_and_the_play_print_no_token(synapse_tokens, tmp_path, name):
    run = make_runner(synapse_tokens, tmp_path)
    tokens = json.dumps({"matrix_user_registration_tokens": [{"name": name, "uses_allowed": 3}]})
    first = run.playbook("--tags", "registration-tokens", "-v", "--diff", "-e", tokens)
    assert first.returncode == 0, first.output
    assert first.recap()["changed"] == 1
    token = next(t for t in listed(synapse_tokens) if t.startswith(name + "-"))
    assert_no_secret(first.output, [token])
    assert f"created registration token {name}" in first.stdout
    second = run.playbook("--tags", "registration-tokens", "-e", tokens, secrets=[token])
    assert second.returncode == 0 and second.recap()["changed"] == 0, second.output


def test_a_generated_token_reaches_a_registered_variable_but_not_the_output(synapse_tokens, tmp_path, name):
    run = make_runner(synapse_tokens, tmp_path)
    link = tmp_path / "link.txt"
    playbook = tmp_path / "play.yml"
    params = {**synapse_tokens.module_params, "name": name, "uses_allowed": 1}
    playbook.write_text(json.dumps([{
        "hosts": "matrix_servers",
        "gather_facts": False,
        "tasks": [
            {"matrix_user.homeserver.matrix_registration_token": params, "register": "made"},
            {"ansible.builtin.copy": {"content": "{{ made.token }}", "dest": str(link), "mode": "0600"}, "no_log": True},
        ],
    }]))
    full_env = dict(os.environ, PATH=f"{VENV_BIN}:{os.environ['PATH']}")
    command = [VENV_BIN / "ansible-playbook", "-i", synapse_tokens.inventory, str(playbook), "-vvv"]
    played = run._ansible(command, full_env, None, [])
    assert played.returncode == 0, played.output[-3000:]
    token = link.read_text()
    assert token.startswith(name + "-") and token in listed(synapse_tokens)
    assert files_holding(tmp_path, [token]) == [link]
    assert_no_secret(played.output, [token])


def test_just_registration_token_prints_the_sign_up_link_once(synapse_tokens, tmp_path, name):
    run = make_runner(synapse_tokens, tmp_path)
    first = run.just("registration-token", name, "5", "7d")
    assert first.returncode == 0, first.output
    token = next(t for t in listed(synapse_tokens) if t.startswith(name + "-"))
    assert f"https://element.example.com/#/register?token={token}" in first.stdout
    assert first.stdout.count(token) == 1
    # Nothing of the run (Ansible's temporary folders, the recipe's vars files) keeps it on disk.
    assert files_holding(tmp_path, [token]) == []
    second = run.just("registration-token", name, "5", "7d", secrets=[token])
    assert second.returncode == 0, second.output
    assert "exists already" in second.stdout


def test_ansible_doc_shows_the_module_and_it_takes_what_it_documents(tmp_path):
    shown = subprocess.run(
        [VENV_BIN / "ansible-doc", "--json", "matrix_user.homeserver.matrix_registration_token"],
        cwd=REPO, capture_output=True, text=True, check=True,
    )
    doc = json.loads(shown.stdout)["matrix_user.homeserver.matrix_registration_token"]
    assert doc["doc"]["attributes"]["check_mode"]["support"] == "full"
    assert "token" in doc["return"] and doc["examples"].strip()
    args = tmp_path / "args"
    args.write_text(json.dumps({"name": "x", "no_such_option": 1, "_ansible_check_mode": True,
                                "_ansible_module_name": "matrix_registration_token"}))
    refused = json.loads(subprocess.run([BINARY, args], capture_output=True, text=True).stdout)["msg"]
    supported = set(re.search(r"supported: (.*)$", refused).group(1).split(", "))
    assert set(doc["doc"]["options"]) == supported | ACTION_OPTIONS


def test_the_command_line_tool_prints_a_generated_token_once(synapse_tokens, tmp_path, name):
    run = make_runner(synapse_tokens, tmp_path)
    made = run.cli("token", name, "--uses-allowed", "2", "--expiry-time", "1d", "--quiet", *run.cli_connection())
    assert made.returncode == 0, made.output
    [line] = made.stdout.splitlines()  # --quiet: the token alone
    token = line.removeprefix("token: ")
    assert token.startswith(name + "-") and token in listed(synapse_tokens)
    again = run.cli("token", name, "--uses-allowed", "3", "--diff", *run.cli_connection(), secrets=[token])
    assert again.returncode == 0, again.output
    assert f"changed the limits of registration token {name} (uses: 0 of 3, until " in again.stdout
    assert '"uses_allowed": 2' not in again.stdout and '"uses_allowed":2' in again.stdout
    refused = run.cli("token", name, "--uses-allowed", "-4", *run.cli_connection(), secrets=[token])
    assert refused.returncode == 2 and "--uses-allowed: must be 0 or more" in refused.stderr, refused.output
    gone = run.cli("token", name, "--state", "absent", *run.cli_connection(), secrets=[token])
    assert gone.returncode == 0 and f"deleted registration token {name}" in gone.stdout, gone.output


def test_a_short_token_of_the_server_mangles_neither_the_name_nor_the_generated_token(synapse_tokens, tmp_path, name):
    run = make_runner(synapse_tokens, tmp_path)
    short = name[:6]  # "tok-ab": another token of the server, the start of this one's name
    status, body = synapse_tokens.request(
        "POST", "/_synapse/admin/v1/registration_tokens/new", {"token": short}, token=synapse_tokens.admin_token
    )
    assert status == 200, body
    made = tokens_module(run, run.connection(name=name))
    assert made["msg"] == f"created registration token {name}"
    assert made["token"].startswith(name + "-") and made["token"] in listed(synapse_tokens)


def test_a_synapse_whose_registration_is_off_gets_a_warning(synapse, synapse_tokens, tmp_path, name):
    closed = make_runner(synapse, tmp_path)  # the shared Synapse: enable_registration false
    made = tokens_module(closed, closed.connection(name=name))
    assert made["changed"] and any("registration is off" in w for w in made.get("warnings", [])), made
    assert tokens_module(closed, closed.connection(name=name, state="absent"), secrets=[made["token"]])["changed"]
    open_ = make_runner(synapse_tokens, tmp_path)
    made = tokens_module(open_, open_.connection(name=name))
    assert made["changed"] and not made.get("warnings"), made


@pytest.fixture(scope="module")
def dendrite_postgres_tokens():
    """A Dendrite on PostgreSQL with its registration-token API on."""
    with contextlib.ExitStack() as stack:
        workdir = stack.enter_context(scratch("matrix-user-tokens-"))
        database = stack.enter_context(Postgres(workdir / "postgres")).url
        yield stack.enter_context(Dendrite(workdir / "dendrite", database=database, registration_tokens=True))


def test_dendrite_on_postgresql_applies_a_change(dendrite_postgres_tokens, tmp_path, name):
    run = make_runner(dendrite_postgres_tokens, tmp_path)
    token = tokens_module(run, run.connection(name=name, uses_allowed=5))["token"]
    raised = tokens_module(run, run.connection(name=name, uses_allowed=10, expiry_time="2100-01-01"), secrets=[token])
    assert raised["changed"] and not raised.get("failed"), raised
    assert listed(dendrite_postgres_tokens)[token]["uses_allowed"] == 10
    assert not tokens_module(run, run.connection(name=name, uses_allowed=10, expiry_time="2100-01-01"), secrets=[token])["changed"]


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "script-shipped"])
def test_over_ssh_the_token_reaches_the_controller_only(ssh, name, pipelining):  # noqa: F811
    """The module on a host reached over real SSH (the binary installed there by the action
    plugin), with and without pipelining: the generated token reaches a registered variable on
    the controller, and no output, and no file on the host."""
    inventory = ssh.inventory(**ssh.host_vars())
    saved = ssh.tmp_path / "token"
    params = {
        "homeserver_url": ssh.synapse.url,
        "server_name": ssh.synapse.server_name,
        "admin_access_token_file": ssh.user_secrets["admin_token"],
        "name": name,
        "uses_allowed": 2,
    }
    playbook = ssh.tmp_path / "tokens.yml"
    playbook.write_text(json.dumps([{
        "hosts": "matrix_servers",
        "gather_facts": False,
        "tasks": [
            {"matrix_user.homeserver.matrix_registration_token": params, "register": "made"},
            {"ansible.builtin.copy": {"content": "{{ made.token }}", "dest": str(saved), "mode": "0600"},
             "delegate_to": "localhost", "no_log": True, "when": "made.token is defined"},
        ],
    }]))
    first = ssh.playbook(inventory, playbook, "-vvv", pipelining=pipelining)
    assert first.returncode == 0, first.output[-3000:]
    token = saved.read_text()
    assert token.startswith(name + "-") and token in listed(ssh.synapse)
    assert_no_secret(first.output, [token])
    ssh.secrets.append(token)  # the leak check looks for it on the host too
    second = ssh.playbook(inventory, playbook, pipelining=pipelining)
    assert second.returncode == 0 and second.recap()["changed"] == 0, second.output
    assert second.recap()["skipped"] == 1  # no token the second time
