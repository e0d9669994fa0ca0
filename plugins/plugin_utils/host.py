"""Which matrix-user binary can run on a host, from what the host says it is.

Used by the action plugin matrix_user on the controller before it copies anything: it reads the
binary's executable header (system, architecture, C library) and compares it with the host (its
`uname`, its C library, its program interpreters, as the action plugin's probe reports them, or
`ansible_system` / `ansible_architecture` when set). The binaries it chooses from are those the
collection bundles (bin/manifest.json, each with its sha256) or, in a source checkout, the ones
`just build` and `just build-target` made under target/. Plain Python, no Ansible import.
"""

import hashlib
import json
import os
import re
import struct
from pathlib import Path

#: The collection's root: this file is plugins/plugin_utils/host.py in it (or in the checkout).
ROOT = Path(__file__).resolve().parents[2]
MANIFEST = Path("bin") / "manifest.json"

# ELF e_machine values and what `uname -m` (ansible_architecture) calls them.
ELF_MACHINES = {3: "i386", 8: "mips", 20: "ppc", 21: "ppc64", 22: "s390x", 40: "arm", 62: "x86_64", 183: "aarch64", 243: "riscv64"}
ELF_OSABI = {0: "Linux", 3: "Linux", 9: "FreeBSD", 12: "OpenBSD", 2: "NetBSD"}
MACHO_CPUS = {0x01000007: "x86_64", 0x0100000C: "arm64"}

# Spellings of one architecture by different tools.
ARCH_ALIASES = {
    "amd64": "x86_64",
    "arm64": "aarch64",
    "i486": "i386",
    "i586": "i386",
    "i686": "i386",
    "x86": "i386",
    "armv6l": "arm",
    "armv7l": "arm",
    "armv8l": "arm",
    "armhf": "arm",
    "ppc64el": "ppc64le",
}

# A Rust target that builds a static binary for each host architecture (Linux).
LINUX_TRIPLES = {
    "x86_64": "x86_64-unknown-linux-musl",
    "aarch64": "aarch64-unknown-linux-musl",
    "arm": "armv7-unknown-linux-musleabihf",
    "i386": "i686-unknown-linux-musl",
    "riscv64": "riscv64gc-unknown-linux-musl",
    "ppc64le": "powerpc64le-unknown-linux-musl",
    "s390x": "s390x-unknown-linux-gnu",
}
OTHER_TRIPLES = {
    ("Darwin", "aarch64"): "aarch64-apple-darwin",
    ("Darwin", "x86_64"): "x86_64-apple-darwin",
    ("FreeBSD", "x86_64"): "x86_64-unknown-freebsd",
}


def normalize_arch(arch):
    arch = (arch or "").strip()
    return ARCH_ALIASES.get(arch, arch)


def version_tuple(text):
    return tuple(int(part) for part in text.split("."))


def describe_binary(path):
    """What an executable needs: {system, architecture, interpreter, libc, glibc}."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] == b"\x7fELF":
        return describe_elf(data)
    if data[:4] in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe"):
        (cpu,) = struct.unpack_from("<I", data, 4)
        return {"system": "Darwin", "architecture": MACHO_CPUS.get(cpu, f"cpu {cpu:#x}"), "interpreter": "", "libc": "", "glibc": ""}
    if data[:4] in (b"\xca\xfe\xba\xbe",):
        return {"system": "Darwin", "architecture": "universal", "interpreter": "", "libc": "", "glibc": ""}
    raise ValueError("not an executable this role knows (neither ELF nor Mach-O)")


def describe_elf(data):
    bits64 = data[4] == 2
    endian = "<" if data[5] == 1 else ">"
    osabi = data[7]
    (machine,) = struct.unpack_from(endian + "H", data, 18)
    arch = ELF_MACHINES.get(machine, f"ELF machine {machine}")
    if arch == "ppc64" and endian == "<":
        arch = "ppc64le"
    if bits64:
        phoff, = struct.unpack_from(endian + "Q", data, 32)
        phentsize, phnum = struct.unpack_from(endian + "HH", data, 54)
    else:
        phoff, = struct.unpack_from(endian + "I", data, 28)
        phentsize, phnum = struct.unpack_from(endian + "HH", data, 42)
    interpreter = ""
    for i in range(phnum):
        base = phoff + i * phentsize
        (p_type,) = struct.unpack_from(endian + "I", data, base)
        if p_type != 3:  # PT_INTERP
            continue
        if bits64:
            offset, = struct.unpack_from(endian + "Q", data, base + 8)
            size, = struct.unpack_from(endian + "Q", data, base + 32)
        else:
            offset, = struct.unpack_from(endian + "I", data, base + 4)
            size, = struct.unpack_from(endian + "I", data, base + 16)
        interpreter = data[offset : offset + size].split(b"\0")[0].decode("utf-8", "replace")
    libc, glibc = "", ""
    if interpreter:
        if "musl" in interpreter:
            libc = "musl"
        else:
            libc = "glibc"
            needed = {m.decode() for m in re.findall(rb"GLIBC_([0-9]+\.[0-9]+(?:\.[0-9]+)?)\0", data)}
            if needed:
                glibc = max(needed, key=version_tuple)
    system = ELF_OSABI.get(osabi, f"ELF OS ABI {osabi}")
    return {"system": system, "architecture": arch, "interpreter": interpreter, "libc": libc, "glibc": glibc}


def parse_probe(text):
    """The role's probe: key=value lines (`loader=` repeats)."""
    host = {"system": "", "architecture": "", "libc": "", "glibc": "", "loaders": [], "uid": "", "home": ""}
    for line in (text or "").splitlines():
        key, sep, value = line.strip().partition("=")
        if not sep:
            continue
        if key == "loader":
            host["loaders"].append(value)
        elif key == "libc":
            if value.startswith("glibc "):
                host["libc"], host["glibc"] = "glibc", value.split()[1]
            else:
                host["libc"] = value
        elif key in host:
            host[key] = value
    return host


def says(binary):
    text = f"{binary['system']} {binary['architecture']}"
    if binary["libc"] == "glibc":
        text += f", dynamically linked against glibc {binary['glibc']} or newer" if binary["glibc"] else ", dynamically linked against glibc"
    elif binary["libc"]:
        text += f", dynamically linked against {binary['libc']}"
    elif binary["system"] == "Linux":
        text += ", statically linked"
    return text


def host_says(host):
    text = f"{host['system'] or 'an unknown system'} {host['architecture'] or 'of unknown architecture'}"
    if host["libc"] == "glibc":
        text += f" with glibc {host['glibc']}"
    elif host["libc"] and host["libc"] != "unknown":
        text += f" with {host['libc']}"
    return text


def mismatch(binary, host):
    """Why `binary` cannot run on `host`, or "" when it can."""
    if host["system"] and binary["system"] != host["system"]:
        return f"it is built for {binary['system']}, the host runs {host['system']}"
    if host["architecture"] and normalize_arch(binary["architecture"]) != normalize_arch(host["architecture"]):
        return f"it is built for {binary['architecture']}, the host is {host['architecture']}"
    if binary["interpreter"]:
        if host["loaders"] and binary["interpreter"] not in host["loaders"]:
            lacks = f"glibc for {binary['architecture']}" if binary["libc"] == "glibc" else binary["libc"]
            has = "glibc" if host["libc"] == "glibc" else (host["libc"] if host["libc"] not in ("", "unknown") else "another C library")
            return f"it needs {binary['interpreter']} ({lacks}), which the host does not have (it has {has})"
        if binary["libc"] == "glibc" and host["libc"] == "musl":
            return "it needs glibc, the host's C library is musl"
        if binary["glibc"] and host["glibc"] and version_tuple(host["glibc"]) < version_tuple(binary["glibc"]):
            return f"it needs glibc {binary['glibc']} or newer, the host has glibc {host['glibc']}"
    return ""


def read_manifest(root=None):
    """bin/manifest.json of a built collection, or None in a source checkout (which has no bin/)."""
    path = (root or ROOT) / MANIFEST
    if not path.is_file():
        return None
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(manifest.get("binaries"), list) or not manifest.get("version"):
        raise ValueError(f"{path} lacks `version` or `binaries`")
    return manifest


def is_checkout(root=None):
    """A source checkout (binaries under target/, built by `just build`), not a built collection."""
    root = root or ROOT
    return read_manifest(root) is None and (root / "Cargo.toml").is_file()


_SHA256 = {}


def sha256(path, remember=False):
    """The file's sha256 (hex), computed once per file version in this process. `remember`: also
    kept beside the file (`<file>.sha256`, with its size, time and inode), so that the next task,
    another process, reads it instead of hashing megabytes again; for binaries built in a checkout."""
    info = os.stat(path)
    stamp = f"{info.st_size} {info.st_mtime_ns} {info.st_ino}"
    key = (str(path), stamp)
    if key in _SHA256:
        return _SHA256[key]
    sidecar = Path(f"{path}.sha256")
    if remember:
        try:
            digest, _sep, seen = sidecar.read_text(encoding="ascii").strip().partition(" ")
            if seen == stamp and re.fullmatch(r"[0-9a-f]{64}", digest):
                _SHA256[key] = digest
                return digest
        except (OSError, ValueError):
            pass
    hashed = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            hashed.update(block)
    _SHA256[key] = hashed.hexdigest()
    if remember:
        try:
            partial = Path(f"{sidecar}.{os.getpid()}")
            partial.write_text(f"{_SHA256[key]} {stamp}\n", encoding="ascii")
            partial.replace(sidecar)
        except OSError:
            pass
    return _SHA256[key]


def workspace_version(root=None):
    try:
        text = ((root or ROOT) / "Cargo.toml").read_text(encoding="utf-8")
    except OSError:
        return "unversioned"
    match = re.search(r'^\[workspace\.package\][^\[]*?^version\s*=\s*"([^"]+)"', text, re.M | re.S)
    return match.group(1) if match else "unversioned"


def candidates(binary="", root=None):
    """The binaries to choose from, in order: {path, version, sha256 (expected, or None: computed)}.

    `binary` given: that file alone. A built collection: those bin/manifest.json lists. A source
    checkout: target/release/matrix-user, then each target/<triple>/release/matrix-user."""
    root = root or ROOT
    manifest = read_manifest(root)
    version = manifest["version"] if manifest else workspace_version(root)
    if binary:
        path = Path(binary).expanduser()
        if not path.is_absolute():
            path = (root / path) if (root / path).exists() else path.absolute()
        return [{"path": path, "version": version, "sha256": None, "built_here": False}]
    if manifest:
        return [
            {"path": root / item["path"], "version": version, "sha256": str(item["sha256"]).lower(), "built_here": False}
            for item in manifest["binaries"]
        ]
    found = [root / "target" / "release" / "matrix-user"]
    for path in sorted((root / "target").glob("*/release/matrix-user")):
        if path.parent.parent.name not in ("release", "debug"):
            found.append(path)
    return [{"path": path, "version": version, "sha256": None, "built_here": True} for path in found]


def fix_for(host, root=None):
    """The ways out for a host no binary fits: build for it, the command-line tool on it, or the controller."""
    arch = normalize_arch(host["architecture"])
    triple = LINUX_TRIPLES.get(arch) if host["system"] == "Linux" else OTHER_TRIPLES.get((host["system"], arch))
    if not triple:
        build = (
            f"build matrix-user for {host_says(host)} with `just build-target <rust target triple>` "
            "and set matrix_user_binary to it"
        )
    elif is_checkout(root):
        build = (
            f"build it for the host with `just build-target {triple}` (then target/{triple}/release/matrix-user "
            "is picked by itself; or set matrix_user_binary to it)"
        )
    else:
        build = (
            f"build it for the host from the matrix-user sources with `just build-target {triple}` and set "
            f"matrix_user_binary to that target/{triple}/release/matrix-user"
        )
    return (
        f"{build}; or install the command-line tool on the host (`cargo install --locked --path crates/matrix-user` "
        "in the matrix-user sources) and set matrix_user_host_binary to it (for example ~/.cargo/bin/matrix-user); "
        "or run the module on this controller instead with matrix_user_run_on: controller "
        "(the homeserver's API must then be reachable from here at matrix_user_homeserver_url)"
    )


def pick(binary="", probe="", system="", architecture="", host_name="the host", root=None):
    """The first candidate that runs on the host, its sha256 checked against the manifest:
    {ok, msg, path, version, sha256, binary, host}; `msg` says what is wrong and what to do."""
    root = root or ROOT
    host = parse_probe(probe)
    if system:
        host["system"] = system
    if architecture:
        host["architecture"] = architecture
    checked = []
    for candidate in candidates(binary, root):
        path = candidate["path"]
        if not path.exists():
            checked.append((path, None, "it does not exist"))
            continue
        try:
            described = describe_binary(path)
        except (OSError, ValueError, struct.error) as e:
            checked.append((path, None, f"it cannot be read as an executable: {e}"))
            continue
        why = mismatch(described, host)
        if why:
            checked.append((path, described, why))
            continue
        digest = sha256(path, remember=candidate["built_here"])
        if candidate["sha256"] and digest != candidate["sha256"]:
            return {
                "ok": False,
                "msg": (
                    f"matrix_user: {path} does not match its sha256 in {root / MANIFEST} (expected {candidate['sha256']}, "
                    f"the file has {digest}): the collection's copy is damaged or was replaced. Nothing was copied or run. "
                    "Reinstall the collection (ansible-galaxy collection install --force)."
                ),
                "path": "", "version": "", "sha256": "", "binary": described, "host": host,
            }
        return {
            "ok": True,
            "msg": f"{path} ({says(described)}) runs on {host_name} ({host_says(host)})",
            "path": str(path.resolve()),
            "version": candidate["version"],
            "sha256": digest,
            "binary": described,
            "host": host,
        }
    first_path, first, first_why = checked[0]
    shown = f"{first_path}" + (f" ({says(first)})" if first else "")
    msg = f"matrix_user: {shown} cannot run on {host_name} ({host_says(host)}): {first_why}."
    others = [f"{p} ({w})" for p, _elf, w in checked[1:]]
    if others:
        msg += " Also tried: " + "; ".join(others) + "."
    if first is None and not binary and not others and is_checkout(root):
        msg += " Build it first (`just build`)."
    msg += " Nothing was copied. To fix: " + fix_for(host, root) + "."
    return {"ok": False, "msg": msg, "path": "", "version": "", "sha256": "", "binary": first or {}, "host": host}


def local_probe():
    """This machine (the controller) described as the action plugin's probe describes a host."""
    uname = os.uname()
    lines = [f"system={uname.sysname}", f"architecture={uname.machine}", f"uid={os.getuid()}",
             f"home={os.path.expanduser('~')}"]
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        libc = ""
    if libc:
        lines.append(f"libc={libc}")
    elif list(Path("/lib").glob("ld-musl-*")):
        lines.append("libc=musl")
    for pattern in ("/lib/ld*.so*", "/lib64/ld*.so*", "/usr/lib/ld*.so*"):
        lines += [f"loader={p}" for p in sorted(map(str, Path("/").glob(pattern.lstrip("/"))))]
    return "\n".join(lines) + "\n"
