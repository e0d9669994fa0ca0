"""Hostile input end to end: user names made of URL syntax, arguments of the wrong shape or type,
unknown parameters and odd secret files. Each is either done right or refused with a message that
names what to fix, before any request (the fault proxy in front of the real Synapse counts them).

The property tests (crates/*/…/hostile_input.rs, crates/ansible-module/tests/hostile_args.rs)
throw generated input at the same code; these tests check the real server's side."""

import json
import os
import subprocess
import urllib.parse

import pytest

from conftest import BINARY
from faultproxy import FaultProxy


@pytest.fixture
def proxy(synapse):
    with FaultProxy(synapse.url).start() as proxy:
        yield proxy


def through(run, proxy, **params):
    return run.connection(homeserver_url=proxy.url, **params)


@pytest.mark.parametrize("bad", ["%2F", "%", "?", "#", "@", ":", " ", "\\", "\n", "é"])
def test_url_syntax_in_a_username_is_refused_before_any_request(synapse, run, proxy, name, bad):
    password = "hostile-Password-1"
    username = f"{name}{bad}x"
    result = run.module(through(run, proxy, username=username, password=password), secrets=[password])
    assert result["failed"] is True and result["changed"] is False
    assert "parameter `username`" in result["msg"] and "may only contain" in result["msg"], result["msg"]
    assert proxy.log == []
    assert synapse.user(name) is None


def test_a_full_user_id_of_another_server_is_refused_before_any_request(run, proxy, name):
    password = "hostile-Password-2"
    for username in (f"@{name}:other.org", f"@{name}:example.com:8448", f"@{name}:example.com/x", f"@{name}"):
        result = run.module(through(run, proxy, username=username, password=password), secrets=[password])
        assert result["failed"] is True and "parameter `username`" in result["msg"], result["msg"]
    assert proxy.log == []


@pytest.mark.parametrize("shape", ["{n}/..", "../{n}", "{n}/../../admin", "./{n}/.", "{n}/%", "{n}+a=b/c"])
def test_slashes_and_dots_reach_the_server_as_one_user(synapse, run, proxy, name, shape):
    """Allowed characters that mean something in a path: the server sees exactly this user, in
    every request (one escaped path segment), and no other account is touched."""
    localpart = shape.format(n=name)
    password = "hostile-Password-3"
    params = through(run, proxy, username=localpart, password=password, admin=True)
    result = run.module(params, secrets=[password])
    if "%" in localpart:
        assert result["failed"] is True and "parameter `username`" in result["msg"]
        assert proxy.log == []
        return
    assert result.get("failed") is not True, result["msg"]
    assert result["changed"] is True and result["user_id"] == synapse.user_id(localpart)
    assert synapse.is_admin(localpart) and synapse.can_log_in(localpart, password)
    segment = urllib.parse.quote(synapse.user_id(localpart), safe="")
    user_paths = [e.path for e in proxy.log if e.path.startswith("/_synapse/admin/v")]
    assert user_paths and all(segment in path for path in user_paths if "/users/" in path), user_paths
    for entry in proxy.log:
        assert "/../" not in entry.path and "/./" not in entry.path and not entry.path.endswith("/.."), entry.path
    # `{n}/..` is not `{n}`'s parent, nor `../{n}` `{n}` itself.
    assert synapse.user(name) is None
    assert run.module(params, secrets=[password])["changed"] is False


def test_bad_names_in_a_list_fail_alone_and_send_nothing_for_them(synapse, run, proxy, name):
    password = "hostile-Password-4"
    users = [
        {"username": f"{name}?x", "password": password},
        {"username": f"{name}-ok", "password": password},
        {"username": f"{name}#x", "password": password},
        {"username": f"{name}%2fx", "password": password},
    ]
    result = run.module(through(run, proxy, users=users), secrets=[password])
    assert result["failed"] is True and result["changed"] is True
    assert [u.get("failed", False) for u in result["users"]] == [True, False, True, True]
    assert "users[0].username" in result["users"][0]["msg"]
    assert synapse.can_log_in(f"{name}-ok", password)
    for entry in proxy.log:
        path = urllib.parse.unquote(entry.path)
        assert not any(name + bad in path for bad in "?#%"), entry.path


@pytest.mark.parametrize("text", ["[]", '"username"', "3", "null", "true", '[{"_ansible_check_mode": true}]'])
def test_args_that_are_not_an_object_are_a_usage_error(tmp_path, text):
    path = tmp_path / "args"
    path.write_text(text)
    out = subprocess.run([BINARY, path], capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and out.stdout == ""
    assert "not an Ansible args file" in out.stderr


def test_deeply_nested_args_are_refused_without_a_crash(tmp_path):
    path = tmp_path / "args"
    path.write_text('{"_ansible_check_mode": true, "users": ' + "[" * 100_000 + "]" * 100_000 + "}")
    out = subprocess.run([BINARY, path], capture_output=True, text=True, timeout=30)
    assert out.returncode == 2, out
    assert out.stdout == "" and "not an Ansible args file" in out.stderr


@pytest.mark.parametrize(
    "params, says",
    [
        ({"username": ["a"]}, "parameter `username`: expected a string, got a list"),
        ({"password": {"a": 1}}, "parameter `password`: expected a string, got an object"),
        ({"admin": {}}, "parameter `admin`: expected a boolean"),
        ({"admin": 2}, "parameter `admin`: expected a boolean"),
        ({"validate_certs": "perhaps"}, "parameter `validate_certs`: expected a boolean"),
        ({"timeout": -1}, "parameter `timeout`: expected a number of seconds"),
        ({"wait_timeout": [1]}, "parameter `wait_timeout`: expected a number of seconds"),
        ({"backend": 1}, "parameter `backend`: expected one of synapse, dendrite, mas"),
        ({"state": "absent"}, "parameter `state`: expected one of present"),
        ({"server_name": "example.com/x"}, "parameter `server_name`: must be a domain"),
        ({"users": {"username": "a"}}, "parameter `users`: expected a list, got an object"),
        ({"users": [3], "username": None, "password": None}, "parameter `users[0]`: expected an object, got a number"),
        (
            {
                "users": [{"username": "x", "password": "y-Password", "admin": "maybe"}],
                "username": None,
                "password": None,
            },
            "parameter `users[0].admin`: expected a boolean",
        ),
        ({"concurrency": 0, "users": [], "username": None, "password": None}, "parameter `concurrency`"),
    ],
)
def test_wrong_types_name_the_parameter_before_any_request(synapse, run, proxy, name, params, says):
    password = "hostile-Password-5"
    full = through(run, proxy, **{"username": name, "password": password, **params})
    result = run.module(full, secrets=[password])
    text = result["msg"] + json.dumps(result.get("users", []))
    assert result["failed"] is True and result["changed"] is False
    assert says in text, text
    assert proxy.log == []
    assert synapse.user(name) is None


def test_unknown_parameters_are_all_named(run, proxy, name):
    password = "hostile-Password-6"
    secretish = "hostile-Password-6-typo"
    full = through(run, proxy, username=name, password=password, admn=True, pasword=secretish, colour="red")
    result = run.module(full, secrets=[password, secretish])
    assert result["failed"] is True
    assert result["msg"].startswith("unsupported parameters: admn, colour, pasword; supported: "), result["msg"]
    assert "username" in result["msg"].split("supported: ")[1]
    # A misspelt secret is still a secret: masked in `invocation`.
    assert result["invocation"]["module_args"]["pasword"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert proxy.log == []


def test_unknown_fields_of_a_list_item_are_named(synapse, run, proxy, name):
    password = "hostile-Password-7"
    users = [{"username": name, "password": password, "colour": "red"}, {"username": name + "-b", "password": password}]
    result = run.module(through(run, proxy, users=users), secrets=[password])
    assert result["users"][0]["failed"] is True
    assert "unsupported parameter: users[0].colour" in result["users"][0]["msg"], result["users"][0]["msg"]
    assert synapse.user(name) is None and synapse.can_log_in(name + "-b", password)


@pytest.mark.parametrize("kind", ["/dev/zero", "directory", "huge", "not utf-8", "empty", "fifo"])
def test_odd_secret_files_are_refused_clearly(run, proxy, name, tmp_path, kind):
    password = "hostile-Password-8"
    path = {"/dev/zero": "/dev/zero", "directory": str(tmp_path)}.get(kind, str(tmp_path / "secret"))
    if kind == "huge":
        (tmp_path / "secret").write_text("x" * (1 << 20))
    elif kind == "not utf-8":
        (tmp_path / "secret").write_bytes(b"\xff\xfe secret")
    elif kind == "empty":
        (tmp_path / "secret").write_text(" \n")
    elif kind == "fifo":
        # Nothing writes to it: read as empty at once, where opening it used to wait for ever.
        os.mkfifo(tmp_path / "secret")
    full = through(run, proxy, username=name, password=password, registration_shared_secret_file=path)
    result = run.module(full, secrets=[password])
    assert result["failed"] is True
    assert result["msg"].startswith("parameter `registration_shared_secret_file`: "), result["msg"]
    assert proxy.log == []


def test_ca_path_of_dev_zero_is_refused_clearly(run, proxy, name):
    password = "hostile-Password-9"
    full = through(run, proxy, username=name, password=password, ca_path="/dev/zero")
    result = run.module(full, secrets=[password])
    assert result["failed"] is True and "cannot read ca_path /dev/zero" in result["msg"], result["msg"]
    assert proxy.log == []
