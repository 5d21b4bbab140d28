//! The `<a>` elements of an HTML page, as PEP 503 simple-API pages use them: no HTML parser
//! dependency for the one element an index page is made of.

/// An `<a>` element of an HTML page: the target, and the text (a file name on a project's
/// PEP 503 page, a project name on the index's root page), both with entities decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct HtmlAnchor {
    /// The `href` attribute, when the element has one.
    pub(super) href: Option<String>,
    /// The text between `<a …>` and `</a>`, trimmed.
    pub(super) text: String,
}

/// The `<a>` elements of an HTML page, in order. Tag and attribute names in any case,
/// attribute values quoted either way or not at all; an element left open at the end of the
/// page is not counted.
pub(super) fn html_anchors(body: &str) -> Vec<HtmlAnchor> {
    // ASCII lower-casing keeps every byte offset, so positions found in `lower` index `body`.
    let lower = body.to_ascii_lowercase();
    let mut anchors = Vec::new();
    let mut position = 0;
    while let Some(found) = lower[position..].find("<a") {
        let after_name = position + found + "<a".len();
        position = after_name;
        let starts_attributes = lower[after_name..].starts_with(|next: char| next.is_ascii_whitespace() || next == '>');
        if !starts_attributes {
            continue; // `<abbr>` and the like
        }
        let Some(tag_end) = tag_end(&lower, after_name) else {
            break;
        };
        let text_start = tag_end + 1;
        let Some(text_length) = lower[text_start..].find("</a") else {
            break;
        };
        let text_end = text_start + text_length;
        anchors.push(HtmlAnchor {
            href: attribute(&body[after_name..tag_end], "href").map(decode_entities),
            text: decode_entities(body[text_start..text_end].trim()),
        });
        position = text_end;
    }
    anchors
}

/// The offset of the `>` closing the tag whose attributes start at `from`, outside quotes.
fn tag_end(lower: &str, from: usize) -> Option<usize> {
    let mut quote = None;
    for (offset, &byte) in lower.as_bytes().get(from..)?.iter().enumerate() {
        match (quote, byte) {
            (None, b'"' | b'\'') => quote = Some(byte),
            (None, b'>') => return Some(from + offset),
            (Some(open), _) if open == byte => quote = None,
            _ => {}
        }
    }
    None
}

/// The raw value of the attribute `wanted` (lower-case) in a tag's attribute text.
fn attribute<'a>(attributes: &'a str, wanted: &str) -> Option<&'a str> {
    let mut rest = attributes;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
        if rest.is_empty() {
            return None;
        }
        let name_end = rest.find(|c: char| c.is_ascii_whitespace() || c == '=' || c == '/').unwrap_or(rest.len());
        let name = &rest[..name_end];
        rest = rest[name_end..].trim_start();
        let Some(after_equals) = rest.strip_prefix('=') else {
            if name.eq_ignore_ascii_case(wanted) {
                return Some("");
            }
            continue;
        };
        rest = after_equals.trim_start();
        let value;
        if let Some(quote) = rest.chars().next().filter(|first| matches!(first, '"' | '\'')) {
            let quoted = &rest[1..];
            let value_end = quoted.find(quote).unwrap_or(quoted.len());
            value = &quoted[..value_end];
            rest = quoted.get(value_end + 1..).unwrap_or("");
        } else {
            let value_end = rest.find(|c: char| c.is_ascii_whitespace()).unwrap_or(rest.len());
            value = &rest[..value_end];
            rest = &rest[value_end..];
        }
        if name.eq_ignore_ascii_case(wanted) {
            return Some(value);
        }
    }
}

/// HTML character references decoded: the named ones an index page uses, and numeric ones.
/// Anything else is kept as written.
fn decode_entities(text: &str) -> String {
    let mut decoded = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(ampersand) = rest.find('&') {
        decoded.push_str(&rest[..ampersand]);
        rest = &rest[ampersand..];
        let reference = rest.find(';').map(|semicolon| (&rest[1..semicolon], semicolon + 1));
        let character = reference.and_then(|(name, length)| {
            let character = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let number = name.strip_prefix('#')?;
                    let code = match number.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => number.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            };
            character.map(|character| (character, length))
        });
        match character {
            Some((character, length)) => {
                decoded.push(character);
                rest = &rest[length..];
            }
            None => {
                decoded.push('&');
                rest = &rest[1..];
            }
        }
    }
    decoded.push_str(rest);
    decoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_read_attributes_in_any_case_and_quoting_with_entities_decoded() {
        let body = r#"<A data-requires-python=">=3.6" HREF='/p/a-1.0.tar.gz#sha256=ab'>a-1.0.tar.gz</A>
            <abbr>not an anchor</abbr><a href=/p/b&amp;c>b&amp;c &#x41;&#66;</a><a name="x">no target</a><a href="open">"#;
        let anchors = html_anchors(body);
        let found: Vec<(Option<&str>, &str)> =
            anchors.iter().map(|anchor| (anchor.href.as_deref(), anchor.text.as_str())).collect();
        assert_eq!(
            found,
            [(Some("/p/a-1.0.tar.gz#sha256=ab"), "a-1.0.tar.gz"), (Some("/p/b&c"), "b&c AB"), (None, "no target")],
            "a `>` inside a quoted value does not end the tag; an element left open is not counted"
        );
    }

    #[test]
    fn unknown_or_broken_references_are_kept_as_written() {
        assert_eq!(decode_entities("a &unknown; & b &#xZZ;"), "a &unknown; & b &#xZZ;");
    }
}
