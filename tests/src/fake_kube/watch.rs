//! `GET .../workflows?watch=true`: a chunked stream of newline-delimited watch events, replayed
//! from the store's history after the requested resource version, then live; `ERROR` 410 when
//! that version is older than the history; bookmarks when allowed; ended by `timeoutSeconds`
//! or the removal of Argo's CRD (cleanly), or by the test (abruptly).

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::time::Instant;

use super::filter::Filter;
use super::query::Params;
use super::state::{OpenWatch, Shared};
use super::status::{self, Failure};
use super::store::Expired;
use super::{API_VERSION, KIND};

/// The annotation that ends the initial events of a streaming list.
const INITIAL_EVENTS_END: &str = "k8s.io/initial-events-end";

/// The longest watch served, whatever `timeoutSeconds` asks (a day; the real default is an hour).
const MAX_TIMEOUT_SECONDS: u64 = 24 * 60 * 60;
/// Bookmarks come no more often than this, whatever the settings say.
const MIN_BOOKMARK_INTERVAL: Duration = Duration::from_millis(10);

/// Answers a watch request on `namespace` (`None`: all namespaces).
pub(crate) fn watch(shared: &Arc<Shared>, namespace: Option<&str>, params: &Params) -> Result<HttpResponse, Failure> {
    let filter = Filter::from_params(namespace, params)?;
    let timeout = match params.number("timeoutSeconds").map_err(|message| status::bad_request(&message))? {
        Some(seconds) if seconds > 0 => Duration::from_secs(seconds.min(MAX_TIMEOUT_SECONDS)),
        _ => shared.settings.default_watch_timeout,
    };
    let bookmarks = params.flag("allowWatchBookmarks");
    let send_initial_events = params.flag("sendInitialEvents");
    if send_initial_events && params.text("resourceVersionMatch") != Some("NotOlderThan") {
        let message = "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan";
        return Err(status::invalid_options("resourceVersionMatch", message));
    }
    if send_initial_events && !bookmarks {
        return Err(status::invalid_options("allowWatchBookmarks", "sendInitialEvents requires allowWatchBookmarks"));
    }
    let from = match params.text("resourceVersion").unwrap_or_default() {
        "" | "0" => None,
        given => match given.parse::<u64>() {
            Ok(revision) => Some(revision),
            Err(_) => return Err(status::bad_request(&format!("resourceVersion: Invalid value: {given:?}"))),
        },
    };

    // Subscribe before reading the store, so that no change after the snapshot goes unnoticed.
    let changes = shared.subscribe_changes();
    let drops = shared.subscribe_drops();
    let mut queue = VecDeque::new();
    let cursor = shared.read(|store| match from {
        Some(revision) if !send_initial_events => revision,
        _ => {
            let current = store.objects_after(None).map(|(_, object)| object).filter(|object| filter.matches(object));
            queue.extend(current.map(|object| event_line("ADDED", object)));
            if send_initial_events {
                queue.push_back(bookmark_line(store.revision(), true));
            }
            store.revision()
        }
    });
    let now = Instant::now();
    let bookmark_interval = shared.settings.bookmark_interval.max(MIN_BOOKMARK_INTERVAL);
    let session = Session {
        shared: Arc::clone(shared),
        filter,
        cursor,
        queue,
        phase: Phase::Streaming,
        deadline: now + timeout,
        bookmarks: bookmarks.then_some(bookmark_interval),
        next_bookmark: now + bookmark_interval,
        changes,
        drops,
        _open: shared.open_watch(),
    };
    let events = futures_util::stream::unfold(session, Session::next_chunk);
    Ok(HttpResponse::Ok().content_type("application/json").streaming(events))
}

/// Where a watch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Streaming,
    /// Ends cleanly once the queue is sent.
    Finished,
    /// Ends abruptly once the queue is sent: the test dropped the watch.
    Dropped,
}

/// One open watch.
struct Session {
    shared: Arc<Shared>,
    filter: Filter,
    /// Every change up to this resource version has been looked at.
    cursor: u64,
    queue: VecDeque<Bytes>,
    phase: Phase,
    deadline: Instant,
    bookmarks: Option<Duration>,
    next_bookmark: Instant,
    changes: watch::Receiver<u64>,
    drops: watch::Receiver<u64>,
    _open: OpenWatch,
}

impl Session {
    /// The next chunk of the response body; `None` ends it cleanly, an error ends it abruptly.
    async fn next_chunk(mut self) -> Option<(Result<Bytes, io::Error>, Self)> {
        loop {
            if let Some(line) = self.queue.pop_front() {
                return Some((Ok(line), self));
            }
            match self.phase {
                Phase::Finished => return None,
                Phase::Dropped => {
                    self.phase = Phase::Finished;
                    return Some((Err(io::Error::other("watch dropped by the test")), self));
                }
                Phase::Streaming => {}
            }
            self.catch_up();
            if self.queue.is_empty() && self.phase == Phase::Streaming {
                self.wait().await;
            }
        }
    }

    /// Queues the selected changes after the cursor, or the 410 `ERROR` when they are forgotten.
    fn catch_up(&mut self) {
        self.changes.borrow_and_update();
        let cursor = self.cursor;
        let outcome = self.shared.read(|store| {
            store.changes_after(cursor).map(|changes| (changes, store.revision(), store.workflows_served()))
        });
        match outcome {
            Err(expired) => {
                self.queue.push_back(expired_line(&expired));
                self.phase = Phase::Finished;
            }
            Ok((changes, revision, served)) => {
                for change in changes {
                    if self.filter.matches(&change.object) {
                        self.queue.push_back(event_line(change.kind.as_str(), &change.object));
                    }
                    self.cursor = change.revision;
                }
                self.cursor = self.cursor.max(revision);
                if !served {
                    // The CRD is gone: the watch ends once its deletions are sent.
                    self.phase = Phase::Finished;
                }
            }
        }
    }

    /// Waits for a change, the timeout, the test dropping watches, or the next bookmark.
    async fn wait(&mut self) {
        let bookmark_due = self.bookmarks.is_some();
        tokio::select! {
            changed = self.changes.changed() => {
                if changed.is_err() {
                    self.phase = Phase::Finished;
                }
            }
            _ = self.drops.changed() => self.phase = Phase::Dropped,
            () = tokio::time::sleep_until(self.deadline) => self.phase = Phase::Finished,
            () = tokio::time::sleep_until(self.next_bookmark), if bookmark_due => {
                self.queue.push_back(bookmark_line(self.cursor, false));
                self.next_bookmark = Instant::now() + self.bookmarks.unwrap_or_default();
            }
        }
    }
}

/// `{"type":…,"object":…}` and a newline.
fn event_line(kind: &str, object: &Value) -> Bytes {
    Bytes::from(format!("{{\"type\":\"{kind}\",\"object\":{object}}}\n"))
}

/// A `BOOKMARK` at `revision`, marking the end of the initial events when `initial_end`.
fn bookmark_line(revision: u64, initial_end: bool) -> Bytes {
    let mut metadata = json!({"resourceVersion": revision.to_string()});
    if initial_end {
        metadata["annotations"] = json!({INITIAL_EVENTS_END: "true"});
    }
    event_line("BOOKMARK", &json!({"kind": KIND, "apiVersion": API_VERSION, "metadata": metadata}))
}

/// The `ERROR` event the API server sends when a watch starts before its history.
fn expired_line(expired: &Expired) -> Bytes {
    let message = format!("too old resource version: {} ({})", expired.requested, expired.oldest);
    event_line("ERROR", &status::body(StatusCode::GONE, "Expired", &message, None))
}
