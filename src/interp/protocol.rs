//! Frames between arbor and a worker: a 4-byte big-endian length, then UTF-8 JSON.

use std::io::{Read as _, Write as _};
use std::process::{ChildStdin, ChildStdout};
use std::time::Instant;

use rustix::event::{PollFd, PollFlags, Timespec};
use serde::{Deserialize, Serialize};

use super::limits::ChildLimits;

/// Larger frames mean a broken worker (a result is at most ~1 MiB).
const MAX_FRAME: usize = 16 << 20;

/// The first frame a worker reads.
#[derive(Serialize)]
pub(crate) struct Config<'a> {
    pub tool_source: &'a str,
    pub workdir: &'a str,
    /// arbor unshared a pid namespace for the worker's children: the worker forks once to be
    /// its pid 1.
    pub pid_namespace: bool,
    pub limits: ChildLimits,
    /// Seccomp programs each request's child installs (hex of `struct sock_filter[]`).
    pub request_filters: Vec<String>,
}

/// The worker's first answer: `kind` is `ready` or `fatal`.
#[derive(Debug, Deserialize)]
pub(crate) struct Ready {
    pub kind: String,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub pid_namespace_init: bool,
}

#[derive(Serialize)]
pub(crate) struct Request<'a> {
    pub ancestors: &'a [String],
    pub code: &'a str,
}

/// How a request's child ended, as its worker saw it.
#[derive(Debug, Deserialize)]
pub(crate) struct Response {
    pub signal: Option<i32>,
    pub exit_code: Option<i32>,
    pub result: Option<ChildResult>,
    pub result_error: Option<String>,
    /// The child could not set up its limits or filters; the code did not run.
    pub setup_error: Option<String>,
}

/// What the child itself wrote before exiting.
#[derive(Debug, Deserialize)]
pub(crate) struct ChildResult {
    pub observation: Option<String>,
    #[serde(default)]
    pub raised: bool,
}

pub(crate) fn write_frame<T: Serialize>(stdin: &mut ChildStdin, message: &T) -> std::io::Result<()> {
    let body = serde_json::to_vec(message)?;
    let len = u32::try_from(body.len()).map_err(|_| std::io::Error::other("frame too large"))?;
    let mut frame = Vec::with_capacity(body.len() + 4);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(&body);
    stdin.write_all(&frame)?;
    stdin.flush()
}

#[derive(Debug)]
pub(crate) enum ReadError {
    /// The deadline passed first.
    Timeout,
    /// The worker closed its end: it died.
    Closed,
    Io(std::io::Error),
    Invalid(String),
}

/// Reads frames from a worker's stdout, waiting no longer than a deadline.
pub(crate) struct FrameReader {
    stdout: ChildStdout,
    buffer: Vec<u8>,
}

impl FrameReader {
    pub(crate) fn new(stdout: ChildStdout) -> FrameReader {
        FrameReader { stdout, buffer: Vec::new() }
    }

    pub(crate) fn read<T: serde::de::DeserializeOwned>(&mut self, deadline: Instant) -> Result<T, ReadError> {
        let body = self.read_body(deadline)?;
        serde_json::from_slice(&body).map_err(|e| ReadError::Invalid(format!("bad frame: {e}")))
    }

    fn read_body(&mut self, deadline: Instant) -> Result<Vec<u8>, ReadError> {
        loop {
            if let Some(body) = self.take_frame()? {
                return Ok(body);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ReadError::Timeout);
            }
            let timeout = Timespec {
                tv_sec: i64::try_from(left.as_secs()).unwrap_or(i64::MAX),
                tv_nsec: i64::from(left.subsec_nanos()),
            };
            let mut fds = [PollFd::new(&self.stdout, PollFlags::IN)];
            match rustix::event::poll(&mut fds, Some(&timeout)) {
                Ok(0) => return Err(ReadError::Timeout),
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(ReadError::Io(e.into())),
            }
            let mut chunk = [0u8; 64 * 1024];
            match self.stdout.read(&mut chunk) {
                Ok(0) => return Err(ReadError::Closed),
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ReadError::Io(e)),
            }
        }
    }

    fn take_frame(&mut self) -> Result<Option<Vec<u8>>, ReadError> {
        let Some(header) = self.buffer.first_chunk::<4>() else { return Ok(None) };
        let len = u32::from_be_bytes(*header) as usize;
        if len > MAX_FRAME {
            return Err(ReadError::Invalid(format!("frame of {len} bytes")));
        }
        if self.buffer.len() < 4 + len {
            return Ok(None);
        }
        let body = self.buffer[4..4 + len].to_vec();
        self.buffer.drain(..4 + len);
        Ok(Some(body))
    }
}
