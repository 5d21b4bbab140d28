//! Where the CVE driver reads OSV advisories from: a directory of `*.json` files (a checkout
//! of the PyPA advisory database), a zip archive of them (OSV's `PyPI/all.zip`), or a URL
//! serving either the archive or JSON.
//!
//! Boundary: reading only. A document that cannot be read is set aside with its reason and
//! never stops the others; only a source that cannot be read at all (a missing directory, a
//! broken archive, a failed download) is an error. Parsing is [`investigator_core::osv`]'s.

use std::io::{Cursor, Read, Seek};
use std::path::{Path, PathBuf};
use std::time::Duration;

use investigator_core::osv::{Advisory, parse_advisory};
use serde_json::value::RawValue;

/// The largest advisory document read; a bigger one is rejected.
const MAX_DOCUMENT_BYTES: u64 = 16 * 1024 * 1024;
/// The largest download read; a bigger one is refused whole.
const MAX_DOWNLOAD_BYTES: u64 = 1024 * 1024 * 1024;
/// The first bytes of a zip archive (a local file header).
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
/// The extension of advisory documents, in a directory or an archive.
const JSON_EXTENSION: &str = ".json";

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

    /// The source as configured, for logs and errors.
    fn describe(&self) -> String {
        match self {
            OsvSource::Directory(path) | OsvSource::Zip(path) => path.display().to_string(),
            OsvSource::Url(url) => url.clone(),
        }
    }
}

/// Why a source could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum OsvSourceError {
    /// A directory or archive on disk could not be opened or listed.
    #[error("cannot read {}", path.display())]
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
        /// The archive's path or URL.
        path: String,
        /// What the zip reader said.
        reason: String,
    },
    /// A download failed or was answered with an error status.
    #[error("cannot download {url}: {reason}")]
    Http {
        /// The URL asked.
        url: String,
        /// The transport error or the status.
        reason: String,
    },
    /// A download is larger than the limit.
    #[error("{what} is larger than {limit} bytes")]
    TooLarge {
        /// What was too large.
        what: String,
        /// The limit, in bytes.
        limit: u64,
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
    /// For each document that could not be read: its name (a path, an archive entry, a URL
    /// with an array index) and the reason.
    pub rejected: Vec<(String, String)>,
}

impl OsvBatch {
    /// Adds one document's outcome.
    fn push(&mut self, document: String, read: Result<Advisory, String>) {
        match read {
            Ok(advisory) => self.advisories.push(advisory),
            Err(reason) => {
                tracing::warn!(document = %document, reason = %reason, "advisory document rejected");
                self.rejected.push((document, reason));
            }
        }
    }
}

/// Loads every advisory of `source`. A directory is walked recursively for `*.json` files,
/// in path order; a zip archive's `*.json` entries are read in name order; a URL is fetched
/// (connecting, and each read of the body, within `timeout`) and read as a zip archive when
/// its body starts with `PK\x03\x04`, otherwise as one JSON advisory or an array of them.
pub async fn load(source: &OsvSource, timeout: Duration) -> Result<OsvBatch, OsvSourceError> {
    let source_name = source.describe();
    let batch = match source {
        OsvSource::Directory(root) => {
            let root = root.clone();
            blocking(&source_name, move || read_directory(&root)).await?
        }
        OsvSource::Zip(path) => {
            let path = path.clone();
            blocking(&source_name, move || read_zip_file(&path)).await?
        }
        OsvSource::Url(url) => {
            let body = download(url, timeout).await?;
            let url = url.clone();
            blocking(&source_name, move || read_download(&url, body)).await?
        }
    };
    tracing::info!(
        source = %source_name,
        advisories = batch.advisories.len(),
        rejected = batch.rejected.len(),
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

fn read_directory(root: &Path) -> Result<OsvBatch, OsvSourceError> {
    let mut files = Vec::new();
    collect_json_files(root, &mut files)?;
    files.sort();
    let mut batch = OsvBatch::default();
    for path in files {
        let read = read_file(&path).and_then(|bytes| parse(&bytes));
        batch.push(path.display().to_string(), read);
    }
    Ok(batch)
}

/// Adds the `*.json` files under `directory` to `files`. Symbolic links to directories are
/// not followed (a link cycle would never end); links to files are read.
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
    }
    Ok(())
}

/// One file's bytes, refused when larger than a document may be.
fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|error| error.to_string())?;
    read_limited(file)
}

fn read_zip_file(path: &Path) -> Result<OsvBatch, OsvSourceError> {
    let file = std::fs::File::open(path).map_err(|source| OsvSourceError::Io { path: path.to_path_buf(), source })?;
    read_zip(&path.display().to_string(), file)
}

/// Reads the `*.json` entries of an archive, in name order. Each entry is named
/// `{archive}!{entry}` in the rejected list.
fn read_zip<R: Read + Seek>(archive_name: &str, reader: R) -> Result<OsvBatch, OsvSourceError> {
    let zip_error =
        |error: zip::result::ZipError| OsvSourceError::Zip { path: archive_name.to_owned(), reason: error.to_string() };
    let mut archive = zip::ZipArchive::new(reader).map_err(zip_error)?;
    let mut entries = Vec::new();
    for index in 0..archive.len() {
        match archive.name_for_index(index) {
            Some(Ok(name)) if name.ends_with(JSON_EXTENSION) => entries.push((name.into_owned(), index)),
            Some(Err(error)) => return Err(zip_error(error)),
            Some(Ok(_)) | None => {}
        }
    }
    entries.sort();
    let mut batch = OsvBatch::default();
    for (name, index) in entries {
        let read = match archive.by_index(index) {
            Ok(entry) if entry.is_file() => read_limited(entry).and_then(|bytes| parse(&bytes)),
            Ok(_) => continue,
            Err(error) => Err(error.to_string()),
        };
        batch.push(format!("{archive_name}!{name}"), read);
    }
    Ok(batch)
}

/// Fetches `url`, refusing an error status and a body larger than the download limit.
async fn download(url: &str, timeout: Duration) -> Result<Vec<u8>, OsvSourceError> {
    let http_error = |reason: String| OsvSourceError::Http { url: url.to_owned(), reason };
    let too_large = || OsvSourceError::TooLarge { what: url.to_owned(), limit: MAX_DOWNLOAD_BYTES };
    let client = reqwest::Client::builder()
        .connect_timeout(timeout)
        .read_timeout(timeout)
        .build()
        .map_err(|error| http_error(error.to_string()))?;
    let mut response = client.get(url).send().await.map_err(|error| http_error(error.to_string()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(http_error(format!("status {status}")));
    }
    if response.content_length().is_some_and(|length| length > MAX_DOWNLOAD_BYTES) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|error| http_error(error.to_string()))? {
        if body_len(&body) + body_len(&chunk) > MAX_DOWNLOAD_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A downloaded body: a zip archive, an array of advisories, or one advisory.
fn read_download(url: &str, body: Vec<u8>) -> Result<OsvBatch, OsvSourceError> {
    if body.starts_with(ZIP_MAGIC) {
        return read_zip(url, Cursor::new(body));
    }
    let mut batch = OsvBatch::default();
    let is_array = body.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'[');
    if !is_array {
        let read = check_document_size(&body).and_then(|()| parse(&body));
        batch.push(url.to_owned(), read);
        return Ok(batch);
    }
    match serde_json::from_slice::<Vec<&RawValue>>(&body) {
        Ok(documents) => {
            for (index, document) in documents.into_iter().enumerate() {
                let bytes = document.get().as_bytes();
                let read = check_document_size(bytes).and_then(|()| parse(bytes));
                batch.push(format!("{url}[{index}]"), read);
            }
        }
        Err(error) => batch.push(url.to_owned(), Err(format!("the array of advisories is not JSON: {error}"))),
    }
    Ok(batch)
}

/// Reads at most one document's worth of bytes; more is refused.
fn read_limited(reader: impl Read) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    reader.take(MAX_DOCUMENT_BYTES + 1).read_to_end(&mut bytes).map_err(|error| error.to_string())?;
    check_document_size(&bytes)?;
    Ok(bytes)
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

    const TIMEOUT: Duration = Duration::from_secs(10);

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
        let batch = load(&source, TIMEOUT).await.expect("the directory is read");

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
        let error = load(&OsvSource::Directory(missing.clone()), TIMEOUT).await.expect_err("missing");
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

        let batch = load(&OsvSource::Zip(path.clone()), TIMEOUT).await.expect("the archive is read");

        assert_eq!(ids(&batch), ["PYSEC-1", "PYSEC-2", "GHSA-1"]);
        let expected_name = format!("{}!broken.json", path.display());
        assert_eq!(batch.rejected, [(expected_name, "the document is not a JSON object".to_owned())]);
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_zip_archive_is_a_zip_error() {
        let root = tempfile::tempdir().expect("a temporary directory");
        let path = root.path().join("all.zip");
        std::fs::write(&path, "not an archive").expect("write");
        let error = load(&OsvSource::Zip(path), TIMEOUT).await.expect_err("not a zip");
        assert!(matches!(error, OsvSourceError::Zip { .. }), "{error:?}");
    }

    #[tokio::test]
    async fn a_url_serving_a_zip_archive_is_read_as_one() {
        let url = serve_once(zip_of(&[("GHSA-1.json", &advisory_json("GHSA-1"))])).await;
        let batch = load(&OsvSource::Url(url), TIMEOUT).await.expect("the download is read");
        assert_eq!(ids(&batch), ["GHSA-1"]);
        assert!(batch.rejected.is_empty());
    }

    #[tokio::test]
    async fn a_url_serving_a_json_array_gives_each_advisory() {
        let body =
            format!("  [{}, {{\"summary\": \"no id\"}}, {}]", advisory_json("PYSEC-1"), advisory_json("PYSEC-2"));
        let url = serve_once(body.into_bytes()).await;
        let batch = load(&OsvSource::Url(url.clone()), TIMEOUT).await.expect("the download is read");
        assert_eq!(ids(&batch), ["PYSEC-1", "PYSEC-2"]);
        assert_eq!(batch.rejected, [(format!("{url}[1]"), "the field 'id' is missing".to_owned())]);
    }

    #[tokio::test]
    async fn a_url_serving_one_advisory_gives_it() {
        let url = serve_once(advisory_json("PYSEC-9").into_bytes()).await;
        let batch = load(&OsvSource::Url(url), TIMEOUT).await.expect("the download is read");
        assert_eq!(ids(&batch), ["PYSEC-9"]);
    }

    #[tokio::test]
    async fn an_unreachable_url_is_an_http_error() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("local address");
        drop(listener);
        let url = format!("http://{address}/all.zip");
        let error = load(&OsvSource::Url(url.clone()), TIMEOUT).await.expect_err("nothing listens");
        assert!(matches!(&error, OsvSourceError::Http { url: asked, .. } if *asked == url), "{error:?}");
    }

    #[test]
    fn an_oversized_document_is_rejected() {
        let oversized = vec![b' '; usize::try_from(MAX_DOCUMENT_BYTES).expect("fits") + 1];
        let read = read_limited(oversized.as_slice());
        assert_eq!(read, Err(format!("the document is larger than {MAX_DOCUMENT_BYTES} bytes")));
    }
}
