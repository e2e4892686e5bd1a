//! The terminal hako was started from: its size, and raw mode while a
//! container's terminal is relayed to it.

use nix::sys::termios::{self, SetArg, Termios};
use portable_pty::PtySize;
use std::io;
use std::os::fd::AsFd;

/// The size of the calling terminal, or 80x24 when there is none.
pub fn terminal_size() -> PtySize {
    let mut size = PtySize {
        rows: 24,
        cols: 80,
        pixel_width: 0,
        pixel_height: 0,
    };
    // SAFETY: winsize is plain integers, for which all zeroes is a value.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    for fd in [1, 0, 2] {
        // SAFETY: TIOCGWINSZ writes one winsize into the struct we pass, which is
        // valid and writable; on failure (not a terminal) it writes nothing.
        if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0 && ws.ws_row > 0 {
            size.rows = ws.ws_row;
            size.cols = ws.ws_col;
            break;
        }
    }
    size
}

/// Puts the calling terminal in raw mode and restores it when dropped, also
/// when a panic unwinds through it.
pub(crate) struct RawMode {
    saved: Termios,
}

impl RawMode {
    pub(crate) fn enable() -> Option<RawMode> {
        let stdin = io::stdin();
        let saved = termios::tcgetattr(stdin.as_fd()).ok()?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw).ok()?;
        Some(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(io::stdin().as_fd(), SetArg::TCSADRAIN, &self.saved);
    }
}
