//! Security-indicator runs (`si_aggregated_run`, immutable once recorded) and the entities
//! they cover (`si_aggregated`). The statement is built once from [`SI_COUNTERS`], so it is
//! the one SQL text of the writer that lives in Rust.

use std::sync::LazyLock;

use chrono::NaiveDateTime;
use tokio_postgres::Error;
use tokio_postgres::types::ToSql;

use super::{RowPlan, Writer};

const LINKS: &str = include_str!("security_indicators/si_aggregated.sql");

/// The counter columns, in the order of `SiRunRow::counters` (which `plan::counters` fills).
const SI_COUNTERS: [&str; 25] = [
    "severity_high_confidence_high",
    "severity_high_confidence_low",
    "severity_high_confidence_medium",
    "severity_high_confidence_undefined",
    "severity_low_confidence_high",
    "severity_low_confidence_low",
    "severity_low_confidence_medium",
    "severity_low_confidence_undefined",
    "severity_medium_confidence_high",
    "severity_medium_confidence_low",
    "severity_medium_confidence_medium",
    "severity_medium_confidence_undefined",
    "number_of_analyzed_files",
    "number_of_files_total",
    "number_of_files_with_severities",
    "number_of_filtered_files",
    "number_of_python_files",
    "number_of_lines_with_comments_in_python_files",
    "number_of_blank_lines_in_python_files",
    "number_of_lines_with_code_in_python_files",
    "total_number_of_files",
    "total_number_of_lines",
    "total_number_of_lines_with_comments",
    "total_number_of_blank_lines",
    "total_number_of_lines_with_code",
];

/// The counters travel as one two-dimensional int4 array, a row per run.
static SI_RUNS: LazyLock<String> = LazyLock::new(|| {
    let columns = SI_COUNTERS.join(", ");
    let values: Vec<String> = (1..=SI_COUNTERS.len()).map(|i| format!("($5::int4[])[r.n][{i}]")).collect();
    format!(
        "INSERT INTO si_aggregated_run (id, si_aggregated_run_document_id, datetime, error, {columns}) \
         SELECT r.id, r.document_id, r.datetime, r.error, {values} \
         FROM unnest($1::int8[], $2::text[], $3::timestamp[], $4::bool[]) WITH ORDINALITY \
             AS r (id, document_id, datetime, error, n) \
         ON CONFLICT (si_aggregated_run_document_id) DO NOTHING",
        values = values.join(", "),
    )
});

pub(super) async fn write(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    if plan.si_runs.is_empty() {
        return Ok(());
    }
    let rows = &plan.si_runs;
    let ids: Vec<i64> = rows.keys().copied().collect();
    let documents: Vec<&str> = rows.values().map(|row| row.document_id.as_str()).collect();
    let datetimes: Vec<NaiveDateTime> = rows.values().map(|row| row.datetime).collect();
    let errors: Vec<bool> = rows.values().map(|row| row.error).collect();
    let counters: Vec<i32> = rows.values().flat_map(|row| row.counters).collect();
    let counters = Matrix { values: counters, columns: SI_COUNTERS.len() };
    writer.run(&SI_RUNS, &[&ids, &documents, &datetimes, &errors, &counters]).await?;
    writer.pairs(LINKS, &plan.si_links).await
}

/// A two-dimensional int4 array, row after row.
#[derive(Debug)]
struct Matrix {
    values: Vec<i32>,
    columns: usize,
}

impl ToSql for Matrix {
    fn to_sql(
        &self,
        ty: &tokio_postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use bytes::BufMut;
        let rows = self.values.len() / self.columns.max(1);
        let element = match ty.kind() {
            tokio_postgres::types::Kind::Array(element) => element.oid(),
            _ => return Err("Matrix is an array".into()),
        };
        // Array binary format: dimensions, has-nulls flag, element type, then per dimension
        // (length, lower bound), then each element as (length, bytes).
        out.put_i32(2);
        out.put_i32(0);
        out.put_u32(element);
        out.put_i32(i32::try_from(rows)?);
        out.put_i32(1);
        out.put_i32(i32::try_from(self.columns)?);
        out.put_i32(1);
        for value in &self.values {
            out.put_i32(4);
            out.put_i32(*value);
        }
        Ok(tokio_postgres::types::IsNull::No)
    }

    fn accepts(ty: &tokio_postgres::types::Type) -> bool {
        *ty == tokio_postgres::types::Type::INT4_ARRAY
    }

    tokio_postgres::types::to_sql_checked!();
}
