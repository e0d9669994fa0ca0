//! Credentials found on the host, in the homeserver's own configuration: Synapse's
//! `homeserver.yaml` (and `conf.d`), Dendrite's `dendrite.yaml`. Only the keys named here are
//! read; every value read is a secret from then on (the caller masks it), and no message quotes
//! the files: errors name the file and the key, a YAML error its line and column.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_norway::Value;

use crate::settings::read_secret;

/// The most a configuration file may hold: Synapse's sample configuration, every option
/// commented, is about 100 KiB; anything past a MiB is not a configuration (`/dev/zero`).
const CONFIG_MAX: u64 = 1024 * 1024;

/// A value found in a configuration, and where (for the result: without the value).
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub value: String,
    /// `registration_shared_secret in /etc/matrix-synapse/homeserver.yaml`.
    pub from: String,
}

/// What a homeserver's configuration says that this tool can use. Each is read only when asked
/// for ([`Wanted`]): a setting given as a parameter wins, and its key is then not even read.
#[derive(Debug, Default)]
pub struct HostConfig {
    pub shared_secret: Option<Found>,
    pub homeserver_url: Option<Found>,
    pub server_name: Option<Found>,
    pub database: Option<Found>,
}

/// Which settings the parameters left open.
#[derive(Debug, Clone, Copy)]
pub struct Wanted {
    pub shared_secret: bool,
    pub homeserver_url: bool,
    pub server_name: bool,
    pub database: bool,
}

/// A configuration's top-level keys, each with the file that set it last.
type Merged = BTreeMap<String, (Value, PathBuf)>;

/// Synapse's configuration from `paths` as `synapse -c` reads them: a directory stands for its
/// `*.yaml` files in name order, and a file's top-level keys replace those of the files before it.
pub fn synapse(paths: &[String], wanted: Wanted) -> Result<HostConfig, String> {
    let files = config_files(paths)?;
    let mut merged = Merged::new();
    for file in &files {
        // As Synapse does, a file that is empty or not a mapping adds nothing.
        if let Value::Mapping(map) = read_yaml(file)? {
            for (key, value) in map {
                if let Some(key) = key.as_str() {
                    merged.insert(key.to_string(), (value, file.clone()));
                }
            }
        }
    }
    let mut found = HostConfig::default();
    if wanted.shared_secret {
        found.shared_secret = Some(synapse_secret(&merged, &files)?);
    }
    if wanted.homeserver_url {
        found.homeserver_url = merged.get("listeners").and_then(|(listeners, file)| {
            client_listener(listeners)
                .map(|url| Found { value: url, from: format!("the client listener in {}", file.display()) })
        });
    }
    if wanted.server_name {
        found.server_name =
            merged.get("server_name").map(|(value, file)| text(value, "server_name", file)).transpose()?;
    }
    Ok(found)
}

/// Dendrite's configuration file: `client_api.registration_shared_secret`, and the account
/// database of `user_api.account_database` or, without one, `global.database`.
pub fn dendrite(path: &str, wanted: Wanted) -> Result<HostConfig, String> {
    let file = PathBuf::from(path);
    let config = read_yaml(&file)?;
    let at = |keys: &[&str]| keys.iter().try_fold(&config, |value, key| value.get(key)).filter(|v| !is_empty(v));
    let mut found = HostConfig::default();
    if wanted.shared_secret {
        let key = "client_api.registration_shared_secret";
        let value = at(&["client_api", "registration_shared_secret"]).ok_or_else(|| {
            format!("{} sets no {key}: Dendrite then offers no shared-secret registration", file.display())
        })?;
        found.shared_secret = Some(text(value, key, &file)?);
    }
    if wanted.server_name {
        found.server_name = at(&["global", "server_name"]).map(|v| text(v, "global.server_name", &file)).transpose()?;
    }
    if wanted.database {
        let own = at(&["user_api", "account_database", "connection_string"])
            .map(|v| (v, "user_api.account_database.connection_string"));
        let global =
            || at(&["global", "database", "connection_string"]).map(|v| (v, "global.database.connection_string"));
        if let Some((value, key)) = own.or_else(global) {
            let mut database = text(value, key, &file)?;
            database.value = sqlite_beside(&database.value, &file);
            found.database = Some(database);
        }
    }
    Ok(found)
}

/// A SQLite `file:` path that is relative is taken as relative to the configuration's folder
/// (Dendrite itself takes it from its working directory, which is that folder in the usual
/// setups: the packages' and the container's).
fn sqlite_beside(connection: &str, config: &Path) -> String {
    match connection.strip_prefix("file:") {
        Some(path) if !path.starts_with('/') => {
            let dir = config.parent().unwrap_or(Path::new("."));
            format!("file:{}", dir.join(path).display())
        }
        _ => connection.to_string(),
    }
}

/// `registration_shared_secret`, or the contents of the file `registration_shared_secret_path`
/// names (white space trimmed, as Synapse does); both set is what Synapse refuses.
fn synapse_secret(merged: &Merged, files: &[PathBuf]) -> Result<Found, String> {
    let set = |key: &str| merged.get(key).filter(|(value, _)| !is_empty(value));
    match (set("registration_shared_secret"), set("registration_shared_secret_path")) {
        (Some((_, inline)), Some((_, path))) => Err(format!(
            "{} sets registration_shared_secret and {} registration_shared_secret_path: Synapse refuses both, so \
             this configuration is not the one it runs with",
            inline.display(),
            path.display()
        )),
        (Some((value, file)), None) => text(value, "registration_shared_secret", file),
        (None, Some((value, file))) => {
            let named = text(value, "registration_shared_secret_path", file)?.value;
            // A relative path is taken from the folder of the file that names it.
            let secret_file = file.parent().unwrap_or(Path::new(".")).join(&named);
            let secret_file = secret_file.to_string_lossy();
            let value = read_secret(&secret_file)
                .map_err(|problem| format!("registration_shared_secret_path in {}: {problem}", file.display()))?;
            Ok(Found {
                value,
                from: format!("the file {secret_file} (registration_shared_secret_path in {})", file.display()),
            })
        }
        (None, None) => Err(format!(
            "sets neither registration_shared_secret nor registration_shared_secret_path (files read: {}); set one \
             in Synapse's configuration, or give the secret as a parameter",
            files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// The URL of the first plain-HTTP listener that serves the client API: its bind address (a
/// wildcard becomes loopback, IPv4 preferred) and port. Listeners on a Unix socket are skipped.
fn client_listener(listeners: &Value) -> Option<String> {
    listeners.as_sequence()?.iter().find_map(|listener| {
        let http = listener.get("type").and_then(Value::as_str) == Some("http");
        let tls = listener.get("tls").and_then(Value::as_bool).unwrap_or(false);
        let client = listener.get("resources").and_then(Value::as_sequence).is_some_and(|resources| {
            resources.iter().any(|r| {
                r.get("names")
                    .and_then(Value::as_sequence)
                    .is_some_and(|n| n.iter().any(|n| n.as_str() == Some("client")))
            })
        });
        let port = listener.get("port").and_then(Value::as_u64).filter(|p| (1..=65535).contains(p))?;
        if !http || tls || !client {
            return None;
        }
        let mut binds: Vec<&str> = listener
            .get("bind_addresses")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        binds.extend(listener.get("bind_address").and_then(Value::as_str));
        if binds.is_empty() {
            // Synapse's default.
            binds = vec!["::", "0.0.0.0"];
        }
        let reachable: Vec<&str> = binds
            .iter()
            .map(|b| match *b {
                "0.0.0.0" => "127.0.0.1",
                "::" => "::1",
                other => other,
            })
            .collect();
        let host = reachable.iter().find(|b| !b.contains(':')).or(reachable.first())?;
        Some(if host.contains(':') { format!("http://[{host}]:{port}") } else { format!("http://{host}:{port}") })
    })
}

/// A value as text: a string, or a number written as one. Anything else is refused without
/// being shown.
fn text(value: &Value, key: &str, file: &Path) -> Result<Found, String> {
    let value = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(format!("{key} in {} is not a string", file.display())),
    };
    Ok(Found { value, from: format!("{key} in {}", file.display()) })
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

/// The files `paths` stand for: a file as it is, a directory as its `*.yaml` files in name order.
fn config_files(paths: &[String]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        let path = PathBuf::from(path);
        if !path.is_dir() {
            files.push(path);
            continue;
        }
        let entries =
            std::fs::read_dir(&path).map_err(|e| format!("cannot read the folder {}: {e}", path.display()))?;
        let mut yaml: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|file| file.is_file() && file.extension().is_some_and(|ext| ext == "yaml"))
            .collect();
        yaml.sort();
        files.extend(yaml);
    }
    Ok(files)
}

/// A YAML file, bounded by [`CONFIG_MAX`]. Errors name the file and, for a syntax error, the
/// place only: a parser's message can quote the text.
fn read_yaml(file: &Path) -> Result<Value, String> {
    let name = file.display();
    let mut bytes = Vec::new();
    let mut handle = crate::files::open_regular(file, CONFIG_MAX).map_err(|problem| format!("{name} {problem}"))?;
    handle.read_to_end(&mut bytes).map_err(|e| format!("{name} cannot be read: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{name} is not UTF-8 text"))?;
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_norway::from_str(&text).map_err(|e| match e.location() {
        Some(at) => format!("{name} is not valid YAML (line {}, column {})", at.line(), at.column()),
        None => format!("{name} is not valid YAML"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: Wanted = Wanted { shared_secret: true, homeserver_url: true, server_name: true, database: true };

    fn write(dir: &Path, name: &str, text: &str) -> String {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("matrix-user-host-config-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn listeners_give_a_loopback_url() {
        let url = |yaml: &str| client_listener(&serde_norway::from_str(yaml).unwrap());
        let client = "resources: [{names: [client, federation]}]";
        assert_eq!(url(&format!("[{{port: 8008, type: http, {client}}}]")).as_deref(), Some("http://127.0.0.1:8008"));
        assert_eq!(
            url(&format!("[{{port: 8008, type: http, bind_addresses: ['::'], {client}}}]")).as_deref(),
            Some("http://[::1]:8008")
        );
        assert_eq!(
            url(&format!(
                "[{{port: 8448, type: http, tls: true, {client}}}, {{port: 9000, type: metrics}}, \
                 {{port: 8009, type: http, bind_addresses: ['10.0.0.2'], {client}}}]"
            ))
            .as_deref(),
            Some("http://10.0.0.2:8009")
        );
        assert_eq!(url("[{port: 8008, type: http, resources: [{names: [federation]}]}]"), None);
        assert_eq!(url("[{path: /run/synapse.sock, type: http, resources: [{names: [client]}]}]"), None);
    }

    #[test]
    fn later_files_win_and_both_secrets_are_refused() {
        let dir = temp_dir("merge");
        let main = write(&dir, "homeserver.yaml", "server_name: a.example\nregistration_shared_secret: one\n");
        let conf_d = dir.join("conf.d");
        std::fs::create_dir(&conf_d).unwrap();
        write(&conf_d, "20-later.yaml", "registration_shared_secret: three\n");
        write(&conf_d, "10-first.yaml", "registration_shared_secret: two\nserver_name: b.example\n");
        write(&conf_d, "notes.txt", "registration_shared_secret: never\n");
        let found = synapse(&[main.clone(), conf_d.to_string_lossy().into_owned()], ALL).unwrap();
        assert_eq!(found.shared_secret.unwrap().value, "three");
        assert_eq!(found.server_name.unwrap().value, "b.example");

        write(&dir, "secret", "  from-file \n");
        write(&conf_d, "30-path.yaml", "registration_shared_secret_path: ../secret\n");
        let both = synapse(&[main.clone(), conf_d.to_string_lossy().into_owned()], ALL).unwrap_err();
        assert!(both.contains("Synapse refuses both"), "{both}");
        let path_only = write(&dir, "path.yaml", "registration_shared_secret_path: secret\n");
        assert_eq!(synapse(&[path_only], ALL).unwrap().shared_secret.unwrap().value, "from-file");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn errors_never_quote_the_file() {
        let dir = temp_dir("quote");
        let canary = "canary-Value-4711";
        let bad = write(&dir, "bad.yaml", &format!("macaroon_secret_key: {canary}\nlisteners: [{{\n"));
        let typed = write(&dir, "typed.yaml", &format!("registration_shared_secret: [{canary}]\n"));
        let none = write(&dir, "none.yaml", &format!("form_secret: {canary}\n"));
        for (file, said) in [(bad, "line"), (typed, "is not a string"), (none, "sets neither")] {
            let error = synapse(&[file], ALL).unwrap_err();
            assert!(error.contains(said), "{error}");
            assert!(!error.contains(canary), "{error}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn dendrite_reads_its_secret_and_database() {
        let dir = temp_dir("dendrite");
        let config = write(
            &dir,
            "dendrite.yaml",
            "global: {server_name: d.example, database: {connection_string: 'postgres://u:p@db/d'}}\n\
             client_api: {registration_shared_secret: s3cret}\n\
             user_api: {account_database: {connection_string: 'file:userapi_accounts.db'}}\n",
        );
        let found = dendrite(&config, ALL).unwrap();
        assert_eq!(found.shared_secret.unwrap().value, "s3cret");
        assert_eq!(found.server_name.unwrap().value, "d.example");
        assert_eq!(found.database.unwrap().value, format!("file:{}", dir.join("userapi_accounts.db").display()));
        let global = write(&dir, "global.yaml", "global: {database: {connection_string: 'postgres://u:p@db/d'}}\n");
        let found = dendrite(&global, Wanted { shared_secret: false, ..ALL }).unwrap();
        assert_eq!(found.database.unwrap().value, "postgres://u:p@db/d");
        assert!(dendrite(&global, ALL).unwrap_err().contains("client_api.registration_shared_secret"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
