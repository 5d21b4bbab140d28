//! The event log: appending with optimistic concurrency and idempotency, reading by
//! position.
//!
//! Appends happen inside a transaction the caller owns, so that the events, the projections
//! that follow from them and the Kafka offsets commit together or not at all. Every append
//! first takes the lock on `log_head` and holds it until the transaction ends: positions are
//! therefore gapless and handed out in commit order, and a reader following the log by
//! position never skips an event that commits late.

mod append;
mod error;
mod read;
mod types;

pub use append::{append, append_in, lock_head, stream_version};
pub use error::StoreError;
pub use read::{
    PAGE_BYTES, TailFilter, head_position, read_from, read_page, read_stored_from, read_stored_of_type, start_of_last,
};
pub use types::{AppendOutcome, AppendRequest, ExpectedVersion, NewEvent, RecordedEvent, StoredEvent};
