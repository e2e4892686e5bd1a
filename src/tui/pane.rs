//! The embedded terminal: sessions kept while the user moves between
//! containers. A session is a vt100 emulator fed by a shell's output, and a
//! channel of keys and resizes going the other way.
//!
//! Two kinds of shell feed a session through the same code: the container's
//! own terminal over its monitor's attach socket (Enter; scrollback first,
//! then live output), and a new shell that `hako exec` runs on a PTY the
//! dashboard owns (`x`). Each is a `Source` of output and a `Sink` for keys
//! and sizes; `start` pumps both on threads of their own.

use super::runtime_calls::{self, ExecShell, ShellProcess};
use crate::runtime::attach::{AttachClient, ClientMessage, ServerMessage};
use crate::runtime::paths::Paths;
use portable_pty::{MasterPty, PtySize};
use std::io::{self, Read, Write};
use std::sync::mpsc::{self, Sender};

/// Lines of scrollback each session keeps. vt100 keeps every line as a row
/// of full cells (36 bytes each), so 1000 lines of a 120-column pane take
/// about 4 MiB: deep enough to read back a command's output, small enough
/// for a session per container.
pub const SCROLLBACK_LINES: usize = 1000;

/// Which shell a session shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The container's own terminal, through its monitor (Enter).
    Attach,
    /// A new shell through `hako exec` (`x`).
    Exec,
}

/// A session: the container it belongs to and which shell it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionKey {
    pub id: String,
    pub kind: Kind,
}

impl SessionKey {
    pub fn attach(id: &str) -> SessionKey {
        SessionKey {
            id: id.to_string(),
            kind: Kind::Attach,
        }
    }

    pub fn exec(id: &str) -> SessionKey {
        SessionKey {
            id: id.to_string(),
            kind: Kind::Exec,
        }
    }
}

/// Where a session's connection is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    Connecting,
    Live,
    /// The shell ended: the container's command, or the exec'd shell.
    Exited {
        code: i32,
        oom_killed: bool,
    },
    /// The connection closed, or it could not be made.
    Lost(String),
}

/// What a session's connection reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaneEvent {
    Connected,
    Output(Vec<u8>),
    Ended(Link),
}

/// What goes to a session's shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToShell {
    Input(Vec<u8>),
    Resize { rows: u16, cols: u16 },
}

/// The history as it was when the user scrolled back: every line of the
/// scrollback, then the screen under it. It stays still while new output
/// arrives, so what the user reads does not move.
struct Frozen {
    lines: Vec<Vec<vt100::Cell>>,
    /// Output arrived since.
    unseen: bool,
}

pub struct Session {
    pub parser: vt100::Parser,
    pub link: Link,
    pub kind: Kind,
    /// The shell has a PTY (without one, output is shown but keys are stdin).
    pub tty: bool,
    /// Which connection this is; events of an earlier one are dropped.
    pub serial: u64,
    input: Option<Sender<ToShell>>,
    /// Lines scrolled back from the bottom (0: the live screen).
    pub scroll: usize,
    frozen: Option<Frozen>,
}

impl Session {
    pub fn new(rows: u16, cols: u16, tty: bool, kind: Kind, serial: u64) -> Session {
        Session {
            parser: vt100::Parser::new(rows.max(1), cols.max(1), SCROLLBACK_LINES),
            link: Link::Connecting,
            kind,
            tty,
            serial,
            input: None,
            scroll: 0,
            frozen: None,
        }
    }

    pub fn set_input(&mut self, input: Sender<ToShell>) {
        self.input = Some(input);
    }

    pub fn is_live(&self) -> bool {
        matches!(self.link, Link::Connecting | Link::Live) && self.input.is_some()
    }

    /// Sends bytes to the shell; false when the session cannot take them.
    pub fn send(&mut self, bytes: Vec<u8>) -> bool {
        if !self.is_live() {
            return false;
        }
        // Typing brings the view back to the live screen, as terminals do.
        self.scroll_to(0);
        self.input
            .as_ref()
            .is_some_and(|i| i.send(ToShell::Input(bytes)).is_ok())
    }

    pub fn process(&mut self, bytes: &[u8]) {
        self.parser.process(bytes);
        if let Some(frozen) = &mut self.frozen {
            frozen.unseen = true;
        }
    }

    /// Follows the pane's size; the PTY is resized with it. True when it changed.
    pub fn resize(&mut self, rows: u16, cols: u16) -> bool {
        let (rows, cols) = (rows.max(1), cols.max(1));
        if self.parser.screen().size() == (rows, cols) {
            return false;
        }
        self.parser.set_size(rows, cols);
        if let Some(input) = &self.input {
            let _ = input.send(ToShell::Resize { rows, cols });
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
        if lines == 0 {
            self.scroll = 0;
            self.frozen = None;
            return;
        }
        let frozen = self.frozen.get_or_insert_with(|| Frozen {
            lines: freeze(&mut self.parser),
            unseen: false,
        });
        let (rows, _) = self.parser.screen().size();
        let deepest = frozen.lines.len().saturating_sub(rows as usize);
        self.scroll = lines.min(deepest);
        if self.scroll == 0 {
            self.frozen = None;
        }
    }

    /// Whether output arrived while the user was scrolled back.
    pub fn unseen_output(&self) -> bool {
        self.frozen.as_ref().is_some_and(|f| f.unseen)
    }

    /// What the pane shows: the live screen, or the scrolled-back history.
    pub fn view(&self) -> View<'_> {
        match &self.frozen {
            Some(frozen) if self.scroll > 0 => {
                let (rows, _) = self.parser.screen().size();
                let bottom = frozen.lines.len().saturating_sub(self.scroll);
                View::Back(History {
                    lines: &frozen.lines,
                    top: bottom.saturating_sub(rows as usize),
                })
            }
            _ => View::Live(self.parser.screen()),
        }
    }

    pub fn end(&mut self, link: Link) {
        self.link = link;
        self.input = None;
    }
}

/// Copies the whole scrollback and the screen out of the parser, oldest line
/// first, leaving the parser as it was.
///
/// vt100 0.15 can show at most one screen of scrollback: `Grid::visible_rows`
/// takes `rows - scrollback_offset` lines of the screen under the history,
/// and that subtraction underflows once the offset is larger than the
/// screen (a panic in debug builds; vt100 0.16 saturates it). The offset
/// must also stay 0 while output is processed, since vt100 moves it along
/// with each new line. So: for a moment the screen is made as tall as the
/// history (the rows added are blank ones at the bottom, removed again by the
/// shrink), the history is read at that offset, and everything is put back.
fn freeze(parser: &mut vt100::Parser) -> Vec<Vec<vt100::Cell>> {
    let (rows, cols) = parser.screen().size();
    parser.set_scrollback(usize::MAX);
    let history = parser.screen().scrollback();
    let mut lines = Vec::with_capacity(history + rows as usize);
    if history > 0 {
        let tall = u16::try_from(history).unwrap_or(u16::MAX).max(rows);
        parser.set_size(tall, cols);
        lines.extend((0..history as u16).map(|row| copy_row(parser.screen(), row, cols)));
        parser.set_scrollback(0);
        parser.set_size(rows, cols);
    }
    lines.extend((0..rows).map(|row| copy_row(parser.screen(), row, cols)));
    lines
}

fn copy_row(screen: &vt100::Screen, row: u16, cols: u16) -> Vec<vt100::Cell> {
    (0..cols)
        .map(|col| screen.cell(row, col).cloned().unwrap_or_default())
        .collect()
}

/// What the pane draws.
pub enum View<'a> {
    Live(&'a vt100::Screen),
    Back(History<'a>),
}

/// A window on frozen history, as tui-term draws a screen.
pub struct History<'a> {
    lines: &'a [Vec<vt100::Cell>],
    top: usize,
}

impl tui_term::widget::Screen for History<'_> {
    type C = vt100::Cell;

    fn cell(&self, row: u16, col: u16) -> Option<&vt100::Cell> {
        self.lines.get(self.top + row as usize)?.get(col as usize)
    }

    fn hide_cursor(&self) -> bool {
        true
    }

    fn cursor_position(&self) -> (u16, u16) {
        (0, 0)
    }
}

/// Where a session's output comes from.
pub trait Source: Send + 'static {
    /// The next piece of output, or how the session ended.
    fn next(&mut self) -> Result<Vec<u8>, Link>;
}

/// Where a session's keys and sizes go.
pub trait Sink: Send + 'static {
    fn input(&mut self, bytes: &[u8]) -> io::Result<()>;
    fn resize(&mut self, rows: u16, cols: u16) -> io::Result<()>;
}

/// Opens a session on threads of its own: `open` makes the connection (it
/// may take a while), then output and the end come back through `sink`
/// until it returns false. Returns the channel for keys and sizes; dropping
/// it closes the session's input side (and ends an exec'd shell).
pub fn start<S: Source, K: Sink>(
    rows: u16,
    cols: u16,
    open: impl FnOnce() -> Result<(S, K), String> + Send + 'static,
    sink: impl Fn(PaneEvent) -> bool + Send + 'static,
) -> Sender<ToShell> {
    let (input, pending) = mpsc::channel::<ToShell>();
    let spawned = std::thread::Builder::new()
        .name("hako-pane".into())
        .spawn(move || {
            let (mut source, mut keys) = match open() {
                Ok(pair) => pair,
                Err(e) => {
                    sink(PaneEvent::Ended(Link::Lost(e)));
                    return;
                }
            };
            let _ = keys.resize(rows, cols);
            // Keys go out on a thread of their own, so a slow shell never
            // holds up output (and the dashboard never waits for either).
            let _ = std::thread::Builder::new()
                .name("hako-pane-input".into())
                .spawn(move || {
                    for message in pending {
                        let sent = match message {
                            ToShell::Input(bytes) => keys.input(&bytes),
                            ToShell::Resize { rows, cols } => keys.resize(rows, cols),
                        };
                        if sent.is_err() {
                            return;
                        }
                    }
                });
            if !sink(PaneEvent::Connected) {
                return;
            }
            loop {
                match source.next() {
                    Ok(bytes) => {
                        if !sink(PaneEvent::Output(bytes)) {
                            return;
                        }
                    }
                    Err(link) => {
                        sink(PaneEvent::Ended(link));
                        return;
                    }
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

/// The container's terminal, through its monitor's attach socket.
pub fn attach(paths: &Paths, id: &str) -> Result<(AttachOutput, AttachInput), String> {
    let client = runtime_calls::attach(paths, id).map_err(|e| e.to_string())?;
    let writer = client.try_clone().map_err(|e| e.to_string())?;
    Ok((AttachOutput(client), AttachInput(writer)))
}

pub struct AttachOutput(AttachClient);

impl Source for AttachOutput {
    fn next(&mut self) -> Result<Vec<u8>, Link> {
        match self.0.receive() {
            Ok(Some(ServerMessage::Output(bytes))) => Ok(bytes),
            Ok(Some(ServerMessage::Exited { code, oom_killed })) => {
                Err(Link::Exited { code, oom_killed })
            }
            Ok(None) => Err(Link::Lost("the monitor closed the connection".into())),
            Err(e) => Err(Link::Lost(e.to_string())),
        }
    }
}

pub struct AttachInput(AttachClient);

impl Sink for AttachInput {
    fn input(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.0.send(&ClientMessage::Input(bytes.to_vec()))
    }

    fn resize(&mut self, rows: u16, cols: u16) -> io::Result<()> {
        self.0.send(&ClientMessage::Resize { rows, cols })
    }
}

/// A new shell in the container through `hako exec`, on a PTY of our own.
pub fn exec(
    paths: &Paths,
    id: &str,
    rows: u16,
    cols: u16,
) -> Result<(ExecOutput, ExecInput), String> {
    exec_pair(runtime_calls::exec_shell(paths, id, rows, cols)?)
}

/// The two ends of a shell on a PTY.
pub fn exec_pair(shell: ExecShell) -> Result<(ExecOutput, ExecInput), String> {
    let ExecShell {
        output,
        input,
        pty,
        process,
    } = shell;
    Ok((
        ExecOutput {
            output,
            process: process.clone(),
            buffer: vec![0; 64 * 1024],
        },
        ExecInput {
            input,
            pty,
            process,
        },
    ))
}

pub struct ExecOutput {
    output: Box<dyn Read + Send>,
    process: ShellProcess,
    buffer: Vec<u8>,
}

impl Source for ExecOutput {
    fn next(&mut self) -> Result<Vec<u8>, Link> {
        loop {
            match self.output.read(&mut self.buffer) {
                Ok(n) if n > 0 => return Ok(self.buffer[..n].to_vec()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // End of output (EIO once nothing holds the PTY's other side):
                // the shell and hako exec are gone.
                _ => {
                    return match self.process.wait() {
                        Ok(code) => Err(Link::Exited {
                            code,
                            oom_killed: false,
                        }),
                        Err(why) => Err(Link::Lost(why)),
                    }
                }
            }
        }
    }
}

pub struct ExecInput {
    input: Box<dyn Write + Send>,
    pty: Box<dyn MasterPty + Send>,
    process: ShellProcess,
}

impl Sink for ExecInput {
    fn input(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.input.write_all(bytes)?;
        self.input.flush()
    }

    fn resize(&mut self, rows: u16, cols: u16) -> io::Result<()> {
        self.pty
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .map_err(io::Error::other)
    }
}

impl Drop for ExecInput {
    /// The session is gone (closed, its container removed, the dashboard
    /// quitting): so is its shell, unless it ended already.
    fn drop(&mut self) {
        self.process.end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::Receiver;
    use std::time::{Duration, Instant};

    /// A shell on a PTY of its own, pumped like an exec session.
    fn shell(script: Option<&str>) -> (Sender<ToShell>, Receiver<PaneEvent>) {
        let args: Vec<String> = match script {
            Some(s) => vec!["-c".into(), s.into()],
            None => vec![],
        };
        let (events, received) = mpsc::channel();
        let input = start(
            24,
            80,
            move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let shell = runtime_calls::spawn_program("/bin/sh", &args, 24, 80)
                    .map_err(|e| e.to_string())?;
                exec_pair(shell)
            },
            move |event| events.send(event).is_ok(),
        );
        (input, received)
    }

    /// Feeds events into a session until its screen shows `text` or it ends.
    fn wait_for(session: &mut Session, events: &Receiver<PaneEvent>, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !session.parser.screen().contents().contains(text) {
            let left = deadline.saturating_duration_since(Instant::now());
            match events.recv_timeout(left) {
                Ok(PaneEvent::Connected) => session.link = Link::Live,
                Ok(PaneEvent::Output(bytes)) => session.process(&bytes),
                Ok(PaneEvent::Ended(link)) => session.end(link),
                Err(_) => panic!(
                    "never saw {text:?}; the screen:\n{}",
                    session.parser.screen().contents()
                ),
            }
        }
    }

    fn ended(events: &Receiver<PaneEvent>) -> Link {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match events.recv_timeout(left) {
                Ok(PaneEvent::Ended(link)) => return link,
                Ok(_) => continue,
                Err(e) => panic!("the session never ended: {e}"),
            }
        }
    }

    #[test]
    fn a_shell_on_a_pty_gets_keys_follows_resizes_and_reports_its_exit() {
        let (input, events) = shell(None);
        let mut session = Session::new(24, 80, true, Kind::Exec, 1);
        session.set_input(input);
        assert!(session.send(b"echo $((6*7))-from-pty\r".to_vec()));
        wait_for(&mut session, &events, "42-from-pty");
        assert_eq!(session.link, Link::Live);

        assert!(session.resize(30, 100));
        assert!(session.send(b"stty size\r".to_vec()));
        wait_for(&mut session, &events, "30 100");

        assert!(session.send(b"exit 3\r".to_vec()));
        assert_eq!(
            ended(&events),
            Link::Exited {
                code: 3,
                oom_killed: false
            }
        );
    }

    #[test]
    fn a_dropped_session_ends_its_shell() {
        let (input, events) = shell(Some("echo pid=$$; exec sleep 1000"));
        let mut session = Session::new(24, 80, true, Kind::Exec, 1);
        session.set_input(input);
        wait_for(&mut session, &events, "pid=");
        let contents = session.parser.screen().contents();
        let pid: i32 = contents
            .split("pid=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .expect("the shell's pid");
        drop(session);
        // SIGHUP ends it; its end is still reported, and nothing is left.
        assert!(matches!(ended(&events), Link::Lost(why) if why.contains("killed")));
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    }

    #[test]
    fn a_shell_that_cannot_start_says_why() {
        let (events, received) = mpsc::channel();
        let _input = start(
            24,
            80,
            || Err::<(ExecOutput, ExecInput), _>("no such container: nope".to_string()),
            move |event| events.send(event).is_ok(),
        );
        assert_eq!(
            ended(&received),
            Link::Lost("no such container: nope".into())
        );
    }

    #[test]
    fn exec_runs_the_cli_against_the_same_root() {
        let under = Paths::under(std::path::Path::new("/tmp/r"));
        assert_eq!(
            runtime_calls::exec_command_line(&under, "abc").unwrap(),
            ["--root", "/tmp/r", "exec", "-it", "abc", "/bin/sh"]
        );
        assert_eq!(
            runtime_calls::exec_command_line(&Paths::system(), "abc").unwrap(),
            ["exec", "-it", "abc", "/bin/sh"]
        );
    }
}
