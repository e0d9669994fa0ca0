//! The one table of the modules' parameters (`matrix_user` and `matrix_registration_token`, each
//! row saying which takes it): for each, its name, type, default, whether it is a
//! secret, its command-line flag, its `MATRIX_USER_*` variable, its config-file key, the role
//! variable that feeds it and its one-line documentation.
//!
//! Everything else reads this table: the masking of `invocation` (`module`), the command-line
//! flags, their help, completions and manual pages (`cli`), the environment and config-file
//! layers (`config`), and the drift checks (tests at the end of this file) that keep the
//! modules' documentation (with the doc fragments they share), the role's argument specs and
//! `docs/cli.md` in step with it.

use homeserver::{Setting, UserType};

/// What a parameter holds, as the module's documentation types it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Str,
    /// A file on the host the module runs on.
    Path,
    /// An Ansible boolean (yes/no, true/false, on/off, 1/0).
    Bool,
    /// A number of seconds.
    Float,
    Int,
    /// One of a fixed set of words.
    Choice(&'static [&'static str]),
    /// A list of objects (`users`).
    List,
    /// A list of strings (`keep`).
    StrList,
    /// Files on the host, as a list (or one path).
    PathList,
}

impl Kind {
    /// The `type` of the module's documentation and argument specs.
    #[cfg(test)]
    pub fn doc_type(self) -> &'static str {
        match self {
            Kind::Str | Kind::Choice(_) => "str",
            Kind::Path => "path",
            Kind::Bool => "bool",
            Kind::Float => "float",
            Kind::Int => "int",
            Kind::List | Kind::StrList | Kind::PathList => "list",
        }
    }
}

/// Where the command-line tool takes a parameter from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A connection setting: flag (global), then `MATRIX_USER_*` variable, then config file.
    Connection,
    /// A field of one user or token: `register`'s or `token`'s flags and argument, a users or
    /// tokens file's items.
    User,
    /// The run as a whole (`users`, `concurrency`, `tokens`): `ensure`'s or `tokens`' file and flags.
    Run,
}

/// Which module takes a parameter: both take the connection settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Module {
    Both,
    /// `matrix_user` (the command-line tool's `register` and `ensure`).
    User,
    /// `matrix_registration_token` (the command-line tool's `token` and `tokens`).
    Token,
}

impl Module {
    /// Whether a parameter of `self` is one `module` takes.
    pub fn takes(self, module: Module) -> bool {
        self == Module::Both || self == module
    }
}

/// A command-line flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag {
    /// Without the dashes: `homeserver-url`.
    pub long: &'static str,
    pub value_name: &'static str,
    /// The flag names a file holding the value (`--dendrite-database-file`), read by the tool.
    pub reads_file: bool,
}

/// One parameter of the module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
    /// The default as YAML text (`"30"`, `"true"`, `"synapse"`), as documented.
    pub default: Option<&'static str>,
    /// Masked in `invocation` and everywhere else as soon as it is read.
    pub secret: bool,
    pub scope: Scope,
    pub module: Module,
    pub flag: Option<Flag>,
    pub env: Option<&'static str>,
    pub config_key: Option<&'static str>,
    /// The role variable that feeds it (`roles/matrix_user/meta/argument_specs.yml`).
    pub role_var: Option<&'static str>,
    /// For a `_file` parameter: the secret the file holds (its flag's `-` reads it from stdin).
    pub holds: Option<&'static str>,
    /// One line, as `--help` shows it.
    pub doc: &'static str,
}

const fn param(name: &'static str, kind: Kind, scope: Scope, doc: &'static str) -> Param {
    Param {
        name,
        kind,
        default: None,
        secret: false,
        scope,
        module: Module::User,
        flag: None,
        env: None,
        config_key: None,
        role_var: None,
        holds: None,
        doc,
    }
}

impl Param {
    /// A connection setting: its flag, `MATRIX_USER_<NAME>` and config key `<name>`.
    const fn setting(name: &'static str, kind: Kind, env: &'static str, doc: &'static str) -> Param {
        Param {
            env: Some(env),
            config_key: Some(name),
            module: Module::Both,
            ..param(name, kind, Scope::Connection, doc)
        }
    }
    /// A parameter of `matrix_registration_token` only.
    const fn of_tokens(self) -> Param {
        Param { module: Module::Token, ..self }
    }
    const fn flag(self, long: &'static str, value_name: &'static str) -> Param {
        Param { flag: Some(Flag { long, value_name, reads_file: false }), ..self }
    }
    const fn flag_reading_file(self, long: &'static str) -> Param {
        Param { flag: Some(Flag { long, value_name: "FILE", reads_file: true }), ..self }
    }
    const fn default(self, default: &'static str) -> Param {
        Param { default: Some(default), ..self }
    }
    const fn secret(self) -> Param {
        Param { secret: true, ..self }
    }
    const fn role(self, var: &'static str) -> Param {
        Param { role_var: Some(var), ..self }
    }
    const fn holds(self, secret: &'static str) -> Param {
        Param { holds: Some(secret), ..self }
    }

    /// The words a choice takes (none for other kinds).
    pub fn choices(&self) -> &'static [&'static str] {
        match self.kind {
            Kind::Choice(choices) => choices,
            _ => &[],
        }
    }

    /// The default as text (`http://127.0.0.1:8008`, `on_create`).
    pub fn default_str(&self) -> &'static str {
        self.default.unwrap_or_else(|| panic!("`{}` has no default", self.name))
    }

    /// The default as a number (seconds, a count).
    pub fn default_number(&self) -> f64 {
        self.default_str().parse().unwrap_or_else(|_| panic!("the default of `{}` is not a number", self.name))
    }

    /// The default as a boolean.
    pub fn default_bool(&self) -> bool {
        self.default_str() == "true"
    }

    /// `--homeserver-url`, when it has a flag.
    pub fn flag_name(&self) -> Option<String> {
        self.flag.map(|flag| format!("--{}", flag.long))
    }
}

use Kind::*;
use Scope::*;

/// Every parameter of the module. Connection settings are in the order of `--help`.
pub static PARAMS: &[Param] = &[
    Param::setting(
        "homeserver_url",
        Str,
        "MATRIX_USER_HOMESERVER_URL",
        "Client-server API base URL [default: http://127.0.0.1:8008]",
    )
    .flag("homeserver-url", "URL")
    .default("http://127.0.0.1:8008")
    .role("matrix_user_homeserver_url"),
    Param::setting(
        "server_name",
        Str,
        "MATRIX_USER_SERVER_NAME",
        "Domain of user IDs (@john:DOMAIN) [default: learnt with the admin token]",
    )
    .flag("server-name", "DOMAIN")
    .role("matrix_domain"),
    Param::setting(
        "backend",
        Choice(&["synapse", "dendrite", "mas"]),
        "MATRIX_USER_BACKEND",
        "Homeserver kind: synapse (default), dendrite, mas",
    )
    .flag("backend", "NAME")
    .default("synapse"),
    Param::setting(
        "registration_shared_secret",
        Str,
        "MATRIX_USER_REGISTRATION_SHARED_SECRET",
        "The registration shared secret",
    )
    .secret()
    .role("matrix_user_registration_shared_secret"),
    Param::setting(
        "registration_shared_secret_file",
        Path,
        "MATRIX_USER_REGISTRATION_SHARED_SECRET_FILE",
        "File holding the registration shared secret ('-': standard input)",
    )
    .flag("registration-shared-secret-file", "FILE")
    .holds("registration_shared_secret")
    .role("matrix_user_registration_shared_secret_file"),
    Param::setting("admin_access_token", Str, "MATRIX_USER_ADMIN_ACCESS_TOKEN", "A server admin's access token")
        .secret()
        .role("matrix_user_admin_access_token"),
    Param::setting(
        "admin_access_token_file",
        Path,
        "MATRIX_USER_ADMIN_ACCESS_TOKEN_FILE",
        "File holding a server admin's access token ('-': standard input)",
    )
    .flag("admin-access-token-file", "FILE")
    .holds("admin_access_token")
    .role("matrix_user_admin_access_token_file"),
    Param::setting(
        "synapse_config",
        PathList,
        "MATRIX_USER_SYNAPSE_CONFIG",
        "Synapse's config file or conf.d folder on this host, to read the shared secret (and URL) from",
    )
    .flag("synapse-config", "PATH")
    .role("matrix_user_synapse_config"),
    Param::setting(
        "dendrite_config",
        Path,
        "MATRIX_USER_DENDRITE_CONFIG",
        "Dendrite's dendrite.yaml on this host, to read the shared secret and account database from",
    )
    .flag("dendrite-config", "FILE")
    .role("matrix_user_dendrite_config"),
    Param::setting(
        "provision_admin",
        Bool,
        "MATRIX_USER_PROVISION_ADMIN",
        "Without an admin token, register an admin account of the tool's own once: yes or no [default: no]",
    )
    .flag("provision-admin", "yes|no")
    .default("false")
    .role("matrix_user_provision_admin"),
    Param::setting(
        "provision_admin_file",
        Path,
        "MATRIX_USER_PROVISION_ADMIN_FILE",
        "File (mode 0600) keeping that account's password and token",
    )
    .flag("provision-admin-file", "FILE")
    .role("matrix_user_provision_admin_file"),
    Param::setting(
        "provision_admin_user",
        Str,
        "MATRIX_USER_PROVISION_ADMIN_USER",
        "Localpart of that account [default: matrix-user]",
    )
    .flag("provision-admin-user", "NAME")
    .default("matrix-user")
    .role("matrix_user_provision_admin_user"),
    Param::setting(
        "validate_certs",
        Bool,
        "MATRIX_USER_VALIDATE_CERTS",
        "Check HTTPS certificates: yes or no [default: yes]",
    )
    .flag("validate-certs", "yes|no")
    .default("true")
    .role("matrix_user_validate_certs"),
    Param::setting("ca_path", Path, "MATRIX_USER_CA_PATH", "Extra CA certificate (PEM) to trust")
        .flag("ca-path", "FILE")
        .role("matrix_user_ca_path"),
    Param::setting("timeout", Float, "MATRIX_USER_TIMEOUT", "Seconds to wait for each answer [default: 30]")
        .flag("timeout", "SECONDS")
        .default("30")
        .role("matrix_user_timeout"),
    Param::setting(
        "wait_timeout",
        Float,
        "MATRIX_USER_WAIT_TIMEOUT",
        "Seconds to wait for a homeserver that is starting or restarting [default: 60]",
    )
    .flag("wait-timeout", "SECONDS")
    .default("60")
    .role("matrix_user_wait_timeout"),
    Param::setting(
        "dendrite_database",
        Str,
        "MATRIX_USER_DENDRITE_DATABASE",
        "File holding Dendrite's account database (PostgreSQL URL or SQLite path), to promote or demote",
    )
    .flag_reading_file("dendrite-database-file")
    .secret()
    .role("matrix_user_dendrite_database"),
    Param::setting("mas_url", Str, "MATRIX_USER_MAS_URL", "MAS base URL (with --backend mas)")
        .flag("mas-url", "URL")
        .role("matrix_user_mas_url"),
    Param::setting(
        "mas_client_id",
        Str,
        "MATRIX_USER_MAS_CLIENT_ID",
        "ID of a MAS client allowed the urn:mas:admin scope",
    )
    .flag("mas-client-id", "ULID")
    .role("matrix_user_mas_client_id"),
    Param::setting("mas_client_secret", Str, "MATRIX_USER_MAS_CLIENT_SECRET", "That MAS client's secret")
        .secret()
        .role("matrix_user_mas_client_secret"),
    Param::setting(
        "mas_client_secret_file",
        Path,
        "MATRIX_USER_MAS_CLIENT_SECRET_FILE",
        "File holding that MAS client's secret ('-': standard input)",
    )
    .flag("mas-client-secret-file", "FILE")
    .holds("mas_client_secret")
    .role("matrix_user_mas_client_secret_file"),
    Param::setting(
        "skip_password_check",
        Bool,
        "MATRIX_USER_SKIP_PASSWORD_CHECK",
        "With MAS, set passwords it finds too simple: yes or no [default: no]",
    )
    .flag("skip-password-check", "yes|no")
    .default("false")
    .role("matrix_user_mas_skip_password_check"),
    Param::setting(
        "mas_login_interval",
        Float,
        "MATRIX_USER_MAS_LOGIN_INTERVAL",
        "With MAS, seconds between password-check logins once its rate limit is hit [default: 20]",
    )
    .flag("mas-login-interval", "SECONDS")
    .default("20")
    .role("matrix_user_mas_login_interval"),
    Param::setting(
        "mas_login_wait",
        Float,
        "MATRIX_USER_MAS_LOGIN_WAIT",
        "With MAS, the longest a run waits for its login rate limit in all [default: 600]",
    )
    .flag("mas-login-wait", "SECONDS")
    .default("600")
    .role("matrix_user_mas_login_wait"),
    param("username", Str, User, "The localpart (john) or the full user ID (@john:example.com)"),
    Param { env: Some("MATRIX_USER_PASSWORD"), ..param("password", Str, User, "The user's password").secret() },
    param("admin", Bool, User, "Server admin or not [default: no for a new user; an existing user's is left alone]")
        .flag("admin", "yes|no"),
    param(
        "update_password",
        Choice(&["on_create", "always"]),
        User,
        "always: also reset an existing user's password when it differs [default: on_create]",
    )
    .flag("update-password", "on_create|always")
    .default("on_create")
    .role("matrix_user_update_password"),
    param(
        "state",
        Choice(&["present", "locked", "deactivated"]),
        User,
        "present: exists and can log in; locked: cannot log in; deactivated: deactivated [default: present]",
    )
    .default("present"),
    param("erase", Bool, User, "With state deactivated: also erase the account as the server defines it")
        .default("false"),
    param(
        "displayname",
        Str,
        User,
        "Display name of the user: a new one is created with it, an existing one's is set to it",
    )
    .flag("displayname", "NAME"),
    param(
        "user_type",
        Choice(&UserType::NAMES),
        User,
        "Type of a new user (Synapse only); an existing user's is left alone [default: a regular user]",
    )
    .flag("user-type", "bot|support"),
    param("email", Str, User, "Email address of the user (with backend mas: added as a verified address)")
        .flag("email", "ADDRESS"),
    param("users", List, Run, "The users to ensure, each with the user parameters").role("matrix_user_users"),
    param("users_file", Path, Run, "File on the host listing the users to ensure: YAML, JSON, or CSV with a header")
        .role("matrix_user_users_file"),
    param(
        "exclusive",
        Bool,
        Run,
        "Exact mode: bring the accounts the list does not name to absent_state [default: no]",
    )
    .default("false")
    .role("matrix_user_exclusive"),
    param(
        "absent_state",
        Choice(&["locked", "deactivated"]),
        Run,
        "In exact mode, what becomes of an account the list does not name [default: locked]",
    )
    .flag("absent-state", "locked|deactivated")
    .default("locked")
    .role("matrix_user_absent_state"),
    param("keep", StrList, Run, "In exact mode, localparts never pruned (globs: * and ?)")
        .flag("keep", "GLOB")
        .role("matrix_user_keep"),
    param(
        "max_changes",
        Str,
        Run,
        "In exact mode, the most accounts pruned, as a count or a share of the server's (N or N%) [default: 10%]",
    )
    .flag("max-changes", "N|N%")
    .default("10%")
    .role("matrix_user_max_changes"),
    param("concurrency", Int, Run, "Most requests at once [default: 4]")
        .flag("concurrency", "N")
        .default("4")
        .role("matrix_user_concurrency"),
    param("name", Str, User, "The token's name: what output calls it, and the start of a token generated for it")
        .of_tokens(),
    param("token", Str, User, "File holding the token itself [default: generated as NAME-<20 random letters and digits>]")
        .flag_reading_file("token-file")
        .secret()
        .of_tokens(),
    param("uses_allowed", Str, User, "Sign-ups it allows in all: a number (0 or more) or unlimited [default: unlimited]")
        .flag("uses-allowed", "N")
        .of_tokens(),
    param(
        "expiry_time",
        Str,
        User,
        "Until when it is accepted: RFC 3339 time, date (UTC midnight), relative (30m, 12h, 7d, 2w; set on creation only) or never",
    )
    .flag("expiry-time", "TIME")
    .of_tokens(),
    param("state", Choice(&["present", "absent"]), User, "absent: delete it (MAS: revoke it) [default: present]")
        .flag("state", "present|absent")
        .default("present")
        .of_tokens(),
    param("tokens", List, Run, "The registration tokens to ensure, each with the token parameters")
        .role("matrix_user_registration_tokens")
        .of_tokens(),
];

/// The parameter of `matrix_user` called `name`. Panics on a name the table lacks: a bug a test
/// catches.
pub fn get(name: &str) -> &'static Param {
    get_of(Module::User, name)
}

/// The parameter of `module` called `name`.
pub fn get_of(module: Module, name: &str) -> &'static Param {
    PARAMS
        .iter()
        .find(|p| p.name == name && p.module.takes(module))
        .unwrap_or_else(|| panic!("`{name}` is not in the parameter table"))
}

/// Whether the parameter `name` is a secret.
pub fn is_secret(name: &str) -> bool {
    PARAMS.iter().any(|p| p.name == name && p.secret)
}

/// The flag that sets `name`: its own, or that of the `_file` parameter holding it.
pub fn flag_of(name: &str) -> Option<String> {
    PARAMS.iter().find(|p| p.name == name)?;
    PARAMS
        .iter()
        .filter(|p| p.name == name)
        .find_map(Param::flag_name)
        .or_else(|| PARAMS.iter().find(|p| p.holds == Some(name)).and_then(Param::flag_name))
        .or_else(|| (name == "username").then(|| "USERNAME".to_string()))
        .or_else(|| (name == "name").then(|| "NAME".to_string()))
}

/// The parameter that gives a setting the homeserver crate asks for (`backend: mas` is none).
pub fn of_setting(setting: Setting) -> Option<&'static str> {
    (setting != Setting::MasBackend).then(|| setting.key())
}

/// How the command-line tool names a setting in a message: the flag that gives it (the `_file`
/// form's for a secret given only by file), else the setting's own name.
pub fn flag_of_setting(setting: Setting) -> String {
    of_setting(setting)
        .and_then(|name| {
            let last = PARAMS.iter().find(|p| p.holds == Some(name)).map_or(name, |p| p.name);
            flag_of(last).or_else(|| flag_of(name))
        })
        .unwrap_or_else(|| setting.to_string())
}

/// The connection settings, each with its `_file` form when it has one: whichever source gives
/// either gives the setting.
pub fn settings() -> impl Iterator<Item = Vec<&'static Param>> {
    PARAMS.iter().filter(|p| p.scope == Connection && p.holds.is_none()).map(|p| {
        let mut setting = vec![p];
        setting.extend(PARAMS.iter().filter(|f| f.holds == Some(p.name)));
        setting
    })
}

/// The `Environment:` part of `--help`: every variable of the table.
pub fn environment_help() -> String {
    let mut text = String::from("Environment:\n");
    let connection: Vec<&str> = PARAMS.iter().filter(|p| p.scope == Connection).filter_map(|p| p.env).collect();
    text.push_str(&wrapped(&connection, "  ", 98));
    text.push_str("      connection settings, as the flags of the same name (an empty variable counts as unset)\n");
    let password = get("password").env.unwrap_or_default();
    text.push_str(&format!("  {password}, {password}_FILE\n"));
    text.push_str("      the password of `register` when no password flag is given\n");
    text
}

/// `words` joined with ", ", in lines of at most `width` characters.
fn wrapped(words: &[&str], indent: &str, width: usize) -> String {
    let mut text = String::new();
    let mut line = String::from(indent);
    for (i, word) in words.iter().enumerate() {
        let piece = if i + 1 < words.len() { format!("{word},") } else { word.to_string() };
        if line.len() > indent.len() && line.len() + 1 + piece.len() > width {
            text.push_str(line.trim_end());
            text.push('\n');
            line = String::from(indent);
        }
        if line.len() > indent.len() {
            line.push(' ');
        }
        line.push_str(&piece);
    }
    text.push_str(&line);
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    //! Drift checks: the documentation written by hand says what this table says.

    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    use serde_json::Value;

    use super::*;

    #[test]
    fn the_tool_names_settings_by_their_flags() {
        assert_eq!(flag_of_setting(Setting::HomeserverUrl), "--homeserver-url");
        assert_eq!(flag_of_setting(Setting::WaitTimeout), "--wait-timeout");
        assert_eq!(flag_of_setting(Setting::Timeout), "--timeout");
        assert!(flag_of_setting(Setting::AdminAccessToken).starts_with("--admin-access-token"));
        assert_eq!(flag_of_setting(Setting::MasBackend), "backend: mas");
    }

    fn repo() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    fn yaml(text: &str) -> Value {
        serde_norway::from_str(text).expect("valid YAML")
    }

    /// Each module of the collection, as the table and as Ansible name it.
    const MODULES: [(Module, &str); 2] = [(Module::User, "matrix_user"), (Module::Token, "matrix_registration_token")];

    /// The collection whose doc fragments a module may extend (`plugins/doc_fragments/`).
    const COLLECTION: &str = "matrix_user.homeserver";

    fn read(path: &str) -> String {
        std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// A module's DOCUMENTATION, and each doc fragment it extends, by name.
    fn module_documentation(module: &str) -> (Value, Vec<(String, Value)>) {
        let documentation = python_documentation(&read(&format!("plugins/modules/{module}.py")));
        let fragments = fragment_names(&documentation)
            .into_iter()
            .map(|name| {
                let file = name
                    .strip_prefix(COLLECTION)
                    .and_then(|rest| rest.strip_prefix('.'))
                    .filter(|file| !file.contains('.'))
                    .unwrap_or_else(|| panic!("{module}: fragment {name} is not a whole fragment of {COLLECTION}"));
                let fragment = python_documentation(&read(&format!("plugins/doc_fragments/{file}.py")));
                (name, fragment)
            })
            .collect();
        (documentation, fragments)
    }

    /// `extends_documentation_fragment`: a list, or one string of names separated by commas.
    fn fragment_names(documentation: &Value) -> Vec<String> {
        match documentation.get("extends_documentation_fragment") {
            None => Vec::new(),
            Some(Value::String(names)) => names.split(',').map(|name| name.trim().to_string()).collect(),
            Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            Some(other) => panic!("extends_documentation_fragment is neither a list nor a string: {other}"),
        }
    }

    fn options_of(documentation: &Value) -> serde_json::Map<String, Value> {
        documentation.get("options").and_then(Value::as_object).cloned().unwrap_or_default()
    }

    /// The options as `ansible-doc` shows them: fragment by fragment, in order, each option of a
    /// fragment with the fields already documented for it laid over its own (ansible-core's
    /// `add_fragments`): the module's fields win, then an earlier fragment's.
    fn resolved_options(documentation: &Value, fragments: &[(String, Value)]) -> serde_json::Map<String, Value> {
        let mut options = options_of(documentation);
        for (_, fragment) in fragments {
            for (name, option) in options_of(fragment) {
                let mut merged = option.as_object().cloned().unwrap_or_default();
                if let Some(Value::Object(fields)) = options.get(&name) {
                    merged.extend(fields.clone());
                }
                options.insert(name, Value::Object(merged));
            }
        }
        options
    }

    /// A module's documented options, with those of its doc fragments.
    fn documented_options(module: &str) -> (String, serde_json::Map<String, Value>) {
        let (documentation, fragments) = module_documentation(module);
        (format!("plugins/modules/{module}.py"), resolved_options(&documentation, &fragments))
    }

    #[test]
    fn fragments_resolve_as_ansible_doc_does() {
        let module = yaml(
            "extends_documentation_fragment: [matrix_user.homeserver.a, matrix_user.homeserver.b]\n\
             options:\n  timeout: {description: [mine], default: 5}\n  own: {type: int}\n",
        );
        let a = yaml("options:\n  timeout: {description: [a], type: float, default: 30}\n  shared: {type: path}\n");
        let b = yaml("options:\n  shared: {type: str, description: [b]}\n  other: {type: bool}\n");
        assert_eq!(fragment_names(&module), ["matrix_user.homeserver.a", "matrix_user.homeserver.b"]);
        assert_eq!(fragment_names(&yaml("extends_documentation_fragment: x.y.a, x.y.b")), ["x.y.a", "x.y.b"]);
        let options = resolved_options(&module, &[("a".into(), a), ("b".into(), b)]);
        assert_eq!(options["timeout"], yaml("{description: [mine], type: float, default: 5}"));
        assert_eq!(options["shared"], yaml("{type: path, description: [b]}"));
        assert_eq!(options["own"], yaml("{type: int}"));
        assert_eq!(options["other"], yaml("{type: bool}"));
        assert_eq!(options.len(), 4);
    }

    /// What both modules share is written once, in a doc fragment both extend: the connection
    /// settings (the table's `Both` rows) and the action plugin's options. A module documents
    /// only its own parameters, and a fragment nothing that is not shared.
    #[test]
    fn shared_options_are_documented_once_in_the_fragments() {
        let mut drift = Vec::new();
        for (_, name) in MODULES {
            let (documentation, fragments) = module_documentation(name);
            let own = options_of(&documentation);
            let mut shared = BTreeSet::new();
            for (fragment, fragment_doc) in &fragments {
                for option in options_of(fragment_doc).keys() {
                    let of_both = PARAMS.iter().any(|p| p.name == option && p.module == Module::Both);
                    if !of_both && !ACTION_PLUGIN_OPTIONS.contains(&option.as_str()) {
                        drift.push(format!("{fragment} documents `{option}`, not a parameter of both modules"));
                    }
                    if own.contains_key(option) {
                        drift.push(format!("{name} documents `{option}` again, which {fragment} documents"));
                    }
                    shared.insert(option.clone());
                }
            }
            let both = PARAMS.iter().filter(|p| p.module == Module::Both).map(|p| p.name);
            for option in both.chain(ACTION_PLUGIN_OPTIONS.iter().copied()) {
                if !shared.contains(option) {
                    drift.push(format!("`{option}` is shared but in no doc fragment {name} extends"));
                }
            }
        }
        assert!(drift.is_empty(), "the modules' documentation and src/params.rs differ:\n  {}", drift.join("\n  "));
    }

    /// The YAML of a Python module's (or doc fragment's) `DOCUMENTATION = r"""..."""` (or `'''`), parsed.
    fn python_documentation(text: &str) -> Value {
        let start = text.find("DOCUMENTATION = ").expect("DOCUMENTATION in the module");
        let body = &text[start..];
        let open = [body.find("'''"), body.find("\"\"\"")].into_iter().flatten().min().expect("a quoted DOCUMENTATION");
        let quote = &body[open..open + 3];
        let rest = &body[open + 3..];
        let close = rest.find(quote).expect("DOCUMENTATION closed");
        yaml(&rest[..close])
    }

    #[test]
    fn documentation_is_read_from_a_python_module() {
        let module = "#!/usr/bin/python\n# a comment\nDOCUMENTATION = r\"\"\"\nmodule: matrix_user\noptions:\n  timeout:\n    description: [\"It's ''' here\"]\n    type: float\n    default: 30\n\"\"\"\n\nEXAMPLES = r'''\n- x: 1\n'''\n";
        let doc = python_documentation(module);
        assert_eq!(doc["options"]["timeout"]["type"], "float");
        assert_eq!(doc["options"]["timeout"]["default"], 30);
    }

    fn default_value(param: &Param) -> Value {
        param.default.map_or(Value::Null, yaml)
    }

    /// Numbers compared as numbers (`20` and `20.0` are one default).
    fn same(a: &Value, b: &Value) -> bool {
        match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        }
    }

    #[test]
    fn names_are_unique_and_secrets_are_never_flag_values() {
        for module in [Module::User, Module::Token] {
            let rows: Vec<_> = PARAMS.iter().filter(|p| p.module.takes(module)).map(|p| p.name).collect();
            let names: BTreeSet<_> = rows.iter().collect();
            assert_eq!(names.len(), rows.len(), "{module:?}");
        }
        for p in PARAMS {
            if p.secret {
                // A secret on the command line is visible to every local user.
                assert!(p.flag.is_none_or(|f| f.reads_file), "{} is a secret with a plain flag", p.name);
            }
            if let Some(secret) = p.holds {
                assert!(get(secret).secret, "{} holds {secret}, which is not marked secret", p.name);
            }
            if p.scope == Connection {
                assert!(flag_of(p.name).is_some(), "connection setting {} has no flag", p.name);
                assert_eq!(p.env.map(str::to_string), Some(format!("MATRIX_USER_{}", p.name.to_uppercase())));
            }
        }
    }

    #[test]
    fn defaults_are_those_the_code_uses() {
        let pace = homeserver::mas::LoginPace::default();
        assert_eq!(get("mas_login_interval").default_number(), pace.interval.as_secs_f64());
        assert_eq!(get("mas_login_wait").default_number(), pace.max_wait.as_secs_f64());
        for p in PARAMS {
            if let (Kind::Choice(choices), Some(default)) = (p.kind, p.default) {
                assert!(choices.contains(&default), "{}", p.name);
            }
            if p.kind == Kind::Bool && p.default.is_some() {
                assert!(["true", "false"].contains(&p.default_str()), "{}", p.name);
            }
            if matches!(p.kind, Kind::Float | Kind::Int) && p.default.is_some() {
                p.default_number();
            }
        }
    }

    #[test]
    fn the_environment_help_lists_every_variable() {
        let help = crate::cli::command().render_long_help().to_string();
        for var in PARAMS.iter().filter_map(|p| p.env).chain(["MATRIX_USER_CONFIG"]) {
            assert!(help.lines().any(|line| line.starts_with("  MATRIX_USER_") && line.contains(var)), "{var}");
        }
    }

    #[test]
    fn every_setting_the_homeserver_asks_for_is_a_parameter() {
        for setting in Setting::ALL {
            if let Some(name) = of_setting(setting) {
                // The module's messages name it as the table does.
                assert_eq!(get(name).name, setting.to_string());
            }
        }
    }

    /// Options of the module's action plugin (plugins/action/matrix_user.py), which finds,
    /// installs and runs the binary on the controller's side: documented with the module, never
    /// passed to the binary.
    pub(super) const ACTION_PLUGIN_OPTIONS: &[&str] =
        &["binary", "host_binary", "install_dir", "run_on", "build", "report"];

    #[test]
    fn the_module_documentation_matches_the_table() {
        for (module, name) in MODULES {
            module_documentation_matches(module, name);
        }
    }

    fn module_documentation_matches(module: Module, module_name: &str) {
        let (file, options) = documented_options(module_name);
        let mut drift = Vec::new();
        let rows: Vec<&Param> = PARAMS.iter().filter(|p| p.module.takes(module)).collect();
        let table: BTreeSet<&str> = rows.iter().map(|p| p.name).collect();
        let documented: BTreeSet<&str> =
            options.keys().map(String::as_str).filter(|name| !ACTION_PLUGIN_OPTIONS.contains(name)).collect();
        for name in table.difference(&documented) {
            drift.push(format!("`{name}` is in the table but not documented"));
        }
        for name in documented.difference(&table) {
            drift.push(format!("`{name}` is documented but not in the table"));
        }
        for p in rows {
            let Some(doc) = options.get(p.name) else { continue };
            let doc_type = doc.get("type").and_then(Value::as_str).unwrap_or("str");
            if doc_type != p.kind.doc_type() {
                drift.push(format!("`{}`: type {doc_type} documented, {} in the table", p.name, p.kind.doc_type()));
            }
            let doc_default = doc.get("default").cloned().unwrap_or(Value::Null);
            if !same(&doc_default, &default_value(p)) {
                drift.push(format!(
                    "`{}`: default {doc_default} documented, {} in the table",
                    p.name,
                    default_value(p)
                ));
            }
            if let Kind::Choice(choices) = p.kind {
                let doc_choices: Vec<&str> = doc
                    .get("choices")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                if doc_choices != choices {
                    drift.push(format!("`{}`: choices {doc_choices:?} documented, {choices:?} in the table", p.name));
                }
            }
            if let Some(no_log) = doc.get("no_log").and_then(Value::as_bool) {
                if no_log != p.secret {
                    drift.push(format!("`{}`: no_log {no_log} documented, secret {} in the table", p.name, p.secret));
                }
            }
        }
        assert!(drift.is_empty(), "{file} and src/params.rs differ:\n  {}", drift.join("\n  "));
    }

    #[test]
    fn the_role_argument_specs_match_the_table() {
        let path = "roles/matrix_user/meta/argument_specs.yml";
        let specs = yaml(&std::fs::read_to_string(repo().join(path)).unwrap());
        let options = specs["argument_specs"]["main"]["options"].as_object().cloned().expect("options");
        let mut drift = Vec::new();
        for p in PARAMS {
            let Some(var) = p.role_var else { continue };
            let Some(spec) = options.get(var) else {
                drift.push(format!("`{var}` (feeding `{}`) is not in the argument specs", p.name));
                continue;
            };
            let spec_type = spec.get("type").and_then(Value::as_str).unwrap_or("str");
            // The role passes a path as a string, and whole seconds as an int.
            let fits = match p.kind {
                Kind::Path => ["str", "path"].contains(&spec_type),
                Kind::Float => ["float", "int"].contains(&spec_type),
                kind => spec_type == kind.doc_type(),
            };
            if !fits {
                drift.push(format!("`{var}`: type {spec_type}, but `{}` is {}", p.name, p.kind.doc_type()));
            }
            if let (Kind::Choice(choices), Some(spec_choices)) = (p.kind, spec.get("choices")) {
                let spec_choices: Vec<&str> =
                    spec_choices.as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                if spec_choices != choices {
                    drift.push(format!("`{var}`: choices {spec_choices:?}, but `{}` takes {choices:?}", p.name));
                }
            }
            // An unset string is "" in the role; other defaults are the module's own.
            let spec_default = spec.get("default").cloned().unwrap_or(Value::Null);
            if p.default.is_some() && !same(&spec_default, &default_value(p)) {
                drift.push(format!(
                    "`{var}`: default {spec_default}, but `{}` defaults to {}",
                    p.name,
                    default_value(p)
                ));
            }
        }
        assert!(drift.is_empty(), "{path} and src/params.rs differ:\n  {}", drift.join("\n  "));
    }

    #[test]
    fn docs_cli_tables_match_the_table() {
        let text = std::fs::read_to_string(repo().join("docs/cli.md")).unwrap();
        let rows: Vec<Vec<&str>> = text
            .lines()
            .filter(|line| line.starts_with("| `-"))
            .map(|line| line.trim_matches('|').split(" | ").map(str::trim).collect())
            .collect();
        let row_of = |flag: &str| {
            rows.iter().find(|row| {
                row[0].starts_with(&format!("`{flag}"))
                    && (row[0].len() == flag.len() + 2 || row[0][flag.len() + 1..].starts_with([' ', '`']))
            })
        };
        let mut drift = Vec::new();
        for p in PARAMS {
            let Some(flag) = flag_of(p.name).filter(|f| f.starts_with("--")) else { continue };
            let Some(row) = row_of(&flag) else {
                drift.push(format!("{flag} (`{}`) has no row", p.name));
                continue;
            };
            if p.scope != Connection {
                continue;
            }
            let cell = |i: usize| row.get(i).copied().unwrap_or_default();
            if let Some(env) = p.env {
                if !cell(1).split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).any(|word| word == env) {
                    drift.push(format!("{flag}: the variable {env} is not in its row"));
                }
            }
            if let Some(key) = p.config_key {
                if !cell(2).split('`').any(|word| word == key) {
                    drift.push(format!("{flag}: the config key `{key}` is not in its row"));
                }
            }
        }
        // Every connection row is a flag of the table (or --config, the file itself).
        for row in rows.iter().filter(|row| row.len() == 4) {
            let flag = row[0].trim_matches('`').split([' ', '`']).next().unwrap_or_default();
            let known = flag == "--config" || PARAMS.iter().any(|p| p.flag_name().as_deref() == Some(flag));
            if !known {
                drift.push(format!("{flag} is in the connection table but not a parameter's flag"));
            }
        }
        assert!(drift.is_empty(), "docs/cli.md and src/params.rs differ:\n  {}", drift.join("\n  "));
    }
}

#[cfg(test)]
mod module_tests {
    use ansible_module::{ParamError, Params, Redactor};
    use serde_json::json;

    use super::PARAMS;

    /// The module takes exactly the table's parameters: what it lists as supported when it
    /// refuses an unknown one (before any request) is the table.
    #[test]
    fn the_module_takes_the_table() {
        let params = json!({"username": "x", "password": "p", "no_such_parameter": 1});
        let params = Params::new(params.as_object().unwrap().clone());
        let execution = crate::module::execute(params, true, false, &mut Redactor::new());
        let Some(crate::module::Failure::Param(ParamError::Unsupported { supported, .. })) = execution.failure else {
            panic!("not refused: {:?}", execution.failure);
        };
        let mut table: Vec<String> =
            PARAMS.iter().filter(|p| p.module.takes(super::Module::User)).map(|p| p.name.to_string()).collect();
        table.sort();
        assert_eq!(supported, table);
    }
}

#[cfg(test)]
mod role_tests {
    use std::path::Path;

    use serde_json::Value;

    use super::{Scope, PARAMS};

    fn read_yaml(path: &str) -> Value {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)).unwrap();
        serde_norway::from_str(&text).unwrap()
    }

    /// The role's task passes only parameters of the table (and the action plugin's own
    /// options), each connection setting from its role variable, and every role variable has a
    /// default (or is required).
    #[test]
    fn the_role_passes_the_table() {
        let tasks = read_yaml("roles/matrix_user/tasks/main.yml");
        let defaults = read_yaml("roles/matrix_user/defaults/main.yml");
        let specs = read_yaml("roles/matrix_user/meta/argument_specs.yml");
        let task =
            tasks.as_array().into_iter().flatten().flat_map(|t| t["block"].as_array().cloned().unwrap_or_default());
        let args = task
            .filter_map(|t| t.get("matrix_user.homeserver.matrix_user").and_then(Value::as_object).cloned())
            .next()
            .expect("the matrix_user.homeserver.matrix_user task in tasks/main.yml");
        let mut drift = Vec::new();
        for name in args.keys() {
            if !PARAMS.iter().any(|p| p.name == name) && !super::tests::ACTION_PLUGIN_OPTIONS.contains(&name.as_str()) {
                drift.push(format!("tasks/main.yml passes `{name}`, which is not a parameter"));
            }
        }
        for p in PARAMS.iter().filter(|p| p.scope == Scope::Connection) {
            let Some(var) = p.role_var else { continue };
            let passes = args.get(p.name).and_then(Value::as_str).is_some_and(|expr| expr.contains(var));
            if !passes {
                drift.push(format!("tasks/main.yml does not pass `{}` from `{var}`", p.name));
            }
            let required = specs["argument_specs"]["main"]["options"][var]["required"] == Value::Bool(true);
            if !required && defaults.get(var).is_none() {
                drift.push(format!("defaults/main.yml has no `{var}`"));
            }
        }
        assert!(drift.is_empty(), "the role and src/params.rs differ:\n  {}", drift.join("\n  "));
    }
}
