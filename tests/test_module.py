"""The `matrix_user` module binary run as Ansible runs it: an args file in, one JSON result out."""

import time

import pytest

from conftest import free_port


def test_create_then_no_change(synapse, run, name):
    password = "first-Password-1"
    result = run.module(run.connection(username=name, password=password, admin=True), secrets=[password])
    assert result["changed"] is True, result
    assert result["created"] is True
    assert result["admin"] is True
    assert result["user_id"] == synapse.user_id(name)
    assert synapse.is_admin(name) and synapse.can_log_in(name, password)

    result = run.module(run.connection(username=name, password=password, admin="yes"), secrets=[password])
    assert result["changed"] is False, result
    assert result["created"] is False
    assert result["password_changed"] is False


def test_invocation_masks_every_secret(synapse, run, name):
    password = "masked-Password-2"
    params = run.connection(
        username=name,
        password=password,
        admin=False,
        registration_shared_secret=synapse.shared_secret,
        registration_shared_secret_file=None,
        admin_access_token=synapse.admin_token,
        admin_access_token_file=None,
    )
    result = run.module(params, secrets=[password])
    args = result["invocation"]["module_args"]
    for key in ("password", "registration_shared_secret", "admin_access_token"):
        assert args[key] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert args["username"] == name
    assert result["changed"] is True


def test_update_password_always_changes_only_when_different(synapse, run, name):
    old, new = "old-Password-3", "new-Password-3"
    run.module(run.connection(username=name, password=old), secrets=[old])

    result = run.module(run.connection(username=name, password=new), secrets=[new])
    assert result["changed"] is False, "on_create must leave the password alone"
    assert synapse.can_log_in(name, old)

    result = run.module(run.connection(username=name, password=new, update_password="always"), secrets=[new], diff=True)
    assert result["changed"] is True and result["password_changed"] is True
    assert result["diff"]["after"]["password"] == "changed"
    assert synapse.can_log_in(name, new) and not synapse.can_log_in(name, old)

    result = run.module(run.connection(username=name, password=new, update_password="always"), secrets=[new])
    assert result["changed"] is False and result["password_changed"] is False


def test_check_mode_predicts_without_writing(synapse, run, name):
    password = "check-Password-4"
    result = run.module(run.connection(username=name, password=password, admin=True), secrets=[password], check_mode=True)
    assert result["changed"] is True and result["created"] is True
    assert synapse.user(name) is None

    synapse.create(name, password, admin=False)
    params = run.connection(username=name, password="other-Password-4", admin=True, update_password="always")
    result = run.module(params, secrets=["other-Password-4"], check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["diff"] == {
        "before": {"exists": True, "admin": False},
        "after": {"exists": True, "admin": True, "password": "changed"},
    }
    assert synapse.is_admin(name) is False and synapse.can_log_in(name, password)


def test_wrong_shared_secret_creates_nothing(synapse, run, name):
    password, wrong = "some-Password-5", "not-the-real-shared-secret"
    params = run.connection(
        username=name, password=password, registration_shared_secret=wrong, registration_shared_secret_file=None
    )
    result = run.module(params, secrets=[password, wrong])
    assert result.get("failed") is True
    assert "registration_shared_secret does not match" in result["msg"]
    assert synapse.user(name) is None


def test_unreachable_homeserver_fails_within_wait_timeout(run, name):
    password = "some-Password-6"
    params = run.connection(homeserver_url=f"http://127.0.0.1:{free_port()}", username=name, password=password)
    params["wait_timeout"] = 2
    started = time.monotonic()
    result = run.module(params, secrets=[password])
    elapsed = time.monotonic() - started
    assert result.get("failed") is True
    assert "cannot reach the homeserver" in result["msg"] and "wait_timeout" in result["msg"]
    assert 1.5 < elapsed < 10, elapsed


def test_without_admin_token(synapse, run, name):
    password = "no-token-Password-7"
    no_token = dict(admin_access_token_file=None)

    result = run.module(run.connection(username=name, password=password, admin=False, **no_token), secrets=[password])
    assert result["changed"] is True and result["created"] is True
    assert synapse.is_admin(name) is False

    # The password logs in, so the account and its flag are verified by that login.
    result = run.module(run.connection(username=name, password=password, admin=False, **no_token), secrets=[password])
    assert result["changed"] is False, result

    result = run.module(run.connection(username=name, password=password, admin=True, **no_token), secrets=[password])
    assert result.get("failed") is True
    assert "admin_access_token" in result["msg"] and "promoting" in result["msg"]
    assert synapse.is_admin(name) is False

    # Another password: nothing about the account can be verified.
    other = "other-Password-7"
    result = run.module(run.connection(username=name, password=other, admin=False, **no_token), secrets=[other])
    assert result.get("failed") is True
    assert "admin_access_token" in result["msg"]
    assert synapse.can_log_in(name, password)

    result = run.module(
        run.connection(username=name + "-new", password=other, **no_token), secrets=[other], check_mode=True
    )
    assert result.get("failed") is True and "admin_access_token" in result["msg"]
    assert synapse.user(name + "-new") is None


@pytest.mark.parametrize(
    "params, field",
    [
        ({"admin": "maybe"}, "admin"),
        ({"update_password": "sometimes"}, "update_password"),
        ({"username": ""}, "username"),
        ({"password": ""}, "password"),
        ({"password": "a\u0000b"}, "password"),
        ({"password": "p" * 513}, "password"),
        ({"timeout": "soon"}, "timeout"),
        ({"backend": "conduit"}, "backend"),
        ({"homeserver_url": "127.0.0.1:8008"}, "homeserver_url"),
        ({"pasword": "x"}, "pasword"),
        ({"registration_shared_secret": "x"}, "registration_shared_secret"),
        ({"admin_access_token_file": "/nonexistent/token"}, "admin_access_token_file"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(synapse, run, name, params, field):
    password = "bad-input-Password-8"
    full = run.connection(**{"username": name, "password": password, **params})
    result = run.module(full, secrets=[password, "a\u0000b", "p" * 513])
    assert result.get("failed") is True
    assert f"`{field}`" in result["msg"] or f"parameter: {field}" in result["msg"], result["msg"]
    assert synapse.user(name) is None


def test_args_file_that_is_not_an_object(run, tmp_path):
    """Module mode needs what Ansible always writes: a JSON object with `_ansible_*` keys. Any other
    lone file is refused as a usage error (exit 2), never run as module arguments."""
    import json
    import subprocess

    from conftest import BINARY

    path = tmp_path / "args"
    path.write_text("[1, 2]")
    out = subprocess.run([BINARY, path], capture_output=True, text=True)
    assert out.returncode == 2 and out.stdout == ""
    assert "not an Ansible args file" in out.stderr and f"matrix-user ensure {path}" in out.stderr

    path.write_text(json.dumps({"_ansible_check_mode": True, "users": 3}))
    out = subprocess.run([BINARY, path], capture_output=True, text=True)
    result = json.loads(out.stdout)
    assert result["failed"] is True and "parameter `users`: expected a list" in result["msg"]
    assert out.returncode == 1


def test_waits_for_a_homeserver_that_is_still_starting(synapse, run, name):
    """The port opens 2 s after the module starts (a plain TCP relay to the real Synapse)."""
    import socket
    import threading
    import urllib.parse

    target = urllib.parse.urlsplit(synapse.url)
    port = free_port()
    stop = threading.Event()

    def pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            b.close()

    def relay():
        time.sleep(2)
        with socket.socket() as server:
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind(("127.0.0.1", port))
            server.listen()
            server.settimeout(0.2)
            while not stop.is_set():
                try:
                    client, _ = server.accept()
                except socket.timeout:
                    continue
                upstream = socket.create_connection((target.hostname, target.port))
                threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
                threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()

    thread = threading.Thread(target=relay, daemon=True)
    thread.start()
    password = "waiting-Password-9"
    try:
        params = run.connection(homeserver_url=f"http://127.0.0.1:{port}", username=name, password=password)
        params["wait_timeout"] = 20
        started = time.monotonic()
        result = run.module(params, secrets=[password])
        assert result["changed"] is True, result
        assert time.monotonic() - started >= 2
    finally:
        stop.set()
        thread.join()
    assert synapse.can_log_in(name, password)


def test_simultaneous_runs_for_one_new_user_create_it_once(synapse, run, name, tmp_path):
    """8 runs at once: exactly one creates the user, all succeed, the account is as asked."""
    import json
    import subprocess

    from conftest import BINARY, assert_no_secret

    password = "race-Password-10"
    args = tmp_path / "race-args"
    args.write_text(json.dumps(dict(run.connection(username=name, password=password, admin=True), _ansible_check_mode=False)))
    procs = [subprocess.Popen([BINARY, args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(8)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert_no_secret(out + err, [password, *synapse.secrets])
        results.append(json.loads(out))
    assert [r.get("failed", False) for r in results] == [False] * 8, [r["msg"] for r in results]
    assert sum(r["created"] for r in results) == 1, [r["msg"] for r in results]
    assert synapse.is_admin(name) and synapse.can_log_in(name, password)
