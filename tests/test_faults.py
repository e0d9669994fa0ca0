"""Faults between the tool and a real Synapse, injected by tests/faultproxy.py: a server that
restarts, a proxy answering 502/503, answers cut short or lost, a slow server, rate limits and a
registration nonce lost in a restart.

For each, the run either ends with the account as asked and an honest `changed`, or fails with a
message that says what happened; either way a second run converges. Every wait is bounded: the
runs use wait_timeout and timeout of a few seconds.
"""

import time

import pytest

from faultproxy import BOGUS_NONCE, FaultProxy

REGISTER = "/_synapse/admin/v1/register"
LOOK_UP = "/_synapse/admin/v2/users/"
SET_ADMIN = "/_synapse/admin/v1/users/"


@pytest.fixture
def proxy(synapse):
    with FaultProxy(synapse.url).start() as proxy:
        yield proxy


def ensure(run, proxy, name, password, admin=True, **transport):
    """One module run through the proxy: (result, seconds it took)."""
    params = run.connection(homeserver_url=proxy.url, username=name, password=password, admin=admin)
    params.update({"wait_timeout": 10, "timeout": 5, **transport})
    started = time.monotonic()
    result = run.module(params, secrets=[password])
    return result, time.monotonic() - started


def assert_converges(run, synapse, name, password, admin=True):
    """The account is as asked, and a second run straight to the server changes nothing."""
    assert synapse.is_admin(name) is admin
    assert synapse.can_log_in(name, password)
    again = run.module(run.connection(username=name, password=password, admin=admin), secrets=[password])
    assert again.get("failed") is not True and again["changed"] is False, again


def assert_created(result):
    assert result.get("failed") is not True, result["msg"]
    assert result["changed"] is True and result["created"] is True, result


def statuses(proxy, method, path):
    return [(entry.action, entry.status) for entry in proxy.requests(method, path)]


# -- a server that refuses connections -------------------------------------------------------


def test_a_restart_after_the_look_up_is_waited_out(synapse, run, proxy, name):
    password = "restart-Password-1"
    proxy.on("GET", LOOK_UP, "forward", down=1.5)
    result, took = ensure(run, proxy, name, password)
    assert_created(result)
    assert took >= 1.5
    assert statuses(proxy, "POST", REGISTER) == [("forward", 200)]
    assert_converges(run, synapse, name, password)


def test_a_server_down_longer_than_wait_timeout_fails_clearly(synapse, run, proxy, name):
    password = "down-Password-2"
    proxy.on("GET", LOOK_UP, "forward", down=30)
    result, took = ensure(run, proxy, name, password, wait_timeout=2)
    assert result["failed"] is True and result["changed"] is False
    assert "cannot reach the homeserver" in result["msg"] and "wait_timeout" in result["msg"], result["msg"]
    assert 1.5 <= took < 6, took
    assert synapse.user(name) is None
    proxy.go_down(0)
    result, _ = ensure(run, proxy, name, password)
    assert_created(result)
    assert_converges(run, synapse, name, password)


# -- 502 and 503 -----------------------------------------------------------------------------


def test_bursts_of_502_and_503_are_waited_out(synapse, run, proxy, name):
    password = "burst-Password-3"
    proxy.on(None, "/", "status", times=3, status=502)
    proxy.on(None, "/", "status", times=2, status=503, body={"errcode": "M_UNKNOWN", "error": "restarting"})
    result, _ = ensure(run, proxy, name, password)
    assert_created(result)
    assert [e.status for e in proxy.log[:5]] == [502, 502, 502, 503, 503]
    assert_converges(run, synapse, name, password)


def test_502_for_the_registration_before_it_reached_the_server(synapse, run, proxy, name):
    password = "burst-Password-4"
    proxy.on("POST", REGISTER, "status", times=2, status=502)
    result, _ = ensure(run, proxy, name, password)
    assert_created(result)
    # Each retry asks for a fresh nonce; the third registration reaches the server.
    assert statuses(proxy, "POST", REGISTER) == [("status", 502), ("status", 502), ("forward", 200)]
    assert len(proxy.requests("GET", REGISTER)) == 3
    assert_converges(run, synapse, name, password)


def test_502_for_the_registration_after_the_server_made_the_user(synapse, run, proxy, name):
    password = "burst-Password-5"
    proxy.on("POST", REGISTER, "after_status", status=502)
    result, _ = ensure(run, proxy, name, password)
    # The retry finds the user in use: the first attempt made it, so this run did create it.
    assert_created(result)
    assert statuses(proxy, "POST", REGISTER) == [("after_status", 502), ("forward", 400)]
    assert_converges(run, synapse, name, password)


def test_503_for_longer_than_wait_timeout_fails_clearly(synapse, run, proxy, name):
    password = "burst-Password-6"
    proxy.on(None, "/", "status", times=10_000, status=503)
    result, took = ensure(run, proxy, name, password, wait_timeout=2)
    assert result["failed"] is True and result["changed"] is False
    assert "cannot reach the homeserver" in result["msg"] and "HTTP 503" in result["msg"], result["msg"]
    assert took < 6, took
    assert synapse.user(name) is None
    proxy.clear()
    result, _ = ensure(run, proxy, name, password)
    assert_created(result)
    assert_converges(run, synapse, name, password)


# -- answers cut short or lost ---------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [("GET", LOOK_UP), ("GET", REGISTER), ("POST", REGISTER)],
    ids=["look-up", "nonce", "registration"],
)
def test_an_answer_cut_mid_body(synapse, run, proxy, name, method, path):
    password = "cut-Password-7"
    proxy.on(method, path, "cut")
    result, _ = ensure(run, proxy, name, password)
    assert_created(result)
    assert proxy.requests(method, path)[0].action == "cut"
    assert_converges(run, synapse, name, password)


def test_a_promotion_whose_answer_is_cut(synapse, run, proxy, name):
    password = "cut-Password-8"
    synapse.create(name, password, admin=False)
    proxy.on("PUT", SET_ADMIN, "cut")
    result, _ = ensure(run, proxy, name, password, admin=True)
    assert result.get("failed") is not True, result["msg"]
    assert result["changed"] is True and result["created"] is False and result["admin"] is True
    assert_converges(run, synapse, name, password)


def test_a_registration_whose_answer_is_lost(synapse, run, proxy, name):
    password = "lost-Password-9"
    proxy.on("POST", REGISTER, "drop")
    result, _ = ensure(run, proxy, name, password)
    assert_created(result)
    assert statuses(proxy, "POST", REGISTER) == [("drop", None), ("forward", 400)]
    assert_converges(run, synapse, name, password)


def test_a_registration_whose_connection_breaks_before_the_server_sees_it(synapse, run, proxy, name):
    password = "reset-Password-10"
    proxy.on("POST", REGISTER, "reset")
    result, _ = ensure(run, proxy, name, password)
    assert_created(result)
    assert statuses(proxy, "POST", REGISTER) == [("reset", None), ("forward", 200)]
    assert_converges(run, synapse, name, password)


# -- a slow server ---------------------------------------------------------------------------


def test_a_server_slower_than_timeout_fails_without_waiting_for_wait_timeout(synapse, run, proxy, name):
    password = "slow-Password-11"
    proxy.on(None, "/", "delay", times=10_000, seconds=3)
    result, took = ensure(run, proxy, name, password, timeout=1, wait_timeout=20)
    assert result["failed"] is True and result["changed"] is False
    assert "did not answer within 1 s" in result["msg"] and "timeout" in result["msg"], result["msg"]
    assert took < 3, took
    assert synapse.user(name) is None
    proxy.clear()
    result, _ = ensure(run, proxy, name, password)
    assert_created(result)
    assert_converges(run, synapse, name, password)


def test_a_registration_answered_after_timeout(synapse, run, proxy, name):
    """The server made the user but answered too late: the run must not call that a failure
    with `changed: false` (a change hidden), nor create twice."""
    password = "slow-Password-12"
    proxy.on("POST", REGISTER, "slow_answer", seconds=3)
    result, _ = ensure(run, proxy, name, password, timeout=1)
    assert_created(result)
    assert [status for _, status in statuses(proxy, "POST", REGISTER)][-1] == 400  # M_USER_IN_USE
    assert_converges(run, synapse, name, password)


def test_a_promotion_answered_after_timeout(synapse, run, proxy, name):
    password = "slow-Password-13"
    synapse.create(name, password, admin=False)
    proxy.on("PUT", SET_ADMIN, "slow_answer", seconds=3)
    result, _ = ensure(run, proxy, name, password, admin=True, timeout=1)
    assert result.get("failed") is not True, result["msg"]
    assert result["changed"] is True and result["admin"] is True
    assert_converges(run, synapse, name, password)


# -- rate limits -----------------------------------------------------------------------------

LIMITED = {"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests", "retry_after_ms": 700}


def test_429_is_retried_after_retry_after_ms(synapse, run, proxy, name):
    password = "limit-Password-14"
    proxy.on("GET", LOOK_UP, "status", status=429, body=LIMITED)
    proxy.on("POST", REGISTER, "status", status=429, body=LIMITED)
    result, took = ensure(run, proxy, name, password)
    assert_created(result)
    assert took >= 1.4, took
    # The rate-limited registration never reached the server: sent again with the same nonce.
    assert statuses(proxy, "POST", REGISTER) == [("status", 429), ("forward", 200)]
    assert len(proxy.requests("GET", REGISTER)) == 1
    assert_converges(run, synapse, name, password)


def test_429_with_a_retry_after_header(synapse, run, proxy, name):
    password = "limit-Password-15"
    proxy.on("GET", LOOK_UP, "status", status=429, headers={"Retry-After": "2"}, body="")
    result, took = ensure(run, proxy, name, password)
    assert_created(result)
    assert took >= 2, took
    assert_converges(run, synapse, name, password)


def test_429_asking_for_longer_than_wait_timeout_fails_at_once(synapse, run, proxy, name):
    password = "limit-Password-16"
    proxy.on("GET", LOOK_UP, "status", times=10, status=429, body=dict(LIMITED, retry_after_ms=60_000))
    result, took = ensure(run, proxy, name, password, wait_timeout=5)
    assert result["failed"] is True and result["changed"] is False
    assert "rate-limited" in result["msg"] and "60000 ms" in result["msg"], result["msg"]
    assert took < 2, took
    assert synapse.user(name) is None
    proxy.clear()
    result, _ = ensure(run, proxy, name, password)
    assert_created(result)
    assert_converges(run, synapse, name, password)


# -- the registration nonce lost in a restart ------------------------------------------------


def test_a_restart_between_nonce_and_registration(synapse, run, proxy, name):
    """Synapse keeps registration nonces in memory: one issued before a restart is unknown after
    it. The proxy hands out the nonce of the server "before the restart" (one the real server never
    issued), then refuses connections for a second; the real server then refuses that nonce with its
    own words, and the tool must start over with a fresh one."""
    password = "nonce-Password-17"
    proxy.on("GET", REGISTER, "nonce", down=1.0)
    result, took = ensure(run, proxy, name, password)
    assert_created(result)
    assert took >= 1.0
    posts = [(e.action, e.status) for e in proxy.requests("POST", REGISTER)]
    # The stale nonce is either refused by the server (its POST retried once the proxy is back) or
    # never delivered (its POST given up during the outage, a busy machine's timing): either way
    # the registration starts over with a fresh nonce, and only that one succeeds.
    assert posts in ([("forward", 400), ("forward", 200)], [("forward", 200)]), posts
    assert len(proxy.requests("GET", REGISTER)) == 2
    assert_converges(run, synapse, name, password)


def test_a_nonce_lost_every_time_fails_clearly(synapse, run, proxy, name):
    password = "nonce-Password-18"
    proxy.on("GET", REGISTER, "nonce", times=100)
    result, _ = ensure(run, proxy, name, password)
    assert result["failed"] is True and result["changed"] is False
    assert "unrecognised nonce" in result["msg"] and "restarting" in result["msg"], result["msg"]
    assert synapse.user(name) is None
    assert BOGUS_NONCE not in result["msg"]
    proxy.clear()
    result, _ = ensure(run, proxy, name, password)
    assert_created(result)
    assert_converges(run, synapse, name, password)
