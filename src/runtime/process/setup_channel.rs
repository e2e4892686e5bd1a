//! The set-up channel: one report, over a pipe, from a process being set up
//! back to the hako waiting for it.
//!
//! Three pairs use it: the container's first process and `create_and_start`,
//! exec's command and `exec::start`, the monitor and `run_detached`. The
//! write end is close-on-exec, so a command that was executed says nothing:
//! the channel closes empty, and that is the success. Otherwise one message
//! comes, framed with its length, so that a report cut short by a dying
//! writer is told apart from a whole one:
//!
//! ```text
//! failed CODE LEN\nMESSAGE     the set-up failed; CODE is the exit code to report
//! started LEN\nSTATE           the monitor runs the container (its state, JSON)
//! ```

use super::setup_error::SetupError;
use crate::runtime::exit_code;
use crate::runtime::state::ContainerState;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{BorrowedFd, OwnedFd};
use thiserror::Error;

/// What a process being set up reports.
#[derive(Debug, Clone)]
pub enum SetupMessage {
    /// The set-up failed; nothing runs.
    Failed(SetupError),
    /// The monitor started the container, whose state this is.
    Started(Box<ContainerState>),
}

/// A report that did not come, or came wrong. `from` names the writer, as
/// users read it ("the monitor").
#[derive(Debug, Error)]
pub enum ChannelError {
    /// The writer's own report of its failure.
    #[error(transparent)]
    Failed(#[from] SetupError),
    #[error("lost contact with {from}: {source}")]
    Read {
        from: &'static str,
        source: io::Error,
    },
    #[error("{from} ended before starting the container")]
    Closed { from: &'static str },
    #[error("{from} sent a truncated report ({received} bytes)")]
    Truncated { from: &'static str, received: usize },
    #[error("{from} sent a report longer than {MAX_REPORT} bytes")]
    TooLong { from: &'static str },
    #[error("{from} sent a bad report: {header:?}")]
    Garbled { from: &'static str, header: String },
    #[error("{from} sent a bad report: {source}")]
    BadState {
        from: &'static str,
        source: serde_json::Error,
    },
    #[error("{from} sent an unexpected report: {what}")]
    Unexpected {
        from: &'static str,
        what: &'static str,
    },
}

impl ChannelError {
    /// The writer's code for its own failure; hako's for a broken channel.
    pub fn exit_code(&self) -> i32 {
        match self {
            ChannelError::Failed(error) => error.exit_code,
            _ => exit_code::HAKO_ERROR,
        }
    }
}

/// The writing end, in the process being set up.
pub struct SetupSender<'fd> {
    fd: BorrowedFd<'fd>,
}

impl<'fd> SetupSender<'fd> {
    pub fn new(fd: BorrowedFd<'fd>) -> SetupSender<'fd> {
        SetupSender { fd }
    }

    pub fn failed(&self, error: &SetupError) -> io::Result<()> {
        self.send(&SetupMessage::Failed(error.clone()))
    }

    pub fn started(&self, state: &ContainerState) -> io::Result<()> {
        self.send(&SetupMessage::Started(Box::new(state.clone())))
    }

    fn send(&self, message: &SetupMessage) -> io::Result<()> {
        let mut bytes = encode(message)?;
        // One write of a short report is whole on a pipe; the loop is for
        // the monitor's state, which may pass PIPE_BUF.
        while !bytes.is_empty() {
            match nix::unistd::write(self.fd, &bytes) {
                Ok(written) => drop(bytes.drain(..written)),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(errno) => return Err(errno.into()),
            }
        }
        Ok(())
    }
}

/// The most a report may hold. The longest real one is a started
/// container's state (a few KiB, more with a long environment); reading no
/// further means a writer gone wrong cannot make the waiting hako grow.
const MAX_REPORT: u64 = 4 << 20;

/// The reading end, in the hako that waits. The report is read to the end of
/// the stream: the writer's exit or its `execve` ends it.
pub struct SetupReceiver {
    file: File,
    from: &'static str,
}

impl SetupReceiver {
    pub fn new(fd: impl Into<OwnedFd>, from: &'static str) -> SetupReceiver {
        SetupReceiver {
            file: File::from(fd.into()),
            from,
        }
    }

    /// The message, or `None` when the channel closed empty.
    pub fn recv(mut self) -> Result<Option<SetupMessage>, ChannelError> {
        let mut bytes = Vec::new();
        (&mut self.file)
            .take(MAX_REPORT + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| ChannelError::Read {
                from: self.from,
                source,
            })?;
        if bytes.len() as u64 > MAX_REPORT {
            return Err(ChannelError::TooLong { from: self.from });
        }
        decode(&bytes, self.from)
    }

    /// Returns once the command was executed; the failure, if it was not.
    pub fn wait_for_exec(self) -> Result<(), ChannelError> {
        let from = self.from;
        match self.recv()? {
            None => Ok(()),
            Some(SetupMessage::Failed(error)) => Err(error.into()),
            Some(SetupMessage::Started(_)) => Err(ChannelError::Unexpected {
                from,
                what: "a started container instead of an executed command",
            }),
        }
    }

    /// The state of the container the monitor started, or why it did not.
    pub fn wait_for_start(self) -> Result<ContainerState, ChannelError> {
        let from = self.from;
        match self.recv()? {
            None => Err(ChannelError::Closed { from }),
            Some(SetupMessage::Failed(error)) => Err(error.into()),
            Some(SetupMessage::Started(state)) => Ok(*state),
        }
    }
}

fn encode(message: &SetupMessage) -> io::Result<Vec<u8>> {
    let (header, body) = match message {
        SetupMessage::Failed(error) => (
            format!("failed {} {}\n", error.exit_code, error.message.len()),
            error.message.clone().into_bytes(),
        ),
        SetupMessage::Started(state) => {
            let body = serde_json::to_vec(state)?;
            (format!("started {}\n", body.len()), body)
        }
    };
    let mut bytes = header.into_bytes();
    bytes.extend(body);
    Ok(bytes)
}

fn decode(bytes: &[u8], from: &'static str) -> Result<Option<SetupMessage>, ChannelError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    let truncated = ChannelError::Truncated {
        from,
        received: bytes.len(),
    };
    let Some(newline) = bytes.iter().position(|&b| b == b'\n') else {
        return Err(truncated);
    };
    let (header, body) = (&bytes[..newline], &bytes[newline + 1..]);
    let garbled = || ChannelError::Garbled {
        from,
        header: String::from_utf8_lossy(header).into_owned(),
    };
    let header_text = std::str::from_utf8(header).map_err(|_| garbled())?;
    let words: Vec<&str> = header_text.split(' ').collect();
    let number = |word: &str| word.parse::<usize>().map_err(|_| garbled());
    let (length, message) = match words.as_slice() {
        ["failed", code, length] => {
            // Only the codes a set-up reports: a writer gone wrong must not
            // turn a failure into a success (0) or a signal's code.
            let code: i32 = code.parse().map_err(|_| garbled())?;
            if ![
                exit_code::HAKO_ERROR,
                exit_code::CANNOT_EXECUTE,
                exit_code::NOT_FOUND,
            ]
            .contains(&code)
            {
                return Err(garbled());
            }
            (number(length)?, Some(code))
        }
        ["started", length] => (number(length)?, None),
        _ => return Err(garbled()),
    };
    if body.len() < length {
        return Err(truncated);
    }
    if body.len() > length {
        return Err(garbled());
    }
    Ok(Some(match message {
        Some(code) => SetupMessage::Failed(SetupError::with_code(
            code,
            String::from_utf8_lossy(body).into_owned(),
        )),
        None => SetupMessage::Started(Box::new(
            serde_json::from_slice(body)
                .map_err(|source| ChannelError::BadState { from, source })?,
        )),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::fcntl::OFlag;
    use nix::unistd::pipe2;
    use std::os::fd::AsFd;

    const FROM: &str = "the test's writer";

    /// A pipe whose write end is closed after `write` ran, as the writer's
    /// exit or execve closes it.
    fn report(write: impl FnOnce(&SetupSender)) -> SetupReceiver {
        let (read, write_end) = pipe2(OFlag::O_CLOEXEC).unwrap();
        write(&SetupSender::new(write_end.as_fd()));
        drop(write_end);
        SetupReceiver::new(read, FROM)
    }

    fn raw(bytes: &[u8]) -> Result<Option<SetupMessage>, ChannelError> {
        decode(bytes, FROM)
    }

    fn state() -> ContainerState {
        serde_json::from_value(serde_json::json!({
            "id": "c0ffee", "name": "web", "image": "busybox", "command": ["sh"],
            "hostname": "web", "status": "running", "pid": 42, "exit_code": null,
            "oom_killed": false, "created": 1, "started": 2, "finished": null,
            "limits": {"memory": null, "memory_swap": null, "cpu": null, "pids": null},
            "cgroup_layout": "V1", "cgroup_parent": "hako", "capabilities": [],
            "auto_remove": false, "tty": false, "interactive": false, "monitor_pid": 7,
        }))
        .unwrap()
    }

    #[test]
    fn a_failure_is_read_back_as_the_same_failure() {
        let sent = SetupError::with_code(
            exit_code::NOT_FOUND,
            "exec: \"nope\": executable file not found in $PATH".into(),
        );
        let receiver = report(|sender| sender.failed(&sent).unwrap());
        match receiver.wait_for_exec() {
            Err(ChannelError::Failed(received)) => assert_eq!(received, sent),
            other => panic!("expected the failure, got {other:?}"),
        }
    }

    #[test]
    fn a_message_with_newlines_and_utf8_stays_whole() {
        let sent = SetupError::new("first line\nsecond: é\n".into());
        let receiver = report(|sender| sender.failed(&sent).unwrap());
        match receiver.recv() {
            Ok(Some(SetupMessage::Failed(received))) => assert_eq!(received, sent),
            other => panic!("expected the failure, got {other:?}"),
        }
    }

    #[test]
    fn a_started_container_is_read_back_with_its_state() {
        let receiver = report(|sender| sender.started(&state()).unwrap());
        let started = receiver.wait_for_start().unwrap();
        assert_eq!((started.id.as_str(), started.pid), ("c0ffee", Some(42)));
    }

    #[test]
    fn a_channel_closed_empty_means_the_command_was_executed() {
        assert!(report(|_| {}).wait_for_exec().is_ok());
        // For the monitor, the same silence means it died before starting it.
        let closed = report(|_| {}).wait_for_start().unwrap_err();
        assert!(matches!(closed, ChannelError::Closed { .. }), "{closed:?}");
        assert_eq!(
            closed.to_string(),
            "the test's writer ended before starting the container"
        );
    }

    #[test]
    fn a_report_cut_short_is_a_truncated_report() {
        let whole = encode(&SetupMessage::Failed(SetupError::new("no room".into()))).unwrap();
        for cut in 1..whole.len() {
            match raw(&whole[..cut]) {
                Err(ChannelError::Truncated { received, .. }) => assert_eq!(received, cut),
                other => panic!("cut at {cut}: expected truncated, got {other:?}"),
            }
        }
        assert!(raw(&whole).is_ok());
    }

    #[test]
    fn a_garbled_report_is_an_error_with_hakos_code() {
        for garbled in [
            &b"1\nthe old format\n"[..],
            b"failed x 3\nabc",
            b"failed 1 two\nabc",
            b"failed 1 3\nabcdef",
            b"started 2\n{}",
            b"\xff\xfe\nabc",
            b"hello 3\nabc",
            // Codes a set-up never reports: not a success, not a signal's.
            b"failed 0 3\nabc",
            b"failed 137 3\nabc",
        ] {
            let error = raw(garbled).unwrap_err();
            assert!(
                matches!(
                    error,
                    ChannelError::Garbled { .. } | ChannelError::BadState { .. }
                ),
                "{garbled:?}: {error:?}"
            );
            assert_eq!(error.exit_code(), exit_code::HAKO_ERROR);
        }
    }

    #[test]
    fn a_report_longer_than_the_bound_is_refused_without_reading_it_all() {
        let (read, write_end) = pipe2(OFlag::O_CLOEXEC).unwrap();
        // Twice the bound, from a thread: a pipe holds only 64 KiB at a time.
        let writer = std::thread::spawn(move || {
            let mut file = File::from(write_end);
            let chunk = vec![b'x'; 1 << 16];
            for _ in 0..(2 * MAX_REPORT / chunk.len() as u64) {
                if std::io::Write::write_all(&mut file, &chunk).is_err() {
                    break;
                }
            }
        });
        let error = SetupReceiver::new(read, FROM).recv().unwrap_err();
        assert!(matches!(error, ChannelError::TooLong { .. }), "{error:?}");
        writer.join().unwrap();
    }

    #[test]
    fn each_wait_refuses_the_other_kind_of_report() {
        let receiver = report(|sender| sender.started(&state()).unwrap());
        let error = receiver.wait_for_exec().unwrap_err();
        assert!(
            matches!(error, ChannelError::Unexpected { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn the_exit_code_is_the_writers_for_its_failure() {
        for code in [
            exit_code::HAKO_ERROR,
            exit_code::CANNOT_EXECUTE,
            exit_code::NOT_FOUND,
        ] {
            let error = ChannelError::from(SetupError::with_code(code, "x".into()));
            assert_eq!(error.exit_code(), code);
        }
        let closed = ChannelError::Closed { from: FROM };
        assert_eq!(closed.exit_code(), exit_code::HAKO_ERROR);
    }
}
