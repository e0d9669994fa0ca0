"""Directory-sized runs against a real Synapse: a few hundred users from a CSV or YAML file the
binary reads itself (`users_file`, `matrix-user ensure FILE`), checked as their operator would:
the accounts exist with their flags, log in with their passwords, and a second run changes
nothing."""

import csv
import io
import json
import os
import pty
import re
import secrets
import subprocess
import uuid

import pytest
import yaml
from conftest import BINARY, Synapse, assert_no_secret, make_runner, scratch

USERS = 300
# Every 25th user is an admin; some passwords hold what CSV must quote.
ADMIN_EVERY = 25


# The application service of this file's Synapse owns the users whose localparts start so.
APPSERVICE = "bridge_"


@pytest.fixture(scope="module")
def server():
    """This file's own Synapse, so that its accounts are the ones these tests made; with an
    application service registered, as a bridge is."""
    with scratch("matrix-user-directory-") as folder, Synapse(folder / "synapse", appservice=APPSERVICE) as synapse:
        yield synapse


@pytest.fixture
def run(server, tmp_path):
    return make_runner(server, tmp_path)


def directory(count=USERS):
    """A directory of `count` people: username, password, admin."""
    prefix = "d" + uuid.uuid4().hex[:8]
    people = []
    for i in range(count):
        password = secrets.token_urlsafe(12)
        if i % 7 == 0:
            password += ', "quoted"\nline'
        people.append({"username": f"{prefix}-{i:04d}", "password": password, "admin": i % ADMIN_EVERY == 0})
    return people


def write_csv(path, people):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["username", "password", "admin"])
    for person in people:
        writer.writerow([person["username"], person["password"], "yes" if person["admin"] else "no"])
    path.write_text(out.getvalue())
    path.chmod(0o600)
    return path


def write_yaml(path, people):
    path.write_text(yaml.safe_dump({"users": people}))
    path.chmod(0o600)
    return path


def passwords(people):
    return [person["password"] for person in people]


def assert_as_listed(server, people):
    """Every account exists with its admin flag; a sample logs in with its password."""
    for person in people:
        account = server.user(person["username"])
        assert account is not None, f"{person['username']} was not created"
        assert account["admin"] == person["admin"], person["username"]
    for person in people[:: len(people) // 10]:
        assert server.can_log_in(person["username"], person["password"]), person["username"]


def test_a_csv_directory_through_the_module(server, run, tmp_path):
    people = directory()
    users_file = write_csv(tmp_path / "people.csv", people)
    params = run.connection(users_file=str(users_file))

    check = run.module(params, secrets=passwords(people), check_mode=True)
    assert check["changed"] and not check.get("failed"), check["msg"]
    assert check["totals"]["created"] == USERS
    assert server.user(people[0]["username"]) is None, "check mode created a user"

    done = run.module(params, secrets=passwords(people))
    assert done["changed"] and not done.get("failed"), done["msg"]
    assert done["totals"] == check["totals"]
    assert [user["created"] for user in done["users"]] == [True] * USERS
    assert [user["admin"] for user in done["users"]] == [p["admin"] for p in people]
    # The file is named, never its contents.
    assert done["invocation"]["module_args"]["users_file"] == str(users_file)
    assert_as_listed(server, people)

    again = run.module(params, secrets=passwords(people))
    assert not again["changed"] and again["totals"]["unchanged"] == USERS, again["msg"]


def test_a_yaml_directory_through_the_command_line(server, run, tmp_path):
    people = directory()
    users_file = write_yaml(tmp_path / "people.yaml", people)

    check = run.cli("ensure", users_file, "--check", *run.cli_connection(), secrets=passwords(people))
    assert check.returncode == 0, check.stderr
    assert check.stdout.count("would create ") == USERS
    assert check.stdout.splitlines()[-1] == f"{USERS} to create (check mode: nothing was changed)"
    assert server.user(people[0]["username"]) is None

    done = run.cli("ensure", users_file, *run.cli_connection(), secrets=passwords(people))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("created ") == USERS
    # Standard error is no terminal here: no status line.
    assert done.stderr == ""
    assert_as_listed(server, people)

    again = run.cli("ensure", users_file, "--json", *run.cli_connection(), secrets=passwords(people))
    result = json.loads(again.stdout)
    assert again.returncode == 0 and not result["changed"], result["msg"]
    assert result["totals"]["unchanged"] == USERS


@pytest.mark.parametrize(
    "text, place",
    [
        ("username,pasword\n{user},{secret}\n", "line 1, column 2: not a user parameter"),
        ("{user},{secret},yes\n", "line 1, column 1: not a user parameter"),
        ("username,password\n{user},{secret}\n{user}-2,{secret},extra\n", "line 3: has 3 cells, the header 2"),
    ],
)
def test_a_malformed_csv_is_refused_before_any_request(server, run, tmp_path, name, text, place):
    secret = "s3cret-" + secrets.token_hex(8)
    users_file = tmp_path / "people.csv"
    users_file.write_text(text.format(user=name, secret=secret))

    result = run.module(run.connection(users_file=str(users_file)), secrets=[secret])
    assert result["failed"] and result["msg"].startswith(f"parameter `users_file`: {place}"), result["msg"]
    assert name not in result["msg"]

    cli = run.cli("ensure", users_file, *run.cli_connection(), secrets=[secret])
    assert cli.returncode == 2
    assert f"the users file {users_file}: {place}" in cli.stderr, cli.stderr
    assert server.user(name) is None


def test_a_users_file_that_is_a_fifo_is_refused_at_once(run, tmp_path):
    # Nothing ever writes to it: opening it to read would wait for ever (within the runner's 120 s).
    fifo = tmp_path / "people.csv"
    os.mkfifo(fifo)
    result = run.module(run.connection(users_file=str(fifo)))
    assert result["failed"] and result["msg"] == "parameter `users_file`: is not a regular file", result["msg"]
    cli = run.cli("ensure", fifo, *run.cli_connection(), timeout=20)
    assert cli.returncode != 0 and f"the users file {fifo}: is not a regular file" in cli.stderr, cli.stderr


def test_users_and_users_file_are_not_both_given(run, tmp_path, name):
    users_file = write_csv(tmp_path / "people.csv", [{"username": name, "password": "pw-" + name, "admin": False}])
    result = run.module(run.connection(users_file=str(users_file), users=[{"username": name, "password": "x" * 9}]))
    assert result["failed"] and "set either `users` or `users_file`, not both" in result["msg"], result["msg"]


def test_exact_mode_prunes_only_the_unlisted(server, run, tmp_path):
    """Exact mode on a server with accounts the directory does not name: plain ones (pruned),
    an admin, an application service's user and kept ones (spared); the guard, check mode
    against the real run, and a second run."""
    people = directory(30)
    tag = "x" + uuid.uuid4().hex[:8]
    extras = [f"{tag}-extra-{i}" for i in range(5)]
    spared = {"admin": f"{tag}-admin", "kept": f"svc-{tag}-backup", "bridge": f"{APPSERVICE}{tag}"}
    for localpart in extras:
        server.create(localpart, "pw-" + localpart, admin=False)
    server.create(spared["admin"], "pw-" + spared["admin"], admin=True)
    server.create(spared["kept"], "pw-" + spared["kept"], admin=False)
    server.register_appservice_user(spared["bridge"])
    users_file = write_csv(tmp_path / "staff.csv", people)
    # The other tests' users (d...) are kept too: this server is shared within the file.
    exact = {"exclusive": True, "keep": ["d*", f"svc-{tag}-*"]}
    pruned_ids = sorted(server.user_id(localpart) for localpart in extras)

    guarded = run.module(run.connection(users_file=str(users_file), max_changes="4", **exact), passwords(people))
    assert guarded["failed"] and not guarded["changed"], guarded
    assert "would prune 5 of the server's" in guarded["msg"] and "max_changes (4: 4)" in guarded["msg"], guarded["msg"]
    assert server.user(people[0]["username"]) is None, "the guard let a listed user be created"
    assert not any(server.user(localpart)["locked"] for localpart in extras)

    params = run.connection(users_file=str(users_file), max_changes="5", **exact)
    check = run.module(params, passwords(people), check_mode=True)
    assert check["changed"] and not check.get("failed"), check["msg"]
    assert sorted(entry["user_id"] for entry in check["pruned"]) == pruned_ids
    assert check["totals"]["created"] == 30 and check["totals"]["locked"] == 5, check["totals"]
    assert not any(server.user(localpart)["locked"] for localpart in extras), "check mode locked an account"

    done = run.module(params, passwords(people))
    assert done["changed"] and not done.get("failed"), done["msg"]
    assert done["totals"] == check["totals"]
    assert [(e["user_id"], e["changed"]) for e in done["pruned"]] == [(e["user_id"], e["changed"]) for e in check["pruned"]]
    for localpart in extras:
        assert server.user(localpart)["locked"], localpart
        assert server.login(localpart, "pw-" + localpart)[1].get("errcode") == "M_USER_LOCKED", localpart
    for localpart in spared.values():
        account = server.user(localpart)
        assert not account["locked"] and not account["deactivated"], localpart
    assert server.user(spared["bridge"])["appservice_id"], "the bridge user is not an appservice's"
    assert server.can_log_in(spared["kept"], "pw-" + spared["kept"])
    assert_as_listed(server, people)

    again = run.module(params, passwords(people))
    assert not again["changed"] and again["pruned"] == [], again["msg"]
    assert again["totals"]["unchanged"] == 30

    # Listed again, a locked account is unlocked.
    back = [*people, {"username": extras[0], "password": "pw-" + extras[0], "admin": False}]
    write_csv(users_file, back)
    returned = run.module(params, passwords(back))
    assert returned["totals"]["unlocked"] == 1 and returned["pruned"] == [], returned["totals"]
    assert server.can_log_in(extras[0], "pw-" + extras[0])


def test_exact_mode_on_the_command_line(server, run, tmp_path):
    people = directory(3)
    tag = "x" + uuid.uuid4().hex[:8]
    server.create(f"{tag}-gone", "pw-gone-" + tag, admin=False)
    users_file = write_yaml(tmp_path / "staff.yaml", people)
    # Everyone else on this shared server is kept but the one extra.
    args = ["ensure", users_file, "--exact", "--keep", "d*", "--keep", "svc-*", "--keep", "x*-extra-*"]
    args += ["--absent-state", "deactivated", "--max-changes", "1", *run.cli_connection()]

    check = run.cli(*args, "--check", secrets=passwords(people))
    assert check.returncode == 0, check.stderr
    assert f"would deactivate {server.user_id(f'{tag}-gone')}" in check.stdout.splitlines()
    assert server.user(f"{tag}-gone")["deactivated"] is False

    done = run.cli(*args, secrets=passwords(people))
    assert done.returncode == 0, done.stderr
    assert f"deactivated {server.user_id(f'{tag}-gone')}" in done.stdout.splitlines()
    assert server.user(f"{tag}-gone")["deactivated"] is True

    refused = run.cli("ensure", users_file, "--max-changes", "1", *run.cli_connection(), secrets=passwords(people))
    assert refused.returncode == 2 and "--max-changes: applies only with `exclusive: true`" in refused.stderr, refused.stderr


def test_the_role_reads_a_users_file_in_exact_mode(server, run, tmp_path):
    """`just ensure-users` with `matrix_user_users_file` and exact mode: the list is the file, an
    unlisted account is locked, and the task reports what changed."""
    people = directory(12)
    tag = "x" + uuid.uuid4().hex[:8]
    server.create(f"{tag}-left", "pw-left-" + tag, admin=False)
    users_file = write_csv(tmp_path / "staff.csv", people)
    role_vars = {
        "matrix_user_users_file": str(users_file),
        "matrix_user_exclusive": True,
        # Everyone else on this shared server is kept.
        "matrix_user_keep": ["d*", "svc-*", "x*-extra-*", "x*-gone", "x*-admin"],
        "matrix_user_max_changes": "1",
    }
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps(role_vars))

    r = run.just("ensure-users", "--extra-vars", f"@{vars_file}", secrets=passwords(people))
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 1
    assert "12 created, 1 locked" in r.stdout, r.stdout
    assert f"] locked {server.user_id(f'{tag}-left')}" in r.stdout, r.stdout
    assert server.user(f"{tag}-left")["locked"]
    assert_as_listed(server, people)

    r = run.just("ensure-users", "--extra-vars", f"@{vars_file}", secrets=passwords(people))
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 0


def test_a_status_line_on_a_terminal_only(server, run, tmp_path):
    """On a terminal, standard error carries a status line (counts and rate), wiped at the end;
    standard output is the same as without one."""
    people = directory(5)
    users_file = write_yaml(tmp_path / "people.yaml", people)
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [BINARY, "ensure", users_file, *run.cli_connection()],
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
            timeout=120,
            env={k: v for k, v in os.environ.items() if not k.startswith("MATRIX_USER_")},
        )
        os.close(follower)
        follower = None
        terminal = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal's other end is closed: all is read
                break
            if not chunk:
                break
            terminal += chunk
    finally:
        if follower is not None:
            os.close(follower)
        os.close(leader)
    text = terminal.decode()
    assert_no_secret(text + proc.stdout, passwords(people))
    assert proc.returncode == 0, text
    assert re.search(r"matrix-user: \d of 5 users done, [\d,]+/s", text), repr(text)
    assert text.endswith("\r\x1b[K"), repr(text)
    assert proc.stdout.count("created ") == 5 and "\x1b" not in proc.stdout


@pytest.mark.parametrize(
    "extra, field, problem",
    [
        ({"exclusive": True, "username": "{name}", "password": "pw-{name}"}, "exclusive", "applies only with `users`"),
        ({"keep": ["svc-*"]}, "keep", "applies only with `exclusive: true`"),
        ({"exclusive": True, "max_changes": "lots"}, "max_changes", "must be a count (such as 25)"),
        ({"exclusive": True, "max_changes": "150%"}, "max_changes", "must be a count (such as 25)"),
        ({"exclusive": True, "absent_state": "erased"}, "absent_state", "expected one of locked, deactivated"),
    ],
)
def test_exact_mode_settings_are_checked_before_any_request(server, run, tmp_path, name, extra, field, problem):
    users_file = write_csv(tmp_path / "people.csv", [{"username": name, "password": "pw-" + name, "admin": False}])
    params = run.connection(users_file=str(users_file))
    params.update({key: value.format(name=name) if isinstance(value, str) else value for key, value in extra.items()})
    if "username" in extra:
        del params["users_file"]
    result = run.module(params)
    assert result["failed"] and f"`{field}`" in result["msg"] and problem in result["msg"], result["msg"]
    assert server.user(name) is None
