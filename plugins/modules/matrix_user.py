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
options:
  backend:
    description:
      - The homeserver API that manages users.
    type: str
    choices: [synapse, dendrite, mas]
    default: synapse
  homeserver_url:
    description:
      - Base URL of the homeserver's client-server API, as reached from the host the module runs on.
    type: str
    default: http://127.0.0.1:8008
  server_name:
    description:
      - The domain of user IDs (C(@john:<server_name>)).
      - Asked of the homeserver when not set, which needs I(admin_access_token). With backend C(mas), read from MAS's
        C(site-config) when not set, and checked against it when set (a mismatch fails before any change).
    type: str
  registration_shared_secret:
    description:
      - The homeserver's C(registration_shared_secret), used to create users.
      - Mutually exclusive with I(registration_shared_secret_file).
    type: str
  registration_shared_secret_file:
    description:
      - A file holding the shared secret (as Synapse's C(registration_shared_secret_path)), read on the host the module runs on. Surrounding white
        space is ignored.
    type: path
  admin_access_token:
    description:
      - Access token of a server admin. Lets the module look users up, promote and demote them, and change passwords.
      - Mutually exclusive with I(admin_access_token_file).
    type: str
  admin_access_token_file:
    description:
      - A file holding the admin access token, read on the host the module runs on.
    type: path
  synapse_config:
    description:
      - "Synapse only: Synapse's configuration on the host the module runs on: a file, or a folder standing for its C(*.yaml) files in
        name order (Debian's C(conf.d)); several are read as C(synapse -c) reads them, a later file's top-level keys replacing an earlier's."
      - The shared secret is read from it (C(registration_shared_secret), or the file C(registration_shared_secret_path) names, relative to
        the folder of the file naming it) when I(registration_shared_secret) and I(registration_shared_secret_file) are not given; a
        configuration with neither, or with both (which Synapse refuses), fails naming the files.
      - Without I(homeserver_url), the URL is that of the first plain C(http) listener serving C(client) (a wildcard bind address becomes
        loopback); without I(server_name), its C(server_name).
      - Nothing else of the files is read, and no value of them reaches any output. See the collection's C(docs/credentials.md).
    type: list
    elements: path
  dendrite_config:
    description:
      - "Dendrite only: its C(dendrite.yaml) on the host the module runs on. Read for C(client_api.registration_shared_secret), the account
        database (C(user_api.account_database.connection_string), else C(global.database.connection_string); a relative SQLite C(file:)
        path is taken from the file's folder) and C(global.server_name), each only when the parameter for it is not given."
    type: path
  provision_admin:
    description:
      - When no admin token is given, register an admin account of the module's own once (I(provision_admin_user)), with the shared secret
        and a random password, and keep its user ID, password and access token in I(provision_admin_file). Later runs use the token; when it
        no longer works, a login with the kept password renews it. Synapse and Dendrite only.
      - Registering the account or rewriting the file is a change (C(changed), the result's C(admin_token)). Check mode reads the file but
        registers, logs in and writes nothing, and plans without an admin token.
      - The file is as powerful as an admin's password; see C(docs/credentials.md) for the trade-off against a token you provide.
    type: bool
    default: false
  provision_admin_file:
    description:
      - The file keeping the provisioned account's password and token, on the host the module runs on. Created with mode 0600 (written
        whole, then renamed into place); a file others may read, a symbolic link or another user's file is refused.
    type: path
  provision_admin_user:
    description:
      - The localpart of the provisioned admin account.
    type: str
    default: matrix-user
  dendrite_database:
    description:
      - "Dendrite only: its account database, as a PostgreSQL connection string (C(postgresql://user:password@host/dendrite)) or the path of
        the SQLite file C(userapi_accounts.db) (a C(file:) prefix is allowed), reachable from the host the module runs on."
      - Dendrite has no API that changes the admin flag of an existing account; its documentation prescribes an SQL update of
        C(userapi_accounts.account_type). The module does exactly that one update, for that one account, in a transaction that is committed
        only if it changed exactly one row. It also reads the admin flag there, and lists accounts there for I(users).
      - Without it, promoting or demoting an existing Dendrite user fails with a message naming this option; a new user still gets its admin
        flag at registration, and an existing user's flag is seen by logging in with the given password.
      - A PostgreSQL server off the host (not loopback or a Unix socket) is reached only over TLS, C(sslmode=require), C(verify-ca) or
        C(verify-full) (with C(sslrootcert=FILE) for a CA of your own); without one of them the module refuses before connecting. Connecting
        and every query are bounded by I(timeout). The SQLite file is opened read-only except to promote or demote.
      - Treated as a secret (a connection string holds a password).
    type: str
  mas_url:
    description:
      - "With backend C(mas): the base URL of Matrix Authentication Service, as reached from the host the module runs on. Its discovery document
        gives the token endpoint (whose path is used on this URL). I(homeserver_url) is not used with C(mas)."
    type: str
  mas_client_id:
    description:
      - With backend C(mas), the ID (a ULID) of a client in MAS's C(clients) that may use the C(client_credentials) grant and is listed in
        C(policy.data.admin_clients).
    type: str
  mas_client_secret:
    description:
      - The secret of that client (client_secret_basic). Mutually exclusive with I(mas_client_secret_file).
    type: str
  mas_client_secret_file:
    description:
      - A file holding the client secret, read on the host the module runs on.
    type: path
  skip_password_check:
    description:
      - With backend C(mas), set passwords even when MAS finds them too simple (as C(mas-cli --ignore-password-complexity)).
      - Without it, MAS refuses a password weaker than its C(minimum_password_complexity); a user just created is then left locked
        and the run fails (changed), until a run with I(update_password=always) and a stronger password finishes it.
    type: bool
    default: false
  mas_login_interval:
    description:
      - "With backend C(mas): seconds between two password-check logins once MAS's login rate limit has refused one. MAS's default limit
        is 3 logins at once, then 1 per 20 s, and its refusal (429) says nothing of how long to wait. Lengthened by half when MAS still
        refuses. Logins are made one at a time."
      - Password checks are made with I(update_password=always) only.
    type: float
    default: 20
  mas_login_wait:
    description:
      - "With backend C(mas): the longest a run waits for MAS's login rate limit, in all. A password check that would end later fails,
        with how long the remaining ones would take. Not I(wait_timeout), which is for a server that is starting."
    type: float
    default: 600
  validate_certs:
    description:
      - Whether the homeserver's HTTPS certificate is checked.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of a CA certificate to trust besides the system's.
    type: path
  timeout:
    description:
      - Seconds to wait for one answer from the homeserver. More than 0, at most 3600.
    type: float
    default: 30
  wait_timeout:
    description:
      - Seconds to wait for a homeserver that refuses connections, answers 502, 503 or 504, or asks to slow down (429), as when it is starting or
        restarting. Then the module fails. At most 86400.
    type: float
    default: 60
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
  binary:
    description:
      - Handled on the controller by the action plugin. The binary on the controller to install on the host, instead of the one the collection
        bundles (or, in a source checkout, builds under C(target/)) that fits the host.
      - Defaults to the variable C(matrix_user_binary).
    type: path
  host_binary:
    description:
      - Handled by the action plugin. A C(matrix-user) already on the host (for example installed with C(cargo install)), run as it is;
        nothing is probed, copied or checksummed.
      - Defaults to the variable C(matrix_user_host_binary).
    type: path
  install_dir:
    description:
      - Handled by the action plugin. Folder on the host for the binary, which goes into a subfolder named after its version. It must allow
        execution (not C(noexec)).
      - Empty for C(/usr/local/lib/matrix-user) when the module runs as root, C(~/.local/lib/matrix-user) otherwise.
      - Defaults to the variable C(matrix_user_install_dir).
    type: path
  run_on:
    description:
      - Handled by the action plugin. C(host) runs the binary on the inventory host; C(controller) runs it on the Ansible controller, as the
        controller's user, without connecting to the host (the homeserver must be reachable from the controller, and C(*_file) options name
        files there).
      - A host reached with the C(local) connection always runs the controller's binary, nothing copied.
      - Defaults to the variable C(matrix_user_run_on), else C(host).
    type: str
    choices: [host, controller]
  build:
    description:
      - Handled by the action plugin. In a source checkout of matrix-user (not in a built collection), build the binary first
        (C(scripts/build-module); cargo decides whether it is stale).
    type: bool
    default: false
  report:
    description:
      - Handled by the action plugin. Print one line per user (and the diff in diff mode) under the task, even with C(no_log), which hides the
        result itself. The lines hold no secret. With more than 100 users, only those changed or failed get a line; the others are counted
        in the first. Accounts pruned in exact mode get a line each.
    type: bool
    default: false
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: >-
      The diff shows C(exists), C(admin), C(state) where the account is or becomes locked or deactivated, whether the password changes
      and whether the display name is set, never a secret's value.
notes:
  - Built from this repository with C(just build); the role C(matrix_user) builds it when missing or stale.
  - "Check mode without I(admin_access_token): a user whose password does not log in cannot be looked up, so the module fails rather than guess."
  - "Requests to localhost, 127.0.0.0/8 and ::1 never use a proxy; other hosts follow C(https_proxy), C(http_proxy), C(all_proxy) and C(no_proxy)."
  - An answer larger than 1 MiB fails the module; a server's error text is quoted only when it is a short JSON error, never a page.
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
    provision_admin_file: /root/.matrix-user-admin.json
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
  sample: {"provisioned": "reused", "file": "/root/.matrix-user-admin.json"}
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
