//! Attaching the calling terminal to a detached container (`hako attach`).
//!
//! The terminal goes raw (restored on every way out), its size is sent to
//! the monitor at the start and on SIGWINCH, keys go to the container, and
//! output comes back (the monitor replays its scrollback first). The detach
//! sequence (docker's Ctrl-P Ctrl-Q by default) leaves the container running.

use super::caller_terminal::{terminal_size, RawMode};
use crate::runtime::attach::{AttachClient, ClientMessage, ServerMessage};
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use std::io::{self, Write};
use std::os::fd::AsFd;

/// How an attach session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachEnd {
    /// The user typed the detach sequence; the container runs on.
    Detached,
    /// The container's command ended.
    Exited { code: i32, oom_killed: bool },
    /// The monitor went away without saying how the container ended.
    Lost,
}

/// Parses docker's `--detach-keys`: `ctrl-p,ctrl-q`, `a`, `ctrl-@` ...
pub fn parse_detach_keys(text: &str) -> Result<Vec<u8>, String> {
    text.split(',')
        .map(|key| {
            let key = key.trim();
            if let Some(letter) = key.strip_prefix("ctrl-") {
                match letter.as_bytes() {
                    [c @ (b'a'..=b'z' | b'@' | b'[' | b'\\' | b']' | b'^' | b'_')] => {
                        Ok(c.to_ascii_uppercase() & 0x1f)
                    }
                    _ => Err(format!("invalid detach key {key:?}")),
                }
            } else if key.len() == 1 && key.is_ascii() {
                Ok(key.as_bytes()[0])
            } else {
                Err(format!(
                    "invalid detach key {key:?}: use a letter or ctrl-<letter>"
                ))
            }
        })
        .collect()
}

/// Finds the detach sequence across reads: `matched` is how much of it the
/// previous input ended with. Returns the bytes to send on and whether the
/// whole sequence was typed.
pub fn scan_detach(input: &[u8], keys: &[u8], matched: &mut usize) -> (Vec<u8>, bool) {
    let mut forward = Vec::with_capacity(input.len());
    for &byte in input {
        if !keys.is_empty() && byte == keys[*matched] {
            *matched += 1;
            if *matched == keys.len() {
                return (forward, true);
            }
        } else {
            // A partial sequence that does not complete is ordinary input.
            forward.extend_from_slice(&keys[..*matched]);
            *matched = 0;
            if !keys.is_empty() && byte == keys[0] {
                *matched = 1;
            } else {
                forward.push(byte);
            }
        }
    }
    (forward, false)
}

/// Relays the calling terminal to the container until detach or exit.
pub fn attach_terminal(
    mut client: AttachClient,
    detach_keys: &[u8],
    forward_input: bool,
) -> io::Result<AttachEnd> {
    // SIGWINCH resizes; the ending signals end the session through the
    // normal path, so the terminal is restored (a default action would not).
    let mut handled = SigSet::empty();
    for signal in [
        Signal::SIGWINCH,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGINT,
        Signal::SIGQUIT,
    ] {
        handled.add(signal);
    }
    handled.thread_block()?;
    let signals = SignalFd::with_flags(&handled, SfdFlags::SFD_CLOEXEC)?;
    let _raw = if forward_input {
        RawMode::enable()
    } else {
        None
    };
    let size = terminal_size();
    client.send(&ClientMessage::Resize {
        rows: size.rows,
        cols: size.cols,
    })?;

    let stdin = io::stdin();
    let mut stdout = io::stdout();
    let mut reader = client.try_clone()?;
    let mut matched = 0;
    let mut input_open = forward_input;
    let mut buf = [0u8; 16 * 1024];
    let end = loop {
        let mut fds = vec![
            PollFd::new(client.stream().as_fd(), PollFlags::POLLIN),
            PollFd::new(signals.as_fd(), PollFlags::POLLIN),
        ];
        if input_open {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
            Ok(_) => {}
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        if ready[0] {
            match reader.receive()? {
                Some(ServerMessage::Output(bytes)) => {
                    stdout.write_all(&bytes)?;
                    stdout.flush()?;
                }
                Some(ServerMessage::Exited { code, oom_killed }) => {
                    break AttachEnd::Exited { code, oom_killed }
                }
                None => break AttachEnd::Lost,
            }
        }
        if ready[1] {
            let signal = signals.read_signal()?.map(|info| info.ssi_signo as i32);
            if signal != Some(Signal::SIGWINCH as i32) {
                break AttachEnd::Detached;
            }
            let size = terminal_size();
            client.send(&ClientMessage::Resize {
                rows: size.rows,
                cols: size.cols,
            })?;
        }
        if input_open && ready[2] {
            match nix::unistd::read(&stdin, &mut buf) {
                Ok(0) | Err(_) => input_open = false,
                Ok(n) => {
                    let (forward, detach) = scan_detach(&buf[..n], detach_keys, &mut matched);
                    if !forward.is_empty() {
                        client.send(&ClientMessage::Input(forward))?;
                    }
                    if detach {
                        break AttachEnd::Detached;
                    }
                }
            }
        }
    };
    let _ = handled.thread_unblock();
    Ok(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys_follow_docker() {
        assert_eq!(parse_detach_keys("ctrl-p,ctrl-q"), Ok(vec![0x10, 0x11]));
        assert_eq!(parse_detach_keys("ctrl-a,d"), Ok(vec![0x01, b'd']));
        assert!(parse_detach_keys("ctrl-1").is_err());
        assert!(parse_detach_keys("abc").is_err());
    }

    #[test]
    fn the_sequence_is_found_across_reads_and_partial_ones_pass_through() {
        let keys = [0x10, 0x11];
        let mut m = 0;
        assert_eq!(
            scan_detach(b"ls\x10", &keys, &mut m),
            (b"ls".to_vec(), false)
        );
        assert_eq!(scan_detach(b"\x11", &keys, &mut m), (vec![], true));
        let mut m = 0;
        assert_eq!(
            scan_detach(b"\x10x", &keys, &mut m),
            (b"\x10x".to_vec(), false)
        );
        let mut m = 0;
        assert_eq!(
            scan_detach(b"\x10\x10\x11", &keys, &mut m),
            (b"\x10".to_vec(), true)
        );
    }
}
