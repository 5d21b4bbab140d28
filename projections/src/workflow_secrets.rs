//! Registry credentials of requested workflows, outside the event log (which keeps only the
//! secret's name): stored with the batch that requests the workflow, read by the launcher to
//! create the Kubernetes Secret before the workflow, and forgotten once it is submitted.

use std::collections::BTreeMap;

use deadpool_postgres::GenericClient;

/// One workflow's credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSecret {
    /// The Secret's name, as the workflow's parameters reference it.
    pub name: String,
    /// Key -> value.
    pub data: BTreeMap<String, String>,
}

impl std::fmt::Debug for StoredSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSecret").field("name", &self.name).field("keys", &self.data.keys()).finish()
    }
}

/// Keeps `secrets` (workflow id, secret), inside the caller's transaction; a workflow's
/// secret stored before is kept as it was.
pub async fn store(
    client: &impl GenericClient,
    secrets: &[(String, StoredSecret)],
) -> Result<(), tokio_postgres::Error> {
    for (workflow_id, secret) in secrets {
        let data = serde_json::to_value(&secret.data).unwrap_or_default();
        client
            .execute(
                "INSERT INTO investigator.workflow_secret (workflow_id, name, data) VALUES ($1, $2, $3)
                 ON CONFLICT (workflow_id) DO NOTHING",
                &[workflow_id, &secret.name, &data],
            )
            .await?;
    }
    Ok(())
}

/// The secret of `workflow_id`, if it has one still to create.
pub async fn of(client: &impl GenericClient, workflow_id: &str) -> Result<Option<StoredSecret>, tokio_postgres::Error> {
    let row = client
        .query_opt("SELECT name, data FROM investigator.workflow_secret WHERE workflow_id = $1", &[&workflow_id])
        .await?;
    Ok(row.map(|row| StoredSecret { name: row.get(0), data: serde_json::from_value(row.get(1)).unwrap_or_default() }))
}

/// Forgets the secret of `workflow_id` (its workflow is submitted).
pub async fn forget(client: &impl GenericClient, workflow_id: &str) -> Result<(), tokio_postgres::Error> {
    client.execute("DELETE FROM investigator.workflow_secret WHERE workflow_id = $1", &[&workflow_id]).await?;
    Ok(())
}

/// Forgets the credentials of every workflow submitted or finished (a deletion that failed
/// after its submission is retried here); how many.
pub async fn sweep(client: &impl GenericClient) -> Result<u64, tokio_postgres::Error> {
    client
        .execute(
            "DELETE FROM investigator.workflow_secret secret USING graph.workflow_run run
             WHERE run.workflow_id = secret.workflow_id AND run.status <> 'requested'",
            &[],
        )
        .await
}
