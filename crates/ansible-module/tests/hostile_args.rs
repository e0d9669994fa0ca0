//! Hostile args files: whatever JSON arrives, reading and checking it never panics, every refusal
//! names the parameter, and the result keeps its protocol keys and no secret.

use ansible_module::{Args, ModuleResult, ParamError, Params, Redactor, NO_LOG_VALUE};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use serde_json::{Map, Value};

/// The same cases on every run (CI must be deterministic); `PROPTEST_RNG_SEED` and
/// `PROPTEST_CASES` explore further.
fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if config.rng_seed == RngSeed::Random {
        config.rng_seed = RngSeed::Fixed(0x6d61_7472_6978);
    }
    config.failure_persistence = None;
    config
}

/// Any JSON value, a few levels deep, with strings of any characters.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        prop_oneof!["yes", "no", "on", "off", "1", "0", "true", "2.5", "-1", "", " "].prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,12}", inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const NAMES: &[&str] = &["username", "password", "admin", "timeout", "concurrency", "users", "state", "x"];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_text_is_read_or_refused_without_panic(text in ".{0,200}") {
        if let Ok(args) = Args::from_json(&text) {
            prop_assert!(args.params.as_map().keys().all(|k| !k.starts_with("_ansible_")));
        }
    }

    #[test]
    fn only_objects_are_module_arguments(value in json_value()) {
        let is_object = value.is_object();
        match Args::from_value(value) {
            Ok(_) => prop_assert!(is_object),
            Err(e) => {
                prop_assert!(!is_object);
                prop_assert!(matches!(e, ParamError::NotAnObject(_)));
            }
        }
    }

    /// Every `take_*` on any value either gives a value of its type or an error naming the
    /// parameter; `finish` names every parameter nobody took.
    #[test]
    fn every_refusal_names_the_parameter(
        map in prop::collection::btree_map(prop::sample::select(NAMES).prop_map(str::to_string), json_value(), 0..8),
        extra in prop::collection::btree_map("[a-z_]{1,10}", json_value(), 0..3),
    ) {
        let mut all: Map<String, Value> = map.into_iter().collect();
        for (k, v) in extra {
            all.entry(k).or_insert(v);
        }
        let mut params = Params::new(all.clone());
        let checks: Vec<(&str, Result<(), ParamError>)> = vec![
            ("username", params.take_str("username").map(drop)),
            ("password", params.take_str("password").map(drop)),
            ("admin", params.take_bool("admin").map(drop)),
            ("timeout", params.take_seconds("timeout").map(drop)),
            ("concurrency", params.take_count("concurrency").map(drop)),
            ("state", params.take_choice("state", &["present"]).map(drop)),
        ];
        for (name, check) in checks {
            if let Err(e) = check {
                prop_assert!(e.to_string().contains(&format!("`{name}`")), "{e}");
            }
        }
        match params.take_object_list("users") {
            Ok(Some(items)) => {
                for mut item in items {
                    if let Err(e) = item.take_bool("admin") {
                        prop_assert!(e.to_string().contains("`users["), "{e}");
                    }
                    let _ = item.finish();
                }
            }
            Ok(None) => {}
            Err(e) => prop_assert!(e.to_string().contains("users"), "{e}"),
        }
        let taken = ["username", "password", "admin", "timeout", "concurrency", "state", "users"];
        let unknown: Vec<&String> = all.keys().filter(|k| !taken.contains(&k.as_str())).collect();
        match params.finish() {
            Ok(()) => prop_assert!(unknown.is_empty()),
            Err(ParamError::Unsupported { names, .. }) => {
                prop_assert_eq!(names.len(), unknown.len());
                for name in unknown {
                    prop_assert!(names.contains(name));
                }
            }
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }

    /// However short or odd the secrets, the result keeps `failed`, `changed` and `msg`, and no
    /// string in it holds a secret.
    #[test]
    fn results_keep_their_keys_and_lose_their_secrets(
        secrets in prop::collection::vec("[a-z0-9 \"\\\\%&+]{1,10}", 1..4),
        msg in ".{0,60}",
        extra in json_value(),
    ) {
        let mut redactor = Redactor::new();
        for secret in &secrets {
            redactor.add(secret);
        }
        let mut result = ModuleResult::failed(format!("{msg} {}", secrets.join(" ")));
        result.set("users", Value::Array(vec![extra.clone(), serde_json::json!({"failed": true, "msg": secrets[0]})]));
        let mut args = Map::new();
        args.insert(secrets[0].clone(), extra);
        result.set_invocation(args);
        let value = result.to_value(&redactor);
        prop_assert_eq!(&value["failed"], &Value::Bool(true));
        prop_assert_eq!(&value["changed"], &Value::Bool(false));
        prop_assert!(value["msg"].is_string());
        prop_assert_eq!(&value["users"][1]["failed"], &Value::Bool(true));
        let mut strings = Vec::new();
        collect_strings(&value, &mut strings);
        for secret in &secrets {
            for text in &strings {
                prop_assert!(
                    only_inside_words(text, secret) || "********".contains(secret.as_str()) || NO_LOG_VALUE.contains(secret.as_str()),
                    "{secret:?} in {text:?}"
                );
            }
        }
        // The result is one line of JSON that reads back with the same keys.
        let line = result.to_json(&redactor);
        prop_assert!(!line.contains('\n'));
        let read: Value = serde_json::from_str(&line).unwrap();
        prop_assert_eq!(read.as_object().unwrap().keys().collect::<Vec<_>>(), value.as_object().unwrap().keys().collect::<Vec<_>>());
    }
}

/// Whether `secret` appears in `text` only as part of a longer word, as the mask allows for a
/// secret of fewer than 4 bytes with a letter or digit; any other secret must not appear at all.
fn only_inside_words(text: &str, secret: &str) -> bool {
    let short_word = secret.len() < 4 && secret.chars().any(char::is_alphanumeric);
    text.match_indices(secret).all(|(start, found)| {
        let touches = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        short_word
            && (touches(text[..start].chars().next_back()) || touches(text[start + found.len()..].chars().next()))
    })
}

/// Every string value, and the keys of `invocation` (which are the task's parameter names).
fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(map) => {
            if let Some(Value::Object(args)) = map.get("invocation").and_then(|i| i.get("module_args")) {
                out.extend(args.keys().cloned());
            }
            map.values().for_each(|v| collect_strings(v, out));
        }
        _ => {}
    }
}
