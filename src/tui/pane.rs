//! The embedded terminal: one session per container, kept while the user
//! moves between containers. A session is a vt100 emulator fed by the
//! container's monitor over its attach socket (scrollback first, then live
//! output), and a channel of input and resizes going the other way.

use super::runtime_calls;
use crate::runtime::attach::{ClientMessage, ServerMessage};
use crate::runtime::paths::Paths;
use std::sync::mpsc::{self, Sender};

/// Lines of scrollback each session keeps.
pub const SCROLLBACK_LINES: usize = 5000;

/// Where a session's connection is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    Connecting,
    Live,
    /// The container's command ended.
    Exited {
        code: i32,
        oom_killed: bool,
    },
    /// The monitor closed the connection, or it could not be made.
    Lost(String),
}

/// What an attach connection reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaneEvent {
    Connected,
    Output(Vec<u8>),
    Ended(Link),
}

pub struct Session {
    pub parser: vt100::Parser,
    pub link: Link,
    /// The container has a PTY (without one, output is shown but keys are stdin).
    pub tty: bool,
    input: Option<Sender<ClientMessage>>,
    /// Lines scrolled back from the bottom.
    pub scroll: usize,
}

impl Session {
    pub fn new(rows: u16, cols: u16, tty: bool) -> Session {
        Session {
            parser: vt100::Parser::new(rows.max(1), cols.max(1), SCROLLBACK_LINES),
            link: Link::Connecting,
            tty,
            input: None,
            scroll: 0,
        }
    }

    pub fn set_input(&mut self, input: Sender<ClientMessage>) {
        self.input = Some(input);
    }

    pub fn is_live(&self) -> bool {
        matches!(self.link, Link::Connecting | Link::Live) && self.input.is_some()
    }

    /// Sends bytes to the container; false when the session cannot take them.
    pub fn send(&mut self, bytes: Vec<u8>) -> bool {
        if !self.is_live() {
            return false;
        }
        // Typing brings the view back to the live screen, as terminals do.
        if self.scroll != 0 {
            self.scroll_to(0);
        }
        self.input
            .as_ref()
            .is_some_and(|i| i.send(ClientMessage::Input(bytes)).is_ok())
    }

    pub fn process(&mut self, bytes: &[u8]) {
        self.parser.process(bytes);
    }

    /// Follows the pane's size; the PTY is resized with it. True when it changed.
    pub fn resize(&mut self, rows: u16, cols: u16) -> bool {
        let (rows, cols) = (rows.max(1), cols.max(1));
        if self.parser.screen().size() == (rows, cols) {
            return false;
        }
        self.parser.set_size(rows, cols);
        if let Some(input) = &self.input {
            let _ = input.send(ClientMessage::Resize { rows, cols });
        }
        true
    }

    pub fn scroll_by(&mut self, lines: i32) {
        let target = if lines >= 0 {
            self.scroll.saturating_add(lines as usize)
        } else {
            self.scroll.saturating_sub(lines.unsigned_abs() as usize)
        };
        self.scroll_to(target);
    }

    fn scroll_to(&mut self, lines: usize) {
        // vt100 0.15 can show at most one screen of scrollback: past that its
        // `visible_rows` underflows (a panic in debug builds, garbage in
        // release). Stay within it.
        let (rows, _) = self.parser.screen().size();
        self.parser.set_scrollback(lines.min(rows as usize));
        self.scroll = self.parser.screen().scrollback();
    }

    pub fn end(&mut self, link: Link) {
        self.link = link;
        self.input = None;
    }
}

/// Connects to the container's monitor on a thread of its own; every message
/// comes back through `sink`. Returns the channel for input and resizes.
pub fn connect(
    paths: &Paths,
    id: &str,
    rows: u16,
    cols: u16,
    sink: impl Fn(PaneEvent) -> bool + Send + 'static,
) -> Sender<ClientMessage> {
    let (input, pending) = mpsc::channel::<ClientMessage>();
    let (paths, id) = (paths.clone(), id.to_string());
    let spawned = std::thread::Builder::new()
        .name("hako-attach".into())
        .spawn(move || {
            let client = match runtime_calls::attach(&paths, &id) {
                Ok(c) => c,
                Err(e) => {
                    sink(PaneEvent::Ended(Link::Lost(e.to_string())));
                    return;
                }
            };
            let (mut reader, mut writer) = match client.try_clone() {
                Ok(w) => (client, w),
                Err(e) => {
                    sink(PaneEvent::Ended(Link::Lost(e.to_string())));
                    return;
                }
            };
            let _ = writer.send(&ClientMessage::Resize { rows, cols });
            // Input goes out on its own thread, so a slow monitor never
            // holds up output (and the dashboard never waits for either).
            let _ = std::thread::Builder::new()
                .name("hako-attach-input".into())
                .spawn(move || {
                    for message in pending {
                        if writer.send(&message).is_err() {
                            return;
                        }
                    }
                });
            if !sink(PaneEvent::Connected) {
                return;
            }
            loop {
                let event = match reader.receive() {
                    Ok(Some(ServerMessage::Output(bytes))) => PaneEvent::Output(bytes),
                    Ok(Some(ServerMessage::Exited { code, oom_killed })) => {
                        sink(PaneEvent::Ended(Link::Exited { code, oom_killed }));
                        return;
                    }
                    Ok(None) => {
                        PaneEvent::Ended(Link::Lost("the monitor closed the connection".into()))
                    }
                    Err(e) => PaneEvent::Ended(Link::Lost(e.to_string())),
                };
                let ended = matches!(event, PaneEvent::Ended(_));
                if !sink(event) || ended {
                    return;
                }
            }
        });
    if spawned.is_err() {
        // Without the thread nothing reads `pending`; the session shows it as lost.
        let (dead, _) = mpsc::channel();
        return dead;
    }
    input
}
