//! The dashboard's terminal: raw mode, the alternate screen, mouse and
//! bracketed paste on the way in, and all of it undone on every way out
//! (`q`, Ctrl-C, a panic, SIGTERM, SIGHUP, SIGINT).

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use std::io::{self, Stdout};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::sync::OnceLock;

pub type Screen = Terminal<CrosstermBackend<Stdout>>;

/// The last signal asking the dashboard to end, 0 for none.
static ENDING_SIGNAL: OnceLock<Arc<AtomicUsize>> = OnceLock::new();

/// SIGTERM, SIGHUP and SIGINT end the dashboard through its normal way out,
/// so the terminal is restored: signal-hook's handler stores the signal's
/// number, and the input thread looks. Handlers do not survive exec, so the
/// monitors the dashboard starts get the default dispositions back.
pub fn catch_ending_signals() -> io::Result<()> {
    let flag = ENDING_SIGNAL.get_or_init(Arc::default);
    for signal in [SIGTERM, SIGHUP, SIGINT] {
        signal_hook::flag::register_usize(signal, Arc::clone(flag), signal as usize)?;
    }
    Ok(())
}

/// The signal that arrived since the last call, if any.
pub fn take_ending_signal() -> Option<i32> {
    let flag = ENDING_SIGNAL.get()?;
    match flag.swap(0, Ordering::SeqCst) {
        0 => None,
        n => i32::try_from(n).ok(),
    }
}

/// Puts the terminal in the dashboard's modes.
pub fn enter() -> io::Result<Screen> {
    enable_raw_mode()?;
    let mut out = io::stdout();
    if let Err(e) = execute!(
        out,
        EnterAlternateScreen,
        EnableMouseCapture,
        EnableBracketedPaste
    ) {
        restore();
        return Err(e);
    }
    Terminal::new(CrosstermBackend::new(out)).inspect_err(|_| restore())
}

/// Gives the terminal back as it was. Safe to call more than once.
pub fn restore() {
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = disable_raw_mode();
}

pub fn set_mouse_capture(on: bool) {
    let _ = if on {
        execute!(io::stdout(), EnableMouseCapture)
    } else {
        execute!(io::stdout(), DisableMouseCapture)
    };
}

/// A panic anywhere (also in the collector or worker) restores the terminal,
/// prints the usual message on the normal screen, and ends the dashboard;
/// the containers keep running.
pub fn restore_on_panic() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
        eprintln!("hako: the dashboard stopped on an internal error; the containers keep running");
        std::process::exit(101);
    }));
}
