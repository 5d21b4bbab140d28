//! Where the CVE driver reads OSV advisories from: a directory of `*.json` files (a checkout
//! of the PyPA advisory database), a zip archive of them (OSV's `PyPI/all.zip`), or a URL
//! serving either the archive or JSON.
//!
//! Boundary: reading only. A document that cannot be read is set aside with its reason and
//! never stops the others; only a source that cannot be read at all (a missing directory, a
//! broken archive, a failed download, a source beyond the limits) is an error. Parsing is
//! [`investigator_core::osv`]'s, which keeps only the fields used, bounded.
//!
//! A source is outside input, and a small archive can hold gigabytes: every way in is
//! bounded ([`limits`]). A download goes through the outbound client (one deadline for the
//! whole download, at most [`MAX_DOWNLOAD_BYTES`], redirects within the origin, no private
//! addresses); an archive may declare at most [`MAX_DOCUMENTS`] entries (read from its
//! directory before the zip reader indexes them); a source may hold at most
//! [`MAX_READ_BYTES`] of documents, each at most [`MAX_DOCUMENT_BYTES`]; and the advisories
//! kept while it is read may take at most the configured memory (`INVESTIGATOR_CVE_MAX_MB`).

mod archive;
mod limits;

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use investigator_core::osv::{Advisory, parse_advisory};
use investigator_events::excerpt::excerpt;

use crate::outbound::{OutboundClient, OutboundError, OutboundRequest};
use limits::Budget;
pub use limits::{MAX_DOCUMENT_BYTES, MAX_DOCUMENTS, MAX_DOWNLOAD_BYTES, MAX_READ_BYTES, MAX_REJECTED_KEPT};

/// The first bytes of a zip archive (a local file header).
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
/// The extension of advisory documents, in a directory or an archive.
const JSON_EXTENSION: &str = ".json";
/// What a download accepts.
const DOWNLOAD_ACCEPT: &str = "application/zip, application/json;q=0.9, */*;q=0.1";

/// Where advisories are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OsvSource {
    /// A directory, walked recursively for `*.json` files.
    Directory(PathBuf),
    /// A zip archive of `*.json` files.
    Zip(PathBuf),
    /// An `http://` or `https://` URL serving a zip archive, one advisory or an array of them.
    Url(String),
}

impl OsvSource {
    /// Reads a configured source: a URL when it starts with `http://` or `https://`, a zip
    /// archive when it ends with `.zip`, otherwise a directory. Nothing is checked here; a
    /// path that does not exist is an error when it is loaded.
    pub fn parse(text: &str) -> OsvSource {
        let text = text.trim();
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            OsvSource::Url(text.to_owned())
        } else if lower.ends_with(".zip") {
            OsvSource::Zip(PathBuf::from(text))
        } else {
            OsvSource::Directory(PathBuf::from(text))
        }
    }

    /// The source as configured, for logs and errors (an excerpt).
    fn describe(&self) -> String {
        match self {
            OsvSource::Directory(path) | OsvSource::Zip(path) => excerpt(&path.display().to_string()).to_string(),
            OsvSource::Url(url) => excerpt(url).to_string(),
        }
    }
}

/// How a source is read: the client and deadline of a download, and the memory the
/// advisories kept may take.
#[derive(Debug, Clone)]
pub struct SourceReading {
    /// The outbound client (deadline, redirects, address allowance).
    pub client: OutboundClient,
    /// How long a whole download may take.
    pub download_deadline: Duration,
    /// The advisories kept may take about this many bytes
    /// ([`Advisory::approximate_size`]); a source holding more is refused.
    pub max_kept_bytes: u64,
}

/// Why a source could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum OsvSourceError {
    /// A directory or archive on disk could not be opened or listed.
    #[error("cannot read {}", excerpt(&path.display().to_string()))]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A zip archive's directory could not be read.
    #[error("{path} is not a readable zip archive: {reason}")]
    Zip {
        /// The archive's path or URL (an excerpt).
        path: String,
        /// What the zip reader said.
        reason: String,
    },
    /// A download failed or was answered with an error status.
    #[error("cannot download {url}: {reason}")]
    Http {
        /// The URL asked (an excerpt).
        url: String,
        /// The transport error or the status.
        reason: String,
    },
    /// A download is larger than the limit.
    #[error("{what} is larger than {limit} bytes")]
    TooLarge {
        /// What was too large (an excerpt).
        what: String,
        /// The limit, in bytes.
        limit: u64,
    },
    /// The source holds more than a source may: documents, bytes, or advisories to keep.
    #[error("{source_name} is refused: {reason}")]
    Limit {
        /// The source (an excerpt).
        source_name: String,
        /// Which limit, and its value.
        reason: String,
    },
    /// The blocking reader stopped before it finished (it panicked or was cancelled).
    #[error("the advisory reader for {source_name} stopped: {reason}")]
    Stopped {
        /// The source being read.
        source_name: String,
        /// Why the task ended.
        reason: String,
    },
}

/// What was read from a source.
#[derive(Debug, Default)]
pub struct OsvBatch {
    /// The advisories read, in the source's order (sorted by path or entry name).
    pub advisories: Vec<Advisory>,
    /// For each document that could not be read (the first [`MAX_REJECTED_KEPT`]): its name
    /// (a path, an archive entry, a URL with an array index; an excerpt) and the reason.
    pub rejected: Vec<(String, String)>,
    /// Documents rejected beyond those listed in `rejected`.
    pub rejected_unlisted: usize,
}

impl OsvBatch {
    /// Adds one document's outcome, counting what is kept against `budget`.
    fn push(&mut self, budget: &mut Budget, document: &str, read: Result<Advisory, String>) -> Result<(), String> {
        match read {
            Ok(advisory) => {
                budget.keep(advisory.approximate_size())?;
                self.advisories.push(advisory);
            }
            Err(reason) => {
                let document = excerpt(document).to_string();
                tracing::warn!(document = %document, reason = %excerpt(&reason), "advisory document rejected");
                if self.rejected.len() < MAX_REJECTED_KEPT {
                    self.rejected.push((document, reason));
                } else {
                    self.rejected_unlisted += 1;
                }
            }
        }
        Ok(())
    }
}

/// Loads every advisory of `source`. A directory is walked recursively for `*.json` files,
/// in path order; a zip archive's `*.json` entries are read in name order; a URL is fetched
/// (the whole download within `reading.download_deadline`) and read as a zip archive when
/// its body starts with `PK\x03\x04`, otherwise as one JSON advisory or an array of them.
pub async fn load(source: &OsvSource, reading: &SourceReading) -> Result<OsvBatch, OsvSourceError> {
    let source_name = source.describe();
    let budget = Budget::new(reading.max_kept_bytes);
    let batch = match source {
        OsvSource::Directory(root) => {
            let root = root.clone();
            blocking(&source_name, move || read_directory(&root, budget)).await?
        }
        OsvSource::Zip(path) => {
            let path = path.clone();
            blocking(&source_name, move || read_zip_file(&path, budget)).await?
        }
        OsvSource::Url(url) => {
            let body = download(url, reading).await?;
            let url = url.clone();
            blocking(&source_name, move || read_download(&url, body, budget)).await?
        }
    };
    tracing::info!(
        source = %source_name,
        advisories = batch.advisories.len(),
        rejected = batch.rejected.len() + batch.rejected_unlisted,
        "advisories loaded"
    );
    Ok(batch)
}

/// Runs file and archive reading off the async threads.
async fn blocking<F>(source_name: &str, read: F) -> Result<OsvBatch, OsvSourceError>
where
    F: FnOnce() -> Result<OsvBatch, OsvSourceError> + Send + 'static,
{
    tokio::task::spawn_blocking(read)
        .await
        .map_err(|error| OsvSourceError::Stopped { source_name: source_name.to_owned(), reason: error.to_string() })?
}

fn read_directory(root: &Path, mut budget: Budget) -> Result<OsvBatch, OsvSourceError> {
    let source_name = excerpt(&root.display().to_string()).to_string();
    let limit = |reason: String| OsvSourceError::Limit { source_name: source_name.clone(), reason };
    let mut files = Vec::new();
    collect_json_files(root, &mut files)?;
    budget.count_documents(files.len()).map_err(limit)?;
    files.sort();
    let mut batch = OsvBatch::default();
    for path in files {
        let read = read_file(&path, &mut budget).map_err(limit)?.and_then(|bytes| parse(&bytes));
        batch.push(&mut budget, &path.display().to_string(), read).map_err(limit)?;
    }
    Ok(batch)
}

/// Adds the `*.json` files under `directory` to `files`, refusing more than
/// [`MAX_DOCUMENTS`]. Symbolic links to directories are not followed (a link cycle would
/// never end); links to files are read.
fn collect_json_files(directory: &Path, files: &mut Vec<PathBuf>) -> Result<(), OsvSourceError> {
    let io_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| OsvSourceError::Io { path, source }
    };
    for entry in std::fs::read_dir(directory).map_err(io_error(directory))? {
        let entry = entry.map_err(io_error(directory))?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(io_error(&path))?;
        if file_type.is_dir() {
            collect_json_files(&path, files)?;
        } else if path.to_string_lossy().ends_with(JSON_EXTENSION) {
            files.push(path);
        }
        if files.len() > MAX_DOCUMENTS {
            return Ok(());
        }
    }
    Ok(())
}

/// One file's bytes, refused when larger than a document may be (the inner error: the
/// document is rejected) or beyond the source's budget (the outer error: the source is).
fn read_file(path: &Path, budget: &mut Budget) -> Result<Result<Vec<u8>, String>, String> {
    match std::fs::File::open(path) {
        Ok(file) => read_document(file, budget),
        Err(error) => Ok(Err(error.to_string())),
    }
}

fn read_zip_file(path: &Path, budget: Budget) -> Result<OsvBatch, OsvSourceError> {
    let file = std::fs::File::open(path).map_err(|source| OsvSourceError::Io { path: path.to_path_buf(), source })?;
    archive::read_zip(&path.display().to_string(), file, budget)
}

/// Fetches `url` through the outbound client, refusing an error status and a body larger
/// than [`MAX_DOWNLOAD_BYTES`].
async fn download(url: &str, reading: &SourceReading) -> Result<Vec<u8>, OsvSourceError> {
    let request = OutboundRequest {
        accept: DOWNLOAD_ACCEPT,
        deadline: reading.download_deadline,
        max_body_bytes: MAX_DOWNLOAD_BYTES,
        verify_tls: true,
    };
    let quoted = || excerpt(url).to_string();
    let answer = reading.client.get(url, request).await.map_err(|error| match error {
        OutboundError::TooLarge { limit, .. } => OsvSourceError::TooLarge { what: quoted(), limit },
        other => OsvSourceError::Http { url: quoted(), reason: other.to_string() },
    })?;
    if !answer.is_success() {
        return Err(OsvSourceError::Http { url: quoted(), reason: format!("status {}", answer.status) });
    }
    Ok(answer.body)
}

/// A downloaded body: a zip archive, an array of advisories, or one advisory.
fn read_download(url: &str, body: Vec<u8>, mut budget: Budget) -> Result<OsvBatch, OsvSourceError> {
    if body.starts_with(ZIP_MAGIC) {
        return archive::read_zip(url, Cursor::new(body), budget);
    }
    let source_name = excerpt(url).to_string();
    let limit = |reason: String| OsvSourceError::Limit { source_name: source_name.clone(), reason };
    let mut batch = OsvBatch::default();
    let is_array = body.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'[');
    if !is_array {
        let read = check_document_size(&body).and_then(|()| parse(&body));
        batch.push(&mut budget, url, read).map_err(limit)?;
        return Ok(batch);
    }
    match limits::bounded_array(&body) {
        Ok(documents) => {
            for (index, document) in documents.into_iter().enumerate() {
                let bytes = document.get().as_bytes();
                let read = check_document_size(bytes).and_then(|()| parse(bytes));
                batch.push(&mut budget, &format!("{url}[{index}]"), read).map_err(limit)?;
            }
        }
        Err(limits::ArrayError::TooMany) => {
            return Err(limit(format!("the array holds more than {MAX_DOCUMENTS} advisories")));
        }
        Err(limits::ArrayError::NotJson(error)) => {
            batch
                .push(&mut budget, url, Err(format!("the array of advisories is not JSON: {error}")))
                .map_err(limit)?;
        }
    }
    Ok(batch)
}

/// Reads at most one document's worth of bytes, counted against the source's budget.
fn read_document(reader: impl Read, budget: &mut Budget) -> Result<Result<Vec<u8>, String>, String> {
    let mut bytes = Vec::new();
    if let Err(error) = reader.take(MAX_DOCUMENT_BYTES + 1).read_to_end(&mut bytes) {
        return Ok(Err(error.to_string()));
    }
    budget.read(body_len(&bytes))?;
    Ok(check_document_size(&bytes).map(|()| bytes))
}

fn check_document_size(bytes: &[u8]) -> Result<(), String> {
    if body_len(bytes) > MAX_DOCUMENT_BYTES {
        return Err(format!("the document is larger than {MAX_DOCUMENT_BYTES} bytes"));
    }
    Ok(())
}

fn parse(bytes: &[u8]) -> Result<Advisory, String> {
    parse_advisory(bytes).map_err(|error| error.to_string())
}

fn body_len(bytes: &[u8]) -> u64 {
    u64::try_from(bytes.len()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use investigator_core::network::{NetworkAllowance, SpecialRange};

    /// Reads with a loopback allowance, a 10 s download deadline and 64 MiB to keep.
    fn reading() -> SourceReading {
        reading_within(Duration::from_secs(10), 64 * 1024 * 1024)
    }

    fn reading_within(download_deadline: Duration, max_kept_bytes: u64) -> SourceReading {
        let client = OutboundClient::new(NetworkAllowance::ranges(&[SpecialRange::Loopback])).expect("a client");
        SourceReading { client, download_deadline, max_kept_bytes }
    }

    fn advisory_json(id: &str) -> String {
        serde_json::json!({
            "id": id,
            "details": "details",
            "affected": [{"package": {"ecosystem": "PyPI", "name": "flask"}, "versions": ["1.0"]}],
        })
        .to_string()
    }

    fn ids(batch: &OsvBatch) -> Vec<&str> {
        batch.advisories.iter().map(|advisory| advisory.id.as_str()).collect()
    }

    fn zip_of(entries: &[(&str, &str)]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        for (name, content) in entries {
            if name.ends_with('/') {
                writer.add_directory(*name, options).expect("add a directory");
            } else {
                writer.start_file(*name, options).expect("start an entry");
                writer.write_all(content.as_bytes()).expect("write an entry");
            }
        }
        writer.finish().expect("finish the archive").into_inner()
    }

    /// Serves `body` to one request on a fresh port and gives the URL to ask.
    async fn serve_once(body: Vec<u8>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("local address");
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.expect("accept");
            let mut request = Vec::new();
            let mut buffer = [0u8; 1024];
            while !request.windows(4).any(|window| window == b"\r\n\r\n") {
                let read = stream.read(&mut buffer).await.expect("read the request");
                if read == 0 {
                    break;
                }
                request.extend_from_slice(&buffer[..read]);
            }
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
            stream.write_all(head.as_bytes()).await.expect("write the head");
            stream.write_all(&body).await.expect("write the body");
            stream.shutdown().await.expect("close");
        });
        format!("http://{address}/advisories")
    }

    #[test]
    fn configured_text_chooses_the_source_kind() {
        assert_eq!(
            OsvSource::parse("https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"),
            OsvSource::Url("https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip".into())
        );
        assert_eq!(OsvSource::parse("HTTP://host/a.json"), OsvSource::Url("HTTP://host/a.json".into()));
        assert_eq!(OsvSource::parse(" /data/all.ZIP "), OsvSource::Zip("/data/all.ZIP".into()));
        assert_eq!(OsvSource::parse("/data/advisory-db/vulns"), OsvSource::Directory("/data/advisory-db/vulns".into()));
    }

    #[tokio::test]
    async fn a_directory_is_walked_in_path_order_and_a_broken_document_is_set_aside() {
        let root = tempfile::tempdir().expect("a temporary directory");
        let nested = root.path().join("vulns").join("flask");
        std::fs::create_dir_all(&nested).expect("create directories");
        std::fs::write(nested.join("PYSEC-2.json"), advisory_json("PYSEC-2")).expect("write");
        std::fs::write(root.path().join("vulns").join("PYSEC-1.json"), advisory_json("PYSEC-1")).expect("write");
        std::fs::write(root.path().join("a-broken.json"), "{\"id\": ").expect("write");
        std::fs::write(root.path().join("README.md"), "not an advisory").expect("write");

        let source = OsvSource::Directory(root.path().to_path_buf());
        let batch = load(&source, &reading()).await.expect("the directory is read");

        assert_eq!(ids(&batch), ["PYSEC-1", "PYSEC-2"]);
        assert_eq!(batch.rejected.len(), 1);
        let (document, reason) = &batch.rejected[0];
        assert!(document.ends_with("a-broken.json"), "{document}");
        assert!(reason.starts_with("the document is not JSON"), "{reason}");
    }

    #[tokio::test]
    async fn a_missing_directory_is_an_io_error_naming_the_path() {
        let root = tempfile::tempdir().expect("a temporary directory");
        let missing = root.path().join("nowhere");
        let error = load(&OsvSource::Directory(missing.clone()), &reading()).await.expect_err("missing");
        assert!(matches!(&error, OsvSourceError::Io { path, .. } if *path == missing), "{error:?}");
        assert!(error.to_string().contains("nowhere"), "{error}");
    }

    #[tokio::test]
    async fn a_zip_archive_is_read_in_entry_name_order() {
        let root = tempfile::tempdir().expect("a temporary directory");
        let path = root.path().join("all.zip");
        let archive = zip_of(&[
            ("PYSEC-2.json", &advisory_json("PYSEC-2")),
            ("nested/", ""),
            ("nested/GHSA-1.json", &advisory_json("GHSA-1")),
            ("PYSEC-1.json", &advisory_json("PYSEC-1")),
            ("broken.json", "[]"),
            ("notes.txt", "ignored"),
        ]);
        std::fs::write(&path, archive).expect("write the archive");

        let batch = load(&OsvSource::Zip(path.clone()), &reading()).await.expect("the archive is read");

        assert_eq!(ids(&batch), ["PYSEC-1", "PYSEC-2", "GHSA-1"]);
        let expected_name = format!("{}!broken.json", path.display());
        assert_eq!(batch.rejected, [(expected_name, "the document is not a JSON object".to_owned())]);
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_zip_archive_is_a_zip_error() {
        let root = tempfile::tempdir().expect("a temporary directory");
        let path = root.path().join("all.zip");
        std::fs::write(&path, "not an archive").expect("write");
        let error = load(&OsvSource::Zip(path), &reading()).await.expect_err("not a zip");
        assert!(matches!(error, OsvSourceError::Zip { .. }), "{error:?}");
    }

    #[tokio::test]
    async fn a_url_serving_a_zip_archive_is_read_as_one() {
        let url = serve_once(zip_of(&[("GHSA-1.json", &advisory_json("GHSA-1"))])).await;
        let batch = load(&OsvSource::Url(url), &reading()).await.expect("the download is read");
        assert_eq!(ids(&batch), ["GHSA-1"]);
        assert!(batch.rejected.is_empty());
    }

    #[tokio::test]
    async fn a_url_serving_a_json_array_gives_each_advisory() {
        let body =
            format!("  [{}, {{\"summary\": \"no id\"}}, {}]", advisory_json("PYSEC-1"), advisory_json("PYSEC-2"));
        let url = serve_once(body.into_bytes()).await;
        let batch = load(&OsvSource::Url(url.clone()), &reading()).await.expect("the download is read");
        assert_eq!(ids(&batch), ["PYSEC-1", "PYSEC-2"]);
        assert_eq!(batch.rejected, [(format!("{url}[1]"), "the field 'id' is missing".to_owned())]);
    }

    #[tokio::test]
    async fn a_url_serving_one_advisory_gives_it() {
        let url = serve_once(advisory_json("PYSEC-9").into_bytes()).await;
        let batch = load(&OsvSource::Url(url), &reading()).await.expect("the download is read");
        assert_eq!(ids(&batch), ["PYSEC-9"]);
    }

    #[tokio::test]
    async fn an_unreachable_url_is_an_http_error() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("local address");
        drop(listener);
        let url = format!("http://{address}/all.zip");
        let error = load(&OsvSource::Url(url.clone()), &reading()).await.expect_err("nothing listens");
        assert!(matches!(&error, OsvSourceError::Http { url: asked, .. } if *asked == url), "{error:?}");
    }

    #[test]
    fn an_oversized_document_is_rejected() {
        let oversized = vec![b' '; usize::try_from(MAX_DOCUMENT_BYTES).expect("fits") + 1];
        let read = read_document(oversized.as_slice(), &mut Budget::new(u64::MAX));
        assert_eq!(read, Ok(Err(format!("the document is larger than {MAX_DOCUMENT_BYTES} bytes"))));
    }

    /// An advisory whose `details` are `size` bytes long.
    fn advisory_with_details(id: &str, size: usize) -> String {
        serde_json::json!({
            "id": id,
            "details": "d".repeat(size),
            "affected": [{"package": {"ecosystem": "PyPI", "name": "flask"}, "versions": ["1.0"]}],
        })
        .to_string()
    }

    #[tokio::test]
    async fn of_an_archive_of_huge_details_only_a_bounded_part_is_kept() {
        let root = tempfile::tempdir().expect("a temporary directory");
        let path = root.path().join("all.zip");
        let document = advisory_with_details("GHSA-big", 3 * 1024 * 1024);
        let names: Vec<String> = (0..16).map(|index| format!("GHSA-{index:02}.json")).collect();
        let entries: Vec<(&str, &str)> = names.iter().map(|name| (name.as_str(), document.as_str())).collect();
        std::fs::write(&path, zip_of(&entries)).expect("write the archive");

        let batch = load(&OsvSource::Zip(path), &reading()).await.expect("the archive is read");

        assert_eq!(batch.advisories.len(), 16);
        let kept: usize = batch.advisories.iter().map(Advisory::approximate_size).sum();
        assert!(kept < 16 * 10 * 1024, "about 8 KiB of details per advisory, not 3 MiB: {kept} bytes");
    }

    #[tokio::test]
    async fn a_source_whose_advisories_take_more_than_the_memory_allowed_is_refused() {
        let root = tempfile::tempdir().expect("a temporary directory");
        let path = root.path().join("all.zip");
        let document = advisory_with_details("GHSA-x", 8 * 1024);
        let names: Vec<String> = (0..200).map(|index| format!("GHSA-{index:03}.json")).collect();
        let entries: Vec<(&str, &str)> = names.iter().map(|name| (name.as_str(), document.as_str())).collect();
        std::fs::write(&path, zip_of(&entries)).expect("write the archive");

        let error = load(&OsvSource::Zip(path), &reading_within(Duration::from_secs(10), 1024 * 1024))
            .await
            .expect_err("more than 1 MiB to keep");
        assert!(matches!(&error, OsvSourceError::Limit { .. }), "{error:?}");
        assert!(error.to_string().contains("INVESTIGATOR_CVE_MAX_MB"), "{error}");
    }

    #[test]
    fn an_archive_holding_more_bytes_than_a_source_may_is_refused() {
        let document = advisory_with_details("GHSA-x", 1024 * 1024);
        let names: Vec<String> = (0..8).map(|index| format!("GHSA-{index}.json")).collect();
        let entries: Vec<(&str, &str)> = names.iter().map(|name| (name.as_str(), document.as_str())).collect();
        let archive = zip_of(&entries);
        let error = archive::read_zip("all.zip", Cursor::new(archive), Budget::reading_at_most(4 * 1024 * 1024))
            .expect_err("x");
        assert!(error.to_string().contains("more than 4194304 bytes"), "{error}");
    }

    #[tokio::test]
    async fn a_download_dripping_a_byte_at_a_time_is_given_up_at_the_deadline() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("local address");
        tokio::spawn(async move {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let mut buffer = [0u8; 1024];
            let _ = stream.read(&mut buffer).await;
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\nPK").await;
            // A byte every 300 ms: every read finishes well within any per-read timeout.
            while stream.write_all(b"x").await.is_ok() {
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        });
        let started = std::time::Instant::now();
        let source = OsvSource::Url(format!("http://{address}/all.zip"));
        let error = load(&source, &reading_within(Duration::from_secs(2), u64::MAX)).await.expect_err("cut off");
        assert!(error.to_string().contains("did not answer in full within 2s"), "{error}");
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    }

    #[tokio::test]
    async fn an_entry_name_cannot_forge_a_log_line() {
        let root = tempfile::tempdir().expect("a temporary directory");
        let path = root.path().join("all.zip");
        let forged = "x.json\n2026-01-01T00:00:00Z ERROR forged line\n.json";
        std::fs::write(&path, zip_of(&[(forged, "not json")])).expect("write the archive");
        let batch = load(&OsvSource::Zip(path), &reading()).await.expect("the archive is read");
        let (document, _) = &batch.rejected[0];
        assert!(!document.contains('\n'), "{document}");
        assert!(document.contains("x.json\\n2026"), "the line break is shown escaped: {document}");
    }
}
