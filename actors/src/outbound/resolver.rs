//! The client's name resolver: the system's (`getaddrinfo`, as reqwest's default), with
//! every address the allowance refuses taken out before the client connects. Filtering here,
//! rather than checking a name before asking, leaves no gap between the check and the
//! connection (a name that resolves differently the second time, DNS rebinding).

use std::net::SocketAddr;
use std::sync::Arc;

use investigator_core::network::{DeniedAddress, NetworkAllowance};
use investigator_events::excerpt::excerpt;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Every address a name resolves to is refused.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{host} resolves only to refused addresses; {denied}")]
pub struct AddressRefused {
    /// The name (an excerpt).
    pub host: String,
    /// The first address refused, and why.
    pub denied: DeniedAddress,
}

/// See the module documentation.
#[derive(Debug)]
pub(super) struct GuardedResolver {
    allowance: Arc<NetworkAllowance>,
}

impl GuardedResolver {
    pub(super) fn new(allowance: Arc<NetworkAllowance>) -> Self {
        GuardedResolver { allowance }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allowance = Arc::clone(&self.allowance);
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();

            let mut allowed = Vec::with_capacity(resolved.len());
            let mut first_denied = None;
            for address in resolved {
                match allowance.check(address.ip()) {
                    Ok(()) => allowed.push(address),
                    Err(denied) => {
                        tracing::debug!(host = %excerpt(&host), %denied, "a resolved address is left out");
                        first_denied.get_or_insert(denied);
                    }
                }
            }
            if allowed.is_empty()
                && let Some(denied) = first_denied
            {
                let refused: Box<dyn std::error::Error + Send + Sync> =
                    Box::new(AddressRefused { host: excerpt(&host).to_string(), denied });
                return Err(refused);
            }
            let addresses: Addrs = Box::new(allowed.into_iter());
            Ok(addresses)
        })
    }
}
