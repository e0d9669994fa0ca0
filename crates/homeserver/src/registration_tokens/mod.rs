//! Registration tokens: a token lets whoever holds it sign up on a server that asks for one
//! (Matrix's `m.login.registration_token`), a number of times until a date. Each server keeps
//! them behind its own admin API: Synapse (`/_synapse/admin/v1/registration_tokens`) and
//! Dendrite (`/_dendrite/admin/registrationTokens`) alike, keyed by the token string
//! ([`admin_api`]); MAS by an ID, revoking instead of deleting ([`mas`]).
//!
//! The tool makes the token strings itself ([`generate`]): `<name>-<20 random letters and
//! digits>`, so that the token a declaration created is found again by its name ([`named`])
//! without anything kept on the controller, while the random part is known only to whoever the
//! creating run gave it to.

mod admin_api;
mod mas;

pub use admin_api::{DENDRITE as DENDRITE_RULES, SYNAPSE as SYNAPSE_RULES};
pub use mas::RULES as MAS_RULES;

use std::io::Read;

use crate::{Error, Secret, Server};

/// Random letters and digits after a generated token's name: 62^20, about 119 bits.
pub const RANDOM_LEN: usize = 20;
/// The longest token every server takes (Synapse and Dendrite: 64).
pub const TOKEN_MAX: usize = 64;
/// The longest name a generated token can carry.
pub const NAME_MAX: usize = TOKEN_MAX - RANDOM_LEN - 1;

/// A registration token as the server keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationToken {
    /// The token string itself.
    pub token: Secret,
    /// How many sign-ups it allows in all; `None`: no limit.
    pub uses_allowed: Option<u32>,
    /// When it stops being accepted, in seconds since 1970; `None`: never.
    pub expiry: Option<i64>,
    /// Sign-ups finished with it (MAS: times used).
    pub completed: u32,
    /// Sign-ups under way with it (Synapse and Dendrite count them against the limit).
    pub pending: u32,
    /// MAS keeps revoked tokens; the others delete them.
    pub revoked: bool,
    /// MAS's ID (a ULID), by which its API addresses the token.
    pub id: Option<String>,
}

/// A token's limits: how many sign-ups, until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    pub uses_allowed: Option<u32>,
    pub expiry: Option<i64>,
}

/// What is changed of an existing token: `Some` fields only (`Some(None)` lifts the limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LimitsChange {
    pub uses_allowed: Option<Option<u32>>,
    pub expiry: Option<Option<i64>>,
}

/// How a server ends a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Delete,
    /// MAS: revoked, kept (and can be restored).
    Revoke,
}

/// What a server takes and does with tokens.
#[derive(Debug, Clone, Copy)]
pub struct TokenRules {
    pub server: &'static str,
    /// The characters a token may hold, as a message says them.
    pub allowed: &'static str,
    pub allows: fn(char) -> bool,
    pub removal: Removal,
    /// Why sign-up on this server does not ask for a token even when it holds some.
    pub sign_up_ignores_tokens: Option<&'static str>,
}

impl TokenRules {
    /// Why the server would refuse this token string, checked before any request.
    pub fn problem(&self, token: &str) -> Option<String> {
        if token.is_empty() || token.len() > TOKEN_MAX {
            return Some(format!("must be 1 to {TOKEN_MAX} characters long (it is {})", token.chars().count()));
        }
        if !token.chars().all(self.allows) {
            return Some(format!("may hold only {} ({} takes no others)", self.allowed, self.server));
        }
        None
    }
}

/// Synapse's and MAS's characters: RFC 3986's unreserved ones, which need no escaping in a link.
pub(crate) fn unreserved(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '~' | '-')
}

/// A server's registration tokens. Implemented by [`Server`]; tests use a fake.
#[allow(async_fn_in_trait)]
pub trait TokenStore {
    fn token_rules(&self) -> TokenRules;

    /// Every token the server holds (MAS: revoked ones too).
    async fn list_tokens(&self) -> Result<Vec<RegistrationToken>, Error>;

    async fn create_token(&self, token: &Secret, limits: Limits) -> Result<(), Error>;

    async fn update_token(&self, token: &RegistrationToken, change: LimitsChange) -> Result<(), Error>;

    /// Deletes the token (MAS: revokes it).
    async fn remove_token(&self, token: &RegistrationToken) -> Result<(), Error>;

    /// Takes a revoked token back into use (MAS only; the others never hold a revoked one).
    async fn restore_token(&self, token: &RegistrationToken) -> Result<(), Error>;

    /// Why nobody can sign up with a token on this server as it is set up, if that is so.
    async fn sign_up_problem(&self) -> Option<String> {
        self.token_rules().sign_up_ignores_tokens.map(str::to_string)
    }
}

impl TokenStore for Server {
    fn token_rules(&self) -> TokenRules {
        match self {
            Server::Synapse(_) => admin_api::SYNAPSE,
            Server::Dendrite(_) => admin_api::DENDRITE,
            Server::Mas(_) => mas::RULES,
        }
    }

    async fn list_tokens(&self) -> Result<Vec<RegistrationToken>, Error> {
        match self {
            Server::Synapse(s) => admin_api::of_synapse(s).list().await,
            Server::Dendrite(d) => admin_api::of_dendrite(d).list().await,
            Server::Mas(m) => mas::list(m).await,
        }
    }

    async fn create_token(&self, token: &Secret, limits: Limits) -> Result<(), Error> {
        match self {
            Server::Synapse(s) => admin_api::of_synapse(s).create(token, limits).await,
            Server::Dendrite(d) => admin_api::of_dendrite(d).create(token, limits).await,
            Server::Mas(m) => mas::create(m, token, limits).await,
        }
    }

    async fn update_token(&self, token: &RegistrationToken, change: LimitsChange) -> Result<(), Error> {
        match self {
            Server::Synapse(s) => admin_api::of_synapse(s).update(token, change).await,
            Server::Dendrite(d) => admin_api::of_dendrite(d).update(token, change).await,
            Server::Mas(m) => mas::update(m, token, change).await,
        }
    }

    async fn remove_token(&self, token: &RegistrationToken) -> Result<(), Error> {
        match self {
            Server::Synapse(s) => admin_api::of_synapse(s).delete(token).await,
            Server::Dendrite(d) => admin_api::of_dendrite(d).delete(token).await,
            Server::Mas(m) => mas::revoke(m, token, true).await,
        }
    }

    async fn restore_token(&self, token: &RegistrationToken) -> Result<(), Error> {
        match self {
            Server::Mas(m) => mas::revoke(m, token, false).await,
            _ => Ok(()),
        }
    }

    async fn sign_up_problem(&self) -> Option<String> {
        match self {
            Server::Synapse(s) => admin_api::of_synapse(s).sign_up_problem().await,
            _ => self.token_rules().sign_up_ignores_tokens.map(str::to_string),
        }
    }
}

/// A new token for `name`: `<name>-<random letters and digits>`. The random part comes from the
/// kernel (`/dev/urandom`).
pub fn generate(name: &str) -> Result<Secret, String> {
    const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut random = std::fs::File::open("/dev/urandom").map_err(|e| format!("cannot read /dev/urandom: {e}"))?;
    let mut token = format!("{name}-");
    let mut byte = [0u8; 1];
    while token.len() < name.len() + 1 + RANDOM_LEN {
        random.read_exact(&mut byte).map_err(|e| format!("cannot read /dev/urandom: {e}"))?;
        // 248 = 4 * 62: bytes above it are dropped, so that every letter is equally likely.
        if byte[0] < 248 {
            token.push(LETTERS[usize::from(byte[0] % 62)] as char);
        }
    }
    Ok(Secret::new(token))
}

/// Whether `token` is one [`generate`] made for `name`.
pub fn named(token: &str, name: &str) -> bool {
    token
        .strip_prefix(name)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|random| random.len() == RANDOM_LEN && random.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Seconds since 1970 of an RFC 3339 time (`2026-12-01T15:30:48Z`, with fractions or an offset).
pub fn parse_time(text: &str) -> Option<i64> {
    crate::mas::unix_seconds(text)
}

/// An RFC 3339 time in UTC, to the second.
pub fn format_time(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    // The civil date of a day count (proleptic Gregorian calendar).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_found_by_their_name_only() {
        let token = generate("spring-party").unwrap();
        assert_eq!(token.expose().len(), "spring-party".len() + 1 + RANDOM_LEN);
        assert!(named(token.expose(), "spring-party"));
        assert!(!named(token.expose(), "spring"));
        assert!(!named(token.expose(), "party"));
        assert_ne!(generate("x").unwrap(), generate("x").unwrap());
        assert!(!named("spring-party-abc", "spring-party"));
        assert!(!named("alice-bob-0123456789abcdefghij", "alice"));
        assert!(named("alice-0123456789abcdefghij", "alice"));
    }

    #[test]
    fn times_round_trip() {
        for seconds in [0, 951_782_400, 1_796_139_048, 4_102_444_800] {
            assert_eq!(parse_time(&format_time(seconds)), Some(seconds));
        }
        assert_eq!(format_time(1_796_139_048), "2026-12-01T15:30:48Z");
    }

    /// Hostile servers: a listing in the wrong shape fails; one whose pages do not move on ends.
    #[test]
    fn hostile_listings_fail_or_end() {
        use crate::hostile_input::{against, json_answer};
        use crate::mas::{LoginPace, MasClient};
        use serde_json::json;

        let token = Some(Secret::new("admin token"));
        let odd = json_answer(200, json!({"registration_tokens": "all of them"}));
        let listed = against(vec![odd], async |http| {
            let synapse = crate::synapse::Synapse::connect(http, Some("example.com".into()), None, token.clone()).await;
            Server::Synapse(synapse.unwrap()).list_tokens().await
        });
        assert!(matches!(listed, Err(Error::BadAnswer { .. })), "{listed:?}");

        let discovery = json_answer(200, json!({"token_endpoint": "http://127.0.0.1:1/oauth2/token"}));
        let admin = json_answer(200, json!({"access_token": "t", "expires_in": 300}));
        let site = json_answer(200, json!({"server_name": "example.com"}));
        let page = json_answer(
            200,
            json!({"meta": {"count": u64::MAX}, "links": {"next": "again"},
                   "data": [{"id": "01ABC", "attributes": {"token": "x-1", "times_used": u64::MAX}}]}),
        );
        let client = MasClient { client_id: "id".into(), client_secret: Secret::new("client secret") };
        let mut answers = vec![discovery, admin, site];
        answers.extend(std::iter::repeat_n(page, 10));
        let listed = against(answers, async |http| {
            let mas = crate::mas::Mas::connect(http, None, client, false, LoginPace::default()).await.unwrap();
            Server::Mas(Box::new(mas)).list_tokens().await
        });
        let listed = listed.unwrap();
        assert_eq!(listed[0].completed, u32::MAX);
    }

    #[test]
    fn token_characters_per_server() {
        assert_eq!(admin_api::SYNAPSE.problem("a.b~c_d-e"), None);
        assert!(admin_api::DENDRITE.problem("a.b").unwrap().contains("Dendrite"));
        assert!(admin_api::SYNAPSE.problem("a b").is_some());
        assert!(admin_api::SYNAPSE.problem(&"x".repeat(65)).unwrap().contains("64"));
        assert!(mas::RULES.problem("").is_some());
    }
}
