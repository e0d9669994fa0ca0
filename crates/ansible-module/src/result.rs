//! The one JSON object a module prints.

use std::io::{self, Write};

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{json, Map, Value};

use crate::redact::Redactor;

/// A module's result, built up field by field and printed once, with every secret masked.
#[derive(Debug, Clone, Default)]
pub struct ModuleResult {
    fields: Map<String, Value>,
    /// Long lists (a result per user of a directory-sized run), each item kept as its JSON
    /// text: a fraction of the memory the same item takes as a `Value`.
    lists: Vec<(String, Vec<Box<str>>)>,
    warnings: Vec<String>,
}

impl ModuleResult {
    /// A successful result.
    pub fn ok(changed: bool, msg: impl Into<String>) -> ModuleResult {
        let mut r = ModuleResult::default();
        r.set("changed", changed);
        r.set("msg", msg.into());
        r
    }

    /// A failed result: Ansible stops the host and shows `msg`.
    pub fn failed(msg: impl Into<String>) -> ModuleResult {
        let mut r = ModuleResult::ok(false, msg);
        r.set("failed", true);
        r
    }

    pub fn set(&mut self, key: &str, value: impl Into<Value>) -> &mut Self {
        self.lists.retain(|(name, _)| name != key);
        self.fields.insert(key.to_string(), value.into());
        self
    }

    /// A list field of many items, each stored as compact JSON text until printed.
    pub fn set_list(&mut self, key: &str, items: impl IntoIterator<Item = Value>) -> &mut Self {
        self.fields.remove(key);
        self.lists.retain(|(name, _)| name != key);
        self.lists.push((key.to_string(), items.into_iter().map(|item| item.to_string().into_boxed_str()).collect()));
        self
    }

    /// Shown by Ansible with `--diff`: JSON values before and after.
    pub fn set_diff(&mut self, before: Value, after: Value) -> &mut Self {
        self.set("diff", json!({"before": before, "after": after}))
    }

    /// `invocation.module_args`, as Ansible's own modules return it.
    pub fn set_invocation(&mut self, module_args: Map<String, Value>) -> &mut Self {
        self.set("invocation", json!({"module_args": module_args}))
    }

    pub fn warn(&mut self, warning: impl Into<String>) -> &mut Self {
        self.warnings.push(warning.into());
        self
    }

    pub fn is_failed(&self) -> bool {
        self.fields.get("failed") == Some(&Value::Bool(true))
    }

    /// The result as JSON, secrets masked: in every value, and in the keys of `invocation` (the
    /// task's parameter names). The module's own keys are left as they are, as Ansible's
    /// `remove_values` leaves them, so that no secret, however short, can disguise `failed` or
    /// `changed` as a key Ansible does not read.
    pub fn to_value(&self, redactor: &Redactor) -> Value {
        let mut fields = self.fields.clone();
        for (key, items) in &self.lists {
            fields.insert(key.clone(), Value::Array(items.iter().map(|item| parse_item(item)).collect()));
        }
        if !self.warnings.is_empty() {
            fields.insert("warnings".into(), json!(self.warnings));
        }
        for (key, value) in fields.iter_mut() {
            if key == "invocation" {
                redactor.redact(value);
            } else {
                redact_values(redactor, value);
            }
        }
        Value::Object(fields)
    }

    /// The line to print on stdout.
    pub fn to_json(&self, redactor: &Redactor) -> String {
        serde_json::to_string(&Printed { result: self, redactor }).expect("a JSON value serialises")
    }

    /// Writes the result as one line of JSON, as [`ModuleResult::to_value`] gives it, masking
    /// each string as it is written: the result is never copied, which for a directory-sized
    /// run would double the memory.
    pub fn write_json(&self, redactor: &Redactor, out: &mut impl Write) -> io::Result<()> {
        let mut writer = io::BufWriter::new(out);
        serde_json::to_writer(&mut writer, &Printed { result: self, redactor })?;
        writer.write_all(b"\n")?;
        writer.flush()
    }
}

/// An item of a list field, as stored by [`ModuleResult::set_list`].
fn parse_item(item: &str) -> Value {
    serde_json::from_str(item).unwrap_or(Value::Null)
}

/// The result as it is printed.
struct Printed<'a> {
    result: &'a ModuleResult,
    redactor: &'a Redactor,
}

impl Serialize for Printed<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let result = self.result;
        let warnings = (!result.warnings.is_empty()).then(|| json!(result.warnings));
        // In key order, as a `Map` (sorted) prints them.
        let mut keys: Vec<&str> = result.fields.keys().map(String::as_str).collect();
        keys.extend(result.lists.iter().map(|(key, _)| key.as_str()));
        keys.extend(warnings.as_ref().map(|_| "warnings"));
        keys.sort_unstable();
        keys.dedup();
        let mut map = serializer.serialize_map(Some(keys.len()))?;
        for key in keys {
            if key == "invocation" {
                // Small, and its keys (the task's parameter names) are masked too.
                let mut invocation = result.fields[key].clone();
                self.redactor.redact(&mut invocation);
                map.serialize_entry(key, &invocation)?;
            } else if let Some((_, items)) = result.lists.iter().find(|(name, _)| name == key) {
                map.serialize_entry(key, &Items { items, redactor: self.redactor })?;
            } else if let Some(value) = result.fields.get(key) {
                map.serialize_entry(key, &Masked { value, redactor: self.redactor })?;
            } else if let Some(warnings) = &warnings {
                map.serialize_entry(key, &Masked { value: warnings, redactor: self.redactor })?;
            }
        }
        map.end()
    }
}

struct Items<'a> {
    items: &'a [Box<str>],
    redactor: &'a Redactor,
}

impl Serialize for Items<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.items.len()))?;
        for item in self.items {
            seq.serialize_element(&Masked { value: &parse_item(item), redactor: self.redactor })?;
        }
        seq.end()
    }
}

/// A value with every string value masked as it is written, its keys left alone (as
/// [`redact_values`] does).
struct Masked<'a> {
    value: &'a Value,
    redactor: &'a Redactor,
}

impl Serialize for Masked<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.value {
            Value::String(text) => serializer.serialize_str(&self.redactor.masked(text)),
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for value in items {
                    seq.serialize_element(&Masked { value, redactor: self.redactor })?;
                }
                seq.end()
            }
            Value::Object(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (key, value) in fields {
                    map.serialize_entry(key, &Masked { value, redactor: self.redactor })?;
                }
                map.end()
            }
            other => other.serialize(serializer),
        }
    }
}

/// Masks secrets in every string value of `value`, leaving its keys alone.
fn redact_values(redactor: &Redactor, value: &mut Value) {
    match value {
        Value::String(s) => redactor.redact_str(s),
        Value::Array(items) => items.iter_mut().for_each(|v| redact_values(redactor, v)),
        Value::Object(map) => map.values_mut().for_each(|v| redact_values(redactor, v)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_and_warnings_shape() {
        let mut r = ModuleResult::failed("no good: hunter2");
        r.warn("careful");
        let mut red = Redactor::new();
        red.add("hunter2");
        let v = r.to_value(&red);
        assert_eq!(v["failed"], json!(true));
        assert_eq!(v["changed"], json!(false));
        assert_eq!(v["msg"], json!("no good: ********"));
        assert_eq!(v["warnings"], json!(["careful"]));
        assert!(r.is_failed());
    }

    #[test]
    fn a_short_secret_leaves_the_module_keys_alone() {
        let mut r = ModuleResult::failed("it failed");
        r.set("users", json!([{"failed": true, "changed": false, "msg": "fail"}]));
        r.set_invocation(json!({"password": "x", "fail": 1}).as_object().unwrap().clone());
        let mut red = Redactor::new();
        red.add("fail");
        let v = r.to_value(&red);
        assert_eq!(v["failed"], json!(true));
        assert_eq!(v["changed"], json!(false));
        assert_eq!(v["msg"], json!("it ********ed"));
        assert_eq!(v["users"], json!([{"failed": true, "changed": false, "msg": crate::NO_LOG_VALUE}]));
        assert_eq!(v["invocation"]["module_args"][crate::NO_LOG_VALUE], json!(1));
    }

    #[test]
    fn the_printed_line_is_the_masked_value() {
        let mut r = ModuleResult::failed("hunter2 failed");
        r.warn("hunter2 again");
        r.set("users", json!(["replaced by the list"]));
        r.set_list("users", [json!({"msg": "hunter2", "n": 1}), json!({"changed": true})]);
        r.set_list("diff", [json!({"before": "x hunter2"})]);
        r.set("diff", json!("replaces the list"));
        r.set_invocation(json!({"password": "hunter2", "hunter2": "key"}).as_object().unwrap().clone());
        let mut red = Redactor::new();
        red.add("hunter2");
        let mut printed = Vec::new();
        r.write_json(&red, &mut printed).unwrap();
        let printed = String::from_utf8(printed).unwrap();
        assert_eq!(printed.trim_end(), r.to_json(&red));
        assert!(printed.ends_with('\n') && !printed.contains("hunter2"), "{printed}");
        let printed: Value = serde_json::from_str(&printed).unwrap();
        assert_eq!(printed, r.to_value(&red));
        assert_eq!(printed["users"], json!([{"msg": crate::NO_LOG_VALUE, "n": 1}, {"changed": true}]));
        assert_eq!(printed["diff"], json!("replaces the list"));
        assert_eq!(printed["invocation"]["module_args"][crate::NO_LOG_VALUE], json!("key"));
    }
}
