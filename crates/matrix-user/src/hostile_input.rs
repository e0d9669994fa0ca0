//! Hostile module arguments (property tests): whatever parameters arrive, `module::execute` never
//! panics, every refusal is a clean failed result that names what to fix, secrets are masked in
//! `invocation`, and no secret appears anywhere in the result.
//!
//! No case can reach a real server: `homeserver_url` and `mas_url` are always given, as the closed
//! port 1 on 127.0.0.1 or as something invalid, and `wait_timeout` as 0 (or something invalid).

use std::path::PathBuf;
use std::sync::OnceLock;

use ansible_module::{Params, Redactor, NO_LOG_VALUE};
use proptest::prelude::*;
use proptest::test_runner::{RngSeed, TestCaseError, TestRunner};
use serde_json::{json, Map, Value};

use crate::module::{execute, Failure};
use crate::params::PARAMS;

fn secret_params() -> impl Iterator<Item = &'static str> {
    PARAMS.iter().filter(|p| p.secret).map(|p| p.name)
}

/// The same cases on every run; `PROPTEST_RNG_SEED` and `PROPTEST_CASES` explore further.
fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if config.rng_seed == RngSeed::Random {
        config.rng_seed = RngSeed::Fixed(0x6d61_7472_6978);
    }
    config.failure_persistence = None;
    config
}

/// A secret file for the `_file` parameters, with what it holds.
fn secret_file() -> &'static (PathBuf, String) {
    static FILE: OnceLock<(PathBuf, String)> = OnceLock::new();
    FILE.get_or_init(|| {
        let path = std::env::temp_dir().join(format!("matrix-user-hostile-{}", std::process::id()));
        let secret = "filesecretvalue42".to_string();
        std::fs::write(&path, format!("  {secret}\n")).unwrap();
        (path, secret)
    })
}

/// Any JSON value, a couple of levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        prop_oneof!["yes", "no", "1", "0", "", "always", "present", "synapse", "mas", "dendrite"].prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{0,10}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A secret that can be told apart from every word of a message once masked.
fn secret() -> impl Strategy<Value = String> {
    "[a-z0-9]{3,16}"
}

fn username() -> impl Strategy<Value = Value> {
    prop_oneof![
        8 => "[a-z][a-z0-9._=/+-]{0,11}".prop_map(Value::from),
        2 => "[a-zA-Z0-9./%?#@: _-]{0,12}".prop_map(Value::from),
        1 => "@[a-z0-9]{1,8}:(example\\.com|other\\.org)".prop_map(Value::from),
        1 => json_value(),
    ]
}

/// Mostly `valid`, sometimes anything at all.
fn mostly<S: Strategy<Value = Value> + 'static>(valid: S) -> BoxedStrategy<Value> {
    prop_oneof![19 => valid, 1 => json_value()].boxed()
}

/// Now and then present.
fn sometimes<S: Strategy<Value = Value> + 'static>(value: S) -> BoxedStrategy<Option<Value>> {
    prop::option::weighted(0.25, value).boxed()
}

fn file_value() -> BoxedStrategy<Value> {
    prop_oneof![
        12 => Just(json!(secret_file().0.to_string_lossy())),
        1 => Just(json!("/nonexistent/matrix-user/secret")),
        1 => Just(json!("/dev/null")),
        1 => Just(json!("/dev/zero")),
        1 => Just(json!("/")),
        1 => json_value(),
    ]
    .boxed()
}

fn url_value() -> BoxedStrategy<Value> {
    prop_oneof![
        30 => Just(json!("http://127.0.0.1:1")),
        6 => Just(json!("https://127.0.0.1:1/")),
        1 => Just(json!("127.0.0.1:1")),
        1 => Just(json!("ftp://127.0.0.1:1")),
        1 => Just(json!(" ")),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(json!([1, 2])),
    ]
    .boxed()
}

fn password() -> BoxedStrategy<Value> {
    mostly(prop_oneof![8 => secret().prop_map(Value::from), 1 => any::<String>().prop_map(Value::from)])
}

fn user_item() -> impl Strategy<Value = Value> {
    (
        prop::option::weighted(0.95, username()),
        prop::option::weighted(0.95, password()),
        sometimes(mostly(any::<bool>().prop_map(Value::Bool))),
        sometimes(mostly(prop_oneof![Just(json!("always")), Just(json!("on_create"))])),
        prop::option::weighted(0.05, ("[a-z]{1,8}", json_value())),
    )
        .prop_map(|(username, password, admin, update, extra)| {
            let mut item = Map::new();
            let fields =
                [("username", username), ("password", password), ("admin", admin), ("update_password", update)];
            for (key, value) in fields {
                if let Some(value) = value {
                    item.insert(key.to_string(), value);
                }
            }
            if let Some((key, value)) = extra {
                item.entry(key).or_insert(value);
            }
            Value::Object(item)
        })
}

/// A parameter map: each known parameter present or not, mostly with a value it takes, now and
/// then with anything; a few unknown ones.
fn params() -> impl Strategy<Value = Map<String, Value>> {
    let secret_value = || mostly(secret().prop_map(Value::from));
    let connection = (
        sometimes(mostly(prop_oneof![Just(json!("synapse")), Just(json!("dendrite")), Just(json!("mas"))])),
        url_value(),
        prop::option::weighted(0.8, mostly(Just(json!("example.com")))),
        prop::option::weighted(0.5, secret_value()),
        prop::option::weighted(0.1, file_value()),
        prop::option::weighted(0.5, secret_value()),
        prop::option::weighted(0.1, file_value()),
        prop::option::weighted(0.03, mostly(Just(json!("/nonexistent/accounts.db")))),
    );
    let mas = (
        prop::option::weighted(0.05, url_value()),
        prop::option::weighted(0.05, mostly(Just(json!("01HCLIENT")))),
        prop::option::weighted(0.05, secret_value()),
        prop::option::weighted(0.02, file_value()),
        prop::option::weighted(0.02, mostly(any::<bool>().prop_map(Value::Bool))),
    );
    let transport = (
        sometimes(mostly(any::<bool>().prop_map(Value::Bool))),
        prop::option::weighted(0.05, prop_oneof![file_value(), Just(json!("/dev/zero"))]),
        sometimes(mostly(prop_oneof![Just(json!(1)), Just(json!("0.5")), Just(json!(0))])),
        prop_oneof![30 => Just(json!(0)), 6 => Just(json!("0")), 1 => Just(json!(-1)), 1 => Just(json!("soon"))],
    );
    let user = (
        prop::option::weighted(0.9, username()),
        prop::option::weighted(0.9, password()),
        sometimes(mostly(any::<bool>().prop_map(Value::Bool))),
        sometimes(mostly(prop_oneof![Just(json!("always")), Just(json!("on_create"))])),
        prop::option::weighted(0.4, mostly(prop::collection::vec(user_item(), 0..6).prop_map(Value::Array))),
        prop::option::weighted(0.1, mostly(prop_oneof![Just(json!(2)), Just(json!("8")), Just(json!(0))])),
        prop::option::weighted(0.1, ("[a-z_]{1,12}", json_value())),
        prop::bool::weighted(0.05),
    );
    (connection, mas, transport, user).prop_map(|(connection, mas, transport, user)| {
        let (backend, homeserver_url, server_name, rss, rss_file, token, token_file, dendrite_database) = connection;
        let (mas_url, mas_client_id, mas_secret, mas_secret_file, skip_check) = mas;
        let (validate_certs, ca_path, timeout, wait_timeout) = transport;
        let (mut username, mut password, mut admin, update_password, users, concurrency, unknown, both) = user;
        if users.is_some() && !both {
            (username, password, admin) = (None, None, None);
        }
        let mut map = Map::new();
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(value) = value {
                map.insert(key.to_string(), value);
            }
        };
        put("backend", backend);
        put("homeserver_url", Some(homeserver_url));
        put("server_name", server_name);
        put("registration_shared_secret", rss);
        put("registration_shared_secret_file", rss_file);
        put("admin_access_token", token);
        put("admin_access_token_file", token_file);
        put("dendrite_database", dendrite_database);
        put("mas_url", mas_url);
        put("mas_client_id", mas_client_id);
        put("mas_client_secret", mas_secret);
        put("mas_client_secret_file", mas_secret_file);
        put("skip_password_check", skip_check);
        put("validate_certs", validate_certs);
        put("ca_path", ca_path);
        put("timeout", timeout);
        put("wait_timeout", Some(wait_timeout));
        put("username", username);
        put("password", password);
        put("admin", admin);
        put("update_password", update_password);
        put("users", users);
        put("concurrency", concurrency);
        if let Some((key, value)) = unknown {
            map.entry(key).or_insert(value);
        }
        map
    })
}

/// The secrets `params` hold that the checks can look for.
fn secrets_of(params: &Map<String, Value>) -> Vec<String> {
    let mut secrets: Vec<String> =
        secret_params().filter_map(|key| params.get(key).and_then(Value::as_str).map(str::to_string)).collect();
    for item in params.get("users").and_then(Value::as_array).into_iter().flatten() {
        if let Some(password) = item.get("password").and_then(Value::as_str) {
            secrets.push(password.to_string());
        }
    }
    secrets.push(secret_file().1.clone());
    secrets.retain(|s| s.len() >= 3 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    secrets
}

fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => {
            for (key, value) in map {
                out.push(key.clone());
                strings(value, out);
            }
        }
        _ => {}
    }
}

#[test]
fn any_parameters_give_a_clean_result() {
    let mut runner = TestRunner::new(config());
    let outcome = runner.run(&(params(), any::<bool>(), any::<bool>()), |(params, check_mode, diff)| {
        check_one(&params, check_mode, diff)
    });
    let _ = std::fs::remove_file(&secret_file().0);
    if let Err(e) = outcome {
        panic!("{e}");
    }
}

fn check_one(params: &Map<String, Value>, check_mode: bool, diff: bool) -> Result<(), TestCaseError> {
    let mut redactor = Redactor::new();
    let execution = execute(Params::new(params.clone()), check_mode, diff, &mut redactor);
    let result = execution.result.to_value(&redactor);

    prop_assert!(result["changed"].is_boolean(), "{result}");
    let failed = result["failed"] == json!(true);
    prop_assert_eq!(failed, execution.result.is_failed());
    if failed {
        let msg = result["msg"].as_str().unwrap_or_default();
        prop_assert!(!msg.trim().is_empty(), "{result}");
    }
    match &execution.failure {
        Some(Failure::Param(e)) => {
            prop_assert!(failed);
            let msg = e.to_string();
            prop_assert!(msg.contains('`') || msg.starts_with("unsupported parameter"), "{msg}");
            prop_assert!(execution.users.is_empty());
        }
        Some(Failure::Username(e)) => {
            prop_assert!(failed);
            prop_assert!(e.to_string().starts_with("parameter `username`"), "{e}");
        }
        Some(Failure::Run(_) | Failure::Start(_) | Failure::Exact(_)) => {
            prop_assert!(failed && result["changed"] == json!(false))
        }
        None => {}
    }

    // Every secret parameter is masked in `invocation`, in `users` items too.
    let args = &result["invocation"]["module_args"];
    prop_assert!(args.is_object());
    for key in secret_params() {
        if params.get(key).is_some_and(|v| !v.is_null()) {
            prop_assert_eq!(&args[key], &json!(NO_LOG_VALUE));
        }
    }
    if let Some(items) = params.get("users").and_then(Value::as_array) {
        for (i, item) in items.iter().enumerate() {
            if item.get("password").is_some_and(|v| !v.is_null()) {
                prop_assert_eq!(&args["users"][i]["password"], &json!(NO_LOG_VALUE));
            }
        }
    }

    // No secret anywhere in the result, nor in the line the module prints.
    let mut texts = Vec::new();
    strings(&result, &mut texts);
    texts.push(execution.result.to_json(&redactor));
    for secret in secrets_of(params) {
        for text in &texts {
            prop_assert!(!text.contains(&secret), "a secret in {text:?}");
        }
    }
    Ok(())
}
