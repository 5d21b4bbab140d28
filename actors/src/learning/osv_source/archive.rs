//! Zip archives of advisories (OSV's `PyPI/all.zip`). The number of entries an archive
//! declares is read from its end-of-central-directory record before the zip reader indexes
//! them (the index costs a few hundred bytes per entry, and a 100 MiB archive can declare
//! millions); each entry is then read within the document and source limits.

use std::io::{Read, Seek, SeekFrom};

use investigator_events::excerpt::excerpt;

use super::limits::Budget;
use super::{JSON_EXTENSION, OsvBatch, OsvSourceError, parse, read_document};

/// The end-of-central-directory record's signature, and its size without the comment.
const END_SIGNATURE: [u8; 4] = *b"PK\x05\x06";
const END_RECORD: usize = 22;
/// The zip64 end-of-central-directory locator's signature (it precedes the record above).
const ZIP64_LOCATOR_SIGNATURE: [u8; 4] = *b"PK\x06\x07";
const ZIP64_LOCATOR: usize = 20;
/// The zip64 end-of-central-directory record's signature.
const ZIP64_END_SIGNATURE: [u8; 4] = *b"PK\x06\x06";
/// An archive comment is at most this long, so the record is within the last 64 KiB + 22.
const MAX_COMMENT: usize = 0xffff;

/// Reads the `*.json` entries of an archive, in name order. Each entry is named
/// `{archive}!{entry}` in the rejected list.
pub(super) fn read_zip<R: Read + Seek>(
    archive_name: &str,
    mut reader: R,
    mut budget: Budget,
) -> Result<OsvBatch, OsvSourceError> {
    let source_name = excerpt(archive_name).to_string();
    let zip_error = |reason: String| OsvSourceError::Zip { path: source_name.clone(), reason };
    let limit = |reason: String| OsvSourceError::Limit { source_name: source_name.clone(), reason };
    let declared = declared_entries(&mut reader).map_err(|error| zip_error(error.to_string()))?;
    if let Some(declared) = declared {
        budget.count_documents(usize::try_from(declared).unwrap_or(usize::MAX)).map_err(limit)?;
    }
    let mut archive = zip::ZipArchive::new(reader).map_err(|error| zip_error(error.to_string()))?;
    budget.count_documents(archive.len()).map_err(limit)?;
    let mut entries = Vec::new();
    for index in 0..archive.len() {
        match archive.name_for_index(index) {
            Some(Ok(name)) if name.ends_with(JSON_EXTENSION) => entries.push((name.into_owned(), index)),
            Some(Err(error)) => return Err(zip_error(error.to_string())),
            Some(Ok(_)) | None => {}
        }
    }
    entries.sort();
    let mut batch = OsvBatch::default();
    for (name, index) in entries {
        let read = match archive.by_index(index) {
            Ok(entry) if entry.is_file() => {
                read_document(entry, &mut budget).map_err(limit)?.and_then(|bytes| parse(&bytes))
            }
            Ok(_) => continue,
            Err(error) => Err(error.to_string()),
        };
        batch.push(&mut budget, &format!("{archive_name}!{name}"), read).map_err(limit)?;
    }
    Ok(batch)
}

/// The number of entries the archive's end-of-central-directory record declares (its zip64
/// record's, when it has one); `None` when no record is found (the zip reader then says
/// what is wrong).
fn declared_entries<R: Read + Seek>(reader: &mut R) -> std::io::Result<Option<u64>> {
    let length = reader.seek(SeekFrom::End(0))?;
    let tail_length = length.min((END_RECORD + MAX_COMMENT + ZIP64_LOCATOR) as u64);
    reader.seek(SeekFrom::Start(length - tail_length))?;
    let mut tail = vec![0u8; usize::try_from(tail_length).unwrap_or(0)];
    reader.read_exact(&mut tail)?;
    let Some(end) =
        (0..=tail.len().saturating_sub(END_RECORD)).rev().find(|&at| tail[at..].starts_with(&END_SIGNATURE))
    else {
        return Ok(None);
    };
    let entries = u64::from(u16::from_le_bytes([tail[end + 10], tail[end + 11]]));
    let locator = end.checked_sub(ZIP64_LOCATOR).filter(|&at| tail[at..].starts_with(&ZIP64_LOCATOR_SIGNATURE));
    let Some(locator) = locator else {
        return Ok(Some(entries));
    };
    let mut offset = [0u8; 8];
    offset.copy_from_slice(&tail[locator + 8..locator + 16]);
    let zip64_end = u64::from_le_bytes(offset);
    let mut record = [0u8; 40];
    reader.seek(SeekFrom::Start(zip64_end))?;
    if reader.read_exact(&mut record).is_err() || !record.starts_with(&ZIP64_END_SIGNATURE) {
        return Ok(Some(entries.max(u64::from(u16::MAX))));
    }
    let mut count = [0u8; 8];
    count.copy_from_slice(&record[32..40]);
    Ok(Some(u64::from_le_bytes(count).max(entries)))
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Write};

    use super::super::MAX_DOCUMENTS;
    use super::*;

    fn archive(entries: usize) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for index in 0..entries {
            writer.start_file(format!("{index}.json"), options).expect("an entry");
            writer.write_all(b"{}").expect("written");
        }
        writer.finish().expect("finished").into_inner()
    }

    #[test]
    fn the_declared_entries_are_read_from_the_end_record() {
        assert_eq!(declared_entries(&mut Cursor::new(archive(3))).expect("read"), Some(3));
        assert_eq!(declared_entries(&mut Cursor::new(archive(0))).expect("read"), Some(0));
        assert_eq!(declared_entries(&mut Cursor::new(b"not an archive".to_vec())).expect("read"), None);
    }

    #[test]
    fn an_archive_declaring_more_entries_than_a_source_may_hold_is_refused_before_it_is_indexed() {
        let mut bytes = archive(1);
        let end = bytes.len() - END_RECORD;
        assert!(bytes[end..].starts_with(&END_SIGNATURE));
        // Zip64 fields say "see the zip64 record"; the locator is absent, so 0xffff stands.
        bytes[end + 8..end + 12].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(declared_entries(&mut Cursor::new(bytes)).expect("read"), Some(0xffff));
        let many = archive(MAX_DOCUMENTS + 1);
        let error = read_zip("many.zip", Cursor::new(many), Budget::new(u64::MAX)).expect_err("refused");
        assert!(error.to_string().contains("more than 100000 documents"), "{error}");
    }
}
