//! What the `solver_document` fuzz target checks (shared with `core/tests/fuzz_regressions.rs`):
//! a solver or adviser document as graph-sync reads it: parsing never panics, and a parsed
//! document turns into its domain events (or an error naming the field) without panicking,
//! the same way every time.

use investigator_core::documents::document_events;
use investigator_events::documents::Document;

/// Panics when `data` breaks a property.
pub fn check(data: &[u8]) {
    let Ok(document) = Document::parse(data) else {
        return;
    };
    let first = document_events(&document);
    if let Ok(events) = &first {
        assert_eq!(events.document_id, document.document_id());
    }
    assert_eq!(document_events(&document), first, "document_events is not deterministic");
}
