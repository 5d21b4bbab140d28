//! Statements in one round trip (`projections::statements`): a SQL text's later runs go with
//! the parameter types its first run learnt, and count and return what the prepared statement
//! of its first run did. Through pgbouncer too, in the pooler pass.

use investigator_projections::statements;
use investigator_tests::TestDatabase;

const CREATE: &str = "CREATE TABLE statements_probe (id int8 PRIMARY KEY, name text NOT NULL, doc jsonb)";
const UPSERT: &str = "INSERT INTO statements_probe (id, name, doc) \
     SELECT * FROM unnest($1::int8[], $2::text[], $3::jsonb[]) \
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, doc = excluded.doc \
     WHERE statements_probe.name IS DISTINCT FROM excluded.name";
const SELECT: &str = "SELECT id, name, doc->>'round' FROM statements_probe WHERE id = ANY($1) ORDER BY id";

#[tokio::test(flavor = "multi_thread")]
async fn a_statement_run_again_with_its_learnt_types_counts_and_returns_what_its_first_run_did() {
    let db = TestDatabase::create().await;
    let mut connection = db.database.connection().await.expect("a connection");
    let transaction = connection.transaction().await.expect("a transaction");
    transaction.batch_execute(CREATE).await.expect("the probe table");

    let ids: Vec<i64> = vec![1, 2, 3];
    for round in 0..3 {
        let names: Vec<String> = ids.iter().map(|id| format!("name {id} of round {}", round / 2)).collect();
        let docs: Vec<serde_json::Value> = ids.iter().map(|_| serde_json::json!({ "round": round / 2 })).collect();
        let changed = statements::execute(&transaction, UPSERT, &[&ids, &names, &docs]).await.expect("the upsert");
        // Rounds 0 and 2 change every row (inserted, then renamed); round 1 repeats round 0.
        assert_eq!(changed, if round == 1 { 0 } else { 3 }, "rows changed in round {round}");

        let rows = statements::query(&transaction, SELECT, &[&ids]).await.expect("the select");
        let read: Vec<(i64, String, String)> = rows.iter().map(|row| (row.get(0), row.get(1), row.get(2))).collect();
        let expected: Vec<(i64, String, String)> =
            ids.iter().zip(&names).map(|(id, name)| (*id, name.clone(), (round / 2).to_string())).collect();
        assert_eq!(read, expected, "round {round}");
    }

    // A run with too few parameters is refused as PostgreSQL would refuse it, not cut short.
    let error = statements::query(&transaction, SELECT, &[]).await.expect_err("a parameter is missing");
    assert!(error.to_string().contains("parameters"), "{error}");
    transaction.rollback().await.expect("rollback");
}
