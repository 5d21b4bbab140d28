//! What PostgreSQL cannot store: a NUL character in text or JSONB (`\u0000` is refused with
//! SQLSTATE 22P05, a NUL byte with 22021). JSON carries one only as the escape `\u0000`
//! inside a string (raw control characters are not JSON), so a document can be checked on its
//! bytes, cheaply, before anything is decoded into values that would reach the database.

/// Whether the JSON bytes hold a `\u0000` escape inside a string (a `\` that is not itself
/// escaped, followed by `u0000`).
pub fn has_nul_escape(json: &[u8]) -> bool {
    let pattern = b"u0000";
    let mut from = 0;
    while let Some(found) = json[from..].windows(pattern.len()).position(|window| window == pattern) {
        let at = from + found;
        let backslashes = json[..at].iter().rev().take_while(|byte| **byte == b'\\').count();
        if backslashes % 2 == 1 {
            return true;
        }
        from = at + 1;
    }
    false
}

/// The path (`a.b[2]`) of the first string or key holding a NUL character in a JSON
/// document, when there is one (`.` for the document itself).
pub fn nul_path(json: &[u8]) -> Option<String> {
    if !has_nul_escape(json) {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(json).ok()?;
    find(&value, ".")
}

fn find(value: &serde_json::Value, path: &str) -> Option<String> {
    let join = |key: &str| if path == "." { key.to_owned() } else { format!("{path}.{key}") };
    match value {
        serde_json::Value::String(text) => text.contains('\0').then(|| path.to_owned()),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(index, item)| find(item, &format!("{path}[{index}]")))
        }
        serde_json::Value::Object(object) => object.iter().find_map(|(key, item)| {
            if key.contains('\0') { Some(join(&key.replace('\0', "\\u0000"))) } else { find(item, &join(key)) }
        }),
        _ => None,
    }
}

/// The reason given for a value PostgreSQL cannot store.
pub const NUL_REASON: &str = "contains a NUL character (\\u0000), which the knowledge graph cannot store";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_escaped_nul_is_found_and_an_escaped_backslash_before_u0000_is_not() {
        assert!(has_nul_escape(br#"{"a": "x\u0000y"}"#));
        assert!(has_nul_escape(br#"{"a": "\\\u0000"}"#));
        assert!(!has_nul_escape(br#"{"a": "\\u0000"}"#), "a backslash, then the text u0000");
        assert!(!has_nul_escape(br#"{"a": "u0000"}"#));
        assert!(!has_nul_escape(b""));
    }

    #[test]
    fn the_path_names_the_string_or_key_at_fault() {
        assert_eq!(nul_path(br#"{"a": {"b": ["ok", "x\u0000"]}}"#).as_deref(), Some("a.b[1]"));
        assert_eq!(nul_path(br#"{"k\u0000": 1}"#).as_deref(), Some("k\\u0000"));
        assert_eq!(nul_path(br#""\u0000""#).as_deref(), Some("."));
        assert_eq!(nul_path(br#"{"a": "\\u0000"}"#), None);
    }
}
