//! A string that must never be printed.

use std::fmt;
use std::sync::Mutex;

/// Every secret this process obtained from a server or derived from another (session and admin
/// tokens, the `Basic` form of a client secret). The ones the task gave are known to its output
/// mask already; these come into being deep inside a backend, and are found here by whatever
/// prints a result, so that none can be missed however it was made.
static OBTAINED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// A password, token or shared secret. Its `Debug` and `Display` show `********`, so a secret
/// cannot reach a log or an error message by accident; [`Secret::expose`] is the one way in.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// A secret that came from a server or was derived here, recorded for the output mask.
    pub fn obtained(value: impl Into<String>) -> Secret {
        let value = value.into();
        if let Ok(mut all) = OBTAINED.lock() {
            all.push(value.clone());
        }
        Secret(value)
    }

    /// The secrets [`Secret::obtained`] has made so far, for the output mask.
    pub fn all_obtained() -> Vec<String> {
        OBTAINED.lock().map(|all| all.clone()).unwrap_or_default()
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(********)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("********")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_formats_its_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "******** Secret(********)");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn obtained_secrets_are_recorded() {
        let token = Secret::obtained("syt_obtained_token");
        assert!(Secret::all_obtained().iter().any(|s| s == token.expose()));
    }
}
