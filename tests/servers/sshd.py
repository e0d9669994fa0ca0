"""A throwaway OpenSSH server on 127.0.0.1 with a test user of its own (mxu-<random>, shell
/bin/sh, no password, key auth only, password-less sudo for become). Needs root and Debian's
openssh-server and sudo (scripts/install-test-deps installs them). Leaving it removes the user,
its home and its sudoers file, and ends the sessions the sshd started."""

import os
import pwd
import secrets
import signal
import subprocess
import time
from pathlib import Path

from .base import Server, ServerError, alive, free_port, log, port_in_use

SSHD = "/usr/sbin/sshd"
SFTP_SERVER = "/usr/lib/openssh/sftp-server"


def run(*argv):
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise ServerError(f"{' '.join(argv)} failed: {out.stderr.strip() or out.stdout.strip()}")


def children(pid):
    """The processes below `pid`: the sessions sshd forked (they leave its session)."""
    found, todo = [], [pid]
    while todo:
        try:
            below = Path(f"/proc/{todo.pop()}/task").glob("*/children")
            pids = [int(p) for path in below for p in path.read_text().split()]
        except OSError:
            continue
        found += pids
        todo += pids
    return found


class Sshd(Server):
    name = "sshd"
    start_timeout = 10

    def __init__(self, directory, port=None):
        super().__init__(directory)
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.user = "mxu-" + secrets.token_hex(4)
        self.key = str(self.dir / "client_key")
        self.known_hosts = str(self.dir / "known_hosts")
        self.log = self.dir / "sshd.log"
        self.sftp_log = self.dir / "sftp.log"
        self.made_user = False

    @property
    def logs(self):
        return [self.dir / "console.log", self.log]

    @property
    def pid(self):
        return self.proc.pid

    def start(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o755)
        # sshd reads the user's authorized keys, and the SFTP server writes its log, as the user.
        for parent in self.dir.parents:
            if not parent.stat().st_mode & 0o001:
                raise ServerError(
                    f"{parent} is not searchable by other users, so the test user cannot reach {self.dir}"
                )
        self.made_user = True
        run("useradd", "--create-home", "--shell", "/bin/sh", "--comment", "matrix-user SSH tests", self.user)
        # "*": no password can log in, yet the account is not locked (sshd refuses locked ones).
        run("usermod", "--password", "*", self.user)
        sudoers = Path("/etc/sudoers.d") / self.user
        tmp = sudoers.with_name(f".{self.user}.tmp")
        tmp.write_text(f"{self.user} ALL=(ALL:ALL) NOPASSWD: ALL\n")
        tmp.chmod(0o440)
        run("visudo", "-c", "-q", "-f", str(tmp))
        tmp.replace(sudoers)
        entry = pwd.getpwnam(self.user)
        self.uid, self.gid, self.home = entry.pw_uid, entry.pw_gid, Path(entry.pw_dir)

        for key in ("host_key", "client_key"):
            run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"matrix-user-{key}", "-f", str(self.dir / key))
        authorized = self.dir / "authorized_keys"
        authorized.write_text((self.dir / "client_key.pub").read_text())
        authorized.chmod(0o644)
        host_key = (self.dir / "host_key.pub").read_text().split()
        Path(self.known_hosts).write_text(f"[127.0.0.1]:{self.port} {host_key[0]} {host_key[1]}\n")
        self.sftp_log.touch()
        os.chown(self.sftp_log, self.uid, self.gid)
        self.sftp_log.chmod(0o600)
        config = self.dir / "sshd_config"
        config.write_text(
            f"""Port {self.port}
ListenAddress 127.0.0.1
HostKey {self.dir}/host_key
PidFile none
AuthorizedKeysFile {authorized}
AllowUsers {self.user}
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
UsePAM no
# The keys and the config live in a folder under /tmp, which StrictModes would refuse.
StrictModes no
X11Forwarding no
AllowTcpForwarding no
PrintMotd no
PrintLastLog no
MaxSessions 64
MaxStartups 64
LogLevel VERBOSE
# The SFTP server logs each file it writes, with its size, to sftp.log: the tests read it to prove
# what was transferred. (The subsystem line is run by the user's shell, hence the redirection.)
Subsystem sftp {SFTP_SERVER} -e -l INFO 2>>{self.sftp_log}
"""
        )
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation, as Debian's service makes
        run(SSHD, "-t", "-f", str(config))
        self.spawn([SSHD, "-D", "-f", config, "-E", self.log])
        self.wait_for(lambda: port_in_use(self.port), f"listening on 127.0.0.1:{self.port}")
        log(f"sshd (pid {self.pid}) listens on 127.0.0.1:{self.port}; user {self.user}")
        return self

    def stop(self):
        sessions = children(self.proc.pid) if self.proc else []
        super().stop()
        for pid in sessions:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        while sessions and time.monotonic() < deadline:
            sessions = [pid for pid in sessions if alive(pid)]
            time.sleep(0.05)
        if not self.made_user:
            return
        (Path("/etc/sudoers.d") / self.user).unlink(missing_ok=True)
        out = subprocess.run(["userdel", "--remove", self.user], capture_output=True, text=True, timeout=60)
        if out.returncode not in (0, 6, 12):  # 6: no such user; 12: it had no mail spool
            log(f"userdel {self.user}: {out.stderr.strip()}")
