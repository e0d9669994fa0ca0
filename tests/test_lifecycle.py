"""Account states (present, locked, deactivated, erased) against real Synapse and Dendrite and the MAS
stand-in: every transition checked first (nothing written, the real run predicted), then done, then
run again (no change), each step seen from the server's own view (its admin API or the stand-in's
record, and whether the password still logs in). Every output is scanned for secrets by the runners."""

import json
import time
import urllib.parse

import pytest
from test_mas import STRONG, mas, run_mas  # noqa: F401  (fixtures: the MAS stand-in and its runner)


PASSWORD = "lifecycle-pw-0b7d4e"
FROM = ["missing", "present", "locked", "deactivated"]
TO = ["present", "locked", "deactivated", "erased"]


def wanted(state):
    """Module parameters for `state` (erased: deactivated with erase)."""
    if state == "erased":
        return {"state": "deactivated", "erase": True}
    return {"state": state}


def expected_view(start, state):
    """What the server shows after asking for `state` from `start`."""
    if state == "present":
        return "present"
    if start == "missing":
        return "missing"
    if state == "locked":
        return "deactivated" if start == "deactivated" else "locked"
    return "deactivated"


def log_in(server, name, password):
    status, body = server.request(
        "POST",
        "/_matrix/client/v3/login",
        {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": name}, "password": password},
    )
    if status == 200:
        server.request("POST", "/_matrix/client/v3/logout", {}, token=body["access_token"])
    return status, body


@pytest.fixture
def settled(synapse):
    """The test Synapse once its background schema updates are done: Synapse answers a
    reactivation with 500 until the one that gives profiles its unique index has run."""
    deadline = time.monotonic() + 300
    while True:
        status, body = synapse.request("GET", "/_synapse/admin/v1/background_updates/status", token=synapse.admin_token)
        assert status == 200, body
        if not body.get("current_updates"):
            return synapse
        assert time.monotonic() < deadline, f"Synapse's background updates did not finish: {body}"
        time.sleep(0.5)


def synapse_user(synapse, name):
    path = "/_synapse/admin/v2/users/" + urllib.parse.quote(synapse.user_id(name), safe="")
    status, body = synapse.request("GET", path, token=synapse.admin_token)
    return None if status == 404 else body


def synapse_view(synapse, name):
    """missing, present, locked or deactivated, as Synapse's admin API says, checked against a login."""
    user = synapse_user(synapse, name)
    if user is None:
        return "missing"
    status, body = log_in(synapse, name, PASSWORD)
    if user["deactivated"]:
        assert status == 403 and body["errcode"] in ("M_USER_DEACTIVATED", "M_FORBIDDEN"), (status, body)
        return "deactivated"
    if user["locked"]:
        assert status == 401 and body["errcode"] == "M_USER_LOCKED", (status, body)
        return "locked"
    assert status == 200, (status, body)
    return "present"


def transitions(runner, view, base, bring_to, name, present_params, check_erased=None):
    """Every start to every state: check mode (writes nothing, predicts), the run, the server's view,
    the rerun (no change)."""
    for start in FROM:
        for state in TO:
            user = f"{name}-{FROM.index(start)}{TO.index(state)}"
            bring_to(user, start)
            assert view(user) == start, (start, state)
            params = dict(base, username=user, **wanted(state))
            if state == "present":
                params.update(present_params)
            check = runner.module(params, check_mode=True, diff=True)
            assert not check.get("failed"), (start, state, check["msg"])
            assert view(user) == start, f"check mode changed {start} -> {state}"
            done = runner.module(params, diff=True)
            assert not done.get("failed"), (start, state, done["msg"])
            target = expected_view(start, state)
            assert view(user) == target, (start, state)
            assert done["changed"] == (target != start), (start, state, done["msg"])
            assert check["changed"] == done["changed"], (start, state)
            assert check["diff"] == done["diff"], (start, state)
            for key in ("state", "created", "admin", "password_changed"):
                assert check[key] == done[key], (start, state, key)
            if done["changed"]:
                assert check["msg"].startswith("would "), (start, state, check["msg"])
            else:
                assert check["msg"] == done["msg"], (start, state)
            assert done["state"] == (None if target == "missing" else target), (start, state)
            if target == "missing":
                verb = "lock" if state == "locked" else "deactivate"
                assert done["msg"] == f"{done['user_id']} is missing: nothing to {verb}"
            if done["changed"] and state != "present" or start in ("locked", "deactivated"):
                assert done["diff"]["before"]["state"] == start, (start, state, done["diff"])
                assert done["diff"]["after"]["state"] == target, (start, state, done["diff"])
            if check_erased and target == "deactivated":
                check_erased(user, state == "erased" and start != "deactivated")
            again = runner.module(params)
            assert not again.get("failed") and again["changed"] is False, (start, state, again["msg"])
            assert view(user) == target


# --- Synapse -----------------------------------------------------------------------------------------


def test_synapse_every_transition(settled, synapse, run, name):
    base = run.connection()

    def bring_to(user, start):
        if start == "missing":
            return
        made = run.module(dict(base, username=user, password=PASSWORD))
        assert made["changed"], made["msg"]
        if start != "present":
            assert run.module(dict(base, username=user, state=start))["changed"]

    def erased(user, expected):
        assert synapse_user(synapse, user)["erased"] is expected

    transitions(run, lambda user: synapse_view(synapse, user), base, bring_to, name, {"password": PASSWORD}, erased)


def test_synapse_reactivation_sets_the_password_and_is_a_change(settled, synapse, run, name):
    base = run.connection()
    run.module(dict(base, username=name, password=PASSWORD, admin=True))
    done = run.module(dict(base, username=name, state="deactivated"))
    assert done["changed"] and done["msg"] == f"deactivated {synapse.user_id(name)}"
    new = "reactivated-pw-5c1a"
    back = run.module(dict(base, username=name, password=new), diff=True)
    assert back["changed"] and back["password_changed"] and back["state"] == "present"
    assert back["msg"] == f"reactivated {synapse.user_id(name)} with the password"
    assert back["diff"]["after"]["password"] == "changed"
    assert log_in(synapse, name, new)[0] == 200
    # What a reactivated account keeps: its admin flag (Synapse keeps it through deactivation).
    assert synapse_user(synapse, name)["admin"] is True


def test_a_list_mixes_states_and_counts_them(synapse, run, name):
    base = run.connection()
    # Twelve users: enough for the tool to read them from one listing of the server's users, which
    # must show locked and deactivated ones too.
    for suffix in ("a", "b", "c", "e", "f"):
        run.module(dict(base, username=f"{name}-{suffix}", password=PASSWORD))
    run.module(dict(base, username=f"{name}-e", state="locked"))
    run.module(dict(base, username=f"{name}-f", state="deactivated"))
    users = [
        {"username": f"{name}-a", "state": "locked"},
        {"username": f"{name}-b", "state": "deactivated", "erase": True},
        {"username": f"{name}-c", "password": PASSWORD},
        {"username": f"{name}-d", "state": "locked"},
        {"username": f"{name}-e", "state": "locked"},
        {"username": f"{name}-f", "state": "deactivated"},
    ] + [{"username": f"{name}-x{i}", "state": "deactivated"} for i in range(6)]
    check = run.module(dict(base, users=users), check_mode=True)
    done = run.module(dict(base, users=users))
    assert check["totals"] == done["totals"]
    assert done["totals"]["locked"] == 1 and done["totals"]["erased"] == 1 and done["totals"]["unchanged"] == 10
    assert done["msg"] == "1 locked, 1 deactivated and erased, 10 unchanged"
    states = [u["state"] for u in done["users"]]
    assert states == ["locked", "deactivated", "present", None, "locked", "deactivated"] + [None] * 6
    assert synapse_view(synapse, f"{name}-a") == "locked"
    assert synapse_view(synapse, f"{name}-b") == "deactivated"
    again = run.module(dict(base, users=users))
    assert again["changed"] is False and again["totals"]["unchanged"] == 12


def test_cli_verbs(settled, synapse, run, name, tmp_path):
    flags = run.cli_connection()
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n")
    r = run.cli("lock", name, *flags)
    assert r.returncode == 0, r.output
    assert "is missing: nothing to lock" in r.stdout and synapse_view(synapse, name) == "missing"
    r = run.cli("register", name, "--password-file", password_file, *flags, secrets=[PASSWORD])
    assert r.returncode == 0, r.output
    r = run.cli("lock", name, "--check", *flags)
    assert r.returncode == 0 and "would lock" in r.stdout, r.output
    assert synapse_view(synapse, name) == "present"
    r = run.cli("lock", name, *flags)
    assert r.returncode == 0 and f"locked {synapse.user_id(name)}" in r.stdout, r.output
    assert synapse_view(synapse, name) == "locked"
    r = run.cli("unlock", name, "--password-file", password_file, *flags, secrets=[PASSWORD])
    assert r.returncode == 0 and "unlocked" in r.stdout, r.output
    assert synapse_view(synapse, name) == "present"
    r = run.cli("deactivate", name, "--erase", "--json", *flags)
    assert r.returncode == 0, r.output
    assert '"changed":true' in r.stdout.replace(" ", "") and synapse_user(synapse, name)["erased"] is True
    r = run.cli("reactivate", name, "--password-file", password_file, *flags, secrets=[PASSWORD])
    assert r.returncode == 0 and "reactivated" in r.stdout, r.output
    assert synapse_view(synapse, name) == "present"


@pytest.mark.parametrize(
    ("given", "names"),
    [
        ({"state": "Locked"}, ["state", "present, locked, deactivated"]),
        ({"state": "absent"}, ["state", "present, locked, deactivated"]),
        ({"state": "present", "erase": True}, ["erase", "state: deactivated"]),
        ({"state": "locked", "erase": True}, ["erase", "state: deactivated"]),
        ({"state": "present", "password": None}, ["password"]),
    ],
)
def test_bad_state_input_is_refused_before_any_request(run, name, given, names):
    # A port nobody listens on: a request would fail differently (and only after wait_timeout).
    params = dict(run.connection(homeserver_url="http://127.0.0.1:9", wait_timeout=30), username=name)
    params.update({"password": PASSWORD, **given})
    params = {k: v for k, v in params.items() if v is not None}
    result = run.module(params)
    assert result["failed"], result
    for word in names:
        assert word in result["msg"], result["msg"]
    assert "cannot reach" not in result["msg"]


# --- Dendrite ----------------------------------------------------------------------------------------


def dendrite_view(dendrite, run_dendrite, name):
    """missing, present or deactivated: whether the name is taken, whether the password logs in, and
    the account database's flag (which a check-mode run reads)."""
    status, _ = dendrite.request("GET", f"/_matrix/client/v3/register/available?username={name}")
    if status == 200:
        return "missing"
    if log_in(dendrite, name, PASSWORD)[0] == 200:
        return "present"
    probe = run_dendrite.module(dict(run_dendrite.connection(), username=name, state="locked"), check_mode=True)
    assert probe["state"] == "deactivated", probe["msg"]
    return "deactivated"


def test_dendrite_deactivates_with_the_password_and_says_what_it_cannot_do(dendrite, run_dendrite, name):
    base = run_dendrite.connection()
    # Missing: nothing to do, whatever the state (Dendrite's limits do not matter then).
    for state in ("locked", "deactivated", "erased"):
        result = run_dendrite.module(dict(base, username=name, **wanted(state)))
        assert not result.get("failed") and not result["changed"], result["msg"]
    assert run_dendrite.module(dict(base, username=name, password=PASSWORD))["created"]

    # No locking, no erasing: refused before any change, naming why.
    for state, why in (("locked", "Dendrite has no account locking"), ("erased", "Dendrite cannot erase")):
        for check_mode in (True, False):
            result = run_dendrite.module(dict(base, username=name, password=PASSWORD, **wanted(state)), check_mode=check_mode)
            assert result["failed"] and why in result["msg"], result["msg"]
    assert dendrite_view(dendrite, run_dendrite, name) == "present"

    # Deactivation needs the account's own password: without one, or a wrong one, refused first.
    result = run_dendrite.module(dict(base, username=name, state="deactivated"))
    assert result["failed"] and "needs its password" in result["msg"], result["msg"]
    wrong = "not-the-password-1"
    result = run_dendrite.module(dict(base, username=name, password=wrong, state="deactivated"))
    assert result["failed"] and "only with its own password" in result["msg"], result["msg"]
    assert dendrite_view(dendrite, run_dendrite, name) == "present"

    params = dict(base, username=name, password=PASSWORD, state="deactivated")
    check = run_dendrite.module(params, check_mode=True, diff=True)
    assert check["changed"] and check["msg"] == f"would deactivate {dendrite.user_id(name)}"
    assert dendrite_view(dendrite, run_dendrite, name) == "present"
    done = run_dendrite.module(params, diff=True)
    assert done["changed"] and done["diff"] == check["diff"] and done["state"] == "deactivated"
    assert dendrite_view(dendrite, run_dendrite, name) == "deactivated"
    assert run_dendrite.module(params)["changed"] is False
    # Locking a deactivated account: nothing to do (it cannot log in either way), said so.
    result = run_dendrite.module(dict(base, username=name, state="locked"))
    assert not result["changed"] and "left deactivated" in result["msg"]

    # No reactivation: refused, naming why, in check mode too.
    for check_mode in (True, False):
        result = run_dendrite.module(dict(base, username=name, password=PASSWORD), check_mode=check_mode)
        assert result["failed"] and "Dendrite has no way to reactivate" in result["msg"], result["msg"]
    assert dendrite_view(dendrite, run_dendrite, name) == "deactivated"


# --- MAS (the stand-in) ------------------------------------------------------------------------------


def mas_view(mas, name):  # noqa: F811  (mas is the fixture)
    user = mas.user(name)
    if user is None:
        return "missing"
    if user.deactivated_at:
        return "deactivated"
    if user.locked_at:
        return "locked"
    return "present"


def test_mas_every_transition(mas, run_mas, name):  # noqa: F811
    base = dict(mas.module_params)

    def bring_to(user, start):
        if start == "missing":
            return
        assert run_mas.module(dict(base, username=user, password=STRONG))["changed"]
        if start != "present":
            assert run_mas.module(dict(base, username=user, state=start))["changed"]

    def erased(user, expected):
        assert mas.user(user).erased is expected

    # A user locked minutes after its creation looks like one a refused creation left (docs/lifecycle.md):
    # present with update_password: always finishes or unlocks it either way.
    present = {"password": STRONG, "update_password": "always"}
    transitions(run_mas, lambda user: mas_view(mas, user), base, bring_to, name, present, erased)


def test_mas_locked_login_and_reactivation(mas, run_mas, name):  # noqa: F811
    base = dict(mas.module_params)
    run_mas.module(dict(base, username=name, password=STRONG, admin=True))
    run_mas.module(dict(base, username=name, state="locked"))
    user = mas.user(name)
    assert user.locked_at and not user.check_password("wrong") and user.admin
    run_mas.module(dict(base, username=name, state="deactivated"))
    assert mas.user(name).deactivated_at and mas.user(name).erased is False
    back = run_mas.module(dict(base, username=name, password=STRONG, update_password="always"))
    assert back["changed"] and back["state"] == "present" and back["password_changed"]
    user = mas.user(name)
    assert not user.deactivated_at and not user.locked_at and user.check_password(STRONG) and user.admin


def test_the_roles_users_take_state(synapse, run, name, tmp_path):
    # Through `just ensure-users` (the role, its one module task): items with `state` and no password.
    run.module(dict(run.connection(), username=f"{name}-a", password=PASSWORD))
    users = [{"username": f"{name}-a", "state": "locked"}, {"username": f"{name}-b", "state": "deactivated"}]
    vars_file = tmp_path / "users.json"
    vars_file.write_text(json.dumps({"matrix_user_users": users}))
    r = run.just("ensure-users", "--extra-vars", f"@{vars_file}")
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 1 and "1 locked, 1 unchanged" in r.stdout, r.stdout
    assert synapse_view(synapse, f"{name}-a") == "locked" and synapse_view(synapse, f"{name}-b") == "missing"
    r = run.just("ensure-users", "--extra-vars", f"@{vars_file}")
    assert r.returncode == 0 and r.recap()["changed"] == 0, r.output
