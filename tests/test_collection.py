"""The Ansible collection matrix_user.homeserver as `just collection` builds it, and the
command-line tool installed alone with `cargo install`.

The collection is built once per session; its binary must start on glibc 2.17 or newer, its
manifest must describe it, and an ansible-core without anything else must find the module's
documentation and the playbooks once the tarball is installed."""

import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest
import yaml
from conftest import REPO

STAGE = REPO / "target" / "collection" / "ansible_collections" / "matrix_user" / "homeserver"
TRIPLE = "x86_64-unknown-linux-gnu"
OLDEST_GLIBC = (2, 17)


def workspace_version():
    with open(REPO / "Cargo.toml", "rb") as f:
        return tomllib.load(f)["workspace"]["package"]["version"]


def pinned_ansible_core():
    for line in (REPO / "requirements-dev.txt").read_text().splitlines():
        if line.startswith("ansible-core=="):
            return line.strip()
    raise AssertionError("requirements-dev.txt pins no ansible-core")


@pytest.fixture(scope="session")
def tarball():
    """Builds the collection (and its binary, the first time a few minutes) once per session."""
    out = subprocess.run(
        [sys.executable, REPO / "scripts" / "build-collection"], cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    path = REPO / out.stdout.strip().splitlines()[-1]
    assert path.name == f"matrix_user-homeserver-{workspace_version()}.tar.gz"
    assert path.is_file()
    return path


@pytest.fixture(scope="session")
def members(tarball):
    """The tarball's regular files by path, as bytes."""
    with tarfile.open(tarball) as tar:
        return {
            m.name.removeprefix("./"): tar.extractfile(m).read()
            for m in tar.getmembers()
            if m.isfile()
        }


@pytest.fixture(scope="session")
def manifest(members):
    return json.loads(members["bin/manifest.json"])


def test_galaxy_version_is_the_workspace_version(tarball):
    galaxy = yaml.safe_load((STAGE / "galaxy.yml").read_text())
    assert galaxy["version"] == workspace_version()
    assert (galaxy["namespace"], galaxy["name"]) == ("matrix_user", "homeserver")
    with tarfile.open(tarball) as tar:
        info = json.load(tar.extractfile("MANIFEST.json"))["collection_info"]
    assert info["version"] == workspace_version()


def test_tarball_holds_what_users_need(members):
    module_docs = {"plugins/modules/matrix_user.py", "plugins/modules/matrix_user.yml"}
    assert module_docs & set(members), sorted(members)
    for path in [
        "README.md",
        "LICENSE",
        "CHANGELOG.md",
        "meta/runtime.yml",
        "roles/matrix_user/tasks/main.yml",
        "roles/matrix_user/meta/main.yml",
        "playbooks/register_user.yml",
        "playbooks/ensure_users.yml",
        "bin/manifest.json",
        f"bin/{TRIPLE}/matrix-user",
        "docs/install.md",
        "docs/man/matrix-user.1",
    ]:
        assert path in members, f"{path} is not in the collection"
    assert yaml.safe_load(members["meta/runtime.yml"])["requires_ansible"] == ">=2.15.0"
    assert "MIT License" in members["LICENSE"].decode()
    # No link into the build tree, no caches, no galaxy leftovers.
    assert not [p for p in members if "__pycache__" in p or p.endswith(".pyc") or p.startswith("tests/output")]


def test_tarball_holds_no_links(tarball):
    with tarfile.open(tarball) as tar:
        links = [m.name for m in tar.getmembers() if m.issym() or m.islnk()]
    assert not links


def test_manifest_describes_the_binary(members, manifest):
    assert manifest["version"] == workspace_version()
    assert set(manifest) == {"version", "binaries"}
    [entry] = manifest["binaries"]
    assert entry == {
        "target": TRIPLE,
        "arch": "x86_64",
        "libc": "glibc",
        "min_libc_version": "2.17",
        "path": f"bin/{TRIPLE}/matrix-user",
        "sha256": entry["sha256"],
        "size": entry["size"],
    }
    binary = members[entry["path"]]
    assert re.fullmatch("[0-9a-f]{64}", entry["sha256"])
    assert hashlib.sha256(binary).hexdigest() == entry["sha256"]
    assert len(binary) == entry["size"]


def glibc_versions_needed(elf):
    """The GLIBC_x.y symbol versions an ELF64 little-endian file needs, from its version-needs
    section (SHT_GNU_verneed) and the string table it links to."""
    assert elf[:4] == b"\x7fELF" and elf[4] == 2 and elf[5] == 1, "not a 64-bit little-endian ELF file"
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", elf, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
    versions = set()
    for _name, kind, _flags, _addr, offset, _size, link, info, _align, _entsize in sections:
        if kind != 0x6FFFFFFE:  # SHT_GNU_verneed
            continue
        strtab = sections[link][4]

        def string(at, strtab=strtab):
            return elf[strtab + at : elf.index(b"\0", strtab + at)].decode()

        need = offset
        for _ in range(info):  # sh_info: the number of Verneed entries
            _version, count, _file, aux, following = struct.unpack_from("<HHIII", elf, need)
            entry = need + aux
            for _ in range(count):
                _hash, _flags, _other, name, after = struct.unpack_from("<IHHII", elf, entry)
                versions.add(string(name))
                entry += after
            need += following
    return {tuple(int(n) for n in v[len("GLIBC_") :].split(".")) for v in versions if re.fullmatch(r"GLIBC_[0-9.]+", v)}


def test_binary_starts_on_glibc_2_17(members, manifest):
    binary = members[manifest["binaries"][0]["path"]]
    needed = glibc_versions_needed(binary)
    assert needed, "the binary names no glibc version: is it linked against glibc?"
    assert max(needed) <= OLDEST_GLIBC, f"needs glibc {'.'.join(map(str, max(needed)))}"


def test_elf_reader_agrees_with_readelf(members, manifest, tmp_path):
    readelf = shutil.which("readelf")
    if readelf is None:
        pytest.skip("readelf (binutils) is not installed")
    path = tmp_path / "matrix-user"
    path.write_bytes(members[manifest["binaries"][0]["path"]])
    out = subprocess.run([readelf, "-V", "-W", path], capture_output=True, text=True, check=True).stdout
    from_readelf = {tuple(int(n) for n in v.split(".")) for v in re.findall(r"Name: GLIBC_([0-9.]+)", out)}
    assert from_readelf == glibc_versions_needed(path.read_bytes())


def test_binary_runs(members, manifest, tmp_path):
    path = tmp_path / "matrix-user"
    path.write_bytes(members[manifest["binaries"][0]["path"]])
    path.chmod(0o755)
    out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"matrix-user {workspace_version()}"


@pytest.fixture(scope="session")
def fresh_ansible(tmp_path_factory):
    """A virtual environment with nothing but the pinned ansible-core."""
    venv = tmp_path_factory.mktemp("fresh-ansible") / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", pinned_ansible_core()],
        check=True,
    )
    return venv / "bin"


@pytest.fixture(scope="session")
def installed(tarball, fresh_ansible, tmp_path_factory):
    """The tarball installed with ansible-galaxy into a folder of its own: the environment that
    finds it there and nothing of this repository."""
    root = tmp_path_factory.mktemp("collections")
    # Away from this checkout, whose ansible.cfg makes the checkout itself an installed collection.
    subprocess.run(
        [fresh_ansible / "ansible-galaxy", "collection", "install", tarball, "-p", root],
        check=True,
        capture_output=True,
        cwd=root,
        env={"PATH": os.environ["PATH"], "HOME": str(root), "ANSIBLE_CONFIG": str(root / "none.cfg")},
    )
    work = tmp_path_factory.mktemp("elsewhere")
    env = {
        "PATH": f"{fresh_ansible}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(work),
        "ANSIBLE_COLLECTIONS_PATH": str(root),
        "ANSIBLE_CONFIG": str(work / "none.cfg"),
        "LC_ALL": "C.UTF-8",
    }
    return env, work, root / "ansible_collections" / "matrix_user" / "homeserver"


def test_ansible_doc_shows_the_module(installed, fresh_ansible):
    env, work, _ = installed
    out = subprocess.run(
        [fresh_ansible / "ansible-doc", "--json", "matrix_user.homeserver.matrix_user"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout).get("matrix_user.homeserver.matrix_user")
    assert doc, out.stderr
    assert {"username", "password", "admin", "users", "homeserver_url"} <= set(doc["doc"]["options"])
    assert "user_id" in doc["return"]
    assert doc["examples"].strip()


def test_installed_binary_matches_the_manifest(installed):
    _, _, collection = installed
    manifest = json.loads((collection / "bin" / "manifest.json").read_text())
    for entry in manifest["binaries"]:
        path = collection / entry["path"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        assert os.access(path, os.X_OK), f"{entry['path']} lost its execute bit"


@pytest.mark.parametrize(
    "playbook, tag", [("register_user", "register-user"), ("ensure_users", "ensure-matrix-users-created")]
)
def test_playbooks_resolve_by_their_collection_name(installed, fresh_ansible, playbook, tag):
    env, work, _ = installed
    inventory = work / "hosts"
    inventory.write_text("[matrix_servers]\nmatrix.example.com\n")
    out = subprocess.run(
        [
            fresh_ansible / "ansible-playbook",
            f"matrix_user.homeserver.{playbook}",
            "-i",
            inventory,
            "--syntax-check",
            f"--tags={tag}",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    listed = subprocess.run(
        [fresh_ansible / "ansible-playbook", f"matrix_user.homeserver.{playbook}", "-i", inventory, "--list-tags"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert tag in listed.stdout
    assert "matrix.example.com" in subprocess.run(
        [fresh_ansible / "ansible-playbook", f"matrix_user.homeserver.{playbook}", "-i", inventory, "--list-hosts"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    ).stdout


@pytest.mark.parametrize(
    "playbook, tag", [("register_user", "register-user"), ("ensure_users", "ensure-matrix-users-created")]
)
def test_playbooks_ask_for_their_tag(installed, fresh_ansible, playbook, tag):
    """Without --tags every task of the role would run: the playbook stops first and names the tag."""
    env, work, _ = installed
    inventory = work / "local-hosts"
    inventory.write_text(f"[matrix_servers]\nmatrix.example.com ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    out = subprocess.run(
        [fresh_ansible / "ansible-playbook", f"matrix_user.homeserver.{playbook}", "-i", inventory],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode != 0
    assert f"Run this playbook with --tags={tag}" in out.stdout, out.stdout + out.stderr
    assert "matrix_user_users` is empty" not in out.stdout


def test_the_installed_module_registers_a_user(installed, fresh_ansible, synapse, name, tmp_path):
    """The module by its collection name, from the installed tarball with nothing but ansible-core,
    against a real Synapse: created, then unchanged."""
    env, work, _ = installed
    password = "collection-Password-1"
    inventory = tmp_path / "hosts"
    inventory.write_text(f"[matrix_servers]\nmatrix.example.com ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    playbook = tmp_path / "register.yml"
    task = {**synapse.module_params, "username": name, "password": "{{ user_password }}", "admin": True, "wait_timeout": 5}
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Register through the collection",
                    "hosts": "matrix_servers",
                    "gather_facts": False,
                    "tasks": [{"name": "Ensure the user", "matrix_user.homeserver.matrix_user": task, "no_log": True}],
                }
            ]
        )
    )
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps({"user_password": password}))
    recaps = []
    for _ in range(2):
        out = subprocess.run(
            [fresh_ansible / "ansible-playbook", playbook, "-i", inventory, "--extra-vars", f"@{extra}"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, out.stdout + out.stderr
        assert password not in out.stdout + out.stderr
        recaps.append(re.search(r"matrix\.example\.com\s*:\s*ok=\d+\s+changed=(\d+)", out.stdout).group(1))
    assert recaps == ["1", "0"]
    assert synapse.is_admin(name) and synapse.can_log_in(name, password)


def test_cargo_install_gives_the_command_line_tool(tmp_path):
    """The CLI alone: `cargo install --locked --path crates/matrix-user --root DIR`. With the
    repository's target folder it reuses the release build instead of compiling from scratch."""
    if shutil.which("cargo") is None:
        pytest.skip("cargo is not installed")
    root = tmp_path / "root"
    env = {**os.environ, "CARGO_TARGET_DIR": str(REPO / "target")}
    out = subprocess.run(
        ["cargo", "install", "--locked", "--quiet", "--path", REPO / "crates" / "matrix-user", "--root", root],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr
    version = subprocess.run([root / "bin" / "matrix-user", "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == f"matrix-user {workspace_version()}"
    assert sorted(p.name for p in (root / "bin").iterdir()) == ["matrix-user"]


def test_manual_page_is_shipped_and_formats(members):
    page = members["docs/man/matrix-user.1"].decode()
    assert ".TH matrix-user 1" in page
    assert workspace_version() not in page, "the manual page holds a version: Cargo.toml is its one place"
    man = shutil.which("man")
    if man is None:
        pytest.skip("man is not installed")
    out = subprocess.run(
        [man, "-l", "-"],
        input=members["docs/man/matrix-user.1"],
        capture_output=True,
        env={**os.environ, "MANWIDTH": "100"},
    )
    assert out.returncode == 0, out.stderr
    # Without a terminal man may still embolden with overstrikes (`S\bS`): drop them.
    text = re.sub(".\b", "", out.stdout.decode(errors="replace"))
    assert "SYNOPSIS" in text and "--homeserver-url" in text.replace("\u2010", "-")



def test_a_requirements_file_installs_it_and_its_plays_run_over_ssh(tarball, fresh_ansible, tmp_path):
    """As a user does it: `ansible-galaxy collection install -r requirements.yml` with nothing but
    ansible-core, no cargo on PATH and no checkout on the collections path; then the FQCN plays of
    tests/test_fqcn.py (local connection, SSH with become, a re-run that copies nothing) run on
    that installed copy with that ansible-core."""
    root = tmp_path / "collections"
    (tmp_path / "requirements.yml").write_text(
        f"---\ncollections:\n  - name: {tarball}\n    type: file\n"
    )
    no_cargo = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if not (Path(p) / "cargo").exists())
    env = {"PATH": no_cargo, "HOME": str(tmp_path), "ANSIBLE_CONFIG": str(tmp_path / "none.cfg")}
    subprocess.run(
        [fresh_ansible / "ansible-galaxy", "collection", "install", "-r", "requirements.yml", "-p", root],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    assert (root / "ansible_collections" / "matrix_user" / "homeserver" / "bin" / "manifest.json").is_file()
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "MATRIX_USER_"))}
    run_env.update(
        PATH=no_cargo,
        MATRIX_USER_TEST_COLLECTIONS_PATH=str(root),
        MATRIX_USER_TEST_ANSIBLE_BIN=str(fresh_ansible),
    )
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(REPO / "tests" / "test_fqcn.py")],
        cwd=REPO,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    summary = out.stdout.splitlines()[-1]
    assert " passed" in summary and "skipped" not in summary, summary
