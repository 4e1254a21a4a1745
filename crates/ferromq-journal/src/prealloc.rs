//! Zero-filled spare segments, prepared off the writer thread.
//!
//! An `fdatasync` after appending to a file must also make its new size durable: one more
//! metadata write (the inode, or a commit on a journalled file system). Writing into a file
//! whose blocks already hold zeros changes no metadata, so the sync only flushes data: on
//! the test machine (ext4 on virtio) 130 µs
//! instead of 200 µs per sync, and 18–30 % more persistent messages per second with eight
//! synchronous producers (bench/RESULTS.md). `fallocate` is not enough: its unwritten extents
//! are converted at the first write, which is again a metadata change; the zeros must really
//! be written. KahaDB does the same (`preallocationStrategy`, `preallocationScope`).
//!
//! Once the active segment has taken a little data, a helper thread writes one spare file
//! (`spare.segment`, `segment_size` bytes of zeros, synced); the writer takes it at the next
//! roll. Nothing waits for a spare: without one, a roll creates an ordinary growing segment,
//! and the writer rolls out of a growing segment as soon as a spare is ready. A journal
//! that is opened and closed without much traffic therefore never writes a spare, which keeps
//! short-lived brokers (tests, tools) cheap.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

/// Name of the spare inside the journal directory; not a segment name, so recovery ignores it.
pub(crate) const SPARE_FILE: &str = "spare.segment";
/// A spare is prepared once the active segment took this much (or half of a smaller segment).
const PREPARE_AFTER: u64 = 256 * 1024;
/// Zeros are written in chunks of this size.
const CHUNK: usize = 1 << 20;

/// Prepares and hands out spare segments for one journal directory.
#[derive(Debug)]
pub(crate) struct Preallocator {
    dir: PathBuf,
    size: u64,
    enabled: bool,
    job: Option<JoinHandle<std::io::Result<File>>>,
    ready: Option<File>,
    /// A failed preparation is not retried: the disk is probably full, and growing
    /// segments work without spares.
    failed: bool,
}

impl Preallocator {
    /// Removes a spare left by an earlier run (its content is unknown after a crash).
    pub(crate) fn new(dir: &Path, size: u64, enabled: bool) -> Self {
        remove_spare(dir);
        Self {
            dir: dir.to_path_buf(),
            size,
            enabled,
            job: None,
            ready: None,
            failed: false,
        }
    }

    /// Bytes a segment takes before a spare is prepared for the segment after it.
    pub(crate) fn threshold(&self) -> u64 {
        PREPARE_AFTER.min(self.size / 2)
    }

    /// Starts writing a spare unless one is ready or being written.
    pub(crate) fn prepare(&mut self) {
        if !self.enabled || self.failed || self.job.is_some() || self.ready.is_some() {
            return;
        }
        let path = self.dir.join(SPARE_FILE);
        let size = self.size;
        let job = std::thread::Builder::new()
            .name("ferromq-journal-spare".into())
            .spawn(move || write_zeros(&path, size));
        match job {
            Ok(job) => self.job = Some(job),
            Err(error) => self.give_up(&error),
        }
    }

    /// Whether a spare can be taken now without waiting.
    pub(crate) fn is_ready(&mut self) -> bool {
        if self.job.as_ref().is_some_and(JoinHandle::is_finished) {
            self.collect();
        }
        self.ready.is_some()
    }

    /// The spare, if one is ready, with its path; the caller renames it.
    pub(crate) fn take(&mut self) -> Option<(File, PathBuf)> {
        if !self.is_ready() {
            return None;
        }
        self.ready
            .take()
            .map(|file| (file, self.dir.join(SPARE_FILE)))
    }

    fn collect(&mut self) {
        let Some(job) = self.job.take() else { return };
        match job.join() {
            Ok(Ok(file)) => self.ready = Some(file),
            Ok(Err(error)) => self.give_up(&error),
            Err(_) => self.give_up(&std::io::Error::other("the spare writer panicked")),
        }
    }

    fn give_up(&mut self, error: &std::io::Error) {
        tracing::warn!(dir = %self.dir.display(), %error,
            "cannot preallocate journal segments; new segments grow as they are written");
        self.failed = true;
        remove_spare(&self.dir);
    }
}

impl Drop for Preallocator {
    /// Waits for a spare being written, so no thread writes into the directory after the
    /// journal released its lock, then removes the spare: it is never reused.
    fn drop(&mut self) {
        if let Some(job) = self.job.take() {
            let _ = job.join();
        }
        self.ready = None;
        remove_spare(&self.dir);
    }
}

fn remove_spare(dir: &Path) {
    match fs::remove_file(dir.join(SPARE_FILE)) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            tracing::warn!(dir = %dir.display(), %error, "cannot remove the spare journal segment");
        }
        _ => {}
    }
}

/// Creates `path` holding `size` zero bytes, durably.
fn write_zeros(path: &Path, size: u64) -> std::io::Result<File> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    let zeros = vec![0u8; CHUNK];
    let mut left = size;
    while left > 0 {
        let n = usize::try_from(left).map_or(CHUNK, |left| left.min(CHUNK));
        file.write_all(&zeros[..n])?;
        left -= n as u64;
    }
    file.sync_all()?;
    Ok(file)
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_spare_is_zeros_of_the_segment_size_and_is_removed_when_dropped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut spares = Preallocator::new(dir.path(), 3 * CHUNK as u64 + 17, true);
        assert!(spares.take().is_none(), "nothing prepared yet");
        spares.prepare();
        let start = std::time::Instant::now();
        while !spares.is_ready() {
            assert!(start.elapsed().as_secs() < 30, "spare never finished");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let (_file, path) = spares.take().expect("a ready spare");
        let bytes = fs::read(&path).expect("read spare");
        assert_eq!(bytes.len(), 3 * CHUNK + 17);
        assert!(bytes.iter().all(|b| *b == 0));
        spares.prepare();
        drop(spares);
        assert!(!path.exists(), "a spare does not outlive its journal");
    }

    #[test]
    fn disabled_or_small_segments() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut spares = Preallocator::new(dir.path(), 4096, false);
        spares.prepare();
        assert!(!spares.is_ready());
        assert_eq!(spares.threshold(), 2048);
        assert!(!dir.path().join(SPARE_FILE).exists());
    }

    #[test]
    fn a_leftover_spare_is_removed() {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::write(dir.path().join(SPARE_FILE), b"left by a crash").expect("write leftover");
        let _spares = Preallocator::new(dir.path(), 4096, true);
        assert!(!dir.path().join(SPARE_FILE).exists());
    }
}
