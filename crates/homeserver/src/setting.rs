//! What a backend lacks, or an error asks to set or check, as a type: the caller's front ends
//! name it their own way (the module's `admin_access_token`, the tool's
//! `--admin-access-token-file`).

/// A setting this crate's caller gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting {
    HomeserverUrl,
    ServerName,
    RegistrationSharedSecret,
    AdminAccessToken,
    DendriteDatabase,
    MasUrl,
    MasClientId,
    MasClientSecret,
    SkipPasswordCheck,
    ValidateCerts,
    CaPath,
    Timeout,
    WaitTimeout,
    MasLoginWait,
    UpdatePassword,
    ProvisionAdminFile,
    /// A user's display name.
    Displayname,
    /// A new user's type (`bot`, `support`).
    UserType,
    /// Not a setting of its own but a choice of backend: what only MAS does.
    MasBackend,
}

impl Setting {
    /// Every setting, for looking one up by its name in a message's template.
    pub const ALL: [Setting; 19] = [
        Setting::HomeserverUrl,
        Setting::ServerName,
        Setting::RegistrationSharedSecret,
        Setting::AdminAccessToken,
        Setting::DendriteDatabase,
        Setting::MasUrl,
        Setting::MasClientId,
        Setting::MasClientSecret,
        Setting::SkipPasswordCheck,
        Setting::ValidateCerts,
        Setting::CaPath,
        Setting::Timeout,
        Setting::WaitTimeout,
        Setting::MasLoginWait,
        Setting::UpdatePassword,
        Setting::ProvisionAdminFile,
        Setting::Displayname,
        Setting::UserType,
        Setting::MasBackend,
    ];
}

/// `name(setting)` given `value`, as the front end says it: `update_password: always` with the
/// settings' own names, `--update-password always` with flags.
pub fn assignment(name: &impl Fn(Setting) -> String, setting: Setting, value: &str) -> String {
    let named = name(setting);
    if named.starts_with("--") {
        format!("{named} {value}")
    } else {
        format!("{named}: {value}")
    }
}

/// A message written with its settings as placeholders, `{mas_url}` or `{update_password: always}`
/// (a setting given a value), each named by `name`. Anything else in braces is left as written.
pub fn fill(template: &str, name: &impl Fn(Setting) -> String) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            rest = &rest[open..];
            break;
        };
        let inner = &after[..close];
        let (key, value) = match inner.split_once(": ") {
            Some((key, value)) => (key, Some(value)),
            None => (inner, None),
        };
        match Setting::ALL.iter().find(|setting| setting.to_string() == key) {
            Some(setting) => match value {
                Some(value) => out.push_str(&assignment(name, *setting, value)),
                None => out.push_str(&name(*setting)),
            },
            None => {
                out.push('{');
                out.push_str(inner);
                out.push('}');
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The settings a template names, in order.
pub fn named_in(template: &str) -> Vec<Setting> {
    let named = std::cell::RefCell::new(Vec::new());
    fill(template, &|setting| {
        named.borrow_mut().push(setting);
        String::new()
    });
    named.into_inner()
}

/// How messages name a setting when no front end renames it: the key the settings are written
/// with (`admin_access_token`), and `backend: mas` for the choice of MAS.
impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

impl Setting {
    /// The key the settings are written with (`admin_access_token`); `backend: mas` for the
    /// choice of MAS.
    pub fn key(self) -> &'static str {
        match self {
            Setting::HomeserverUrl => "homeserver_url",
            Setting::ServerName => "server_name",
            Setting::RegistrationSharedSecret => "registration_shared_secret",
            Setting::AdminAccessToken => "admin_access_token",
            Setting::DendriteDatabase => "dendrite_database",
            Setting::MasUrl => "mas_url",
            Setting::MasClientId => "mas_client_id",
            Setting::MasClientSecret => "mas_client_secret",
            Setting::SkipPasswordCheck => "skip_password_check",
            Setting::ValidateCerts => "validate_certs",
            Setting::CaPath => "ca_path",
            Setting::Timeout => "timeout",
            Setting::WaitTimeout => "wait_timeout",
            Setting::MasLoginWait => "mas_login_wait",
            Setting::UpdatePassword => "update_password",
            Setting::ProvisionAdminFile => "provision_admin_file",
            Setting::Displayname => "displayname",
            Setting::UserType => "user_type",
            Setting::MasBackend => "backend: mas",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_name_settings_through_the_front_end() {
        let own = |setting: Setting| setting.to_string();
        let flags = |setting: Setting| format!("--{}", setting.to_string().replace('_', "-"));
        let text = "set {ca_path}, or {validate_certs: false}; {not a setting} {";
        assert_eq!(fill(text, &own), "set ca_path, or validate_certs: false; {not a setting} {");
        assert_eq!(fill(text, &flags), "set --ca-path, or --validate-certs false; {not a setting} {");
        assert_eq!(named_in(text), vec![Setting::CaPath, Setting::ValidateCerts]);
    }
}
