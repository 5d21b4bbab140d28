//! Leases of duties that must run in one replica at a time, kept in
//! `investigator.duty_lease`, and the fence that every write of such a duty passes.
//!
//! Made for pgbouncer in transaction pooling: a lease is a row, never a session (no session
//! advisory lock, nothing prepared across transactions), and every statement runs in its own
//! short transaction. Time is the database's (`now()`), never a replica's clock: two replicas
//! whose clocks disagree still agree on whether a lease has expired.
//!
//! - [`acquire`] takes a duty whose lease is free or expired, raising its generation;
//! - [`renew`] extends it, only for the holder of that generation;
//! - [`release`] ends it at once (a replica stopping), so another takes over without waiting;
//! - [`fence`], inside a duty's write transaction, holds the row shared and fails unless it
//!   still names this holder and generation and has not expired: a replica that lost the lease
//!   without knowing it (paused, cut off) writes nothing, and no other replica can take the
//!   lease between the check and the commit.

use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Transaction};

use crate::{Database, DatabaseError};

/// One holding of a duty's lease: who holds it, and since which taking. Every write the duty
/// makes is fenced by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseToken {
    /// The duty (`investigator.duty_lease.duty`).
    pub duty: String,
    /// The replica holding it.
    pub holder: String,
    /// Raised by one at every taking; a token of an older generation fences nothing.
    pub generation: i64,
}

/// A lease just taken or renewed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldLease {
    /// Who holds it, since which taking.
    pub token: LeaseToken,
    /// When it expires by the database's clock, unless renewed.
    pub expires_at: DateTime<Utc>,
}

/// A row of `investigator.duty_lease`, as `/api/v1/status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRow {
    pub duty: String,
    /// The replica that holds it, or held it last.
    pub holder: String,
    pub generation: i64,
    /// When it was last renewed.
    pub renewed_at: DateTime<Utc>,
    /// When it expires, unless renewed.
    pub expires_at: DateTime<Utc>,
    /// Whether it is still held (`expires_at` is in the future by the database's clock).
    pub held: bool,
}

/// Why a lease could not be taken, renewed or checked.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// The lease no longer names this holder and generation, or has expired: the duty must
    /// stop, and what it was about to write is not written.
    #[error("the lease of duty {duty} is no longer held by {holder} in generation {generation}")]
    Lost {
        duty: String,
        /// The replica that believed it held it.
        holder: String,
        /// The generation it held.
        generation: i64,
    },
    /// A statement failed.
    #[error("the lease table could not be read or written")]
    Database(#[from] tokio_postgres::Error),
    /// No connection.
    #[error(transparent)]
    Connection(#[from] DatabaseError),
}

impl LeaseError {
    /// Whether the lease was lost (as opposed to the database failing to answer).
    pub fn is_lost(&self) -> bool {
        matches!(self, LeaseError::Lost { .. })
    }
}

/// A lease's time to live as PostgreSQL's seconds (fractions allowed).
fn seconds(ttl: Duration) -> f64 {
    ttl.as_secs_f64()
}

/// Takes `duty` for `holder` for `ttl` if no one else holds it (never held, expired, or held
/// by `holder` itself); the new generation is the last one plus one. `None` when another replica
/// holds it. A replica takes its own live lease again at once: it gave it up itself (a renewal
/// answered too late for its deadline) or it is the same pod started again (a stable
/// `INVESTIGATOR_REPLICA_ID`), and the new generation fences whatever its earlier holding had
/// still in flight. So a replica id must name one process at a time (the default, the host's
/// name and the process id, does).
pub async fn acquire(
    database: &Database,
    duty: &str,
    holder: &str,
    ttl: Duration,
) -> Result<Option<HeldLease>, LeaseError> {
    let mut connection = database.connection().await?;
    let transaction = connection.transaction().await?;
    let row = transaction
        .query_opt(
            "INSERT INTO investigator.duty_lease AS lease \
                 (duty, holder, generation, acquired_at, renewed_at, expires_at) \
             VALUES ($1, $2, 1, now(), now(), now() + $3::float8 * interval '1 second') \
             ON CONFLICT (duty) DO UPDATE \
                 SET holder = EXCLUDED.holder, generation = lease.generation + 1, acquired_at = now(), \
                     renewed_at = now(), expires_at = EXCLUDED.expires_at \
                 WHERE lease.expires_at <= now() OR lease.holder = EXCLUDED.holder \
             RETURNING generation, expires_at",
            &[&duty, &holder, &seconds(ttl)],
        )
        .await?;
    // The row holds its statement: read before the commit, so the statement is closed inside
    // the transaction (behind a pooler, a statement closed after it stays on the server).
    let held = row.map(|row| HeldLease {
        token: LeaseToken { duty: duty.to_owned(), holder: holder.to_owned(), generation: row.get(0) },
        expires_at: row.get(1),
    });
    transaction.commit().await?;
    Ok(held)
}

/// Extends `token`'s lease to `ttl` from now; `None` when it is no longer held by it (expired,
/// or taken by another replica).
pub async fn renew(database: &Database, token: &LeaseToken, ttl: Duration) -> Result<Option<HeldLease>, LeaseError> {
    let mut connection = database.connection().await?;
    let transaction = connection.transaction().await?;
    let row = transaction
        .query_opt(
            "UPDATE investigator.duty_lease \
             SET renewed_at = now(), expires_at = now() + $4::float8 * interval '1 second' \
             WHERE duty = $1 AND holder = $2 AND generation = $3 AND expires_at > now() \
             RETURNING expires_at",
            &[&token.duty, &token.holder, &token.generation, &seconds(ttl)],
        )
        .await?;
    // Read before the commit, as in `acquire`.
    let held = row.map(|row| HeldLease { token: token.clone(), expires_at: row.get(0) });
    transaction.commit().await?;
    Ok(held)
}

/// Ends `token`'s lease now, so another replica can take the duty at once; whether it was
/// still held.
pub async fn release(database: &Database, token: &LeaseToken) -> Result<bool, LeaseError> {
    let mut connection = database.connection().await?;
    let transaction = connection.transaction().await?;
    let released = transaction
        .execute(
            "UPDATE investigator.duty_lease SET expires_at = now() \
             WHERE duty = $1 AND holder = $2 AND generation = $3 AND expires_at > now()",
            &[&token.duty, &token.holder, &token.generation],
        )
        .await?;
    transaction.commit().await?;
    Ok(released == 1)
}

/// The fence of a duty's write: call it in the write's transaction, before the commit (last,
/// so the row is held only briefly: the holder's own renewal waits for it). It holds the lease
/// row shared until the transaction ends (a taking by another replica waits for the commit),
/// and fails with [`LeaseError::Lost`] unless the row still names `token`'s holder and
/// generation and has not expired; the caller then rolls back (drops the transaction) and stops
/// the duty.
pub async fn fence(transaction: &Transaction<'_>, token: &LeaseToken) -> Result<(), LeaseError> {
    let held = transaction
        .query_opt(
            // clock_timestamp(), not now(): the lease must be live when the write is about to
            // commit, not merely when its transaction began.
            "SELECT 1 FROM investigator.duty_lease \
             WHERE duty = $1 AND holder = $2 AND generation = $3 AND expires_at > clock_timestamp() \
             FOR SHARE",
            &[&token.duty, &token.holder, &token.generation],
        )
        .await?;
    match held {
        Some(_) => Ok(()),
        None => Err(LeaseError::Lost {
            duty: token.duty.clone(),
            holder: token.holder.clone(),
            generation: token.generation,
        }),
    }
}

/// Every duty's lease, held or not, by duty; empty when the table does not exist yet (a
/// database an older investigator migrated, read by `serve --api-only`).
pub async fn leases(client: &impl GenericClient) -> Result<Vec<LeaseRow>, tokio_postgres::Error> {
    let exists: bool = client.query_one("SELECT to_regclass('investigator.duty_lease') IS NOT NULL", &[]).await?.get(0);
    if !exists {
        return Ok(Vec::new());
    }
    let rows = client
        .query(
            "SELECT duty, holder, generation, renewed_at, expires_at, expires_at > now() \
             FROM investigator.duty_lease ORDER BY duty",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| LeaseRow {
            duty: row.get(0),
            holder: row.get(1),
            generation: row.get(2),
            renewed_at: row.get(3),
            expires_at: row.get(4),
            held: row.get(5),
        })
        .collect())
}
