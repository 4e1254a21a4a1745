//! The directory lock: one process (one `Journal`) per journal directory.
//!
//! An OS advisory lock (`flock` on Unix) on `<dir>/lock`, not a pid file: the kernel drops it
//! when the file is closed or the process dies, `kill -9` included, so a crash never leaves a
//! stale lock behind. The lock is per open file, so a second `open` in the same process
//! conflicts too. The file's content means nothing.

use std::fs::{File, OpenOptions};
use std::path::Path;

use fs4::fs_std::FileExt;

use crate::config::LockMode;
use crate::error::{io_err, JournalError};

/// Name of the lock file inside the journal directory.
pub(crate) const LOCK_FILE: &str = "lock";

/// Takes the lock; the returned file holds it until dropped.
pub(crate) fn acquire(dir: &Path, mode: LockMode) -> Result<File, JournalError> {
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io_err("open lock file", &path))?;
    let locked = file.try_lock_exclusive().map_err(io_err("lock", &path))?;
    if locked {
        return Ok(file);
    }
    match mode {
        LockMode::Fail => Err(JournalError::Locked { path }),
        LockMode::Wait => {
            tracing::info!(path = %path.display(), "journal is locked by another process; waiting");
            file.lock_exclusive().map_err(io_err("lock", &path))?;
            tracing::info!(path = %path.display(), "journal lock acquired");
            Ok(file)
        }
    }
}
