# The connection options both modules of matrix_user.homeserver take (matrix_user and
# matrix_registration_token run the same binary with the same settings), documented once here.
# The parameter table (crates/matrix-user/src/params.rs, its `Both` rows) is checked against it.


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  backend:
    description:
      - The server that keeps the accounts and registration tokens, and whose API the module talks to. C(mas) is Matrix Authentication
        Service, for a homeserver that leaves its accounts to it.
    type: str
    choices: [synapse, dendrite, mas]
    default: synapse
  homeserver_url:
    description:
      - Base URL of the homeserver's client-server API, as reached from the host the module runs on. Not used with backend C(mas) (see
        I(mas_url)).
    type: str
    default: http://127.0.0.1:8008
  server_name:
    description:
      - The server's domain, that of its user IDs (C(@john:<server_name>)).
      - Asked of the homeserver when not set, which needs I(admin_access_token). With backend C(mas), read from MAS's
        C(site-config) when not set, and checked against it when set (a mismatch fails before any change).
    type: str
  registration_shared_secret:
    description:
      - The homeserver's C(registration_shared_secret). M(matrix_user.homeserver.matrix_user) creates users with it; both modules register
        the admin account of I(provision_admin) with it, which is all M(matrix_user.homeserver.matrix_registration_token) needs it for.
      - Mutually exclusive with I(registration_shared_secret_file).
    type: str
  registration_shared_secret_file:
    description:
      - A file holding the shared secret (as Synapse's C(registration_shared_secret_path)), read on the host the module runs on. Surrounding white
        space is ignored.
    type: path
  admin_access_token:
    description:
      - Access token of a server admin (Synapse, Dendrite; MAS is reached with I(mas_client_id) instead).
      - M(matrix_user.homeserver.matrix_user) looks users up, promotes and demotes them, and changes passwords with it.
        M(matrix_user.homeserver.matrix_registration_token) needs it for every request, unless I(provision_admin) provides one.
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
        no longer works, a login with the kept password renews it. Both modules use the same account and file. Synapse and Dendrite only.
      - Registering the account or rewriting the file is a change (C(changed), the result's C(admin_token)). Check mode reads the file but
        registers, logs in and writes nothing. Before the account exists, M(matrix_user.homeserver.matrix_user) then plans without an admin
        token, and M(matrix_user.homeserver.matrix_registration_token), which cannot list tokens without one, fails saying so.
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
        the SQLite file C(userapi_accounts.db) (a C(file:) prefix is allowed), reachable from the host the module runs on.
        M(matrix_user.homeserver.matrix_registration_token) does not use it."
      - Dendrite has no API that changes the admin flag of an existing account; its documentation prescribes an SQL update of
        C(userapi_accounts.account_type). M(matrix_user.homeserver.matrix_user) does exactly that one update, for that one account, in a
        transaction that is committed only if it changed exactly one row. It also reads the admin flag there, and lists accounts there for
        I(users).
      - Without it, promoting or demoting an existing Dendrite user fails with a message naming this option; a new user still gets its admin
        flag at registration, and an existing user's flag is seen by logging in with the given password.
      - A PostgreSQL server off the host (not loopback or a Unix socket) is reached only over TLS, C(sslmode=require), C(verify-ca) or
        C(verify-full) (with C(sslrootcert=FILE) for a CA of your own); without one of them the module refuses before connecting. Connecting
        and every query are bounded by I(timeout). The SQLite file is opened read-only except to promote or demote.
      - Treated as a secret (a connection string holds a password).
    type: str
  mas_url:
    description:
      - "With backend C(mas): the base URL of Matrix Authentication Service (its listener with the C(adminapi) resource), as reached from the
        host the module runs on. Its discovery document gives the token endpoint (whose path is used on this URL). I(homeserver_url) is not
        used with C(mas)."
    type: str
  mas_client_id:
    description:
      - With backend C(mas), the ID (a ULID) of a client in MAS's C(clients) that may use the C(client_credentials) grant and is listed in
        C(policy.data.admin_clients), so that it gets the C(urn:mas:admin) scope.
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
      - M(matrix_user.homeserver.matrix_registration_token) sets no password and does not use it.
    type: bool
    default: false
  mas_login_interval:
    description:
      - "With backend C(mas): seconds between two password-check logins once MAS's login rate limit has refused one. MAS's default limit
        is 3 logins at once, then 1 per 20 s, and its refusal (429) says nothing of how long to wait. Lengthened by half when MAS still
        refuses. Logins are made one at a time."
      - Password checks are made by M(matrix_user.homeserver.matrix_user) with I(update_password=always) only;
        M(matrix_user.homeserver.matrix_registration_token) makes none.
    type: float
    default: 20
  mas_login_wait:
    description:
      - "With backend C(mas): the longest a run waits for MAS's login rate limit, in all. A password check that would end later fails,
        with how long the remaining ones would take. Not I(wait_timeout), which is for a server that is starting."
      - M(matrix_user.homeserver.matrix_registration_token) makes no password check and does not use it.
    type: float
    default: 600
  validate_certs:
    description:
      - Whether the server's HTTPS certificate is checked.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of a CA certificate to trust besides the system's.
    type: path
  timeout:
    description:
      - Seconds to wait for one answer from the server. More than 0, at most 3600.
    type: float
    default: 30
  wait_timeout:
    description:
      - Seconds to wait for a server that refuses connections, answers 502, 503 or 504, or asks to slow down (429), as when it is starting or
        restarting. Then the module fails. At most 86400.
    type: float
    default: 60
notes:
  - "Requests to localhost, 127.0.0.0/8 and ::1 never use a proxy; other hosts follow C(https_proxy), C(http_proxy), C(all_proxy) and C(no_proxy)."
  - An answer larger than 1 MiB fails the module; a server's error text is quoted only when it is a short JSON error, never a page.
"""
