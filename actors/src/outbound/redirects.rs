//! Where a redirect may lead: the same origin as the request (scheme, host and port, so an
//! https request is never sent on over http), at most [`MAX_REDIRECTS`] times. An index's
//! simple API redirects within itself (`/simple/Flask/` to `/simple/flask/`); a redirect
//! to another host would let whoever answers choose what the investigator asks next.

use investigator_events::excerpt::excerpt;
use reqwest::redirect::{Attempt, Policy};

/// Redirects followed at most per request.
pub const MAX_REDIRECTS: usize = 5;

/// Why a redirect was not followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectRefused {
    /// The redirect leads to another scheme, host or port.
    #[error("a redirect from {from} to {to} leaves the origin")]
    OtherOrigin {
        /// The origin asked (an excerpt).
        from: String,
        /// Where the redirect leads (an excerpt).
        to: String,
    },
    /// More than [`MAX_REDIRECTS`].
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooMany,
}

/// The policy of the module documentation.
pub(super) fn same_origin_policy() -> Policy {
    Policy::custom(|attempt| match judge(&attempt) {
        Ok(()) => attempt.follow(),
        Err(refused) => attempt.error(refused),
    })
}

fn judge(attempt: &Attempt<'_>) -> Result<(), RedirectRefused> {
    judge_redirect(attempt.previous(), attempt.url())
}

/// Whether a redirect to `next` may be followed after the URLs of `previous` (the URL first
/// asked, then each redirect's).
pub(super) fn judge_redirect(previous: &[reqwest::Url], next: &reqwest::Url) -> Result<(), RedirectRefused> {
    if previous.len() > MAX_REDIRECTS {
        return Err(RedirectRefused::TooMany);
    }
    let Some(first) = previous.first() else {
        return Ok(());
    };
    let (from, to) = (first.origin(), next.origin());
    if from != to || !from.is_tuple() {
        return Err(RedirectRefused::OtherOrigin {
            from: excerpt(&from.ascii_serialization()).to_string(),
            to: excerpt(&to.ascii_serialization()).to_string(),
        });
    }
    Ok(())
}
