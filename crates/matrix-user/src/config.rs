//! Where the command-line tool's parameters come from: flags, `MATRIX_USER_*` environment
//! variables and a config file, merged per setting in that order of precedence into [`Layers`],
//! which remembers where each parameter came from so that an error can name the flag, variable or
//! file to fix. The typed request is read from the layers as the module reads its args file
//! (`ParamReader`), each value with the same checks.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use ansible_module::{ParamError, Params, Redactor};
use serde_json::{Map, Value};

use crate::params::{self, Scope, PARAMS};
use crate::settings::ParamReader;

/// User parameters: they belong on the command line or in a users file, not in the config file.
pub fn is_user_param(name: &str) -> bool {
    PARAMS.iter().any(|p| p.name == name && p.scope != Scope::Connection)
}

/// The password of `register`, from the environment.
pub const PASSWORD_ENV: &str = "MATRIX_USER_PASSWORD";
pub const PASSWORD_FILE_ENV: &str = "MATRIX_USER_PASSWORD_FILE";
/// The config file, when `--config` is not given.
pub const CONFIG_ENV: &str = "MATRIX_USER_CONFIG";

/// Where one parameter came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A flag, such as `--admin`.
    Flag(String),
    /// A positional argument, such as `USERNAME`.
    Argument(&'static str),
    Env(String),
    ConfigFile(PathBuf),
    UsersFile(String),
}

impl Source {
    /// The flag of the parameter `name`, from the table.
    pub fn flag_of(name: &str) -> Source {
        Source::Flag(params::flag_of(name).unwrap_or_else(|| format!("`{name}`")))
    }

    /// Names `param` (which may be an item's field, `users[3].admin`) as the user gave it.
    pub fn describe(&self, param: &str) -> String {
        match self {
            Source::Flag(flag) => flag.to_string(),
            Source::Argument(name) => name.to_string(),
            Source::Env(var) => format!("environment variable {var}"),
            Source::ConfigFile(path) => format!("`{param}` in the config file {}", path.display()),
            Source::UsersFile(file) if param == "users_file" => format!("the users file {file}"),
            Source::UsersFile(file) => format!("`{param}` in the users file {file}"),
        }
    }
}

/// The parameters given, and where each came from.
#[derive(Debug, Default)]
pub struct Layers {
    pub params: Map<String, Value>,
    sources: HashMap<String, Source>,
    /// What the typed reading took: whatever else was given is refused.
    taken: Vec<String>,
}

impl Layers {
    /// The value of `name` as one parameter, read by the module's own coercions (Ansible
    /// booleans, numbers in strings, ...), so that a value means the same in both front ends.
    fn one(&mut self, name: &str) -> Params {
        self.taken.push(name.to_string());
        Params::new(self.params.get(name).map(|value| (name.to_string(), value.clone())).into_iter().collect())
    }
}

impl ParamReader for Layers {
    fn take_str(&mut self, name: &str) -> Result<Option<String>, ParamError> {
        self.one(name).take_str(name)
    }
    fn take_bool(&mut self, name: &str) -> Result<Option<bool>, ParamError> {
        self.one(name).take_bool(name)
    }
    fn take_choice(&mut self, name: &str, choices: &[&'static str]) -> Result<Option<&'static str>, ParamError> {
        self.one(name).take_choice(name, choices)
    }
    fn take_seconds(&mut self, name: &str) -> Result<Option<f64>, ParamError> {
        self.one(name).take_seconds(name)
    }
    fn take_count(&mut self, name: &str) -> Result<Option<u64>, ParamError> {
        self.one(name).take_count(name)
    }
    fn take_object_list(&mut self, name: &str) -> Result<Option<Vec<Params>>, ParamError> {
        self.one(name).take_object_list(name)
    }
    fn take_str_list(&mut self, name: &str) -> Result<Option<Vec<String>>, ParamError> {
        self.one(name).take_str_list(name)
    }
    fn has(&self, name: &str) -> bool {
        self.params.contains_key(name)
    }
    fn invalid(&self, name: &str, problem: impl Into<String>) -> ParamError {
        ParamError::invalid(name, problem)
    }
    fn missing(&self, name: &str, why: impl Into<String>) -> ParamError {
        ParamError::missing(name, why)
    }
    fn finish(&mut self) -> Result<(), ParamError> {
        let mut names: Vec<String> = self.params.keys().filter(|k| !self.taken.contains(k)).cloned().collect();
        if names.is_empty() {
            return Ok(());
        }
        names.sort();
        let mut supported = self.taken.clone();
        supported.sort();
        supported.dedup();
        Err(ParamError::Unsupported { names, supported })
    }
}

impl Layers {
    pub fn set(&mut self, param: &str, value: impl Into<Value>, source: Source) {
        self.params.insert(param.to_string(), value.into());
        self.sources.insert(param.to_string(), source);
    }

    /// The flags that were given, each from its flag.
    pub fn set_flags<T: Clone + Into<Value>>(&mut self, flags: &[(&str, &Option<T>)]) {
        for (param, value) in flags {
            if let Some(value) = value {
                self.set(param, value.clone(), Source::flag_of(param));
            }
        }
    }

    /// How to name `param` to the user: the flag, variable or file it came from; for a field of
    /// a list item, the list's file; for a parameter nobody gave, its flag when it has one.
    pub fn describe(&self, param: &str) -> String {
        if let Some(source) = self.sources.get(param) {
            return source.describe(param);
        }
        let list = param.split('[').next().unwrap_or(param);
        // An item of a users file the module read (`users_file`) is named in that file.
        let file = (list == "users").then(|| self.sources.get("users_file")).flatten();
        if let Some(source) = self.sources.get(list).or(file) {
            return source.describe(param);
        }
        params::flag_of(param).unwrap_or_else(|| format!("`{param}`"))
    }

    /// Adds the connection settings: for each, from the flags if any gives it, else from the
    /// environment, else from the config file. Config keys that are not settings known here
    /// pass through, for the module to accept or refuse by name.
    pub fn add_connection(
        &mut self,
        flags: Vec<(&'static str, String, Source)>,
        config: Option<&ConfigFile>,
        redactor: &mut Redactor,
    ) -> Result<(), String> {
        for setting in params::settings() {
            let from_flags: Vec<_> =
                flags.iter().filter(|(name, _, _)| setting.iter().any(|p| p.name == *name)).collect();
            if !from_flags.is_empty() {
                for (param, value, source) in from_flags {
                    self.set(param, value.clone(), source.clone());
                }
                continue;
            }
            let mut from_env = Vec::new();
            for param in &setting {
                let Some(var) = param.env else { continue };
                if let Some(value) = env_var(var)? {
                    if param.secret {
                        redactor.add(&value);
                    }
                    from_env.push((param.name, value, var.to_string()));
                }
            }
            if !from_env.is_empty() {
                for (param, value, var) in from_env {
                    self.set(param, value, Source::Env(var));
                }
                continue;
            }
            if let Some(config) = config {
                for param in &setting {
                    let Some(key) = param.config_key else { continue };
                    if let Some(value) = config.values.get(key) {
                        self.set(param.name, value.clone(), Source::ConfigFile(config.path.clone()));
                    }
                }
            }
        }
        if let Some(config) = config {
            for (key, value) in &config.values {
                if !PARAMS.iter().any(|p| p.config_key == Some(key.as_str())) {
                    self.set(key, value.clone(), Source::ConfigFile(config.path.clone()));
                }
            }
        }
        Ok(())
    }
}

/// An environment variable; unset and empty are the same.
pub fn env_var(name: &str) -> Result<Option<String>, String> {
    match std::env::var_os(name) {
        None => Ok(None),
        Some(value) if value.is_empty() => Ok(None),
        Some(value) => {
            value.into_string().map(Some).map_err(|_| format!("environment variable {name} is not valid UTF-8"))
        }
    }
}

/// Masks the values of the secret environment variables before anything is printed.
pub fn redact_env_secrets(redactor: &mut Redactor) {
    for var in PARAMS.iter().filter(|p| p.secret).filter_map(|p| p.env) {
        if let Ok(Some(value)) = env_var(var) {
            redactor.add(&value);
        }
    }
}

/// A config file's settings.
#[derive(Debug)]
pub struct ConfigFile {
    pub path: PathBuf,
    pub values: Map<String, Value>,
}

/// `$XDG_CONFIG_HOME/matrix-user/config.yaml`, else `~/.config/matrix-user/config.yaml`.
pub fn default_config_path() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        _ => PathBuf::from(std::env::var_os("HOME").filter(|h| !h.is_empty())?).join(".config"),
    };
    Some(base.join("matrix-user").join("config.yaml"))
}

/// Reads the config file: `--config`, else `MATRIX_USER_CONFIG` (both must exist), else the
/// default location when a file is there.
pub fn load_config(flag: Option<&Path>, redactor: &mut Redactor) -> Result<Option<ConfigFile>, String> {
    let path = match (flag, env_var(CONFIG_ENV)?) {
        (Some(path), _) => path.to_path_buf(),
        (None, Some(path)) => PathBuf::from(path),
        (None, None) => match default_config_path() {
            Some(path) if path.exists() => path,
            _ => return Ok(None),
        },
    };
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read the config file {}: {e}", path.display()))?;
    let value = parse_yaml(&text, false).map_err(|e| format!("the config file {} {e}", path.display()))?;
    let map = match value {
        Value::Null => Map::new(),
        Value::Object(map) => map,
        _ => {
            return Err(format!(
                "the config file {} must be a mapping of settings (such as `homeserver_url: http://127.0.0.1:8008`)",
                path.display()
            ))
        }
    };
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut values = Map::new();
    for (key, value) in map {
        if is_user_param(&key) {
            return Err(format!(
                "the config file {} sets `{key}`, which is not a connection setting: give users on the command line \
                 (matrix-user register) or in a users file (matrix-user ensure FILE)",
                path.display()
            ));
        }
        if value.is_null() {
            continue;
        }
        if params::is_secret(&key) {
            if let Value::String(secret) = &value {
                redactor.add(secret);
            }
        }
        // A relative path in a config file is relative to the file, not to where the tool runs.
        let value = match value {
            Value::String(file)
                if (key.ends_with("_file") || key.ends_with("_path")) && Path::new(&file).is_relative() =>
            {
                Value::String(dir.join(file).to_string_lossy().into_owned())
            }
            other => other,
        };
        values.insert(key, value);
    }
    Ok(Some(ConfigFile { path, values }))
}

/// YAML (which also reads JSON), or strict JSON when `json`. Errors give the place, never the
/// text, and leave the file's name to the caller.
pub(crate) fn parse_yaml(text: &str, json: bool) -> Result<Value, String> {
    if json {
        return serde_json::from_str(text).map_err(|e| format!("is not valid JSON: {e}"));
    }
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_norway::from_str(text).map_err(|e| format!("is not valid YAML: {e}"))
}

/// A password from a file or, for `-`, standard input: exactly as written, less one final line
/// break (the one `echo` and editors add).
pub fn read_password(path: &Path) -> Result<String, String> {
    let text = if path == Path::new("-") {
        read_stdin().map_err(|e| format!("cannot read the password from standard input: {e}"))?
    } else {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read the password file {}: {e}", path.display()))?;
        String::from_utf8(bytes).map_err(|_| format!("the password file {} is not UTF-8 text", path.display()))?
    };
    Ok(strip_line_break(text))
}

/// A secret (shared secret, token) from standard input: surrounding white space dropped, as
/// for the secret files the module reads.
pub fn read_secret_stdin(what: &str) -> Result<String, String> {
    let text = read_stdin().map_err(|e| format!("cannot read the {what} from standard input: {e}"))?;
    Ok(text.trim().to_string())
}

pub(crate) fn read_stdin() -> std::io::Result<String> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    Ok(text)
}

fn strip_line_break(mut text: String) -> String {
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_line_break_is_dropped_from_a_password() {
        assert_eq!(strip_line_break("pw\n".into()), "pw");
        assert_eq!(strip_line_break("pw\r\n".into()), "pw");
        assert_eq!(strip_line_break(" pw \n\n".into()), " pw \n");
        assert_eq!(strip_line_break("pw".into()), "pw");
    }

    #[test]
    fn yaml_and_json_read_alike() {
        let yaml = parse_yaml("- username: john\n  admin: yes\n  password: '0123'\n", false).unwrap();
        assert_eq!(yaml, json!([{"username": "john", "admin": "yes", "password": "0123"}]));
        let json_as_yaml = parse_yaml(r#"[{"username": "john", "admin": true}]"#, false).unwrap();
        assert_eq!(json_as_yaml, json!([{"username": "john", "admin": true}]));
        assert!(parse_yaml("[{", true).unwrap_err().contains("not valid JSON"));
    }

    #[test]
    fn sources_name_what_to_fix() {
        let mut layers = Layers::default();
        layers.set("admin", "maybe", Source::flag_of("admin"));
        layers.set("timeout", "x", Source::Env("MATRIX_USER_TIMEOUT".into()));
        layers.set("server_name", "a b", Source::ConfigFile(PathBuf::from("/etc/c.yaml")));
        layers.set("users", json!([]), Source::UsersFile("u.yaml".into()));
        assert_eq!(layers.describe("admin"), "--admin");
        assert_eq!(layers.describe("timeout"), "environment variable MATRIX_USER_TIMEOUT");
        assert_eq!(layers.describe("server_name"), "`server_name` in the config file /etc/c.yaml");
        assert_eq!(layers.describe("users[3].admin"), "`users[3].admin` in the users file u.yaml");
        assert_eq!(layers.describe("wait_timeout"), "--wait-timeout");
    }
}
