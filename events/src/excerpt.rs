//! Quoting input values in errors, dead-letter reasons, API answers and log fields.
//!
//! A value from outside may be megabytes long or carry line breaks and terminal escapes. Where
//! it is quoted for people, [`excerpt`] shows at most [`EXCERPT_CHARS`] characters of it, with
//! control characters escaped (so a value cannot forge a log line) and, when cut, its full
//! length. The dead letter itself keeps the whole record: that is its purpose; everything
//! that only describes a value quotes an excerpt.

use std::fmt;

/// How many characters of an input value are quoted at most.
pub const EXCERPT_CHARS: usize = 200;

/// A value as quoted for people: see the module documentation.
#[derive(Debug, Clone, Copy)]
pub struct Excerpt<'a> {
    text: &'a str,
}

/// The excerpt of `text`.
pub fn excerpt(text: &str) -> Excerpt<'_> {
    Excerpt { text }
}

impl fmt::Display for Excerpt<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (shown, character) in self.text.chars().enumerate() {
            if shown == EXCERPT_CHARS {
                let total = self.text.chars().count();
                return write!(formatter, "… ({total} characters in all)");
            }
            write_escaped(formatter, character)?;
        }
        Ok(())
    }
}

/// Control characters (C0, DEL, C1) and the Unicode line and paragraph separators are
/// written as escapes; everything else as itself.
fn write_escaped(formatter: &mut fmt::Formatter<'_>, character: char) -> fmt::Result {
    match character {
        '\n' => formatter.write_str("\\n"),
        '\r' => formatter.write_str("\\r"),
        '\t' => formatter.write_str("\\t"),
        '\\' => formatter.write_str("\\\\"),
        _ if character.is_control() || character == '\u{2028}' || character == '\u{2029}' => {
            write!(formatter, "\\u{{{:x}}}", u32::from(character))
        }
        _ => write!(formatter, "{character}"),
    }
}

/// The excerpt of bytes that may not be UTF-8 (invalid sequences shown as U+FFFD).
pub fn excerpt_bytes(bytes: &[u8]) -> String {
    // Only the start is decoded: a character takes four bytes at most.
    let start = &bytes[..bytes.len().min((EXCERPT_CHARS + 1) * 4)];
    let text = String::from_utf8_lossy(start);
    let mut quoted = String::new();
    for character in text.chars().take(EXCERPT_CHARS) {
        quoted.push_str(&excerpt(character.encode_utf8(&mut [0; 4])).to_string());
    }
    if bytes.len() > start.len() || text.chars().count() > EXCERPT_CHARS {
        quoted.push_str(&format!("… ({} bytes in all)", bytes.len()));
    }
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_value_is_quoted_whole() {
        assert_eq!(excerpt("flask").to_string(), "flask");
        assert_eq!(excerpt("").to_string(), "");
    }

    #[test]
    fn a_long_value_is_cut_and_its_length_stated() {
        let long = "é".repeat(2_000_000);
        let quoted = excerpt(&long).to_string();
        assert!(quoted.starts_with(&"é".repeat(EXCERPT_CHARS)), "{quoted:.40}");
        assert!(quoted.ends_with("… (2000000 characters in all)"), "{}", &quoted[quoted.len() - 40..]);
        assert_eq!(quoted.chars().count(), EXCERPT_CHARS + "… (2000000 characters in all)".chars().count());
    }

    #[test]
    fn exactly_the_limit_is_not_cut() {
        let text = "a".repeat(EXCERPT_CHARS);
        assert_eq!(excerpt(&text).to_string(), text);
    }

    #[test]
    fn control_characters_cannot_forge_a_log_line() {
        let quoted = excerpt("a\nlevel=ERROR forged\r\u{0}\u{1b}[31m\u{2028}\\").to_string();
        assert_eq!(quoted, "a\\nlevel=ERROR forged\\r\\u{0}\\u{1b}[31m\\u{2028}\\\\");
        assert!(!quoted.chars().any(char::is_control));
    }

    #[test]
    fn bytes_that_are_not_utf8_are_shown_lossily_with_their_length() {
        assert_eq!(excerpt_bytes(b"ab\xffc"), "ab\u{fffd}c");
        let long = vec![b'x'; 10_000];
        let quoted = excerpt_bytes(&long);
        assert!(quoted.starts_with(&"x".repeat(EXCERPT_CHARS)));
        assert!(quoted.ends_with("… (10000 bytes in all)"), "{quoted}");
    }
}
