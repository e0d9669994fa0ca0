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
    WaitTimeout,
    MasLoginWait,
    UpdatePassword,
    /// Not a setting of its own but a choice of backend: what only MAS does.
    MasBackend,
}

/// How messages name a setting when no front end renames it: the key the settings are written
/// with (`admin_access_token`), and `backend: mas` for the choice of MAS.
impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
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
            Setting::WaitTimeout => "wait_timeout",
            Setting::MasLoginWait => "mas_login_wait",
            Setting::UpdatePassword => "update_password",
            Setting::MasBackend => "backend: mas",
        })
    }
}
