//! A solver or adviser document as graph-sync reads it: parsing never panics, and a parsed
//! document turns into its domain events (or an error naming the field) without panicking,
//! the same way every time.

#![no_main]

use investigator_core::documents::document_events;
use investigator_events::documents::Document;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(document) = Document::parse(data) else {
        return;
    };
    let first = document_events(&document);
    if let Ok(events) = &first {
        assert_eq!(events.document_id, document.document_id());
    }
    assert_eq!(document_events(&document), first, "document_events is not deterministic");
});
