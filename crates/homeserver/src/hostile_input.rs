//! Hostile input (property tests). Usernames: whatever one holds, reading it never panics, only
//! names the homeserver would register get through, and none of those can change the path of a
//! request. Server answers: whatever a server sends, no call panics or runs on for ever, and an
//! echo of the request is never quoted.

use std::time::Duration;

use percent_encoding::percent_decode_str;
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use serde_json::json;

use crate::client::user_path;
use crate::dendrite::Dendrite;
use crate::http::Reply;
use crate::mas::{LoginPace, Mas, MasClient};
use crate::synapse::Synapse;
use crate::{Backend, Error, Http, NewAccount, Secret, Transport, UserId, UserIdError, UserIdRules};

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

    /// An answer that echoes the request is never quoted: not as text (any content type, any
    /// encoding, cut or whole), not as JSON without an error message. A Matrix `error` is quoted
    /// whole (the output mask then knows it) or, when long, not at all.
    #[test]
    fn echoed_requests_are_never_quoted(
        before in "[ -~]{0,400}",
        secret in "[a-z0-9]{8,16}",
        after in "[ -~]{0,40}",
    ) {
        let text = format!("{before}{secret}{after}");
        let not_json = Some(format!("(a text/html body of {} bytes, not JSON: not quoted)", text.len()));
        let message = Reply { status: 502, body: serde_json::Value::Null, not_json, retry_after: None }.message();
        prop_assert!(!message.contains(&secret), "{message}");
        let echo = serde_json::json!({"username": "john", "password": secret, "detail": text});
        let message = Reply { status: 400, body: echo, not_json: None, retry_after: None }.message();
        prop_assert!(!message.contains(&secret), "{message}");
        let error = serde_json::json!({"errcode": "M_UNKNOWN", "error": text});
        let message = Reply { status: 400, body: error, not_json: None, retry_after: None }.message();
        prop_assert!(message == text || !message.contains(&secret), "{message}");
    }
}

/// A fake homeserver on 127.0.0.1 that gives every request the next of `answers` (status,
/// content type, body), round and round, and closes each connection after one answer.
async fn fake_server(answers: Vec<(u16, &'static str, Vec<u8>)>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        for (status, kind, body) in answers.into_iter().cycle() {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            // The head, and a body of its Content-Length; a bounded read, as the client sends little.
            while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 65_536 {
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&body).await;
            let _ = stream.shutdown().await;
        }
    });
    url
}

/// The keys of the answers the backends read.
const KEYS: [&str; 20] = [
    "access_token",
    "expires_in",
    "token_endpoint",
    "next_token",
    "total",
    "users",
    "name",
    "admin",
    "deactivated",
    "nonce",
    "user_id",
    "errcode",
    "error",
    "retry_after_ms",
    "available",
    "data",
    "id",
    "attributes",
    "errors",
    "device_id",
];

/// Answers a hostile or broken server may give: any status that matters, JSON shaped like the
/// answers the backends read but with values of any type and size, or bytes that are not JSON.
fn answer() -> impl Strategy<Value = (u16, &'static str, Vec<u8>)> {
    let number =
        prop_oneof![Just(json!(u64::MAX)), Just(json!(-1)), Just(json!(1e300)), any::<u32>().prop_map(|n| json!(n))];
    let text = prop_oneof![
        Just(json!("")),
        Just(json!("@127.0.0.1:1/oauth2/token")),
        Just(json!("http://127.0.0.1:1/oauth2/token")),
        Just(json!("@x:example.com")),
        "[ -~]{0,20}".prop_map(|s| json!(s)),
    ];
    let leaf = prop_oneof![
        number.clone(),
        text.clone(),
        Just(json!(null)),
        Just(json!(true)),
        Just(json!([])),
        Just(json!({}))
    ];
    let keys = prop::sample::select(KEYS.to_vec());
    let object = prop::collection::btree_map(keys.clone(), leaf.clone(), 0..8)
        .prop_map(|map| serde_json::Value::Object(map.into_iter().map(|(k, v)| (k.to_string(), v)).collect()));
    let nested =
        (object.clone(), prop::collection::vec(object.clone(), 0..3), keys).prop_map(|(mut outer, items, key)| {
            outer[key] = serde_json::Value::Array(items.clone());
            outer["data"] = items.into_iter().next().unwrap_or_default();
            outer
        });
    // Every key at once, each with a value a backend would use or a hostile one: such an answer
    // takes a backend past its first checks (a token endpoint, a token, a page of users).
    let plausible = |key: &'static str| -> BoxedStrategy<serde_json::Value> {
        match key {
            "token_endpoint" => Just(json!("http://127.0.0.1:1/oauth2/token")).boxed(),
            "access_token" | "nonce" | "id" => Just(json!("abc")).boxed(),
            "user_id" | "name" => Just(json!("@john:example.com")).boxed(),
            "next_token" => prop_oneof![Just(json!("500")), Just(json!(500))].boxed(),
            "users" => Just(json!([{"name": "@a:example.com", "admin": 1}])).boxed(),
            "data" => Just(json!({"id": "01J", "attributes": {"admin": true, "deactivated_at": null}})).boxed(),
            _ => number.clone().boxed(),
        }
    };
    let every_key = KEYS
        .map(|key| prop_oneof![3 => plausible(key), 1 => leaf.clone()].prop_map(move |v| (key, v)).boxed())
        .to_vec()
        .prop_map(|pairs| serde_json::Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()));
    let status = prop::sample::select(vec![200u16, 200, 200, 201, 302, 400, 401, 403, 404, 409, 429, 500, 502, 503]);
    let body = prop_oneof![
        2 => every_key.prop_map(|v| ("application/json", v.to_string().into_bytes())),
        1 => nested.prop_map(|v| ("application/json", v.to_string().into_bytes())),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| ("text/html", b)),
    ];
    (status, body).prop_map(|(status, (kind, body))| (status, kind, body))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..config() })]

    /// Whatever a server answers, every backend call ends (within its bounded waits) with a
    /// result or an error: no panic, no endless loop.
    #[test]
    fn no_server_answer_panics_or_hangs(answers in prop::collection::vec(answer(), 1..6)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let url = fake_server(answers).await;
            let http = || {
                Http::new(Transport {
                    base_url: url.clone(),
                    timeout: Duration::from_secs(2),
                    wait_timeout: Duration::from_millis(300),
                    validate_certs: true,
                    ca_path: None,
                })
                .unwrap()
            };
            let user = UserId::parse("john", "example.com", &UserIdRules::SYNAPSE).unwrap();
            let password = Secret::new("a password");
            let account = NewAccount { password: &password, admin: true, displayname: None, user_type: None };
            let token = Some(Secret::new("admin token"));
            let work = async {
                if let Ok(synapse) = Synapse::connect(http(), None, token.clone(), token.clone()).await {
                    let _ = synapse.look_up(&user).await;
                    let _ = synapse.list_accounts(100_000).await;
                    let _ = synapse.log_in(&user, &password).await;
                    let _ = synapse.create(&user, &account).await;
                    let _ = synapse.set_admin(&user, false).await;
                }
                if let Ok(dendrite) = Dendrite::connect(http(), Some("example.com".into()), token.clone(), token.clone(), None).await {
                    let _ = dendrite.look_up(&user).await;
                    let _ = dendrite.log_in(&user, &password).await;
                }
                let client = MasClient { client_id: "id".into(), client_secret: Secret::new("client secret") };
                if let Ok(mas) = Mas::connect(http(), Some("example.com".into()), client, false, LoginPace::default()).await {
                    let _ = mas.look_up(&user).await;
                    let _ = mas.create(&user, &account).await;
                    let _ = mas.has_email(&user, "j@example.com").await;
                }
            };
            tokio::time::timeout(Duration::from_secs(60), work).await.expect("every call ends");
        });
    }
}

/// Runs `work` against a fake server giving `answers` in turn, with short bounded waits.
pub(crate) fn against<T>(answers: Vec<(u16, &'static str, Vec<u8>)>, work: impl AsyncFnOnce(Http) -> T) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let url = fake_server(answers).await;
        let http = Http::new(Transport {
            base_url: url,
            timeout: Duration::from_secs(2),
            wait_timeout: Duration::from_secs(1),
            validate_certs: true,
            ca_path: None,
        })
        .unwrap();
        tokio::time::timeout(Duration::from_secs(20), work(http)).await.expect("the call ends")
    })
}

pub(crate) fn json_answer(status: u16, body: serde_json::Value) -> (u16, &'static str, Vec<u8>) {
    (status, "application/json", body.to_string().into_bytes())
}

/// Answers known to have aborted or hung the tool, each replayed in order.
#[test]
fn absurd_numbers_from_a_server_do_not_abort() {
    let discovery = json_answer(200, json!({"token_endpoint": "http://127.0.0.1:1/oauth2/token"}));
    let token = json_answer(200, json!({"access_token": "t", "expires_in": u64::MAX}));
    let site = json_answer(200, json!({"server_name": "example.com", "password_login_enabled": true}));
    let client = MasClient { client_id: "id".into(), client_secret: Secret::new("client secret") };
    let connected = against(vec![discovery, token, site], async |http| {
        Mas::connect(http, Some("example.com".into()), client, false, LoginPace::default()).await
    });
    assert!(connected.is_ok(), "{connected:?}");

    let user = UserId::parse("john", "example.com", &UserIdRules::SYNAPSE).unwrap();
    let token = Some(Secret::new("admin token"));
    for wait in [
        json_answer(429, json!({"retry_after_ms": u64::MAX})),
        (429, "application/json\r\nRetry-After: 18446744073709551615", b"{}".to_vec()),
    ] {
        let looked_up = against(vec![wait], async |http| {
            Synapse::connect(http, Some("example.com".into()), None, token.clone()).await.unwrap().look_up(&user).await
        });
        assert!(matches!(looked_up, Err(Error::RateLimited { .. })), "{looked_up:?}");
    }
}

#[test]
fn a_listing_that_never_ends_is_refused() {
    let page = json_answer(200, json!({"users": [{"name": "@a:example.com"}], "total": 1000, "next_token": "500"}));
    let listed = against(vec![page], async |http| {
        let synapse = Synapse::connect(http, Some("example.com".into()), None, Some(Secret::new("t"))).await.unwrap();
        synapse.list_accounts(100_000).await
    });
    assert!(matches!(&listed, Err(Error::BadAnswer { problem, .. }) if problem.contains("does not end")), "{listed:?}");
}

#[test]
fn a_full_listing_that_ends_early_or_never_is_refused() {
    // Announces 3 users, gives 1 and no next page: a part only, never taken for the whole.
    let early = json_answer(200, json!({"users": [{"name": "@a:example.com"}], "total": 3}));
    let listed = against(vec![early], async |http| {
        let synapse = Synapse::connect(http, Some("example.com".into()), None, Some(Secret::new("t"))).await.unwrap();
        synapse.list_everyone().await
    });
    assert!(
        matches!(&listed, Err(Error::BadAnswer { problem, .. }) if problem.contains("ended after 1 of the 3")),
        "{listed:?}"
    );
    let endless = json_answer(200, json!({"users": [{"name": "@a:example.com"}], "total": 1000, "next_token": "5"}));
    let listed = against(vec![endless], async |http| {
        let synapse = Synapse::connect(http, Some("example.com".into()), None, Some(Secret::new("t"))).await.unwrap();
        synapse.list_everyone().await
    });
    assert!(matches!(&listed, Err(Error::BadAnswer { problem, .. }) if problem.contains("does not end")), "{listed:?}");
}

#[test]
fn a_listing_page_larger_than_its_limit_is_refused() {
    let huge = (200, "application/json", vec![b' '; crate::http::PAGE_MAX + 1]);
    let listed = against(vec![huge], async |http| {
        let synapse = Synapse::connect(http, Some("example.com".into()), None, Some(Secret::new("t"))).await.unwrap();
        synapse.list_accounts(100_000).await
    });
    assert!(matches!(&listed, Err(Error::BadAnswer { problem, .. }) if problem.contains("larger than")), "{listed:?}");
}

#[test]
fn a_body_larger_than_the_limit_is_refused() {
    let huge = (200, "application/json", vec![b' '; crate::http::BODY_MAX + 1]);
    let looked_up = against(vec![huge], async |http| {
        let synapse = Synapse::connect(http, Some("example.com".into()), None, Some(Secret::new("t"))).await.unwrap();
        synapse.look_up(&UserId::parse("john", "example.com", &UserIdRules::SYNAPSE).unwrap()).await
    });
    assert!(
        matches!(&looked_up, Err(Error::BadAnswer { problem, .. }) if problem.contains("larger than")),
        "{looked_up:?}"
    );
}
