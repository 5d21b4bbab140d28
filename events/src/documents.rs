//! Documents written by Thoth's workflows, as graph-sync reads them: solver results and
//! adviser results. Only what the knowledge graph uses is read; other keys are ignored.
//!
//! [`Document::parse`] looks at `metadata.document_id` to tell the kind (Thoth's rule: the
//! id's prefix) and reads the document, or says which field is wrong and why.

mod adviser;
mod solver;

use serde::de::DeserializeOwned;
use serde_json::Value;

pub use adviser::{AdviserDocument, AdviserMetadata, AdviserResult};
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
        // A NUL character anywhere is refused here, as the document's fault: PostgreSQL cannot
        // store it, and recording must never fail on the data.
        if let Some(path) = crate::storable::nul_path(bytes) {
            let field = (path != ".").then(|| crate::excerpt::excerpt(&path).to_string());
            return Err(DocumentError { field, reason: crate::storable::NUL_REASON.to_owned() });
        }
        let value: Value = serde_json::from_slice(bytes).map_err(|error| {
            DocumentError::whole(format!(
                "not valid JSON: {error}{}",
                if error.is_eof() { " (the file looks truncated)" } else { "" }
            ))
        })?;
        let document_id = match value.pointer("/metadata/document_id") {
            Some(Value::String(id)) => id.clone(),
            Some(_) => return Err(DocumentError::at("metadata.document_id", "must be a string")),
            None => return Err(DocumentError::at("metadata.document_id", "required field is missing")),
        };
        if document_id.starts_with("solver-") {
            read(value).map(Document::Solver)
        } else if document_id.starts_with("adviser-") {
            read(value).map(Document::Adviser)
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

fn read<T: DeserializeOwned>(value: Value) -> Result<T, DocumentError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let reason = error.inner().to_string();
        if path == "." { DocumentError::whole(reason) } else { DocumentError { field: Some(path), reason } }
    })
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
    }
}
