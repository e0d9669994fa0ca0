"""Dendrite, on SQLite and on PostgreSQL: the same guarantees as Synapse."""

import json
import re

import pytest

# Dendrite needs 8 to 72 bytes, so the longest is 72.
HOSTILE_PASSWORDS = ["it's \"$HOME\" x", "`id` a;b#c=d", "-x------", "\\n\\n\\n\\n", "pässwörd✓", "p" * 72]


def test_create_rerun_demote_promote_through_just(dendrite, run_dendrite, name):
    password = "it's \"$HOME\" x"
    run = run_dendrite

    r = run.just("register-user", name, password, "yes", secrets=[password])
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 1
    assert dendrite.is_admin(name, password) is True

    r = run.just("register-user", name, password, "yes", secrets=[password])
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 0

    r = run.just("register-user", name, password, "no", secrets=[password])
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 1
    assert dendrite.is_admin(name, password) is False

    r = run.just("register-user", name, password, "yes", secrets=[password])
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 1
    assert dendrite.is_admin(name, password) is True
    assert dendrite.can_log_in(name, password)


def test_through_ansible_playbook_with_json_extra_vars(dendrite, run_dendrite, name):
    password = "json extra vars ✓ 'x'"
    extra = json.dumps({"username": name, "password": password, "admin": "no"})
    r = run_dendrite.playbook("--extra-vars", extra, "--tags=register-user", secrets=[password])
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 1
    assert dendrite.is_admin(name, password) is False

    extra = json.dumps({"username": name, "password": password, "admin": "yes"})
    r = run_dendrite.playbook("--extra-vars", extra, "--tags=register-user", secrets=[password])
    assert r.recap()["changed"] == 1
    assert dendrite.is_admin(name, password) is True


@pytest.mark.parametrize("password", HOSTILE_PASSWORDS, ids=range(len(HOSTILE_PASSWORDS)))
def test_passwords_reach_dendrite_byte_for_byte(dendrite, run_dendrite, name, password):
    r = run_dendrite.just("register-user", name, password, "no", secrets=[password])
    assert r.returncode == 0, r.output
    assert dendrite.can_log_in(name, password)
    assert not dendrite.can_log_in(name, "x" + password)


def test_check_mode_and_diff(dendrite, run_dendrite, name):
    password = "check-mode-Password"
    result = run_dendrite.module(run_dendrite.connection(username=name, password=password, admin=True),
                                 secrets=[password], check_mode=True)
    assert result["changed"] is True and result["created"] is True
    assert not dendrite.exists(name)

    run_dendrite.module(run_dendrite.connection(username=name, password=password, admin=True), secrets=[password])
    r = run_dendrite.just("register-user", name, password, "no", "--check", "--diff", secrets=[password])
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 1
    assert re.search(r'"before": \{\s*"admin": true,\s*"exists": true', r.stdout), r.stdout
    assert re.search(r'"after": \{\s*"admin": false,\s*"exists": true', r.stdout), r.stdout
    assert dendrite.is_admin(name, password) is True


def test_without_the_database_promotion_fails_clearly(dendrite, run_dendrite, name):
    password = "no-database-Password"
    params = run_dendrite.connection(username=name, password=password, admin=False, dendrite_database=None)
    result = run_dendrite.module(params, secrets=[password])
    assert result["changed"] is True and result["admin"] is False

    # The password logs in, so the flag is known without the database: nothing to do.
    assert run_dendrite.module(params, secrets=[password])["changed"] is False

    params["admin"] = True
    result = run_dendrite.module(params, secrets=[password])
    assert result.get("failed") is True
    assert "dendrite_database" in result["msg"] and "promoting" in result["msg"], result["msg"]
    assert dendrite.is_admin(name, password) is False


def test_update_password_always(dendrite, run_dendrite, name):
    old, new = "old-Password-dendrite", "new-Password-dendrite"
    run_dendrite.module(run_dendrite.connection(username=name, password=old), secrets=[old])
    result = run_dendrite.module(run_dendrite.connection(username=name, password=new, update_password="always"),
                                 secrets=[new])
    assert result["changed"] is True and result["password_changed"] is True
    assert dendrite.can_log_in(name, new) and not dendrite.can_log_in(name, old)
    result = run_dendrite.module(run_dendrite.connection(username=name, password=new, update_password="always"),
                                 secrets=[new])
    assert result["changed"] is False


def test_dendrite_rules_are_checked_before_any_request(dendrite, run_dendrite, name):
    short = "7-bytes"
    result = run_dendrite.module(run_dendrite.connection(username=name, password=short), secrets=[short])
    assert result.get("failed") is True
    assert "password" in result["msg"] and "8 to 72 bytes" in result["msg"], result["msg"]
    assert not dendrite.exists(name)

    # Dendrite would answer 200 to a longer one without creating the account.
    long_password = "p" * 73
    result = run_dendrite.module(run_dendrite.connection(username=name, password=long_password),
                                 secrets=[long_password])
    assert result.get("failed") is True and "8 to 72 bytes" in result["msg"], result["msg"]
    assert not dendrite.exists(name)

    # "@" + 242 + ":example.com" = 255 bytes: fine for Synapse, one too many for Dendrite.
    long_name = "a" * 242
    password = "long-name-Password"
    result = run_dendrite.module(run_dendrite.connection(username=long_name, password=password), secrets=[password])
    assert result.get("failed") is True
    assert "254" in result["msg"] and "`username`" in result["msg"], result["msg"]


def test_a_list_uses_the_database_listing(dendrite, run_dendrite, name):
    users = [{"username": f"{name}-{i}", "password": f"list-Password-{i}", "admin": i % 2 == 0} for i in range(12)]
    secrets = [u["password"] for u in users]
    result = run_dendrite.module(run_dendrite.connection(users=users), secrets=secrets)
    assert result["totals"]["created"] == 12, result
    users[1]["admin"] = True
    again = run_dendrite.module(run_dendrite.connection(users=users), secrets=secrets)
    states = {state: 0 for state in ("locked", "unlocked", "deactivated", "erased", "reactivated")}
    assert again["totals"] == {"created": 0, "promoted": 1, "demoted": 0, "password_changed": 0, "displayname_set": 0, **states,
                               "unchanged": 11, "failed": 0}
    assert dendrite.is_admin(f"{name}-1", "list-Password-1") is True


def test_the_command_line_tool_promotes_with_the_database_file(dendrite, run_dendrite, name, tmp_path):
    database_file = tmp_path / "database"
    database_file.write_text(dendrite.database)
    password = "cli-Password-dendrite"
    flags = [*run_dendrite.cli_connection(), "--backend=dendrite", f"--dendrite-database-file={database_file}"]
    env = {"MATRIX_USER_PASSWORD": password}
    r = run_dendrite.cli("register", name, "--admin", "no", *flags, env=env, secrets=[password])
    assert r.returncode == 0, r.output
    r = run_dendrite.cli("register", name, "--admin", "yes", *flags, env=env, secrets=[password])
    assert r.returncode == 0 and "promoted" in r.stdout, r.output
    assert dendrite.is_admin(name, password) is True


def test_exact_mode_is_refused_changing_nothing(dendrite, run_dendrite, name):
    """Dendrite has no listing of every account here (and cannot lock one, nor deactivate one
    without its password): exact mode fails before any change, the listed user not created."""
    password = "dendrite-Exact-77"
    users = [{"username": name, "password": password}]
    result = run_dendrite.module(run_dendrite.connection(users=users, exclusive=True), secrets=[password])
    assert result["failed"] and not result["changed"], result
    assert "exact mode needs a listing of every account" in result["msg"], result["msg"]
    assert not dendrite.can_log_in(name, password)
