"""Dendrite's account database (`dendrite_database`): every wait bounded by `timeout`, look-ups
that write nothing beside an SQLite file, and TLS for a PostgreSQL server off this machine.

Most of these need no running Dendrite: with `server_name` given and an existing account whose
admin flag is asked for, the module talks to the database only."""

import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest
from conftest import BINARY, assert_no_secret, free_port, make_runner
from servers import Postgres

PASSWORD = "database-test-Password"
#: The password in the test URLs: it must show nowhere.
DB_PASSWORD = "db-pw-never-shown-5e1c"
SIDECARS = ("-journal", "-wal", "-shm")


class DatabaseOnly:
    """A Dendrite the runs never reach (nothing listens at its URL): what they do, they do with
    the database."""

    url = f"http://127.0.0.1:{free_port()}"
    server_name = "example.com"
    @property
    def secrets(self):
        return [DB_PASSWORD]

    @property
    def module_params(self):
        return {"backend": "dendrite", "homeserver_url": self.url, "server_name": self.server_name}


@pytest.fixture
def runner(tmp_path):
    return make_runner(DatabaseOnly(), tmp_path)


def account_table(path, rows):
    """An SQLite file with Dendrite's account table (the columns the module reads) and `rows` of
    (localpart, account_type), in Dendrite's journal mode (rollback journal, deleted at commit)."""
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE userapi_accounts (localpart TEXT NOT NULL, server_name TEXT NOT NULL, "
            "account_type SMALLINT NOT NULL, is_deactivated BOOLEAN DEFAULT FALSE)"
        )
        db.executemany(
            "INSERT INTO userapi_accounts (localpart, server_name, account_type) VALUES (?, 'example.com', ?)", rows
        )
    db.close()


def sidecars(database):
    """The journal, WAL and shm files beside an SQLite database."""
    names = {Path(database).name + suffix for suffix in SIDECARS}
    return sorted(p.name for p in Path(database).parent.iterdir() if p.name in names)


def traced_module(params, tmp_path, strace_args, secrets=()):
    """The module under strace (`strace_args` say what to trace and inject); returns its result
    and the trace's lines. The output is checked for `secrets` and the database password."""
    params = dict(params)
    check_mode = params.pop("_check_mode", False)
    args = tmp_path / "args"
    args.write_text(json.dumps(dict(params, _ansible_check_mode=check_mode)))
    trace = tmp_path / "trace"
    proc = subprocess.run(
        ["strace", "-f", "-qq", *strace_args, "-o", trace, BINARY, args],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert_no_secret(proc.stdout + proc.stderr, [*secrets, DB_PASSWORD, PASSWORD])
    assert proc.stderr == "", proc.stderr
    return json.loads(proc.stdout), trace.read_text().splitlines()


# --- waiting: bounded by `timeout` ----------------------------------------------------------------


@pytest.fixture
def silent_port():
    """A port on 127.0.0.1 that accepts connections (the kernel completes them into the backlog)
    and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


@pytest.mark.parametrize("sslmode", ["disable", "require"])
def test_a_silent_database_server_fails_within_the_timeout(runner, silent_port, sslmode):
    url = f"postgresql://dendrite:{DB_PASSWORD}@127.0.0.1:{silent_port}/dendrite?sslmode={sslmode}"
    params = runner.connection(username="alice", password=PASSWORD, admin=True, dendrite_database=url, timeout=2)
    started = time.monotonic()
    result = runner.module(params, secrets=[url])
    elapsed = time.monotonic() - started
    assert result.get("failed") is True, result
    msg = result["msg"]
    assert "dendrite_database" in msg and "within 2 s" in msg and "timeout" in msg, msg
    assert elapsed < 8, f"took {elapsed:.1f} s with timeout 2"


def test_a_locked_sqlite_file_fails_within_the_timeout(runner, tmp_path):
    """Dendrite's writes lock the file; the module waits for them at most `timeout`."""
    database = tmp_path / "userapi_accounts.db"
    account_table(database, [("alice", 1)])
    locker = sqlite3.connect(database, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        params = runner.connection(username="alice", password=PASSWORD, admin=True, dendrite_database=str(database),
                                   timeout=2)
        started = time.monotonic()
        result = runner.module(params)
        elapsed = time.monotonic() - started
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert result.get("failed") is True, result
    assert "dendrite_database" in result["msg"] and "locked" in result["msg"] and "2 s" in result["msg"], result
    assert 1.5 < elapsed < 4.5, f"took {elapsed:.1f} s with timeout 2"


def test_an_interrupted_write_is_left_to_a_writer(runner, tmp_path):
    """A write cut short leaves a hot journal; a look-up, which opens the file read-only, says so
    instead of rolling it back (which is a write)."""
    database = tmp_path / "userapi_accounts.db"
    account_table(database, [("alice", 1)])
    # A write whose changes spill into the file before it dies (a one-page cache, a big row).
    killed_mid_write = (
        "import os, sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('PRAGMA cache_size = 1')\n"
        "db.execute('BEGIN')\n"
        "db.execute('UPDATE userapi_accounts SET account_type = 3')\n"
        "db.execute('INSERT INTO userapi_accounts SELECT hex(randomblob(100000)), server_name, 1, 0 "
        "FROM userapi_accounts')\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", killed_mid_write, database], check=True)
    assert sidecars(database) == ["userapi_accounts.db-journal"]
    params = runner.connection(username="alice", password=PASSWORD, admin=True, dendrite_database=str(database))
    result = runner.module(params)
    assert result.get("failed") is True, result
    assert "dendrite_database" in result["msg"] and "cut short" in result["msg"], result
    assert sidecars(database) == ["userapi_accounts.db-journal"]


# --- SQLite: look-ups read only --------------------------------------------------------------------

WRITES_TO_FILES = "trace=open,openat,creat,unlink,unlinkat,rename,renameat,renameat2,truncate,ftruncate"


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
@pytest.mark.parametrize("dendrite", ["sqlite"], indirect=True)
def test_looking_up_on_sqlite_writes_nothing_beside_the_database(dendrite, run_dendrite, name, tmp_path):
    """Traced: a run that only looks users up (one existing and as wanted, one missing in check
    mode) opens the account database read-only and creates no journal, WAL or shm file."""
    database = Path(dendrite.database.removeprefix("file:"))
    result = run_dendrite.module(run_dendrite.connection(username=name, password=PASSWORD, admin=True),
                                 secrets=[PASSWORD])
    assert result["created"] is True, result
    before = sidecars(database)

    for params in [
        run_dendrite.connection(username=name, password=PASSWORD, admin=True),
        run_dendrite.connection(users=[{"username": name, "password": PASSWORD, "admin": True},
                                       {"username": name + "-new", "password": PASSWORD}], _check_mode=True),
    ]:
        result, trace = traced_module(params, tmp_path, ["-e", WRITES_TO_FILES], secrets=dendrite.secrets)
        assert result.get("failed") is not True, result
        opens = [line for line in trace if str(database) in line and "= -1" not in line]
        assert opens, "the database was not opened"
        for line in opens:
            assert not re.search(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|unlink|rename|truncate", line), line
        assert sidecars(database) == before

    # A change writes, and SQLite's journal is gone once it is committed.
    result = run_dendrite.module(run_dendrite.connection(username=name, password=PASSWORD, admin=False),
                                 secrets=[PASSWORD])
    assert result["changed"] is True and result["admin"] is False, result
    assert sidecars(database) == before
    assert dendrite.is_admin(name, PASSWORD) is False


# --- PostgreSQL: TLS off this machine --------------------------------------------------------------


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
@pytest.mark.parametrize("query", ["", "?sslmode=disable", "?sslmode=prefer", "?sslmode=allow"])
def test_a_server_off_this_machine_without_tls_is_refused_before_connecting(runner, tmp_path, query):
    """192.0.2.1 is TEST-NET-1. Every connect() is traced and made to fail (strace's fault
    injection), so nothing would leave this machine even if the refusal were missing."""
    url = f"postgresql://dendrite:{DB_PASSWORD}@192.0.2.1:5432/dendrite{query}"
    params = runner.connection(username="alice", password=PASSWORD, admin=True, dendrite_database=url, timeout=2)
    result, trace = traced_module(
        params, tmp_path, ["-e", "trace=connect", "-e", "inject=connect:error=ENETUNREACH"], secrets=[url]
    )
    assert result.get("failed") is True, result
    msg = result["msg"]
    assert "dendrite_database" in msg and "192.0.2.1" in msg and "not on this machine" in msg, msg
    assert "sslmode=verify-full" in msg and "sslmode=require" in msg, msg
    assert [line for line in trace if "192.0.2.1" in line] == [], "it tried to connect"


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_a_server_off_this_machine_with_tls_is_tried(runner, tmp_path):
    """With sslmode=require the same server is connected to (the connect() fails by injection)."""
    url = f"postgresql://dendrite:{DB_PASSWORD}@192.0.2.1:5432/dendrite?sslmode=require"
    params = runner.connection(username="alice", password=PASSWORD, admin=True, dendrite_database=url, timeout=2)
    result, trace = traced_module(
        params, tmp_path, ["-e", "trace=connect", "-e", "inject=connect:error=ENETUNREACH"], secrets=[url]
    )
    assert result.get("failed") is True, result
    assert "not on this machine" not in result["msg"] and "dendrite_database" in result["msg"], result
    assert [line for line in trace if "192.0.2.1" in line], "it did not try to connect"


@pytest.mark.parametrize("dendrite", ["postgres"], indirect=True)
def test_tls_asked_of_a_server_without_it_fails_clearly(dendrite, run_dendrite, name):
    assert "sslmode=disable" in dendrite.database
    url = dendrite.database.replace("sslmode=disable", "sslmode=require")
    params = run_dendrite.connection(username=name, password=PASSWORD, admin=True, dendrite_database=url)
    result = run_dendrite.module(params, secrets=[url, PASSWORD])
    assert result.get("failed") is True, result
    msg = result["msg"]
    assert "dendrite_database" in msg and "does not support TLS" in msg and "ssl" in msg, msg
    assert not dendrite.exists(name)


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def tls_postgres():
    """A PostgreSQL with TLS (a certificate for localhost and 127.0.0.1 from a throwaway CA),
    holding an account table with alice (a user) and root (an admin)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    workdir = Path(tempfile.mkdtemp(prefix="matrix-user-pg-tls-"))
    workdir.chmod(0o755)  # PostgreSQL runs as its own user and must reach its folder
    certs = workdir / "certs"
    certs.mkdir()
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=test CA", cwd=certs)
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost", cwd=certs)
    (certs / "ext").write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
    )
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.crt", "-days", "2", "-extfile", "ext", cwd=certs)
    try:
        with Postgres(workdir / "postgres", tls_cert=certs / "server.crt", tls_key=certs / "server.key") as postgres:
            url = postgres.url
            parts = urllib.parse.urlsplit(url)
            sql = (
                "CREATE TABLE userapi_accounts (localpart TEXT NOT NULL, server_name TEXT NOT NULL, "
                "account_type SMALLINT NOT NULL, is_deactivated BOOLEAN DEFAULT FALSE);"
                "INSERT INTO userapi_accounts (localpart, server_name, account_type) "
                "VALUES ('alice', 'example.com', 1), ('root', 'example.com', 3);"
            )
            psql_env = dict(os.environ, PGPASSWORD=parts.password)
            subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(parts.port),
                            "-U", parts.username, "-d", "dendrite", "-c", sql], env=psql_env, check=True,
                           capture_output=True)
            yield {"url": url, "password": parts.password, "ca": certs / "ca.pem",
                   "psql": lambda q: subprocess.run(
                       ["psql", "-X", "-At", "-h", "127.0.0.1", "-p", str(parts.port), "-U", parts.username, "-d",
                        "dendrite", "-c", q], env=psql_env, check=True, capture_output=True, text=True).stdout.strip()}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def tls_url(server, host, query):
    return server["url"].replace("127.0.0.1", host, 1).replace("sslmode=disable", query)


@pytest.mark.parametrize(
    "host, query",
    [
        ("127.0.0.1", "sslmode=require"),
        ("localhost", "sslmode=verify-full&sslrootcert={ca}"),
        ("127.0.0.1", "sslmode=verify-full&sslrootcert={ca}"),
        ("127.0.0.1", "sslmode=verify-ca&sslrootcert={ca}"),
    ],
)
def test_tls_to_postgresql(runner, tls_postgres, host, query):
    url = tls_url(tls_postgres, host, query.format(ca=tls_postgres["ca"]))
    secrets = [url, tls_postgres["password"]]
    params = runner.connection(username="root", password=PASSWORD, admin=True, dendrite_database=url)
    result = runner.module(params, secrets=secrets)
    assert result.get("failed") is not True, result
    assert result["changed"] is False and result["admin"] is True, result

    # A change goes through the same TLS connection.
    params = runner.connection(username="alice", password=PASSWORD, admin=True, dendrite_database=url)
    assert runner.module(params, secrets=secrets)["changed"] is True
    assert tls_postgres["psql"]("SELECT account_type FROM userapi_accounts WHERE localpart = 'alice'") == "3"
    params["admin"] = False
    assert runner.module(params, secrets=secrets)["changed"] is True
    assert tls_postgres["psql"]("SELECT account_type FROM userapi_accounts WHERE localpart = 'alice'") == "1"


def test_a_certificate_from_an_unknown_ca_is_refused(runner, tls_postgres):
    url = tls_url(tls_postgres, "127.0.0.1", "sslmode=verify-full")
    params = runner.connection(username="root", password=PASSWORD, admin=True, dendrite_database=url)
    result = runner.module(params, secrets=[url, tls_postgres["password"]])
    assert result.get("failed") is True, result
    msg = result["msg"]
    assert "dendrite_database" in msg and "certificate" in msg.lower() and "sslrootcert" in msg, msg
