#!/usr/bin/python
# The module matrix_user.homeserver.matrix_user: its documentation, and a fallback launcher.
#
# The module is the native binary `matrix-user`, which the action plugin (plugins/action/matrix_user.py)
# installs on the host and runs; Ansible never runs this file while that action plugin exists. Run on
# its own, it hands its arguments to a matrix-user binary on the host: MATRIX_USER_BINARY, the
# option host_binary, or `matrix-user` on PATH.

DOCUMENTATION = r"""
module: matrix_user
version_added: 0.1.0
short_description: Create a Matrix homeserver user and manage its admin rights, idempotently
description:
  - Creates a user on a Matrix homeserver if it is missing, and promotes or demotes an existing user so that its admin flag is the one asked for.
  - Reports C(changed) only when something changed on the server; a second identical run changes nothing.
  - A native binary (C(matrix-user)) speaking Ansible's JSON module protocol. It runs on the target host and talks to the homeserver over HTTP.
  - "Synapse: users are created with shared-secret registration (I(registration_shared_secret)); with I(admin_access_token) they are looked up and
    promoted or demoted through the admin API."
  - "MAS (Matrix Authentication Service): everything goes through its Admin API with a token from the C(client_credentials) grant (scope
    C(urn:mas:admin)), got fresh each run; a password is checked by a login through MAS's compatibility endpoint, whose session is ended at
    once."
  - "Dendrite: users are created with shared-secret registration; existence is checked with C(/register/available); the admin flag is read and
    changed in the account database (I(dendrite_database)); passwords are reset through C(/_dendrite/admin/resetPassword) with
    I(admin_access_token)."
  - Without I(admin_access_token), an existing user is checked by logging in with the given password. What cannot be verified or changed that way
    fails with a message naming the missing parameter; it is never reported as C(ok) unverified.
  - No secret (password, shared secret, token) is ever part of the output, the returned values, the diff or an error message.
author:
  - matrix-user maintainers
extends_documentation_fragment:
  - matrix_user.homeserver.connection
  - matrix_user.homeserver.action
options:
  users:
    description:
      - A list of users to reconcile in one run, each with the user options of this module (I(username), I(password), I(admin),
        I(update_password), I(state), I(erase), I(displayname), I(user_type), I(email)).
      - Mutually exclusive with I(username), I(password) and I(admin).
      - Each user succeeds or fails on its own; the task fails when any failed, and says which and why. C(users) in the result has one entry per
        item, in order; C(totals) counts them.
      - With I(admin_access_token), a long list is checked against one listing of the server's users, so a re-run over existing users sends one
        or a few requests and no registration attempt.
    type: list
    elements: dict
  users_file:
    description:
      - A file on the host that runs the module listing the users to reconcile, read by the module itself, so that a directory of thousands of
        people is not templated by Ansible. Use it instead of I(users) for a long list.
      - YAML (a list of users, each with the user options of I(users), or a mapping whose C(users) is that list), JSON (C(.json)), or CSV
        (C(.csv)) whose first row is a header naming the user options, one user per row; an empty cell leaves an option unset, booleans are
        written as for the module (C(yes), C(no)).
      - Items are named in results and messages as C(users[N]), N counting the users of the file from 0. A malformed file (a CSV row with more
        or fewer cells than the header, a header that is not a user option) is refused before any request, naming the line and column, never
        a value.
      - Mutually exclusive with I(users), I(username), I(password) and I(admin).
    type: path
  exclusive:
    description:
      - Exact mode, with I(users) or I(users_file). The accounts on the server that the list does not name are brought to I(absent_state);
        the result's C(pruned) lists them (in check mode, those that would be).
      - Never touched unless listed - server admins, application service users (a bridge's), guests, and localparts matching I(keep).
      - Before any change, the server's accounts are all listed (a listing that fails or ends early fails the task, nothing changed), and the
        task fails when more would be pruned than I(max_changes) allows.
      - Synapse (with I(admin_access_token)) and MAS; Dendrite refuses it, changing nothing.
    type: bool
    default: false
  absent_state:
    description:
      - With I(exclusive), what becomes of an account the list does not name. C(locked) can be undone by listing the user again.
    type: str
    choices: [locked, deactivated]
    default: locked
  keep:
    description:
      - With I(exclusive), localparts never pruned, as globs (C(*) any run of characters, C(?) any one), such as C(svc-*).
    type: list
    elements: str
  max_changes:
    description:
      - With I(exclusive), the most accounts one run may prune, a count (C(25)) or a percentage of the server's accounts (C(2%)). More fails the
        task before any change.
    type: str
    default: 10%
  concurrency:
    description:
      - With I(users), how many users are worked on at once. Synapse registers fastest at 2 to 4. At most 64.
    type: int
    default: 4
  username:
    description:
      - The user's localpart (C(john)). A full user ID on this server (C(@john:example.com)) is accepted. Uppercase letters are lowered, as the
        homeserver does.
      - "Allowed: a-z, 0-9 and C(. _ = - / +); not starting with C(_); the full user ID at most 255 bytes (Dendrite: 254). Synapse also refuses
        all-digit names."
      - Required unless I(users) is given.
    type: str
  password:
    description:
      - The user's password, at most 512 characters, no NUL character. Never printed, returned or put in a diff.
      - Synapse only compares the first 72 bytes of a password (bcrypt). Dendrite needs 8 to 72 bytes (it claims 512, but 0.13 answers a
        longer one with success without creating the account).
      - Required unless I(users) is given, or I(state) is C(locked) or C(deactivated) (Dendrite deactivates an account only with its own password).
    type: str
  admin:
    description:
      - Whether the user is a server admin. An existing user is promoted or demoted to match.
      - When not set, a new user is created without admin rights and an existing user's flag is left alone.
    type: bool
  update_password:
    description:
      - C(on_create) sets the password only when creating the user.
      - C(always) also makes an existing user's password this one, reporting C(changed) only when it was different. Checking costs one password
        login (and its logout); changing it logs the user's other sessions out, as Synapse does by default.
      - Given beside I(users), it is the default for every item that does not set its own.
    type: str
    choices: [on_create, always]
    default: on_create
  state:
    description:
      - C(present) the account exists and can log in; a missing one is created, a locked one unlocked, a deactivated one reactivated with
        I(password) (Synapse sets it again; reported as a change).
      - C(locked) the account exists but cannot log in (Synapse, MAS); a missing one is left missing, never created just to be locked. A
        deactivated account is left deactivated.
      - C(deactivated) the account is deactivated and its sessions end; a missing one is left missing. On Dendrite this needs
        I(dendrite_database) and the account's own I(password), and Dendrite cannot reactivate it again.
      - With C(locked) or C(deactivated), I(password) is not needed (except on Dendrite), and I(admin), I(update_password), I(displayname),
        I(user_type) and I(email) are left alone. See docs/lifecycle.md.
    type: str
    choices: [present, locked, deactivated]
    default: present
  erase:
    description:
      - With I(state=deactivated), also erase the account as the server defines it when deactivating it (Synapse's erasure; MAS asks
        Synapse to erase it). Dendrite cannot erase. An account already deactivated is left as it is.
      - Refused with any other I(state).
    type: bool
    default: false
  displayname:
    description:
      - The user's display name. A new user is created with it; an existing user's is made this one, reported as a change only when it
        differs (C(synapse) needs I(admin_access_token), C(dendrite) needs I(dendrite_database)). With backend C(mas), only a new user can be
        given one (MAS's Admin API cannot read or change an existing user's); for an existing user the run fails before any change.
      - An empty string is the same as leaving it out.
    type: str
  user_type:
    description:
      - The type a new user is created with, on Synapse (its shared-secret registration takes it). Left out, a regular user.
      - An existing user's type is neither checked nor changed.
      - Dendrite and MAS have no user types; with them the run fails before any request (unless I(state) is C(locked) or C(deactivated),
        which create nothing).
    type: str
    choices: [bot, support]
  email:
    description:
      - With backend C(mas), an email address the user should have, added as an already verified address when missing, so that the first
        login does not stop for email verification. Other backends refuse it.
    type: str
attributes:
  diff_mode:
    details: >-
      The diff shows C(exists), C(admin), C(state) where the account is or becomes locked or deactivated, whether the password changes
      and whether the display name is set, never a secret's value.
notes:
  - Built from this repository with C(just build); the role C(matrix_user) builds it when missing or stale.
  - "Check mode without I(admin_access_token): a user whose password does not log in cannot be looked up, so the module fails rather than guess."
"""

EXAMPLES = r"""
- name: Ensure john exists and is an admin
  matrix_user.homeserver.matrix_user:
    homeserver_url: http://127.0.0.1:8008
    server_name: example.com
    registration_shared_secret_file: /matrix/synapse/config/registration_shared_secret
    admin_access_token_file: /etc/matrix-user/admin_token
    username: john
    password: "{{ john_password }}"
    admin: true
  no_log: true

- name: Ensure alice with the secret from Debian's Synapse configuration and an admin token of the module's own
  matrix_user.homeserver.matrix_user:
    synapse_config: [/etc/matrix-synapse/homeserver.yaml, /etc/matrix-synapse/conf.d]
    provision_admin: true
    provision_admin_file: /etc/matrix-synapse/matrix-user-admin.json
    username: alice
    password: "{{ alice_password }}"
  no_log: true

- name: Ensure a list of users in one task
  matrix_user.homeserver.matrix_user:
    server_name: example.com
    registration_shared_secret_file: /matrix/synapse/config/registration_shared_secret
    admin_access_token_file: /etc/matrix-user/admin_token
    users:
      - {username: alice, password: "{{ alice_password }}", admin: true}
      - {username: bob, password: "{{ bob_password }}"}
  no_log: true

- name: Reset a bot's password if it changed, leaving its admin flag alone
  matrix_user.homeserver.matrix_user:
    server_name: example.com
    admin_access_token: "{{ matrix_admin_token }}"
    username: bot
    password: "{{ bot_password }}"
    update_password: always
  no_log: true

- name: Lock a departed user's account (no password needed)
  matrix_user.homeserver.matrix_user:
    server_name: example.com
    admin_access_token_file: /etc/matrix-user/admin_token
    username: mallory
    state: locked

- name: Deactivate and erase an account
  matrix_user.homeserver.matrix_user:
    server_name: example.com
    admin_access_token_file: /etc/matrix-user/admin_token
    username: mallory
    state: deactivated
    erase: true

- name: Ensure john exists, with a matrix-user installed on the host by `cargo install --root /usr/local`
  matrix_user.homeserver.matrix_user:
    server_name: example.com
    registration_shared_secret_file: /matrix/synapse/config/registration_shared_secret
    host_binary: /usr/local/bin/matrix-user
    username: john
    password: "{{ john_password }}"
  no_log: true
"""

RETURN = r"""
users:
  description:
    - With I(users), one result per item, in order. Each has C(username), C(changed), C(msg), and either C(user_id), C(created), C(admin) and
      C(password_changed), or C(failed).
  returned: when I(users) is given
  type: list
  elements: dict
pruned:
  description:
    - With I(exclusive), one result per account the list does not name that was brought to I(absent_state) (in check mode, would be), in
      the server's order, shaped as the items of C(users). Empty when there was nothing to prune.
  returned: when I(exclusive) is true
  type: list
  elements: dict
totals:
  description: >-
    With I(users), how many were C(created), C(promoted), C(demoted), C(password_changed) (existing users), C(displayname_set) (existing
    users), C(locked), C(unlocked), C(deactivated), C(erased) (deactivated and erased), C(reactivated), C(unchanged) and C(failed).
  returned: when I(users) is given
  type: dict
  sample: {"created": 2, "promoted": 1, "demoted": 0, "password_changed": 0, "displayname_set": 0, "locked": 1, "unlocked": 0,
           "deactivated": 0, "erased": 0, "reactivated": 0, "unchanged": 47, "failed": 0}
user_id:
  description: The full user ID.
  returned: success, for one user
  type: str
  sample: "@john:example.com"
created:
  description: Whether the user was created (in check mode, would be).
  returned: success
  type: bool
admin:
  description: The user's admin flag after the run.
  returned: success
  type: bool
password_changed:
  description: Whether the password was set (in check mode, would be).
  returned: success
  type: bool
state:
  description: The account's state afterwards (in check mode, would be); null when it does not exist.
  returned: success
  type: str
  sample: locked
msg:
  description: What was done, or why it failed and what to set or fix.
  returned: always
  type: str
  sample: "promoted @john:example.com to admin"
diff:
  description: C(before) and C(after), each with C(exists) and C(admin); C(after.password) is C(changed) or C(unchanged) where known.
  returned: when diff mode is on
  type: dict
  sample: {"before": {"exists": true, "admin": true}, "after": {"exists": true, "admin": false}}
credentials:
  description:
    - Where each setting not given as a parameter came from (I(synapse_config), I(dendrite_config), I(provision_admin_file)), never its
      value.
  returned: when one came from the host
  type: dict
  sample: {"registration_shared_secret": "registration_shared_secret_path in /etc/matrix-synapse/homeserver.yaml"}
admin_token:
  description:
    - With I(provision_admin), what was done about the admin token (C(registered), C(reused) or C(renewed); in check mode C(to register) or
      C(to renew)), and the file it is kept in. C(registered) and C(renewed) are changes.
  returned: when I(provision_admin) is used
  type: dict
  sample: {"provisioned": "reused", "file": "/etc/matrix-synapse/matrix-user-admin.json"}
invocation:
  description: The module's parameters, every secret replaced by C(VALUE_SPECIFIED_IN_NO_LOG_PARAMETER).
  returned: always
  type: dict
binary_installed:
  description: Whether the binary was copied to the host in this run (the first run, or after its checksum changed).
  returned: always
  type: bool
"""

from ansible_collections.matrix_user.homeserver.plugins.module_utils.launch import run


def main():
    run("matrix_user")


if __name__ == "__main__":
    main()
