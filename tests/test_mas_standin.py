"""Self-tests of the MAS stand-in (tests/mas_standin.py), over HTTP with urllib: no Rust involved."""

import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import NO_PROXY
from mas_standin import MasStandIn

ADMIN = "/api/admin/v1"


@pytest.fixture
def mas():
    # A login limit no test here reaches, but the one that tests it.
    with MasStandIn(token_ttl=300, login_burst=1000) as server:
        yield server


def call(mas, method, path, body=None, token=None, headers=None, form=None):
    """(status, JSON body or None) of one request."""
    status, body, _ = call_with_headers(mas, method, path, body, token, headers, form)
    return status, body


def call_with_headers(mas, method, path, body=None, token=None, headers=None, form=None):
    """(status, JSON body or None, response headers) of one request."""
    headers = dict(headers or {})
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(mas.url + path, data=data, method=method, headers=headers)
    try:
        with NO_PROXY.open(req, timeout=10) as r:
            status, raw, answer_headers = r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        status, raw, answer_headers = e.code, e.read(), e.headers
    return status, json.loads(raw) if raw else None, answer_headers


def basic(client, secret=None):
    pair = f"{client.client_id}:{secret or client.client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def get_token(mas, client=None):
    client = client or mas.add_client()
    status, body = call(mas, "POST", "/oauth2/token", headers=basic(client),
                        form={"grant_type": "client_credentials", "scope": "urn:mas:admin"})
    assert status == 200, body
    return body["access_token"]


def create(mas, token, username):
    status, body = call(mas, "POST", ADMIN + "/users", {"username": username}, token)
    assert status == 201, body
    return body["data"]


def assert_clean(mas):
    assert mas.violations == []
    assert mas.ignored == []


def test_discovery(mas):
    status, body = call(mas, "GET", "/.well-known/openid-configuration")
    assert status == 200
    assert body["issuer"] == mas.url + "/"
    assert body["token_endpoint"] == mas.url + "/oauth2/token"


def test_token_basic_and_post(mas):
    status, body = call(mas, "POST", "/oauth2/token", headers=basic(mas.add_client()),
                        form={"grant_type": "client_credentials", "scope": "urn:mas:admin"})
    assert status == 200
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300 and body["scope"] == "urn:mas:admin"

    client = mas.add_client(auth_method="client_secret_post")
    form = {"grant_type": "client_credentials", "scope": "urn:mas:admin",
            "client_id": client.client_id, "client_secret": client.client_secret}
    status, body = call(mas, "POST", "/oauth2/token", form=form)
    assert status == 200, body
    assert call(mas, "GET", ADMIN + "/users", token=body["access_token"])[0] == 200
    assert mas.tokens_issued == 2
    assert_clean(mas)


def test_token_errors(mas):
    client = mas.add_client()
    form = {"grant_type": "client_credentials", "scope": "urn:mas:admin"}
    assert call(mas, "POST", "/oauth2/token", headers=basic(client, "not-it"), form=form) == (
        401, {"error": "invalid_client", "error_description": "client authentication failed"})
    unknown = mas.add_client()
    del mas.clients[unknown.client_id]
    assert call(mas, "POST", "/oauth2/token", headers=basic(unknown), form=form)[1]["error"] == "invalid_client"
    # A client registered for one method may not use the other.
    post = {**form, "client_id": client.client_id, "client_secret": client.client_secret}
    assert call(mas, "POST", "/oauth2/token", form=post)[0] == 401

    not_admin = mas.add_client(admin=False)
    status, body = call(mas, "POST", "/oauth2/token", headers=basic(not_admin), form=form)
    assert (status, body["error"]) == (403, "invalid_scope")
    status, body = call(mas, "POST", "/oauth2/token", headers=basic(client), form={**form, "scope": "openid"})
    assert (status, body["error"]) == (403, "invalid_scope")
    no_grant = mas.add_client(grant_types=["authorization_code"])
    status, body = call(mas, "POST", "/oauth2/token", headers=basic(no_grant), form=form)
    assert (status, body["error"]) == (401, "unauthorized_client")


def test_admin_auth(mas):
    assert call(mas, "GET", ADMIN + "/users")[0] == 400
    assert call(mas, "GET", ADMIN + "/users", headers={"Authorization": "Token x"})[0] == 400
    assert call(mas, "GET", ADMIN + "/users", token="mat_unknown")[0] == 401

    token = get_token(mas)
    assert call(mas, "GET", ADMIN + "/users", token=token)[0] == 200
    mas.expire_tokens()
    status, body = call(mas, "GET", ADMIN + "/users", token=token)
    assert (status, body) == (401, {"errors": [{"title": "Access token expired"}]})


def test_token_expires_by_itself():
    with MasStandIn(token_ttl=1) as mas:
        token = get_token(mas)
        assert call(mas, "GET", ADMIN + "/users", token=token)[0] == 200
        time.sleep(1.1)
        assert call(mas, "GET", ADMIN + "/users", token=token)[0] == 401


def test_users(mas):
    token = get_token(mas)
    user = create(mas, token, "alice")
    assert user["attributes"]["admin"] is False and user["attributes"]["locked_at"] is None
    assert call(mas, "POST", ADMIN + "/users", {"username": "Alice"}, token) == (
        409, {"errors": [{"title": "User already exists"}]})
    for bad in ["Bob", "_bob", "bo b", "", "b" * 256]:
        assert call(mas, "POST", ADMIN + "/users", {"username": bad}, token) == (
            400, {"errors": [{"title": "Username is not valid"}]}), bad
    assert call(mas, "POST", ADMIN + "/users", {"username": "bob", "skip_homeserver_check": True}, token)[0] == 201

    status, body = call(mas, "GET", ADMIN + "/users/by-username/ALICE", token=token)
    assert (status, body["data"]["id"]) == (200, user["id"])
    status, body = call(mas, "GET", ADMIN + "/users/by-username/nobody", token=token)
    assert (status, body) == (404, {"errors": [{"title": 'User with username "nobody" not found'}]})
    assert call(mas, "GET", f"{ADMIN}/users/{user['id']}", token=token)[1]["data"] == user

    status, body = call(mas, "POST", f"{ADMIN}/users/{user['id']}/set-admin", {"admin": True}, token)
    assert (status, body["data"]["attributes"]["admin"]) == (200, True)
    assert mas.users["alice"].admin is True
    status, body = call(mas, "GET", ADMIN + "/users?filter[admin]=true", token=token)
    assert [u["attributes"]["username"] for u in body["data"]] == ["alice"]
    assert body["meta"] == {"count": 1}
    assert_clean(mas)


def test_list_users_pages(mas):
    token = get_token(mas)
    names = [f"user{i}" for i in range(5)]
    for name in names:
        create(mas, token, name)
    status, body = call(mas, "GET", ADMIN + "/users?page[first]=2&filter[search]=USER", token=token)
    assert [u["attributes"]["username"] for u in body["data"]] == names[:2]
    assert body["meta"]["count"] == 5
    seen = []
    link = ADMIN + "/users?page[first]=2"
    while link:
        body = call(mas, "GET", link, token=token)[1]
        seen += [u["attributes"]["username"] for u in body["data"]]
        link = body["links"].get("next")
    assert seen == names
    body = call(mas, "GET", ADMIN + "/users?count=only", token=token)[1]
    assert "data" not in body and body["meta"]["count"] == 5
    assert call(mas, "GET", ADMIN + "/users?page[first]=1&page[last]=1", token=token)[0] == 400
    assert_clean(mas)


def test_set_password(mas):
    token = get_token(mas)
    user = create(mas, token, "carol")
    path = f"{ADMIN}/users/{user['id']}/set-password"
    assert call(mas, "POST", path, {"password": "password"}, token) == (
        400, {"errors": [{"title": "Password is too weak"}]})
    assert call(mas, "POST", path, {"password": "password", "skip_password_check": True}, token) == (204, None)
    assert mas.users["carol"].check_password("password")
    assert call(mas, "POST", path, {"password": "Correct-Horse-9"}, token)[0] == 204
    assert call(mas, "POST", path, {"password": "this is a good enough password"}, token)[0] == 204
    assert mas.users["carol"].password_sets == 3
    missing = f"{ADMIN}/users/01ARZ3NDEKTSV4RRFFQ69G5FAV/set-password"
    assert call(mas, "POST", missing, {"password": "Correct-Horse-9"}, token)[0] == 404
    mas.password_auth_enabled = False
    assert call(mas, "POST", path, {"password": "Correct-Horse-9"}, token)[0] == 403
    assert_clean(mas)


def test_emails(mas):
    token = get_token(mas)
    user = create(mas, token, "dave")
    other = create(mas, token, "erin")
    address = {"user_id": user["id"], "email": "dave@example.com"}
    status, body = call(mas, "POST", ADMIN + "/user-emails", address, token)
    assert status == 201 and body["data"]["attributes"]["user_id"] == user["id"]
    taken = {"user_id": other["id"], "email": "dave@example.com"}
    assert call(mas, "POST", ADMIN + "/user-emails", taken, token)[0] == 409
    invalid = {"user_id": user["id"], "email": "not an email"}
    assert call(mas, "POST", ADMIN + "/user-emails", invalid, token)[0] == 400

    status, body = call(mas, "GET", f"{ADMIN}/user-emails?filter[user]={user['id']}", token=token)
    assert [e["attributes"]["email"] for e in body["data"]] == ["dave@example.com"]
    status, body = call(mas, "GET", f"{ADMIN}/user-emails?filter[user]={other['id']}", token=token)
    assert (status, body["data"]) == (200, [])
    body = call(mas, "GET", ADMIN + "/user-emails?" + urllib.parse.urlencode({"filter[email]": "dave@example.com"}),
                token=token)[1]
    assert body["meta"]["count"] == 1
    assert [(e.email, e.verified) for e in mas.users["dave"].emails] == [("dave@example.com", True)]
    assert_clean(mas)


def test_compat_login_logout(mas):
    mas.add_user("frank", password="Sw0rdfish!")
    login = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "frank"}, "password": "Sw0rdfish!"}
    status, body = call(mas, "POST", "/_matrix/client/v3/login", login)
    assert status == 200 and body["user_id"] == "@frank:example.com"
    login["identifier"]["user"] = "@frank:example.com"
    assert call(mas, "POST", "/_matrix/client/v3/login", login)[0] == 200
    assert mas.compat_sessions == 2
    assert call(mas, "POST", "/_matrix/client/v3/logout", {}, token=body["access_token"]) == (200, {})
    assert call(mas, "POST", "/_matrix/client/v3/logout", {}, token=body["access_token"])[0] == 401
    assert mas.compat_sessions == 1

    assert call(mas, "POST", "/_matrix/client/v3/login", {**login, "password": "wrong"}) == (
        403, {"errcode": "M_FORBIDDEN", "error": "Invalid username or password"})
    mas.users["frank"].locked_at = "2024-01-01T00:00:00Z"
    assert call(mas, "POST", "/_matrix/client/v3/login", login)[1]["errcode"] == "M_USER_LOCKED"


def test_request_not_fitting_the_description(mas):
    token = get_token(mas)
    user = create(mas, token, "gina")
    status, body = call(mas, "POST", f"{ADMIN}/users/{user['id']}/set-admin", {"admin": "yes"}, token)
    assert status == 400
    assert body["errors"][0]["title"].startswith("stand-in: request does not fit the API description: ")
    assert call(mas, "POST", f"{ADMIN}/users/{user['id']}/set-password", {"pasword": "x"}, token)[0] == 400
    assert call(mas, "GET", ADMIN + "/users/not-a-ulid", token=token)[0] == 400
    assert call(mas, "GET", ADMIN + "/users?page[first]=0", token=token)[0] == 400
    assert call(mas, "GET", ADMIN + "/nothing", token=token)[0] == 404
    assert len(mas.violations) == 5
    assert not any("yes" in v for v in mas.violations)  # values are never quoted (they may be passwords)

    # What the description allows but does not name is answered as MAS would (ignored) and listed apart.
    assert call(mas, "POST", ADMIN + "/users", {"username": "hank", "password": "x"}, token)[0] == 201
    assert call(mas, "GET", ADMIN + "/users?filter[username]=hank", token=token)[0] == 200
    assert len(mas.ignored) == 3  # with the misspelt "pasword" above


def test_log_has_no_secrets(mas):
    client = mas.add_client(auth_method="client_secret_post")
    form = {"grant_type": "client_credentials", "scope": "urn:mas:admin",
            "client_id": client.client_id, "client_secret": client.client_secret}
    token = call(mas, "POST", "/oauth2/token", form=form)[1]["access_token"]
    user = create(mas, token, "ivan")
    call(mas, "POST", f"{ADMIN}/users/{user['id']}/set-password", {"password": "Secret-Pass-1"}, token)
    log = repr(mas.requests_log) + repr(mas.violations) + repr(mas.users)
    for secret in [*mas.secrets, "Secret-Pass-1"]:
        assert secret not in log
    assert ("POST", "/oauth2/token", 200) in mas.requests_log


def login(mas, user, password):
    body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user}, "password": password}
    return call_with_headers(mas, "POST", "/_matrix/client/v3/login", body)


def test_it_says_it_is_a_stand_in(mas):
    import mas_standin

    assert "STAND-IN" in mas_standin.__doc__ and "NOT MAS" in mas_standin.__doc__
    assert call(mas, "GET", "/nothing")[1]["errors"][0]["title"].startswith("stand-in: ")


def test_login_rate_limit():
    """3 at once, then 1 per interval; 429 M_LIMIT_EXCEEDED with no Retry-After and no retry_after_ms."""
    with MasStandIn(login_burst=3, login_interval=0.5) as mas:
        mas.add_user("frank", password="Sw0rdfish!")
        assert [login(mas, "frank", "Sw0rdfish!")[0] for _ in range(2)] == [200, 200]
        assert login(mas, "frank", "wrong")[0] == 403  # a failed attempt counts too
        status, body, headers = login(mas, "frank", "Sw0rdfish!")
        assert (status, body) == (429, {"errcode": "M_LIMIT_EXCEEDED", "error": "Too many login attempts"})
        assert "Retry-After" not in headers
        assert login(mas, "frank", "Sw0rdfish!")[0] == 429  # retrying sooner does not help
        time.sleep(0.55)
        assert login(mas, "frank", "Sw0rdfish!")[0] == 200
        assert login(mas, "frank", "Sw0rdfish!")[0] == 429
        assert (mas.login_attempts, mas.logins_limited) == (7, 3)


def test_locked_user_is_refused_before_the_password_check(mas):
    mas.add_user("lena", password="Sw0rdfish!").locked_at = "2024-01-01T00:00:00Z"
    for password in ["Sw0rdfish!", "wrong"]:
        status, body, _ = login(mas, "lena", password)
        assert (status, body["errcode"]) == (401, "M_USER_LOCKED")
    # The Admin API still works on a locked user; unlock ends the lock.
    token = get_token(mas)
    user_id = mas.users["lena"].id
    assert call(mas, "POST", f"{ADMIN}/users/{user_id}/set-admin", {"admin": True}, token)[0] == 200
    assert call(mas, "POST", f"{ADMIN}/users/{user_id}/set-password", {"password": "Correct-Horse-9"}, token)[0] == 204
    status, body = call(mas, "POST", f"{ADMIN}/users/{user_id}/unlock", token=token)
    assert (status, body["data"]["attributes"]["locked_at"]) == (200, None)
    assert login(mas, "lena", "Correct-Horse-9")[0] == 200
    status, body = call(mas, "POST", f"{ADMIN}/users/{user_id}/lock", token=token)
    assert status == 200 and body["data"]["attributes"]["locked_at"]
    mas.users["lena"].deactivated_at, mas.users["lena"].locked_at = "2024-01-01T00:00:00Z", None
    assert login(mas, "lena", "Correct-Horse-9")[0] == 403
    assert_clean(mas)


def test_emails_match_case_insensitively(mas):
    token = get_token(mas)
    user, other = create(mas, token, "mia"), create(mas, token, "ned")
    assert call(mas, "POST", ADMIN + "/user-emails", {"user_id": user["id"], "email": "Mia@Example.COM"}, token)[0] == 201
    query = urllib.parse.urlencode({"filter[user]": user["id"], "filter[email]": "mia@example.com"})
    assert call(mas, "GET", f"{ADMIN}/user-emails?{query}", token=token)[1]["meta"]["count"] == 1
    status, body = call(mas, "POST", ADMIN + "/user-emails", {"user_id": other["id"], "email": "MIA@example.com"}, token)
    assert status == 409 and "already in use" in body["errors"][0]["title"]
    assert_clean(mas)


def test_appservice_reserved_names():
    with MasStandIn(reserved_prefixes=["telegram_"]) as mas:
        token = get_token(mas)
        assert call(mas, "POST", ADMIN + "/users", {"username": "telegram_123"}, token) == (
            409, {"errors": [{"title": "Username is reserved by the homeserver"}]})
        assert mas.user("telegram_123") is None
        assert call(mas, "POST", ADMIN + "/users", {"username": "telegram_1", "skip_homeserver_check": True},
                    token)[0] == 201
        assert_clean(mas)


def test_homeserver_down():
    with MasStandIn(homeserver_up=False) as mas:
        token = get_token(mas)
        status, body = call(mas, "POST", ADMIN + "/users", {"username": "olga"}, token)
        assert status == 500 and body["errors"][0]["title"].startswith("stand-in: ")
        assert mas.user("olga") is None
        # What stays in MAS still works.
        user = mas.add_user("pia")
        assert call(mas, "POST", f"{ADMIN}/users/{user.id}/set-admin", {"admin": True}, token)[0] == 200
        assert call(mas, "POST", ADMIN + "/user-emails", {"user_id": user.id, "email": "pia@example.com"}, token)[0] == 201
        assert_clean(mas)


def test_passwords_disabled():
    with MasStandIn(password_auth_enabled=False) as mas:
        token = get_token(mas)
        user = mas.add_user("quinn", password="Correct-Horse-9")
        status, body = call(mas, "POST", f"{ADMIN}/users/{user.id}/set-password", {"password": "Correct-Horse-9"}, token)
        assert (status, body) == (403, {"errors": [{"title": "Password auth is disabled"}]})
        status, body, _ = login(mas, "quinn", "Correct-Horse-9")
        assert (status, body) == (400, {"errcode": "M_UNKNOWN", "error": "Invalid login type"})
        assert call(mas, "GET", ADMIN + "/site-config", token=token)[1]["password_login_enabled"] is False
        assert_clean(mas)


def test_site_config(mas):
    token = get_token(mas)
    status, body = call(mas, "GET", ADMIN + "/site-config", token=token)
    assert status == 200
    assert (body["server_name"], body["password_login_enabled"], body["minimum_password_complexity"]) == (
        "example.com", True, 3)
    with MasStandIn(site_config=False) as old:  # MAS before v1.3.0
        assert call(old, "GET", ADMIN + "/site-config", token=get_token(old))[0] == 404
    assert_clean(mas)


def test_token_revocation_and_admin_sessions(mas):
    client = mas.add_client()
    query = urllib.parse.urlencode({"filter[client]": client.client_id, "filter[status]": "active"})
    tokens = [get_token(mas, client) for _ in range(2)]
    assert mas.active_admin_sessions == 2
    assert call(mas, "GET", f"{ADMIN}/oauth2-sessions?{query}", token=tokens[0])[1]["meta"]["count"] == 2

    revoke = {"token": tokens[1], "token_type_hint": "access_token"}
    assert call(mas, "POST", "/oauth2/revoke", headers=basic(client, "wrong"), form=revoke)[0] == 401
    assert call(mas, "POST", "/oauth2/revoke", headers=basic(client), form=revoke) == (200, {})
    assert call(mas, "GET", ADMIN + "/users", token=tokens[1])[0] == 401
    assert mas.active_admin_sessions == 1 and mas.tokens_revoked == 1
    body = call(mas, "GET", f"{ADMIN}/oauth2-sessions?{query}", token=tokens[0])[1]
    assert body["meta"]["count"] == 1
    # Another client cannot revoke it; an unknown token is answered 200 all the same (RFC 7009).
    other = mas.add_client()
    assert call(mas, "POST", "/oauth2/revoke", headers=basic(other), form={"token": tokens[0]})[0] == 200
    assert call(mas, "POST", "/oauth2/revoke", headers=basic(client), form={"token": "mat_unknown"})[0] == 200
    assert mas.active_admin_sessions == 1
    mas.expire_tokens()
    assert mas.active_admin_sessions == 0
    assert_clean(mas)


def test_compat_sessions_are_listed_finished_ones_too(mas):
    mas.add_user("rita", password="Sw0rdfish!")
    body = login(mas, "rita", "Sw0rdfish!")[1]
    assert call(mas, "POST", "/_matrix/client/v3/logout", {}, token=body["access_token"])[0] == 200
    token = get_token(mas)
    user_id = mas.users["rita"].id
    body = call(mas, "GET", f"{ADMIN}/compat-sessions?filter[user]={user_id}", token=token)[1]
    assert body["meta"]["count"] == 1 and body["data"][0]["attributes"]["finished_at"]
    assert call(mas, "GET", f"{ADMIN}/compat-sessions?filter[status]=active", token=token)[1]["meta"]["count"] == 0
    assert_clean(mas)


@pytest.mark.parametrize("password, accepted", [
    ("aaa", False), ("Password1!", False), ("Summer2024!", False), ("iloveyou12345678", False),
    ("P9P9P9P9P9P9P9P9", False), ("qzkwvbxjtr", True), ("Correct-Horse-9", True), ("Battery-Staple-7", True),
])
def test_password_strength_as_mas_observed(mas, password, accepted):
    token = get_token(mas)
    user = create(mas, token, "sam")
    status, body = call(mas, "POST", f"{ADMIN}/users/{user['id']}/set-password", {"password": password}, token)
    assert (status == 204) == accepted, body
    if not accepted:
        assert body == {"errors": [{"title": "Password is too weak"}]}
