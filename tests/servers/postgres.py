"""A throwaway PostgreSQL cluster (Debian's postgresql package) with a role and database
`dendrite`, on 127.0.0.1 (password auth) and a unix socket in its folder."""

import os
import pwd
import secrets
import shutil
import signal
import subprocess
from pathlib import Path

from .base import Server, ServerError, free_port, log, write_private


def pg_bin():
    """The newest server binaries of Debian's postgresql package."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: [int(n) for n in p.parent.parent.name.split(".")],
    )
    if not found:
        raise ServerError("the PostgreSQL server is missing: apt-get install postgresql (scripts/install-test-deps)")
    return found[-1].parent


class Postgres(Server):
    """Runs as the `postgres` user when started as root (it refuses to run as root): every parent
    of its folder must be searchable by that user. With a certificate and key (by default
    MATRIX_USER_POSTGRES_TLS_CERT and MATRIX_USER_POSTGRES_TLS_KEY), it offers TLS too."""

    name = "PostgreSQL"
    stop_signal = signal.SIGINT  # fast shutdown

    def __init__(self, directory, port=None, tls_cert=None, tls_key=None):
        super().__init__(directory)
        self.port = port or free_port()
        self.tls = (
            tls_cert or os.environ.get("MATRIX_USER_POSTGRES_TLS_CERT"),
            tls_key or os.environ.get("MATRIX_USER_POSTGRES_TLS_KEY"),
        )
        self.bin = pg_bin()
        self.user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        self.run_as = {"user": self.user, "group": self.user, "extra_groups": []} if os.geteuid() == 0 else {}
        self.url_file = self.dir / "database_url"

    @property
    def url(self):
        """postgresql://dendrite:PASSWORD@127.0.0.1:PORT/dendrite?sslmode=disable"""
        return self.url_file.read_text()

    def as_user(self, *argv, **kwargs):
        """Runs a tool of PostgreSQL's as the cluster's user."""
        argv = [str(self.bin / argv[0]), *map(str, argv[1:])]
        return subprocess.run(argv, cwd="/", capture_output=True, text=True, timeout=60, **self.run_as, **kwargs)

    def start(self):
        data = self.dir / "data"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o700)
        shutil.chown(self.dir, self.user, self.user)
        if not (data / "PG_VERSION").exists():
            options = "-U postgres -E UTF8 --locale=C --auth-local=trust --auth-host=scram-sha-256".split()
            out = self.as_user("initdb", "-D", data, *options)
            if out.returncode:
                self.fail(f"initdb failed:\n{out.stderr}")
        # Throwaway: speed over durability. Failing statements are not logged (ALTER ROLE ...
        # PASSWORD would put the password in the log).
        settings = dict(
            listen_addresses="127.0.0.1",
            port=self.port,
            unix_socket_directories=self.dir,
            unix_socket_permissions="0700",
            max_connections=120,
            fsync="off",
            synchronous_commit="off",
            full_page_writes="off",
            log_statement="none",
            log_min_error_statement="panic",
        )
        if any(self.tls):
            for source, name in zip(self.tls, ("server.crt", "server.key"), strict=True):
                shutil.copyfile(source, data / name)  # PostgreSQL wants its key owned by it, mode 600
                (data / name).chmod(0o600)
                shutil.chown(data / name, self.user, self.user)
            settings.update(ssl="on", ssl_cert_file="server.crt", ssl_key_file="server.key")
        log(f"starting PostgreSQL on 127.0.0.1:{self.port}")
        options = [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]
        self.spawn([self.bin / "postgres", "-D", data, *options], **self.run_as)
        ready = ["pg_isready", "-q", "-h", self.dir, "-p", self.port, "-d", "postgres", "-U", "postgres"]
        self.wait_for(lambda: self.as_user(*ready).returncode == 0, "accepting connections")
        password = secrets.token_hex(16)
        sql = (
            "SELECT 'CREATE ROLE dendrite LOGIN' WHERE NOT EXISTS "
            "(SELECT 1 FROM pg_roles WHERE rolname = 'dendrite') \\gexec\n"
            f"ALTER ROLE dendrite WITH LOGIN PASSWORD '{password}';\n"
            "SELECT 'CREATE DATABASE dendrite OWNER dendrite ENCODING ''UTF8'' LC_COLLATE ''C'' LC_CTYPE ''C'' "
            "TEMPLATE template0' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'dendrite') \\gexec\n"
        )
        psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.dir, "-p", self.port, "-U", "postgres"]
        out = self.as_user(*psql, "-d", "postgres", input=sql)  # stdin: the password is on no command line
        if out.returncode:
            self.fail(f"creating the role and database failed:\n{out.stderr}")
        write_private(self.url_file, f"postgresql://dendrite:{password}@127.0.0.1:{self.port}/dendrite?sslmode=disable")
        return self
