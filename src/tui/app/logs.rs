//! The log view: a container's output log, read and followed through the
//! runtime's logs module by a reader the event loop starts, scrolled and
//! searched here.
//!
//! The log holds what the container wrote to its terminal: colours, cursor
//! moves, carriage returns. The view shows text, so escape sequences and
//! control characters are dropped and a line redrawn with `\r` shows what
//! was drawn last.

use super::super::keys::{Action, Move};
use std::sync::mpsc::Sender;

/// Lines kept; the log itself holds at most two 8 MiB files.
pub const MAX_LOG_LINES: usize = 100_000;

/// What the reader of a log sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogChunk {
    /// Output, from the start of the log at first, then what is appended.
    Data(Vec<u8>),
    /// The container stopped: nothing more will come.
    Ended,
}

#[derive(Debug, Default)]
pub struct LogView {
    pub name: String,
    /// Which reader feeds this view (a late chunk of an earlier one is dropped).
    pub serial: u64,
    /// It has no monitor: it runs (or ran) in the foreground of a hako
    /// command, which may keep no log.
    pub foreground: bool,
    /// Complete lines, as text.
    pub lines: Vec<String>,
    /// The bytes of a line not ended yet.
    partial: Vec<u8>,
    /// Whether any output arrived at all.
    pub loaded: bool,
    /// The container stopped; the log will not grow.
    pub ended: bool,
    /// Lines scrolled back from the end; 0 follows new output.
    pub scroll: usize,
    pub query: String,
    pub searching: bool,
    /// The line of the current match, if the search found one.
    pub found: Option<usize>,
    /// Dropping it tells the reader to stop.
    stop: Option<Sender<()>>,
}

impl LogView {
    pub fn new(name: &str, serial: u64) -> LogView {
        LogView {
            name: name.to_string(),
            serial,
            ..LogView::default()
        }
    }

    /// The reader's stop handle, kept for as long as the view is open.
    pub fn set_stop(&mut self, stop: Sender<()>) {
        self.stop = Some(stop);
    }

    /// Every line with the one being written last, if any.
    pub fn line_count(&self) -> usize {
        self.lines.len() + usize::from(!self.partial.is_empty())
    }

    /// Line `i` as text (the unfinished last line included).
    pub fn line(&self, i: usize) -> Option<String> {
        match self.lines.get(i) {
            Some(l) => Some(l.clone()),
            None if i == self.lines.len() && !self.partial.is_empty() => {
                Some(plain_text(&self.partial))
            }
            None => None,
        }
    }

    pub fn on_chunk(&mut self, chunk: LogChunk) {
        match chunk {
            LogChunk::Ended => self.ended = true,
            LogChunk::Data(bytes) => {
                self.loaded = true;
                let before = self.line_count();
                let mut rest = bytes.as_slice();
                while let Some(end) = rest.iter().position(|b| *b == b'\n') {
                    self.partial.extend_from_slice(&rest[..end]);
                    let line = plain_text(&std::mem::take(&mut self.partial));
                    self.lines.push(line);
                    rest = &rest[end + 1..];
                }
                self.partial.extend_from_slice(rest);
                if self.lines.len() > MAX_LOG_LINES {
                    let drop = self.lines.len() - MAX_LOG_LINES;
                    self.lines.drain(..drop);
                    self.found = self.found.and_then(|f| f.checked_sub(drop));
                }
                // Scrolled back, the same lines stay in view as the log grows.
                if self.scroll > 0 {
                    self.scroll += self.line_count().saturating_sub(before);
                }
            }
        }
    }

    /// The first line shown when `rows` fit.
    pub fn top(&self, rows: usize) -> usize {
        self.line_count()
            .saturating_sub(rows)
            .saturating_sub(self.scroll)
    }

    fn scroll_to_show(&mut self, line: usize, rows: usize) {
        let rows = rows.max(1);
        let count = self.line_count();
        // Put the line in the middle of the view where there is room.
        let bottom = (line + rows / 2 + 1).min(count).max(rows.min(count));
        self.scroll = count - bottom;
    }

    /// The nearest match of the query before line `from` (older), or after
    /// it (newer) when `newer`.
    fn find(&self, from: usize, newer: bool) -> Option<usize> {
        let needle = self.query.to_lowercase();
        if needle.is_empty() {
            return None;
        }
        let hit = |i: &usize| {
            self.line(*i)
                .is_some_and(|l| l.to_lowercase().contains(&needle))
        };
        if newer {
            (from + 1..self.line_count()).find(hit)
        } else {
            (0..from).rev().find(hit)
        }
    }

    /// The view's reducer; `rows` lines fit on screen. What to say on the
    /// status line, if anything.
    pub fn apply(&mut self, action: &Action, rows: usize) -> Option<String> {
        let rows = rows.max(1);
        let most = self.line_count().saturating_sub(rows);
        match action {
            Action::Select(movement) => {
                self.scroll = match movement {
                    Move::Up => (self.scroll + 1).min(most),
                    Move::Down => self.scroll.saturating_sub(1),
                    Move::PageUp => (self.scroll + rows).min(most),
                    Move::PageDown => self.scroll.saturating_sub(rows),
                    Move::First => most,
                    Move::Last => 0,
                }
            }
            Action::StartFilter => {
                self.searching = true;
                self.query.clear();
            }
            Action::FilterInput(c) => self.query.push(*c),
            Action::FilterBackspace => {
                self.query.pop();
            }
            Action::FilterCancel => {
                self.searching = false;
                self.query.clear();
                self.found = None;
            }
            Action::FilterAccept => {
                self.searching = false;
                // From the bottom of what is shown, back in time, as one
                // reads a log.
                let from = self.top(rows) + rows;
                let hit = self.find(from.min(self.line_count()), false);
                return Some(self.jump(hit, rows));
            }
            Action::SearchNext | Action::SearchPrevious => {
                if self.query.is_empty() {
                    return Some("/ searches the log first".into());
                }
                let newer = *action == Action::SearchPrevious;
                let from = self.found.unwrap_or(self.top(rows) + rows);
                let hit = self.find(from.min(self.line_count()), newer);
                if hit.is_none() {
                    let way = if newer { "newer" } else { "older" };
                    return Some(format!("no {way} line has \"{}\"", self.query));
                }
                return Some(self.jump(hit, rows));
            }
            _ => {}
        }
        None
    }

    /// Shows the line found, if any; what to say about it.
    fn jump(&mut self, hit: Option<usize>, rows: usize) -> String {
        self.found = hit;
        match hit {
            Some(line) => {
                self.scroll_to_show(line, rows);
                format!(
                    "\"{}\" on line {} of {} (n older, N newer)",
                    self.query,
                    line + 1,
                    self.line_count()
                )
            }
            None => format!("no line has \"{}\"", self.query),
        }
    }
}

/// A line of terminal output as plain text: escape sequences and control
/// characters dropped, tabs as spaces, and after a carriage return what was
/// written over the line.
pub fn plain_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut line: Vec<char> = vec![];
    let mut column = 0;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            '\r' => column = 0,
            '\t' => {
                let next = (column / 8 + 1) * 8;
                while column < next {
                    put(&mut line, column, ' ');
                    column += 1;
                }
            }
            '\u{8}' => column = column.saturating_sub(1),
            c if c.is_control() => {}
            c => {
                put(&mut line, column, c);
                column += 1;
            }
        }
    }
    line.into_iter().collect()
}

fn put(line: &mut Vec<char>, column: usize, c: char) {
    if column < line.len() {
        line[column] = c;
    } else {
        line.resize(column, ' ');
        line.push(c);
    }
}

/// Skips one escape sequence after ESC: CSI (`ESC [ … final`), OSC
/// (`ESC ] … BEL` or `ESC \`), or a two-character one.
fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars>) {
    match chars.next() {
        Some('[') => {
            for c in chars.by_ref() {
                if ('\u{40}'..='\u{7e}').contains(&c) {
                    break;
                }
            }
        }
        Some(']') | Some('P') | Some('_') | Some('^') => {
            while let Some(c) = chars.next() {
                if c == '\u{7}' {
                    break;
                }
                if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                    chars.next();
                    break;
                }
            }
        }
        Some('(') | Some(')') | Some('#') => {
            chars.next();
        }
        _ => {}
    }
}
