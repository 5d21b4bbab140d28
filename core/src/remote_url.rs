//! URLs of services the investigator asks (an index's simple API and warehouse API, an
//! advisory source), as given from outside: checked before they are stored or asked.
//!
//! Only `http` and `https`, with a host, no whitespace or control characters (which could
//! forge a header or a log line), at most [`MAX_URL_CHARS`] characters. Hosts are read the
//! way the HTTP client reads them (the WHATWG rules of the `url` crate), so `http://0x7f.1/`
//! is the address `127.0.0.1` here as it is there.

use std::net::IpAddr;

use investigator_events::excerpt::excerpt;

/// The longest URL accepted, in characters.
pub const MAX_URL_CHARS: usize = 2048;

/// Why a text is not a URL the investigator asks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteUrlError {
    /// Longer than [`MAX_URL_CHARS`].
    #[error("the URL is {chars} characters long, more than {MAX_URL_CHARS}")]
    TooLong {
        /// Its length.
        chars: usize,
    },
    /// Whitespace or a control character.
    #[error("the URL has whitespace or a control character")]
    Character,
    /// Not a URL at all.
    #[error("'{text}' is not a URL: {reason}")]
    Malformed {
        /// An excerpt of the text.
        text: String,
        /// What the parser said.
        reason: String,
    },
    /// A scheme other than `http` and `https`.
    #[error("the URL's scheme is '{scheme}'; only http and https are asked")]
    Scheme {
        /// An excerpt of the scheme.
        scheme: String,
    },
    /// No host.
    #[error("the URL has no host")]
    NoHost,
}

/// Checks `text` (surrounding whitespace ignored) and parses it.
pub fn parse_remote_url(text: &str) -> Result<url::Url, RemoteUrlError> {
    let text = text.trim();
    let chars = text.chars().count();
    if chars > MAX_URL_CHARS {
        return Err(RemoteUrlError::TooLong { chars });
    }
    if text.chars().any(|character| character.is_whitespace() || character.is_control()) {
        return Err(RemoteUrlError::Character);
    }
    let url = url::Url::parse(text)
        .map_err(|error| RemoteUrlError::Malformed { text: excerpt(text).to_string(), reason: error.to_string() })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(RemoteUrlError::Scheme { scheme: excerpt(url.scheme()).to_string() });
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(RemoteUrlError::NoHost);
    }
    Ok(url)
}

/// The address a URL's host is written as, when it is an IP literal (`http://10.0.0.1/`,
/// `http://[::1]/`); `None` for a name, which only resolution turns into addresses.
pub fn literal_address(url: &url::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(address) => Some(IpAddr::V4(address)),
        url::Host::Ipv6(address) => Some(IpAddr::V6(address)),
        url::Host::Domain(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_and_https_urls_with_a_host_are_accepted() {
        let url = parse_remote_url(" https://pypi.org/pypi ").expect("valid");
        assert_eq!(url.as_str(), "https://pypi.org/pypi");
        assert!(parse_remote_url("http://user:secret@mirror.internal:8080/simple").is_ok());
    }

    #[test]
    fn other_schemes_control_characters_and_long_urls_are_refused() {
        assert_eq!(parse_remote_url("gopher://x/"), Err(RemoteUrlError::Scheme { scheme: "gopher".into() }));
        assert_eq!(parse_remote_url("gopher://x\r\nINJECT"), Err(RemoteUrlError::Character));
        assert_eq!(parse_remote_url("https://pypi.org/\u{7f}"), Err(RemoteUrlError::Character));
        assert_eq!(parse_remote_url("file:///etc/passwd"), Err(RemoteUrlError::Scheme { scheme: "file".into() }));
        assert!(matches!(parse_remote_url("pypi.org/simple"), Err(RemoteUrlError::Malformed { .. })));
        assert!(matches!(parse_remote_url("https://"), Err(RemoteUrlError::Malformed { .. } | RemoteUrlError::NoHost)));
        let long = format!("https://pypi.org/{}", "a".repeat(MAX_URL_CHARS));
        assert_eq!(parse_remote_url(&long), Err(RemoteUrlError::TooLong { chars: MAX_URL_CHARS + 17 }));
    }

    #[test]
    fn a_malformed_url_is_quoted_as_an_excerpt() {
        let error = parse_remote_url(&format!("http://[{}", "1".repeat(10_000))).expect_err("malformed");
        assert!(error.to_string().len() < 400, "{error}");
    }

    #[test]
    fn literal_hosts_are_read_as_the_client_reads_them() {
        let address = |text: &str| literal_address(&parse_remote_url(text).expect("valid"));
        assert_eq!(address("http://169.254.169.254/latest/meta-data"), Some("169.254.169.254".parse().expect("ip")));
        assert_eq!(address("http://0x7f.1:8080/"), Some("127.0.0.1".parse().expect("ip")));
        assert_eq!(address("http://2852039166/"), Some("169.254.169.254".parse().expect("ip")));
        assert_eq!(address("http://[::ffff:a9fe:a9fe]/"), Some("::ffff:169.254.169.254".parse().expect("ip")));
        assert_eq!(address("https://pypi.org/simple"), None);
    }
}
