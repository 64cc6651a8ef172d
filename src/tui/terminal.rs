//! The terminal's lifecycle: raw mode, alternate screen and mouse capture on the way in, all
//! undone on the way out, on a panic of the UI thread, and on SIGTERM/SIGINT/SIGHUP. While the
//! UI runs, the process's stderr goes to the log file so nothing (a library, a Python worker)
//! can write over the screen.
//!
//! crossterm's reader loops forever on a terminal that has gone away (a read of 0 bytes or
//! EIO is retried without end), so the UI thread never waits inside crossterm: it waits in
//! [`Session::wait_for_input`], which sees a hang-up, and only then asks crossterm for the
//! events already there. A watchdog thread is the backstop: after SIGTERM/SIGINT/SIGHUP or a
//! lost terminal, a UI thread that has not finished within a grace period is ended with the
//! process, so an orphaned arbor never spins.

use std::fs::File;
use std::io::IsTerminal;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};

use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use ratatui::crossterm::execute;

/// Restores the terminal when dropped.
pub struct Session {
    pub terminal: DefaultTerminal,
    saved_stderr: Option<Arc<OwnedFd>>,
    /// Set by SIGTERM, SIGINT or SIGHUP.
    pub signalled: Arc<AtomicBool>,
    /// The terminal the keys come from (the one crossterm reads).
    tty: OwnedFd,
    /// Set when the UI loop has left; the watchdog stands down.
    finished: Arc<AtomicBool>,
}

/// What [`Session::wait_for_input`] saw.
#[derive(Debug, PartialEq, Eq)]
pub enum Input {
    /// Bytes (or a signal such as a resize) are waiting: ask crossterm.
    Ready,
    /// Nothing within the timeout.
    Idle,
    /// The terminal hung up or a quit signal arrived.
    Gone,
}

/// How long a UI thread may take to finish after a quit signal before the process ends.
const GRACE: Duration = Duration::from_secs(2);

impl Session {
    /// Enters the TUI. `log` receives stderr until the session ends.
    pub fn start(log: Option<&File>) -> std::io::Result<Session> {
        let signalled = Arc::new(AtomicBool::new(false));
        for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT, signal_hook::consts::SIGHUP]
        {
            signal_hook::flag::register(signal, Arc::clone(&signalled))?;
        }
        let saved_stderr = match log {
            Some(file) => {
                let saved = rustix::io::dup(std::io::stderr())?;
                rustix::stdio::dup2_stderr(file)?;
                Some(Arc::new(saved))
            }
            None => None,
        };
        // ratatui's own hook restores on a panic of any thread; ours replaces it.
        let original = std::panic::take_hook();
        let terminal = ratatui::init();
        let _ratatui_hook = std::panic::take_hook();
        install_panic_hook(original, saved_stderr.clone());
        let _ = execute!(std::io::stdout(), EnableMouseCapture);
        let tty = key_source()?;
        let finished = Arc::new(AtomicBool::new(false));
        spawn_watchdog(rustix::io::dup(&tty)?, Arc::clone(&signalled), Arc::clone(&finished));
        Ok(Session { terminal, saved_stderr, signalled, tty, finished })
    }

    /// Waits up to `timeout` for input on the terminal. A signal (resize, quit) ends the wait
    /// early; a hang-up or a quit signal reports [`Input::Gone`].
    pub fn wait_for_input(&self, timeout: Duration) -> std::io::Result<Input> {
        if self.signalled.load(Ordering::Relaxed) {
            return Ok(Input::Gone);
        }
        let mut fds = [PollFd::new(&self.tty, PollFlags::IN)];
        let result = rustix::event::poll(&mut fds, Some(&timespec(timeout)));
        if self.signalled.load(Ordering::Relaxed) {
            return Ok(Input::Gone);
        }
        match result {
            Ok(0) => Ok(Input::Idle),
            Ok(_) if hung_up(fds[0].revents()) => Ok(Input::Gone),
            Ok(_) => Ok(Input::Ready),
            // A signal arrived (a resize among them): crossterm has it queued.
            Err(rustix::io::Errno::INTR) => Ok(Input::Ready),
            Err(e) => Err(e.into()),
        }
    }
}

/// The descriptor crossterm reads keys from: stdin when it is a terminal, else `/dev/tty`.
fn key_source() -> std::io::Result<OwnedFd> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(rustix::io::dup(stdin.as_fd())?);
    }
    Ok(File::open("/dev/tty")?.into())
}

fn hung_up(revents: PollFlags) -> bool {
    revents.intersects(PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL)
}

fn timespec(d: Duration) -> Timespec {
    Timespec { tv_sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX), tv_nsec: i64::from(d.subsec_nanos()) }
}

/// Ends the process when a quit signal or a hang-up was not followed by the UI loop ending
/// within [`GRACE`] (the UI thread may be stuck in a read of a dead terminal).
fn spawn_watchdog(tty: OwnedFd, signalled: Arc<AtomicBool>, finished: Arc<AtomicBool>) {
    let _ = std::thread::Builder::new().name("arbor-tty-watchdog".into()).spawn(move || {
        let mut since: Option<Instant> = None;
        while !finished.load(Ordering::Relaxed) {
            let mut fds = [PollFd::new(&tty, PollFlags::empty())];
            let lost = matches!(rustix::event::poll(&mut fds, Some(&timespec(Duration::ZERO))), Ok(n) if n > 0 && hung_up(fds[0].revents()));
            if lost || signalled.load(Ordering::Relaxed) {
                let first = *since.get_or_insert_with(Instant::now);
                if first.elapsed() >= GRACE {
                    crate::tui::log::line("the UI did not stop after a quit signal or hang-up; exiting");
                    if !lost {
                        let _ = execute!(std::io::stdout(), DisableMouseCapture);
                        ratatui::restore();
                    }
                    std::process::exit(if lost { 129 } else { 143 });
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
}

impl Drop for Session {
    fn drop(&mut self) {
        self.finished.store(true, Ordering::Relaxed);
        let _ = execute!(std::io::stdout(), DisableMouseCapture);
        ratatui::restore();
        if let Some(saved) = &self.saved_stderr {
            let _ = rustix::stdio::dup2_stderr(saved.as_ref());
        }
    }
}

/// A panic on the UI thread restores the terminal and stderr, then reports as usual. A
/// panic on another thread only goes to the log: restoring the terminal under a UI that
/// keeps drawing would leave a garbled screen (those threads turn panics into messages).
type Hook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static>;

fn install_panic_hook(previous: Hook, saved_stderr: Option<Arc<OwnedFd>>) {
    let ui_thread = std::thread::current().id();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == ui_thread {
            let _ = execute!(std::io::stdout(), DisableMouseCapture);
            ratatui::restore();
            if let Some(saved) = &saved_stderr {
                let _ = rustix::stdio::dup2_stderr(saved.as_ref());
            }
        }
        previous(info);
    }));
}
