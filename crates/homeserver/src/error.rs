//! What can go wrong talking to a homeserver, worded for the person who has to fix it.

use crate::setting::Setting;

/// A failure of one homeserver operation. Messages say what failed and what to set or fix; they
/// never contain a secret (requests are described, never echoed).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("cannot reach the homeserver at {url} (waited {waited_secs:.0} s; last error: {cause}); check that it is running and that homeserver_url is right, or raise wait_timeout if it is still starting")]
    Unreachable { url: String, waited_secs: f64, cause: String },

    #[error("{action}: the homeserver did not answer within {secs} s (timeout)")]
    TimedOut { action: String, secs: f64 },

    #[error("{action}: the homeserver rate-limited the request and asked to wait {wait_ms} ms, longer than wait_timeout allows; try again later")]
    RateLimited { action: String, wait_ms: u64 },

    #[error("{action}: the homeserver's answer was lost ({cause}); run again: a new run sees what was done and finishes the rest")]
    Interrupted { action: String, cause: String },

    #[error("cannot connect to {url} over HTTPS: {cause}; {hint}")]
    Tls { url: String, cause: String, hint: &'static str },

    #[error("{action}: HTTP {status}{}: {message}{}", errcode.as_deref().map(|c| format!(" {c}")).unwrap_or_default(), hint.as_deref().map(|h| format!(" ({h})")).unwrap_or_default())]
    Refused {
        action: String,
        status: u16,
        errcode: Option<String>,
        message: String,
        hint: Option<String>,
        /// The settings the hint asks to check or set.
        about: &'static [Setting],
    },

    /// An answer this tool cannot use safely: too large, a listing that never ends, a discovery
    /// document pointing somewhere odd. Its content is described, never quoted.
    #[error("{action}: {problem}")]
    BadAnswer {
        action: String,
        problem: String,
        /// The settings the problem asks to check.
        about: &'static [Setting],
    },

    #[error("{action}: {message} (check dendrite_database)")]
    Database { action: String, message: String },

    #[error(
        "{user_id} was created, but finishing it failed: {cause}; fix that and run again with update_password: always"
    )]
    HalfDone { user_id: String, cause: String },

    #[error("cannot reach MAS at {url} (waited {waited_secs:.0} s; last error: {cause}); check that it is running and that mas_url is right, or raise wait_timeout if it is still starting")]
    MasUnreachable { url: String, waited_secs: f64, cause: String },

    #[error("server_name is {given}, but the MAS at mas_url serves {served}: its users are @name:{served}; set server_name to {served}, or leave it out to take MAS's")]
    WrongServerName { given: String, served: String },

    #[error("{action}: MAS limits password-check logins ({limit}); {pending} to go at one every {interval_secs:.0} s would take about {needed_secs:.0} s more, past mas_login_wait ({wait_secs:.0} s, {waited_secs:.0} s waited so far); raise mas_login_wait, check fewer passwords per run (update_password: on_create), or raise MAS's rate_limiting.login")]
    LoginRateLimited {
        action: String,
        limit: String,
        pending: usize,
        interval_secs: f64,
        needed_secs: f64,
        wait_secs: f64,
        waited_secs: f64,
    },

    #[error("{user_id} already exists")]
    AlreadyExists { user_id: String },

    #[error("{action} needs `{setting}`")]
    NeedsSetting { action: String, setting: Setting },
}

impl Error {
    /// The settings this error asks to set or check, for a front end to say where each is set.
    /// Servers' own words are not searched for them.
    pub fn settings(&self) -> Vec<Setting> {
        use Setting::*;
        match self {
            Error::Unreachable { .. } => vec![HomeserverUrl, WaitTimeout],
            Error::RateLimited { .. } => vec![WaitTimeout],
            Error::Tls { .. } => vec![CaPath, ValidateCerts],
            Error::Database { .. } => vec![DendriteDatabase],
            Error::HalfDone { .. } => vec![UpdatePassword],
            Error::MasUnreachable { .. } => vec![MasUrl, WaitTimeout],
            Error::WrongServerName { .. } => vec![ServerName, MasUrl],
            Error::LoginRateLimited { .. } => vec![MasLoginWait, UpdatePassword],
            Error::NeedsSetting { setting, .. } => vec![*setting],
            Error::Refused { about, .. } | Error::BadAnswer { about, .. } => about.to_vec(),
            Error::TimedOut { .. } | Error::Interrupted { .. } | Error::AlreadyExists { .. } => Vec::new(),
        }
    }

    /// This refusal or answer, with the settings its hint names.
    pub fn about(mut self, settings: &'static [Setting]) -> Error {
        if let Error::Refused { about, .. } | Error::BadAnswer { about, .. } = &mut self {
            *about = settings;
        }
        self
    }
}
