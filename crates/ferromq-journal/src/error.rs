//! The journal's error type.
//!
//! Every variant that comes from the file system names the file and, where it matters, the
//! offset, so an operator can find the damage. The enum is `Clone` because one failed group
//! commit must be reported to every batch it covered; I/O errors are therefore kept behind an
//! `Arc`.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Everything that can go wrong in the journal.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// Another process (or another `Journal` in this process) holds the directory's lock.
    #[error("journal lock {} is held by another process", path.display())]
    Locked { path: PathBuf },

    /// A file-system call failed.
    #[error("could not {action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: Arc<io::Error>,
    },

    /// A file-system call at a known position in a segment failed.
    #[error("could not {action} {} at offset {offset}", path.display())]
    IoAt {
        action: &'static str,
        path: PathBuf,
        offset: u64,
        #[source]
        source: Arc<io::Error>,
    },

    /// A segment was written by a newer, incompatible release.
    #[error("segment {} has format version {found}; this build reads version {supported}", path.display())]
    UnsupportedVersion {
        path: PathBuf,
        found: u32,
        supported: u32,
    },

    /// A `JournalConfig` field is out of range.
    #[error("invalid journal configuration `{key}`: {reason}")]
    InvalidConfig { key: &'static str, reason: String },

    /// A batch would not fit in one record.
    #[error("batch of {size} bytes exceeds the record limit of {max} bytes")]
    BatchTooLarge { size: u64, max: u64 },

    /// The journal was closed; nothing more can be appended.
    #[error("journal is closed")]
    Closed,

    /// An earlier write or fsync failed, so the writer refuses further batches: after a failed
    /// fsync the kernel may have dropped dirty pages, and acknowledging later batches would
    /// hide that loss.
    #[error("journal writer stopped after an earlier failure")]
    WriterFailed {
        #[source]
        cause: Box<JournalError>,
    },

    /// The writer thread went away without saying whether the batch reached the disk.
    #[error("journal writer stopped before confirming the batch")]
    Unconfirmed,
}

/// Builds a closure for `map_err` that wraps an `io::Error` with the action and path.
pub(crate) fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> JournalError {
    let path = path.to_path_buf();
    move |source| JournalError::Io {
        action,
        path,
        source: Arc::new(source),
    }
}

/// Like [`io_err`], for a call at a known offset in a segment.
pub(crate) fn io_err_at(
    action: &'static str,
    path: &Path,
    offset: u64,
) -> impl FnOnce(io::Error) -> JournalError {
    let path = path.to_path_buf();
    move |source| JournalError::IoAt {
        action,
        path,
        offset,
        source: Arc::new(source),
    }
}
