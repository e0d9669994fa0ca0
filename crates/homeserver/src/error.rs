//! What can go wrong talking to a homeserver, worded for the person who has to fix it.

use crate::setting::{assignment, fill, named_in, Setting};

/// A failure of one homeserver operation. Messages say what failed and what to set or fix; they
/// never contain a secret (requests are described, never echoed). A setting is named through the
/// front end ([`Error::render`]); `Display` names it as the settings are written (`mas_url`).
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    Unreachable {
        url: String,
        waited_secs: f64,
        cause: String,
    },

    TimedOut {
        action: String,
        secs: f64,
    },

    RateLimited {
        action: String,
        wait_ms: u64,
    },

    Interrupted {
        action: String,
        cause: String,
    },

    Tls {
        url: String,
        cause: String,
        /// Written with its settings as placeholders, as `Refused`'s hint.
        hint: &'static str,
    },

    Refused {
        /// What was being done; like the hint, written with its settings as placeholders.
        action: String,
        status: u16,
        errcode: Option<String>,
        message: String,
        /// Written with its settings as placeholders (`{mas_url}`: `setting::fill`).
        hint: Option<String>,
        /// The settings the hint asks to check or set.
        about: &'static [Setting],
    },

    /// An answer this tool cannot use safely: too large, a listing that never ends, a discovery
    /// document pointing somewhere odd. Its content is described, never quoted.
    BadAnswer {
        action: String,
        /// Written with its settings as placeholders, as `Refused`'s hint.
        problem: String,
        /// The settings the problem asks to check.
        about: &'static [Setting],
    },

    Database {
        action: String,
        message: String,
    },

    HalfDone {
        user_id: String,
        cause: String,
    },

    MasUnreachable {
        url: String,
        waited_secs: f64,
        cause: String,
    },

    WrongServerName {
        given: String,
        served: String,
    },

    LoginRateLimited {
        action: String,
        limit: String,
        pending: usize,
        interval_secs: f64,
        needed_secs: f64,
        wait_secs: f64,
        waited_secs: f64,
    },

    AlreadyExists {
        user_id: String,
    },

    NeedsSetting {
        action: String,
        setting: Setting,
    },

    /// What this server cannot do at all, whatever it is given; found before any change.
    Unsupported {
        action: String,
        /// Written with its settings as placeholders, as `Refused`'s hint; they are the
        /// settings this error is about.
        why: &'static str,
    },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(|setting| setting.to_string()))
    }
}

impl std::error::Error for Error {}

impl Error {
    /// The message, each setting it names named by `name` (the module's `mas_url`, the tool's
    /// `--mas-url`).
    pub fn render(&self, name: impl Fn(Setting) -> String) -> String {
        use Setting::*;
        // What was being done, its settings named too.
        let act = |action: &str| fill(action, &name);
        match self {
            Error::Unreachable { url, waited_secs, cause } => format!(
                "cannot reach the homeserver at {url} (waited {waited_secs:.0} s; last error: {cause}); check that it \
                 is running and that {} is right, or raise {} if it is still starting",
                name(HomeserverUrl),
                name(WaitTimeout)
            ),
            Error::TimedOut { action, secs } => {
                format!("{}: the homeserver did not answer within {secs} s ({})", act(action), name(Timeout))
            }
            Error::RateLimited { action, wait_ms } => format!(
                "{}: the homeserver rate-limited the request and asked to wait {wait_ms} ms, longer than {} \
                 allows; try again later",
                act(action),
                name(WaitTimeout)
            ),
            Error::Interrupted { action, cause } => format!(
                "{}: the homeserver's answer was lost ({cause}); run again: a new run sees what was done and \
                 finishes the rest",
                act(action)
            ),
            Error::Tls { url, cause, hint } => {
                format!("cannot connect to {url} over HTTPS: {cause}; {}", fill(hint, &name))
            }
            Error::Refused { action, status, errcode, message, hint, .. } => format!(
                "{}: HTTP {status}{}: {message}{}",
                act(action),
                errcode.as_deref().map(|c| format!(" {c}")).unwrap_or_default(),
                hint.as_deref().map(|h| format!(" ({})", fill(h, &name))).unwrap_or_default()
            ),
            Error::BadAnswer { action, problem, .. } => format!("{}: {}", act(action), fill(problem, &name)),
            Error::Database { action, message } => {
                format!("{}: {message} (check {})", act(action), name(DendriteDatabase))
            }
            Error::HalfDone { user_id, cause } => format!(
                "{user_id} was created, but finishing it failed: {cause}; fix that and run again with {}",
                assignment(&name, UpdatePassword, "always")
            ),
            Error::MasUnreachable { url, waited_secs, cause } => format!(
                "cannot reach MAS at {url} (waited {waited_secs:.0} s; last error: {cause}); check that it is running \
                 and that {} is right, or raise {} if it is still starting",
                name(MasUrl),
                name(WaitTimeout)
            ),
            Error::WrongServerName { given, served } => format!(
                "{server_name} is {given}, but the MAS at {mas_url} serves {served}: its users are @name:{served}; set \
                 {server_name} to {served}, or leave it out to take MAS's",
                server_name = name(ServerName),
                mas_url = name(MasUrl)
            ),
            Error::LoginRateLimited { action, limit, pending, interval_secs, needed_secs, wait_secs, waited_secs } => {
                format!(
                    "{}: MAS limits password-check logins ({limit}); {pending} to go at one every \
                     {interval_secs:.0} s would take about {needed_secs:.0} s more, past {wait} ({wait_secs:.0} s, \
                     {waited_secs:.0} s waited so far); raise {wait}, check fewer passwords per run ({on_create}), \
                     or raise MAS's rate_limiting.login",
                    act(action),
                    wait = name(MasLoginWait),
                    on_create = assignment(&name, UpdatePassword, "on_create")
                )
            }
            Error::AlreadyExists { user_id } => format!("{user_id} already exists"),
            Error::NeedsSetting { action, setting } => format!("{} needs `{}`", act(action), name(*setting)),
            Error::Unsupported { action, why } => format!("{}: {}", act(action), fill(why, &name)),
        }
    }

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
            Error::Unsupported { why, .. } => named_in(why),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_named_by_the_front_end() {
        let error = Error::Unreachable { url: "http://127.0.0.1:1".into(), waited_secs: 2.0, cause: "refused".into() };
        assert_eq!(
            error.to_string(),
            "cannot reach the homeserver at http://127.0.0.1:1 (waited 2 s; last error: refused); check that it is \
             running and that homeserver_url is right, or raise wait_timeout if it is still starting"
        );
        let flags = |setting: Setting| format!("--{}", setting.to_string().replace('_', "-"));
        assert!(error.render(flags).contains("that --homeserver-url is right, or raise --wait-timeout if"));
        let half = Error::HalfDone { user_id: "@a:b".into(), cause: "x".into() };
        assert!(half.to_string().ends_with("run again with update_password: always"));
        assert!(half.render(flags).ends_with("run again with --update-password always"));
        let database = Error::Database { action: "connecting to {dendrite_database}".into(), message: "no".into() };
        assert_eq!(database.to_string(), "connecting to dendrite_database: no (check dendrite_database)");
        assert_eq!(database.render(flags), "connecting to --dendrite-database: no (check --dendrite-database)");
    }
}
