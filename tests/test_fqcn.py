"""The collection as its users call it: plays that name only FQCNs (matrix_user.homeserver.*), run
from a folder of their own (no ansible.cfg of this repository), against a real Synapse, on the
local connection and over real SSH with become.

Where the collection comes from is one setting, COLLECTIONS_PATH: this checkout by default
(.collections/ansible_collections/matrix_user/homeserver is a link to the repository root), or a
folder the built collection was installed into (`ansible-galaxy collection install -p DIR ...`),
given as MATRIX_USER_TEST_COLLECTIONS_PATH. MATRIX_USER_TEST_ANSIBLE_BIN names the folder of another
ansible-core's ansible-playbook (`just test-ansible-range` runs this file under 2.15 and 2.19)."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, VENV_BIN, Run
from sshhost import sshd  # noqa: F401  (the fixture)
from test_ssh import HOST, library, pinned, ssh, user_secrets, version  # noqa: F401  (fixtures)

COLLECTIONS_PATH = os.environ.get("MATRIX_USER_TEST_COLLECTIONS_PATH") or str(REPO / ".collections")
#: The ansible-playbook to run: the venv's, or another ansible-core's (just test-ansible-range).
ANSIBLE_BIN = Path(os.environ.get("MATRIX_USER_TEST_ANSIBLE_BIN") or VENV_BIN)
MODULE = "matrix_user.homeserver.matrix_user"


def play(tmp_path, inventory, tasks, secrets, pipelining=True, extra=()):
    """Runs one play of `tasks` on the inventory's matrix_servers, from `tmp_path` (so that no
    ansible.cfg of the repository applies), with the collection from COLLECTIONS_PATH."""
    playbook = tmp_path / "play.yml"
    playbook.write_text(json.dumps([{"name": "FQCN only", "hosts": "matrix_servers", "gather_facts": False, "tasks": tasks}]))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        PATH=f"{ANSIBLE_BIN}:{VENV_BIN}:{os.environ['PATH']}",
        ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_PATH,
        ANSIBLE_PIPELINING="1" if pipelining else "0",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_HOST_KEY_CHECKING="1",
    )
    proc = subprocess.run(
        [ANSIBLE_BIN / "ansible-playbook", "-i", str(inventory), str(playbook), *extra],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Run(proc, secrets)


def ensure_tasks(args, out):
    """The module task, and one that saves its registered result on the controller."""
    return [
        {"name": "Ensure the user", MODULE: args, "register": "result", "no_log": True},
        {
            "name": "Save the result",
            "ansible.builtin.copy": {"content": "{{ result | to_json }}", "dest": str(out), "mode": "0600"},
            "delegate_to": "localhost",
            "become": False,
            "changed_when": False,
            "check_mode": False,
        },
    ]


def test_the_module_by_its_fqcn_on_the_local_connection(synapse, tmp_path, name):
    password = "fqcn-local-pw-1"
    out = tmp_path / "result.json"
    args = {
        "homeserver_url": synapse.url,
        "server_name": synapse.server_name,
        "registration_shared_secret_file": synapse.shared_secret_file,
        "admin_access_token_file": synapse.admin_token_file,
        "username": name,
        "password": password,
        "admin": True,
    }
    secrets = [password, *synapse.secrets]
    r = play(tmp_path, synapse.inventory, ensure_tasks(args, out), secrets, extra=["--check"])
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 1 and synapse.user(name) is None
    assert "would create" in json.loads(out.read_text())["msg"]

    for changed in (1, 0):
        r = play(tmp_path, synapse.inventory, ensure_tasks(args, out), secrets)
        assert r.returncode == 0, r.output
        assert r.recap()["changed"] == changed, r.stdout
        result = json.loads(out.read_text())
        # The local connection runs the controller's binary: nothing is installed.
        assert result["binary_installed"] is False and result["changed"] is (changed == 1)
    assert synapse.is_admin(name) is True and synapse.can_log_in(name, password)


def test_the_role_by_its_fqcn(synapse, tmp_path, name):
    password = "fqcn-role-pw-1"
    tasks = [{
        "name": "Register one user with the role",
        "ansible.builtin.include_role": {"name": "matrix_user.homeserver.matrix_user"},
        "vars": {"username": name, "password": password, "admin": "no", "matrix_user_module_build": False},
    }]
    for changed in (1, 0):
        r = play(tmp_path, synapse.inventory, tasks, [password, *synapse.secrets])
        assert r.returncode == 0, r.output
        assert r.recap()["changed"] == changed, r.stdout
    assert f"[{HOST}] {synapse.user_id(name)} is already as wanted" in r.stdout
    assert "skipping" not in r.stdout
    assert synapse.is_admin(name) is False


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "args-file"])
def test_the_module_by_its_fqcn_over_ssh_with_become(ssh, tmp_path, name, pipelining):  # noqa: F811
    """Installed once, checked by its sha256 on every run, never copied again."""
    password = "fqcn-ssh-pw-Ü"
    host_vars = ssh.host_vars(become=True)
    inventory = ssh.inventory(**host_vars)
    installed = ssh.installed(host_vars["matrix_user_install_dir"])
    out = tmp_path / "result.json"
    # As a user writes it: the install settings come from the host's variables (matrix_user_binary,
    # matrix_user_install_dir), the connection's from the task.
    args = {
        "homeserver_url": "{{ matrix_user_homeserver_url }}",
        "server_name": "{{ matrix_domain }}",
        "registration_shared_secret_file": "{{ matrix_user_registration_shared_secret_file }}",
        "admin_access_token_file": "{{ matrix_user_admin_access_token_file }}",
        "username": name,
        "password": password,
        "admin": True,
    }
    ssh.secrets.append(password)

    r = play(tmp_path, inventory, ensure_tasks(args, out), ssh.secrets, pipelining)
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 1
    first = json.loads(out.read_text())
    assert first["binary_installed"] is True and first["created"] is True
    info = installed.stat()
    assert info.st_uid == 0 and oct(info.st_mode & 0o777) == "0o755"
    assert installed.read_bytes() == ssh.pinned.read_bytes()

    mark = ssh.sshd.log_mark()
    r = play(tmp_path, inventory, ensure_tasks(args, out), ssh.secrets, pipelining)
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 0
    second = json.loads(out.read_text())
    assert second["binary_installed"] is False and second["changed"] is False
    # Not copied again: same file, same time, and the host's SFTP server wrote no binary.
    again = installed.stat()
    assert (again.st_ino, again.st_mtime_ns) == (info.st_ino, info.st_mtime_ns)
    assert not [(p, n) for p, n in ssh.sshd.bytes_written_since(mark) if n >= 1 << 20], ssh.sshd.bytes_written_since(mark)
    if pipelining:
        assert ssh.sshd.sessions_since(mark) == 1, ssh.sshd.log_since(mark)
    assert ssh.synapse.is_admin(name) is True


def test_an_installed_binary_of_another_version_is_replaced_not_run(ssh, tmp_path, name):  # noqa: F811
    """A binary at the versioned path whose sha256 is not the collection's (an old build, a
    tampered file) is never run: the action plugin installs its own over it."""
    password = "fqcn-old-binary-pw"
    host_vars = ssh.host_vars(become=True)
    inventory = ssh.inventory(**host_vars)
    installed = ssh.installed(host_vars["matrix_user_install_dir"])
    installed.parent.mkdir(parents=True)
    installed.write_text("#!/bin/sh\necho '{\"changed\": false, \"msg\": \"the old binary ran\"}'\n")
    installed.chmod(0o755)
    out = tmp_path / "result.json"
    args = {
        "homeserver_url": "{{ matrix_user_homeserver_url }}",
        "server_name": "{{ matrix_domain }}",
        "registration_shared_secret_file": "{{ matrix_user_registration_shared_secret_file }}",
        "username": name,
        "password": password,
    }
    ssh.secrets.append(password)
    r = play(tmp_path, inventory, ensure_tasks(args, out), ssh.secrets)
    assert r.returncode == 0, r.output
    result = json.loads(out.read_text())
    assert result["binary_installed"] is True and result["created"] is True, result
    assert installed.read_bytes() == ssh.pinned.read_bytes()
    assert Path(installed.parent / ".matrix-user.new").exists() is False


def test_a_binary_already_on_the_host_is_run_as_it_is(ssh, tmp_path, name):  # noqa: F811
    """host_binary (say, from `cargo install` on the host): nothing probed, copied or installed."""
    password = "fqcn-host-binary-pw"
    host_vars = ssh.host_vars(become=True)
    inventory = ssh.inventory(**host_vars)
    out = tmp_path / "result.json"
    args = {
        "homeserver_url": "{{ matrix_user_homeserver_url }}",
        "server_name": "{{ matrix_domain }}",
        "registration_shared_secret_file": "{{ matrix_user_registration_shared_secret_file }}",
        "username": name,
        "password": password,
        "host_binary": str(ssh.pinned),  # this machine is the SSH host too
    }
    ssh.secrets.append(password)
    mark = ssh.sshd.log_mark()
    r = play(tmp_path, inventory, ensure_tasks(args, out), ssh.secrets)
    assert r.returncode == 0, r.output
    result = json.loads(out.read_text())
    assert result["binary_installed"] is False and result["created"] is True, result
    assert not Path(host_vars["matrix_user_install_dir"]).exists()
    assert ssh.sshd.sessions_since(mark) == 1, ssh.sshd.log_since(mark)
