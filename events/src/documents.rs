//! Documents written by Thoth's workflows, as graph-sync reads them: solver results and
//! adviser results. Only what the knowledge graph uses is read; other keys are ignored.
//!
//! [`Document::parse`] looks at `metadata.document_id` to tell the kind (Thoth's rule: the
//! id's prefix) and reads the document, or says which field is wrong and why.
//!
//! Documents arrive over the API (up to 32 MiB) as well as from files, so reading is
//! bounded by the bytes: the shape is checked first ([`shape`]: a JSON object of at most
//! [`MAX_DOCUMENT_VALUES`] values, walked without building anything), then the bytes are read
//! straight into the typed structs below, never into a `serde_json::Value` of the whole.

mod adviser;
mod shape;
mod solver;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

pub use adviser::{AdviserDocument, AdviserMetadata, AdviserResult};
pub use shape::MAX_DOCUMENT_VALUES;
pub use solver::{
    DependencyEntry, ErrorEntry, LicenseEntry, LicenseName, ResolvedEntry, SolverDocument, SolverMetadata,
    SolverResult, TreeEntry, UnparsedEntry, UnresolvedEntry,
};

/// A document of a kind the investigator reads.
#[derive(Debug, Clone, PartialEq)]
pub enum Document {
    /// `solver-…`.
    Solver(SolverDocument),
    /// `adviser-…`.
    Adviser(AdviserDocument),
}

/// Why a document cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{reason}", field_prefix(.field))]
pub struct DocumentError {
    /// The field at fault as a path (`result.tree[0].dependencies[1].specifier`), or `None`
    /// when the document as a whole is at fault.
    pub field: Option<String>,
    /// What is wrong.
    pub reason: String,
}

fn field_prefix(field: &Option<String>) -> String {
    field.as_ref().map(|path| format!("field '{path}': ")).unwrap_or_default()
}

impl DocumentError {
    /// The document as a whole is at fault.
    pub fn whole(reason: impl Into<String>) -> Self {
        DocumentError { field: None, reason: reason.into() }
    }

    /// `field` is at fault.
    pub fn at(field: &str, reason: impl Into<String>) -> Self {
        DocumentError { field: Some(field.to_owned()), reason: reason.into() }
    }
}

impl Document {
    /// Reads a document; its kind comes from the prefix of `metadata.document_id`.
    pub fn parse(bytes: &[u8]) -> Result<Document, DocumentError> {
        shape::check_shape(bytes)?;
        // A NUL character anywhere is refused here, as the document's fault: PostgreSQL cannot
        // store it, and recording must never fail on the data. (After the shape check, which
        // bounds what finding its path may build.)
        if let Some(path) = crate::storable::nul_path(bytes) {
            let field = (path != ".").then(|| crate::excerpt::excerpt(&path).to_string());
            return Err(DocumentError { field, reason: crate::storable::NUL_REASON.to_owned() });
        }
        let document_id = document_id(bytes)?;
        if document_id.starts_with("solver-") {
            read(bytes).map(Document::Solver)
        } else if document_id.starts_with("adviser-") {
            read(bytes).map(Document::Adviser)
        } else {
            Err(DocumentError::at(
                "metadata.document_id",
                format!(
                    "'{}' is not a solver-… or adviser-… document; only those kinds are synced",
                    crate::excerpt::excerpt(&document_id)
                ),
            ))
        }
    }

    /// The document id.
    pub fn document_id(&self) -> &str {
        match self {
            Document::Solver(document) => &document.metadata.document_id,
            Document::Adviser(document) => &document.metadata.document_id,
        }
    }
}

/// The parts of a document that tell its kind, left unparsed.
#[derive(Deserialize)]
struct KindProbe<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    metadata: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct MetadataProbe<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    document_id: Option<&'a RawValue>,
}

/// A field that is there, `null` included (`Option`'s own reading takes `null` for absent).
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(deserializer).map(Some)
}

/// `metadata.document_id`, read without reading the rest (the shape is checked already).
fn document_id(bytes: &[u8]) -> Result<String, DocumentError> {
    let field = "metadata.document_id";
    let probe: KindProbe<'_> = serde_json::from_slice(bytes).map_err(|error| shape::not_json(&error))?;
    let metadata = probe.metadata.filter(|raw| raw.get().starts_with('{'));
    let raw_id = match metadata {
        Some(metadata) => {
            let probe: MetadataProbe<'_> = serde_json::from_str(metadata.get())
                .map_err(|error| DocumentError::at("metadata", error.to_string()))?;
            probe.document_id
        }
        None => None,
    };
    let Some(raw_id) = raw_id else {
        return Err(DocumentError::at(field, "required field is missing"));
    };
    serde_json::from_str::<String>(raw_id.get()).map_err(|_| DocumentError::at(field, "must be a string"))
}

/// Reads the bytes straight into `T`, naming the field at fault.
fn read<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DocumentError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let document = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let reason = without_position(error.inner());
        if path == "." { DocumentError::whole(reason) } else { DocumentError { field: Some(path), reason } }
    })?;
    deserializer.end().map_err(|error| shape::not_json(&error))?;
    Ok(document)
}

/// A reading error's message without the line and column the parser appends (the field's
/// path says where, as it did when documents were read from a parsed value).
fn without_position(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    message.strip_suffix(&position).map_or_else(|| message.clone(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_comes_from_the_document_id() {
        let error = Document::parse(br#"{"metadata": {"document_id": "inspection-1"}}"#).expect_err("unsupported");
        assert_eq!(error.field.as_deref(), Some("metadata.document_id"));
        let error = Document::parse(br#"{"metadata": {}}"#).expect_err("no id");
        assert_eq!(error.to_string(), "field 'metadata.document_id': required field is missing");
    }

    #[test]
    fn a_nul_character_is_refused_with_its_field() {
        let error = Document::parse(br#"{"metadata": {"document_id": "solver-x\u0000"}}"#).expect_err("a NUL");
        assert_eq!(error.field.as_deref(), Some("metadata.document_id"));
        assert!(error.reason.contains("NUL"), "{error}");
    }

    #[test]
    fn a_truncated_file_says_so() {
        let error = Document::parse(br#"{"metadata": {"document_id": "solver-"#).expect_err("truncated");
        assert!(error.to_string().contains("truncated"), "{error}");
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named_with_its_path() {
        let document = br#"{"metadata": {"document_id": "solver-rhel-8-py38-210713010253-a24759ebdaa1442c",
            "analyzer_version": "1.13.1", "datetime": "2021-07-13T01:02:53.123456"},
            "result": {"tree": [{"package_name": "flask", "package_version": "2.0.1", "index_url": "https://pypi.org/simple",
            "dependencies": [{"package_name": "click", "specifier": 7}]}]}}"#;
        let error = Document::parse(document).expect_err("bad specifier");
        assert_eq!(error.field.as_deref(), Some("result.tree[0].dependencies[0].specifier"));
        assert_eq!(error.reason, "invalid type: integer `7`, expected a string");
    }

    #[test]
    fn shapes_no_document_has_are_refused_before_anything_is_built() {
        let zeros = format!("[{}]", vec!["0"; 1000].join(","));
        let error = Document::parse(zeros.as_bytes()).expect_err("an array");
        assert_eq!(error.to_string(), "the document is not a JSON object");
        let error = Document::parse(br#"{"metadata": {"document_id": null}}"#).expect_err("null id");
        assert_eq!(error.to_string(), "field 'metadata.document_id': must be a string");
        let error = Document::parse(br#"{"metadata": "solver-x"}"#).expect_err("metadata not an object");
        assert_eq!(error.to_string(), "field 'metadata.document_id': required field is missing");
    }
}
