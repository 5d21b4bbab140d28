//! Whether the graph is read from the primary or from a streaming standby, and how far the
//! standby's replay is behind. A standby is a valid place for `serve --api-only`: every read
//! works there, and read-your-writes holds through the graph's position, which a standby
//! reaches when it has replayed the primary's commit of it.

use deadpool_postgres::GenericClient;
use serde::Serialize;

/// The server the graph is read from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum DatabaseRole {
    /// A server that takes writes.
    Primary,
    /// A hot standby in recovery: it takes no write.
    Standby {
        /// How long ago the primary committed the newest transaction the standby has replayed,
        /// when WAL is waiting to be replayed; 0 when the standby has replayed everything it
        /// received (an idle primary is not lag). `None` before anything was replayed.
        replay_lag_seconds: Option<f64>,
        /// An operator paused the replay (`pg_wal_replay_pause()`): the lag will only grow.
        replay_paused: bool,
    },
}

impl DatabaseRole {
    /// The lag to report as a metric: 0 on a primary and on a standby that has replayed all.
    pub fn lag_seconds(&self) -> f64 {
        match self {
            DatabaseRole::Primary => 0.0,
            DatabaseRole::Standby { replay_lag_seconds, .. } => replay_lag_seconds.unwrap_or(0.0),
        }
    }
}

/// Reads the server's role; works on a primary, a standby and through pgbouncer.
pub async fn database_role(client: &impl GenericClient) -> Result<DatabaseRole, tokio_postgres::Error> {
    // pg_last_wal_receive_lsn() is NULL on a standby fed from an archive: then the replay
    // timestamp alone tells the lag.
    let row = client
        .query_one(
            "SELECT pg_is_in_recovery(),
                    CASE WHEN NOT pg_is_in_recovery() THEN NULL
                         WHEN pg_last_wal_receive_lsn() IS NOT NULL
                              AND pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0::float8
                         ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END,
                    CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END",
            &[],
        )
        .await?;
    let in_recovery: bool = row.get(0);
    Ok(if in_recovery {
        DatabaseRole::Standby {
            replay_lag_seconds: row.get::<_, Option<f64>>(1).map(|seconds| seconds.max(0.0)),
            replay_paused: row.get(2),
        }
    } else {
        DatabaseRole::Primary
    })
}
