//! Appending trees to a file so that a crash or a full disk never leaves a half-written
//! record in the middle: each tree is encoded first, then written with one `write_all` and
//! flushed; after a failed write the writer refuses more.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::{Diagnostic, Severity, StoreError, TreeRecord};

#[derive(Debug)]
pub struct TreeWriter {
    path: PathBuf,
    file: File,
    buf: Vec<u8>,
    poisoned: bool,
    written: u64,
}

impl TreeWriter {
    /// Creates `path`, refusing to overwrite an existing file.
    pub fn create(path: impl AsRef<Path>) -> Result<TreeWriter, StoreError> {
        let path = path.as_ref();
        let file = OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                StoreError::Exists { path: path.to_owned() }
            } else {
                StoreError::io(path, e)
            }
        })?;
        Ok(TreeWriter::new(path, file))
    }

    /// Opens `path` to add trees after the ones it has (creating it if needed). A last line
    /// without its newline is either a complete tree (it gets its newline) or an interrupted
    /// write, which is cut off and reported, so new trees never join onto a broken one.
    pub fn append(path: impl AsRef<Path>) -> Result<(TreeWriter, Option<Diagnostic>), StoreError> {
        let path = path.as_ref();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| StoreError::io(path, e))?;
        let repaired = cut_unterminated_tail(&mut file, path).map_err(|e| StoreError::io(path, e))?;
        file.seek(SeekFrom::End(0)).map_err(|e| StoreError::io(path, e))?;
        Ok((TreeWriter::new(path, file), repaired))
    }

    fn new(path: &Path, file: File) -> TreeWriter {
        TreeWriter { path: path.to_owned(), file, buf: Vec::new(), poisoned: false, written: 0 }
    }

    /// Writes one tree as one line and flushes it.
    pub fn write(&mut self, record: &TreeRecord) -> Result<(), StoreError> {
        if self.poisoned {
            return Err(StoreError::Poisoned { path: self.path.clone() });
        }
        self.buf.clear();
        record
            .encode(&mut self.buf)
            .map_err(|source| StoreError::Encode { path: self.path.clone(), source })?;
        let start = self.file.stream_position();
        let result = self.file.write_all(&self.buf).and_then(|()| self.file.flush());
        if let Err(e) = result {
            self.poisoned = true;
            // Best effort: drop the partial line so the file still ends at a complete tree.
            if let Ok(start) = start {
                let _ = self.file.set_len(start);
            }
            return Err(StoreError::io(&self.path, e));
        }
        self.written += 1;
        Ok(())
    }

    /// Trees written by this writer.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Forces the data to disk (fsync).
    pub fn sync(&mut self) -> Result<(), StoreError> {
        self.file.sync_data().map_err(|e| StoreError::io(&self.path, e))
    }
}

/// Truncates the file after its last newline if it ends without one.
fn cut_unterminated_tail(file: &mut File, path: &Path) -> std::io::Result<Option<Diagnostic>> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(None);
    }
    let mut last = [0u8; 1];
    file.seek(SeekFrom::Start(len - 1))?;
    std::io::Read::read_exact(file, &mut last)?;
    if last[0] == b'\n' {
        return Ok(None);
    }
    // Walk back to the previous newline in 64 KiB blocks.
    let mut end = len;
    let mut cut_at = 0u64;
    let mut block = vec![0u8; 64 << 10];
    'search: while end > 0 {
        let start = end.saturating_sub(block.len() as u64);
        let chunk = &mut block[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        std::io::Read::read_exact(file, chunk)?;
        if let Some(i) = memchr::memrchr(b'\n', chunk) {
            cut_at = start + i as u64 + 1;
            break 'search;
        }
        end = start;
    }
    let line = count_newlines(file, cut_at)? + 1;
    let mut tail = vec![0u8; (len - cut_at) as usize];
    file.seek(SeekFrom::Start(cut_at))?;
    std::io::Read::read_exact(file, &mut tail)?;
    if TreeRecord::decode(&tail).is_ok() {
        // A complete tree that only lacks its newline: keep it.
        file.seek(SeekFrom::End(0))?;
        file.write_all(b"\n")?;
        return Ok(None);
    }
    file.set_len(cut_at)?;
    Ok(Some(Diagnostic {
        path: path.to_owned(),
        line,
        severity: Severity::Warning,
        message: format!(
            "the last line was incomplete ({} bytes, no newline, not a readable tree) and has been removed before appending",
            len - cut_at
        ),
    }))
}

fn count_newlines(file: &mut File, upto: u64) -> std::io::Result<u64> {
    file.seek(SeekFrom::Start(0))?;
    let mut reader = std::io::Read::take(&mut *file, upto);
    let mut buf = vec![0u8; 1 << 20];
    let mut count = 0u64;
    loop {
        let n = std::io::Read::read(&mut reader, &mut buf)?;
        if n == 0 {
            break;
        }
        count += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
    }
    Ok(count)
}
