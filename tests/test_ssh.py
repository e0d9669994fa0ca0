"""The role against a host reached over real SSH: Debian's sshd on 127.0.0.1 with a test user of
its own (tests/sshhost.py), a real Synapse, `just register-user`, with and without `become`.

Every test ends with a leak check: nothing holding a secret is left in the host's temporary
folders, its install folder or the machine's /tmp, and Ansible's temporary folders are gone."""

import json
import os
import re
import shutil
import stat
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from conftest import BINARY, REPO, VENV_BIN, Run, forms
from sshhost import sshd  # noqa: F401  (the fixture)

HOST = "matrix.example.com"


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pinned(sshd):  # noqa: F811
    """The built binary, copied once: `just register-user` rebuilds target/release/matrix-user
    when the sources change, which must not look like a new binary between two runs of a test."""
    path = sshd.dir / "pinned" / "matrix-user"
    path.parent.mkdir()
    shutil.copy(BINARY, path)
    return path


@pytest.fixture(scope="session")
def library(sshd, pinned):  # noqa: F811
    """A module folder with the bare binary as the module `matrix_user_plain`: Ansible uploads it
    whole on every task, as with any binary module (the tests compare it with the collection's)."""
    path = sshd.dir / "library"
    path.mkdir()
    (path / "matrix_user_plain").symlink_to(pinned)
    return path


@pytest.fixture(scope="session")
def user_secrets(sshd, synapse):  # noqa: F811
    """Copies of Synapse's secrets the test user owns (mode 0600), for runs without become."""
    return {
        "shared_secret": str(sshd.give("secrets/shared_secret", synapse.shared_secret)),
        "admin_token": str(sshd.give("secrets/admin_token", synapse.admin_token)),
    }


class Ssh:
    """Runs the role against the SSH host and checks what it leaves there."""

    def __init__(self, sshd, synapse, user_secrets, pinned, library, tmp_path, name):  # noqa: F811
        self.sshd, self.synapse, self.tmp_path, self.name = sshd, synapse, tmp_path, name
        self.user_secrets, self.pinned, self.library = user_secrets, pinned, library
        self.secrets = list(synapse.secrets)
        self.install_dirs = []

    def host_vars(self, become=False, **extra):
        """Host vars as an operator would write them. Without become the secrets are files the
        login user owns; with become they are Synapse's own, readable by root only."""
        values = {
            "matrix_domain": self.synapse.server_name,
            "matrix_user_homeserver_url": self.synapse.url,
            "matrix_user_binary": str(self.pinned),
        }
        if become:
            values.update(
                ansible_become=True,
                matrix_user_registration_shared_secret_file=self.synapse.shared_secret_file,
                matrix_user_admin_access_token_file=self.synapse.admin_token_file,
                # Not /usr/local/lib/matrix-user: tests must leave the machine as they found it.
                matrix_user_install_dir=str(self.sshd.dir / f"install-{self.name}"),
            )
        else:
            values.update(
                matrix_user_registration_shared_secret_file=self.user_secrets["shared_secret"],
                matrix_user_admin_access_token_file=self.user_secrets["admin_token"],
                matrix_user_install_dir=str(self.sshd.home / f"install-{self.name}"),
            )
        values.update(extra)
        values = {k: v for k, v in values.items() if v is not None}
        if values.get("matrix_user_install_dir"):
            self.install_dirs.append(Path(values["matrix_user_install_dir"]))
        return values

    def inventory(self, **host_vars):
        return self.sshd.inventory(self.tmp_path / f"inventory-{uuid.uuid4().hex[:8]}", host_vars, host=HOST)

    def env(self, pipelining=True, **extra):
        env = dict(os.environ, PATH=f"{VENV_BIN}:{os.environ['PATH']}", ANSIBLE_NOCOLOR="1")
        # The collection comes from this checkout (ansible.cfg); the bare binary module from `library`.
        env.update(ANSIBLE_LIBRARY=str(self.library))
        env["ANSIBLE_PIPELINING"] = "1" if pipelining else "0"
        env.update(extra)
        return env

    def just(self, inventory, *args, secrets=(), pipelining=True):
        self.secrets += secrets
        env = self.env(pipelining, MATRIX_USER_INVENTORY=str(inventory))
        proc = subprocess.run([VENV_BIN / "just", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
        return Run(proc, self.secrets)

    def playbook(self, inventory, playbook, *args, secrets=(), pipelining=True):
        self.secrets += secrets
        proc = subprocess.run(
            [VENV_BIN / "ansible-playbook", "-i", inventory, playbook, *args],
            cwd=REPO,
            env=self.env(pipelining),
            capture_output=True,
            text=True,
            timeout=300,
        )
        return Run(proc, self.secrets)

    def installed(self, install_dir):
        return Path(install_dir) / version() / "matrix-user"


def version():
    return re.search(r'^version = "(.*)"', (REPO / "Cargo.toml").read_text(), re.M).group(1)


@pytest.fixture
def ssh(sshd, synapse, user_secrets, pinned, library, tmp_path, name):  # noqa: F811
    ssh = Ssh(sshd, synapse, user_secrets, pinned, library, tmp_path, name)
    tmp_before = {p for root in TMP_ROOTS for p in root.iterdir()}
    started = time.time()
    yield ssh
    leaks = find_leaks(ssh, tmp_before, started)
    for folder in ssh.install_dirs:
        shutil.rmtree(folder, ignore_errors=True)
    assert not leaks, "\n".join(leaks)


# --------------------------------------------------------------------------------------------
# The leak check
# --------------------------------------------------------------------------------------------

TMP_ROOTS = [Path("/tmp"), Path("/var/tmp")]


def holding_secrets(paths, secrets):
    """Regular files under `paths` that hold a secret in any of its forms."""
    needles = [form.encode() for secret in secrets for form in forms(secret)]
    found = []
    for top in paths:
        top = Path(top)
        if not top.exists():
            continue
        walk = [(str(top.parent), [], [top.name])] if top.is_file() else os.walk(top)
        for folder, _, files in walk:
            for file in files:
                path = Path(folder) / file
                try:
                    info = path.lstat()
                    if not stat.S_ISREG(info.st_mode) or info.st_size > 64 << 20:
                        continue
                    data = path.read_bytes()
                except OSError:
                    continue
                if any(needle in data for needle in needles):
                    found.append(str(path))
    return found


def find_leaks(ssh, tmp_before, started):
    host, synapse = ssh.sshd, ssh.synapse
    leaks = []
    # Ansible's temporary folders on the host: the login user's, and root's (become).
    for tmp in (host.home / ".ansible" / "tmp",):
        left = [p.name for p in tmp.iterdir()] if tmp.exists() else []
        if left:
            leaks.append(f"left in {tmp}: {left}")
    # Anything holding a secret: the login user's home (but the secrets it was given), the
    # install folders, root's Ansible folders, and what appeared in /tmp and /var/tmp meanwhile
    # (but this run's Synapse, sshd and pytest folders, which hold the secrets by design).
    home = [p for p in host.home.iterdir() if p.name != "secrets"]
    ours = {synapse.dir.parent, host.dir, ssh.tmp_path.parents[1]}
    new_tmp = [
        p for root in TMP_ROOTS for p in root.iterdir()
        if p not in tmp_before and p not in ours and not any(o in p.parents for o in ours)
    ]
    # Ansible's default remote temp for the (root) user the tests run as, where become lands.
    root_ansible = Path.home() / ".ansible" / "tmp"
    for path in holding_secrets([*home, *ssh.install_dirs, root_ansible, *new_tmp], ssh.secrets):
        leaks.append(f"a secret is in {path}")
    for folder in ssh.install_dirs:
        if folder.exists():
            extra = [str(p) for p in folder.rglob("*") if p.is_file() and p.name != "matrix-user"]
            if extra:
                leaks.append(f"unexpected files in the install folder: {extra}")
    return leaks


# --------------------------------------------------------------------------------------------
# Helpers on the output
# --------------------------------------------------------------------------------------------


def report_lines(run):
    """The lines the module task printed under itself (`  [host] ...`)."""
    return re.findall(rf"^  \[{re.escape(HOST)}\] (.*)$", run.stdout, re.M)


def reported(run):
    """What the module task reported for the users (not the install, not the diff)."""
    return [line for line in report_lines(run) if not line.startswith(("installed matrix-user ", "diff: "))]


def installed_to(run):
    """Where the run installed the binary on the host, or None when it copied nothing."""
    found = [re.match(r"installed matrix-user \S+ at (\S+) ", line) for line in report_lines(run)]
    found = [m.group(1) for m in found if m]
    assert len(found) <= 1, found
    return found[0] if found else None


def register_sequence(ssh, inventory, name, password, pipelining=True, first_changes=1, steps=4):
    """create admin, re-run, demote, promote (the first `steps` of them): each run and where the
    host's logs stood before it. Checks the recap's `changed` and the admin flag after each."""
    synapse = ssh.synapse
    outcome = []
    for admin, changed in (("yes", first_changes), ("yes", 0), ("no", 1), ("yes", 1))[:steps]:
        mark = ssh.sshd.log_mark()
        r = ssh.just(inventory, "register-user", name, password, admin, "-v", secrets=[password], pipelining=pipelining)
        assert r.returncode == 0, r.output
        assert r.recap()["changed"] == changed, r.stdout
        assert synapse.is_admin(name) is (admin == "yes")
        outcome.append((r, mark))
    assert synapse.can_log_in(name, password)
    return outcome


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "script-shipped"])
@pytest.mark.parametrize("become", [False, True], ids=["login-user", "become-root"])
def test_register_rerun_demote_over_ssh(ssh, name, become, pipelining):
    password = "it's \"$HOME\" x ✓"
    host_vars = ssh.host_vars(become=become)
    inventory = ssh.inventory(**host_vars)
    installed = ssh.installed(host_vars["matrix_user_install_dir"])

    # The full sequence pipelined (as ansible.cfg sets it); with the script shipped, what differs:
    # the install and a re-run.
    runs = register_sequence(ssh, inventory, name, password, pipelining, steps=4 if pipelining else 2)
    (first, _), (second, second_mark) = runs[:2]

    # The first run installed the binary, once, at the versioned path, as the user that runs it.
    assert installed_to(first) == str(installed)
    info = installed.stat()
    assert stat.S_IMODE(info.st_mode) == 0o755
    assert info.st_uid == (0 if become else ssh.sshd.uid)
    assert installed.read_bytes() == ssh.pinned.read_bytes()
    assert reported(first) == [f"created {ssh.synapse.user_id(name)} as an admin"]

    # The second run transferred no binary: the action plugin found the same checksum, the host's
    # SFTP server wrote nothing that large, and the installed file is the same one (same inode).
    assert installed_to(second) is None
    written = ssh.sshd.bytes_written_since(second_mark)
    assert not [(p, n) for p, n in written if n >= 1 << 20 or p.endswith("/.source")], written
    if pipelining:
        assert written == [], written  # no module file, no args file: all over the SSH channel
    else:
        # Only the args file: the check and the run are one command line.
        sizes = {Path(p).name: n for p, n in written}
        assert sizes["args"] < 4096 and set(sizes) == {"args"}, written
    # One SSH operation per run once installed, pipelined (the args file adds its own otherwise):
    # the second run and each one after it.
    if pipelining:
        assert ssh.sshd.sessions_since(second_mark) == len(runs) - 1, ssh.sshd.log_since(second_mark)
    assert installed.stat().st_ino == info.st_ino
    assert reported(second) == [f"{ssh.synapse.user_id(name)} is already as wanted"]
    if pipelining:
        assert reported(runs[2][0]) == [f"demoted {ssh.synapse.user_id(name)} from admin"]
        assert "promoted" in reported(runs[3][0])[0]


def test_check_mode_installs_the_tool_and_changes_no_user_in_the_default_folder(ssh, name):
    """Without become the binary goes to ~/.local/lib/matrix-user. `--check` installs it too (the
    module must run to predict anything) and creates no user."""
    password = "default-folder-pw"
    inventory = ssh.inventory(**ssh.host_vars(matrix_user_install_dir=None))
    default = ssh.sshd.home / ".local" / "lib" / "matrix-user"
    ssh.install_dirs.append(default)
    r = ssh.just(inventory, "register-user", name, password, "no", "-v", "--check", secrets=[password])
    assert r.returncode == 0, r.output
    assert installed_to(r) == str(default / version() / "matrix-user")
    assert (default / version() / "matrix-user").stat().st_uid == ssh.sshd.uid
    assert reported(r) == [f"would create {ssh.synapse.user_id(name)}"]
    assert ssh.synapse.user(name) is None


def test_ensure_users_over_ssh(ssh, name):
    """The ensure-matrix-users-created tag: the same install, then one task for the whole list."""
    users = [{"username": f"{name}-{i}", "password": f"pw-{name}-{i}", "admin": i == 0} for i in range(3)]
    inventory = ssh.inventory(**ssh.host_vars(become=True))
    extra = ssh.tmp_path / "users.json"
    extra.write_text(json.dumps({"matrix_user_users": users}))
    extra.chmod(0o600)
    passwords = [u["password"] for u in users]
    for changed in (1, 0):
        r = ssh.just(inventory, "ensure-users", f"--extra-vars=@{extra}", secrets=passwords)
        assert r.returncode == 0, r.output
        assert r.recap()["changed"] == changed, r.stdout
    assert [ssh.synapse.is_admin(u["username"]) for u in users] == [True, False, False]


def test_run_on_controller_gives_the_same_results(ssh, name):
    password = "controller-pw-Ü"
    on_host, on_controller = name + "-h", name + "-c"
    host_vars = ssh.host_vars(become=True)
    inventory = ssh.inventory(**host_vars)
    # Installed first, so both sequences below start alike.
    r = ssh.just(inventory, "register-user", name, password, "no", secrets=[password])
    assert r.returncode == 0, r.output

    host_runs = register_sequence(ssh, inventory, on_host, password)
    # With `become` set for the host: on the controller the module must not use it. The secret
    # files are Synapse's, on the controller (this machine).
    controller_inventory = ssh.inventory(**dict(host_vars, matrix_user_run_on="controller", matrix_user_install_dir=None))
    controller_runs = register_sequence(ssh, controller_inventory, on_controller, password)

    for (h, _), (c, mark) in zip(host_runs, controller_runs, strict=True):
        assert [m.replace(on_host, "NAME") for m in reported(h)] == [m.replace(on_controller, "NAME") for m in reported(c)]
        # Nothing ran on the host: no command, no SFTP session.
        assert ssh.sshd.sessions_since(mark) == 0, ssh.sshd.log_since(mark)
        assert installed_to(c) is None
    assert ssh.synapse.is_admin(on_controller) is True


def test_the_plain_binary_and_the_installed_one_give_identical_results(ssh, name):
    """The bare binary module (uploaded whole), and the collection's matrix_user with an args file
    and pipelined, on the same inputs."""
    password = "identical-pw"
    existing = name + "-e"
    ssh.synapse.create(existing, password, admin=True)
    host_vars = ssh.host_vars()
    inventory = ssh.inventory(**host_vars)
    r = ssh.just(inventory, "register-user", name + "-setup", password, "no", secrets=[password])
    assert r.returncode == 0, r.output
    assert ssh.installed(host_vars["matrix_user_install_dir"]).exists()

    common = {
        "homeserver_url": "{{ matrix_user_homeserver_url }}",
        "server_name": "{{ matrix_domain }}",
        "registration_shared_secret_file": "{{ matrix_user_registration_shared_secret_file }}",
        "admin_access_token_file": "{{ matrix_user_admin_access_token_file }}",
        "password": password,
    }
    cases = [
        ({**common, "username": name, "admin": True}, True),  # would create (check mode)
        ({**common, "username": existing, "admin": False}, True),  # would demote (check mode, diff)
        ({**common, "username": existing, "admin": True}, False),  # nothing to do
        ({**common, "username": "not valid!", "admin": False}, False),  # refused
    ]
    ways = {
        "plain": {"module": "matrix_user_plain", "vars": {}},
        "script": {"module": "matrix_user.homeserver.matrix_user", "vars": {"ansible_pipelining": False}},
        "pipelined": {"module": "matrix_user.homeserver.matrix_user", "vars": {"ansible_pipelining": True}},
    }
    out = ssh.tmp_path / "results.json"
    plays = []
    for way, how in ways.items():
        tasks = []
        for i, (args, check) in enumerate(cases):
            tasks.append({
                "name": f"{way} {i}",
                how["module"]: args,
                "check_mode": check,
                "diff": check,
                "register": f"result_{i}",
                "ignore_errors": True,
            })
        tasks.append({
            "name": f"save {way}",
            "ansible.builtin.copy": {
                "content": "{{ [" + ", ".join(f"result_{i}" for i in range(len(cases))) + "] | to_json }}",
                "dest": f"{out}.{way}",
                "mode": "0600",
            },
            "delegate_to": "localhost",
            "become": False,
        })
        plays.append({"name": way, "hosts": "matrix_servers", "gather_facts": False, "vars": how["vars"], "tasks": tasks})
    playbook = ssh.tmp_path / "identical.yml"
    playbook.write_text(json.dumps(plays))
    r = ssh.playbook(inventory, playbook, secrets=[password], pipelining=True)
    assert r.returncode == 0 and r.recap()["ignored"] == len(ways), r.output

    def comparable(result):
        return {k: v for k, v in result.items() if k not in ("_ansible_no_log", "binary_installed")}

    results = {way: [comparable(x) for x in json.loads(Path(f"{out}.{way}").read_text())] for way in ways}
    assert results["plain"] == results["script"] == results["pipelined"], json.dumps(results, indent=1)
    assert results["plain"][0]["changed"] is True and "would create" in results["plain"][0]["msg"]
    assert results["plain"][1]["diff"]["after"]["admin"] is False
    assert results["plain"][2]["changed"] is False
    assert results["plain"][3]["failed"] is True
    assert ssh.synapse.user(name) is None and ssh.synapse.is_admin(existing) is True


@pytest.mark.parametrize(
    "fact, value, why, triple",
    [
        ("ansible_architecture", "aarch64", "it is built for x86_64, the host is aarch64", "aarch64-unknown-linux-musl"),
        ("ansible_system", "FreeBSD", "it is built for Linux, the host runs FreeBSD", "x86_64-unknown-freebsd"),
    ],
)
def test_a_host_of_another_kind_fails_before_anything_is_copied(ssh, name, fact, value, why, triple):
    if os.uname().machine != "x86_64":
        pytest.skip("the expected messages name x86_64, this machine's build")
    password = "mismatch-pw"
    host_vars = ssh.host_vars(matrix_user_binary=None)  # the role's own choice: target/release/matrix-user
    inventory = ssh.inventory(**host_vars)
    mark = ssh.sshd.log_mark()
    r = ssh.just(inventory, "register-user", name, password, "yes", f"--extra-vars={fact}={value}", secrets=[password])
    assert r.returncode != 0
    assert "cannot run on matrix.example.com" in r.output and why in r.output, r.output
    assert f"just build-target {triple}" in r.output and "matrix_user_run_on: controller" in r.output
    assert "Nothing was copied" in r.output
    assert "MODULE FAILURE" not in r.output
    assert not Path(host_vars["matrix_user_install_dir"]).exists()
    assert not [(p, n) for p, n in ssh.sshd.bytes_written_since(mark) if n >= 1 << 20 or p.endswith("/.source")]
    assert ssh.synapse.user(name) is None


def test_a_host_with_an_older_glibc_fails_before_anything_is_copied(ssh, name):
    data = bytearray(ssh.pinned.read_bytes())
    found = sorted(set(re.findall(rb"GLIBC_2\.[0-9]+\0", data)), key=lambda v: int(v[8:-1]))
    if not found:
        pytest.skip("the build here does not link glibc dynamically")
    newest = found[-1]
    at = data.index(newest)
    data[at : at + len(newest)] = b"GLIBC_2.99\0".ljust(len(newest), b"\0")
    needy = ssh.tmp_path / "needs-glibc-2.99" / "matrix-user"
    needy.parent.mkdir()
    needy.write_bytes(bytes(data))
    needy.chmod(0o755)
    password = "old-glibc-pw"
    host_vars = ssh.host_vars(matrix_user_binary=str(needy))
    r = ssh.just(ssh.inventory(**host_vars), "register-user", name, password, "yes", secrets=[password])
    assert r.returncode != 0
    assert "it needs glibc 2.99 or newer, the host has glibc" in r.output, r.output
    assert "just build-target x86_64-unknown-linux-musl" in r.output or os.uname().machine != "x86_64"
    assert not Path(host_vars["matrix_user_install_dir"]).exists()
    assert ssh.synapse.user(name) is None


@pytest.fixture
def noexec(ssh):
    """A tmpfs mounted noexec (world-writable, sticky), unmounted after the test."""
    if os.geteuid() != 0:
        pytest.skip("mounting a noexec tmpfs needs root")
    point = ssh.sshd.dir / f"noexec-{ssh.name}"
    point.mkdir()
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", "noexec,nosuid,nodev,size=64m,mode=1777", "tmpfs", point],
                         capture_output=True, text=True)
    if out.returncode != 0:
        point.rmdir()
        pytest.skip(f"this machine does not allow mounting a tmpfs: {out.stderr.strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", point], check=True)
        point.rmdir()


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "script-shipped"])
def test_a_noexec_remote_temp_does_not_stop_the_role(ssh, name, noexec, pipelining):
    """The module Ansible ships is run by /bin/sh and the binary from the install folder, so a
    noexec temporary folder on the host is no obstacle. The plain binary module, which Ansible
    executes from that folder, cannot start there; the role's message says why."""
    password = "noexec-tmp-pw"
    remote_tmp = noexec / "tmp"
    host_vars = ssh.host_vars(ansible_remote_tmp=str(remote_tmp))
    inventory = ssh.inventory(**host_vars)
    r = ssh.just(inventory, "register-user", name, password, "yes", secrets=[password], pipelining=pipelining)
    assert r.returncode == 0, r.output
    assert ssh.synapse.is_admin(name) is True

    # The plain binary, uploaded to the noexec temp folder and executed there, cannot start.
    playbook = ssh.tmp_path / "plain.yml"
    playbook.write_text(json.dumps([{
        "hosts": "matrix_servers", "gather_facts": False,
        "tasks": [{"name": "plain", "matrix_user_plain": {"username": name, "password": password}, "no_log": True,
                   "register": "plain", "ignore_errors": True},
                  {"name": "save", "ansible.builtin.copy": {"content": "{{ plain | to_json }}", "dest": str(ssh.tmp_path / "plain.json"),
                                                           "mode": "0600"}, "delegate_to": "localhost"}],
    }]))
    r = ssh.playbook(inventory, playbook, secrets=[password])
    plain = json.loads((ssh.tmp_path / "plain.json").read_text())
    # Over SSH with a tty the shell's error comes on stdout.
    assert plain["failed"] is True and "Permission denied" in plain["module_stdout"] + plain["module_stderr"], plain
    # What the role's rescue makes of such a result (plugins/plugin_utils/start.py).
    from test_host_check import start

    msg = start.start_failure(plain, "the binary", HOST)
    assert "noexec" in msg and "Permission denied" in msg


def test_a_noexec_install_folder_is_explained_and_nothing_is_left(ssh, name, noexec):
    password = "noexec-install-pw"
    install = noexec / "install"
    host_vars = ssh.host_vars(matrix_user_install_dir=str(install))
    r = ssh.just(ssh.inventory(**host_vars), "register-user", name, password, "yes", secrets=[password])
    assert r.returncode != 0
    assert "refuses to execute" in r.output and "noexec" in r.output and "matrix_user_install_dir" in r.output, r.output
    assert "MODULE FAILURE" not in r.output
    # The binary the host cannot start was removed again: the next run copies and checks anew.
    assert not (install / version() / "matrix-user").exists()
    assert ssh.synapse.user(name) is None


@pytest.mark.parametrize("become", [False, True], ids=["login-user", "become-root"])
def test_an_unreadable_secret_file_names_the_file_and_the_user(ssh, name, become):
    """`*_file` secrets are read on the host by the user the module runs as: the become user."""
    password = "unreadable-pw"
    if become:
        # root reads every file: a missing one shows the user named is the become user, not the login user.
        path = str(ssh.sshd.dir / "no-such-secret")
        expected_user = "root"
    else:
        path = ssh.synapse.shared_secret_file  # Synapse's own, mode 0600, owned by root
        expected_user = ssh.sshd.user
    host_vars = ssh.host_vars(become=become, matrix_user_registration_shared_secret_file=path)
    r = ssh.just(ssh.inventory(**host_vars), "register-user", name, password, "yes", secrets=[password])
    assert r.returncode != 0
    assert f"cannot read {path} as user {expected_user}:" in r.output, r.output
    assert ("Permission denied" if not become else "No such file or directory") in r.output
    assert ssh.synapse.user(name) is None


def test_run_on_is_validated_before_anything_runs(synapse, run, name):
    """The role's argument spec refuses a bad value before any task (no SSH host needed)."""
    password = "validated-pw"
    r = run.just("register-user", name, password, "yes", "--extra-vars=matrix_user_run_on=somewhere", secrets=[password])
    assert r.returncode != 0
    assert "matrix_user_run_on" in r.output and "Validating arguments against arg spec" in r.output, r.output
    assert "Copy the binary" not in r.output and "Ensure the Matrix users" not in r.output
    assert synapse.user(name) is None
