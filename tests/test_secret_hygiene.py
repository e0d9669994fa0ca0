"""Secret hygiene: the harness every end-to-end test uses (conftest: `Run`, `files_holding`, the
`module`, `cli`, `just` and `playbook` runners scan stdout, stderr, the result JSON, $TMPDIR and
Ansible's kept remote files for each secret, in its JSON-escaped and URL-encoded forms too), and
the places a secret could slip out that only a hostile peer or Ansible's own files reach."""

import json
import re
import shutil
import subprocess
import uuid

import pytest

from conftest import BINARY, assert_no_secret, files_holding, forms
from faultproxy import FaultProxy

REGISTER = "/_synapse/admin/v1/register"
LOOK_UP = "/_synapse/admin/v2/users/"


def test_the_harness_looks_for_every_form(tmp_path):
    secret = 'a b/ç"x'
    assert forms(secret) >= {secret, 'a b/\\u00e7\\"x', "a%20b%2F%C3%A7%22x", "a+b%2F%C3%A7%22x"}
    for leak in ('{"p": "a b/\\u00e7\\"x"}', "?p=a%20b%2F%C3%A7%22x", "p=a+b%2F%C3%A7%22x"):
        with pytest.raises(AssertionError):
            assert_no_secret(leak, [secret])
        (tmp_path / "leak").write_text(leak)
        assert files_holding(tmp_path, [secret]) == [tmp_path / "leak"]
    assert_no_secret("nothing here", [secret, ""])


# Every file operation that can write, create, move or delete something.
WRITES = "open,openat,creat,rename,renameat,renameat2,link,linkat,symlink,symlinkat,mkdir,mkdirat,unlink,unlinkat,truncate,ftruncate,chmod,fchmodat,execve,execveat"


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
@pytest.mark.parametrize("keep_remote_files", [False, True])
def test_the_module_writes_no_file_at_all(synapse, run, name, tmp_path, keep_remote_files):
    """Traced system call by system call: the module opens its args file read-only, once for the
    mode check and once to read it, writes, creates, renames or deletes nothing anywhere, and
    starts no other program (which could inherit a secret)."""
    password = "hygiene-Password-1"
    task = tmp_path / "ansible-tmp-task"
    task.mkdir()
    args = task / "args"
    params = run.connection(username=name, password=password, admin=True)
    args.write_text(json.dumps(dict(params, _ansible_check_mode=False, _ansible_keep_remote_files=keep_remote_files)))
    trace = tmp_path / "trace"
    proc = subprocess.run(
        ["strace", "-f", "-qq", "-e", f"trace={WRITES}", "-o", trace, BINARY, args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert_no_secret(proc.stdout + proc.stderr, [password, *synapse.secrets])
    assert json.loads(proc.stdout)["created"] is True
    calls = [line for line in trace.read_text().splitlines() if "= -1" not in line]
    writes = [
        line
        for line in calls
        if re.search(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC", line) or not re.search(r"\b(open(at)?|execve)\(", line)
    ]
    assert len([line for line in calls if re.search(r"\bexecve\(", line)]) == 1, calls
    assert writes == [], writes
    assert sum(str(args) in line for line in calls) == 2
    assert [p.name for p in task.iterdir()] == ["args"]


def test_kept_remote_files_hold_no_password(synapse, run, name):
    """With ANSIBLE_KEEP_REMOTE_FILES (which the harness sets for every Ansible run), no remote file
    holds the password: on the local connection the action plugin hands the arguments to the
    binary on its stdin, and writes no module or args file at all."""
    password = "hygiene-Password-2"
    r = run.just("register-user", name, password, "yes", secrets=[password])
    assert r.returncode == 0, r.output
    assert files_holding(r.remote_tmp, [password]) == []
    assert [p for p in r.remote_tmp.rglob("*") if p.is_file()] == []
    assert synapse.can_log_in(name, password)


@pytest.fixture
def proxy(synapse):
    with FaultProxy(synapse.url).start() as proxy:
        yield proxy


@pytest.mark.parametrize("fault", ["echo", "echo_body"])
@pytest.mark.parametrize("method, path", [("POST", REGISTER), ("GET", LOOK_UP)], ids=["registration", "look-up"])
def test_a_proxy_that_echoes_the_request_gets_no_secret_printed(synapse, run, proxy, name, fault, method, path):
    """An error page that quotes the request (the password in the body, the admin token in the
    Authorization header): the failure message must show none of it."""
    password = "hygiene-Password-3-" + uuid.uuid4().hex[:6]
    proxy.on(method, path, fault, status=400)
    result = run.module(run.connection(homeserver_url=proxy.url, username=name, password=password), secrets=[password])
    assert result["failed"] is True and "HTTP 400" in result["msg"], result["msg"]
    assert proxy.requests(method, path)[0].action == fault


def test_the_command_line_tool_prints_no_secret_from_an_echo(synapse, run, proxy, name, tmp_path):
    password = "hygiene-Password-4-" + uuid.uuid4().hex[:6]
    secret_file = tmp_path / "password"
    secret_file.write_text(password)
    proxy.on("POST", REGISTER, "echo", status=400)
    flags = [f for f in run.cli_connection() if not f.startswith("--homeserver-url")]
    r = run.cli(
        "register", name, f"--password-file={secret_file}", f"--homeserver-url={proxy.url}", *flags, secrets=[password]
    )
    assert r.returncode == 1 and "HTTP 400" in r.stderr, r.output
    r = run.cli(
        "register",
        name,
        f"--password-file={secret_file}",
        f"--homeserver-url={proxy.url}",
        *flags,
        "--json",
        secrets=[password],
    )
    assert r.returncode == 0 and json.loads(r.stdout)["changed"] is True, r.output


@pytest.mark.parametrize("status, method, path", [(308, "POST", REGISTER), (301, "GET", LOOK_UP), (307, "POST", "/")])
def test_redirects_are_not_followed(synapse, run, proxy, name, status, method, path):
    """A redirect would carry the password (307/308 keep the body) or a token elsewhere: the run
    fails, saying where the homeserver redirects, and the other server hears nothing."""
    password = "hygiene-Password-5"
    with FaultProxy(synapse.url).start() as elsewhere:
        proxy.on(method, path, "status", status=status, headers={"Location": elsewhere.url + REGISTER}, body="")
        result = run.module(
            run.connection(homeserver_url=proxy.url, username=name, password=password), secrets=[password]
        )
        assert result["failed"] is True and result["changed"] is False
        assert f"redirects to {elsewhere.url}" in result["msg"] and "not followed" in result["msg"], result["msg"]
        assert elsewhere.log == []
    assert synapse.user(name) is None
