//! JSONB without a detour through `serde_json::Value`: payloads go to PostgreSQL as the bytes
//! serde wrote, and come back as bytes for serde to read.

use bytes::{BufMut, BytesMut};
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

/// JSONB's binary format is a version byte (1) and the JSON text.
const JSONB_VERSION: u8 = 1;

/// JSON text to write to a JSONB column.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JsonbText<'a>(pub &'a [u8]);

impl ToSql for JsonbText<'_> {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.put_u8(JSONB_VERSION);
        out.extend_from_slice(self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSONB
    }

    to_sql_checked!();
}

/// JSON text read from a JSONB column.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JsonbBytes<'a>(pub &'a [u8]);

impl<'a> FromSql<'a> for JsonbBytes<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        match raw.split_first() {
            Some((&JSONB_VERSION, text)) => Ok(JsonbBytes(text)),
            Some((version, _)) => Err(format!("unsupported JSONB format version {version}").into()),
            None => Err("empty JSONB value".into()),
        }
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSONB
    }
}
