//! Keeping secrets out of what the module returns.
//!
//! A binary module has no argument spec on the controller, so Ansible cannot mask its `no_log`
//! parameters: the module must do it itself, everywhere in its result.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};
use serde_json::Value;

/// What Ansible puts in place of a `no_log` parameter's value.
pub const NO_LOG_VALUE: &str = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER";

/// What stands in for a secret found inside a longer string.
const MASK: &str = "********";

/// Secrets shorter than this many bytes that hold a letter or digit are masked only as whole
/// words, where no letter or digit touches them (a one-letter password must not turn
/// `example.com` into `e********ample.com`); longer ones wherever they appear.
const SHORT: usize = 4;

/// Replaces every known secret in a JSON value: a string that is a secret becomes
/// [`NO_LOG_VALUE`], a secret inside a longer string becomes `********`, as Ansible does.
///
/// Each secret is searched for in every form it takes once escaped for JSON, a URL, a form or
/// HTML, so a server that echoes a request cannot carry it out in another dress.
/// All secrets are searched for at once (Aho-Corasick), so a run over thousands of users, each
/// with a password, costs one pass over the output, not one pass per secret.
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    /// Each form of each secret, and whether it is short (masked only as a whole word).
    forms: HashMap<String, bool>,
    /// Built on first use after the last `add`: the matcher, and whether each pattern is short.
    matcher: OnceLock<(AhoCorasick, Vec<bool>)>,
}

impl Redactor {
    pub fn new() -> Redactor {
        Redactor::default()
    }

    /// Remembers a secret, along with the forms it takes once escaped.
    pub fn add(&mut self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        // Punctuation has no words to be part of: a short secret of it is masked wherever it is.
        let short = secret.len() < SHORT && secret.chars().any(char::is_alphanumeric);
        for form in forms(secret) {
            self.forms.entry(form).or_insert(short);
        }
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
        if let Cow::Owned(masked) = self.masked(text) {
            *text = masked;
        }
    }

    /// `text` with its secrets masked; borrowed, not copied, when it holds none (a result is
    /// masked as it is written).
    pub fn masked<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if self.forms.is_empty() {
            return Cow::Borrowed(text);
        }
        if self.forms.contains_key(text) {
            return Cow::Owned(NO_LOG_VALUE.to_string());
        }
        let (matcher, short) = self.matcher.get_or_init(|| {
            let (patterns, short): (Vec<&String>, Vec<bool>) = self.forms.iter().map(|(f, s)| (f, *s)).unzip();
            // Longest match first, so a secret that contains another is masked whole.
            let matcher = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(patterns)
                .expect("secrets are plain strings");
            (matcher, short)
        });
        if !matcher.is_match(text) {
            return Cow::Borrowed(text);
        }
        let mut masked = String::with_capacity(text.len());
        let whole_word = |start: usize, end: usize| {
            !text[..start].chars().next_back().is_some_and(char::is_alphanumeric)
                && !text[end..].chars().next().is_some_and(char::is_alphanumeric)
        };
        matcher.replace_all_with(text, &mut masked, |found, matched, out| {
            if short[found.pattern().as_usize()] && !whole_word(found.start(), found.end()) {
                out.push_str(matched);
            } else {
                out.push_str(MASK);
            }
            true
        });
        Cow::Owned(masked)
    }
}

/// A secret as it reads once escaped in JSON (as serde writes it, and with every non-ASCII
/// character as `\uXXXX`), in a URL or form (`%XX` in either case, `+` for a space), and in HTML.
fn forms(secret: &str) -> HashSet<String> {
    let json = serde_json::to_string(secret).unwrap_or_default();
    let mut forms = HashSet::from([secret.to_string(), json[1..json.len() - 1].to_string()]);
    for upper in [false, true] {
        let unicode: String = json[1..json.len() - 1]
            .encode_utf16()
            .map(|unit| match char::from_u32(unit.into()) {
                Some(c) if c.is_ascii() => c.to_string(),
                _ if upper => format!("\\u{unit:04X}"),
                _ => format!("\\u{unit:04x}"),
            })
            .collect();
        forms.insert(unicode);
        for space in ["%20", "+"] {
            let url: String = secret
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
                    b' ' => space.to_string(),
                    _ if upper => format!("%{b:02X}"),
                    _ => format!("%{b:02x}"),
                })
                .collect();
            forms.insert(url);
        }
    }
    for (quot, apos) in [("&quot;", "&#39;"), ("&#34;", "&#x27;"), ("&quot;", "&apos;")] {
        let html: String = secret
            .chars()
            .map(|c| match c {
                '&' => "&amp;".to_string(),
                '<' => "&lt;".to_string(),
                '>' => "&gt;".to_string(),
                '"' => quot.to_string(),
                '\'' => apos.to_string(),
                c => c.to_string(),
            })
            .collect();
        forms.insert(html);
    }
    forms
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
    fn masks_html_form_and_other_escapes() {
        let mut r = Redactor::new();
        r.add("a\"b&c d\u{e4}'");
        for echoed in [
            "a&quot;b&amp;c d\u{e4}&#39;",
            "a%22b%26c+d%c3%a4%27",
            "a%22b%26c%20d%C3%A4%27",
            "a\\\"b&c d\\u00e4'",
            "a\\\"b&c d\\u00E4'",
        ] {
            let mut text = format!("<p>{echoed}</p>");
            r.redact_str(&mut text);
            assert_eq!(text, "<p>********</p>", "{echoed}");
        }
    }

    #[test]
    fn short_secrets_are_masked_only_as_whole_words() {
        let mut r = Redactor::new();
        r.add("x");
        r.add("e");
        let mut v = json!({"a": "x", "b": "example.com", "c": "password x or e, not ex"});
        r.redact(&mut v);
        assert_eq!(v, json!({"a": NO_LOG_VALUE, "b": "example.com", "c": "password ******** or ********, not ex"}));
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
