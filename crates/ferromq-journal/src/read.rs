//! Reading stored payloads back by their place in the segment files.
//!
//! The writer's index knows where every live payload lies; the core pages messages in
//! through [`crate::Journal::read`] and compaction at open copies them forward. Payloads
//! written one after the other sit next to each other on disk, so neighbours are read with
//! one `pread` and sliced, instead of one system call per message.
//!
//! The records were checked when they were written or replayed; damage done to a file after
//! that shows up as a payload the core cannot decode, which it reports and skips.

use std::collections::HashMap;
use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;
use std::path::Path;

use bytes::Bytes;

use crate::error::{io_err_at, JournalError};
use crate::index::Location;
use crate::segment::segment_path;

/// Two payloads at most this far apart are read with one `pread` (the gap is read and
/// dropped): small records between them (removals, other spaces' messages) cost less to
/// read than a system call.
const MAX_GAP: u64 = 64 * 1024;
/// Largest single `pread`.
const MAX_SPAN: u64 = 8 * 1024 * 1024;

/// Reads the payloads at `locations`, in order, as `(seq, payload)`.
///
/// # Errors
/// I/O errors naming the segment and offset (also when a file is shorter than the index
/// says).
pub(crate) fn read_payloads(
    dir: &Path,
    locations: &[Location],
) -> Result<Vec<(u64, Bytes)>, JournalError> {
    let mut files: HashMap<u64, File> = HashMap::new();
    let mut out = Vec::with_capacity(locations.len());
    let mut rest = locations;
    while let Some(first) = rest.first() {
        // The run of neighbours one read covers.
        let mut end = first.at.saturating_add(u64::from(first.len));
        let mut count = 1;
        for next in &rest[1..] {
            let next_end = next.at.saturating_add(u64::from(next.len));
            if next.segment != first.segment
                || next.at < end
                || next.at - end > MAX_GAP
                || next_end - first.at > MAX_SPAN
            {
                break;
            }
            end = next_end;
            count += 1;
        }
        let (run, tail) = rest.split_at(count);
        rest = tail;
        let path = segment_path(dir, first.segment);
        let file = match files.entry(first.segment) {
            std::collections::hash_map::Entry::Occupied(open) => open.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(File::open(&path).map_err(io_err_at("open", &path, 0))?)
            }
        };
        let span = usize::try_from(end - first.at).unwrap_or(usize::MAX);
        let mut buffer = vec![0u8; span];
        file.read_exact_at(&mut buffer, first.at)
            .map_err(io_err_at("read back", &path, first.at))?;
        let buffer = Bytes::from(buffer);
        for location in run {
            let start = usize::try_from(location.at - first.at).unwrap_or(usize::MAX);
            let stop = start.saturating_add(location.len as usize);
            if buffer.get(start..stop).is_none() {
                // Only an index entry whose offset did not fit in 32 bits could land here.
                let error = std::io::Error::new(ErrorKind::InvalidData, "payload outside its read");
                return Err(io_err_at("read back", &path, location.at)(error));
            }
            out.push((location.seq, buffer.slice(start..stop)));
        }
    }
    Ok(out)
}
