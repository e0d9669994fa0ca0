//! The admin token this tool provisions for itself (`provision_admin: true`): when no admin token
//! is given, it registers an admin account of its own once, with the shared secret and a random
//! password, and keeps the account's user ID, password and access token in a file only its owner
//! may read (`provision_admin_file`). Later runs use the token; when the server no longer takes it
//! (logged out, revoked), a login with the kept password gets a new one and the file is rewritten.
//! Check mode reads the file but registers, logs in and writes nothing.

use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use ansible_module::{ParamError, Redactor};
use homeserver::{provisioned, Error, Http, Secret, Setting, UserId, UserIdRules};
use serde_json::{json, Value};

use crate::module::Failure;
use crate::params::get as param;
use crate::settings::{effective_uid, BackendKind, ParamReader, Settings};

/// The most the file may hold: three short strings.
const FILE_MAX: u64 = 64 * 1024;

/// What the task asks: the file, the account's localpart, and what the file held when read.
#[derive(Debug)]
pub struct Provision {
    pub file: PathBuf,
    pub localpart: String,
    pub kept: Option<Kept>,
}

/// The file's contents.
#[derive(Debug)]
pub struct Kept {
    pub user_id: String,
    pub password: Secret,
    /// Missing when a run stopped between registering the account and writing its token.
    pub token: Option<Secret>,
}

/// What a run did about the admin token, for the result.
#[derive(Debug, Default)]
pub struct Report {
    /// Where each credential that was not a parameter came from (never the value).
    pub sources: Vec<(&'static str, String)>,
    /// The account was registered, or its file written (or, in check mode, would be).
    pub changed: bool,
    /// `registered`, `reused`, `renewed`, or in check mode `to register`, `to renew`.
    pub admin_token: Option<(&'static str, String)>,
}

/// Takes `provision_admin`, `provision_admin_file` and `provision_admin_user`, and reads the file
/// when it exists (refusing one others may read, a link, or another user's), before any request.
pub fn take(
    params: &mut impl ParamReader,
    redactor: &mut Redactor,
    backend: BackendKind,
) -> Result<Option<Provision>, ParamError> {
    let wanted = params.take_bool("provision_admin")?.unwrap_or(param("provision_admin").default_bool());
    let file = params.take_str("provision_admin_file")?.filter(|s| !s.is_empty());
    let user = params.take_str("provision_admin_user")?.filter(|s| !s.is_empty());
    if !wanted {
        if file.is_some() || user.is_some() {
            return Err(params.invalid(
                "provision_admin_file",
                "provision_admin_file and provision_admin_user apply only with provision_admin: true",
            ));
        }
        return Ok(None);
    }
    if backend == BackendKind::Mas {
        return Err(params.invalid(
            "provision_admin",
            "applies only with backend synapse or dendrite: with MAS, the tool acts as the MAS client \
             (mas_client_id, mas_client_secret)",
        ));
    }
    let file = file.ok_or_else(|| params.missing("provision_admin_file", " with provision_admin: true"))?;
    let localpart = user.unwrap_or_else(|| param("provision_admin_user").default_str().to_string());
    // Checked now with either server's rules, so that a bad name is refused before any request.
    if let Err(e) = UserId::parse(&localpart, "localhost", &UserIdRules::SYNAPSE) {
        return Err(params.invalid("provision_admin_user", e.to_string()));
    }
    let file = PathBuf::from(file);
    let kept = read(&file).map_err(|problem| params.invalid("provision_admin_file", problem))?;
    if let Some(kept) = &kept {
        redactor.add(kept.password.expose());
        kept.token.iter().for_each(|token| redactor.add(token.expose()));
    }
    Ok(Some(Provision { file, localpart, kept }))
}

/// Gives `settings` the provisioned admin token when no admin token was given: the one kept in
/// the file, a new one after a login with the kept password, or one of a newly registered
/// account. In check mode, none is obtained where the real run would write: the run is planned
/// without an admin token, and a warning says what the real run will do.
pub async fn obtain(
    settings: &mut Settings,
    check_mode: bool,
    report: &mut Report,
    warnings: &mut Vec<String>,
) -> Result<(), Failure> {
    let Some(provision) = settings.provision.take() else { return Ok(()) };
    if settings.admin_access_token.is_some() {
        return Ok(());
    }
    let http = Http::new(settings.transport.clone()).map_err(Failure::Start)?;
    let file = provision.file.display().to_string();
    let source = format!("provision_admin_file {file}");
    let (action, token) = match &provision.kept {
        Some(Kept { user_id, password, token: Some(token) }) => {
            if provisioned::whoami(&http, token).await.map_err(Failure::homeserver)?.is_some() {
                ("reused", Some(token.clone()))
            } else if check_mode {
                warnings.push(format!(
                    "check mode: the admin token kept in {file} no longer works; a real run logs in as {user_id} \
                     with the password kept there and writes the new token to the file. Planned without an admin token."
                ));
                ("to renew", None)
            } else {
                let user = kept_user(user_id)?;
                let token = log_in(&http, &user, password, &file).await?;
                write(&provision.file, user_id, password, Some(&token)).map_err(Failure::Start)?;
                ("renewed", Some(token))
            }
        }
        kept => {
            let Some(server_name) = settings.server_name.clone() else {
                return Err(Failure::homeserver(Error::NeedsSetting {
                    action: "registering the admin account for {provision_admin_file}".to_string(),
                    setting: Setting::ServerName,
                }));
            };
            let user = match kept {
                Some(kept) => kept_user(&kept.user_id)?,
                None => UserId::parse(&provision.localpart, &server_name, &UserIdRules::SYNAPSE)
                    .map_err(|e| Failure::Start(format!("provision_admin_user: {e}")))?,
            };
            if check_mode {
                warnings.push(format!(
                    "check mode: a real run registers the admin account {user} and keeps its token in {file}. \
                     Planned without an admin token."
                ));
                ("to register", None)
            } else {
                let token = register(&http, &user, kept, &provision.file, settings, &mut report.changed).await?;
                ("registered", Some(token))
            }
        }
    };
    report.changed = action != "reused";
    report.admin_token = Some((action, file));
    if let Some(token) = token {
        report.sources.push(("admin_access_token", source));
        settings.admin_access_token = Some(token);
    }
    Ok(())
}

/// Registers the account (unless a file from a run that stopped half-way says it was) and logs
/// in. The password is in the file before the account exists, so that no run can leave an
/// account whose password nobody knows. `changed` is set as soon as the file is written, so that
/// a run failing after that still reports its change.
async fn register(
    http: &Http,
    user: &UserId,
    kept: &Option<Kept>,
    file: &Path,
    settings: &Settings,
    changed: &mut bool,
) -> Result<Secret, Failure> {
    let user_id = user.to_string();
    let password = match kept {
        Some(kept) => kept.password.clone(),
        None => {
            let password = Secret::obtained(random_password().map_err(Failure::Start)?);
            write(file, &user_id, &password, None).map_err(Failure::Start)?;
            *changed = true;
            password
        }
    };
    match provisioned::register(http, user, &password, settings.registration_shared_secret.as_ref()).await {
        Ok(()) => {}
        // A file without a token: a run that stopped after registering it.
        Err(Error::AlreadyExists { .. }) if kept.is_some() => {}
        Err(Error::AlreadyExists { .. }) => {
            // The file just written holds a password the account does not have.
            if std::fs::remove_file(file).is_ok() {
                *changed = false;
            }
            return Err(Failure::homeserver(Error::Refused {
                action: format!("registering the admin account {user_id} for {{provision_admin_file}}"),
                status: 400,
                errcode: Some("M_USER_IN_USE".to_string()),
                message: "the user ID is taken".to_string(),
                hint: Some(format!(
                    "{user_id} exists but {} does not: restore the file kept from the run that registered it, or \
                     set provision_admin_user to another name (and deactivate the old account), or give \
                     {{admin_access_token}}",
                    file.display()
                )),
                about: &[Setting::ProvisionAdminFile, Setting::AdminAccessToken],
            }));
        }
        Err(e) => return Err(Failure::homeserver(e)),
    }
    let token = log_in(http, user, &password, &file.display().to_string()).await?;
    write(file, &user_id, &password, Some(&token)).map_err(Failure::Start)?;
    Ok(token)
}

/// A new token of the kept account; refused, the message says what to do.
async fn log_in(http: &Http, user: &UserId, password: &Secret, file: &str) -> Result<Secret, Failure> {
    let hint = format!(
        "the admin token kept in {file} no longer works and the password kept with it does not log in: the \
         account's password was changed, or it was deactivated. Delete {file} and set provision_admin_user to a new \
         name, or give {{admin_access_token}}"
    );
    provisioned::log_in(http, user, password).await.map_err(Failure::homeserver)?.ok_or_else(|| {
        Failure::homeserver(Error::Refused {
            action: format!("logging in as {user} for an admin token"),
            status: 403,
            errcode: Some("M_FORBIDDEN".to_string()),
            message: "the password does not log in".to_string(),
            hint: Some(hint),
            about: &[Setting::ProvisionAdminFile, Setting::AdminAccessToken],
        })
    })
}

/// The user ID the file keeps, on its own domain; with the looser of the two servers' rules, as
/// the server already accepted it.
fn kept_user(user_id: &str) -> Result<UserId, Failure> {
    let domain = user_id.split_once(':').map_or("", |(_, domain)| domain);
    UserId::parse(user_id, domain, &UserIdRules::DENDRITE)
        .map_err(|e| Failure::Start(format!("the user ID kept in provision_admin_file: {e}")))
}

/// 32 random bytes as hex: within both servers' password limits (Dendrite's 72 bytes).
fn random_password() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .map_err(|e| format!("cannot read /dev/urandom for the admin account's password: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The file's contents, or `None` when there is none. Refused: a symbolic link, anything but a
/// regular file, a file of another user, a file others may read or write; a file that is not
/// what this tool writes.
fn read(file: &Path) -> Result<Option<Kept>, String> {
    let name = file.display();
    let opened = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(file);
    let handle = match opened {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(format!("{name} is a symbolic link; give the path of the file itself"))
        }
        Err(e) => return Err(format!("cannot read {name}: {e}")),
        Ok(handle) => handle,
    };
    let meta = handle.metadata().map_err(|e| format!("cannot read {name}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{name} is not a regular file"));
    }
    if let Some(uid) = effective_uid().filter(|uid| *uid != meta.uid()) {
        return Err(format!("{name} belongs to uid {}, not to the user this runs as (uid {uid})", meta.uid()));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(format!(
            "{name} can be read or written by other users (mode {:04o}): it holds an admin's password; \
             make it mode 0600 (chmod 600)",
            meta.mode() & 0o7777
        ));
    }
    let mut text = String::new();
    (&handle).take(FILE_MAX + 1).read_to_string(&mut text).map_err(|e| format!("cannot read {name}: {e}"))?;
    let value: Value = serde_json::from_str(&text)
        .ok()
        .filter(|_| text.len() as u64 <= FILE_MAX)
        .ok_or_else(|| format!("{name} is not a file this tool wrote (a JSON object with user_id and password)"))?;
    let field = |key: &str| value.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    match (field("user_id"), field("password")) {
        (Some(user_id), Some(password)) => {
            Ok(Some(Kept { user_id, password: Secret::new(password), token: field("access_token").map(Secret::new) }))
        }
        _ => Err(format!("{name} is not a file this tool wrote (a JSON object with user_id and password)")),
    }
}

/// Writes the file whole or not at all: a new file of mode 0600 (created so, with no moment
/// when it has a wider mode), written and synced, then renamed over the old one.
fn write(file: &Path, user_id: &str, password: &Secret, token: Option<&Secret>) -> Result<(), String> {
    let name = file.display();
    let folder = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let base = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = folder.join(format!(".{base}.{}.tmp", std::process::id()));
    let mut text = json!({"user_id": user_id, "password": password.expose()});
    if let Some(token) = token {
        text["access_token"] = token.expose().into();
    }
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&temporary)
        .and_then(|mut f| {
            f.write_all(format!("{text}\n").as_bytes())?;
            f.sync_all()
        })
        .and_then(|()| std::fs::rename(&temporary, file));
    written.map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        format!("cannot write {name} (in the folder {}): {e}", folder.display())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_file_is_written_private_and_read_back() {
        let dir = std::env::temp_dir().join(format!("matrix-user-provision-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("admin.json");
        assert!(read(&file).unwrap().is_none());
        write(&file, "@a:example.com", &Secret::new("pw-1"), Some(&Secret::new("tok-1"))).unwrap();
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        let kept = read(&file).unwrap().unwrap();
        assert_eq!((kept.user_id.as_str(), kept.password.expose()), ("@a:example.com", "pw-1"));
        assert_eq!(kept.token.unwrap().expose(), "tok-1");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temporary file is left");

        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = read(&file).unwrap_err();
        assert!(refused.contains("mode 0644") && !refused.contains("pw-1"), "{refused}");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let link = dir.join("link.json");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(read(&link).unwrap_err().contains("symbolic link"));
        std::fs::write(dir.join("other.json"), "not json").unwrap();
        std::fs::set_permissions(dir.join("other.json"), std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(read(&dir.join("other.json")).unwrap_err().contains("not a file this tool wrote"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn passwords_are_random_and_fit_dendrite() {
        let (a, b) = (random_password().unwrap(), random_password().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
    }
}
