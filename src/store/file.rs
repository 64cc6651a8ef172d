//! Opening a tree file: a byte-offset index of its lines, built without parsing JSON, and
//! on-demand decoding of one line at a time.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::{Diagnostic, Severity, StoreError, TreeRecord};

/// Lines longer than this are refused rather than read into memory.
pub const MAX_LINE_BYTES: u64 = 1 << 30;

/// Where one non-blank line sits in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineSpan {
    pub offset: u64,
    /// Bytes, without the newline (and without a `\r` before it).
    pub len: u64,
    /// 1-based line number.
    pub line: u64,
    /// False for a last line with no newline: possibly cut off mid-write.
    pub terminated: bool,
}

/// A decoded tree and the warnings its line produced.
#[derive(Debug)]
pub struct Loaded {
    pub line: u64,
    pub record: TreeRecord,
    pub warnings: Vec<Diagnostic>,
}

/// An opened tree file: the index of its lines. Trees are decoded only when asked for, so a
/// large file opens in the time it takes to scan it for newlines.
#[derive(Debug)]
pub struct TreeFile {
    path: PathBuf,
    file: File,
    size: u64,
    lines: Vec<LineSpan>,
}

impl TreeFile {
    /// Indexes `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<TreeFile, StoreError> {
        let path = path.as_ref();
        let mut file = File::open(path).map_err(|e| StoreError::io(path, e))?;
        let lines = index_lines(&mut file).map_err(|e| StoreError::io(path, e))?;
        let size = file.metadata().map_err(|e| StoreError::io(path, e))?.len();
        Ok(TreeFile { path: path.to_owned(), file, size, lines })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// File size in bytes when it was indexed.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Number of non-blank lines, i.e. of trees if every line is good.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn spans(&self) -> &[LineSpan] {
        &self.lines
    }

    /// The raw bytes of tree `index` (without newline).
    pub fn read_raw(&self, index: usize) -> Result<Vec<u8>, StoreError> {
        let span = self.span(index)?;
        if span.len > MAX_LINE_BYTES {
            // Reported by `load` as a diagnostic; here the caller asked for bytes.
            return Err(StoreError::io(
                &self.path,
                std::io::Error::other(format!("line {} is {} bytes, over the limit", span.line, span.len)),
            ));
        }
        let mut buf = vec![0u8; span.len as usize];
        read_exact_at(&self.file, &mut buf, span.offset).map_err(|e| StoreError::io(&self.path, e))?;
        Ok(buf)
    }

    /// Decodes tree `index`. A line that holds no readable tree comes back as an error
    /// [`Diagnostic`]; I/O failures are [`StoreError`]s.
    pub fn load(&self, index: usize) -> Result<Result<Loaded, Diagnostic>, StoreError> {
        let span = self.span(index)?;
        if span.len > MAX_LINE_BYTES {
            return Ok(Err(self.diagnostic(
                span.line,
                Severity::Error,
                format!(
                    "the line is {} bytes, over the {} MiB limit for one tree; skipped",
                    span.len,
                    MAX_LINE_BYTES >> 20
                ),
            )));
        }
        let bytes = self.read_raw(index)?;
        Ok(self.decode_line(span, &bytes))
    }

    /// Decodes every line in order: the trees, and a diagnostic for every line that has a
    /// problem.
    pub fn load_all(&self) -> Result<(Vec<Loaded>, Vec<Diagnostic>), StoreError> {
        let mut trees = Vec::with_capacity(self.len());
        let mut diagnostics = Vec::new();
        for i in 0..self.len() {
            match self.load(i)? {
                Ok(mut loaded) => {
                    diagnostics.append(&mut loaded.warnings);
                    trees.push(loaded);
                }
                Err(d) => diagnostics.push(d),
            }
        }
        Ok((trees, diagnostics))
    }

    fn span(&self, index: usize) -> Result<LineSpan, StoreError> {
        self.lines.get(index).copied().ok_or_else(|| StoreError::NoSuchTree {
            path: self.path.clone(),
            index,
            count: self.lines.len(),
        })
    }

    fn decode_line(&self, span: LineSpan, bytes: &[u8]) -> Result<Loaded, Diagnostic> {
        match TreeRecord::decode(bytes) {
            Ok(decoded) => Ok(Loaded {
                line: span.line,
                record: decoded.record,
                warnings: decoded
                    .warnings
                    .into_iter()
                    .map(|m| self.diagnostic(span.line, Severity::Warning, m))
                    .collect(),
            }),
            Err(e) if e.eof && !span.terminated => Err(self.diagnostic(
                span.line,
                Severity::Error,
                format!(
                    "the last line is incomplete ({} bytes and no newline): the file was probably cut off while being written; this tree is skipped",
                    span.len
                ),
            )),
            Err(e) => Err(self.diagnostic(span.line, Severity::Error, format!("{}; this line is skipped", e.message))),
        }
    }

    fn diagnostic(&self, line: u64, severity: Severity, message: String) -> Diagnostic {
        Diagnostic { path: self.path.clone(), line, severity, message }
    }
}

/// Scans for newlines in 4 MiB chunks and records each non-blank line.
fn index_lines(file: &mut File) -> std::io::Result<Vec<LineSpan>> {
    const CHUNK: usize = 4 << 20;
    let mut buf = vec![0u8; CHUNK];
    let mut lines = Vec::new();
    let mut pos: u64 = 0;
    let mut line_start: u64 = 0;
    let mut line_no: u64 = 1;
    // Whether the current line's last byte so far was '\r' (a CRLF split across chunks).
    let mut last_was_cr = false;
    let push = |start: u64, end: u64, cr: bool, line: u64, terminated: bool, lines: &mut Vec<LineSpan>| {
        let end = if cr && end > start { end - 1 } else { end };
        if end > start {
            lines.push(LineSpan { offset: start, len: end - start, line, terminated });
        }
    };
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buf[..n];
        let mut prev = 0usize;
        for nl in memchr::memchr_iter(b'\n', chunk) {
            let cr = if nl > prev { chunk[nl - 1] == b'\r' } else { last_was_cr };
            let end = pos + nl as u64;
            push(line_start, end, cr, line_no, true, &mut lines);
            line_start = end + 1;
            line_no += 1;
            prev = nl + 1;
            last_was_cr = false;
        }
        if prev < n {
            last_was_cr = chunk[n - 1] == b'\r';
        }
        pos += n as u64;
    }
    if line_start < pos {
        push(line_start, pos, false, line_no, false, &mut lines);
    }
    Ok(lines)
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, offset)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn spans(content: &[u8]) -> Vec<(u64, u64, u64, bool)> {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(content).unwrap();
        use std::io::Seek;
        f.rewind().unwrap();
        index_lines(&mut f).unwrap().into_iter().map(|s| (s.offset, s.len, s.line, s.terminated)).collect()
    }

    #[test]
    fn index_skips_blank_lines_and_strips_crlf() {
        assert_eq!(spans(b""), vec![]);
        assert_eq!(spans(b"ab\n\ncd\r\n"), vec![(0, 2, 1, true), (4, 2, 3, true)]);
        assert_eq!(spans(b"ab\nc"), vec![(0, 2, 1, true), (3, 1, 2, false)]);
        assert_eq!(spans(b"\r\n\n"), vec![]);
    }
}
