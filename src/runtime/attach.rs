//! The attach protocol between a container's monitor and its clients
//! (`hako attach`, the dashboard's terminal pane).
//!
//! The monitor listens on `containers/<id>/attach.sock`. Each message is a
//! frame: one byte of kind, four bytes of big-endian length, then the payload.
//! On connect the monitor first sends its scrollback (the last output, up to
//! 1 MiB) as `Output`, then live output; when the container ends it sends
//! `Exited`. A client sends `Input` (keys, already encoded as bytes for the
//! terminal), `Resize`, and may simply close the socket to detach: that never
//! affects the container.

use crate::runtime::paths::Paths;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

/// Largest payload accepted in one frame; larger output is sent in pieces.
pub const MAX_FRAME: usize = 1 << 20;

const INPUT: u8 = b'i';
const RESIZE: u8 = b'r';
const OUTPUT: u8 = b'o';
const EXITED: u8 = b'x';

/// The attach socket of a container.
pub fn socket_path(paths: &Paths, id: &str) -> PathBuf {
    paths.container(id).join("attach.sock")
}

/// What a client sends to the monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    /// Bytes for the container's stdin or terminal.
    Input(Vec<u8>),
    /// The client's terminal size; the monitor resizes the PTY.
    Resize { rows: u16, cols: u16 },
}

/// What the monitor sends to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerMessage {
    /// Output of the container (scrollback first, then live).
    Output(Vec<u8>),
    /// The container's command ended.
    Exited { code: i32, oom_killed: bool },
}

fn write_frame(w: &mut impl Write, kind: u8, payload: &[u8]) -> io::Result<()> {
    let mut frame = Vec::with_capacity(5 + payload.len());
    frame.push(kind);
    frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    frame.extend_from_slice(payload);
    w.write_all(&frame)
}

/// Reads one frame; `None` at a clean end of stream.
fn read_frame(r: &mut impl Read) -> io::Result<Option<(u8, Vec<u8>)>> {
    let mut head = [0u8; 5];
    match r.read_exact(&mut head) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("attach frame of {len} bytes is over the {MAX_FRAME} byte limit"),
        ));
    }
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload)?;
    Ok(Some((head[0], payload)))
}

fn bad_frame(kind: u8) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("unknown attach frame kind {kind:#x}"),
    )
}

impl ClientMessage {
    pub fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        match self {
            ClientMessage::Input(bytes) => {
                for chunk in bytes.chunks(MAX_FRAME) {
                    write_frame(w, INPUT, chunk)?;
                }
                Ok(())
            }
            ClientMessage::Resize { rows, cols } => {
                let mut payload = rows.to_be_bytes().to_vec();
                payload.extend_from_slice(&cols.to_be_bytes());
                write_frame(w, RESIZE, &payload)
            }
        }
    }

    pub fn read_from(r: &mut impl Read) -> io::Result<Option<ClientMessage>> {
        let Some((kind, payload)) = read_frame(r)? else {
            return Ok(None);
        };
        match (kind, payload.as_slice()) {
            (INPUT, _) => Ok(Some(ClientMessage::Input(payload))),
            (RESIZE, [r0, r1, c0, c1]) => Ok(Some(ClientMessage::Resize {
                rows: u16::from_be_bytes([*r0, *r1]),
                cols: u16::from_be_bytes([*c0, *c1]),
            })),
            _ => Err(bad_frame(kind)),
        }
    }
}

impl ServerMessage {
    pub fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        match self {
            ServerMessage::Output(bytes) => {
                for chunk in bytes.chunks(MAX_FRAME) {
                    write_frame(w, OUTPUT, chunk)?;
                }
                Ok(())
            }
            ServerMessage::Exited { code, oom_killed } => {
                let mut payload = code.to_be_bytes().to_vec();
                payload.push(u8::from(*oom_killed));
                write_frame(w, EXITED, &payload)
            }
        }
    }

    pub fn read_from(r: &mut impl Read) -> io::Result<Option<ServerMessage>> {
        let Some((kind, payload)) = read_frame(r)? else {
            return Ok(None);
        };
        match (kind, payload.as_slice()) {
            (OUTPUT, _) => Ok(Some(ServerMessage::Output(payload))),
            (EXITED, [a, b, c, d, oom]) => Ok(Some(ServerMessage::Exited {
                code: i32::from_be_bytes([*a, *b, *c, *d]),
                oom_killed: *oom != 0,
            })),
            _ => Err(bad_frame(kind)),
        }
    }
}

/// A connection to a container's monitor.
pub struct AttachClient {
    stream: UnixStream,
}

impl AttachClient {
    pub fn connect(socket: &Path) -> io::Result<AttachClient> {
        UnixStream::connect(socket)
            .map(|stream| AttachClient { stream })
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("failed to connect to {}: {e}", socket.display()),
                )
            })
    }

    /// A second handle on the same connection, e.g. for a reader thread.
    pub fn try_clone(&self) -> io::Result<AttachClient> {
        Ok(AttachClient {
            stream: self.stream.try_clone()?,
        })
    }

    pub fn send(&mut self, message: &ClientMessage) -> io::Result<()> {
        message.write_to(&mut self.stream)
    }

    /// Blocks for the next message; `None` when the monitor closed the socket.
    pub fn receive(&mut self) -> io::Result<Option<ServerMessage>> {
        ServerMessage::read_from(&mut self.stream)
    }

    /// The raw socket, to poll it alongside other descriptors.
    pub fn stream(&self) -> &UnixStream {
        &self.stream
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_reads_back_as_written() {
        let client = [
            ClientMessage::Input("héllo\x1b[A".as_bytes().to_vec()),
            ClientMessage::Resize { rows: 37, cols: 91 },
        ];
        let mut buf = vec![];
        for m in &client {
            m.write_to(&mut buf).unwrap();
        }
        let mut r = buf.as_slice();
        for m in &client {
            assert_eq!(ClientMessage::read_from(&mut r).unwrap().as_ref(), Some(m));
        }
        assert_eq!(ClientMessage::read_from(&mut r).unwrap(), None);

        let server = [
            ServerMessage::Output(b"out".to_vec()),
            ServerMessage::Exited {
                code: crate::runtime::exit_code::KILLED_BY_SIGKILL,
                oom_killed: true,
            },
        ];
        let mut buf = vec![];
        for m in &server {
            m.write_to(&mut buf).unwrap();
        }
        let mut r = buf.as_slice();
        for m in &server {
            assert_eq!(ServerMessage::read_from(&mut r).unwrap().as_ref(), Some(m));
        }
    }

    #[test]
    fn oversized_and_unknown_frames_are_refused() {
        let mut r: &[u8] = &[b'o', 0xff, 0xff, 0xff, 0xff];
        assert!(ServerMessage::read_from(&mut r).is_err());
        let mut r: &[u8] = &[b'?', 0, 0, 0, 0];
        assert!(ClientMessage::read_from(&mut r).is_err());
    }
}
