"""A STAND-IN for Matrix Authentication Service (MAS), used only by this repository's tests.

This is NOT MAS. MAS cannot be installed where the tests run, so the MAS backend's end-to-end tests start this
small in-memory HTTP server instead. It imitates what the backend talks to, as described in
the project's CONTRACTS.md (section C) and in MAS's published Admin API description (mas-admin-api.spec.json):

- OpenID discovery (`/.well-known/openid-configuration`) and `POST /oauth2/token` with the client_credentials
  grant, real client authentication (client_secret_basic / client_secret_post), scope `urn:mas:admin`, expiring
  tokens; each grant opens an admin session that stays active until it expires or `POST /oauth2/revoke` ends it;
- the Admin API operations the backend uses: siteConfig, getUserByUsername, getUser, listUsers, createUser,
  setUserPassword, userSetAdmin, lockUser, unlockUser, deactivateUser, reactivateUser, listUserEmails,
  addUserEmail, listCompatSessions, listOAuth2Sessions, and the user registration tokens' (list, add, get,
  update, revoke, unrevoke; `sign_up_with` stands for MAS's sign-up form checking one)
  (anything else under /api/admin/v1 is a 404);
- the compatibility login/logout (`/_matrix/client/v3/login`, `/logout`) used to check a password.

It models what a real MAS v1.22 was seen to do (the project's shared reference MAS-OBSERVED.md):
- the compatibility login's rate limit: `login_burst` attempts at once, then one per `login_interval` seconds
  (MAS's defaults: 3, then 1 per 20 s), answered `429 M_LIMIT_EXCEEDED` with no retry hint;
- a locked user's login answers `401 M_USER_LOCKED` before the password is checked; a deactivated user's fails;
- locking keeps the user's sessions; deactivating ends them and (unless `skip_erase`) asks the homeserver to erase
  the user, which the stand-in only records (`erased`); reactivating leaves a lock in place (the API description);
- with passwords disabled (`password_auth_enabled=False`) set-password is refused and the login answers
  `400 M_UNKNOWN "Invalid login type"`;
- email addresses are matched case-insensitively (filters and "already in use");
- names in an appservice's namespace (`reserved_prefixes`) are refused: 409 "Username is reserved by the
  homeserver";
- with the homeserver down (`homeserver_up=False`) creating a user answers 500; the rest of the Admin API works;
- password strength is zxcvbn's score (the zxcvbn package), refused below `minimum_password_complexity`.

Every Admin API request and response is checked against the API description: a request that does not fit is
answered 400 and recorded in `violations`, a response that does not fit (a stand-in bug) is recorded too.
Unlike MAS it never talks to a homeserver (`homeserver_up` stands for one), scores passwords with the zxcvbn
package (MAS uses a Rust port of the same estimator, so a borderline password may score differently), and keeps
passwords only as salted hashes. It never prints or logs secrets.
The API description is read from $MATRIX_USER_MAS_SPEC, else from the shared reference folder beside the
repository (../shared/reference/mas-admin-api.spec.json).
"""

import base64
import binascii
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
import urllib.parse
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import zxcvbn
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012

# MAS's published Admin API description, kept with the project's shared reference material beside
# the repository (../shared); MATRIX_USER_MAS_SPEC names another copy.
SPEC_PATH = Path(
    os.environ.get(
        "MATRIX_USER_MAS_SPEC",
        Path(__file__).resolve().parents[2] / "shared" / "reference" / "mas-admin-api.spec.json",
    )
)
SPEC_URI = "urn:mas-admin-api-spec"
ADMIN = "/api/admin/v1"
ADMIN_SCOPE = "urn:mas:admin"
PAGE_SIZE = 10  # MAS's default page size (crates/handlers/src/admin/params.rs)
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
USERNAME_CHARS = re.compile(r"[a-z0-9=_\-./+]+")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+")  # stand-in for lettre's address parser: one @, both sides non-empty

_ulid_lock = threading.Lock()
_ulid_last = 0


def new_ulid():
    """A ULID (48-bit millisecond time + 80 random bits), monotonic so that ID order is creation order."""
    global _ulid_last
    with _ulid_lock:
        value = max((int(time.time() * 1000) << 80) | secrets.randbits(80), _ulid_last + 1)
        _ulid_last = value
    return "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def now():
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def error(*titles):
    return {"errors": [{"title": t} for t in titles]}


def quoted(text):
    """How MAS's titles print a string (Rust `{:?}`)."""
    return json.dumps(text, ensure_ascii=False)


# Responses are also checked for RFC 3339 timestamps (jsonschema would need an extra package for that).
RESPONSE_FORMATS = FormatChecker(formats=())
RESPONSE_FORMATS.checks("date-time", raises=ValueError)(
    lambda v: not isinstance(v, str)
    or bool(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", v) and datetime.fromisoformat(v))
)


class Client:
    def __init__(self, client_id, client_secret, admin, auth_method, grant_types):
        self.client_id, self.client_secret, self.admin = client_id, client_secret, admin
        self.auth_method, self.grant_types = auth_method, grant_types

    def __repr__(self):  # no secret
        return f"Client({self.client_id}, admin={self.admin}, {self.auth_method})"


class Email:
    def __init__(self, user, email):
        self.id, self.user_id, self.email, self.created_at = new_ulid(), user.id, email, now()
        self.verified = True  # addresses added through the Admin API are verified


class User:
    def __init__(self, username, admin=False):
        self.id, self.username, self.created_at, self.admin = new_ulid(), username, now(), admin
        self.locked_at = self.deactivated_at = self.displayname = None
        self.legacy_guest = False
        self.erased = False  # deactivated with the homeserver asked to erase it
        self.emails = []
        self.password_sets = 0  # how many times a password was set (tests check idempotence with it)
        self._password = None  # (salt, pbkdf2 hash) of the last password set

    def set_password(self, password):
        salt = os.urandom(16)
        self._password = (salt, hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 10_000))
        self.password_sets += 1

    def check_password(self, password):
        if self._password is None:
            return False
        salt, digest = self._password
        return hmac.compare_digest(digest, hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 10_000))

    def __repr__(self):
        return f"User({self.username}, {self.id}, admin={self.admin})"


class Spec:
    """The API description: routes, and validators for pieces of it (by JSON pointer, `$ref`s resolved)."""

    def __init__(self, path):
        self.doc = json.loads(path.read_text())
        self.registry = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(self.doc))
        self.routes = []
        for template, item in self.doc["paths"].items():
            regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
            for method, op in item.items():
                self.routes.append((method.upper(), re.compile(regex + "$"), template, op))
        self.routes.sort(key=lambda r: r[2].count("{"))  # literal segments win (users/by-username/x)
        self._validators = {}

    def match(self, method, path):
        for m, regex, template, op in self.routes:
            found = regex.match(path)
            if m == method and found:
                return template, op, {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()}
        return None

    def resolve(self, schema):
        while "$ref" in schema:
            schema = self.doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        return schema

    def problems(self, pointer, instance, where, formats=None):
        """What does not fit, without quoting the instance (it may be a password)."""
        key = (pointer, formats is not None)
        if key not in self._validators:
            self._validators[key] = Draft202012Validator(
                {"$ref": f"{SPEC_URI}#{pointer}"}, registry=self.registry, format_checker=formats
            )
        return [
            f"{where}{e.json_path[1:]}: "
            + (e.message if e.validator == "required" else f"fails {e.validator} {e.validator_value!r}")
            for e in self._validators[key].iter_errors(instance)
        ]


@functools.lru_cache
def load_spec(path):
    return Spec(Path(path))


def pointer(*parts):
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


class MasStandIn:
    """The stand-in server. `start()` it (from a fixture), use `url`, `stop()` it. State lives in memory:
    `users` (username -> User), `clients`, `violations`, `ignored`, `requests_log`, `compat_sessions`."""

    def __init__(self, server_name="example.com", token_ttl=300, password_auth_enabled=True,
                 minimum_password_complexity=3, login_burst=3, login_interval=20.0, reserved_prefixes=(),
                 homeserver_up=True, site_config=True, spec_path=SPEC_PATH, port=0):
        self.server_name, self.token_ttl, self.password_auth_enabled = server_name, token_ttl, password_auth_enabled
        self.minimum_password_complexity = minimum_password_complexity
        # The compatibility login's per-IP limit (every client here is 127.0.0.1): a bucket of `login_burst`
        # attempts, refilled by one every `login_interval` seconds.
        self.login_burst, self.login_interval = login_burst, login_interval
        self._login_bucket = (float(login_burst), time.monotonic())
        self.reserved_prefixes = tuple(reserved_prefixes)  # appservice namespaces (users starting with these)
        self.homeserver_up = homeserver_up
        self.site_config = site_config  # False: a MAS older than v1.3.0, which has no site-config
        self.login_attempts = 0  # compatibility logins asked for, rate-limited ones included
        self.logins_limited = 0  # of those, answered 429
        self.spec = load_spec(str(spec_path))
        self.port = port
        self.users = {}  # username -> User
        self.clients = {}  # client_id -> Client
        self.violations = []  # requests and responses that do not fit the API description: tests assert []
        self.ignored = []  # query parameters / body properties the API description does not name (MAS ignores them)
        self.requests_log = []  # (method, path, status); no bodies, no headers, so no secrets
        self.tokens_issued = 0
        self.tokens_revoked = 0
        self._tokens = {}  # admin access token -> expiry (time.monotonic())
        self._admin_sessions = {}  # admin access token -> OAuth2Session (one per grant)
        self._compat = {}  # compat access token -> (user id, device id)
        self._compat_sessions = []  # every compatibility session, finished ones too
        self._emails = {}  # email id -> Email
        self.registration_tokens = {}  # id -> RegistrationToken
        self._lock = threading.RLock()  # re-entrant: a test may call expire_tokens() from inside a handler
        self._server = None

    # --- lifecycle -------------------------------------------------------------------------------------
    def start(self):
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        self._server.daemon_threads = True
        self._server.standin = self
        self._server.handle_error = lambda *args: None  # a client hanging up is no news; stay quiet
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()  # quick stop()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    # --- helpers for tests -----------------------------------------------------------------------------
    def add_client(self, client_id=None, client_secret=None, admin=True, auth_method="client_secret_basic",
                   grant_types=("authorization_code", "refresh_token", "client_credentials")):
        """A static client as in MAS's config (`admin` = listed in policy.data.admin_clients)."""
        client = Client(client_id or new_ulid(), client_secret or secrets.token_urlsafe(24), admin, auth_method,
                        tuple(grant_types))
        self.clients[client.client_id] = client
        return client

    def add_user(self, username, password=None, admin=False, email=None):
        """Creates a user behind the tool's back (as `mas-cli manage register-user` would)."""
        with self._lock:
            user = self.users[username] = User(username, admin)
            if password is not None:
                user.set_password(password)
            if email is not None:
                self._add_email(user, email)
            return user

    def user(self, username):
        """The user with this username, compared case-insensitively as MAS does, or None."""
        return next((u for u in self.users.values() if u.username.lower() == username.lower()), None)

    def expire_tokens(self):
        """Every admin access token issued so far expires now."""
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, 0.0)

    @property
    def compat_sessions(self):
        """How many compatibility (login) sessions are still open."""
        return len(self._compat)

    @property
    def active_admin_sessions(self):
        """How many OAuth 2.0 sessions of admin clients are still active (not expired, not revoked)."""
        with self._lock:
            return sum(1 for s in self._admin_sessions.values() if self._session_active(s))

    def _session_active(self, session):
        return session.finished_at is None and time.monotonic() < self._tokens.get(session.token, 0.0)

    @property
    def secrets(self):
        """Every client secret and token this server handed out, for leak checks."""
        return [c.client_secret for c in self.clients.values()] + list(self._tokens) + list(self._compat)

    def password_score(self, password):
        """zxcvbn's score (0-4) of a password, as MAS computes it (on at most the first 100 characters: the
        estimator's cost grows fast with length)."""
        return zxcvbn.zxcvbn(password[:100])["score"]

    def password_is_weak(self, password):
        """MAS's check: weaker than `minimum_password_complexity` (zxcvbn's score)."""
        return self.password_score(password) < self.minimum_password_complexity

    def _take_login_slot(self):
        """Whether the login rate limit lets one more attempt through now (and takes it)."""
        tokens, last = self._login_bucket
        at = time.monotonic()
        if self.login_interval > 0:
            tokens = min(float(self.login_burst), tokens + (at - last) / self.login_interval)
        else:
            tokens = float(self.login_burst)
        if tokens < 1:
            self._login_bucket = (tokens, at)
            return False
        self._login_bucket = (tokens - 1, at)
        return True

    # --- HTTP ------------------------------------------------------------------------------------------
    def _handle(self, req, method):
        url = urllib.parse.urlsplit(req.path)
        body = req.rfile.read(int(req.headers.get("Content-Length") or 0))
        with self._lock:
            try:
                status, payload = self._dispatch(method, url.path, url.query, req.headers, body)
            except Exception as e:  # a stand-in bug: say so, without the request
                status, payload = 500, error(f"stand-in: internal error {type(e).__name__}")
                self.violations.append(f"{method} {url.path}: stand-in crashed ({type(e).__name__})")
            # The query string is kept for Admin API calls only (filters, pages); elsewhere it could hold a secret.
            self.requests_log.append((method, req.path if url.path.startswith(ADMIN) else url.path, status))
        data = b"" if payload is None else json.dumps(payload).encode()
        req.send_response(status)
        if payload is not None:
            req.send_header("Content-Type", "application/json")
        if status != 204:  # a 204 carries no Content-Length (RFC 9110)
            req.send_header("Content-Length", str(len(data)))
        req.end_headers()
        req.wfile.write(data)

    def _dispatch(self, method, path, query, headers, body):
        if path.startswith(ADMIN + "/"):
            return self._admin(method, path, query, headers, body)
        if (method, path) == ("GET", "/.well-known/openid-configuration"):
            return 200, {
                "issuer": self.url + "/",
                "token_endpoint": self.url + "/oauth2/token",
                "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            }
        if (method, path) == ("POST", "/oauth2/token"):
            return self._token(headers, body)
        if (method, path) == ("POST", "/oauth2/revoke"):
            return self._revoke(headers, body)
        if (method, path) == ("GET", "/_matrix/client/v3/login"):
            return 200, {"flows": [{"type": "m.login.password"}] if self.password_auth_enabled else []}
        if (method, path) == ("POST", "/_matrix/client/v3/login"):
            return self._login(body)
        if (method, path) == ("POST", "/_matrix/client/v3/logout"):
            return self._logout(headers)
        return 404, error(f"stand-in: nothing at {method} {path}")

    # --- OAuth 2.0 token endpoint (crates/handlers/src/oauth2/token.rs, axum-utils client_authorization.rs) -
    def _client_auth(self, headers, body):
        """(client, form, None) for an authenticated client, else (None, None, error answer)."""
        if not (headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
            return None, None, _oauth_error(400, "invalid_request", "expected a form-encoded body")
        form = dict(urllib.parse.parse_qsl(body.decode(errors="replace"), keep_blank_values=True))
        oauth_error = _oauth_error
        basic, auth = None, headers.get("Authorization")
        if auth:
            if auth[:6].lower() != "basic ":
                return None, None, oauth_error(400, "invalid_request", "Invalid Authorization header")
            try:  # like MAS (headers crate): base64 of id:secret, no percent-decoding of either part
                basic = base64.b64decode(auth[6:].strip(), validate=True).decode().split(":", 1)
            except (binascii.Error, UnicodeDecodeError):
                return None, None, oauth_error(400, "invalid_request", "Invalid Authorization header")
            if len(basic) != 2:
                return None, None, oauth_error(400, "invalid_request", "Invalid Authorization header")
        if basic and "client_secret" in form:
            return None, None, oauth_error(400, "invalid_request", "credentials presented twice")
        if basic:
            if form.get("client_id", basic[0]) != basic[0]:
                return None, None, oauth_error(400, "invalid_grant", "client_id in form does not match credential")
            (client_id, secret), method = basic, "client_secret_basic"
        elif "client_id" in form and "client_secret" in form:
            client_id, secret, method = form["client_id"], form["client_secret"], "client_secret_post"
        else:
            return None, None, oauth_error(400, "invalid_request", "No credentials were presented")
        client = self.clients.get(client_id)
        if (client is None or client.auth_method != method
                or not hmac.compare_digest(secret.encode(), client.client_secret.encode())):
            return None, None, oauth_error(401, "invalid_client", "client authentication failed")
        return client, form, None

    def _token(self, headers, body):
        client, form, refused = self._client_auth(headers, body)
        if refused:
            return refused
        oauth_error = _oauth_error
        grant = form.get("grant_type")
        if grant is None:
            return oauth_error(400, "invalid_request", "missing grant_type")
        if grant not in client.grant_types:
            return oauth_error(401, "unauthorized_client", "grant type not allowed for this client")
        if grant != "client_credentials":
            return oauth_error(400, "invalid_grant", "stand-in: only the client_credentials grant is implemented")
        if set(form.get("scope", "").split()) != {ADMIN_SCOPE} or not client.admin:
            return oauth_error(403, "invalid_scope", "denied by policy")
        token = "mat_" + secrets.token_urlsafe(24)
        self._tokens[token] = time.monotonic() + self.token_ttl
        self._admin_sessions[token] = OAuth2Session(client.client_id, ADMIN_SCOPE, token)
        self.tokens_issued += 1
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": self.token_ttl, "scope": ADMIN_SCOPE}

    def _revoke(self, headers, body):
        """RFC 7009 token revocation: the client authenticates as at the token endpoint; a token it does not
        own, or an unknown one, is answered 200 all the same."""
        client, form, refused = self._client_auth(headers, body)
        if refused:
            return refused
        if "token" not in form:
            return _oauth_error(400, "invalid_request", "missing token")
        session = self._admin_sessions.get(form["token"])
        if session is not None and session.client_id == client.client_id and session.finished_at is None:
            session.finished_at = now()
            self._tokens.pop(form["token"], None)
            self.tokens_revoked += 1
        return 200, {}

    # --- compatibility login ----------------------------------------------------------------------------
    def _login(self, body):
        def forbidden():
            return 403, {"errcode": "M_FORBIDDEN", "error": "Invalid username or password"}

        self.login_attempts += 1
        if not self._take_login_slot():  # as observed: no Retry-After, no retry_after_ms
            self.logins_limited += 1
            return 429, {"errcode": "M_LIMIT_EXCEEDED", "error": "Too many login attempts"}
        try:
            request = json.loads(body)
        except ValueError:
            return 400, {"errcode": "M_NOT_JSON", "error": "Body is not JSON"}
        if not isinstance(request, dict) or request.get("type") != "m.login.password" or not self.password_auth_enabled:
            return 400, {"errcode": "M_UNKNOWN", "error": "Invalid login type"}
        identifier = request.get("identifier") or {}
        name = identifier.get("user") if identifier.get("type") == "m.id.user" else request.get("user")
        password = request.get("password")
        if not isinstance(name, str) or not isinstance(password, str):
            return 400, {"errcode": "M_BAD_JSON", "error": "Invalid login request"}
        if name.startswith("@"):
            suffix = ":" + self.server_name
            if not name.endswith(suffix):
                return forbidden()
            name = name[1 : -len(suffix)]
        user = self.user(name)
        if user is None or user.deactivated_at:
            return forbidden()
        if user.locked_at:  # before the password: a wrong one gets the same answer
            return 401, {"errcode": "M_USER_LOCKED", "error": "User account has been locked"}
        if not user.check_password(password):
            return forbidden()
        token, device = "mct_" + secrets.token_urlsafe(24), "".join(secrets.choice(CROCKFORD[10:]) for _ in range(10))
        self._compat[token] = (user.id, device)
        self._compat_sessions.append(CompatSession(user.id, device, token))
        return 200, {"access_token": token, "device_id": device, "user_id": f"@{user.username}:{self.server_name}"}

    def _logout(self, headers):
        auth = headers.get("Authorization") or ""
        if not auth.lower().startswith("bearer "):
            return 401, {"errcode": "M_MISSING_TOKEN", "error": "Missing access token"}
        token = auth[7:].strip()
        if self._compat.pop(token, None) is None:
            return 401, {"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token"}
        for session in self._compat_sessions:
            if session.token == token:
                session.finished_at = now()
        return 200, {}

    # --- Admin API -------------------------------------------------------------------------------------
    def _admin(self, method, path, query, headers, body):
        found = self.spec.match(method, path)
        if found is None:
            self.violations.append(f"{method} {path}: no such operation in the API description")
            return 404, error(f"stand-in: no operation {method} {path} in the API description")
        template, op, path_params = found
        op_pointer = ("paths", template, method.lower())

        # Authentication first, as MAS's CallContext extractor comes before the others (call_context.rs).
        auth = headers.get("Authorization")
        if auth is None:
            return self._reply(op_pointer, op, 400, error("Missing authorization header"))
        match = re.fullmatch(r"(?i:bearer) +(\S+)", auth)
        if match is None:
            return self._reply(op_pointer, op, 400, error("Invalid authorization header"))
        if not match[1].startswith("mat_"):
            return self._reply(op_pointer, op, 401, error("Invalid type of access token"))
        expiry = self._tokens.get(match[1])
        if expiry is None:
            return self._reply(op_pointer, op, 401, error("Unknown access token"))
        if time.monotonic() >= expiry:
            return self._reply(op_pointer, op, 401, error("Access token expired"))

        params, request, problems = self._check_request(method, path, op_pointer, op, path_params, query, headers, body)
        if problems:
            self.violations.append(f"{method} {path}: " + "; ".join(problems))
            title = "stand-in: request does not fit the API description: " + "; ".join(problems)
            return self._reply(op_pointer, op, 400, error(title))
        handler = getattr(self, "_op_" + op["operationId"], None)
        if handler is None:
            self.violations.append(f"{method} {path}: {op['operationId']} is not implemented by the stand-in")
            return self._reply(op_pointer, op, 404, error(f"stand-in: {op['operationId']} is not implemented"))
        status, payload = handler(path=path, params=params, request=request)
        return self._reply(op_pointer, op, status, payload)

    def _check_request(self, method, path, op_pointer, op, path_params, query, headers, body):
        """Path and query parameters (typed as the API description says) and the JSON body, checked."""
        params, problems = {}, []
        raw = {}
        for name, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
            raw.setdefault(name, []).append(value)
        for i, p in enumerate(op.get("parameters", [])):
            name, schema = p["name"], self.spec.resolve(p["schema"])
            if p["in"] == "path":
                value = path_params[name]
            elif name in raw:
                values = raw.pop(name)
                if schema.get("type") == "array":
                    value = [_typed(v, self.spec.resolve(schema.get("items", {}))) for v in values]
                else:
                    if len(values) > 1:
                        problems.append(f"query parameter {name} is repeated")
                    value = _typed(values[0], schema)
            else:
                if p.get("required"):
                    problems.append(f"{p['in']} parameter {name} is required")
                continue
            params[name] = value
            where = f"{p['in']} parameter {name}"
            problems += self.spec.problems(pointer(*op_pointer, "parameters", i, "schema"), value, where)
        self.ignored += [f"{method} {path}: query parameter {name} is not in the API description" for name in raw]

        request = None
        if "requestBody" in op:
            if not (headers.get("Content-Type") or "").startswith("application/json"):
                problems.append("the body must be sent as Content-Type: application/json")
            else:
                try:
                    request = json.loads(body)
                except ValueError:
                    problems.append("the body is not JSON")
                else:
                    body_pointer = pointer(*op_pointer, "requestBody", "content", "application/json", "schema")
                    problems += self.spec.problems(body_pointer, request, "body")
                    known = self.spec.resolve(op["requestBody"]["content"]["application/json"]["schema"])["properties"]
                    if isinstance(request, dict):
                        self.ignored += [f"{method} {path}: body property {k} is not in the API description"
                                         for k in request if k not in known]
        return params, request, problems

    def _reply(self, op_pointer, op, status, payload):
        """Checks what is about to be sent against the API description; a misfit is a stand-in bug."""
        described = op["responses"].get(str(status))
        where = f"response {status} to {op['operationId']}"
        if described is None and status < 400:
            self.violations.append(f"{where}: status not in the API description")
        elif described is None or "content" not in described:
            if payload is not None and status < 400:
                self.violations.append(f"{where}: the API description has no body here")
            elif payload is not None:  # errors the description does not list (auth, ...) still have MAS's shape
                self.violations += self.spec.problems("/components/schemas/ErrorResponse", payload, where)
        else:
            schema_pointer = pointer(*op_pointer, "responses", str(status), "content", "application/json", "schema")
            self.violations += self.spec.problems(schema_pointer, payload, where, RESPONSE_FORMATS)
        return status, payload

    # --- operations (crates/handlers/src/admin/v1/...) --------------------------------------------------
    def _find(self, user_id):
        user = next((u for u in self.users.values() if u.id == user_id), None)
        return user, (404, error(f"User ID {user_id} not found"))

    def _op_getUserByUsername(self, path, params, request):
        user = self.user(params["username"])
        if user is None:
            return 404, error(f"User with username {quoted(params['username'])} not found")
        return 200, {"data": _user(user), "links": {"self": path}}

    def _op_getUser(self, path, params, request):
        user, not_found = self._find(params["id"])
        return (200, {"data": _user(user), "links": {"self": path}}) if user else not_found

    def _op_siteConfig(self, path, params, request):
        if not self.site_config:
            return 404, error("stand-in: no site-config (as MAS before v1.3.0)")
        return 200, {
            "server_name": self.server_name,
            "password_login_enabled": self.password_auth_enabled,
            "password_registration_enabled": False,
            "password_registration_email_required": True,
            "password_registration_token_required": False,
            "registration_token_required": False,
            "email_change_allowed": True,
            "displayname_change_allowed": True,
            "password_change_allowed": self.password_auth_enabled,
            "account_recovery_allowed": False,
            "account_deactivation_allowed": True,
            "captcha_enabled": False,
            "minimum_password_complexity": self.minimum_password_complexity,
        }

    def _op_createUser(self, path, params, request):
        username = request["username"]
        if self.user(username) is not None:
            return 409, error("User already exists")
        if len(username.encode()) > 255 or username.startswith("_") or not USERNAME_CHARS.fullmatch(username):
            return 400, error("Username is not valid")
        # MAS asks the homeserver (Synapse) whether the name is free (unless told to skip that), then
        # provisions the user there: with the homeserver down, both fail.
        if not self.homeserver_up:
            return 500, error("stand-in: the homeserver could not be reached to provision the user")
        if not request.get("skip_homeserver_check") and username.startswith(self.reserved_prefixes):
            return 409, error("Username is reserved by the homeserver")
        user = self.users[username] = User(username)
        user.displayname = request.get("displayname")
        return 201, {"data": _user(user), "links": {"self": f"{ADMIN}/users/{user.id}"}}

    def _op_setUserPassword(self, path, params, request):
        if not self.password_auth_enabled:
            return 403, error("Password auth is disabled")
        user, not_found = self._find(params["id"])
        if user is None:
            return not_found
        if not request.get("skip_password_check") and self.password_is_weak(request["password"]):
            return 400, error("Password is too weak")
        user.set_password(request["password"])
        return 204, None

    def _op_userSetAdmin(self, path, params, request):
        user, not_found = self._find(params["id"])
        if user is None:
            return not_found
        user.admin = request["admin"]
        return 200, {"data": _user(user), "links": {"self": path}}

    def _op_lockUser(self, path, params, request):
        user, not_found = self._find(params["id"])
        if user is None:
            return not_found
        user.locked_at = user.locked_at or now()
        return 200, {"data": _user(user), "links": {"self": path}}

    def _op_unlockUser(self, path, params, request):
        user, not_found = self._find(params["id"])
        if user is None:
            return not_found
        user.locked_at = None
        return 200, {"data": _user(user), "links": {"self": path}}

    # Deactivation, as the API description says: it ends every session and asks the homeserver to erase the
    # user unless `skip_erase` (the stand-in has no homeserver: it records the request in `erased`);
    # reactivation does not unlock.
    def _op_deactivateUser(self, path, params, request):
        user, not_found = self._find(params["id"])
        if user is None:
            return not_found
        if not user.deactivated_at:
            user.deactivated_at = now()
            user.erased = not (request or {}).get("skip_erase", False)
        for token, (owner, _) in list(self._compat.items()):
            if owner == user.id:
                del self._compat[token]
        for session in self._compat_sessions:
            if session.user_id == user.id and session.finished_at is None:
                session.finished_at = now()
        return 200, {"data": _user(user), "links": {"self": path}}

    def _op_reactivateUser(self, path, params, request):
        user, not_found = self._find(params["id"])
        if user is None:
            return not_found
        user.deactivated_at = None
        return 200, {"data": _user(user), "links": {"self": path}}

    def _op_listUsers(self, path, params, request):
        unknown = [c for c in params.get("filter[active-oauth2-client]", []) if c not in self.clients]
        if unknown:
            return 404, error(f"Client ID {unknown[0]} not found")
        live = {user_id for user_id, _ in self._compat.values()}
        status = params.get("filter[status]")
        tests = [
            ("filter[admin]", lambda u, v: u.admin == v),
            ("filter[legacy-guest]", lambda u, v: u.legacy_guest == v),
            ("filter[search]", lambda u, v: v.lower() in u.username.lower()),
            ("filter[has-active-compat-session]", lambda u, v: (u.id in live) == v),
            ("filter[has-active-oauth2-session]", lambda u, v: not v),  # users have no OAuth 2.0 sessions here
            ("filter[active-oauth2-client]", lambda u, v: not v),  # nor with any client
        ]
        users = [u for u in self.users.values() if all(test(u, params[k]) for k, test in tests if k in params)]
        if status == "active":
            users = [u for u in users if not u.locked_at and not u.deactivated_at]
        elif status == "locked":
            users = [u for u in users if u.locked_at]
        elif status == "deactivated":
            users = [u for u in users if u.deactivated_at]
        return self._page(path, params, users, _user)

    def _op_listUserEmails(self, path, params, request):
        emails = list(self._emails.values())
        if "filter[user]" in params:
            user, not_found = self._find(params["filter[user]"])
            if user is None:
                return not_found
            emails = [e for e in emails if e.user_id == user.id]
        if "filter[email]" in params:
            emails = [e for e in emails if e.email.lower() == params["filter[email]"].lower()]
        return self._page(path, params, emails, _email)

    def _op_addUserEmail(self, path, params, request):
        user, not_found = self._find(request["user_id"])
        if user is None:
            return not_found
        address = request["email"]
        if not EMAIL.fullmatch(address):
            return 400, error(f"Email {quoted(address)} is not valid", "Missing domain or user")
        if any(e.email.lower() == address.lower() for e in self._emails.values()):
            return 409, error(f"User email {quoted(address)} already in use")
        email = self._add_email(user, address)
        return 201, {"data": _email(email), "links": {"self": f"{ADMIN}/user-emails/{email.id}"}}

    def _op_listCompatSessions(self, path, params, request):
        sessions = self._compat_sessions
        if "filter[user]" in params:
            user, not_found = self._find(params["filter[user]"])
            if user is None:
                return not_found
            sessions = [s for s in sessions if s.user_id == user.id]
        status = params.get("filter[status]")
        if status:
            sessions = [s for s in sessions if (s.finished_at is None) == (status == "active")]
        return self._page(path, params, sessions, _compat_session)

    def _op_listOAuth2Sessions(self, path, params, request):
        sessions = list(self._admin_sessions.values())  # only admin clients' sessions exist here
        clients = params.get("filter[client]", [])
        if clients:
            sessions = [s for s in sessions if s.client_id in clients]
        status = params.get("filter[status]")
        if status:
            sessions = [s for s in sessions if self._session_active(s) == (status == "active")]
        return self._page(path, params, sessions, self._oauth2_session)

    # --- user registration tokens (crates/handlers/src/admin/v1/user_registration_tokens/) ---------------
    # MAS keys them by ID (a ULID) with the token string as an attribute, revokes rather than deletes
    # (a revoked token can be unrevoked), and counts a sign-up with `times_used`. `sign_up_with` stands
    # for MAS's own sign-up form, which checks a token as `valid` says.
    def sign_up_with(self, token):
        """A sign-up presenting `token`: True (and the use counted) when MAS would take it."""
        with self._lock:
            found = next((t for t in self.registration_tokens.values() if t.token == token), None)
            if found is None or not found.valid():
                return False
            found.times_used += 1
            found.last_used_at = now()
            return True

    def _registration_token_or_404(self, params):
        token = self.registration_tokens.get(params["id"])
        return token, (404, error(f"Registration token with ID {params['id']} not found"))

    def _op_listUserRegistrationTokens(self, path, params, request):
        tests = [
            ("filter[used]", lambda t, v: (t.times_used > 0) == v),
            ("filter[revoked]", lambda t, v: (t.revoked_at is not None) == v),
            ("filter[expired]", lambda t, v: t.expired() == v),
            ("filter[valid]", lambda t, v: t.valid() == v),
        ]
        tokens = [t for t in self.registration_tokens.values()
                  if all(test(t, params[k]) for k, test in tests if k in params)]
        return self._page(path, params, tokens, _registration_token)

    def _op_addUserRegistrationToken(self, path, params, request):
        text = request.get("token") or secrets.token_urlsafe(12)
        if any(t.token == text for t in self.registration_tokens.values()):
            return 409, error(f"Registration token with token {quoted(text)} already exists")
        token = RegistrationToken(text, request.get("usage_limit"), request.get("expires_at"))
        self.registration_tokens[token.id] = token
        return 201, {"data": _registration_token(token), "links": {"self": f"{ADMIN}/user-registration-tokens/{token.id}"}}

    def _op_getUserRegistrationToken(self, path, params, request):
        token, not_found = self._registration_token_or_404(params)
        return (200, {"data": _registration_token(token), "links": {"self": path}}) if token else not_found

    def _op_updateUserRegistrationToken(self, path, params, request):
        token, not_found = self._registration_token_or_404(params)
        if token is None:
            return not_found
        if "usage_limit" in request:
            token.usage_limit = request["usage_limit"]
        if "expires_at" in request:
            token.expires_at = request["expires_at"]
        return 200, {"data": _registration_token(token), "links": {"self": path}}

    def _op_revokeUserRegistrationToken(self, path, params, request):
        token, not_found = self._registration_token_or_404(params)
        if token is None:
            return not_found
        if token.revoked_at is not None:
            return 400, error(f"Registration token with ID {token.id} is already revoked")
        token.revoked_at = now()
        return 200, {"data": _registration_token(token), "links": {"self": path}}

    def _op_unrevokeUserRegistrationToken(self, path, params, request):
        token, not_found = self._registration_token_or_404(params)
        if token is None:
            return not_found
        if token.revoked_at is None:
            return 400, error(f"Registration token with ID {token.id} is not revoked")
        token.revoked_at = None
        return 200, {"data": _registration_token(token), "links": {"self": path}}

    def _oauth2_session(self, session):
        finished = session.finished_at
        if finished is None and not self._session_active(session):
            finished = session.created_at  # expired: MAS reports it finished
        attributes = {"created_at": session.created_at, "finished_at": finished, "user_id": None,
                      "user_session_id": None, "client_id": session.client_id, "scope": session.scope}
        return {"type": "oauth2-session", "id": session.id, "attributes": attributes,
                "links": {"self": f"{ADMIN}/oauth2-sessions/{session.id}"}}

    def _add_email(self, user, address):
        email = Email(user, address)
        self._emails[email.id] = email
        user.emails.append(email)
        return email

    def _page(self, path, params, items, resource):
        """One page, ordered by ID, as MAS's PaginatedResponse (response.rs): cursors are IDs, `page[first]`
        (default 10) or `page[last]`, `page[after]`/`page[before]`, `count` true/false/only."""
        if "page[first]" in params and "page[last]" in params:
            return 400, error("Cannot specify both `page[first]` and `page[last]` parameters")
        items = sorted(items, key=lambda x: x.id)
        after, before = params.get("page[after]"), params.get("page[before]")
        window = [x for x in items if (after is None or x.id > after) and (before is None or x.id < before)]
        backward = "page[last]" in params
        n = params.get("page[last]" if backward else "page[first]", PAGE_SIZE)
        page = window[-n:] if backward else window[:n]
        filters = urllib.parse.urlencode(
            [(k, str(v).lower() if isinstance(v, bool) else v)
             for k, vs in params.items() if k.startswith("filter[") for v in (vs if isinstance(vs, list) else [vs])],
            safe="[]",
        )

        def link(after=None, before=None):
            parts = [filters] if filters else []
            parts += [f"page[before]={before}"] if before else []
            parts += [f"page[after]={after}"] if after else []
            parts.append(f"page[{'last' if backward else 'first'}]={n}")
            return f"{path}?{'&'.join(parts)}"

        links = {
            "self": link(after, before),
            "first": f"{path}?{filters + '&' if filters else ''}page[first]={n}",
            "last": f"{path}?{filters + '&' if filters else ''}page[last]={n}",
        }
        if page and not backward and len(window) > n:
            links["next"] = link(after=page[-1].id)
        if page and backward and len(window) > n:
            links["prev"] = link(before=page[0].id)
        response, count = {}, params.get("count", "true")
        if count != "false":
            response["meta"] = {"count": len(items)}
        if count != "only":
            response["data"] = [dict(resource(x), meta={"page": {"cursor": x.id}}) for x in page]
        response["links"] = links
        return 200, response


def _oauth_error(status, code, description):
    return status, {"error": code, "error_description": description}


class OAuth2Session:
    """The session one client_credentials grant opens (its token is kept only to end it)."""

    def __init__(self, client_id, scope, token):
        self.id, self.client_id, self.scope, self.created_at = new_ulid(), client_id, scope, now()
        self.token, self.finished_at = token, None

    def __repr__(self):  # no token
        return f"OAuth2Session({self.id}, {self.client_id})"


class CompatSession:
    """A compatibility (password login) session, kept once finished."""

    def __init__(self, user_id, device_id, token):
        self.id, self.user_id, self.device_id, self.created_at = new_ulid(), user_id, device_id, now()
        self.token, self.finished_at = token, None

    def __repr__(self):  # no token
        return f"CompatSession({self.id}, {self.user_id})"


def _compat_session(session):
    attributes = {"user_id": session.user_id, "device_id": session.device_id, "user_session_id": None,
                  "redirect_uri": None, "created_at": session.created_at, "user_agent": None,
                  "last_active_at": None, "last_active_ip": None, "finished_at": session.finished_at,
                  "human_name": None}
    return {"type": "compat-session", "id": session.id, "attributes": attributes,
            "links": {"self": f"{ADMIN}/compat-sessions/{session.id}"}}


class RegistrationToken:
    """A user registration token (its string is a secret: not in repr)."""

    def __init__(self, token, usage_limit, expires_at):
        self.id, self.token, self.created_at = new_ulid(), token, now()
        self.usage_limit, self.expires_at = usage_limit, expires_at
        self.times_used, self.last_used_at, self.revoked_at = 0, None, None

    def expired(self):
        if self.expires_at is None:
            return False
        return datetime.fromisoformat(self.expires_at.replace("Z", "+00:00")) <= datetime.now(timezone.utc)

    def valid(self):
        used_up = self.usage_limit is not None and self.times_used >= self.usage_limit
        return self.revoked_at is None and not self.expired() and not used_up

    def __repr__(self):  # no token
        return f"RegistrationToken({self.id})"


def _registration_token(token):
    attributes = {"token": token.token, "valid": token.valid(), "usage_limit": token.usage_limit,
                  "times_used": token.times_used, "created_at": token.created_at, "last_used_at": token.last_used_at,
                  "expires_at": token.expires_at, "revoked_at": token.revoked_at}
    return {"type": "user-registration_token", "id": token.id, "attributes": attributes,
            "links": {"self": f"{ADMIN}/user-registration-tokens/{token.id}"}}


def _typed(value, schema):
    """A query-string value as the type its schema wants, when it can be read as one (else left a string,
    so that validation reports it)."""
    kinds = schema.get("type", [])
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if "integer" in kinds and re.fullmatch(r"[0-9]+", value):
        return int(value)
    if "boolean" in kinds and value in ("true", "false"):
        return value == "true"
    return value


def _user(user):
    attributes = {
        "username": user.username,
        "created_at": user.created_at,
        "locked_at": user.locked_at,
        "deactivated_at": user.deactivated_at,
        "admin": user.admin,
        "legacy_guest": user.legacy_guest,
    }
    return {"type": "user", "id": user.id, "attributes": attributes, "links": {"self": f"{ADMIN}/users/{user.id}"}}


def _email(email):
    attributes = {"created_at": email.created_at, "user_id": email.user_id, "email": email.email}
    return {"type": "user-email", "id": email.id, "attributes": attributes,
            "links": {"self": f"{ADMIN}/user-emails/{email.id}"}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as reqwest expects: every response but 204 has a Content-Length
    timeout = 30  # idle keep-alive connections do not hold a thread forever

    def log_message(self, *args):  # quiet, and request lines are nobody's business
        pass


# do_GET, do_POST, ...: every method goes to the stand-in, which answers 404 where nothing is served.
for _method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
    setattr(_Handler, "do_" + _method, lambda self, m=_method: self.server.standin._handle(self, m))
