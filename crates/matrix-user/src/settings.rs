//! Connection settings: which homeserver, how to reach it, and with which secrets.

use std::path::PathBuf;
use std::time::Duration;

use ansible_module::{ParamError, Params, Redactor};
use homeserver::synapse::Synapse;
use homeserver::{Http, Secret, Server, Transport};

/// Parameters that are secrets: masked in `invocation` and everywhere else.
pub const SECRET_PARAMS: &[&str] =
    &["password", "registration_shared_secret", "admin_access_token", "mas_client_secret"];

const DEFAULT_HOMESERVER_URL: &str = "http://127.0.0.1:8008";
const DEFAULT_TIMEOUT_SECS: f64 = 30.0;
const DEFAULT_WAIT_TIMEOUT_SECS: f64 = 60.0;

/// Which homeserver API manages users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Synapse,
}

/// Everything needed to talk to the homeserver.
#[derive(Debug)]
pub struct Settings {
    pub backend: BackendKind,
    pub server_name: Option<String>,
    pub transport: Transport,
    pub registration_shared_secret: Option<Secret>,
    pub admin_access_token: Option<Secret>,
}

impl Settings {
    /// Takes the connection parameters. Secrets, including those read from files, are added to
    /// `redactor` as soon as they are known.
    pub fn take(params: &mut Params, redactor: &mut Redactor) -> Result<Settings, ParamError> {
        let backend = match params.take_choice("backend", &["synapse", "dendrite", "mas"])? {
            None | Some("synapse") => BackendKind::Synapse,
            Some(other) => {
                return Err(params
                    .invalid("backend", format!("`{other}` is not supported by this version yet; supported: synapse")))
            }
        };
        let homeserver_url = params.take_str("homeserver_url")?.unwrap_or_else(|| DEFAULT_HOMESERVER_URL.to_string());
        if !(homeserver_url.starts_with("http://") || homeserver_url.starts_with("https://")) {
            return Err(params.invalid("homeserver_url", "must start with http:// or https://"));
        }
        let server_name = params.take_str("server_name")?.filter(|s| !s.is_empty());
        if let Some(name) = &server_name {
            if name.contains(|c: char| c.is_whitespace() || c == '/' || c == '@') {
                return Err(params.invalid("server_name", "must be a domain such as example.com"));
            }
        }
        let registration_shared_secret = take_secret(params, redactor, "registration_shared_secret")?;
        let admin_access_token = take_secret(params, redactor, "admin_access_token")?;
        let validate_certs = params.take_bool("validate_certs")?.unwrap_or(true);
        let ca_path = params.take_str("ca_path")?.map(PathBuf::from);
        let timeout = params.take_seconds("timeout")?.unwrap_or(DEFAULT_TIMEOUT_SECS);
        if timeout == 0.0 {
            return Err(params.invalid("timeout", "must be more than 0 seconds"));
        }
        let wait_timeout = params.take_seconds("wait_timeout")?.unwrap_or(DEFAULT_WAIT_TIMEOUT_SECS);
        Ok(Settings {
            backend,
            server_name,
            transport: Transport {
                base_url: homeserver_url,
                timeout: Duration::from_secs_f64(timeout),
                wait_timeout: Duration::from_secs_f64(wait_timeout),
                validate_certs,
                ca_path,
            },
            registration_shared_secret,
            admin_access_token,
        })
    }

    /// Connects to the homeserver these settings name. Makes a request only when the server's
    /// domain has to be asked for.
    pub async fn connect(&self) -> Result<Server, String> {
        let http = Http::new(self.transport.clone())?;
        match self.backend {
            BackendKind::Synapse => Synapse::connect(
                http,
                self.server_name.clone(),
                self.registration_shared_secret.clone(),
                self.admin_access_token.clone(),
            )
            .await
            .map(Server::Synapse)
            .map_err(|e| e.to_string()),
        }
    }
}

/// A secret given either directly (`name`) or as a file (`name_file`) read where the module runs;
/// surrounding white space in the file is dropped, as Synapse does with its secret files.
fn take_secret(params: &mut Params, redactor: &mut Redactor, name: &str) -> Result<Option<Secret>, ParamError> {
    let file_param = format!("{name}_file");
    let direct = params.take_str(name)?.filter(|s| !s.is_empty());
    let path = params.take_str(&file_param)?.filter(|s| !s.is_empty());
    let value = match (direct, path) {
        (Some(_), Some(_)) => {
            return Err(params.invalid(name, format!("set either `{name}` or `{file_param}`, not both")))
        }
        (Some(value), None) => value,
        (None, Some(path)) => {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                params.invalid(&file_param, format!("cannot read {path} as user {}: {e}", current_user()))
            })?;
            let value = text.trim().to_string();
            if value.is_empty() {
                return Err(params.invalid(&file_param, format!("{path} is empty")));
            }
            value
        }
        (None, None) => return Ok(None),
    };
    redactor.add(&value);
    Ok(Some(Secret::new(value)))
}

fn current_user() -> String {
    std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "(unknown)".to_string())
}
