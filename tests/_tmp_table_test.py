import time
from faultproxy import FaultProxy
from test_faults import REGISTER, LOOK_UP, SET_ADMIN, LIMITED

CASES = [
    ("restart after look-up (down 1.5 s)", [("GET", LOOK_UP, "forward", dict(down=1.5))], {}),
    ("down longer than wait_timeout", [("GET", LOOK_UP, "forward", dict(down=30))], dict(wait_timeout=2)),
    ("502x3 + 503x2", [(None, "/", "status", dict(times=3, status=502)), (None, "/", "status", dict(times=2, status=503))], {}),
    ("502 on registration, not forwarded (x2)", [("POST", REGISTER, "status", dict(times=2, status=502))], {}),
    ("502 on registration after server acted", [("POST", REGISTER, "after_status", dict(status=502))], {}),
    ("503 longer than wait_timeout", [(None, "/", "status", dict(times=10000, status=503))], dict(wait_timeout=2)),
    ("look-up answer cut mid-body", [("GET", LOOK_UP, "cut", {})], {}),
    ("nonce answer cut mid-body", [("GET", REGISTER, "cut", {})], {}),
    ("registration answer cut mid-body", [("POST", REGISTER, "cut", {})], {}),
    ("registration answer lost (dropped)", [("POST", REGISTER, "drop", {})], {}),
    ("registration connection reset before server", [("POST", REGISTER, "reset", {})], {}),
    ("every answer 3 s late, timeout 1", [(None, "/", "delay", dict(times=10000, seconds=3))], dict(timeout=1, wait_timeout=20)),
    ("registration answered after timeout", [("POST", REGISTER, "slow_answer", dict(seconds=3))], dict(timeout=1)),
    ("429 retry_after_ms 700 (look-up + registration)", [("GET", LOOK_UP, "status", dict(status=429, body=LIMITED)), ("POST", REGISTER, "status", dict(status=429, body=LIMITED))], {}),
    ("429 Retry-After: 2", [("GET", LOOK_UP, "status", dict(status=429, headers={"Retry-After": "2"}, body=""))], {}),
    ("429 asking 60 s > wait_timeout", [("GET", LOOK_UP, "status", dict(times=10, status=429, body=dict(LIMITED, retry_after_ms=60000)))], dict(wait_timeout=5)),
    ("restart between nonce and registration", [("GET", REGISTER, "nonce", dict(down=1.0))], {}),
    ("nonce lost every time", [("GET", REGISTER, "nonce", dict(times=100))], {}),
    ("registration echoed by proxy", [("POST", REGISTER, "echo", dict(status=400))], {}),
    ("308 redirect of registration", [("POST", REGISTER, "status", dict(status=308, headers={"Location": "http://127.0.0.1:9/x"}, body=""))], {}),
]

def test_table(synapse, run):
    rows = []
    for i, (label, rules, transport) in enumerate(CASES):
        name = f"tbl-{int(time.time())}-{i}"
        with FaultProxy(synapse.url).start() as proxy:
            for method, path, fault, kw in rules:
                proxy.on(method, path, fault, **kw)
            params = run.connection(homeserver_url=proxy.url, username=name, password="table-Password-1", admin=True)
            params.update({"wait_timeout": 10, "timeout": 5, **transport})
            t = time.monotonic()
            r = run.module(params, secrets=["table-Password-1"])
            took = time.monotonic() - t
        exists = synapse.user(name) is not None
        again = run.module(run.connection(username=name, password="table-Password-1", admin=True))
        rows.append(f"| {label} | {'FAILED: ' + r['msg'] if r.get('failed') else 'ok changed=%s created=%s' % (r['changed'], r.get('created'))} | {took:.1f}s | exists={exists} | rerun changed={again['changed']} failed={again.get('failed', False)} created={again.get('created')} |")
    open("/tmp/fault_table.md", "w").write("\n".join(rows) + "\n")
