"""What every throwaway server shares: a process started on 127.0.0.1 and stopped by its handle,
bounded waits, and the tail of its log when it fails."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("MATRIX_USER_VENV") or REPO / ".venv").absolute()
STOP_TIMEOUT = 15


class ServerError(Exception):
    pass


def log(message):
    print(f"servers: {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_in_use(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def write_private(path, text):
    """Writes `text` (no newline added) to a file only its owner may read."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o600)


def tail(path, lines=30):
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return "\n".join([f"--- last lines of {path} ---", *text, "---"]) if text else ""


def alive(pid):
    """Whether `pid` runs (a zombie does not: PID 1 in some containers never reaps)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


class Server:
    """A process of ours, started by `start` and stopped by `stop` (or by leaving `with`)."""

    name = "server"
    start_timeout = 60
    stop_signal = signal.SIGTERM

    def __init__(self, directory):
        self.dir = Path(directory).absolute()
        self.proc = None

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def logs(self):
        """The log files, the one the process's output goes to first."""
        return [self.dir / "console.log"]

    def spawn(self, argv, **kwargs):
        """Starts the process in a session of its own, its output appended to the first log."""
        with open(self.logs[0], "ab") as out:
            self.proc = subprocess.Popen(
                [str(arg) for arg in argv],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.dir,
                start_new_session=True,
                **kwargs,
            )

    def fail(self, message):
        raise ServerError("\n".join([f"{self.name} in {self.dir}: {message}", *filter(None, map(tail, self.logs))]))

    def wait_for(self, ready, what, timeout=None):
        timeout = timeout or self.start_timeout
        deadline = time.monotonic() + timeout
        while not ready():
            if self.proc is not None and self.proc.poll() is not None:
                self.fail(f"exited with status {self.proc.returncode} before {what}")
            if time.monotonic() > deadline:
                self.fail(f"not {what} after {timeout} s")
            time.sleep(0.1)

    def stop(self):
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(self.stop_signal)
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            log(f"{self.name} (pid {proc.pid}) ignored {self.stop_signal.name} for {STOP_TIMEOUT} s: killing it")
            proc.kill()
            proc.wait(5)

    # A daemon (`python -m servers start`) outlives this process: its pid and settings stay in a file.

    @property
    def state_file(self):
        return self.dir / "daemon.json"

    def detach(self, **settings):
        self.state_file.write_text(json.dumps(dict(settings, pid=self.proc.pid)))
        self.proc = None

    def daemon(self):
        """The settings of the daemon running from this folder, or None."""
        try:
            state = json.loads(self.state_file.read_text())
            cmdline = Path(f"/proc/{state['pid']}/cmdline").read_bytes()
        except (OSError, ValueError, KeyError):
            return None
        return state if alive(state["pid"]) and str(self.dir).encode() in cmdline else None

    def stop_daemon(self):
        state = self.daemon()
        self.state_file.unlink(missing_ok=True)
        if state is None:
            log(f"no {self.name} runs from {self.dir}")
            return
        pid = state["pid"]
        for sig, seconds in ((self.stop_signal, STOP_TIMEOUT), (signal.SIGKILL, 5)):
            os.kill(pid, sig)
            deadline = time.monotonic() + seconds
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if not alive(pid):
                log(f"stopped {self.name} (pid {pid})")
                return
        raise ServerError(f"{self.name} (pid {pid}) is still alive after SIGKILL")
