//! The terminal's lifecycle: raw mode, alternate screen and mouse capture on the way in, all
//! undone on the way out, on a panic of the UI thread, and on SIGTERM/SIGINT/SIGHUP. While the
//! UI runs, the process's stderr goes to the log file so nothing (a library, a Python worker)
//! can write over the screen.

use std::fs::File;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use ratatui::crossterm::execute;

/// Restores the terminal when dropped.
pub struct Session {
    pub terminal: DefaultTerminal,
    saved_stderr: Option<Arc<OwnedFd>>,
    /// Set by SIGTERM, SIGINT or SIGHUP.
    pub signalled: Arc<AtomicBool>,
}

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
        Ok(Session { terminal, saved_stderr, signalled })
    }
}

impl Drop for Session {
    fn drop(&mut self) {
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
