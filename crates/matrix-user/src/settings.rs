//! Connection settings: which homeserver, how to reach it, and with which secrets.

use std::path::PathBuf;
use std::time::Duration;

use ansible_module::{ParamError, Params, Redactor};
use homeserver::dendrite::{AccountsDatabase, Dendrite};
use homeserver::mas::{LoginPace, Mas, MasClient};
use homeserver::synapse::Synapse;
use homeserver::{Http, Secret, Server, Transport};

use crate::host_config::{self, HostConfig, Wanted};
use crate::module::Failure;
use crate::params::get as param;
use crate::provision::{self, Provision};

/// The longest `timeout`: an hour for one answer is already more than any homeserver needs.
const TIMEOUT_MAX_SECS: f64 = 3600.0;
/// The longest `wait_timeout`: a day.
const WAIT_TIMEOUT_MAX_SECS: f64 = 86_400.0;

/// Where a front end's parameters are read from, each with its type: the module's `Params` (the
/// args file) or the command-line tool's layers (flags, environment, config file). The typed
/// readings below ([`Settings::take`], `module::UserParams::take`, `module::Request::take`) are
/// written once, on this.
pub trait ParamReader {
    fn take_str(&mut self, name: &str) -> Result<Option<String>, ParamError>;
    fn take_bool(&mut self, name: &str) -> Result<Option<bool>, ParamError>;
    fn take_choice(&mut self, name: &str, choices: &[&'static str]) -> Result<Option<&'static str>, ParamError>;
    fn take_seconds(&mut self, name: &str) -> Result<Option<f64>, ParamError>;
    fn take_count(&mut self, name: &str) -> Result<Option<u64>, ParamError>;
    fn take_object_list(&mut self, name: &str) -> Result<Option<Vec<Params>>, ParamError>;
    /// A list of strings, or one string as a list of one.
    fn take_str_list(&mut self, name: &str) -> Result<Option<Vec<String>>, ParamError>;
    /// Whether `name` was given (taken or not).
    fn has(&self, name: &str) -> bool;
    fn invalid(&self, name: &str, problem: impl Into<String>) -> ParamError;
    fn missing(&self, name: &str, why: impl Into<String>) -> ParamError;
    /// Refuses what nobody took.
    fn finish(&mut self) -> Result<(), ParamError>;
}

impl ParamReader for Params {
    fn take_str(&mut self, name: &str) -> Result<Option<String>, ParamError> {
        Params::take_str(self, name)
    }
    fn take_bool(&mut self, name: &str) -> Result<Option<bool>, ParamError> {
        Params::take_bool(self, name)
    }
    fn take_choice(&mut self, name: &str, choices: &[&'static str]) -> Result<Option<&'static str>, ParamError> {
        Params::take_choice(self, name, choices)
    }
    fn take_seconds(&mut self, name: &str) -> Result<Option<f64>, ParamError> {
        Params::take_seconds(self, name)
    }
    fn take_count(&mut self, name: &str) -> Result<Option<u64>, ParamError> {
        Params::take_count(self, name)
    }
    fn take_object_list(&mut self, name: &str) -> Result<Option<Vec<Params>>, ParamError> {
        Params::take_object_list(self, name)
    }
    fn take_str_list(&mut self, name: &str) -> Result<Option<Vec<String>>, ParamError> {
        Params::take_str_list(self, name)
    }
    fn has(&self, name: &str) -> bool {
        self.as_map().contains_key(name)
    }
    fn invalid(&self, name: &str, problem: impl Into<String>) -> ParamError {
        Params::invalid(self, name, problem)
    }
    fn missing(&self, name: &str, why: impl Into<String>) -> ParamError {
        Params::missing(self, name, why)
    }
    fn finish(&mut self) -> Result<(), ParamError> {
        Params::finish(std::mem::take(self))
    }
}

/// Which homeserver API manages users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Synapse,
    Dendrite,
    Mas,
}

/// Everything needed to talk to the homeserver.
#[derive(Debug)]
pub struct Settings {
    pub backend: BackendKind,
    pub server_name: Option<String>,
    pub transport: Transport,
    pub registration_shared_secret: Option<Secret>,
    pub admin_access_token: Option<Secret>,
    /// Dendrite's account database: a PostgreSQL connection string or a SQLite file.
    pub dendrite_database: Option<Secret>,
    /// MAS's admin client (with backend mas).
    pub mas_client: Option<MasClient>,
    /// Whether MAS's password complexity check is skipped.
    pub skip_password_check: bool,
    /// How password-check logins are paced against MAS's login rate limit.
    pub mas_login_pace: LoginPace,
    /// The admin account to provision when no admin token is given (`provision_admin`).
    pub provision: Option<Provision>,
    /// Where each setting read from the homeserver's configuration came from (no values).
    pub sources: Vec<(&'static str, String)>,
}

impl Settings {
    /// Takes the connection parameters. Secrets, including those read from files, are added to
    /// `redactor` as soon as they are known.
    pub fn take(params: &mut impl ParamReader, redactor: &mut Redactor) -> Result<Settings, ParamError> {
        let backend = match params.take_choice("backend", param("backend").choices())? {
            None | Some("synapse") => BackendKind::Synapse,
            Some("dendrite") => BackendKind::Dendrite,
            Some(_) => BackendKind::Mas,
        };
        let homeserver_url = take_url(params, redactor, "homeserver_url")?;
        let server_name = params.take_str("server_name")?.filter(|s| !s.is_empty());
        if let Some(name) = &server_name {
            if name.contains(|c: char| c.is_whitespace() || c == '/' || c == '@') {
                return Err(params.invalid("server_name", "must be a domain such as example.com"));
            }
        }
        let registration_shared_secret = take_secret(params, redactor, "registration_shared_secret")?;
        let admin_access_token = take_secret(params, redactor, "admin_access_token")?;
        let dendrite_database = params.take_str("dendrite_database")?.filter(|s| !s.is_empty());
        // What the parameters leave open, from the homeserver's own configuration.
        let wanted = Wanted {
            shared_secret: registration_shared_secret.is_none(),
            homeserver_url: homeserver_url.is_none(),
            server_name: server_name.is_none(),
            database: dendrite_database.is_none(),
        };
        let host = take_host_config(params, redactor, backend, wanted)?;
        let mut sources = Vec::new();
        let mut from_host = |key: &'static str, found: Option<host_config::Found>| {
            found.map(|found| {
                sources.push((key, found.from));
                found.value
            })
        };
        let homeserver_url = homeserver_url
            .or_else(|| from_host("homeserver_url", host.homeserver_url))
            .unwrap_or_else(|| param("homeserver_url").default_str().into());
        let server_name = server_name.or_else(|| from_host("server_name", host.server_name));
        let registration_shared_secret = registration_shared_secret
            .or_else(|| from_host("registration_shared_secret", host.shared_secret).map(Secret::new));
        let dendrite_database = dendrite_database.or_else(|| from_host("dendrite_database", host.database));
        if let Some(setting) = &dendrite_database {
            redactor.add(setting);
            url_credentials(setting).into_iter().flatten().for_each(|secret| redactor.add(&secret));
            if backend != BackendKind::Dendrite {
                return Err(params.invalid("dendrite_database", "applies only with backend: dendrite"));
            }
        }
        let provision = provision::take(params, redactor, backend)?;
        let mas_url = take_url(params, redactor, "mas_url")?;
        let mas_client_id = params.take_str("mas_client_id")?.filter(|s| !s.is_empty());
        let mas_client_secret = take_secret(params, redactor, "mas_client_secret")?;
        let skip_password_check =
            params.take_bool("skip_password_check")?.unwrap_or(param("skip_password_check").default_bool());
        let mas_login_pace = take_mas_login_pace(params)?;
        let mas = match (backend, mas_url, mas_client_id, mas_client_secret) {
            // Without server_name, MAS's site-config says it.
            (BackendKind::Mas, Some(url), Some(client_id), Some(client_secret)) => {
                Some((url, MasClient { client_id, client_secret }))
            }
            (BackendKind::Mas, url, client_id, _) => {
                let missing = if url.is_none() {
                    "mas_url"
                } else if client_id.is_none() {
                    "mas_client_id"
                } else {
                    "mas_client_secret"
                };
                return Err(params.missing(missing, " with backend: mas"));
            }
            (_, None, None, None) if !skip_password_check && mas_login_pace.is_none() => None,
            _ => {
                return Err(params.invalid(
                    "mas_url",
                    "mas_url, mas_client_id, mas_client_secret, skip_password_check, mas_login_interval and \
                     mas_login_wait apply only with backend: mas",
                ))
            }
        };
        let validate_certs = params.take_bool("validate_certs")?.unwrap_or(param("validate_certs").default_bool());
        let ca_path = params.take_str("ca_path")?.map(PathBuf::from);
        let timeout = params.take_seconds("timeout")?.unwrap_or(param("timeout").default_number());
        let timeout = check_timeout(timeout).map_err(|problem| params.invalid("timeout", problem))?;
        let wait_timeout = params.take_seconds("wait_timeout")?.unwrap_or(param("wait_timeout").default_number());
        let wait_timeout =
            check_wait_timeout(wait_timeout).map_err(|problem| params.invalid("wait_timeout", problem))?;
        Ok(Settings {
            backend,
            server_name,
            transport: Transport {
                // MAS manages the users: it is the server this tool talks to.
                base_url: mas.as_ref().map_or(homeserver_url, |(url, _)| url.clone()),
                timeout: Duration::from_secs_f64(timeout),
                wait_timeout: Duration::from_secs_f64(wait_timeout),
                validate_certs,
                ca_path,
            },
            registration_shared_secret,
            admin_access_token,
            dendrite_database: dendrite_database.map(Secret::new),
            mas_client: mas.map(|(_, client)| client),
            skip_password_check,
            mas_login_pace: mas_login_pace.unwrap_or_default(),
            provision,
            sources,
        })
    }

    /// What the run should warn about: a certificate check turned off for an HTTPS URL.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if !self.transport.validate_certs && self.transport.base_url.starts_with("https://") {
            warnings.push(format!(
                "validate_certs is off: the certificate of {} is not checked, so anyone on the way to it can pose \
                 as the homeserver and receive the secrets sent to it; set ca_path to the certificate of the CA \
                 that signed it instead",
                self.transport.base_url
            ));
        }
        warnings
    }

    /// Connects to the homeserver these settings name. Makes a request only when the server's
    /// domain has to be asked for.
    pub async fn connect(&self) -> Result<Server, Failure> {
        let http = Http::new(self.transport.clone()).map_err(Failure::Start)?;
        match self.backend {
            BackendKind::Synapse => Synapse::connect(
                http,
                self.server_name.clone(),
                self.registration_shared_secret.clone(),
                self.admin_access_token.clone(),
            )
            .await
            .map(Server::Synapse)
            .map_err(Failure::homeserver),
            BackendKind::Dendrite => Dendrite::connect(
                http,
                self.server_name.clone(),
                self.registration_shared_secret.clone(),
                self.admin_access_token.clone(),
                self.dendrite_database.as_ref().map(|setting| AccountsDatabase::parse(setting.expose())),
            )
            .await
            .map(|dendrite| Server::Dendrite(Box::new(dendrite)))
            .map_err(Failure::homeserver),
            BackendKind::Mas => {
                let Some(client) = &self.mas_client else {
                    return Err(Failure::Start("backend mas needs the MAS client".to_string()));
                };
                Mas::connect(
                    http,
                    self.server_name.clone(),
                    client.clone(),
                    self.skip_password_check,
                    self.mas_login_pace,
                )
                .await
                .map(|mas| Server::Mas(Box::new(mas)))
                .map_err(Failure::homeserver)
            }
        }
    }
}

/// `synapse_config` or `dendrite_config`, each only with its backend, read for what `wanted`
/// names. Every value read joins `redactor` at once.
fn take_host_config(
    params: &mut impl ParamReader,
    redactor: &mut Redactor,
    backend: BackendKind,
    wanted: Wanted,
) -> Result<HostConfig, ParamError> {
    let synapse = take_paths(params, "synapse_config")?;
    let dendrite = params.take_str("dendrite_config")?.filter(|s| !s.is_empty());
    let found = match (synapse, dendrite) {
        (Some(_), _) if backend != BackendKind::Synapse => {
            return Err(params.invalid("synapse_config", "applies only with backend: synapse"))
        }
        (_, Some(_)) if backend != BackendKind::Dendrite => {
            return Err(params.invalid("dendrite_config", "applies only with backend: dendrite"))
        }
        (Some(paths), _) => {
            host_config::synapse(&paths, wanted).map_err(|problem| params.invalid("synapse_config", problem))?
        }
        (_, Some(path)) => {
            // Dendrite's listener is a command-line flag, not in its configuration.
            let wanted = Wanted { homeserver_url: false, ..wanted };
            host_config::dendrite(&path, wanted).map_err(|problem| params.invalid("dendrite_config", problem))?
        }
        (None, None) => return Ok(HostConfig::default()),
    };
    for found in [&found.shared_secret, &found.database].into_iter().flatten() {
        redactor.add(&found.value);
        url_credentials(&found.value).into_iter().flatten().for_each(|secret| redactor.add(&secret));
    }
    Ok(found)
}

/// A list of paths, or one path.
fn take_paths(params: &mut impl ParamReader, name: &str) -> Result<Option<Vec<String>>, ParamError> {
    let paths = params.take_str_list(name)?.unwrap_or_default();
    let paths: Vec<String> = paths.into_iter().filter(|p| !p.is_empty()).collect();
    Ok((!paths.is_empty()).then_some(paths))
}

/// `timeout`'s range: more than 0 and at most [`TIMEOUT_MAX_SECS`].
pub fn check_timeout(secs: f64) -> Result<f64, String> {
    if secs == 0.0 || secs > TIMEOUT_MAX_SECS {
        return Err(format!("must be more than 0 and at most {TIMEOUT_MAX_SECS} seconds"));
    }
    Ok(secs)
}

/// `wait_timeout`'s range: at most [`WAIT_TIMEOUT_MAX_SECS`].
pub fn check_wait_timeout(secs: f64) -> Result<f64, String> {
    if secs > WAIT_TIMEOUT_MAX_SECS {
        return Err(format!("must be at most {WAIT_TIMEOUT_MAX_SECS} seconds (a day)"));
    }
    Ok(secs)
}

/// A URL's scheme: http or https. The user and password it may hold join `redactor` first.
pub fn check_url(url: &str, redactor: &mut Redactor) -> Result<(), &'static str> {
    if let Some(secrets) = url_credentials(url) {
        secrets.iter().for_each(|secret| redactor.add(secret));
    }
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(())
    } else {
        Err("must start with http:// or https://")
    }
}

/// `mas_login_interval` and `mas_login_wait` (seconds), when either is given.
fn take_mas_login_pace(params: &mut impl ParamReader) -> Result<Option<LoginPace>, ParamError> {
    let interval = params.take_seconds("mas_login_interval")?;
    let wait = params.take_seconds("mas_login_wait")?;
    if interval.is_some_and(|secs| secs > 3600.0) {
        return Err(params.invalid("mas_login_interval", "must be at most 3600 seconds"));
    }
    if wait.is_some_and(|secs| secs > 86_400.0) {
        return Err(params.invalid("mas_login_wait", "must be at most 86400 seconds (a day)"));
    }
    if interval.is_none() && wait.is_none() {
        return Ok(None);
    }
    let default = LoginPace::default();
    Ok(Some(LoginPace {
        interval: interval.map_or(default.interval, Duration::from_secs_f64),
        max_wait: wait.map_or(default.max_wait, Duration::from_secs_f64),
    }))
}

/// An optional http(s) URL; the user and password it may hold are secrets.
fn take_url(params: &mut impl ParamReader, redactor: &mut Redactor, name: &str) -> Result<Option<String>, ParamError> {
    let url = params.take_str(name)?.filter(|s| !s.is_empty());
    if let Some(url) = &url {
        check_url(url, redactor).map_err(|problem| params.invalid(name, problem))?;
    }
    Ok(url)
}

/// The password in a URL's authority (`scheme://user:pw@host`), as written and decoded, and
/// the whole `user:pw`; `None` when the URL holds no credentials. The user name alone is not a
/// secret (masking it would mangle every message that names, say, a `dendrite` user).
pub fn url_credentials(text: &str) -> Option<Vec<String>> {
    let (_, rest) = text.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    let mut found = vec![userinfo.to_string()];
    if let Some((_, password)) = userinfo.split_once(':').filter(|(_, pw)| !pw.is_empty()) {
        found.push(password.to_string());
        found.push(percent_encoding::percent_decode_str(password).decode_utf8_lossy().into_owned());
    }
    Some(found)
}

/// A secret given either directly (`name`) or as a file (`name_file`) read where the module runs;
/// surrounding white space in the file is dropped, as Synapse does with its secret files.
fn take_secret(
    params: &mut impl ParamReader,
    redactor: &mut Redactor,
    name: &str,
) -> Result<Option<Secret>, ParamError> {
    let file_param = format!("{name}_file");
    let direct = params.take_str(name)?.filter(|s| !s.is_empty());
    let path = params.take_str(&file_param)?.filter(|s| !s.is_empty());
    let value = match (direct, path) {
        (Some(_), Some(_)) => {
            return Err(params.invalid(name, format!("set either `{name}` or `{file_param}`, not both")))
        }
        (Some(value), None) => value,
        (None, Some(path)) => read_secret(&path).map_err(|problem| params.invalid(&file_param, problem))?,
        (None, None) => return Ok(None),
    };
    redactor.add(&value);
    Ok(Some(Secret::new(value)))
}

/// A secret file's secret: its text less surrounding white space, which must not be empty;
/// the error says which file and as which user it was read. The caller adds it to the `Redactor`.
pub fn read_secret(path: &str) -> Result<String, String> {
    let text = read_secret_file(path).map_err(|e| format!("cannot read {path} as user {}: {e}", current_user()))?;
    let value = text.trim().to_string();
    if value.is_empty() {
        return Err(format!("{path} is empty"));
    }
    Ok(value)
}

/// The most a secret file may hold: a secret is a line, not a file of any size (a typo such as
/// `/dev/zero` must fail, not fill the memory).
const SECRET_FILE_MAX: u64 = 64 * 1024;

/// A secret file's text, refused when it is larger than [`SECRET_FILE_MAX`] or not UTF-8.
fn read_secret_file(path: &str) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    crate::files::open_secret(std::path::Path::new(path))?.take(SECRET_FILE_MAX + 1).read_to_string(&mut text)?;
    if text.len() as u64 > SECRET_FILE_MAX {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("it holds more than {} KiB, more than any secret", SECRET_FILE_MAX / 1024),
        ));
    }
    Ok(text)
}

/// The user this process reads files as: its effective user, which under Ansible's `become` is the
/// become user. `$USER` is only the fallback: `su` (and other become methods) can leave it naming
/// the login user while the files are read as root.
fn current_user() -> String {
    effective_uid()
        .map(|uid| user_name(uid).unwrap_or_else(|| format!("uid {uid}")))
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .unwrap_or_else(|| "(unknown)".to_string())
}

/// The effective user ID, from `/proc/self/status` (`Uid: real effective saved fs`); Linux only.
pub(crate) fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let ids = status.lines().find_map(|line| line.strip_prefix("Uid:"))?;
    ids.split_whitespace().nth(1)?.parse().ok()
}

/// The name `/etc/passwd` gives `uid`, if it lists it.
fn user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id = fields.nth(1)?.parse::<u32>().ok()?;
        (id == uid).then(|| name.to_string())
    })
}
