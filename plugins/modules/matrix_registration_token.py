#!/usr/bin/python
# The module matrix_user.homeserver.matrix_registration_token: its documentation, and a fallback launcher.
#
# The module is the native binary `matrix-user` (the same one as matrix_user), which the action plugin
# (plugins/action/matrix_registration_token.py) installs on the host and runs; Ansible never runs this
# file while that action plugin exists.

DOCUMENTATION = r"""
module: matrix_registration_token
version_added: 0.2.0
short_description: Create, change or delete a Matrix registration token, idempotently
description:
  - A registration token lets whoever holds it sign up on a homeserver that asks for one (Matrix's C(m.login.registration_token)), a
    number of times (I(uses_allowed)) until a time (I(expiry_time)). This module declares tokens as M(matrix_user.homeserver.matrix_user)
    declares users. A rerun with the same declaration changes nothing; a changed limit or expiry is a change, with a diff.
  - "Synapse: C(/_synapse/admin/v1/registration_tokens); sign-up asks for a token with C(enable_registration: true) and
    C(registration_requires_token: true) in its config."
  - "Dendrite: C(/_dendrite/admin/registrationTokens), which needs C(registration_requires_token: true) in the C(client_api) section of its
    config. Dendrite v0.13.8 keeps tokens but its sign-up does not ask for one: the module warns."
  - "MAS (Matrix Authentication Service): its Admin API's user registration tokens. MAS revokes tokens instead of deleting them:
    I(state=absent) revokes, and a revoked token declared present again (with I(token)) is taken back into use."
  - Without I(token), the module makes one on creation, C(<name>-<20 random letters and digits>), and returns it once, as C(token); later
    runs find it by its name (the one token whose string is the name, a dash and 20 letters and digits) and never return it again. Nothing
    is kept on the controller.
  - Every token string is a secret. A token the module generated is returned only in C(token) of the run that made it; the action plugin
    then marks the result C(no_log) for Ansible's output, so it reaches a registered variable but not the screen or a log. Tokens given
    as I(token), and all others the server lists, never appear in any output.
  - The same native binary (C(matrix-user)) as M(matrix_user.homeserver.matrix_user), with the same connection options.
author:
  - matrix-user maintainers
extends_documentation_fragment:
  - matrix_user.homeserver.connection
  - matrix_user.homeserver.action
options:
  name:
    description:
      - What the token is called in the output. Without I(token), also the start of the token generated for it, found again by it
        on later runs; then it may hold only the characters the server takes in a token, and at most 43 of them.
    type: str
  token:
    description:
      - The token itself, chosen by hand. Found on the server by this string. Synapse and MAS take letters, digits and C(. _ ~ -), Dendrite
        letters, digits and C(_ -); at most 64.
      - Unset, the module generates one (see above).
    type: str
  uses_allowed:
    description:
      - How many sign-ups the token allows in all (0 or more), or C(unlimited).
      - Unset, a new token is unlimited and an existing one keeps its limit.
    type: str
  expiry_time:
    description:
      - Until when the token is accepted. An RFC 3339 time (C(2027-12-31T18:00:00Z)), a date (C(2027-12-31), midnight UTC), C(never), or a
        time from now (C(30m), C(12h), C(7d), C(2w)).
      - A time from now is set when the token is created only; later runs do not compare it (each would move it). A time in the past is
        refused before any request.
      - Unset, a new token never expires and an existing one keeps its expiry.
    type: str
  state:
    description:
      - C(absent) deletes the token (MAS revokes it).
    type: str
    choices: [present, absent]
    default: present
  tokens:
    description:
      - Several tokens in one task, each a dict with the options above (I(name), I(token), I(uses_allowed), I(expiry_time), I(state)).
      - A bad item fails alone; the others go on.
    type: list
    elements: dict
attributes:
  diff_mode:
    details: The diff shows C(state), C(uses_allowed), C(expiry_time), C(completed) and C(pending), never the token.
notes:
  - "The three ways to manage tokens (this module, the role's C(matrix_user_registration_tokens), C(just registration-token)) are in
    docs/registration-tokens.md."
"""

EXAMPLES = r"""
- name: A token for five sign-ups this week, generated and kept in a variable
  matrix_user.homeserver.matrix_registration_token:
    admin_access_token_file: /etc/matrix-user/admin_token
    name: spring-party
    uses_allowed: 5
    expiry_time: 7d
  register: party

- name: Send the sign-up link (the token is returned by the run that made it only)
  ansible.builtin.copy:
    content: "https://element.example.com/#/register?token={{ party.token }}\n"
    dest: ~/spring-party-link.txt
    mode: "0600"
  when: party.token is defined
  no_log: true

- name: Several tokens in one task; an old one deleted
  matrix_user.homeserver.matrix_registration_token:
    admin_access_token_file: /etc/matrix-user/admin_token
    tokens:
      - {name: staff, token: "{{ staff_token }}", uses_allowed: unlimited, expiry_time: "2027-12-31"}
      - {name: autumn-party, state: absent}

- name: With no admin token at hand, the admin account the module registers for itself (Debian's Synapse)
  matrix_user.homeserver.matrix_registration_token:
    synapse_config: [/etc/matrix-synapse/homeserver.yaml, /etc/matrix-synapse/conf.d]
    provision_admin: true
    provision_admin_file: /etc/matrix-synapse/matrix-user-admin.json
    name: spring-party
    uses_allowed: 5
  register: party

- name: On MAS (revoked, not deleted)
  matrix_user.homeserver.matrix_registration_token:
    backend: mas
    mas_url: http://127.0.0.1:8080
    mas_client_id: 01J0000000000000000000ADMN
    mas_client_secret_file: /etc/matrix-user/mas_client_secret
    name: spring-party
    state: absent
"""

RETURN = r"""
name:
  description: The token's name, as given.
  returned: for one token
  type: str
  sample: spring-party
token:
  description:
    - The token this run generated; only in the run that made it, never again (not with I(token), not in check mode).
  returned: when the module generated a token
  type: str
  sample: spring-party-Q3mZt0aV9xLrB2kYc7Hd
state:
  description: C(present), C(absent) or (MAS) C(revoked), after the run.
  returned: success
  type: str
uses_allowed:
  description: The sign-ups the token allows in all; null for no limit.
  returned: when the token exists after the run
  type: int
expiry_time:
  description: When the token stops being accepted (RFC 3339, UTC); null for never.
  returned: when the token exists after the run
  type: str
completed:
  description: Sign-ups finished with the token.
  returned: when the token exists after the run
  type: int
pending:
  description: Sign-ups under way with the token (Synapse, Dendrite), counted against the limit.
  returned: when the token exists after the run
  type: int
tokens:
  description: With I(tokens), one result per item, in order, each with the fields above, C(changed) and C(msg), or C(failed).
  returned: when I(tokens) is given
  type: list
  elements: dict
msg:
  description: What was done, or why it failed.
  returned: always
  type: str
  sample: "created registration token spring-party"
diff:
  description: C(before) and C(after), each the token's C(state), C(uses_allowed), C(expiry_time), C(completed) and C(pending).
  returned: when diff mode is on
  type: dict
credentials:
  description:
    - Where each setting not given as a parameter came from (I(synapse_config), I(dendrite_config), I(provision_admin_file)), never its
      value.
  returned: when one came from the host
  type: dict
  sample: {"admin_access_token": "provision_admin_file /etc/matrix-synapse/matrix-user-admin.json"}
admin_token:
  description:
    - With I(provision_admin), what was done about the admin token (C(registered), C(reused) or C(renewed); in check mode C(to register) or
      C(to renew)), and the file it is kept in. C(registered) and C(renewed) are changes.
  returned: when I(provision_admin) is used
  type: dict
  sample: {"provisioned": "reused", "file": "/etc/matrix-synapse/matrix-user-admin.json"}
invocation:
  description: The module's parameters, every secret (I(token) too) replaced by C(VALUE_SPECIFIED_IN_NO_LOG_PARAMETER).
  returned: always
  type: dict
binary_installed:
  description: Whether the binary was copied to the host in this run.
  returned: always
  type: bool
"""

from ansible_collections.matrix_user.homeserver.plugins.module_utils.launch import run


def main():
    run("matrix_registration_token")


if __name__ == "__main__":
    main()
