"""Many users in one task: the module's `users` list and the role's `ensure-matrix-users-created` tag."""

import json
import uuid

import pytest


def password_of(localpart):
    return f"pw-{localpart}-Ü"


@pytest.fixture
def mixed(synapse):
    """49 users in four states, plus one invalid name: (items, expected action per localpart)."""
    prefix = "m" + uuid.uuid4().hex[:8]
    expected = {}
    items = []
    for i in range(49):
        localpart = f"{prefix}-{i:02d}"
        kind = ("new", "same", "promote", "demote")[i % 4]
        if kind != "new":
            synapse.create(localpart, password_of(localpart), admin=(kind in ("same", "demote")) and i % 8 < 4)
        wanted_admin = {
            "new": i % 3 == 0,
            "same": synapse.is_admin(localpart) if kind == "same" else None,
            "promote": True,
            "demote": False,
        }[kind]
        if kind == "promote":
            assert synapse.is_admin(localpart) is False
        if kind == "demote" and not synapse.is_admin(localpart):
            kind = "same"
        expected[localpart] = (kind, wanted_admin)
        items.append({"username": localpart, "password": password_of(localpart), "admin": wanted_admin})
    items.insert(17, {"username": "not valid!", "password": "pw-invalid-user"})
    return items, expected


def passwords(items):
    return [item["password"] for item in items]


def counts(expected):
    kinds = [kind for kind, _ in expected.values()]
    return {
        "created": kinds.count("new"),
        "promoted": kinds.count("promote"),
        "demoted": kinds.count("demote"),
        "password_changed": 0,
        "displayname_set": 0,
        **{state: 0 for state in ("locked", "unlocked", "deactivated", "erased", "reactivated")},
        "unchanged": kinds.count("same"),
        "failed": 1,
    }


def test_a_mixed_list_in_one_task(synapse, run, mixed):
    items, expected = mixed
    result = run.module(run.connection(users=items), secrets=passwords(items))

    assert result["failed"] is True and result["changed"] is True
    assert result["totals"] == counts(expected)
    assert "1 of 50 users failed" in result["msg"] and "users[17]" in result["msg"], result["msg"]
    assert result["users"][17]["failed"] is True and "may only contain" in result["users"][17]["msg"]
    assert len(result["users"]) == 50
    for entry in result["users"][:17] + result["users"][18:]:
        localpart = entry["username"]
        kind, wanted_admin = expected[localpart]
        assert entry["changed"] is (kind != "same"), entry
        assert entry["created"] is (kind == "new")
        assert entry["user_id"] == synapse.user_id(localpart)
        assert synapse.is_admin(localpart) is wanted_admin, localpart
    for localpart in list(expected)[::7]:
        assert synapse.can_log_in(localpart, password_of(localpart))

    again = run.module(run.connection(users=items), secrets=passwords(items))
    assert again["changed"] is False
    assert again["totals"] == {**{k: 0 for k in counts(expected)}, "unchanged": 49, "failed": 1}


def test_check_mode_over_a_list_predicts_exactly(synapse, run, mixed):
    items, expected = mixed
    before = {localpart: synapse.user(localpart) for localpart in expected}

    predicted = run.module(run.connection(users=items), secrets=passwords(items), check_mode=True, diff=True)
    assert predicted["totals"] == counts(expected)
    assert {localpart: synapse.user(localpart) for localpart in expected} == before, "check mode wrote something"
    assert len(predicted["diff"]) == sum(1 for kind, _ in expected.values() if kind != "same")

    real = run.module(run.connection(users=items), secrets=passwords(items))
    assert [u.get("changed") for u in real["users"]] == [u.get("changed") for u in predicted["users"]]
    assert real["totals"] == predicted["totals"]


def test_a_short_list_is_looked_up_user_by_user(synapse, run):
    prefix = "s" + uuid.uuid4().hex[:8]
    items = [{"username": f"{prefix}-{i}", "password": f"short-list-pw-{i}", "admin": i == 0} for i in range(3)]
    result = run.module(run.connection(users=items, concurrency=2), secrets=passwords(items))
    assert result["totals"]["created"] == 3 and "failed" not in result
    assert [synapse.is_admin(item["username"]) for item in items] == [True, False, False]
    again = run.module(run.connection(users=items), secrets=passwords(items))
    assert again["changed"] is False and again["totals"]["unchanged"] == 3


def test_duplicates_and_bad_items_fail_alone(synapse, run):
    localpart = "d" + uuid.uuid4().hex[:8]
    items = [
        {"username": localpart, "password": "dup-pw-1"},
        {"username": localpart.upper(), "password": "dup-pw-2"},
        {"username": localpart + "-x", "password": "dup-pw-3", "admin": "maybe"},
        {"username": localpart + "-y", "pasword": "typo"},
    ]
    result = run.module(run.connection(users=items), secrets=["dup-pw-1", "dup-pw-2", "dup-pw-3", "typo"])
    assert result["failed"] is True and result["totals"]["created"] == 1 and result["totals"]["failed"] == 3
    assert "listed more than once" in result["users"][1]["msg"]
    assert "users[2].admin" in result["users"][2]["msg"]
    assert "users[3].pasword" in result["users"][3]["msg"] or "users[3].password" in result["users"][3]["msg"]
    assert synapse.can_log_in(localpart, "dup-pw-1")
    assert synapse.user(localpart + "-x") is None


def test_users_and_username_together_are_refused(run):
    result = run.module(run.connection(username="a", password="pw-both-1", users=[]), secrets=["pw-both-1"])
    assert result["failed"] is True and "`users`" in result["msg"]


def test_the_role_tag_ensures_the_list(synapse, run, tmp_path):
    prefix = "r" + uuid.uuid4().hex[:8]
    users = [{"username": f"{prefix}-{i}", "password": f"role list it's {i} $x", "admin": "yes" if i == 0 else "no"}
             for i in range(12)]
    vars_file = tmp_path / "users.json"
    vars_file.write_text(json.dumps({"matrix_user_users": users}))
    secrets = [u["password"] for u in users]

    r = run.just("ensure-users", "--extra-vars", f"@{vars_file}", secrets=secrets)
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 1
    assert "12 created" in r.stdout
    assert synapse.is_admin(f"{prefix}-0") is True and synapse.is_admin(f"{prefix}-1") is False
    assert synapse.can_log_in(f"{prefix}-5", users[5]["password"])

    r = run.just("ensure-users", "--extra-vars", f"@{vars_file}", secrets=secrets)
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 0
    assert "12 unchanged" in r.stdout


def test_the_role_tag_without_users_says_what_to_do(run):
    r = run.just("ensure-users")
    assert r.returncode != 0
    assert "`matrix_user_users` is empty" in r.output
