"""A fault-injecting HTTP/1.1 proxy for the tests: it sits between the tool and a real homeserver
on 127.0.0.1, forwards every request, and misbehaves on the requests its rules pick.

    proxy = FaultProxy(synapse.url).start()
    proxy.on("POST", "/_synapse/admin/v1/register", fault="cut")       # next registration: answer cut
    proxy.on(None, "/", times=3, fault="status", status=502)           # next 3 requests: 502, not forwarded
    ...
    proxy.stop()

Faults (each rule applies to the next `times` requests it matches, then is spent):

- `status`: answer `status` (with `body`, `headers`) itself; the request never reaches the server.
- `echo`: answer `status` with the request itself (line, headers and body) as plain text, as a
  misbehaving proxy's error page might: secrets included. `echo_body`: the request's body alone.
- `after_status`: forward the request (the server acts), then answer `status` instead of its answer.
- `cut`: forward; send the answer's head and half its body, then close the connection.
- `drop`: forward; close the connection without answering (the server acted, its answer is lost).
- `reset`: close the connection without forwarding.
- `delay`: wait `seconds` before forwarding (a slow server: it acts late, or never if the client
  has gone by then, as a real one would once it got round to it).
- `slow_answer`: forward at once (the server acts), then wait `seconds` before answering.
- `nonce`: forward, then replace the `nonce` of the answer with one the server never issued (the
  nonce of a server that has restarted since).
- any fault may add `down=seconds`: after the request, the proxy stops listening and closes every
  connection for that long (a restarting server: connections are refused), then listens again.

`tls` (an `ssl.SSLContext` for a server) makes it a TLS-terminating proxy. `log` records each
request as (method, path, what was done, status sent), for the tests to check what the server saw.
Everything stays on 127.0.0.1, and every wait is bounded.
"""

import http.client
import json
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

BOGUS_NONCE = "0" * 64

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "te", "trailer", "upgrade"}

REASONS = {429: "Too Many Requests", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


@dataclass
class Rule:
    method: str | None
    path: str
    fault: str
    times: int
    status: int = 502
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    seconds: float = 0.0
    down: float = 0.0

    def matches(self, method, path):
        return self.times > 0 and (self.method is None or self.method == method) and path.startswith(self.path)


@dataclass
class Entry:
    method: str
    path: str
    action: str
    status: int | None


class FaultProxy:
    def __init__(self, upstream_url, tls=None):
        target = urllib.parse.urlsplit(upstream_url)
        self.upstream = (target.hostname, target.port)
        self.tls = tls
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.log = []
        self.handshake_failures = 0
        self._rules = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._up = threading.Event()
        self._down_until = 0.0
        self._listener = None
        self._clients = set()
        self._thread = None

    # -- control -----------------------------------------------------------------------------

    def start(self, down_for=0.0):
        """Starts serving; with `down_for`, the port first refuses connections for that long."""
        self._down_until = time.monotonic() + down_for
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        if not down_for:
            assert self._up.wait(5), "the fault proxy did not start"
        return self

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(10)
        self._close_clients()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def on(self, method, path, fault, times=1, status=502, body=None, headers=None, seconds=0.0, down=0.0):
        """Adds a rule for the next `times` requests whose method is `method` (None: any) and whose
        path starts with `path`."""
        if body is None:
            body = b"" if status in (502, 503, 504) else b"{}"
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        with self._lock:
            self._rules.append(Rule(method, path, fault, times, status, body, dict(headers or {}), seconds, down))
        return self

    def clear(self):
        with self._lock:
            self._rules.clear()

    def go_down(self, seconds):
        """Refuses connections (and closes open ones) for `seconds`."""
        with self._lock:
            self._down_until = time.monotonic() + seconds
            self._close_listener()
        self._close_clients()

    def requests(self, method=None, path=""):
        """Logged requests, optionally only those of `method` whose path starts with `path`."""
        with self._lock:
            return [e for e in self.log if (method is None or e.method == method) and e.path.startswith(path)]

    # -- serving -----------------------------------------------------------------------------

    def _serve(self):
        while not self._stop.is_set():
            with self._lock:
                if time.monotonic() < self._down_until:
                    self._close_listener()
                elif self._listener is None:
                    listener = socket.socket()
                    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    listener.bind(("127.0.0.1", self.port))
                    listener.listen(64)
                    listener.settimeout(0.05)
                    self._listener = listener
                    self._up.set()
                listener = self._listener
            if listener is None:
                time.sleep(0.02)
                continue
            try:
                client, _ = listener.accept()
            except OSError:
                continue
            with self._lock:
                down = time.monotonic() < self._down_until
            if down:
                client.close()
                continue
            threading.Thread(target=self._connection, args=(client,), daemon=True).start()
        with self._lock:
            self._close_listener()

    def _close_listener(self):
        """Stops listening (called with the lock held): new connections are refused."""
        listener, self._listener = self._listener, None
        if listener is not None:
            self._up.clear()
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()

    def _close_clients(self):
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _connection(self, client):
        client.settimeout(30)
        if self.tls:
            try:
                client = self.tls.wrap_socket(client, server_side=True)
            except (OSError, ValueError):
                with self._lock:
                    self.handshake_failures += 1
                client.close()
                return
        with self._lock:
            self._clients.add(client)
        try:
            reader = client.makefile("rb")
            while not self._stop.is_set():
                request = read_request(reader)
                if request is None:
                    break
                if not self._handle(client, *request):
                    break
        except OSError:
            pass
        finally:
            with self._lock:
                self._clients.discard(client)
            try:
                client.close()
            except OSError:
                pass

    def _rule_for(self, method, path):
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    rule.times -= 1
                    return rule
        return None

    def _record(self, method, path, action, status):
        with self._lock:
            self.log.append(Entry(method, path, action, status))

    def _handle(self, client, method, path, headers, body):
        """Serves one request; False when the connection is to be closed."""
        rule = self._rule_for(method, path)
        fault = rule.fault if rule else "forward"
        try:
            if fault == "status":
                self._record(method, path, fault, rule.status)
                send(client, rule.status, rule.headers, rule.body)
                return True
            if fault == "echo":
                # A misbehaving proxy that quotes the request in its error page, secrets and all.
                head = "".join(f"{k}: {v}\n" for k, v in headers.items())
                echo = f"{method} {path}\n{head}\n".encode() + body
                self._record(method, path, fault, rule.status)
                send(client, rule.status, {"Content-Type": "text/plain"}, echo)
                return True
            if fault == "echo_body":
                self._record(method, path, fault, rule.status)
                send(client, rule.status, {"Content-Type": headers.get("content-type", "text/plain")}, body)
                return True
            if fault == "reset":
                self._record(method, path, fault, None)
                return False
            if fault == "delay" and self._stop.wait(rule.seconds):
                return False
            status, reason, answer_headers, answer = forward(self.upstream, method, path, headers, body)
            if fault == "after_status":
                self._record(method, path, fault, rule.status)
                send(client, rule.status, rule.headers, rule.body)
                return True
            if fault == "drop":
                self._record(method, path, fault, None)
                return False
            if fault == "cut":
                self._record(method, path, fault, status)
                send(client, status, answer_headers, answer, reason, cut=True)
                return False
            if fault == "nonce":
                answer = json.dumps(dict(json.loads(answer), nonce=BOGUS_NONCE)).encode()
            if fault == "slow_answer" and self._stop.wait(rule.seconds):
                return False
            self._record(method, path, fault, status)
            send(client, status, answer_headers, answer, reason)
            return True
        finally:
            if rule and rule.down:
                self.go_down(rule.down)


def read_request(reader):
    """(method, path, headers, body) of the next request, or None at the end of the connection."""
    line = reader.readline(65536)
    while line in (b"\r\n", b"\n"):
        line = reader.readline(65536)
    if not line:
        return None
    method, path, _ = line.decode("latin-1").split(" ", 2)
    headers = {}
    while (line := reader.readline(65536)) not in (b"\r\n", b"\n", b""):
        name, value = line.decode("latin-1").split(":", 1)
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while size := int(reader.readline(65536).split(b";")[0], 16):
            body += reader.read(size)
            reader.readline(65536)
        while reader.readline(65536) not in (b"\r\n", b"\n", b""):
            pass
    else:
        body = reader.read(int(headers.get("content-length", "0")))
    return method, path, headers, body


def forward(upstream, method, path, headers, body):
    """Sends the request to the real server: (status, reason, headers, body)."""
    conn = http.client.HTTPConnection(*upstream, timeout=30)
    try:
        sent = {k: v for k, v in headers.items() if k not in HOP_BY_HOP and k != "host"}
        conn.request(method, path, body=body or None, headers=sent)
        response = conn.getresponse()
        return response.status, response.reason, response.getheaders(), response.read()
    finally:
        conn.close()


def send(client, status, headers, body, reason=None, cut=False):
    """Writes an answer; with `cut`, only its head and half its body."""
    if isinstance(headers, dict):
        headers = list(headers.items())
    head = [f"HTTP/1.1 {status} {reason or REASONS.get(status, 'Answer')}"]
    head += [f"{k}: {v}" for k, v in headers if k.lower() not in HOP_BY_HOP]
    if body and not any(k.lower() == "content-type" for k, _ in headers):
        head.append("Content-Type: application/json" if body[:1] in (b"{", b"[") else "Content-Type: text/plain")
    head.append(f"Content-Length: {len(body)}")
    data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + (body[: len(body) // 2] if cut else body)
    client.sendall(data)
