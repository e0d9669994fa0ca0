"""The module's documentation, as `ansible-doc` shows it, matches what the module accepts."""

import json
import re
import subprocess

from conftest import BINARY, REPO, VENV_BIN


def documented_options():
    out = subprocess.run(
        [VENV_BIN / "ansible-doc", "--json", "matrix_user.homeserver.matrix_user"],
        cwd=REPO,  # ansible.cfg: this checkout is the collection
        capture_output=True,
        text=True,
        check=True,
    )
    doc = json.loads(out.stdout)["matrix_user.homeserver.matrix_user"]
    assert doc["doc"]["attributes"]["check_mode"]["support"] == "full"
    assert "user_id" in doc["return"]
    assert doc["examples"].strip()
    return set(doc["doc"]["options"])


def accepted_options(tmp_path):
    args = tmp_path / "args"
    params = {"username": "x", "password": "docs-test-password", "no_such_option": 1}
    args.write_text(json.dumps({**params, "_ansible_check_mode": True}))
    out = subprocess.run([BINARY, args], capture_output=True, text=True)
    msg = json.loads(out.stdout)["msg"]
    supported = re.search(r"supported: (.*)$", msg).group(1)
    return set(supported.split(", "))


#: Options the action plugin handles on the controller; the binary never sees them.
ACTION_OPTIONS = {"binary", "host_binary", "install_dir", "run_on", "build", "report"}


def test_every_option_is_documented_and_accepted(tmp_path):
    assert documented_options() == accepted_options(tmp_path) | ACTION_OPTIONS
