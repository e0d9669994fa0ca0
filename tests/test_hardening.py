"""A hostile or broken server, a careless operator, a local user: what none of them can make the
tool do. Servers that misbehave on purpose are `Scripted` fakes on 127.0.0.1; the rest is a real
Synapse, behind tests/faultproxy.py where a fault is needed. docs/security.md names each test."""

import base64
import json
import os
import socket
import subprocess
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import BINARY, assert_no_secret, make_runner
from faultproxy import FaultProxy

LOGIN = "/_matrix/client/v3/login"


class Scripted:
    """A fake server on 127.0.0.1. `answer(method, path, headers, body)` gives (status, content
    type, body): bytes, or an iterator of chunks sent with chunked encoding (an endless body is
    cut off after `stream_max` bytes or when the client goes). Every request is recorded."""

    stream_max = 64 * 1024 * 1024

    def __init__(self, answer):
        self.requests = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_one(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fake.requests.append((self.command, self.path, dict(self.headers), body))
                status, kind, content = answer(self.command, self.path, self.headers, body)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                if isinstance(content, bytes):
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    self.wfile.write(content)
                    return
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                sent = 0
                try:
                    for chunk in content:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        sent += len(chunk)
                        if sent > fake.stream_max:
                            break
                except OSError:
                    pass
                self.close_connection = True

            do_GET = do_POST = do_PUT = handle_one

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def paths(self, method=None):
        return [path for m, path, _, _ in self.requests if method in (None, m)]


class Trap:
    """A listener that answers nothing and counts who connects: a proxy or a host that must not
    receive anything."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.received = b""
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.settimeout(1)
            try:
                self.received += conn.recv(65536)
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            except OSError:
                pass
            conn.close()

    def stop(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()


class FakeTarget:
    """What make_runner needs of a server: its URL, its secrets and the parameters that reach it."""

    def __init__(self, url, secrets=(), **params):
        self.url = url
        self.secrets = list(secrets)
        self.module_params = {"homeserver_url": url, "server_name": "example.com", **params}


@pytest.fixture
def scripted():
    started = []

    def start(answer):
        server = Scripted(answer)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def as_json(status, body):
    return status, "application/json", json.dumps(body).encode()


NOT_FOUND = (404, "application/json", b'{"errcode": "M_NOT_FOUND", "error": "no"}')


def mas_params(url, secret, name="someone"):
    return {
        "backend": "mas",
        "mas_url": url,
        "mas_client_id": "01JCLIENT",
        "mas_client_secret": secret,
        "server_name": "example.com",
        "username": name,
        "password": "user-Password-77",
        "wait_timeout": 2,
        "timeout": 5,
    }


# -- 1. MAS discovery cannot send the client secret elsewhere ---------------------------------


@pytest.mark.parametrize("endpoint", ["@127.0.0.1:{trap}/oauth2/token", ".localhost:{trap}/token", "//127.0.0.1:{trap}/t"])
def test_discovery_cannot_send_the_client_secret_elsewhere(scripted, tmp_path, endpoint):
    trap = Trap()
    secret = "client-Secret-" + uuid.uuid4().hex[:8]

    def answer(method, path, headers, body):
        if path == "/.well-known/openid-configuration":
            return as_json(200, {"token_endpoint": endpoint.format(trap=trap.port)})
        return NOT_FOUND

    mas = scripted(answer)
    try:
        run = make_runner(FakeTarget(mas.url, [secret]), tmp_path)
        result = run.module(mas_params(mas.url, secret), secrets=[secret])
    finally:
        trap.stop()
    assert result.get("failed") is True and "token_endpoint" in result["msg"], result
    assert trap.connections == 0
    assert not any("Authorization" in headers for _, _, headers, _ in mas.requests)


def test_a_token_endpoint_on_another_origin_is_used_by_path_on_mas_url(scripted, tmp_path):
    trap = Trap()
    secret = "client-Secret-" + uuid.uuid4().hex[:8]

    def answer(method, path, headers, body):
        if path == "/.well-known/openid-configuration":
            return as_json(200, {"token_endpoint": f"http://127.0.0.1:{trap.port}/oauth2/token"})
        return as_json(401, {"error": "invalid_client"})

    mas = scripted(answer)
    try:
        result = make_runner(FakeTarget(mas.url, [secret]), tmp_path).module(mas_params(mas.url, secret))
    finally:
        trap.stop()
    assert result.get("failed") is True and "invalid_client" in result["msg"], result
    assert trap.connections == 0
    assert mas.paths("POST") == ["/oauth2/token"]


# -- 2. an echo of the request is never quoted, in any encoding --------------------------------

PASSWORD = 'pa"ss &w\u00f6rd <x> and-then-many-words tail-words 9'



def echoes():
    """How a server may echo the password it received: (content type, text)."""

    def lower_percent(text):
        quoted = urllib.parse.quote(text, safe="")
        return "".join(part if i == 0 else part[:2].lower() + part[2:] for i, part in enumerate(quoted.split("%")))

    return {
        "html": lambda b: ("text/html", "<p>" + b.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")),
        "form": lambda b: ("text/plain", "got " + urllib.parse.quote_plus(b)),
        "lower-percent": lambda b: ("text/plain", "got " + lower_percent(b)),
        "unicode-escaped": lambda b: ("text/plain", "got " + json.dumps(b)),
        "two-lines": lambda b: ("text/plain", b[: len(b) // 2] + "\n" + b[len(b) // 2 :]),
        "cut-page": lambda b: ("text/plain", "x " * 78 + b),
        "json-error": lambda b: ("application/json", json.dumps({"errcode": "M_UNKNOWN", "error": b})),
    }


@pytest.mark.parametrize("encoding", sorted(echoes()))
def test_an_echoing_server_cannot_print_the_password(scripted, tmp_path, encoding):
    def answer(method, path, headers, body):
        if path == LOGIN:
            kind, text = echoes()[encoding](json.loads(body)["password"])
            return 400, kind, text.encode()
        return NOT_FOUND

    server = scripted(answer)
    shared = "shared-Secret-" + uuid.uuid4().hex[:8]
    run = make_runner(FakeTarget(server.url, [shared], registration_shared_secret=shared), tmp_path)
    params = run.connection(username="john", password=PASSWORD, admin=False, wait_timeout=1)
    result = run.module(params, secrets=[PASSWORD])
    assert result.get("failed") is True, result
    assert LOGIN in server.paths("POST"), "the password never reached the echoing server"
    printed = json.dumps(result)
    for word in PASSWORD.split():
        if len(word) >= 6:
            assert word not in printed, f"a piece of the password ({encoding}) was printed"


# -- 3. tokens the tool obtains or derives are masked -------------------------------------------


def test_the_mas_admin_token_and_the_basic_form_of_the_client_secret_are_masked(scripted, tmp_path):
    secret = "client-Secret-" + uuid.uuid4().hex[:8]
    admin_token = "mas-Admin-Token-" + uuid.uuid4().hex
    basic = base64.b64encode(f"01JCLIENT:{secret}".encode()).decode()
    seen = []

    def answer(method, path, headers, body):
        if path == "/.well-known/openid-configuration":
            return as_json(200, {"token_endpoint": "https://auth.example.com/oauth2/token"})
        if path == "/oauth2/token":
            seen.append(headers["Authorization"])
            if len(seen) == 1:
                return as_json(200, {"access_token": admin_token, "expires_in": 300})
            return as_json(400, {"error": "invalid_request", "error_description": "got " + headers["Authorization"]})
        # Every Admin API call echoes its token; the 401 makes the tool fetch a new one.
        return as_json(401, {"errors": [{"title": "token " + headers.get("Authorization", "")}]})

    server = scripted(answer)
    result = make_runner(FakeTarget(server.url), tmp_path).module(
        mas_params(server.url, secret), secrets=[secret, admin_token, basic, "Basic " + basic]
    )
    assert result.get("failed") is True, result
    assert seen == ["Basic " + basic] * 2, "the fake did not see the Basic form it echoes"


def test_a_login_session_token_is_masked(scripted, tmp_path):
    session = "syt_session_" + uuid.uuid4().hex

    def answer(method, path, headers, body):
        if path == LOGIN:
            return as_json(200, {"access_token": session, "user_id": "@john:example.com", "device_id": "D"})
        if path.startswith("/_synapse/admin/v2/users/"):
            return as_json(500, {"errcode": "M_UNKNOWN", "error": "bad " + headers.get("Authorization", "")})
        if path == "/_matrix/client/v3/logout":
            return as_json(200, {})
        return NOT_FOUND

    server = scripted(answer)
    shared = "shared-Secret-" + uuid.uuid4().hex[:8]
    run = make_runner(FakeTarget(server.url, [shared], registration_shared_secret=shared), tmp_path)
    result = run.module(run.connection(username="john", password="user-Password-77", admin=True), secrets=[session])
    assert result.get("failed") is True, result
    assert "/_matrix/client/v3/logout" in server.paths("POST")


# -- 4. invocation shows no secret, however the parameters are shaped ---------------------------

MALFORMED = {
    "dendrite_database": {
        "backend": "dendrite",
        # Refused before the database setting is read: it must be masked all the same.
        "server_name": "not a domain",
        "dendrite_database": "postgresql://dendrite:db-Pass-{tag}@127.0.0.1:1/dendrite",
        "username": "john",
        "password": "user-Pass-{tag}",
    },
    "users-object": {"users": {"username": "a", "password": "obj-Pass-{tag}"}},
    "users-string": {"users": '[{"username": "a", "password": "str-Pass-{tag}"}]'},
    "users-nested": {"users": [[{"username": "a", "password": "nest-Pass-{tag}"}]]},
    "users-deep": {"users": [{"username": "a", "password": "x-Pass-{tag}", "extra": {"password": "deep-Pass-{tag}"}}]},
    "url-credentials": {"homeserver_url": "http://admin:url-Pass-{tag}@127.0.0.1:1", "username": "a", "password": "p-Pass-{tag}"},
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_invocation_shows_no_secret(tmp_path, case):
    tag = uuid.uuid4().hex[:8]
    params = {
        "homeserver_url": "http://127.0.0.1:1",
        "server_name": "example.com",
        "registration_shared_secret": "shared-Secret-9",
        "wait_timeout": 0,
    }
    params.update(json.loads(json.dumps(MALFORMED[case]).replace("{tag}", tag)))
    run = make_runner(FakeTarget(params["homeserver_url"]), tmp_path)
    result = run.module(params, secrets=[f"Pass-{tag}"])
    assert result.get("failed") is True, result
    assert tag not in json.dumps(result)


# -- 5. loopback traffic never goes through a proxy ---------------------------------------------

PROXY_VARIABLES = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")


def test_loopback_traffic_never_goes_through_a_proxy(synapse, run, name, monkeypatch):
    trap = Trap()
    for variable in PROXY_VARIABLES:
        monkeypatch.setenv(variable, f"http://127.0.0.1:{trap.port}")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    password = "proxy-Password-" + uuid.uuid4().hex[:6]
    try:
        params = run.connection(username=name, password=password, admin=False, update_password="always")
        result = run.module(params, secrets=[password])
        again = run.module(params, secrets=[password])
    finally:
        trap.stop()
    assert result["changed"] is True and result["created"] is True, result
    assert again["changed"] is False, again
    assert synapse.can_log_in(name, password)
    assert trap.connections == 0, "a request to 127.0.0.1 went through the proxy"


def test_other_hosts_follow_the_proxy_variables(tmp_path, monkeypatch):
    """The standard variables still apply elsewhere: the request for a host of another name goes
    to the proxy (which answers 502 here; nothing leaves this machine)."""
    trap = Trap()
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{trap.port}")
    try:
        target = FakeTarget("http://matrix.example.invalid:8008", registration_shared_secret="shared-Secret-9")
        run = make_runner(target, tmp_path)
        result = run.module(run.connection(username="john", password="user-Password-77", wait_timeout=0))
    finally:
        trap.stop()
    assert result.get("failed") is True, result
    assert trap.connections >= 1 and b"matrix.example.invalid" in trap.received


# -- 8. a very short password neither leaks nor mangles the output ------------------------------


def test_a_one_letter_password_does_not_mangle_the_output(synapse, run, name):
    params = run.connection(username=name, password="e", admin=False)
    result = run.module(params)
    assert result["changed"] is True, result
    assert result["user_id"] == f"@{name}:example.com"
    assert f"@{name}:example.com" in result["msg"], result["msg"]
    assert result["invocation"]["module_args"]["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert synapse.can_log_in(name, "e")
    assert run.module(params)["changed"] is False


# -- 9, 10. no endless read, no endless paging ---------------------------------------------------


def endless():
    while True:
        yield b"[" * 65536


def test_an_endless_body_fails_clearly(scripted, tmp_path):
    server = scripted(lambda *request: (200, "application/json", endless()))
    token = "admin-Token-" + uuid.uuid4().hex[:8]
    run = make_runner(FakeTarget(server.url, [token], admin_access_token=token), tmp_path)
    started = time.monotonic()
    result = run.module(run.connection(username="john", password="user-Password-77", timeout=10))
    assert result.get("failed") is True and "larger than 1024 KiB" in result["msg"], result
    assert time.monotonic() - started < 10


def test_a_user_listing_that_never_ends_fails(scripted, tmp_path):
    def answer(method, path, headers, body):
        if path.startswith("/_synapse/admin/v2/users?"):
            return as_json(200, {"users": [{"name": "@a:example.com", "admin": False}], "total": 1000, "next_token": "500"})
        return NOT_FOUND

    server = scripted(answer)
    token = "admin-Token-" + uuid.uuid4().hex[:8]
    run = make_runner(FakeTarget(server.url, [token], admin_access_token=token), tmp_path)
    # Enough users for one page of the listing (5,000 a page) to replace their look-ups.
    users = [{"username": f"u{i}", "password": "user-Password-77"} for i in range(40)]
    result = run.module(run.connection(users=users), check_mode=True)
    assert result.get("failed") is True and "does not end" in result["msg"], result
    assert len([p for p in server.paths("GET") if p.startswith("/_synapse/admin/v2/users?")]) <= 4


# -- 11. absurd numbers are refused, a server's too; no core file -----------------------------


@pytest.mark.parametrize(
    ("parameter", "value"), [("timeout", 1e30), ("wait_timeout", 1e19), ("timeout", 3601), ("concurrency", 10**12)]
)
def test_absurd_numbers_are_refused_naming_the_parameter(run, parameter, value):
    params = run.connection(username="john", password="user-Password-77", **{parameter: value})
    if parameter == "concurrency":
        params["users"] = [{"username": params.pop("username"), "password": params.pop("password")}]
    result = run.module(params)
    assert result.get("failed") is True and f"`{parameter}`" in result["msg"], result


def test_an_absurd_token_lifetime_from_mas_does_not_abort(scripted, tmp_path):
    def answer(method, path, headers, body):
        if path == "/.well-known/openid-configuration":
            return as_json(200, {"token_endpoint": "https://auth.example.com/oauth2/token"})
        if path == "/oauth2/token":
            return as_json(200, {"access_token": "t0ken-" + "x" * 20, "expires_in": 2**64 - 1})
        return as_json(404, {"errors": [{"title": "User not found"}]})

    server = scripted(answer)
    result = make_runner(FakeTarget(server.url), tmp_path).module(
        mas_params(server.url, "client-Secret-1"), check_mode=True
    )
    assert result.get("failed") is not True and result["changed"] is True, result


def test_core_dumps_are_off(scripted, tmp_path):
    release = threading.Event()

    def answer(*request):
        release.wait(20)
        return NOT_FOUND

    server = scripted(answer)
    args = tmp_path / "args"
    args.write_text(
        json.dumps(
            {
                "homeserver_url": server.url,
                "server_name": "example.com",
                "admin_access_token": "admin-Token-1",
                "username": "john",
                "password": "user-Password-77",
                "_ansible_check_mode": True,
            }
        )
    )
    proc = subprocess.Popen([BINARY, args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        limits = Path(f"/proc/{proc.pid}/limits").read_text()
    finally:
        release.set()
        proc.communicate(timeout=30)
    line = next(line for line in limits.splitlines() if line.startswith("Max core file size"))
    assert line.split()[4:6] == ["0", "0"], line


# -- 12. a retried login leaves no session open ---------------------------------------------------


def test_a_login_retried_after_a_lost_answer_leaves_no_session(synapse, run, name):
    password = "login-Password-" + uuid.uuid4().hex[:6]
    synapse.create(name, password, False)
    with FaultProxy(synapse.url).start() as proxy:
        proxy.on("POST", LOGIN, "after_status", status=502)
        params = run.connection(
            homeserver_url=proxy.url, username=name, password=password, admin=False, update_password="always"
        )
        result = run.module(params, secrets=[password])
    assert result.get("failed") is not True and result["changed"] is False, result
    assert [entry.status for entry in proxy.requests("POST", LOGIN)] == [502, 200]
    status, body = synapse.request(
        "GET", f"/_synapse/admin/v2/users/{urllib.parse.quote(synapse.user_id(name))}/devices", token=synapse.admin_token
    )
    assert status == 200 and body["devices"] == [], body


def test_nothing_printed_holds_a_secret_of_these_tests():
    """The forms the scans look for include HTML and lower-case escapes (a check of the checker)."""
    with pytest.raises(AssertionError):
        assert_no_secret("&lt;a&amp;b&gt;", ["<a&b>"])
    with pytest.raises(AssertionError):
        assert_no_secret("x%c3%a4y", ["\u00e4y"])
    assert os.path.exists(BINARY)
