//! Ansible's boolean coercion.

use serde_json::Value;

/// Reads a value the way Ansible's `boolean()` does: JSON booleans, the integers 1 and 0, and the
/// strings `yes/no`, `true/false`, `on/off`, `y/n`, `t/f`, `1/0` in any case.
pub fn parse_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_f64() {
            Some(1.0) => Some(true),
            Some(0.0) => Some(false),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" | "on" | "1" | "true" | "t" | "1.0" => Some(true),
            "n" | "no" | "off" | "0" | "false" | "f" | "0.0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_what_ansible_accepts() {
        for yes in ["yes", "YES", "Yes", "true", "True", "on", "ON", "1", "y", "t"] {
            assert_eq!(parse_bool(&json!(yes)), Some(true), "{yes}");
        }
        for no in ["no", "NO", "false", "False", "off", "Off", "0", "n", "f"] {
            assert_eq!(parse_bool(&json!(no)), Some(false), "{no}");
        }
        assert_eq!(parse_bool(&json!(true)), Some(true));
        assert_eq!(parse_bool(&json!(false)), Some(false));
        assert_eq!(parse_bool(&json!(1)), Some(true));
        assert_eq!(parse_bool(&json!(0)), Some(false));
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [json!("maybe"), json!(""), json!(2), json!(null), json!([true]), json!("yess")] {
            assert_eq!(parse_bool(&bad), None, "{bad}");
        }
    }
}
