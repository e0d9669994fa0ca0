"""A real SSH host for the tests: the `sshd` fixture (servers.Sshd on 127.0.0.1, its own test user
with key auth and password-less sudo), inventories that reach it, and what it logged."""

import json
import os
import re
import shlex
import shutil
import tempfile
from pathlib import Path

import pytest
from servers import Sshd


def skip_reason():
    """Why this machine cannot run the SSH tests, or None."""
    if os.geteuid() != 0:
        return "the SSH tests need root: they create a test user and start their own sshd"
    for tool, package in (("/usr/sbin/sshd", "openssh-server"), ("/usr/bin/sudo", "sudo")):
        if not os.access(tool, os.X_OK):
            return f"{tool} is missing: install {package} (scripts/install-test-deps does)"
    return None


class SshHost(Sshd):
    """The test sshd and its user, as the tests use them."""

    def give(self, path, content, mode=0o600):
        """A file in the test user's home, owned by it."""
        path = self.home / path
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chown(path.parent, self.uid, self.gid)
        path.write_text(content)
        os.chmod(path, mode)
        os.chown(path, self.uid, self.gid)
        return path

    def inventory(self, directory, host_vars, host="matrix.example.com"):
        """An inventory whose one host is reached over SSH as the test user; returns its hosts file."""
        directory = Path(directory)
        (directory / "host_vars" / host).mkdir(parents=True, exist_ok=True)
        ssh_args = f"-o UserKnownHostsFile={self.known_hosts} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes"
        (directory / "hosts").write_text(
            "[matrix_servers]\n"
            f"{host} ansible_host={self.host} ansible_port={self.port} ansible_user={self.user} "
            f"ansible_ssh_private_key_file={self.key} ansible_ssh_common_args={shlex.quote(ssh_args)} "
            "ansible_python_interpreter=/usr/bin/python3\n"
        )
        lines = ["---"] + [f"{key}: {json.dumps(value)}" for key, value in host_vars.items()]
        (directory / "host_vars" / host / "vars.yml").write_text("\n".join(lines) + "\n")
        return directory / "hosts"

    def log_mark(self):
        """Where sshd's log and the SFTP server's log end now; the `*_since` methods read on from there."""
        return (self.log.stat().st_size, self.sftp_log.stat().st_size)

    @staticmethod
    def _read_from(path, offset):
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def log_since(self, mark):
        return self._read_from(self.log, mark[0])

    def bytes_written_since(self, mark):
        """Each file the host's SFTP server wrote since `mark`, as (path, bytes)."""
        pattern = r'close "([^"]+)" bytes read \d+ written (\d+)'
        return [(path, int(size)) for path, size in re.findall(pattern, self._read_from(self.sftp_log, mark[1]))]

    def sessions_since(self, mark):
        """How many commands or SFTP sessions the host started since `mark`."""
        return len(re.findall(r"Starting session: (command|subsystem)", self.log_since(mark)))


@pytest.fixture(scope="session")
def sshd():
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    directory = Path(tempfile.mkdtemp(prefix="matrix-user-sshd-"))
    try:
        with SshHost(directory) as host:
            yield host
    finally:
        shutil.rmtree(directory, ignore_errors=True)
