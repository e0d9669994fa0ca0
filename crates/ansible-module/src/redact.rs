//! Keeping secrets out of what the module returns.
//!
//! A binary module has no argument spec on the controller, so Ansible cannot mask its `no_log`
//! parameters: the module must do it itself, everywhere in its result.

use std::collections::HashSet;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};
use serde_json::Value;

/// What Ansible puts in place of a `no_log` parameter's value.
pub const NO_LOG_VALUE: &str = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER";

/// What stands in for a secret found inside a longer string.
const MASK: &str = "********";

/// Replaces every known secret in a JSON value: a string that is a secret becomes
/// [`NO_LOG_VALUE`], a secret inside a longer string becomes `********`, as Ansible does.
///
/// All secrets are searched for at once (Aho-Corasick), so a run over thousands of users, each
/// with a password, costs one pass over the output, not one pass per secret.
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    secrets: HashSet<String>,
    /// Built on first use after the last `add`.
    matcher: OnceLock<AhoCorasick>,
}

impl Redactor {
    pub fn new() -> Redactor {
        Redactor::default()
    }

    /// Remembers a secret, along with the forms it takes once escaped in JSON or a URL.
    pub fn add(&mut self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let json = serde_json::to_string(secret).unwrap_or_default();
        let json_inner = json[1..json.len() - 1].to_string();
        let url: String = secret
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        self.secrets.extend([secret.to_string(), json_inner, url]);
        self.matcher = OnceLock::new();
    }

    /// Masks secrets in every string of `value`, keys included.
    pub fn redact(&self, value: &mut Value) {
        match value {
            Value::String(s) => self.redact_str(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact(v)),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (mut key, mut v) in entries {
                    self.redact_str(&mut key);
                    self.redact(&mut v);
                    map.insert(key, v);
                }
            }
            _ => {}
        }
    }

    /// Masks secrets in a piece of text.
    pub fn redact_str(&self, text: &mut String) {
        if self.secrets.is_empty() {
            return;
        }
        if self.secrets.contains(text.as_str()) {
            *text = NO_LOG_VALUE.to_string();
            return;
        }
        let matcher = self.matcher.get_or_init(|| {
            // Longest match first, so a secret that contains another is masked whole.
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&self.secrets)
                .expect("secrets are plain strings")
        });
        if matcher.is_match(text.as_str()) {
            let mut masked = String::with_capacity(text.len());
            matcher.replace_all_with(text, &mut masked, |_, _, out| {
                out.push_str(MASK);
                true
            });
            *text = masked;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_whole_and_partial_matches_everywhere() {
        let mut r = Redactor::new();
        r.add("s3cret");
        let mut v = json!({"a": "s3cret", "b": ["login with s3cret failed"], "s3cret": 1, "n": true});
        r.redact(&mut v);
        assert_eq!(v, json!({"a": NO_LOG_VALUE, "b": ["login with ******** failed"], NO_LOG_VALUE: 1, "n": true}));
    }

    #[test]
    fn masks_escaped_forms() {
        let mut r = Redactor::new();
        r.add("a\"b c");
        let mut text = String::from(r#"body {"p":"a\"b c"} url ?p=a%22b%20c"#);
        r.redact_str(&mut text);
        assert_eq!(text, r#"body {"p":"********"} url ?p=********"#);
    }

    #[test]
    fn ignores_empty_secrets() {
        let mut r = Redactor::new();
        r.add("");
        let mut v = json!({"a": "x"});
        r.redact(&mut v);
        assert_eq!(v, json!({"a": "x"}));
    }
}
