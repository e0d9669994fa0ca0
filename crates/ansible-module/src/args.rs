//! The args file: the task's parameters plus Ansible's internal `_ansible_*` keys.

use std::path::Path;

use serde_json::{Map, Value};

use crate::boolean::parse_bool;

/// What Ansible tells the module about the run, from the `_ansible_*` keys.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Internal {
    pub check_mode: bool,
    pub diff: bool,
    /// The module Ansible runs (`_ansible_module_name`): one binary is several modules.
    pub module_name: Option<String>,
}

/// A parsed args file.
#[derive(Debug, Clone)]
pub struct Args {
    pub internal: Internal,
    pub params: Params,
}

/// Why a parameter was refused. Messages name the parameter and what is allowed; they never quote
/// a string value, which might be a secret.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamError {
    #[error("could not read the module arguments: {0}")]
    Unreadable(String),
    #[error("the module arguments must be a JSON object, got {0}")]
    NotAnObject(&'static str),
    #[error("parameter `{name}` is required{why}")]
    Missing { name: String, why: String },
    #[error("parameter `{name}`: expected {expected}, got {got}")]
    WrongType { name: String, expected: &'static str, got: String },
    #[error("parameter `{name}`: {problem}")]
    Invalid { name: String, problem: String },
    #[error("unsupported parameter{}: {}; supported: {}", if .names.len() > 1 { "s" } else { "" }, .names.join(", "), .supported.join(", "))]
    Unsupported { names: Vec<String>, supported: Vec<String> },
}

impl ParamError {
    pub fn invalid(name: &str, problem: impl Into<String>) -> Self {
        ParamError::Invalid { name: name.to_string(), problem: problem.into() }
    }

    pub fn missing(name: &str, why: impl Into<String>) -> Self {
        ParamError::Missing { name: name.to_string(), why: why.into() }
    }
}

impl Args {
    /// Reads and splits the args file Ansible passed as the module's only argument.
    pub fn from_file(path: &Path) -> Result<Args, ParamError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| ParamError::Unreadable(format!("{}: {e}", path.display())))?;
        Args::from_json(&text)
    }

    pub fn from_json(text: &str) -> Result<Args, ParamError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| ParamError::Unreadable(format!("not valid JSON ({e})")))?;
        Args::from_value(value)
    }

    pub fn from_value(value: Value) -> Result<Args, ParamError> {
        let Value::Object(map) = value else {
            return Err(ParamError::NotAnObject(type_name(&value)));
        };
        let (internal, params): (Map<String, Value>, Map<String, Value>) =
            map.into_iter().partition(|(k, _)| k.starts_with("_ansible_"));
        let flag = |key: &str| internal.get(key).and_then(parse_bool).unwrap_or(false);
        Ok(Args {
            internal: Internal {
                check_mode: flag("_ansible_check_mode"),
                diff: flag("_ansible_diff"),
                module_name: internal.get("_ansible_module_name").and_then(Value::as_str).map(str::to_string),
            },
            params: Params::new(params),
        })
    }
}

/// The task's own parameters. Each `take_*` removes a parameter and checks its type; `finish`
/// then refuses whatever was not taken, so a typo in a parameter name is an error, not a no-op.
#[derive(Debug, Clone, Default)]
pub struct Params {
    map: Map<String, Value>,
    taken: Vec<String>,
    /// Set when these are the fields of one list item: errors then name `list[index].field`.
    prefix: String,
}

impl Params {
    pub fn new(map: Map<String, Value>) -> Params {
        Params { map, taken: Vec::new(), prefix: String::new() }
    }

    /// Parameters of one item of a list parameter, whose errors say which item.
    pub fn item(map: Map<String, Value>, list: &str, index: usize) -> Params {
        Params { prefix: format!("{list}[{index}]."), ..Params::new(map) }
    }

    /// The parameters as they were given (before any `take_*`).
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.map
    }

    fn full_name(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn take(&mut self, name: &str) -> Option<Value> {
        self.taken.push(name.to_string());
        match self.map.get(name) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.clone()),
        }
    }

    /// [`Params::take`], moving the value out instead of copying it: for lists, which can be
    /// long (a hundred thousand users). [`Params::as_map`] no longer shows it.
    fn take_out(&mut self, name: &str) -> Option<Value> {
        self.taken.push(name.to_string());
        self.map.remove(name).filter(|value| !value.is_null())
    }

    /// A string. Numbers are accepted and turned into their decimal text, as Ansible does for
    /// `type: str` (an extra var like `password=12345678` may arrive as a number).
    pub fn take_str(&mut self, name: &str) -> Result<Option<String>, ParamError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(self.wrong_type(name, "a string", type_name(&other).to_string())),
        }
    }

    /// An Ansible boolean (yes/no, true/false, on/off, 1/0, any case).
    pub fn take_bool(&mut self, name: &str) -> Result<Option<bool>, ParamError> {
        match self.take(name) {
            None => Ok(None),
            Some(v) => parse_bool(&v)
                .map(Some)
                .ok_or_else(|| self.wrong_type(name, "a boolean (yes/no, true/false, on/off, 1/0)", shown(&v))),
        }
    }

    /// One of a fixed set of words.
    pub fn take_choice(&mut self, name: &str, choices: &[&'static str]) -> Result<Option<&'static str>, ParamError> {
        let Some(s) = self.take_str(name)? else { return Ok(None) };
        choices.iter().copied().find(|c| *c == s).map(Some).ok_or_else(|| {
            let expected = format!("one of {}", choices.join(", "));
            ParamError::Invalid { name: self.full_name(name), problem: format!("expected {expected}, got {s:?}") }
        })
    }

    /// A positive number of seconds (integer or decimal, or a string holding one).
    pub fn take_seconds(&mut self, name: &str) -> Result<Option<f64>, ParamError> {
        let value = self.take(name);
        let number = match &value {
            None => return Ok(None),
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
            Some(_) => None,
        };
        match number {
            Some(x) if x.is_finite() && x >= 0.0 => Ok(Some(x)),
            _ => Err(self.wrong_type(name, "a number of seconds, 0 or more", shown(value.as_ref().unwrap()))),
        }
    }

    /// A positive whole number.
    pub fn take_count(&mut self, name: &str) -> Result<Option<u64>, ParamError> {
        let value = self.take(name);
        let number = match &value {
            None => return Ok(None),
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
            Some(_) => None,
        };
        match number {
            Some(n) if n > 0 => Ok(Some(n)),
            _ => Err(self.wrong_type(name, "a whole number, 1 or more", shown(value.as_ref().unwrap()))),
        }
    }

    /// A list of objects, each returned as its own `Params`.
    pub fn take_object_list(&mut self, name: &str) -> Result<Option<Vec<Params>>, ParamError> {
        let Some(value) = self.take_out(name) else { return Ok(None) };
        let Value::Array(items) = value else {
            return Err(self.wrong_type(name, "a list", type_name(&value).to_string()));
        };
        let list_name = self.full_name(name);
        items
            .into_iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Object(map) => Ok(Params::item(map, &list_name, i)),
                other => Err(ParamError::WrongType {
                    name: format!("{list_name}[{i}]"),
                    expected: "an object",
                    got: type_name(&other).to_string(),
                }),
            })
            .collect::<Result<_, _>>()
            .map(Some)
    }

    /// A list of strings (numbers taken as their text); one string is a list of one.
    pub fn take_str_list(&mut self, name: &str) -> Result<Option<Vec<String>>, ParamError> {
        match self.take_out(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(vec![s])),
            Some(Value::Array(items)) => {
                let list_name = self.full_name(name);
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| match item {
                        Value::String(s) => Ok(s),
                        Value::Number(n) => Ok(n.to_string()),
                        other => Err(ParamError::WrongType {
                            name: format!("{list_name}[{i}]"),
                            expected: "a string",
                            got: type_name(&other).to_string(),
                        }),
                    })
                    .collect::<Result<_, _>>()
                    .map(Some)
            }
            Some(other) => Err(self.wrong_type(name, "a list of strings", type_name(&other).to_string())),
        }
    }

    /// Refuses parameters nobody took, naming them and the supported ones.
    pub fn finish(self) -> Result<(), ParamError> {
        let mut unknown: Vec<String> =
            self.map.keys().filter(|k| !self.taken.contains(k)).map(|k| self.full_name(k)).collect();
        if unknown.is_empty() {
            return Ok(());
        }
        unknown.sort();
        let mut supported = self.taken.clone();
        supported.sort();
        supported.dedup();
        Err(ParamError::Unsupported { names: unknown, supported })
    }

    /// The error for a value of this parameter that is not what is allowed.
    pub fn invalid(&self, name: &str, problem: impl Into<String>) -> ParamError {
        ParamError::invalid(&self.full_name(name), problem)
    }

    /// The error for this parameter being absent.
    pub fn missing(&self, name: &str, why: impl Into<String>) -> ParamError {
        ParamError::missing(&self.full_name(name), why)
    }

    fn wrong_type(&self, name: &str, expected: &'static str, got: String) -> ParamError {
        ParamError::WrongType { name: self.full_name(name), expected, got }
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A short rendering of a non-secret value for an error message.
fn shown(value: &Value) -> String {
    match value {
        Value::String(s) if s.chars().count() <= 40 => format!("{s:?}"),
        Value::Number(n) => n.to_string(),
        other => type_name(other).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn splits_internal_keys_from_parameters() {
        let args = Args::from_value(json!({
            "username": "john",
            "_ansible_check_mode": true,
            "_ansible_diff": "yes",
            "_ansible_verbosity": 3,
            "_ansible_version": "2.19.0",
        }))
        .unwrap();
        assert!(args.internal.check_mode);
        assert!(args.internal.diff);
        assert_eq!(args.params.as_map().keys().collect::<Vec<_>>(), ["username"]);
    }

    #[test]
    fn refuses_what_is_not_an_object() {
        assert_eq!(Args::from_json("[1]").unwrap_err(), ParamError::NotAnObject("a list"));
        assert!(matches!(Args::from_json("{").unwrap_err(), ParamError::Unreadable(_)));
    }

    #[test]
    fn names_unknown_parameters() {
        let mut p = Args::from_value(json!({"username": "a", "pasword": "x"})).unwrap().params;
        p.take_str("username").unwrap();
        p.take_str("password").unwrap();
        let msg = p.finish().unwrap_err().to_string();
        assert_eq!(msg, "unsupported parameter: pasword; supported: password, username");
    }

    #[test]
    fn type_errors_name_the_field_and_hide_strings() {
        let mut p = Params::new(json!({"admin": "maybe", "password": ["x"]}).as_object().unwrap().clone());
        let msg = p.take_bool("admin").unwrap_err().to_string();
        assert_eq!(msg, "parameter `admin`: expected a boolean (yes/no, true/false, on/off, 1/0), got \"maybe\"");
        let msg = p.take_str("password").unwrap_err().to_string();
        assert_eq!(msg, "parameter `password`: expected a string, got a list");
    }

    #[test]
    fn list_items_are_named_by_index() {
        let mut p = Params::new(json!({"users": [{"username": "a"}, {"admin": 3}]}).as_object().unwrap().clone());
        let mut items = p.take_object_list("users").unwrap().unwrap();
        let msg = items[1].take_bool("admin").unwrap_err().to_string();
        assert!(msg.starts_with("parameter `users[1].admin`"), "{msg}");
    }

    #[test]
    fn numbers_and_choices() {
        let mut p = Params::new(
            json!({"password": 12345678, "timeout": "2.5", "update_password": "sometimes", "concurrency": 0})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(p.take_str("password").unwrap().as_deref(), Some("12345678"));
        assert_eq!(p.take_seconds("timeout").unwrap(), Some(2.5));
        let msg = p.take_choice("update_password", &["on_create", "always"]).unwrap_err().to_string();
        assert_eq!(msg, "parameter `update_password`: expected one of on_create, always, got \"sometimes\"");
        assert!(p.take_count("concurrency").is_err());
    }
}
