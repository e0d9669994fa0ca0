"""Directory-sized runs against a real Synapse: a few hundred users from a CSV or YAML file the
binary reads itself (`users_file`, `matrix-user ensure FILE`), checked as their operator would:
the accounts exist with their flags, log in with their passwords, and a second run changes
nothing."""

import csv
import io
import json
import secrets
import tempfile
import uuid
from pathlib import Path

import pytest
import yaml
from conftest import Synapse, make_runner

USERS = 300
# Every 25th user is an admin; some passwords hold what CSV must quote.
ADMIN_EVERY = 25


@pytest.fixture(scope="module")
def server():
    """This file's own Synapse, so that its accounts are the ones these tests made."""
    with Synapse(Path(tempfile.mkdtemp(prefix="matrix-user-directory-")) / "synapse") as synapse:
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


def test_users_and_users_file_are_not_both_given(run, tmp_path, name):
    users_file = write_csv(tmp_path / "people.csv", [{"username": name, "password": "pw-" + name, "admin": False}])
    result = run.module(run.connection(users_file=str(users_file), users=[{"username": name, "password": "x" * 9}]))
    assert result["failed"] and "set either `users` or `users_file`, not both" in result["msg"], result["msg"]
