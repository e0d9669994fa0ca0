//! The one JSON object a module prints.

use serde_json::{json, Map, Value};

use crate::redact::Redactor;

/// A module's result, built up field by field and printed once, with every secret masked.
#[derive(Debug, Clone, Default)]
pub struct ModuleResult {
    fields: Map<String, Value>,
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
        self.fields.insert(key.to_string(), value.into());
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
        self.to_value(redactor).to_string()
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
}
