//! Frames in and out of an archive, with everything checked as they pass: on the way in, a
//! frame's length against [`MAX_FRAME_BYTES`] before any byte of it is read (the length is
//! outside input: a buffer sized from it would let a few bytes of zstd claim gigabytes), the
//! header first, positions contiguous from 1, the trailer's counts, digest and signature,
//! nothing after the trailer.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::Path;

use hmac::Mac;
use sha2::{Digest, Sha256};

use super::key::{self, ArchiveKey, ArchiveMac};
use super::{ArchiveError, FORMAT_SIGNED, FORMAT_UNSIGNED, Frame, MAGIC, MAX_FRAME_BYTES, invalid, path_text};

/// How much of a frame is read at a time: a buffer grows with what arrives, never with what
/// a length claims.
const READ_CHUNK: usize = 1024 * 1024;

/// Writes length-prefixed frames, keeping the digest (and, with a key, the MAC) of every
/// byte written.
pub(super) struct FrameWriter<W: Write> {
    out: W,
    digest: Sha256,
    mac: Option<ArchiveMac>,
}

impl<W: Write> FrameWriter<W> {
    pub(super) fn new(out: W, key: Option<&ArchiveKey>) -> Self {
        FrameWriter { out, digest: Sha256::new(), mac: key.map(ArchiveKey::mac) }
    }

    /// Writes `frame`; a frame larger than [`MAX_FRAME_BYTES`] is an `ErrorKind::FileTooLarge`
    /// error, and nothing of it is written.
    pub(super) fn write(&mut self, frame: &Frame) -> std::io::Result<()> {
        let bytes = postcard::to_stdvec(frame).map_err(std::io::Error::other)?;
        let length = u32::try_from(bytes.len())
            .ok()
            .filter(|length| *length <= MAX_FRAME_BYTES)
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::FileTooLarge))?
            .to_le_bytes();
        self.digest.update(length);
        self.digest.update(&bytes);
        if let Some(mac) = &mut self.mac {
            mac.update(&length);
            mac.update(&bytes);
        }
        self.out.write_all(&length)?;
        self.out.write_all(&bytes)
    }

    /// The trailer of what was written: signed when there is a key.
    pub(super) fn trailer(&self, events: u64, batches: u64) -> Frame {
        let sha256 = self.digest.clone().finalize().to_vec();
        match &self.mac {
            Some(mac) => {
                let hmac_sha256 = mac.clone().finalize().into_bytes().to_vec();
                Frame::SignedTrailer { events, batches, sha256, hmac_sha256 }
            }
            None => Frame::Trailer { events, batches, sha256 },
        }
    }

    pub(super) fn into_inner(self) -> W {
        self.out
    }
}

/// Why the next frame was not read.
pub(super) enum FrameError {
    /// The archive is not valid, or could not be read.
    Archive(ArchiveError),
    /// Whoever reads stopped the reading.
    Stopped,
}

impl From<ArchiveError> for FrameError {
    fn from(error: ArchiveError) -> Self {
        FrameError::Archive(error)
    }
}

/// Reads frames and checks, as it goes, everything that can be checked.
pub(super) struct ArchiveReader {
    input: zstd::Decoder<'static, BufReader<File>>,
    path: String,
    key: Option<ArchiveKey>,
    digest: Sha256,
    mac: Option<ArchiveMac>,
    format: Option<u32>,
    finished: bool,
    frames: u64,
    events: u64,
    batches: u64,
    last_position: i64,
}

impl ArchiveReader {
    pub(super) fn open(path: &Path, key: Option<&ArchiveKey>) -> Result<Self, ArchiveError> {
        let io = |source| ArchiveError::Io { action: "read", path: path_text(path), source };
        let file = File::open(path).map_err(io)?;
        let input = zstd::Decoder::new(file).map_err(io)?;
        Ok(ArchiveReader {
            input,
            path: path_text(path),
            key: key.cloned(),
            digest: Sha256::new(),
            mac: key.map(ArchiveKey::mac),
            format: None,
            finished: false,
            frames: 0,
            events: 0,
            batches: 0,
            last_position: 0,
        })
    }

    fn fail(&self, reason: impl Into<String>) -> ArchiveError {
        invalid(self.path.clone(), reason)
    }

    /// The next frame and its size in bytes; `None` after a valid trailer.
    pub(super) fn next_frame(&mut self) -> Result<Option<(Frame, usize)>, ArchiveError> {
        self.next_frame_after(|_| Ok(())).map_err(|error| match error {
            FrameError::Archive(error) => error,
            FrameError::Stopped => unreachable!("nothing stops a plain read"),
        })
    }

    /// As [`ArchiveReader::next_frame`], calling `before_reading` with the frame's size once
    /// it is known to be allowed, before any of it is read (to make room for it); an error
    /// from it stops the reading.
    pub(super) fn next_frame_after(
        &mut self,
        before_reading: impl FnOnce(usize) -> Result<(), ()>,
    ) -> Result<Option<(Frame, usize)>, FrameError> {
        if self.finished {
            return Ok(None);
        }
        let length = self.next_length()?;
        before_reading(u32::from_le_bytes(length) as usize).map_err(|()| FrameError::Stopped)?;
        Ok(self.read_and_check(length)?)
    }

    /// The next frame's length, refused beyond [`MAX_FRAME_BYTES`].
    fn next_length(&mut self) -> Result<[u8; 4], ArchiveError> {
        let mut length = [0u8; 4];
        self.read_exact(&mut length, "a frame length")?;
        self.frames += 1;
        let size = u32::from_le_bytes(length);
        if size > MAX_FRAME_BYTES {
            return Err(self.fail(format!(
                "frame {} (after event position {}) claims {size} bytes, more than the {MAX_FRAME_BYTES} a frame may hold",
                self.frames, self.last_position
            )));
        }
        Ok(length)
    }

    /// Reads the frame whose `length` was read, and checks it against what came before.
    fn read_and_check(&mut self, length: [u8; 4]) -> Result<Option<(Frame, usize)>, ArchiveError> {
        let bytes = self.read_frame(u32::from_le_bytes(length) as usize)?;
        let frame: Frame =
            postcard::from_bytes(&bytes).map_err(|error| self.fail(format!("a frame is damaged: {error}")))?;
        match &frame {
            Frame::Header { magic, format, .. } => {
                if self.format.is_some() {
                    return Err(self.fail("a second header"));
                }
                if magic != MAGIC || !matches!(*format, FORMAT_UNSIGNED | FORMAT_SIGNED) {
                    return Err(self.fail(format!(
                        "format '{magic}' version {format}, this build reads '{MAGIC}' versions {FORMAT_UNSIGNED} and {FORMAT_SIGNED}"
                    )));
                }
                if self.key.is_some() && *format != FORMAT_SIGNED {
                    return Err(self.fail(
                        "it is not signed, and INVESTIGATOR_ARCHIVE_KEY is set: only archives signed with that key are imported",
                    ));
                }
                self.format = Some(*format);
            }
            _ if self.format.is_none() => return Err(self.fail("it does not start with a header")),
            Frame::Event(event) => {
                if event.position != self.last_position + 1 {
                    return Err(
                        self.fail(format!("event positions jump from {} to {}", self.last_position, event.position))
                    );
                }
                if self.batches > 0 {
                    return Err(self.fail("an event after the idempotency batches"));
                }
                self.last_position = event.position;
                self.events += 1;
            }
            Frame::Batch { .. } => self.batches += 1,
            Frame::Trailer { events, batches, sha256 } => {
                self.check_trailer(FORMAT_UNSIGNED, (*events, *batches), sha256, None)?;
                return self.finish();
            }
            Frame::SignedTrailer { events, batches, sha256, hmac_sha256 } => {
                self.check_trailer(FORMAT_SIGNED, (*events, *batches), sha256, Some(hmac_sha256))?;
                return self.finish();
            }
        }
        self.digest.update(length);
        self.digest.update(&bytes);
        if let Some(mac) = &mut self.mac {
            mac.update(&length);
            mac.update(&bytes);
        }
        Ok(Some((frame, bytes.len())))
    }

    /// A frame's `size` bytes, read a chunk at a time.
    fn read_frame(&mut self, size: usize) -> Result<Vec<u8>, ArchiveError> {
        let mut bytes = Vec::new();
        while bytes.len() < size {
            let chunk = (size - bytes.len()).min(READ_CHUNK);
            let start = bytes.len();
            // Exactly: doubling would reserve up to twice the frame.
            bytes.reserve_exact(chunk);
            bytes.resize(start + chunk, 0);
            let (input, buffer) = (&mut self.input, &mut bytes[start..]);
            if let Err(error) = input.read_exact(buffer) {
                return Err(self.read_error(&error, "a frame"));
            }
        }
        Ok(bytes)
    }

    /// Checks a trailer against the header's format and what was read.
    fn check_trailer(
        &self,
        format: u32,
        counts: (u64, u64),
        sha256: &[u8],
        hmac_sha256: Option<&Vec<u8>>,
    ) -> Result<(), ArchiveError> {
        if self.format != Some(format) {
            return Err(self.fail("its trailer does not match the format its header names"));
        }
        if sha256 != self.digest.clone().finalize().as_slice() {
            return Err(self.fail("the checksum does not match the contents"));
        }
        if counts != (self.events, self.batches) {
            let (events, batches) = counts;
            return Err(self.fail(format!(
                "the trailer counts {events} events and {batches} batches, the file holds {} and {}",
                self.events, self.batches
            )));
        }
        match (hmac_sha256, &self.mac) {
            (Some(tag), Some(mac)) if !key::matches(mac.clone(), tag) => Err(self.fail(
                "its signature does not match: it was not exported with INVESTIGATOR_ARCHIVE_KEY, or it was altered",
            )),
            (Some(_), None) => {
                tracing::warn!(
                    archive = %self.path,
                    "the archive is signed, but INVESTIGATOR_ARCHIVE_KEY is not set: its signature is not checked"
                );
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// After a valid trailer: nothing may follow.
    fn finish(&mut self) -> Result<Option<(Frame, usize)>, ArchiveError> {
        let mut rest = [0u8; 1];
        match self.input.read(&mut rest) {
            Ok(0) => {}
            Ok(_) => return Err(self.fail("there are bytes after the trailer")),
            Err(error) => return Err(self.fail(format!("cannot decompress the end: {error}"))),
        }
        self.finished = true;
        Ok(None)
    }

    fn read_exact(&mut self, buffer: &mut [u8], what: &str) -> Result<(), ArchiveError> {
        self.input.read_exact(buffer).map_err(|error| self.read_error(&error, what))
    }

    fn read_error(&self, error: &std::io::Error, what: &str) -> ArchiveError {
        if error.kind() == std::io::ErrorKind::UnexpectedEof {
            self.fail(format!("it ends before {what} (truncated?)"))
        } else {
            self.fail(format!("cannot decompress {what}: {error}"))
        }
    }
}
