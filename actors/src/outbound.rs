//! The one HTTP client for everything the investigator asks outside: package indexes (the
//! version lister of the pipeline, the learning drivers) and advisory sources (OSV).
//!
//! What an index or a source answers is input from outside, and so is where it sends the
//! client next. Every request made here is bounded:
//! - one deadline per request, connecting, redirects and the whole body included (a server
//!   dripping a byte at a time cannot hold a request open past it);
//! - a maximum body, read in chunks and abandoned at the cap ([`OutboundError::TooLarge`]);
//! - redirects only to the same origin (scheme, host and port: so never https to http), at
//!   most [`MAX_REDIRECTS`] of them ([`redirects`]);
//! - no connection to an address of a [`SpecialRange`](investigator_core::network::SpecialRange)
//!   (loopback, private, link-local with the metadata service...) unless the
//!   [`NetworkAllowance`] allows it: checked on IP literals before asking, and on every
//!   address a name resolves to, by the client's own resolver ([`resolver`]), so a name that
//!   resolves to `169.254.169.254` is refused too.
//!
//! With a proxy configured (`HTTPS_PROXY`, `HTTP_PROXY`), the proxy resolves the names it is
//! asked for, and its own rules apply to them.

mod redirects;
mod resolver;

use std::sync::Arc;
use std::time::Duration;

use investigator_core::network::NetworkAllowance;
use investigator_core::remote_url::{literal_address, parse_remote_url};
use investigator_events::error_chain::{chain, one_line};
use investigator_events::excerpt::excerpt;

pub use redirects::{MAX_REDIRECTS, RedirectRefused};
pub use resolver::AddressRefused;

/// The `Accept` header of simple API requests: PEP 691 JSON preferred, PEP 503 HTML accepted.
pub const SIMPLE_API_ACCEPT: &str = "application/vnd.pypi.simple.v1+json, text/html;q=0.1";

/// Asks remote services, within the bounds of the module documentation. Cheap to clone.
#[derive(Debug, Clone)]
pub struct OutboundClient {
    /// For services whose TLS certificates are checked.
    verifying: reqwest::Client,
    /// For indexes registered with `verify_ssl: false`.
    insecure: reqwest::Client,
    allowance: Arc<NetworkAllowance>,
}

/// One GET.
#[derive(Debug, Clone, Copy)]
pub struct OutboundRequest<'a> {
    /// The `Accept` header.
    pub accept: &'a str,
    /// The whole request, body included, must finish within this.
    pub deadline: Duration,
    /// A body larger than this is not read: the request fails.
    pub max_body_bytes: u64,
    /// Whether the server's TLS certificate is checked.
    pub verify_tls: bool,
}

/// What a server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundAnswer {
    pub status: u16,
    /// The `Content-Type` header, when it is text.
    pub content_type: Option<String>,
    /// The body of a success (2xx); empty for any other status, whose body is not read.
    pub body: Vec<u8>,
}

impl OutboundAnswer {
    /// Whether the status is a success (2xx).
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Why a request got no answer. URLs are quoted as excerpts.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// The URL is not one the client asks (scheme, host, characters, length).
    #[error("{} is not a URL that is asked: {reason}", excerpt(.url))]
    InvalidUrl {
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The URL's host, the addresses its name resolves to, or a redirect is refused.
    #[error("the request to {} is refused: {reason}", excerpt(.url))]
    Refused {
        url: String,
        /// The address range or the redirect at fault.
        reason: String,
    },
    /// No whole answer within the deadline.
    #[error("{} did not answer in full within {deadline:?}", excerpt(.url))]
    Timeout { url: String, deadline: Duration },
    /// The connection failed, or broke before the answer was read.
    #[error("{} could not be reached: {reason}", excerpt(.url))]
    Connect {
        url: String,
        /// The transport's explanation, with its causes.
        reason: String,
    },
    /// The body is larger than the request allows.
    #[error("the answer of {} is larger than {limit} bytes", excerpt(.url))]
    TooLarge { url: String, limit: u64 },
}

impl OutboundError {
    /// The URL asked.
    pub fn url(&self) -> &str {
        match self {
            OutboundError::InvalidUrl { url, .. }
            | OutboundError::Refused { url, .. }
            | OutboundError::Timeout { url, .. }
            | OutboundError::Connect { url, .. }
            | OutboundError::TooLarge { url, .. } => url,
        }
    }

    /// From a transport error: a refusal by the resolver or the redirect policy is told
    /// apart from a failed connection.
    fn from_transport(url: &str, error: &reqwest::Error) -> Self {
        let refusal = chain(error).find_map(|cause| {
            cause
                .downcast_ref::<AddressRefused>()
                .map(ToString::to_string)
                .or_else(|| cause.downcast_ref::<RedirectRefused>().map(ToString::to_string))
        });
        match refusal {
            Some(reason) => OutboundError::Refused { url: url.to_owned(), reason },
            None => OutboundError::Connect { url: url.to_owned(), reason: one_line(error) },
        }
    }
}

impl OutboundClient {
    /// A client that connects to special addresses only as `allowance` allows.
    pub fn new(allowance: NetworkAllowance) -> Result<Self, reqwest::Error> {
        let allowance = Arc::new(allowance);
        let builder = || {
            reqwest::Client::builder()
                .user_agent(concat!("thoth-investigator/", env!("CARGO_PKG_VERSION")))
                .redirect(redirects::same_origin_policy())
                .dns_resolver(Arc::new(resolver::GuardedResolver::new(Arc::clone(&allowance))))
        };
        Ok(OutboundClient {
            verifying: builder().build()?,
            insecure: builder().danger_accept_invalid_certs(true).build()?,
            allowance,
        })
    }

    /// What the client may connect to.
    pub fn allowance(&self) -> &NetworkAllowance {
        &self.allowance
    }

    /// GETs `url` within the bounds of `request`. Any status is an answer; only a success's
    /// body is read.
    pub async fn get(&self, url: &str, request: OutboundRequest<'_>) -> Result<OutboundAnswer, OutboundError> {
        let parsed = parse_remote_url(url)
            .map_err(|error| OutboundError::InvalidUrl { url: url.to_owned(), reason: error.to_string() })?;
        if let Some(address) = literal_address(&parsed) {
            self.allowance
                .check(address)
                .map_err(|denied| OutboundError::Refused { url: url.to_owned(), reason: denied.to_string() })?;
        }
        let client = if request.verify_tls { &self.verifying } else { &self.insecure };
        let exchange = async {
            let response = client
                .get(parsed)
                .header(reqwest::header::ACCEPT, request.accept)
                .send()
                .await
                .map_err(|error| OutboundError::from_transport(url, &error))?;
            read_answer(url, response, request.max_body_bytes).await
        };
        match tokio::time::timeout(request.deadline, exchange).await {
            Ok(answer) => answer,
            Err(_) => Err(OutboundError::Timeout { url: url.to_owned(), deadline: request.deadline }),
        }
    }
}

/// The status, and the body of a success, refused beyond `max_body_bytes`.
async fn read_answer(
    url: &str,
    mut response: reqwest::Response,
    max_body_bytes: u64,
) -> Result<OutboundAnswer, OutboundError> {
    let status = response.status().as_u16();
    let content_type =
        response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).map(str::to_owned);
    tracing::debug!(url = %excerpt(url), status, "answered");
    if !response.status().is_success() {
        return Ok(OutboundAnswer { status, content_type, body: Vec::new() });
    }
    let too_large = || OutboundError::TooLarge { url: url.to_owned(), limit: max_body_bytes };
    if response.content_length().is_some_and(|length| length > max_body_bytes) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|error| OutboundError::from_transport(url, &error))? {
        let length = u64::try_from(body.len() + chunk.len()).unwrap_or(u64::MAX);
        if length > max_body_bytes {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(OutboundAnswer { status, content_type, body })
}

#[cfg(test)]
mod tests;
