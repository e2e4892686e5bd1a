//! The dashboard's state, owned by the main thread, and how each event
//! changes it. Nothing here does I/O: what must happen outside (a job for
//! the worker, a new attach connection, mouse capture) is returned as an
//! `Effect` for the event loop to carry out.
//!
//! Each concern keeps its own state and reducer: `table` (selection, sort,
//! filter), `alerts` (limit trips), `panes` (terminal sessions, focus),
//! `overlays` (help, forms, the remove question). `apply` hands each action
//! to the one it belongs to; the snapshot data (samples, history) is shared.

mod alerts;
mod logs;
mod overlays;
mod panes;
mod table;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_views;

pub use alerts::{Alert, Alerts, AlertsView};
pub use logs::{LogChunk, LogView};
pub use overlays::Overlay;
pub use panes::{Focus, Panes};
pub use table::{SortColumn, Table};

use super::collector::{Sample, Snapshot, TripKind};
use super::key_bytes::encode_paste;
use super::keys::{key_name, map_key, Action, Mode, Move};
use super::pane::{PaneEvent, SessionKey};
use super::worker::{Job, JobKind, Report};
use crate::runtime::state::ContainerState;
use crossterm::event::{KeyEvent, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;
use std::collections::{HashMap, HashSet, VecDeque};

/// Samples of history kept per container (10 minutes at the default tick).
pub const HISTORY: usize = 600;

/// What the event loop must do for the app.
#[derive(Debug, Clone)]
pub enum Effect {
    Job(Box<Job>),
    /// Connect this session (it exists, with this serial): attach to the
    /// container's terminal, or start a shell in it through exec.
    Open {
        key: SessionKey,
        serial: u64,
        rows: u16,
        cols: u16,
    },
    SetMouseCapture(bool),
    /// Read the containers again now.
    Refresh,
    /// Read this container's log into the log view with this serial, and
    /// follow it while the container runs.
    OpenLog {
        container: Box<ContainerState>,
        serial: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Info,
    Ok,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    pub text: String,
    pub tone: Tone,
}

/// Memory and CPU over time, one point per tick.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub memory: VecDeque<u64>,
    /// CPU in tenths of a percent of one CPU.
    pub cpu_permille: VecDeque<u64>,
}

impl History {
    fn push(&mut self, memory: u64, cpu_permille: u64) {
        if self.memory.len() == HISTORY {
            self.memory.pop_front();
            self.cpu_permille.pop_front();
        }
        self.memory.push_back(memory);
        self.cpu_permille.push_back(cpu_permille);
    }
}

/// Where things were drawn last, for the mouse and the pane's size.
#[derive(Debug, Clone, Copy, Default)]
pub struct DrawnAreas {
    /// The table's rows (without header and borders), and its first row's index.
    pub table_rows: Rect,
    pub table_offset: usize,
    /// The inside of the pane, when it is shown.
    pub pane_inner: Option<Rect>,
    /// Lines of text the alerts or log view shows, when it is open.
    pub view_rows: usize,
}

pub struct App {
    /// What the header says about the root (`/var/lib/hako`).
    pub root_label: String,
    pub tick_ms: u64,
    pub cgroup_parent: String,
    /// Unix seconds of the latest snapshot.
    pub now: u64,
    pub samples: Vec<Sample>,
    pub collector_error: Option<String>,
    /// Whether any snapshot has arrived yet.
    pub loaded: bool,
    pub history: HashMap<String, History>,
    pub table: Table,
    pub alerts: Alerts,
    pub panes: Panes,
    pub overlay: Overlay,
    pub status: StatusLine,
    pub mouse_captured: bool,
    pub quit: bool,
    pub drawn: DrawnAreas,
    /// The serial of the latest log view opened.
    pub(super) log_serial: u64,
}

impl App {
    pub fn new(root_label: String, tick_ms: u64, cgroup_parent: String) -> App {
        App {
            root_label,
            tick_ms,
            cgroup_parent,
            now: 0,
            samples: vec![],
            collector_error: None,
            loaded: false,
            history: HashMap::new(),
            table: Table::default(),
            alerts: Alerts::default(),
            panes: Panes::default(),
            overlay: Overlay::None,
            status: StatusLine {
                text: "reading containers".into(),
                tone: Tone::Info,
            },
            mouse_captured: true,
            quit: false,
            drawn: DrawnAreas::default(),
            log_serial: 0,
        }
    }

    pub fn mode(&self) -> Mode {
        match self.overlay {
            Overlay::Help => Mode::Help,
            Overlay::Form(_) => Mode::Form,
            Overlay::ConfirmRemove(_) => Mode::Confirm,
            Overlay::Alerts(AlertsView { editing: true, .. }) => Mode::AlertsFilter,
            Overlay::Alerts(_) => Mode::Alerts,
            Overlay::Log(ref view) if view.searching => Mode::LogSearch,
            Overlay::Log(_) => Mode::Log,
            Overlay::None if self.table.filter_editing => Mode::Filter,
            Overlay::None if self.panes.focus == Focus::Pane && self.panes.open => Mode::Pane,
            Overlay::None => Mode::Dashboard,
        }
    }

    fn say(&mut self, tone: Tone, text: impl Into<String>) {
        self.status = StatusLine {
            text: text.into(),
            tone,
        };
    }

    // ---- data from the collector -------------------------------------

    pub fn on_snapshot(&mut self, snapshot: Snapshot) {
        self.loaded = true;
        self.now = snapshot.time;
        self.collector_error = snapshot.error;
        for sample in &snapshot.samples {
            let history = self.history.entry(sample.state.id.clone()).or_default();
            if sample.running {
                let memory = sample.stats.as_ref().and_then(|s| s.memory_usage);
                let cpu = sample.cpu_percent.map(|p| (p * 10.0).round() as u64);
                history.push(memory.unwrap_or(0), cpu.unwrap_or(0));
            }
        }
        self.alerts.on_trips(snapshot.trips);
        if matches!(self.overlay, Overlay::Alerts(_)) {
            self.alerts.mark_seen();
        }
        let ids: HashSet<&str> = snapshot
            .samples
            .iter()
            .map(|s| s.state.id.as_str())
            .collect();
        self.history.retain(|id, _| ids.contains(id.as_str()));
        self.panes.keep_only(&ids);
        self.samples = snapshot.samples;
        self.table.keep_selection(&self.samples);
    }

    /// The rows of the table: filtered, then sorted.
    pub fn visible(&self) -> Vec<&Sample> {
        self.table.visible(&self.samples)
    }

    /// What the table's title says of the rows: `3 in all, 2 running`, or
    /// under a filter `4 of 20 shown (filter "web"), 16 running in all`.
    pub fn rows_summary(&self, shown: usize) -> String {
        let all = self.samples.len();
        let running = self.samples.iter().filter(|s| s.running).count();
        if self.table.filter.is_empty() {
            format!("{all} in all, {running} running")
        } else {
            format!(
                "{shown} of {all} shown (filter \"{}\"), {running} running in all",
                self.table.filter
            )
        }
    }

    pub fn selected_sample(&self) -> Option<&Sample> {
        let id = self.table.selected.as_ref()?;
        self.samples.iter().find(|s| &s.state.id == id)
    }

    pub fn selected_index(&self) -> Option<usize> {
        let id = self.table.selected.as_ref()?;
        self.visible().iter().position(|s| &s.state.id == id)
    }

    /// The containers on screen: the table's rows and the selected one.
    pub fn on_screen(&self) -> HashSet<String> {
        let mut ids: HashSet<String> = self
            .visible()
            .iter()
            .skip(self.drawn.table_offset)
            .take(self.drawn.table_rows.height as usize)
            .map(|s| s.state.id.clone())
            .collect();
        ids.extend(self.table.selected.clone());
        ids
    }

    /// The latest trip of a container, if it is recent enough to mark its row.
    pub fn recent_trip(&self, id: &str) -> Option<TripKind> {
        self.alerts.recent_trip(id, self.now)
    }

    // ---- results from the worker and the attach connections -----------

    pub fn on_report(&mut self, report: Report) -> Vec<Effect> {
        if self.form_takes_report(&report) {
            return vec![];
        }
        if let (JobKind::Create, Some(id)) = (report.kind, &report.container_id) {
            self.table.selected = Some(id.clone());
        }
        match report.result {
            Ok(text) => self.say(Tone::Ok, text),
            Err(text) => self.say(Tone::Error, text),
        }
        vec![Effect::Refresh]
    }

    /// Trips the containers' event files recorded before the dashboard started.
    pub fn on_recorded_trips(&mut self, trips: Vec<super::collector::Trip>) {
        self.alerts.load_recorded(trips);
    }

    /// Output of a container's log for the log view with this serial.
    pub fn on_log(&mut self, serial: u64, chunk: LogChunk) {
        if let Overlay::Log(view) = &mut self.overlay {
            if view.serial == serial {
                view.on_chunk(chunk);
            }
        }
    }

    /// The log view's reader started: the view keeps its stop handle.
    pub fn log_reader_started(&mut self, serial: u64, stop: std::sync::mpsc::Sender<()>) {
        if let Overlay::Log(view) = &mut self.overlay {
            if view.serial == serial {
                view.set_stop(stop);
            }
        }
    }

    pub fn on_pane_event(&mut self, key: &SessionKey, serial: u64, event: PaneEvent) {
        self.panes.on_event(key, serial, event);
    }

    // ---- input -----------------------------------------------------------

    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let mode = self.mode();
        match map_key(mode, key) {
            Some(action) => self.apply(action),
            None => {
                let hint = match mode {
                    Mode::Dashboard => Some("? lists the keys"),
                    Mode::Alerts | Mode::Log => {
                        Some("Esc closes this view, ? in the dashboard lists the keys")
                    }
                    _ => None,
                };
                if let (Some(hint), Some(name)) = (hint, key_name(&key)) {
                    self.say(Tone::Info, format!("{name} does nothing here: {hint}"));
                }
                vec![]
            }
        }
    }

    pub fn on_paste(&mut self, text: &str) -> Vec<Effect> {
        match self.mode() {
            Mode::Pane => {
                if let Some(session) = self.selected_session_mut() {
                    let bytes = encode_paste(text, session.parser.screen().bracketed_paste());
                    session.send(bytes);
                }
            }
            Mode::Form => self.paste_into_form(text),
            Mode::Filter => self.table.paste(text),
            Mode::AlertsFilter | Mode::LogSearch => {
                for c in text.chars().filter(|c| !c.is_control()) {
                    self.apply_view(&Action::FilterInput(c));
                }
            }
            _ => {}
        }
        vec![]
    }

    pub fn on_mouse(&mut self, mouse: MouseEvent) -> Vec<Effect> {
        if !matches!(self.overlay, Overlay::None) {
            return vec![];
        }
        let inside = |r: Rect| {
            mouse.column >= r.x
                && mouse.column < r.x + r.width
                && mouse.row >= r.y
                && mouse.row < r.y + r.height
        };
        let over_pane = self.drawn.pane_inner.is_some_and(inside);
        match mouse.kind {
            MouseEventKind::ScrollUp if over_pane => self.apply(Action::PaneScroll(3)),
            MouseEventKind::ScrollDown if over_pane => self.apply(Action::PaneScroll(-3)),
            MouseEventKind::ScrollUp => self.apply(Action::Select(Move::Up)),
            MouseEventKind::ScrollDown => self.apply(Action::Select(Move::Down)),
            MouseEventKind::Down(MouseButton::Left) if over_pane => {
                self.panes.focus = Focus::Pane;
                vec![]
            }
            MouseEventKind::Down(MouseButton::Left) if inside(self.drawn.table_rows) => {
                let row = (mouse.row - self.drawn.table_rows.y) as usize + self.drawn.table_offset;
                if let Some(id) = self.visible().get(row).map(|s| s.state.id.clone()) {
                    self.table.selected = Some(id);
                    self.panes.focus = Focus::Dashboard;
                }
                vec![]
            }
            _ => vec![],
        }
    }

    /// Scrolling, filters and search go to the alerts or log view while
    /// it is open; true when it took the action.
    fn apply_view(&mut self, action: &Action) -> bool {
        let ours = matches!(
            action,
            Action::Select(_)
                | Action::StartFilter
                | Action::FilterInput(_)
                | Action::FilterBackspace
                | Action::FilterAccept
                | Action::FilterCancel
                | Action::AlertsKind
                | Action::SearchNext
                | Action::SearchPrevious
        );
        if !ours {
            return false;
        }
        let rows = self.drawn.view_rows;
        match &mut self.overlay {
            Overlay::Alerts(view) => {
                let total = view.lines(&self.alerts).len();
                view.apply(action, rows, total);
                true
            }
            Overlay::Log(view) => {
                if let Some(text) = view.apply(action, rows) {
                    self.say(Tone::Info, text);
                }
                true
            }
            _ => false,
        }
    }

    fn selected_state(&self) -> Option<ContainerState> {
        self.selected_sample().map(|s| s.state.clone())
    }

    /// The selected container if it runs; otherwise says why not.
    fn selected_running(&mut self, verb: &str) -> Option<ContainerState> {
        let Some(sample) = self.selected_sample() else {
            self.say(Tone::Error, format!("no container selected to {verb}"));
            return None;
        };
        if !sample.running {
            let name = sample.state.name.clone();
            self.say(
                Tone::Error,
                format!("{name} is not running: nothing to {verb}"),
            );
            return None;
        }
        Some(sample.state.clone())
    }

    fn start_job(&mut self, job: Job) -> Vec<Effect> {
        self.say(Tone::Info, format!("{}…", job.describe()));
        vec![Effect::Job(Box::new(job))]
    }

    /// Hands the action to the reducer it belongs to.
    pub fn apply(&mut self, action: Action) -> Vec<Effect> {
        if self.apply_view(&action) {
            return vec![];
        }
        match action {
            Action::Quit => {
                self.quit = true;
                vec![]
            }
            Action::Select(_)
            | Action::SortNext
            | Action::SortReverse
            | Action::SortBy(_)
            | Action::StartFilter
            | Action::FilterInput(_)
            | Action::FilterBackspace
            | Action::FilterAccept
            | Action::FilterCancel => {
                let page = self.drawn.table_rows.height as usize;
                if let Some(text) = self.table.apply(&action, &self.samples, page) {
                    self.say(Tone::Info, text);
                }
                vec![]
            }
            Action::ToggleHelp
            | Action::CloseOverlay
            | Action::AskRemove
            | Action::Confirm
            | Action::Cancel
            | Action::EditLimits
            | Action::NewContainer
            | Action::FormNext
            | Action::FormPrevious
            | Action::FormInput(_)
            | Action::FormBackspace
            | Action::FormClear
            | Action::FormSubmit
            | Action::OpenAlerts
            | Action::OpenLog => self.apply_overlay(action),
            Action::AlertsKind | Action::SearchNext | Action::SearchPrevious => vec![],
            Action::OpenPane
            | Action::ClosePane
            | Action::FocusDashboard
            | Action::PaneScroll(_)
            | Action::PaneKey(_)
            | Action::Exec => self.apply_pane(action),
            Action::Stop => match self.selected_running("stop") {
                Some(c) => self.start_job(Job::Stop(c)),
                None => vec![],
            },
            Action::Kill => match self.selected_running("kill") {
                Some(c) => self.start_job(Job::Kill(c)),
                None => vec![],
            },
            Action::ToggleMouse => {
                self.mouse_captured = !self.mouse_captured;
                let text = if self.mouse_captured {
                    "mouse on: click selects, the wheel scrolls"
                } else {
                    "mouse off: drag to select and copy text (m turns it on)"
                };
                self.say(Tone::Info, text);
                vec![Effect::SetMouseCapture(self.mouse_captured)]
            }
            Action::Demo => {
                if self.samples.is_empty()
                    || self
                        .samples
                        .iter()
                        .all(|s| s.state.name.starts_with("demo-"))
                {
                    let parent = self.cgroup_parent.clone();
                    self.start_job(Job::Demo {
                        cgroup_parent: parent,
                    })
                } else {
                    self.say(
                        Tone::Info,
                        "D starts the demo on an empty dashboard (or run `hako demo`)",
                    );
                    vec![]
                }
            }
        }
    }
}
