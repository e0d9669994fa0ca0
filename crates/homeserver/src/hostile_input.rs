//! Hostile usernames (property tests): whatever a username holds, reading it never panics, only
//! names the homeserver would register get through, and none of those can change the path of a
//! request: a user ID is always one escaped path segment that reads back as itself.

use percent_encoding::percent_decode_str;
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

use crate::client::user_path;
use crate::{UserId, UserIdError, UserIdRules};

/// The same cases on every run; `PROPTEST_RNG_SEED` and `PROPTEST_CASES` explore further.
fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if config.rng_seed == RngSeed::Random {
        config.rng_seed = RngSeed::Fixed(0x6d61_7472_6978);
    }
    config.failure_persistence = None;
    config
}

const RULES: [UserIdRules; 2] = [UserIdRules::SYNAPSE, UserIdRules::DENDRITE];

/// Usernames near the allowed ones: allowed characters, path and URL syntax, upper case, `..`.
fn username() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9._=/+-]{0,20}",
        "[a-z0-9./%?#@:&=+ -]{0,20}",
        "(\\.\\.|/|\\.|%2[fF]|%00|a|_|@|:|\\?|#){1,8}",
        "@[a-z0-9./_-]{0,12}:(example\\.com|other\\.org|example\\.com:8448|)",
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn only_registrable_names_get_through(input in username(), rules in prop::sample::select(&RULES[..])) {
        match UserId::parse(&input, "example.com", &rules) {
            Ok(id) => {
                let localpart = id.localpart();
                prop_assert!(!localpart.is_empty());
                prop_assert!(localpart.chars().all(|c| matches!(c, 'a'..='z' | '0'..='9' | '.' | '_' | '=' | '-' | '/' | '+')));
                prop_assert!(!localpart.starts_with('_'));
                prop_assert!(id.to_string().len() <= rules.max_len);
                prop_assert!(rules.all_digits_allowed || !localpart.bytes().all(|b| b.is_ascii_digit()));
                // The ID reads back as itself, in either form.
                prop_assert_eq!(&UserId::parse(&id.to_string(), "example.com", &rules).unwrap(), &id);
                prop_assert_eq!(&UserId::parse(localpart, "example.com", &rules).unwrap(), &id);
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    /// `%`, `?`, `#`, `@`, `:` (and anything else outside the grammar) in a localpart are refused
    /// before any request.
    #[test]
    fn url_syntax_in_a_localpart_is_refused(
        before in "[a-z0-9./=+-]{0,8}",
        bad in prop::sample::select(vec!['%', '?', '#', '@', ':', ' ', '\\', '\0', '\n', '&', '"', '<', '\u{202e}']),
        after in "[a-z0-9./=+-]{0,8}",
    ) {
        let input = format!("x{before}{bad}{after}");
        prop_assert_eq!(UserId::parse(&input, "example.com", &UserIdRules::SYNAPSE).unwrap_err(), UserIdError::BadCharacter(bad));
    }

    #[test]
    fn a_user_id_is_one_path_segment(input in username()) {
        let Ok(id) = UserId::parse(&input, "example.com", &UserIdRules::SYNAPSE) else { return Ok(()) };
        let path = user_path("/_synapse/admin/v2/users/", &id, "/admin");
        let segment = path.strip_prefix("/_synapse/admin/v2/users/").and_then(|p| p.strip_suffix("/admin")).unwrap();
        prop_assert!(segment.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)), "{segment}");
        prop_assert!(segment.starts_with("%40"));
        prop_assert_eq!(percent_decode_str(segment).decode_utf8().unwrap(), id.to_string());
    }
}

proptest! {
    #![proptest_config(config())]

    /// An answer that echoes the request: a password in it is shown whole (and then masked by
    /// the module) or not at all, never cut in two; a JSON echo is never quoted.
    #[test]
    fn error_messages_never_cut_a_word_in_two(
        before in prop::collection::vec("[a-zA-Z<>/=\"]{1,12}", 0..40),
        secret in "[a-z0-9]{8,16}",
        after in prop::collection::vec("[a-zA-Z<>/=\"]{1,12}", 0..10),
    ) {
        let text = format!("{} {secret} {}", before.join(" "), after.join(" "));
        let message = crate::http::Reply { status: 502, body: serde_json::Value::String(text) }.message();
        let words: Vec<&str> = message.trim_end_matches('…').split_whitespace().collect();
        for word in words {
            prop_assert!(word == secret || before.iter().chain(&after).any(|w| w == word), "{word} in {message}");
        }
        let echo = serde_json::json!({"username": "john", "password": secret});
        let message = crate::http::Reply { status: 400, body: echo }.message();
        prop_assert!(!message.contains(&secret), "{message}");
    }
}
