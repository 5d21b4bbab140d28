//! Bytes between a reader and a writer that overlap (import's reading thread and its writes,
//! a replay's reading task and its projections): reading goes ahead only while the pages
//! read and not yet written hold less than a budget. Counting pages is not enough when one
//! event may take tens of MiB; with this, a run of large events is read one at a time, and
//! small ones still overlap as before.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The unit of the budget: permits are MiB.
const MIB: usize = 1024 * 1024;

/// A budget of bytes in flight.
#[derive(Debug, Clone)]
pub(crate) struct InFlight {
    permits: Arc<Semaphore>,
    limit_mib: u32,
}

/// Bytes taken from the budget; they return to it when this is dropped (once the page they
/// stand for is written).
#[derive(Debug)]
pub(crate) struct Reserved {
    permit: Option<OwnedSemaphorePermit>,
    mib: u32,
}

impl InFlight {
    /// A budget of `limit_bytes` (rounded up to whole MiB, at least one).
    pub(crate) fn new(limit_bytes: usize) -> Self {
        let limit_mib = u32::try_from(limit_bytes.div_ceil(MIB).max(1)).unwrap_or(u32::MAX);
        InFlight { permits: Arc::new(Semaphore::new(limit_mib as usize)), limit_mib }
    }

    /// Nothing reserved yet.
    pub(crate) fn none(&self) -> Reserved {
        Reserved { permit: None, mib: 0 }
    }

    /// Adds `bytes` to `reserved`, waiting while the budget is spent. A reservation is never
    /// more than the whole budget: a page larger than the budget waits for every other one
    /// to be written, then goes alone.
    pub(crate) async fn reserve(&self, reserved: &mut Reserved, bytes: usize) {
        let wanted = u32::try_from(bytes.div_ceil(MIB)).unwrap_or(u32::MAX);
        let more = wanted.min(self.limit_mib.saturating_sub(reserved.mib));
        if more == 0 {
            return;
        }
        // The semaphore is never closed, so acquiring only waits.
        let Ok(permit) = Arc::clone(&self.permits).acquire_many_owned(more).await else {
            return;
        };
        reserved.mib += more;
        match &mut reserved.permit {
            Some(held) => held.merge(permit),
            None => reserved.permit = Some(permit),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn reading_waits_while_the_budget_is_spent_and_a_large_page_goes_alone() {
        let budget = InFlight::new(4 * MIB);
        let mut first = budget.none();
        budget.reserve(&mut first, 3 * MIB).await;
        let mut second = budget.none();
        budget.reserve(&mut second, MIB / 2).await;
        let mut large = budget.none();
        let waiting = tokio::time::timeout(Duration::from_millis(50), budget.reserve(&mut large, 100 * MIB)).await;
        assert!(waiting.is_err(), "a page larger than the budget waits for the others");
        drop((first, second));
        let mut large = budget.none();
        tokio::time::timeout(Duration::from_secs(1), budget.reserve(&mut large, 100 * MIB)).await.expect("alone");
        assert_eq!(large.mib, 4);
    }
}
