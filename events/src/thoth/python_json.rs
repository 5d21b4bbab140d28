//! JSON text exactly as Python's `json.dumps` writes it with its defaults, which is what
//! pydantic v1's `.json()` (and so thoth-messaging) puts on the wire.
//!
//! Three things differ from `serde_json`'s compact output:
//! - separators are `", "` between items and `": "` between a key and its value;
//! - everything outside printable ASCII (`' '..='~'`) is escaped as `\uXXXX` with lower-case
//!   hex, characters beyond the BMP as a UTF-16 surrogate pair, and DEL (0x7f) too;
//! - floats use Python's `repr`: `1.0`, `1e-05`, `1e+16`, `1.2345678901234568e+16`.
//!
//! Key order is the order of the struct fields, and for free-form objects the insertion
//! order (the workspace enables `serde_json/preserve_order`), as with Python dicts.

use std::io;

use serde::Serialize;
use serde_json::ser::Formatter;

/// Serialises `value` the way Python's `json.dumps(value)` would.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::with_capacity(256);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    // The types written here are plain data (strings, numbers, maps with string keys), for
    // which serialisation into memory cannot fail.
    if let Err(error) = value.serialize(&mut serializer) {
        unreachable!("serialising plain data into memory failed: {error}");
    }
    match String::from_utf8(out) {
        Ok(text) => text,
        Err(_) => unreachable!("the formatter writes ASCII only"),
    }
}

/// A `serde_json` formatter reproducing `json.dumps` with `ensure_ascii=True` and the
/// default separators.
#[derive(Debug, Clone, Copy, Default)]
pub struct PythonFormatter;

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        writer.write_all(python_float_repr(value).as_bytes())
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        self.write_f64(writer, f64::from(value))
    }

    /// serde_json hands over the runs of characters it does not escape itself (it already
    /// escapes quotes, backslashes and control characters the way Python does); what is
    /// left to escape here is DEL and everything outside ASCII.
    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()> {
        let mut plain_start = 0;
        for (index, character) in fragment.char_indices() {
            if character.is_ascii() && character != '\u{7f}' {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[plain_start..index])?;
            let mut units = [0u16; 2];
            for unit in character.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            plain_start = index + character.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[plain_start..])
    }
}

/// Python's `repr(float)`: the shortest digits that round-trip, in positional notation when
/// the decimal exponent is in `-4..16`, otherwise in scientific notation with a signed,
/// at-least-two-digit exponent. Non-finite values are written as `json.dumps` writes them.
pub fn python_float_repr(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if value == 0.0 {
        return if value.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }

    // Rust's `{:e}` also produces the shortest round-trip digits, e.g. "-1.2345e-7".
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((scientific.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let sign = if value.is_sign_negative() { "-" } else { "" };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();

    if (-4..16).contains(&exponent) {
        format!("{sign}{}", positional(&digits, exponent))
    } else {
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{first}{fraction}e{exponent_sign}{:02}", exponent.unsigned_abs())
    }
}

/// Places the decimal point in `digits` (d.ddd × 10^exponent), always keeping one digit
/// after the point as Python does (`100.0`).
fn positional(digits: &str, exponent: i32) -> String {
    if exponent < 0 {
        let leading_zeros = "0".repeat((-exponent - 1) as usize);
        return format!("0.{leading_zeros}{digits}");
    }
    let integer_len = exponent as usize + 1;
    if digits.len() <= integer_len {
        let padding = "0".repeat(integer_len - digits.len());
        format!("{digits}{padding}.0")
    } else {
        let (integer, fraction) = digits.split_at(integer_len);
        format!("{integer}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn separators_and_escapes_follow_python() {
        let value = json!({"a": [1, "é😀\u{7f}\u{1}\"\\\n"], "b": {}, "c": [], "d": null, "e": true});
        assert_eq!(
            to_string(&value),
            r#"{"a": [1, "\u00e9\ud83d\ude00\u007f\u0001\"\\\n"], "b": {}, "c": [], "d": null, "e": true}"#
        );
    }

    #[test]
    fn floats_use_python_repr() {
        let cases = [
            (1.0, "1.0"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (123456789.0, "123456789.0"),
            (1e-4, "0.0001"),
            (1.5e-5, "1.5e-05"),
            (1e16, "1e+16"),
            (12345678901234567.0, "1.2345678901234568e+16"),
            (1e22, "1e+22"),
            (-2.5e-300, "-2.5e-300"),
            (999999999999999.9, "999999999999999.9"),
            (f64::INFINITY, "Infinity"),
        ];
        for (value, expected) in cases {
            assert_eq!(python_float_repr(value), expected, "repr of {value:e}");
        }
    }

    #[test]
    fn insertion_order_of_free_form_objects_is_kept() {
        let value: serde_json::Value = serde_json::from_str(r#"{"z": 1, "a": 2, "m": 3}"#).expect("valid json");
        assert_eq!(to_string(&value), r#"{"z": 1, "a": 2, "m": 3}"#);
    }
}
