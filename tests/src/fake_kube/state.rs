//! The state the HTTP handlers and the test's [`FakeKube`](super::FakeKube) handle share: the
//! store, the faults queued by the test, the request log and the signals watches wait on.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use actix_web::http::StatusCode;
use tokio::sync::watch;

use super::store::Store;
use super::{FakeKubeSettings, RecordedRequest};

/// Everything the server knows.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) settings: FakeKubeSettings,
    store: Mutex<Store>,
    faults: Mutex<Faults>,
    requests: Mutex<Vec<RecordedRequest>>,
    /// The latest resource version, sent after every change.
    changes: watch::Sender<u64>,
    /// Bumped to make every open watch end abruptly.
    drops: watch::Sender<u64>,
    open_watches: AtomicUsize,
}

/// Faults the test queued, consumed one per request.
#[derive(Debug, Default)]
struct Faults {
    failures: VecDeque<StatusCode>,
    delays: VecDeque<Duration>,
    creates_failing_after_storing: usize,
}

/// What to do to the next request instead of, or on top of, answering it.
#[derive(Debug)]
pub(crate) struct Plan {
    /// Answer with this status and do nothing else.
    pub(crate) failure: Option<StatusCode>,
    /// Hold the answer back this long.
    pub(crate) delay: Option<Duration>,
}

impl Shared {
    /// An empty server state.
    pub(crate) fn new(settings: FakeKubeSettings) -> Self {
        let store = Store::new(settings.history_limit);
        let (changes, _) = watch::channel(store.revision());
        let (drops, _) = watch::channel(0);
        Shared {
            settings,
            store: Mutex::new(store),
            faults: Mutex::default(),
            requests: Mutex::default(),
            changes,
            drops,
            open_watches: AtomicUsize::new(0),
        }
    }

    /// Reads the store.
    pub(crate) fn read<R>(&self, read: impl FnOnce(&Store) -> R) -> R {
        read(&lock(&self.store))
    }

    /// Changes the store and wakes every watch.
    pub(crate) fn write<R>(&self, write: impl FnOnce(&mut Store) -> R) -> R {
        let (result, revision) = {
            let mut store = lock(&self.store);
            let result = write(&mut store);
            (result, store.revision())
        };
        self.changes.send_replace(revision);
        result
    }

    /// Takes the faults planned for the request being answered.
    pub(crate) fn plan_next_request(&self) -> Plan {
        let mut faults = lock(&self.faults);
        Plan { failure: faults.failures.pop_front(), delay: faults.delays.pop_front() }
    }

    /// Whether the create just stored must be answered 500, as if the answer had been lost.
    pub(crate) fn take_create_failing_after_storing(&self) -> bool {
        let mut faults = lock(&self.faults);
        let fail = faults.creates_failing_after_storing > 0;
        faults.creates_failing_after_storing = faults.creates_failing_after_storing.saturating_sub(1);
        fail
    }

    /// Queues `count` answers with `status`.
    pub(crate) fn fail_next(&self, count: usize, status: StatusCode) {
        lock(&self.faults).failures.extend(std::iter::repeat_n(status, count));
    }

    /// Queues `count` answers held back by `delay`.
    pub(crate) fn delay_next(&self, count: usize, delay: Duration) {
        lock(&self.faults).delays.extend(std::iter::repeat_n(delay, count));
    }

    /// Makes the next `count` successful creates answer 500 after storing.
    pub(crate) fn fail_next_creates_after_storing(&self, count: usize) {
        lock(&self.faults).creates_failing_after_storing += count;
    }

    /// Adds a request to the log.
    pub(crate) fn log(&self, request: RecordedRequest) {
        lock(&self.requests).push(request);
    }

    /// Every request answered so far.
    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.requests).clone()
    }

    /// A receiver that wakes on every change, marked as up to date.
    pub(crate) fn subscribe_changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// A receiver that wakes when the test drops the open watches, marked as up to date.
    pub(crate) fn subscribe_drops(&self) -> watch::Receiver<u64> {
        self.drops.subscribe()
    }

    /// Ends every open watch abruptly.
    pub(crate) fn drop_watches(&self) {
        self.drops.send_modify(|generation| *generation += 1);
    }

    /// Counts a watch as open until the returned guard is dropped.
    pub(crate) fn open_watch(self: &Arc<Self>) -> OpenWatch {
        self.open_watches.fetch_add(1, Ordering::SeqCst);
        OpenWatch { shared: Arc::clone(self) }
    }

    /// How many watches are open.
    pub(crate) fn open_watches(&self) -> usize {
        self.open_watches.load(Ordering::SeqCst)
    }
}

/// One open watch; dropping it closes the count.
#[derive(Debug)]
pub(crate) struct OpenWatch {
    shared: Arc<Shared>,
}

impl Drop for OpenWatch {
    fn drop(&mut self) {
        self.shared.open_watches.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Locks `mutex`; a panic elsewhere while it was held does not stop the fake from answering.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
