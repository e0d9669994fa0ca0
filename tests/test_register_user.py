"""`just register-user` and `ansible-playbook --tags=register-user` against a real Synapse."""

import json
import re

import pytest

HOSTILE_PASSWORDS = [
    "it's \"$HOME\" x",
    "`id`",
    "a;b#c=d",
    "-x",
    "\\n",
    "pässwörd✓",
    "{{ lookup('env', 'HOME') }}",
    "p" * 100,
]


def test_create_rerun_demote_promote(synapse, run, name):
    password = "it's \"$HOME\" x"

    r = run.just("register-user", name, password, "yes", secrets=[password])
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 1
    assert synapse.is_admin(name) is True
    assert synapse.can_log_in(name, password)

    r = run.just("register-user", name, password, "yes", secrets=[password])
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 0
    assert "is already as wanted" in r.stdout

    r = run.just("register-user", name, password, "no", secrets=[password])
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 1
    assert synapse.is_admin(name) is False
    assert synapse.can_log_in(name, password)

    r = run.just("register-user", name, password, "yes", secrets=[password])
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 1
    assert synapse.is_admin(name) is True
    assert synapse.can_log_in(name, password)


@pytest.mark.parametrize("password", HOSTILE_PASSWORDS, ids=range(len(HOSTILE_PASSWORDS)))
def test_passwords_reach_the_server_byte_for_byte(synapse, run, name, password):
    r = run.just("register-user", name, password, "no", secrets=[password])
    assert r.returncode == 0, r.output
    assert synapse.can_log_in(name, password)
    # Changed at the front: bcrypt ignores what comes after 72 bytes.
    assert not synapse.can_log_in(name, "x" + password)


def test_playbook_with_key_value_extra_vars(synapse, run, name):
    password = "simple-Secret-123"
    r = run.playbook(f"--extra-vars=username={name} password={password} admin=yes", "--tags=register-user",
                     secrets=[password])
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 1
    assert synapse.is_admin(name) is True
    assert synapse.can_log_in(name, password)

    r = run.playbook(f"--extra-vars=username={name} password={password} admin=yes", "--tags=register-user",
                     secrets=[password])
    assert r.recap()["changed"] == 0


def test_playbook_with_json_extra_vars(synapse, run, name):
    password = "a;b#c=d it's `x` \\n ✓"
    extra = json.dumps({"username": name, "password": password, "admin": "no"})
    r = run.playbook("--extra-vars", extra, "--tags=register-user", secrets=[password])
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 1
    assert synapse.is_admin(name) is False
    assert synapse.can_log_in(name, password)


def test_check_mode_creates_nothing(synapse, run, name):
    password = "check-mode-pw"
    r = run.just("register-user", name, password, "yes", "--check", secrets=[password])
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 1
    assert "would create" in r.stdout
    assert synapse.user(name) is None


def test_check_diff_shows_a_demotion_and_changes_nothing(synapse, run, name):
    password = "diff-mode-pw"
    synapse.create(name, password, admin=True)
    r = run.just("register-user", name, password, "no", "--check", "--diff", secrets=[password])
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 1
    assert re.search(r'"before": \{\s*"admin": true,\s*"exists": true', r.stdout), r.stdout
    assert re.search(r'"after": \{\s*"admin": false,\s*"exists": true', r.stdout), r.stdout
    assert synapse.is_admin(name) is True


@pytest.mark.parametrize(
    "username, password, admin, message",
    [
        ("", "pw-12345678", "yes", "The `username` variable needs to be provided"),
        ("<your-username>", "pw-12345678", "yes", "The `username` variable needs to be provided"),
        ("{name}", "", "yes", "The `password` variable needs to be provided"),
        ("{name}", "<your-password>", "yes", "The `password` variable needs to be provided"),
        ("{name}", "pw-12345678", "maybe", "The `admin` variable needs to be provided"),
        ("{name}", "pw-12345678", "", "The `admin` variable needs to be provided"),
    ],
)
def test_bad_extra_vars_fail_with_the_playbooks_message(synapse, run, name, username, password, admin, message):
    r = run.just("register-user", username.format(name=name), password, admin, secrets=[password] if password else [])
    assert r.returncode != 0
    assert message in r.output
    assert synapse.user(name) is None


@pytest.mark.parametrize(
    "username, expected",
    [
        ("bad name", "may only contain a-z, 0-9"),
        ("bad#name", "may only contain a-z, 0-9"),
        ("_bot", "must not begin with an underscore"),
        ("12345", "must not be all digits"),
        ("a" * 243, "the homeserver allows at most 255"),
        ("@someone:other.org", "names a user of other.org"),
    ],
)
def test_invalid_usernames_are_refused_before_any_request(synapse, run, username, expected):
    password = "pw-for-invalid-name"
    r = run.just("register-user", username, password, "no", secrets=[password])
    assert r.returncode != 0
    assert "parameter `username`" in r.output and expected in r.output, r.output
