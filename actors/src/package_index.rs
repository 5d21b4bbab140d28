//! Python package indexes: what one holds, through the investigator's one outbound client.
//! Each project's files by version, from the warehouse JSON API (`{warehouse}/{name}/json`)
//! or the simple API (PEP 691 JSON, or PEP 503 HTML), and the names of every project the
//! index lists. The learning drivers ask it directly; the pipeline's version lister
//! (`pipeline::listing`) keeps a short cache on top.
//!
//! Boundary: a slow, failing or garbled index is an error, never an answer. Only an HTTP 404
//! or 410 says a project is absent ([`ProjectListing::NotFound`]); a timeout, a refused
//! connection, any other status or an answer that cannot be read is an [`IndexError`], so
//! that no caller ever takes a package or a version as missing because an index misbehaved.
//! `pages` reads the answers, `html` and `file_names` the pieces they are made of.

mod file_names;
mod html;
mod pages;

use std::collections::BTreeMap;
use std::time::Duration;

use investigator_core::normalize_package_name;
use investigator_events::excerpt::excerpt;

use crate::outbound::{OutboundClient, OutboundError, OutboundRequest, SIMPLE_API_ACCEPT};
use pages::{format_of, parse_simple_project, parse_simple_root, parse_warehouse_project};

/// The largest answer read by default; a bigger one is refused as malformed.
const DEFAULT_MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;

/// Where to ask about one index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEndpoint {
    /// The simple API's root, without a trailing slash (`https://pypi.org/simple`).
    pub url: String,
    /// The warehouse JSON API's root, when the index has one (`https://pypi.org/pypi`).
    pub warehouse_api_url: Option<String>,
    /// Whether the index's TLS certificate is checked.
    pub verify_ssl: bool,
}

/// What an index says about one project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectListing {
    /// The index answered 404 or 410: it does not have the project.
    NotFound,
    /// The index has the project.
    Found(Project),
}

/// A project's files on an index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Project {
    /// PEP 440 normalised version -> its files. A version whose text is not PEP 440 is left
    /// out; a version without files (the warehouse API, PEP 700 `versions`) is kept, empty.
    pub versions: BTreeMap<String, Vec<Artifact>>,
}

/// One distribution file of a release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// The file name, as the index gives it.
    pub filename: String,
    /// The SHA-256 digest the index gives, as 64 lower-case hex digits; `None` when the index
    /// gives none, or something that is not a SHA-256 digest.
    pub sha256: Option<String>,
}

/// Why an index could not be asked, or its answer not read.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// No whole answer within the client's timeout.
    #[error("the index did not answer {} in time", excerpt(.url))]
    Timeout { url: String },
    /// The index could not be reached, or the connection failed before the answer was read.
    #[error("the index could not be reached")]
    Connect(#[source] OutboundError),
    /// The request was not made, or a redirect not followed: the URL, the addresses it
    /// resolves to, or the redirect's target are refused (`investigator_actors::outbound`).
    #[error("the request to {} is refused: {reason}", excerpt(.url))]
    Refused {
        url: String,
        /// Why.
        reason: String,
    },
    /// The index answered with a status that is neither success nor "absent".
    #[error("the index answered {} with HTTP status {status}", excerpt(.url))]
    Status { url: String, status: u16 },
    /// The answer is not what the API promises (not JSON, not an HTML page, fields missing,
    /// too large).
    #[error("the index's answer to {} could not be read: {reason}", excerpt(.url))]
    Malformed {
        url: String,
        /// What was wrong with the answer.
        reason: String,
    },
}

impl IndexError {
    /// A stable code for the kind of error, for metrics labels.
    pub fn code(&self) -> &'static str {
        match self {
            IndexError::Timeout { .. } => "timeout",
            IndexError::Connect { .. } => "connect",
            IndexError::Refused { .. } => "refused",
            IndexError::Status { .. } => "status",
            IndexError::Malformed { .. } => "malformed",
        }
    }

    /// The URL asked.
    pub fn url(&self) -> &str {
        match self {
            IndexError::Connect(outbound) => outbound.url(),
            IndexError::Timeout { url }
            | IndexError::Refused { url, .. }
            | IndexError::Status { url, .. }
            | IndexError::Malformed { url, .. } => url,
        }
    }

    fn malformed(url: &str, reason: String) -> Self {
        IndexError::Malformed { url: url.to_owned(), reason }
    }
}

impl From<OutboundError> for IndexError {
    fn from(error: OutboundError) -> Self {
        let url = error.url().to_owned();
        match error {
            OutboundError::Timeout { .. } => IndexError::Timeout { url },
            OutboundError::Connect { .. } => IndexError::Connect(error),
            OutboundError::InvalidUrl { reason, .. } | OutboundError::Refused { reason, .. } => {
                IndexError::Refused { url, reason }
            }
            OutboundError::TooLarge { limit, .. } => {
                IndexError::Malformed { url, reason: format!("the answer is larger than {limit} bytes") }
            }
        }
    }
}

/// Asks package indexes about projects, through the investigator's one outbound client.
#[derive(Debug, Clone)]
pub struct IndexClient {
    outbound: OutboundClient,
    timeout: Duration,
    max_body_bytes: u64,
}

/// The parts of a successful answer the parsers need.
struct Answer {
    content_type: Option<String>,
    body: Vec<u8>,
}

/// What one GET came back with.
enum Fetched {
    /// 404 or 410.
    Absent { status: u16 },
    /// A 2xx answer, read whole.
    Answer(Answer),
}

impl IndexClient {
    /// A client whose requests, bodies included, give up after `timeout`, and that reads
    /// answers of up to 64 MiB.
    pub fn new(outbound: OutboundClient, timeout: Duration) -> Self {
        IndexClient { outbound, timeout, max_body_bytes: DEFAULT_MAX_BODY_BYTES }
    }

    /// The same client, refusing answers larger than `max_body_bytes` as malformed.
    pub fn with_max_body_bytes(self, max_body_bytes: u64) -> Self {
        IndexClient { max_body_bytes, ..self }
    }

    /// The files of the project `name` (normalised here, as PEP 503 asks of clients): from the
    /// warehouse JSON API when the endpoint has one, else from the simple API.
    pub async fn project(&self, index: &IndexEndpoint, name: &str) -> Result<ProjectListing, IndexError> {
        let name = normalize_package_name(name);
        if let Some(warehouse) = &index.warehouse_api_url {
            let url = format!("{}/{name}/json", warehouse.trim_end_matches('/'));
            let answer = match self.get(index, &url, "application/json").await? {
                Fetched::Absent { .. } => return Ok(ProjectListing::NotFound),
                Fetched::Answer(answer) => answer,
            };
            return parse_warehouse_project(&answer.body)
                .map(ProjectListing::Found)
                .map_err(|reason| IndexError::malformed(&url, reason));
        }
        let url = format!("{}/{name}/", index.url.trim_end_matches('/'));
        let answer = match self.get(index, &url, SIMPLE_API_ACCEPT).await? {
            Fetched::Absent { .. } => return Ok(ProjectListing::NotFound),
            Fetched::Answer(answer) => answer,
        };
        let format = format_of(answer.content_type.as_deref(), &answer.body);
        parse_simple_project(&name, format, &answer.body)
            .map(ProjectListing::Found)
            .map_err(|reason| IndexError::malformed(&url, reason))
    }

    /// Every project name the index's simple API root lists, PEP 503 normalised, sorted,
    /// without repeats. A 404 here is an error like any other status: the root exists.
    pub async fn project_names(&self, index: &IndexEndpoint) -> Result<Vec<String>, IndexError> {
        let url = format!("{}/", index.url.trim_end_matches('/'));
        let answer = match self.get(index, &url, SIMPLE_API_ACCEPT).await? {
            Fetched::Absent { status } => return Err(IndexError::Status { url, status }),
            Fetched::Answer(answer) => answer,
        };
        let format = format_of(answer.content_type.as_deref(), &answer.body);
        parse_simple_root(format, &answer.body).map_err(|reason| IndexError::malformed(&url, reason))
    }

    /// GETs `url`, reading a successful answer whole (up to the client's limit).
    async fn get(&self, index: &IndexEndpoint, url: &str, accept: &str) -> Result<Fetched, IndexError> {
        let request = OutboundRequest {
            accept,
            deadline: self.timeout,
            max_body_bytes: self.max_body_bytes,
            verify_tls: index.verify_ssl,
        };
        let answer = self.outbound.get(url, request).await?;
        let status = answer.status;
        if status == 404 || status == 410 {
            return Ok(Fetched::Absent { status });
        }
        if !answer.is_success() {
            return Err(IndexError::Status { url: url.to_owned(), status });
        }
        Ok(Fetched::Answer(Answer { content_type: answer.content_type, body: answer.body }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_stable() {
        let url = || "http://index/simple/a/".to_owned();
        let errors = [
            IndexError::Timeout { url: url() },
            IndexError::Connect(OutboundError::Connect { url: url(), reason: "refused".to_owned() }),
            IndexError::Refused { url: url(), reason: "a loopback address".to_owned() },
            IndexError::Status { url: url(), status: 503 },
            IndexError::Malformed { url: url(), reason: "not JSON".to_owned() },
        ];
        let codes: Vec<&str> = errors.iter().map(IndexError::code).collect();
        assert_eq!(codes, ["timeout", "connect", "refused", "status", "malformed"]);
        assert!(errors.iter().all(|error| error.url() == "http://index/simple/a/"));
    }

    #[tokio::test]
    async fn a_closed_port_is_a_connect_error_not_an_absent_project() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let address = listener.local_addr().expect("an address");
        drop(listener);
        let allowance = investigator_core::network::NetworkAllowance::parse("loopback").expect("valid");
        let client = IndexClient::new(OutboundClient::new(allowance).expect("a client"), Duration::from_secs(5));
        let index =
            IndexEndpoint { url: format!("http://{address}/simple"), warehouse_api_url: None, verify_ssl: true };
        let error = client.project(&index, "flask").await.expect_err("no index listens there");
        assert_eq!(error.code(), "connect", "{error}");
        let source = std::error::Error::source(&error).expect("the transport's error is kept as the cause");
        assert!(source.to_string().contains("could not be reached"), "{source}");
        assert_eq!(error.url(), format!("http://{address}/simple/flask/"));
    }
}
