//! Package index URLs.

use std::fmt;
use std::str::FromStr;

use investigator_events::excerpt::excerpt;

use crate::remote_url::MAX_URL_CHARS;

/// A package index URL in the form the knowledge graph stores: scheme and host lower-case,
/// no trailing `/`, and Thoth's alias applied (`https://pypi.python.org/simple` is
/// `https://pypi.org/simple`). Thoth rewrote only that exact string; folding case and the
/// trailing slash as well keeps `https://PyPI.org/simple/` from becoming a second index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IndexUrl(String);

/// Why a string is not an index URL. The URL is kept as an excerpt (`investigator_events::excerpt`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexUrlError {
    /// Longer than [`MAX_URL_CHARS`].
    #[error("index URL '{url}' is {chars} characters long, more than {MAX_URL_CHARS}")]
    TooLong {
        /// An excerpt of the URL.
        url: String,
        /// Its length.
        chars: usize,
    },
    /// Only `http://` and `https://` URLs name package indexes.
    #[error("index URL '{0}' must start with http:// or https://")]
    Scheme(String),
    /// Nothing between the scheme and the path.
    #[error("index URL '{0}' has no host")]
    NoHost(String),
    /// Whitespace, control characters, a query or a fragment.
    #[error("index URL '{url}' has {what}; an index URL is a plain http(s) address")]
    Character {
        /// The URL as given.
        url: String,
        /// What was found.
        what: &'static str,
    },
}

const ALIASES: &[(&str, &str)] = &[("pypi.python.org", "pypi.org")];

impl IndexUrl {
    /// Validates and normalises an index URL.
    pub fn parse(raw: &str) -> Result<Self, IndexUrlError> {
        let url = raw.trim();
        let quoted = || excerpt(raw).to_string();
        let chars = url.chars().count();
        if chars > MAX_URL_CHARS {
            return Err(IndexUrlError::TooLong { url: quoted(), chars });
        }
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(IndexUrlError::Character { url: quoted(), what: "whitespace or a control character" });
        }
        if url.contains('?') || url.contains('#') {
            return Err(IndexUrlError::Character { url: quoted(), what: "a query or a fragment" });
        }
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(IndexUrlError::Scheme(quoted()));
        };
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(IndexUrlError::Scheme(quoted()));
        }
        let (host, path) = rest.split_once('/').map_or((rest, ""), |(host, path)| (host, path));
        if host.is_empty() {
            return Err(IndexUrlError::NoHost(quoted()));
        }
        let host = host.to_ascii_lowercase();
        let host = ALIASES.iter().find(|(alias, _)| *alias == host).map_or(host.as_str(), |(_, canonical)| canonical);
        let path = path.trim_end_matches('/');
        let normalized =
            if path.is_empty() { format!("{scheme}://{host}") } else { format!("{scheme}://{host}/{path}") };
        Ok(IndexUrl(normalized))
    }

    /// The normalised URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IndexUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for IndexUrl {
    type Err = IndexUrlError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        IndexUrl::parse(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalized(raw: &str) -> String {
        IndexUrl::parse(raw).expect("valid").to_string()
    }

    #[test]
    fn the_old_pypi_host_is_an_alias_of_pypi_org() {
        assert_eq!(normalized("https://pypi.python.org/simple"), "https://pypi.org/simple");
        assert_eq!(normalized("https://pypi.org/simple"), "https://pypi.org/simple");
    }

    #[test]
    fn case_of_scheme_and_host_and_trailing_slashes_do_not_make_another_index() {
        assert_eq!(normalized("HTTPS://PyPI.Python.org/simple/"), "https://pypi.org/simple");
        assert_eq!(
            normalized("https://tensorflow.pypi.thoth-station.ninja/index/manylinux2010/AVX2/simple/"),
            "https://tensorflow.pypi.thoth-station.ninja/index/manylinux2010/AVX2/simple"
        );
        assert_eq!(normalized("http://localhost:8080"), "http://localhost:8080");
    }

    #[test]
    fn what_is_not_an_http_index_is_refused() {
        assert_eq!(IndexUrl::parse("pypi.org/simple"), Err(IndexUrlError::Scheme("pypi.org/simple".to_owned())));
        assert_eq!(IndexUrl::parse("ftp://x/simple"), Err(IndexUrlError::Scheme("ftp://x/simple".to_owned())));
        assert_eq!(IndexUrl::parse("https:///simple"), Err(IndexUrlError::NoHost("https:///simple".to_owned())));
        assert!(matches!(IndexUrl::parse("https://pypi.org/sim ple"), Err(IndexUrlError::Character { .. })));
        assert!(matches!(IndexUrl::parse("https://pypi.org/simple?x=1"), Err(IndexUrlError::Character { .. })));
    }

    #[test]
    fn a_long_url_is_refused_and_quoted_as_an_excerpt() {
        let long = format!("https://pypi.org/{}", "a".repeat(MAX_URL_CHARS));
        let error = IndexUrl::parse(&long).expect_err("too long");
        assert!(matches!(error, IndexUrlError::TooLong { chars, .. } if chars == MAX_URL_CHARS + 17));
        assert!(error.to_string().len() < 400, "{error}");
        let injected = IndexUrl::parse("gopher://x\r\nINJECT").expect_err("refused");
        assert!(!injected.to_string().contains('\n'), "{injected}");
    }
}
