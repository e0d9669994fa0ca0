"""How a password gets into `just register-user` and `just ensure-users`: `-` reads it from standard
input (or asks for it on a terminal) so that it is in no process's command line, and nothing given
through these recipes is templated by Ansible, against a real Synapse."""

import json
import os
import pty
import termios
import threading
import time
import uuid
from pathlib import Path

import pytest

# Spaces, quotes, `$`, `{{ }}`, backticks, a leading `-`, a trailing space, non-ASCII.
STDIN_PASSWORDS = [
    "-leading dash it's \"$HOME\" `id` {{ lookup('env', 'HOME') }} ",
    "-x",
    "pässwörd ✓ \\ back\\slash",
]


def attack(marker):
    """A password that runs `touch marker` on the controller if Ansible templates it."""
    return "{{ lookup('pipe', 'touch " + str(marker) + "') }}"


class Background:
    """Runs `self._run` in a thread for the length of a `with` block, then stops it."""

    def __init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=10)
        assert not self._thread.is_alive()


class CommandLines(Background):
    """Watches every process's command line (/proc/*/cmdline) from a thread while a command runs,
    and collects those that hold `secret`, as (pid, argv) pairs. `seen` holds the command lines
    of all processes whose argv mentions one of `names`, to show the watch saw them run."""

    def __init__(self, secret, names=("extra-vars", "ansible-playbook")):
        self.secret = secret.encode()
        self.names = [n.encode() for n in names]
        self.holding = {}
        self.seen = []
        super().__init__()

    def _run(self):
        deadline = time.monotonic() + 600
        own = str(os.getpid())
        while not self._stop.is_set() and time.monotonic() < deadline:
            for pid in os.listdir("/proc"):
                if not pid.isdigit() or pid == own:
                    continue
                try:
                    cmdline = Path("/proc", pid, "cmdline").read_bytes()
                except OSError:
                    continue
                argv = [arg.decode(errors="replace") for arg in cmdline.split(b"\0")[:-1]]
                if self.secret in cmdline:
                    self.holding[pid] = argv
                if any(name in cmdline for name in self.names) and argv not in self.seen:
                    self.seen.append(argv)

    def saw(self, name):
        return any(name in " ".join(argv) for argv in self.seen)


@pytest.fixture
def slow_helper(tmp_path):
    """Environment that makes scripts/extra-vars start half a second late (a `sitecustomize` on
    PYTHONPATH), so that a watch polling /proc cannot miss its command line on a busy machine."""
    folder = tmp_path / "slow-helper"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(
        "import time\n"
        "with open('/proc/self/cmdline', 'rb') as f:\n"
        "    if b'scripts/extra-vars' in f.read():\n"
        "        time.sleep(0.5)\n"
    )
    return {"PYTHONPATH": str(folder)}


def register_on_stdin(run, name, password, stdin, admin="yes", env=None):
    return run.just("register-user", name, "-", admin, stdin=stdin, secrets=[password], env=env)


@pytest.mark.parametrize("password", STDIN_PASSWORDS, ids=range(len(STDIN_PASSWORDS)))
@pytest.mark.parametrize("newline", ["\n", ""], ids=["echo", "printf"])
def test_a_password_on_standard_input_reaches_the_server_as_given(synapse, run, name, password, newline):
    r = register_on_stdin(run, name, password, password + newline)
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 1
    assert synapse.is_admin(name) is True
    assert synapse.can_log_in(name, password)
    assert not synapse.can_log_in(name, password + "\n")

    r = register_on_stdin(run, name, password, password + newline)
    assert r.returncode == 0, r.output
    assert r.recap()["changed"] == 0
    assert "is already as wanted" in r.stdout


def test_only_one_trailing_newline_is_dropped(synapse, run, name):
    password = "two-lines-Password\n"
    r = register_on_stdin(run, name, password, password + "\n", admin="no")
    assert r.returncode == 0, r.output
    assert synapse.can_log_in(name, password)
    assert not synapse.can_log_in(name, password.rstrip("\n"))


@pytest.mark.parametrize("stdin", ["", "\n"], ids=["nothing", "a newline"])
def test_an_empty_password_on_standard_input_runs_nothing(synapse, run, name, stdin):
    r = run.just("register-user", name, "-", "yes", stdin=stdin)
    assert r.returncode != 0
    assert "No password on standard input" in r.stderr, r.output
    assert "PLAY" not in r.stdout, r.stdout
    assert synapse.user(name) is None


def test_the_password_from_standard_input_is_in_no_command_line(synapse, run, name, slow_helper):
    password = "stdin-Password-" + uuid.uuid4().hex
    with CommandLines(password) as watch:
        r = register_on_stdin(run, name, password, password + "\n", env=slow_helper)
    assert r.returncode == 0, r.output
    assert watch.holding == {}, watch.holding
    assert watch.saw("scripts/extra-vars") and watch.saw("ansible-playbook"), watch.seen
    assert synapse.can_log_in(name, password)


def test_the_three_argument_form_keeps_the_password_out_of_the_helpers_command_line(synapse, run, name, slow_helper):
    """The password given as an argument is in `just`'s command line and its recipe shell's, for
    the whole run; the helper that writes the extra vars and Ansible never get it in theirs."""
    password = "argv-Password-" + uuid.uuid4().hex
    with CommandLines(password) as watch:
        r = run.just("register-user", name, password, "no", secrets=[password], env=slow_helper)
    assert r.returncode == 0, r.output
    assert synapse.can_log_in(name, password)
    programs = {pid: os.path.basename(argv[0]) for pid, argv in watch.holding.items()}
    assert programs, "the watch never saw just's command line, which holds the password"
    assert set(programs.values()) <= {"just", "env", "bash"}, watch.holding
    assert watch.saw("scripts/extra-vars") and watch.saw("ansible-playbook"), watch.seen


def test_register_user_templates_nothing(synapse, run, name, tmp_path):
    marker = tmp_path / "marker"
    password = attack(marker)
    r = register_on_stdin(run, name, password, password + "\n", admin="no")
    assert r.returncode == 0, r.output
    r = run.just("register-user", name + "-arg", password, "no", secrets=[password])
    assert r.returncode == 0, r.output
    assert not marker.exists(), "Ansible ran the command in the password"
    assert synapse.can_log_in(name, password)
    assert synapse.can_log_in(name + "-arg", password)


@pytest.mark.parametrize("kind", ["yaml", "json"])
def test_ensure_users_reads_its_file_literally(synapse, run, name, tmp_path, kind):
    marker = tmp_path / "marker"
    users = [
        {"username": name, "password": attack(marker), "admin": True},
        {"username": name + "-b", "password": "it's \"$HOME\" {{ x }} `id` ✓", "admin": "no"},
    ]
    path = tmp_path / f"users.{kind}"
    if kind == "json":
        path.write_text(json.dumps({"matrix_user_users": users}))
    else:
        # As a person would write it: comments, plain and `!unsafe` scalars, yes/no.
        path.write_text(
            "# the users\n"
            "matrix_user_users:\n"
            f"  - username: {name}\n"
            f"    password: \"{users[0]['password']}\"\n"
            "    admin: yes\n"
            f"  - {{username: {name}-b, password: !unsafe '{users[1]['password'].replace(chr(39), chr(39) * 2)}',"
            " admin: no}\n"
        )
    passwords = [u["password"] for u in users]
    for changed in (1, 0):
        r = run.just("ensure-users", str(path), secrets=passwords)
        assert r.returncode == 0, r.output
        assert r.recap()["changed"] == changed, r.stdout
    assert not marker.exists(), "Ansible ran the command in the password"
    assert synapse.can_log_in(name, passwords[0]) and synapse.is_admin(name) is True
    assert synapse.can_log_in(name + "-b", passwords[1]) and synapse.is_admin(name + "-b") is False

    # The control: handed to Ansible as it is (`-e @file`), the same password runs the command.
    control = tmp_path / f"control.{kind}"
    control.write_text(json.dumps({"matrix_user_users": [{"username": name + "-c", "password": users[0]["password"]}]}))
    run.just("ensure-users", "--extra-vars", f"@{control}")
    assert marker.exists(), "the control did not run the command: the test proves nothing"


def test_ensure_users_with_a_missing_file_says_so(run, tmp_path):
    r = run.just("ensure-users", str(tmp_path / "nothing.yml"))
    assert r.returncode != 0
    assert "Cannot read the vars file" in r.stderr and "PLAY" not in r.stdout, r.output


def echo_is_off(fd):
    return not termios.tcgetattr(fd)[3] & termios.ECHO


class Terminal(Background):
    """A pseudo-terminal to give `just` as standard input, typing `lines` once it asks for a
    password (turns echo off)."""

    def __init__(self, lines):
        self.lines = lines
        self.master, self.slave = pty.openpty()
        self.typed = False
        super().__init__()

    def __exit__(self, *exc):
        super().__exit__(*exc)
        os.close(self.slave)
        os.close(self.master)

    def _run(self):
        deadline = time.monotonic() + 300
        while not self._stop.is_set() and time.monotonic() < deadline:
            if echo_is_off(self.master):
                # Both answers at once: typed while echo is off, the terminal keeps them for the
                # two reads and shows neither.
                os.write(self.master, "".join(line + "\n" for line in self.lines).encode())
                self.typed = True
                return
            time.sleep(0.01)


def test_on_a_terminal_the_password_is_asked_for_twice(synapse, run, name):
    password = "typed it's $ecret {{ x }}"
    with Terminal([password, password]) as terminal:
        r = run.just("register-user", name, "-", "yes", stdin=terminal.slave, secrets=[password])
    assert terminal.typed, "the recipe never turned echo off to ask for the password"
    assert r.returncode == 0, r.output
    assert f"Password for {name}: " in r.stderr and "The same password again: " in r.stderr
    assert synapse.can_log_in(name, password) and synapse.is_admin(name) is True


@pytest.mark.parametrize(
    "typed, says",
    [(["first-Password", "second-Password"], "The two passwords differ: nothing was run."),
     ([""], "No password given: nothing was run.")],
    ids=["different", "empty"],
)
def test_a_bad_answer_on_a_terminal_runs_nothing(synapse, run, name, typed, says):
    with Terminal(typed) as terminal:
        r = run.just("register-user", name, "-", "yes", stdin=terminal.slave, secrets=typed)
    assert terminal.typed
    assert r.returncode != 0
    assert says in r.stderr, r.output
    assert "PLAY" not in r.stdout
    assert synapse.user(name) is None
