//! A users file: the users of a run in a file the binary reads itself (the module's
//! `users_file`, the command-line tool's `ensure FILE`), so that a directory of thousands of
//! people is never templated by Ansible. YAML, JSON, or CSV with a header row; every format
//! gives the same list of items, which the module then reads as it reads `users`. The
//! command-line tool's tokens file, YAML or JSON, is read by the same code.

use std::io::Read;
use std::path::Path;

use ansible_module::Redactor;
use serde_json::{Map, Value};

use crate::params::{self, Scope, PARAMS};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The largest users file read: a million users in CSV are about 50 MiB. A device or a file
/// without end (`/dev/zero`) is refused rather than read until the memory runs out.
const USERS_FILE_MAX: u64 = 256 * 1024 * 1024;

/// How a users file is written, told by its extension (`.csv`, `.json`; anything else YAML,
/// which also reads JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
    Csv,
}

impl Format {
    pub fn of(path: &Path) -> Format {
        match path.extension().and_then(|ext| ext.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("csv") => Format::Csv,
            Some("json") => Format::Json,
            _ => Format::Yaml,
        }
    }
}

/// Reads the users file at `path`, handing each user (an object of user parameters) to `each`
/// as it is read: a CSV file is read row by row, never held whole. Errors name the place (line,
/// column), never a value; they do not repeat the file's name, which the front end gives
/// (`users_file`, the command-line tool's FILE).
pub fn for_each(
    path: &Path,
    redactor: &mut Redactor,
    mut each: impl FnMut(Map<String, Value>, &mut Redactor),
) -> Result<(), String> {
    let format = Format::of(path);
    if format == Format::Csv {
        return csv_each(crate::files::open_regular(path, USERS_FILE_MAX)?, redactor, each);
    }
    let text = read_text(path)?;
    let mut index = 0;
    parse_each(&text, format == Format::Json, &USERS, &mut |user| {
        index += 1;
        match user {
            Value::Object(user) => {
                each(user, redactor);
                Ok(())
            }
            _ => Err(format!("item {} of the list is not a mapping of user parameters", index - 1)),
        }
    })
}

/// A YAML or JSON file of a list, read whole (`-`: standard input): the command-line tool's
/// tokens file, and its users on standard input. Gives the list and the file's name for
/// messages, which errors start with.
pub fn read_list(path: &Path, of: &ListOf) -> Result<(Vec<Value>, String), String> {
    let key = of.key;
    let (text, name) = if path == Path::new("-") {
        let text =
            crate::config::read_stdin().map_err(|e| format!("cannot read the {key} file from standard input: {e}"))?;
        (text, "(standard input)".to_string())
    } else {
        let name = path.display().to_string();
        (read_text(path).map_err(|e| format!("the {key} file {name} {e}"))?, name)
    };
    let list = parse(&text, Format::of(path) == Format::Json, of).map_err(|e| format!("the {key} file {name} {e}"))?;
    Ok((list, name))
}

/// The text of a regular file of at most [`USERS_FILE_MAX`] bytes.
fn read_text(path: &Path) -> Result<String, String> {
    let mut bytes = Vec::new();
    crate::files::open_regular(path, USERS_FILE_MAX)?
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot be read: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()].iter().filter(|b| **b == b'\n').count();
        format!("line {line}: is not UTF-8 text")
    })
}

/// What a file of a list holds: the one key of a mapping holding the list (and the role's
/// variable of that name), and what its items are.
pub struct ListOf {
    key: &'static str,
    role_key: &'static str,
    items: &'static str,
}

pub const USERS: ListOf =
    ListOf { key: "users", role_key: "matrix_user_users", items: "users (each with username, password, ...)" };
pub const TOKENS: ListOf =
    ListOf { key: "tokens", role_key: "matrix_user_registration_tokens", items: "tokens (each with name, ...)" };

impl ListOf {
    fn not_a_list(&self) -> String {
        format!("must be a list of {}", self.items)
    }
}

/// The list a YAML (or, with `json`, strict JSON) file holds: a list, or a mapping whose one key
/// is `of`'s key (or the role's variable) holding that list.
fn parse(text: &str, json: bool, of: &ListOf) -> Result<Vec<Value>, String> {
    let mut users = Vec::new();
    parse_each(text, json, of, &mut |user| {
        users.push(user);
        Ok(())
    })?;
    Ok(users)
}

/// [`parse`], handing each user to `each` as it is parsed: the list is never held whole as a
/// `Value` tree (about 600 bytes a user). Errors name the place, never a value.
fn parse_each(
    text: &str,
    json: bool,
    of: &ListOf,
    each: &mut dyn FnMut(Value) -> Result<(), String>,
) -> Result<(), String> {
    let mut problem = None;
    let seed = UsersSeed { each, problem: &mut problem, of, top: true };
    let parsed = if json {
        let mut parser = serde_json::Deserializer::from_str(text);
        seed.deserialize(&mut parser).and_then(|()| parser.end()).map_err(|e| format!("is not valid JSON: {e}"))
    } else if text.trim().is_empty() {
        Err(of.not_a_list())
    } else {
        seed.deserialize(serde_norway::Deserializer::from_str(text)).map_err(|e| format!("is not valid YAML: {e}"))
    };
    // A problem of ours is said as it is; the parser's error only when it is the parser's.
    match (problem, parsed) {
        (Some(problem), _) => Err(problem),
        (None, parsed) => parsed,
    }
}

/// The list, read item by item; at the top, also the mapping that holds it.
struct UsersSeed<'a> {
    each: &'a mut dyn FnMut(Value) -> Result<(), String>,
    problem: &'a mut Option<String>,
    of: &'a ListOf,
    top: bool,
}

impl UsersSeed<'_> {
    /// Stops the parsing with a problem of ours (never quoting the text there).
    fn fail<E: de::Error>(self, problem: String) -> Result<(), E> {
        *self.problem = Some(problem);
        Err(E::custom("stopped"))
    }

    fn not_a_list<E: de::Error>(self) -> Result<(), E> {
        let problem = match self.top {
            true => self.of.not_a_list(),
            false => format!("`{0}` must be a list of {0}", self.of.key),
        };
        self.fail(problem)
    }
}

impl<'de> DeserializeSeed<'de> for UsersSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, parser: D) -> Result<(), D::Error> {
        parser.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UsersSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "a list of {}", self.of.key)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
        while let Some(user) = items.next_element::<Value>()? {
            if let Err(problem) = (self.each)(user) {
                return self.fail(problem);
            }
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if !self.top {
            return self.not_a_list();
        }
        let UsersSeed { each, problem, of, .. } = self;
        let holds_list = |key: &str| key == of.key || key == of.role_key;
        let mut keys = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if keys.is_empty() && holds_list(&key) {
                map.next_value_seed(UsersSeed { each: &mut *each, problem: &mut *problem, of, top: false })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
            keys.push(key);
        }
        if let [key] = keys.as_slice() {
            if holds_list(key) {
                return Ok(());
            }
        }
        keys.sort();
        *problem = Some(format!(
            "must be a list of {key}, or a mapping with the one key `{key}` (or `{role_key}`) holding that list; \
             found the keys {}",
            keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "),
            key = of.key,
            role_key = of.role_key,
        ));
        Err(de::Error::custom("stopped"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.not_a_list()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.not_a_list()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.not_a_list()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.not_a_list()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.not_a_list()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.not_a_list()
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.not_a_list()
    }
}

/// The columns a CSV header may name: the user parameters.
fn user_columns() -> impl Iterator<Item = &'static str> {
    PARAMS.iter().filter(|p| p.scope == Scope::User).map(|p| p.name)
}

/// A CSV file with a header row naming user parameters, read row by row; an empty cell leaves
/// its parameter unset. Values stay text, read by the module as any text value (`admin: yes`).
/// The cells of a secret column go into `redactor` as they are read.
///
/// Parsed by the `csv` crate: quoting (a password may hold a comma, a quote or a line break),
/// CRLF and a byte-order mark are the format's corners that a split on commas gets wrong.
fn csv_each(
    input: impl std::io::Read,
    redactor: &mut Redactor,
    mut each: impl FnMut(Map<String, Value>, &mut Redactor),
) -> Result<(), String> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(input);
    let header = reader.headers().map_err(|e| csv_error(&e))?.clone();
    let mut columns: Vec<&'static str> = Vec::with_capacity(header.len());
    for (index, name) in header.iter().enumerate() {
        // A header that is not a user parameter is not quoted: a file without a header has a
        // password there.
        let column = user_columns().find(|c| *c == name.trim()).ok_or_else(|| {
            format!(
                "line 1, column {}: not a user parameter; the first row must be a header naming the columns, \
                 from: {}",
                index + 1,
                user_columns().collect::<Vec<_>>().join(", ")
            )
        })?;
        if columns.contains(&column) {
            return Err(format!("line 1, column {}: `{column}` is named twice", index + 1));
        }
        columns.push(column);
    }
    if !columns.contains(&"username") {
        return Err("line 1: the header has no `username` column".to_string());
    }
    let secret: Vec<bool> = columns.iter().map(|c| params::is_secret(c)).collect();
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(|e| csv_error(&e))? {
        let mut user = Map::new();
        for (index, cell) in record.iter().enumerate() {
            if secret[index] {
                redactor.add(cell);
            }
            if !cell.is_empty() {
                user.insert(columns[index].to_string(), Value::String(cell.to_string()));
            }
        }
        each(user, redactor);
    }
    Ok(())
}

/// Where a CSV error is and what it is, without the text there.
fn csv_error(error: &csv::Error) -> String {
    let line = error.position().map(|p| format!("line {}", p.line())).unwrap_or_else(|| "the file".to_string());
    match error.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("{line}: has {len} cells, the header {expected_len}")
        }
        csv::ErrorKind::Utf8 { err, .. } => format!("{line}, column {}: is not UTF-8 text", err.field() + 1),
        csv::ErrorKind::Io(e) => format!("cannot be read: {e}"),
        // What is left carries no text of the file.
        _ => format!("{line}: is not valid CSV"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn csv(text: &str) -> Result<Value, String> {
        csv_with(text.as_bytes(), &mut Redactor::new())
    }

    fn csv_with(bytes: &[u8], redactor: &mut Redactor) -> Result<Value, String> {
        let mut users = Vec::new();
        csv_each(bytes, redactor, |user, _| users.push(Value::Object(user)))?;
        Ok(Value::Array(users))
    }

    #[test]
    fn formats_by_extension() {
        assert_eq!(Format::of(Path::new("people.CSV")), Format::Csv);
        assert_eq!(Format::of(Path::new("people.json")), Format::Json);
        assert_eq!(Format::of(Path::new("people.yaml")), Format::Yaml);
        assert_eq!(Format::of(Path::new("people")), Format::Yaml);
    }

    #[test]
    fn csv_reads_as_the_same_list_as_yaml() {
        let text = "username,password,admin,displayname\r\njohn,\"a,b \"\"c\"\"\nd\",yes,John\nmary,pw2,,\n";
        let yaml = "- {username: john, password: \"a,b \\\"c\\\"\\nd\", admin: 'yes', displayname: John}\n\
                    - {username: mary, password: pw2}\n";
        assert_eq!(csv(text).unwrap(), Value::Array(parse(yaml, false, &USERS).unwrap()));
        // Columns in any order, names padded, a byte-order mark.
        let text = "\u{feff}admin , username\nno,john\n";
        assert_eq!(csv(text).unwrap(), json!([{"username": "john", "admin": "no"}]));
        assert_eq!(csv("username,password\n").unwrap(), json!([]));
    }

    #[test]
    fn secret_cells_are_secrets_as_soon_as_read() {
        let mut redactor = Redactor::new();
        csv_with(b"username,password\njohn,hunter2-long\nmary,\n", &mut redactor).unwrap();
        let mut text = "john's hunter2-long".to_string();
        redactor.redact_str(&mut text);
        assert_eq!(text, "john's ********");
    }

    #[test]
    fn malformed_csv_is_refused_by_place_never_quoting_a_value() {
        for (text, expected) in [
            (&b"username,pasword\njohn,x\n"[..], "line 1, column 2: not a user parameter"),
            // No header: the first row's password is not repeated.
            (b"john,s3cret-pw,yes\n", "line 1, column 1: not a user parameter"),
            (b"username,username\n", "line 1, column 2: `username` is named twice"),
            (b"password,admin\nx,yes\n", "line 1: the header has no `username` column"),
            (b"username,password\njohn,s3cret-pw\nmary,s3cret-pw,extra\n", "line 3: has 3 cells, the header 2"),
            (b"username,password\njohn,s3cret-pw\nmary,s3cret\xff\n", "line 3, column 2: is not UTF-8 text"),
        ] {
            let error = csv_with(text, &mut Redactor::new()).unwrap_err();
            assert!(error.starts_with(expected), "{text:?}: {error}");
            assert!(!error.contains("s3cret") && !error.contains("john"), "{error}");
        }
    }

    #[test]
    fn a_file_is_read_in_its_format() {
        let dir = std::env::temp_dir().join(format!("matrix-user-users-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let read = |name: &str, bytes: &[u8]| {
            let path = dir.join(name);
            std::fs::write(&path, bytes).unwrap();
            let mut users = Vec::new();
            for_each(&path, &mut Redactor::new(), |user, _| users.push(Value::Object(user))).map(|()| users)
        };
        let john = vec![json!({"username": "john", "admin": "yes"})];
        assert_eq!(read("a.csv", b"username,admin\njohn,yes\n").unwrap(), john);
        assert_eq!(read("a.yaml", b"- {username: john, admin: 'yes'}\n").unwrap(), john);
        assert_eq!(read("a.json", br#"{"users": [{"username": "john", "admin": "yes"}]}"#).unwrap(), john);
        assert_eq!(
            read("b.yaml", b"- x\n- 1\n").unwrap_err(),
            "item 0 of the list is not a mapping of user parameters"
        );
        assert_eq!(read("c.yaml", b"- {username: john}\n# \xff\n").unwrap_err(), "line 2: is not UTF-8 text");
        assert!(read("d.json", b"- username: john\n").unwrap_err().starts_with("is not valid JSON"));
        assert_eq!(read("empty.csv", b"").unwrap_err(), "line 1: the header has no `username` column");
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(for_each(&dir.join("gone.csv"), &mut Redactor::new(), |_, _| ())
            .unwrap_err()
            .starts_with("cannot be read"));
        for device in ["/dev/zero", "/dev/null"] {
            let refused = for_each(Path::new(device), &mut Redactor::new(), |_, _| ()).unwrap_err();
            assert_eq!(refused, "is not a regular file", "{device}");
        }
    }

    #[test]
    fn yaml_and_json_lists_or_mappings() {
        let list = json!([{"username": "john"}]);
        for (text, json) in [
            ("- username: john\n", false),
            ("users:\n  - username: john\n", false),
            ("{\"matrix_user_users\": [{\"username\": \"john\"}]}", true),
        ] {
            assert_eq!(Value::Array(parse(text, json, &USERS).unwrap()), list, "{text}");
        }
        let error = parse("people: []\nmore: 1\n", false, &USERS).unwrap_err();
        assert!(error.contains("found the keys `more`, `people`"), "{error}");
        let error = parse("users: [{username: john}]\nmore: 1\n", false, &USERS).unwrap_err();
        assert!(error.contains("found the keys `more`, `users`"), "{error}");
        assert!(parse("[{", true, &USERS).unwrap_err().contains("not valid JSON"));
        assert!(parse("[] x", true, &USERS).unwrap_err().contains("not valid JSON"));
        // What is not a list is not quoted.
        for (text, json) in [("s3cret-pw", false), ("\"s3cret-pw\"", true), ("", false), ("7", true)] {
            assert_eq!(parse(text, json, &USERS).unwrap_err(), USERS.not_a_list(), "{text}");
        }
        for text in ["users: s3cret-pw\n", "users:\n", "users: {a: s3cret-pw}\n"] {
            assert_eq!(parse(text, false, &USERS).unwrap_err(), "`users` must be a list of users", "{text}");
        }
        // The tokens file: the same reading, its own key and words.
        let tokens = parse("matrix_user_registration_tokens: [{name: spring}]\n", false, &TOKENS).unwrap();
        assert_eq!(Value::Array(tokens), json!([{"name": "spring"}]));
        let error = parse("users: []\n", false, &TOKENS).unwrap_err();
        assert!(error.starts_with("must be a list of tokens, or a mapping with the one key `tokens`"), "{error}");
        assert_eq!(parse("tokens: 7\n", false, &TOKENS).unwrap_err(), "`tokens` must be a list of tokens");
    }
}
