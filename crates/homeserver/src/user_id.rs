//! Matrix user IDs and the rules a homeserver applies to new ones.

use std::fmt;

/// What a homeserver accepts as the localpart of a new user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserIdRules {
    /// Longest full user ID (`@localpart:server_name`), in bytes.
    pub max_len: usize,
    /// Whether an all-digit localpart may be registered (Synapse keeps those for guests).
    pub all_digits_allowed: bool,
}

impl UserIdRules {
    /// Synapse: the spec's 255 bytes, no all-digit names.
    pub const SYNAPSE: UserIdRules = UserIdRules { max_len: 255, all_digits_allowed: false };
    /// Dendrite: one byte less than the spec allows.
    pub const DENDRITE: UserIdRules = UserIdRules { max_len: 254, all_digits_allowed: true };
}

/// A user on one homeserver.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserId {
    localpart: String,
    server_name: String,
}

/// Why a username cannot be registered. The messages say what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserIdError {
    #[error("must not be empty")]
    Empty,
    #[error("may only contain a-z, 0-9 and the characters . _ = - / + (found {0:?})")]
    BadCharacter(char),
    #[error("must not begin with an underscore")]
    LeadingUnderscore,
    #[error("must not be all digits (the homeserver keeps those for guest users)")]
    AllDigits,
    #[error("makes the user ID {len} bytes long; the homeserver allows at most {max}")]
    TooLong { len: usize, max: usize },
    #[error("names a user of {given}, but this homeserver is {expected}")]
    OtherServer { given: String, expected: String },
    #[error("is not a valid user ID (expected a localpart such as john, or @john:{0})")]
    Malformed(String),
}

impl UserId {
    /// Reads a username as users give it: a localpart (`john`, `John`) or a full user ID on this
    /// server (`@john:example.com`). Uppercase letters are lowered, as homeservers do when they
    /// register a name; then the name must be one the server would register.
    pub fn parse(input: &str, server_name: &str, rules: &UserIdRules) -> Result<UserId, UserIdError> {
        let localpart = match input.strip_prefix('@') {
            Some(full) => {
                let (localpart, domain) =
                    full.split_once(':').ok_or_else(|| UserIdError::Malformed(server_name.to_string()))?;
                if domain != server_name {
                    return Err(UserIdError::OtherServer { given: domain.into(), expected: server_name.into() });
                }
                localpart
            }
            None => input,
        };
        let localpart = localpart.to_lowercase();
        if localpart.is_empty() {
            return Err(UserIdError::Empty);
        }
        if let Some(c) =
            localpart.chars().find(|c| !matches!(c, 'a'..='z' | '0'..='9' | '.' | '_' | '=' | '-' | '/' | '+'))
        {
            return Err(UserIdError::BadCharacter(c));
        }
        if localpart.starts_with('_') {
            return Err(UserIdError::LeadingUnderscore);
        }
        if !rules.all_digits_allowed && localpart.bytes().all(|b| b.is_ascii_digit()) {
            return Err(UserIdError::AllDigits);
        }
        let id = UserId { localpart, server_name: server_name.to_string() };
        let len = id.to_string().len();
        if len > rules.max_len {
            return Err(UserIdError::TooLong { len, max: rules.max_len });
        }
        Ok(id)
    }

    pub fn localpart(&self) -> &str {
        &self.localpart
    }

    pub fn server_name(&self) -> &str {
        &self.server_name
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}:{}", self.localpart, self.server_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str) -> Result<String, UserIdError> {
        UserId::parse(input, "example.com", &UserIdRules::SYNAPSE).map(|id| id.to_string())
    }

    #[test]
    fn accepts_localparts_and_full_ids_on_this_server() {
        assert_eq!(parse("john").unwrap(), "@john:example.com");
        assert_eq!(parse("John").unwrap(), "@john:example.com");
        assert_eq!(parse("@john:example.com").unwrap(), "@john:example.com");
        assert_eq!(parse("a.b_c=d-e/f+g9").unwrap(), "@a.b_c=d-e/f+g9:example.com");
        assert_eq!(parse("1a").unwrap(), "@1a:example.com");
    }

    #[test]
    fn refuses_what_synapse_refuses() {
        assert_eq!(parse("").unwrap_err(), UserIdError::Empty);
        assert_eq!(parse("jo hn").unwrap_err(), UserIdError::BadCharacter(' '));
        assert_eq!(parse("jöhn").unwrap_err(), UserIdError::BadCharacter('ö'));
        for c in ['#', '?', '%', ':', '@', '"', '\0'] {
            assert_eq!(parse(&format!("a{c}b")).unwrap_err(), UserIdError::BadCharacter(c));
        }
        assert_eq!(parse("_bot").unwrap_err(), UserIdError::LeadingUnderscore);
        assert_eq!(parse("12345").unwrap_err(), UserIdError::AllDigits);
        assert!(matches!(parse("@john:other.org").unwrap_err(), UserIdError::OtherServer { .. }));
        assert!(matches!(parse("@john").unwrap_err(), UserIdError::Malformed(_)));
    }

    #[test]
    fn limits_the_full_id_to_255_bytes() {
        // "@" + localpart + ":example.com" = localpart + 13 bytes.
        assert!(parse(&"a".repeat(242)).is_ok());
        assert_eq!(parse(&"a".repeat(243)).unwrap_err(), UserIdError::TooLong { len: 256, max: 255 });
    }
}
