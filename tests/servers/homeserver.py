"""Throwaway Synapse and Dendrite homeservers: one admin account (made with the tool the server
ships), its access token and an inventory that reaches the server, all in the server's folder."""

import json
import os
import secrets
import shlex
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

from .base import REPO, VENV, Server, ServerError, free_port, log, port_in_use, write_private

ADMIN = "matrix-user-admin"
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Homeserver(Server):
    """A homeserver on 127.0.0.1 with bcrypt at `bcrypt_rounds` (4: fast, insecure), seen as its
    operator and the tests see it: its URL, its secrets (in files) and an inventory."""

    def __init__(self, directory, port=None, server_name="example.com", bcrypt_rounds=4, registration_tokens=False):
        super().__init__(directory)
        self.port = port or free_port()
        self.server_name = server_name
        self.bcrypt_rounds = bcrypt_rounds
        # Sign-up open to whoever holds a registration token (Synapse), or at least the token
        # admin API on (Dendrite, whose sign-up does not take tokens).
        self.registration_tokens = registration_tokens
        self.url = f"http://127.0.0.1:{self.port}"
        self.shared_secret_file = str(self.dir / "shared_secret")
        self.admin_token_file = str(self.dir / "admin_token")
        self.inventory = str(self.dir / "inventory" / "hosts")

    @property
    def shared_secret(self):
        return Path(self.shared_secret_file).read_text().strip()

    @property
    def admin_token(self):
        return Path(self.admin_token_file).read_text().strip()

    @property
    def secrets(self):
        return [self.shared_secret, self.admin_token]

    @property
    def module_params(self):
        """Module parameters that reach this server with both secrets."""
        return {
            "homeserver_url": self.url,
            "server_name": self.server_name,
            "registration_shared_secret_file": self.shared_secret_file,
            "admin_access_token_file": self.admin_token_file,
        }

    def host_vars(self):
        return {
            "matrix_domain": self.server_name,
            "matrix_user_homeserver_url": self.url,
            "matrix_user_registration_shared_secret_file": self.shared_secret_file,
            "matrix_user_admin_access_token_file": self.admin_token_file,
        }

    def request(self, method, path, body=None, token=None, timeout=30):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with NO_PROXY.open(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def user_id(self, localpart):
        return f"@{localpart}:{self.server_name}"

    def login(self, localpart, password):
        identifier = {"type": "m.id.user", "user": localpart}
        body = {"type": "m.login.password", "identifier": identifier, "password": password}
        return self.request("POST", "/_matrix/client/v3/login", body)

    def can_log_in(self, localpart, password):
        status, body = self.login(localpart, password)
        if status == 200:
            self.request("POST", "/_matrix/client/v3/logout", {}, token=body["access_token"])
            return True
        assert status == 403, body
        return False

    def answers(self):
        try:
            return self.request("GET", "/_matrix/client/versions", timeout=2)[0] == 200
        except (OSError, ValueError):
            return False

    def start(self):
        """Starts the server (reusing what the folder holds), then makes sure of the admin's token
        and writes the inventory."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o700)
        if port_in_use(self.port):
            raise ServerError(f"port {self.port} on 127.0.0.1 is in use")
        if not Path(self.shared_secret_file).exists():
            write_private(self.shared_secret_file, secrets.token_hex(16))
        self.configure()
        log(f"starting {self.name} on {self.url} (logs: {', '.join(map(str, self.logs))})")
        self.spawn(self.command())
        self.wait_for(self.answers, f"answering on {self.url}")
        self.provision()
        self.write_inventory()
        return self

    def provision(self):
        """An admin account and a working access token of it in admin_token."""
        token = Path(self.admin_token_file)
        if token.exists():
            status, body = self.request("GET", "/_matrix/client/v3/account/whoami", token=self.admin_token)
            if status == 200 and body.get("user_id") == self.user_id(ADMIN):
                return
        password_file = self.dir / "admin_password"
        if not password_file.exists():
            write_private(password_file, secrets.token_urlsafe(24))
        password = password_file.read_text()
        made = subprocess.run(
            self.create_admin_command(),
            input=f"{password}\n{password}\n",  # asked for twice, when asked for
            capture_output=True,
            text=True,
            timeout=60,
            cwd=self.dir,
            start_new_session=True,  # no terminal: register_new_matrix_user reads the password from stdin
        )
        status, body = self.login(ADMIN, password)
        if status != 200:
            said = f"; making it failed:\n{made.stderr}" if made.returncode else ""
            self.fail(f"the admin cannot log in ({status} {body.get('errcode')}){said}")
        write_private(token, body["access_token"])

    def write_inventory(self):
        inventory = Path(self.inventory)
        host = f"matrix.{self.server_name}"
        (inventory.parent / "host_vars" / host).mkdir(parents=True, exist_ok=True)
        python = shlex.quote(f"{VENV}/bin/python")
        inventory.write_text(f"[matrix_servers]\n{host} ansible_connection=local ansible_python_interpreter={python}\n")
        lines = ["---"] + [f"{key}: {json.dumps(value)}" for key, value in self.host_vars().items()]
        (inventory.parent / "host_vars" / host / "vars.yml").write_text("\n".join(lines) + "\n")


class Synapse(Homeserver):
    """A local Synapse (from the venv), on SQLite, seen as its operator would check it (its admin API)."""

    name = "Synapse"

    def __init__(self, directory, appservice=None, **kwargs):
        """`appservice`: a localpart prefix whose users an application service registered with
        the server owns (`register_appservice_user`), as a bridge's are."""
        super().__init__(directory, **kwargs)
        self.appservice = appservice

    @property
    def logs(self):
        return [self.dir / "console.log", self.dir / "homeserver.log"]

    @property
    def appservice_token(self):
        return (self.dir / "appservice_token").read_text().strip()

    def register_appservice_user(self, localpart):
        """Registers a user as the application service does (its token, no password)."""
        body = {"type": "m.login.application_service", "username": localpart, "inhibit_login": True}
        status, reply = self.request("POST", "/_matrix/client/v3/register", body, token=self.appservice_token)
        assert status == 200, reply

    def configure(self):
        config = self.dir / "homeserver.yaml"
        if not config.exists():
            generate = [VENV / "bin" / "python", "-m", "synapse.app.homeserver", "--generate-config"]
            generate += ["--server-name", self.server_name, "--config-path", config, "--report-stats=no"]
            out = subprocess.run(list(map(str, generate)), cwd=self.dir, capture_output=True, text=True, timeout=120)
            if out.returncode:
                self.fail(f"generating its config failed:\n{out.stderr}")
        generated = yaml.safe_load(config.read_text())
        if generated["server_name"] != self.server_name:
            self.fail(f"it was set up for {generated['server_name']}, not {self.server_name}")
        lots = {"per_second": 1000, "burst_count": 1000}
        overrides = {
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {"name": "sqlite3", "args": {"database": str(self.dir / "homeserver.db")}},
            "enable_registration": self.registration_tokens,
            "registration_requires_token": self.registration_tokens,
            "registration_shared_secret": self.shared_secret,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "federation_domain_whitelist": [],
            "presence": {"enabled": False},
            "report_stats": False,
            "bcrypt_rounds": self.bcrypt_rounds,
            "rc_login": {"address": lots, "account": lots, "failed_attempts": lots},
            "rc_registration": lots,
            # Schema updates run at once rather than paced over minutes: until they have, a fresh
            # SQLite Synapse fails some requests (a reactivation needs profiles' unique index).
            "background_updates": {"sleep_enabled": False},
            "rc_registration_token_validity": lots,
        }
        if self.appservice:
            token = self.dir / "appservice_token"
            if not token.exists():
                write_private(token, secrets.token_hex(16))
            registration = {
                "id": "matrix-user-tests",
                "url": None,
                "as_token": self.appservice_token,
                "hs_token": secrets.token_hex(16),
                "sender_localpart": f"{self.appservice}sender",
                "namespaces": {"users": [{"exclusive": True, "regex": f"@{self.appservice}.*:{self.server_name}"}]},
            }
            write_private(self.dir / "appservice.yaml", yaml.safe_dump(registration))
            overrides["app_service_config_files"] = [str(self.dir / "appservice.yaml")]
        write_private(self.dir / "overrides.yaml", yaml.safe_dump(overrides))

    def command(self):
        configs = ["-c", self.dir / "homeserver.yaml", "-c", self.dir / "overrides.yaml"]
        return [VENV / "bin" / "python", "-m", "synapse.app.homeserver", *configs]

    def create_admin_command(self):
        tool = VENV / "bin" / "register_new_matrix_user"
        return [str(tool), "--exists-ok", "-u", ADMIN, "-a", "-c", str(self.dir / "overrides.yaml"), self.url]

    def user(self, localpart):
        """The account from the admin API, or None when it does not exist."""
        path = "/_synapse/admin/v2/users/" + urllib.parse.quote(self.user_id(localpart), safe="")
        status, body = self.request("GET", path, token=self.admin_token)
        if status == 404:
            return None
        assert status == 200, body
        return body

    def is_admin(self, localpart):
        user = self.user(localpart)
        assert user is not None, f"{localpart} does not exist"
        return user["admin"]

    def create(self, localpart, password, admin):
        """Creates a user behind the tool's back, through the admin API."""
        path = "/_synapse/admin/v2/users/" + urllib.parse.quote(self.user_id(localpart), safe="")
        status, body = self.request("PUT", path, {"password": password, "admin": admin}, token=self.admin_token)
        assert status == 201, body


class Dendrite(Homeserver):
    """A local Dendrite (built by scripts/install-dendrite) on SQLite or, given its URL, PostgreSQL;
    seen as its operator would check it (over HTTP, as Dendrite offers)."""

    name = "Dendrite"
    start_timeout = 90
    bin = REPO / ".local" / "go" / "bin"

    def __init__(self, directory, database="sqlite", **kwargs):
        super().__init__(directory, **kwargs)
        self.database_file = self.dir / "database_url"
        self.wanted_database = database

    @property
    def database(self):
        """The account database: the SQLite file's path or the PostgreSQL URL."""
        return self.database_file.read_text().strip()

    @property
    def logs(self):
        return [self.dir / "console.log", self.dir / "logs" / "dendrite.log"]

    @property
    def secrets(self):
        found = super().secrets
        if "://" in self.database:
            found += [self.database, urllib.parse.urlsplit(self.database).password]
        return found

    @property
    def module_params(self):
        return {"backend": "dendrite", **super().module_params, "dendrite_database": self.database}

    def host_vars(self):
        implementation = {
            "matrix_homeserver_implementation": "dendrite",
            "matrix_user_dendrite_database": self.database,
        }
        return {**super().host_vars(), **implementation}

    def configure(self):
        if not (self.bin / "create-account").exists():
            log("the Dendrite binaries are missing: running scripts/install-dendrite")
            subprocess.run([REPO / "scripts" / "install-dendrite"], check=True, timeout=900)
        key = self.dir / "matrix_key.pem"
        if not key.exists():
            subprocess.run([self.bin / "generate-keys", "--private-key", key], check=True, capture_output=True)
        key.chmod(0o600)
        generate = [self.bin / "generate-config", "-dir", self.dir, "-server", self.server_name]
        if self.wanted_database != "sqlite":
            generate += ["-db", self.wanted_database]
        config = yaml.safe_load(subprocess.run(generate, check=True, capture_output=True, text=True).stdout)
        database = self.wanted_database
        if database == "sqlite":
            database = config["user_api"]["account_database"]["connection_string"].removeprefix("file:")
        if self.database_file.exists() and self.database != database:
            self.fail("it was set up with another database than the one asked for")
        write_private(self.database_file, database)
        config["global"].update(private_key=str(key), disable_federation=True)
        config["global"]["jetstream"].update(addresses=[], in_memory=False)  # in process, no port
        config["global"]["presence"] = {"enable_inbound": False, "enable_outbound": False}
        config["client_api"].update(
            registration_disabled=True,
            registration_requires_token=self.registration_tokens,
            registration_shared_secret=self.shared_secret,
            guests_disabled=True,
            # Enabled, as in production, but loose enough for the tests.
            rate_limiting={"enabled": True, "threshold": 1000, "cooloff_ms": 10, "exempt_user_ids": []},
        )
        config["federation_api"]["key_perspectives"] = []
        config["user_api"]["bcrypt_cost"] = self.bcrypt_rounds
        config["logging"] = [
            {"type": "file", "level": "info", "params": {"path": str(self.dir / "logs")}},
            {"type": "std", "level": "warn"},
        ]
        write_private(self.dir / "dendrite.yaml", yaml.safe_dump(config))

    def command(self):
        listen = f"127.0.0.1:{self.port}"
        return [self.bin / "dendrite", "-config", self.dir / "dendrite.yaml", "-http-bind-address", listen]

    def spawn(self, argv, **kwargs):
        # These would open a pprof listener or log request bodies (passwords).
        env = {k: v for k, v in os.environ.items() if k not in ("PPROFLISTEN", "DENDRITE_TRACE_HTTP")}
        super().spawn(argv, env=env, **kwargs)

    def create_admin_command(self):
        argv = [self.bin / "create-account", "-config", self.dir / "dendrite.yaml", "-url", self.url]
        return [*map(str, argv), "-username", ADMIN, "-admin", "-passwordfile", str(self.dir / "admin_password")]

    def exists(self, localpart):
        status, body = self.request("GET", "/_matrix/client/v3/register/available?username=" + localpart)
        assert status in (200, 400), body
        return status == 400 and body.get("errcode") == "M_USER_IN_USE"

    def is_admin(self, localpart, password):
        """Whether the user's own session may use Dendrite's admin API (403: not an admin)."""
        status, body = self.login(localpart, password)
        assert status == 200, body
        token = body["access_token"]
        try:
            status, _ = self.request("GET", "/_dendrite/admin/registrationTokens", token=token)
            assert status in (200, 403)
            return status == 200
        finally:
            self.request("POST", "/_matrix/client/v3/logout", {}, token=token)
