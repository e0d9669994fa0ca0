"""The action plugin's checks before and after copying the binary to a host, on real binaries: which
binary fits a host (plugins/plugin_utils/host.py) and why one could not start
(plugins/plugin_utils/start.py), from the errors a real start failure prints."""

import importlib.util
import json
import re
import shutil
import subprocess

import pytest

from conftest import BINARY, REPO, VENV_BIN

UTILS = REPO / "plugins" / "plugin_utils"
HOST_PROBE = "system=Linux\narchitecture=x86_64\nuid=0\nhome=/root\nlibc=glibc 2.36\nloader=/lib64/ld-linux-x86-64.so.2\n"
ARM_PROBE = "system=Linux\narchitecture=aarch64\nuid=0\nhome=/root\nlibc=glibc 2.36\nloader=/lib/ld-linux-aarch64.so.1\n"


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lookup = load(UTILS / "host.py", "matrix_user_host")
start = load(UTILS / "start.py", "matrix_user_start")


def patched(tmp_path, name, edit):
    """A copy of the release binary with `edit(bytearray)` applied."""
    data = bytearray(BINARY.read_bytes())
    edit(data)
    path = tmp_path / name
    path.write_bytes(bytes(data))
    path.chmod(0o755)
    return path


def for_aarch64(data):
    data[18:20] = (183).to_bytes(2, "little")  # e_machine EM_AARCH64


def needing_glibc_2_99(data):
    # The newest version the binary needs, renamed: the loader looks it up by name and fails.
    newest = max(set(re.findall(rb"GLIBC_2\.[0-9]+\0", data)), key=lambda v: int(v[8:-1]))
    at = data.index(newest)
    data[at : at + len(newest)] = b"GLIBC_2.99\0".ljust(len(newest), b"\0")


def this_machine_is(system="Linux", architecture="x86_64", libc="glibc"):
    out = subprocess.run(["uname", "-sm"], capture_output=True, text=True).stdout.split()
    ldd = subprocess.run(["ldd", "--version"], capture_output=True, text=True).stdout
    return out == [system, architecture] and libc in ldd.lower()


needs_x86_64_glibc = pytest.mark.skipif(
    not this_machine_is(), reason="the release binary is expected to be Linux x86_64 glibc here"
)


@needs_x86_64_glibc
def test_the_release_binary_is_described_from_its_header():
    described = lookup.describe_binary(BINARY)
    assert described["system"] == "Linux" and described["architecture"] == "x86_64"
    assert described["libc"] == "glibc" and described["interpreter"] == "/lib64/ld-linux-x86-64.so.2"
    assert re.fullmatch(r"2\.[0-9]+", described["glibc"])


@needs_x86_64_glibc
def test_a_fitting_host_gets_the_release_binary():
    picked = lookup.pick(probe=HOST_PROBE, host_name="h")
    assert picked["ok"], picked["msg"]
    assert picked["path"] == str(BINARY.resolve())
    assert picked["version"] == re.search(r'^version = "(.*)"', (REPO / "Cargo.toml").read_text(), re.M).group(1)
    assert picked["host"]["uid"] == "0" and picked["host"]["home"] == "/root"


@needs_x86_64_glibc
@pytest.mark.parametrize(
    "overrides, probe_change, why, triple",
    [
        ({"architecture": "aarch64"}, None, "it is built for x86_64, the host is aarch64", "aarch64-unknown-linux-musl"),
        ({"architecture": "armv7l"}, None, "it is built for x86_64, the host is armv7l", "armv7-unknown-linux-musleabihf"),
        ({"system": "FreeBSD", "architecture": "amd64"}, None, "it is built for Linux, the host runs FreeBSD", "x86_64-unknown-freebsd"),
        ({}, ("glibc 2.36", "glibc 2.17"), "the host has glibc 2.17", "x86_64-unknown-linux-musl"),
        (
            {},
            ("libc=glibc 2.36\nloader=/lib64/ld-linux-x86-64.so.2", "libc=musl\nloader=/lib/ld-musl-x86_64.so.1"),
            "it needs /lib64/ld-linux-x86-64.so.2 (glibc for x86_64), which the host does not have (it has musl)",
            "x86_64-unknown-linux-musl",
        ),
    ],
    ids=["aarch64", "armv7l", "freebsd", "old-glibc", "musl"],
)
def test_a_host_the_binary_does_not_fit_gets_what_to_do(overrides, probe_change, why, triple):
    probe = HOST_PROBE.replace(*probe_change) if probe_change else HOST_PROBE
    picked = lookup.pick(probe=probe, host_name="matrix.example.com", **overrides)
    assert not picked["ok"]
    msg = picked["msg"]
    assert "cannot run on matrix.example.com" in msg and why in msg, msg
    assert f"`just build-target {triple}`" in msg, msg
    assert "matrix_user_run_on: controller" in msg and "Nothing was copied" in msg


def test_a_binary_for_another_architecture_is_recognised(tmp_path):
    arm = patched(tmp_path, "matrix-user", for_aarch64)
    assert lookup.describe_binary(arm)["architecture"] == "aarch64"
    picked = lookup.pick(binary=str(arm), probe=ARM_PROBE, host_name="h")
    # Its loader is the x86-64 one here (only the header was changed): the host lacks it.
    assert not picked["ok"] and "/lib64/ld-linux-x86-64.so.2" in picked["msg"]


def test_a_built_target_is_picked_when_it_fits(tmp_path, monkeypatch):
    (tmp_path / "target" / "release").mkdir(parents=True)
    shutil.copy(BINARY, tmp_path / "target" / "release" / "matrix-user")
    other = tmp_path / "target" / "aarch64-unknown-linux-musl" / "release"
    other.mkdir(parents=True)
    arm = patched(other, "matrix-user", for_aarch64)
    # A static aarch64 binary: no program interpreter (PT_INTERP renamed to PT_NULL).
    data = bytearray(arm.read_bytes())
    phoff = int.from_bytes(data[32:40], "little")
    for i in range(int.from_bytes(data[56:58], "little")):
        at = phoff + i * int.from_bytes(data[54:56], "little")
        if int.from_bytes(data[at : at + 4], "little") == 3:
            data[at : at + 4] = (0).to_bytes(4, "little")
    arm.write_bytes(bytes(data))
    monkeypatch.setattr(lookup, "ROOT", tmp_path)
    picked = lookup.pick(probe=ARM_PROBE, host_name="h")
    assert picked["ok"], picked["msg"]
    assert picked["path"] == str(arm.resolve()) and picked["binary"]["libc"] == ""


def test_a_missing_binary_says_to_build_it(tmp_path, monkeypatch):
    shutil.copy(REPO / "Cargo.toml", tmp_path / "Cargo.toml")  # a source checkout
    monkeypatch.setattr(lookup, "ROOT", tmp_path)
    picked = lookup.pick(probe=HOST_PROBE, host_name="h")
    assert not picked["ok"] and "does not exist" in picked["msg"] and "`just build`" in picked["msg"]


# Start failures, as the action plugin sees them: the result of its run (a shell exec'ing the binary
# that prints no result: "MODULE FAILURE") or of its start check right after installing.


def script_result(tmp_path, binary):
    """What the action plugin makes of its shell exec'ing `binary` that prints no result."""
    args = tmp_path / "args"
    args.write_text('{"_ansible_check_mode": true}')
    proc = subprocess.run(["/bin/sh", "-c", 'exec "$0" "$1"', binary, args], capture_output=True, text=True)
    assert proc.stdout == ""
    return {
        "failed": True,
        "msg": "MODULE FAILURE: the matrix-user binary gave no result",
        "module_stdout": proc.stdout,
        "module_stderr": proc.stderr,
        "rc": proc.returncode,
    }


def check_result(binary):
    """What the start check after installing (<binary> --version) gives, as a command result."""
    try:
        proc = subprocess.run([binary, "--version"], capture_output=True, text=True)
    except OSError as e:  # as the command module of ansible-core 2.19 reports an exec failure
        return {"failed": False, "rc": e.errno, "msg": "Error executing command.", "cmd": [str(binary), "--version"], "stdout": "", "stderr": ""}
    return {"failed": False, "rc": proc.returncode, "cmd": [str(binary), "--version"], "stdout": proc.stdout, "stderr": proc.stderr}


@pytest.mark.parametrize("result_of", [script_result, lambda tmp_path, binary: check_result(binary)], ids=["module", "check"])
def test_a_binary_for_another_architecture_is_explained(tmp_path, result_of):
    arm = patched(tmp_path, "matrix-user", for_aarch64)
    msg = start.start_failure(result_of(tmp_path, arm), str(arm), "h")
    assert "Exec format error" in msg and "another architecture" in msg and "just build-target" in msg, msg


@needs_x86_64_glibc
@pytest.mark.parametrize("result_of", [script_result, lambda tmp_path, binary: check_result(binary)], ids=["module", "check"])
def test_a_binary_needing_a_newer_glibc_is_explained(tmp_path, result_of):
    binary = patched(tmp_path, "matrix-user", needing_glibc_2_99)
    msg = start.start_failure(result_of(tmp_path, binary), str(binary), "h")
    assert "GLIBC_2.99 not found" in msg and "x86_64-unknown-linux-musl" in msg, msg


def test_a_binary_that_may_not_execute_is_explained(tmp_path):
    # What a noexec mount gives (the mount itself is tested over SSH in test_ssh.py, where the
    # machine allows mounting): EACCES from execve and access(X_OK). A file without its execute
    # bit gives the same, even to root.
    binary = tmp_path / "matrix-user"
    shutil.copy(BINARY, binary)
    binary.chmod(0o644)
    msg = start.start_failure(check_result(binary), str(binary), "h")
    assert "Permission denied" in msg and "noexec" in msg and "matrix_user_install_dir" in msg, msg


def test_a_failure_of_the_module_itself_is_left_to_its_own_message():
    # The module ran and failed (a secret file it cannot read says "Permission denied" too).
    result = {"failed": True, "changed": False, "msg": "parameter `admin_access_token_file`: cannot read /x as user bob: Permission denied (os error 13)"}
    assert start.start_failure(result, "/b", "h") == ""
    assert start.start_failure({"changed": False, "rc": 0, "cmd": ["/b", "--version"]}, "/b", "h") == ""


def test_a_bundled_binary_whose_checksum_differs_is_refused(tmp_path, monkeypatch):
    """A built collection lists its binaries in bin/manifest.json with their sha256; a file that
    does not match is never copied or run."""
    target = tmp_path / "bin" / "x86_64-unknown-linux-gnu" / "matrix-user"
    target.parent.mkdir(parents=True)
    shutil.copy(BINARY, target)
    manifest = {"version": "9.9.9", "binaries": [{"target": "x86_64-unknown-linux-gnu", "arch": "x86_64", "libc": "glibc",
                "min_libc_version": "2.17", "path": "bin/x86_64-unknown-linux-gnu/matrix-user", "sha256": "0" * 64, "size": 1}]}
    (tmp_path / "bin" / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setattr(lookup, "ROOT", tmp_path)
    picked = lookup.pick(probe=lookup.local_probe(), host_name="h")
    assert not picked["ok"] and "does not match its sha256" in picked["msg"] and "Nothing was copied" in picked["msg"]
    manifest["binaries"][0]["sha256"] = lookup.sha256(BINARY)
    (tmp_path / "bin" / "manifest.json").write_text(json.dumps(manifest))
    picked = lookup.pick(probe=lookup.local_probe(), host_name="h")
    assert picked["ok"] and picked["version"] == "9.9.9" and picked["sha256"] == manifest["binaries"][0]["sha256"]
    # The fix a built collection offers for another host: no `just` in it, the sources are elsewhere.
    other = lookup.pick(probe=ARM_PROBE, host_name="h")
    assert "from the matrix-user sources" in other["msg"] and "matrix_user_host_binary" in other["msg"]


def test_build_target_says_how_to_install_a_missing_target():
    triple = "aarch64-unknown-linux-musl"
    rustup = shutil.which("rustup")
    if rustup is None:
        pytest.skip("rustup is not installed")
    installed = subprocess.run([rustup, "target", "list", "--installed"], capture_output=True, text=True).stdout.split()
    if triple in installed:
        pytest.skip(f"{triple} is installed here")
    out = subprocess.run([VENV_BIN / "just", "build-target", triple], cwd=REPO, capture_output=True, text=True)
    assert out.returncode != 0
    assert f"rustup target add {triple}" in out.stderr, out.stderr
    assert "error: recipe" not in out.stderr
