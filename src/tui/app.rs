//! The dashboard's state, owned by the main thread, and how each event
//! changes it. Nothing here does I/O: what must happen outside (a job for
//! the worker, a new attach connection, mouse capture) is returned as an
//! `Effect` for the event loop to carry out.

use super::collector::{status_word, Sample, Snapshot, TripKind};
use super::form::Form;
use super::key_bytes::{encode_key, encode_paste};
use super::keys::{map_key, Action, Mode, Move};
use super::pane::{Kind, Link, PaneEvent, Session, SessionKey};
use super::worker::{Job, JobKind, Report};
use crate::runtime::state::ContainerState;
use crossterm::event::{KeyEvent, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;
use std::collections::{HashMap, HashSet, VecDeque};

/// Samples of history kept per container (10 minutes at the default tick).
pub const HISTORY: usize = 600;
/// How long a row stays marked after a limit trips, in seconds.
pub const TRIP_MARK_SECONDS: u64 = 10;
/// Alerts kept in the alerts area.
pub const MAX_ALERTS: usize = 100;

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortColumn {
    Created,
    Name,
    Status,
    Cpu,
    Memory,
    Pids,
    OomKills,
    Throttled,
}

impl SortColumn {
    const ALL: [SortColumn; 8] = [
        SortColumn::Created,
        SortColumn::Name,
        SortColumn::Status,
        SortColumn::Cpu,
        SortColumn::Memory,
        SortColumn::Pids,
        SortColumn::OomKills,
        SortColumn::Throttled,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SortColumn::Created => "created",
            SortColumn::Name => "name",
            SortColumn::Status => "status",
            SortColumn::Cpu => "cpu",
            SortColumn::Memory => "memory",
            SortColumn::Pids => "pids",
            SortColumn::OomKills => "oom kills",
            SortColumn::Throttled => "throttled",
        }
    }

    fn next(self) -> SortColumn {
        let i = SortColumn::ALL.iter().position(|c| *c == self).unwrap_or(0);
        SortColumn::ALL[(i + 1) % SortColumn::ALL.len()]
    }
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

/// Limit trips of one kind in one container, gathered into one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub id: String,
    pub name: String,
    pub kind: TripKind,
    pub first: u64,
    pub last: u64,
    /// Kills, hits, refused forks or throttled periods, summed.
    pub count: u64,
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

pub enum Overlay {
    None,
    Help,
    Form(Form),
    ConfirmRemove(Box<ContainerState>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Dashboard,
    Pane,
}

/// Where things were drawn last, for the mouse and the pane's size.
#[derive(Debug, Clone, Copy, Default)]
pub struct DrawnAreas {
    /// The table's rows (without header and borders), and its first row's index.
    pub table_rows: Rect,
    pub table_offset: usize,
    /// The inside of the pane, when it is shown.
    pub pane_inner: Option<Rect>,
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
    pub alerts: Vec<Alert>,
    /// The latest trip of each container, for marking its row.
    pub last_trip: HashMap<String, (TripKind, u64)>,
    pub selected: Option<String>,
    pub sort: SortColumn,
    pub sort_descending: bool,
    pub filter: String,
    pub filter_editing: bool,
    pub overlay: Overlay,
    pub focus: Focus,
    pub pane_open: bool,
    pub sessions: HashMap<SessionKey, Session>,
    /// Which of its sessions the pane shows for a container (its terminal
    /// unless `x` opened a shell since).
    pub shown: HashMap<String, Kind>,
    /// The serial of the latest session opened.
    serial: u64,
    pub status: StatusLine,
    pub mouse_captured: bool,
    pub quit: bool,
    pub drawn: DrawnAreas,
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
            alerts: vec![],
            last_trip: HashMap::new(),
            selected: None,
            sort: SortColumn::Created,
            sort_descending: false,
            filter: String::new(),
            filter_editing: false,
            overlay: Overlay::None,
            focus: Focus::Dashboard,
            pane_open: false,
            sessions: HashMap::new(),
            shown: HashMap::new(),
            serial: 0,
            status: StatusLine {
                text: "reading containers".into(),
                tone: Tone::Info,
            },
            mouse_captured: true,
            quit: false,
            drawn: DrawnAreas::default(),
        }
    }

    pub fn mode(&self) -> Mode {
        match self.overlay {
            Overlay::Help => Mode::Help,
            Overlay::Form(_) => Mode::Form,
            Overlay::ConfirmRemove(_) => Mode::Confirm,
            Overlay::None if self.filter_editing => Mode::Filter,
            Overlay::None if self.focus == Focus::Pane && self.pane_open => Mode::Pane,
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
        for trip in snapshot.trips {
            self.last_trip
                .insert(trip.id.clone(), (trip.kind, trip.time));
            match self
                .alerts
                .iter_mut()
                .find(|a| a.id == trip.id && a.kind == trip.kind)
            {
                Some(alert) => {
                    alert.last = trip.time;
                    alert.count += trip.count;
                }
                None => self.alerts.push(Alert {
                    id: trip.id,
                    name: trip.name,
                    kind: trip.kind,
                    first: trip.time,
                    last: trip.time,
                    count: trip.count,
                }),
            }
        }
        // Newest first; the most serious first within one second.
        self.alerts
            .sort_by(|a, b| b.last.cmp(&a.last).then(a.kind.cmp(&b.kind)));
        self.alerts.truncate(MAX_ALERTS);
        let ids: Vec<&str> = snapshot
            .samples
            .iter()
            .map(|s| s.state.id.as_str())
            .collect();
        self.history.retain(|id, _| ids.contains(&id.as_str()));
        // A removed container's sessions go too (their connections close,
        // an exec'd shell ends).
        self.sessions
            .retain(|key, _| ids.contains(&key.id.as_str()));
        self.shown.retain(|id, _| ids.contains(&id.as_str()));
        self.samples = snapshot.samples;
        self.keep_selection();
    }

    /// Keeps a valid selection after the list changed.
    fn keep_selection(&mut self) {
        let visible = self.visible();
        let still_there = self
            .selected
            .as_ref()
            .is_some_and(|id| visible.iter().any(|s| &s.state.id == id));
        if !still_there {
            self.selected = visible.first().map(|s| s.state.id.clone());
        }
    }

    /// The rows of the table: filtered, then sorted.
    pub fn visible(&self) -> Vec<&Sample> {
        let needle = self.filter.to_lowercase();
        let mut rows: Vec<&Sample> = self
            .samples
            .iter()
            .filter(|s| {
                needle.is_empty()
                    || s.state.name.to_lowercase().contains(&needle)
                    || s.state.id.starts_with(&needle)
                    || s.state.image.to_lowercase().contains(&needle)
                    || status_word(s).to_string().contains(&needle)
            })
            .collect();
        let key_f64 = |v: Option<f64>| v.unwrap_or(-1.0);
        rows.sort_by(|a, b| {
            let (sa, sb) = (a.stats.as_ref(), b.stats.as_ref());
            let order = match self.sort {
                SortColumn::Created => a.state.created.cmp(&b.state.created),
                SortColumn::Name => a.state.name.cmp(&b.state.name),
                SortColumn::Status => status_word(a).to_string().cmp(&status_word(b).to_string()),
                SortColumn::Cpu => key_f64(a.cpu_percent).total_cmp(&key_f64(b.cpu_percent)),
                SortColumn::Memory => sa
                    .and_then(|s| s.memory_usage)
                    .cmp(&sb.and_then(|s| s.memory_usage)),
                SortColumn::Pids => sa
                    .and_then(|s| s.pids_current)
                    .cmp(&sb.and_then(|s| s.pids_current)),
                SortColumn::OomKills => sa
                    .and_then(|s| s.oom_kills)
                    .cmp(&sb.and_then(|s| s.oom_kills)),
                SortColumn::Throttled => {
                    key_f64(a.throttled_percent).total_cmp(&key_f64(b.throttled_percent))
                }
            };
            let order = order.then(a.state.id.cmp(&b.state.id));
            if self.sort_descending {
                order.reverse()
            } else {
                order
            }
        });
        rows
    }

    pub fn selected_sample(&self) -> Option<&Sample> {
        let id = self.selected.as_ref()?;
        self.samples.iter().find(|s| &s.state.id == id)
    }

    pub fn selected_index(&self) -> Option<usize> {
        let id = self.selected.as_ref()?;
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
        ids.extend(self.selected.clone());
        ids
    }

    /// The latest trip of a container, if it is recent enough to mark its row.
    pub fn recent_trip(&self, id: &str) -> Option<TripKind> {
        self.last_trip
            .get(id)
            .filter(|(_, t)| self.now.saturating_sub(*t) < TRIP_MARK_SECONDS)
            .map(|(k, _)| *k)
    }

    /// The key of the session the pane shows: one of the selected container's.
    pub fn pane_key(&self) -> Option<SessionKey> {
        let id = self.selected.as_ref()?;
        let kind = self.shown.get(id).copied().unwrap_or(Kind::Attach);
        Some(SessionKey {
            id: id.clone(),
            kind,
        })
    }

    /// The session shown in the pane.
    pub fn pane_session(&self) -> Option<&Session> {
        self.sessions.get(&self.pane_key()?)
    }

    // ---- results from the worker and the attach connections -----------

    pub fn on_report(&mut self, report: Report) -> Vec<Effect> {
        if report.kind == JobKind::Create {
            if let Overlay::Form(form) = &mut self.overlay {
                match &report.result {
                    Err(e) => {
                        form.submitting = false;
                        form.error = Some(e.clone());
                        self.say(Tone::Error, format!("not started: {e}"));
                        return vec![];
                    }
                    Ok(_) => self.overlay = Overlay::None,
                }
            }
        }
        if let Overlay::Form(form) = &mut self.overlay {
            if report.kind == JobKind::Update && form.submitting {
                match &report.result {
                    Err(e) => {
                        form.submitting = false;
                        form.error = Some(e.clone());
                    }
                    Ok(_) => self.overlay = Overlay::None,
                }
            }
        }
        if let (JobKind::Create, Some(id)) = (report.kind, &report.container_id) {
            self.selected = Some(id.clone());
        }
        match report.result {
            Ok(text) => self.say(Tone::Ok, text),
            Err(text) => self.say(Tone::Error, text),
        }
        vec![Effect::Refresh]
    }

    pub fn on_pane_event(&mut self, key: &SessionKey, serial: u64, event: PaneEvent) {
        let Some(session) = self.sessions.get_mut(key).filter(|s| s.serial == serial) else {
            return;
        };
        match event {
            PaneEvent::Connected => session.link = Link::Live,
            PaneEvent::Output(bytes) => session.process(&bytes),
            PaneEvent::Ended(link) => session.end(link),
        }
    }

    // ---- input -----------------------------------------------------------

    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        match map_key(self.mode(), key) {
            Some(action) => self.apply(action),
            None => vec![],
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
            Mode::Form => {
                if let Overlay::Form(form) = &mut self.overlay {
                    text.chars()
                        .filter(|c| !c.is_control())
                        .for_each(|c| form.input(c));
                }
            }
            Mode::Filter => self.filter.extend(text.chars().filter(|c| !c.is_control())),
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
                self.focus = Focus::Pane;
                vec![]
            }
            MouseEventKind::Down(MouseButton::Left) if inside(self.drawn.table_rows) => {
                let row = (mouse.row - self.drawn.table_rows.y) as usize + self.drawn.table_offset;
                if let Some(id) = self.visible().get(row).map(|s| s.state.id.clone()) {
                    self.selected = Some(id);
                    self.focus = Focus::Dashboard;
                }
                vec![]
            }
            _ => vec![],
        }
    }

    pub fn selected_session_mut(&mut self) -> Option<&mut Session> {
        let key = self.pane_key()?;
        self.sessions.get_mut(&key)
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

    pub fn apply(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Quit => {
                self.quit = true;
                vec![]
            }
            Action::ToggleHelp => {
                self.overlay = match self.overlay {
                    Overlay::Help => Overlay::None,
                    _ => Overlay::Help,
                };
                vec![]
            }
            Action::CloseOverlay => {
                if matches!(self.overlay, Overlay::None) && !self.filter.is_empty() {
                    self.filter.clear();
                    self.keep_selection();
                }
                self.overlay = Overlay::None;
                vec![]
            }
            Action::Select(movement) => {
                self.move_selection(movement);
                vec![]
            }
            Action::SortNext => {
                self.sort = self.sort.next();
                self.say(Tone::Info, format!("sorted by {}", self.sort.label()));
                vec![]
            }
            Action::SortReverse => {
                self.sort_descending = !self.sort_descending;
                let way = if self.sort_descending {
                    "descending"
                } else {
                    "ascending"
                };
                self.say(
                    Tone::Info,
                    format!("sorted by {}, {way}", self.sort.label()),
                );
                vec![]
            }
            Action::StartFilter => {
                self.filter_editing = true;
                vec![]
            }
            Action::FilterInput(c) => {
                self.filter.push(c);
                self.keep_selection();
                vec![]
            }
            Action::FilterBackspace => {
                self.filter.pop();
                self.keep_selection();
                vec![]
            }
            Action::FilterAccept => {
                self.filter_editing = false;
                vec![]
            }
            Action::FilterCancel => {
                self.filter_editing = false;
                self.filter.clear();
                self.keep_selection();
                vec![]
            }
            Action::Stop => match self.selected_running("stop") {
                Some(c) => self.start_job(Job::Stop(c)),
                None => vec![],
            },
            Action::Kill => match self.selected_running("kill") {
                Some(c) => self.start_job(Job::Kill(c)),
                None => vec![],
            },
            Action::AskRemove => {
                match self.selected_state() {
                    Some(c) => self.overlay = Overlay::ConfirmRemove(Box::new(c)),
                    None => self.say(Tone::Error, "no container selected to remove"),
                }
                vec![]
            }
            Action::Confirm => match std::mem::replace(&mut self.overlay, Overlay::None) {
                Overlay::ConfirmRemove(c) => {
                    self.sessions.retain(|key, _| key.id != c.id);
                    self.start_job(Job::Remove(*c))
                }
                other => {
                    self.overlay = other;
                    vec![]
                }
            },
            Action::Cancel => {
                if let Overlay::ConfirmRemove(c) = &self.overlay {
                    let text = format!("kept {}", c.name);
                    self.say(Tone::Info, text);
                }
                self.overlay = Overlay::None;
                vec![]
            }
            Action::EditLimits => {
                if let Some(c) = self.selected_running("edit the limits of") {
                    self.overlay = Overlay::Form(Form::edit_limits(&c));
                }
                vec![]
            }
            Action::NewContainer => {
                self.overlay = Overlay::Form(Form::new_container(&self.cgroup_parent));
                vec![]
            }
            Action::FormNext
            | Action::FormPrevious
            | Action::FormInput(_)
            | Action::FormBackspace
            | Action::FormClear => {
                if let Overlay::Form(form) = &mut self.overlay {
                    if !form.submitting {
                        match action {
                            Action::FormNext => form.next(),
                            Action::FormPrevious => form.previous(),
                            Action::FormInput(c) => form.input(c),
                            Action::FormBackspace => form.backspace(),
                            _ => form.clear(),
                        }
                    }
                }
                vec![]
            }
            Action::FormSubmit => {
                let Overlay::Form(form) = &mut self.overlay else {
                    return vec![];
                };
                if form.submitting {
                    return vec![];
                }
                match form.job() {
                    Ok(job) => {
                        form.submitting = true;
                        form.error = None;
                        self.start_job(job)
                    }
                    Err(e) => {
                        form.error = Some(e);
                        vec![]
                    }
                }
            }
            Action::OpenPane => self.open_pane(),
            Action::ClosePane => {
                self.pane_open = false;
                self.focus = Focus::Dashboard;
                self.say(
                    Tone::Info,
                    "pane closed; its session stays (Enter shows it again)",
                );
                vec![]
            }
            Action::FocusDashboard => {
                if self.focus == Focus::Pane {
                    self.focus = Focus::Dashboard;
                    let text = match self.pane_key().map(|k| k.kind) {
                        Some(Kind::Exec) => {
                            "back to the dashboard; the shell keeps running (x returns)"
                        }
                        _ => "back to the dashboard; the shell keeps running (Enter returns)",
                    };
                    self.say(Tone::Info, text);
                }
                vec![]
            }
            Action::PaneScroll(lines) => {
                if let Some(session) = self.selected_session_mut() {
                    session.scroll_by(lines);
                }
                vec![]
            }
            Action::PaneKey(key) => {
                let Some(session) = self.selected_session_mut() else {
                    return vec![];
                };
                let app_cursor = session.parser.screen().application_cursor();
                if let Some(bytes) = encode_key(key, app_cursor) {
                    if !session.send(bytes) {
                        self.say(
                            Tone::Info,
                            "this session has ended: Ctrl-\\ returns to the dashboard",
                        );
                    }
                }
                vec![]
            }
            Action::Exec => self.open_exec(),
            Action::ToggleMouse => {
                self.mouse_captured = !self.mouse_captured;
                let text = if self.mouse_captured {
                    "mouse on: click selects, the wheel scrolls"
                } else {
                    "mouse off: select text with the mouse to copy it (m turns it back on)"
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

    fn move_selection(&mut self, movement: Move) {
        let visible = self.visible();
        if visible.is_empty() {
            return;
        }
        let last = visible.len() - 1;
        let current = self
            .selected
            .as_ref()
            .and_then(|id| visible.iter().position(|s| &s.state.id == id))
            .unwrap_or(0);
        let page = (self.drawn.table_rows.height as usize).max(1);
        let target = match movement {
            Move::Up => current.saturating_sub(1),
            Move::Down => (current + 1).min(last),
            Move::PageUp => current.saturating_sub(page),
            Move::PageDown => (current + page).min(last),
            Move::First => 0,
            Move::Last => last,
        };
        self.selected = Some(visible[target].state.id.clone());
    }

    /// Enter: shows the selected container's session in the pane and gives
    /// it the keyboard, attaching first if there is no live session.
    fn open_pane(&mut self) -> Vec<Effect> {
        let Some(sample) = self.selected_sample() else {
            self.say(Tone::Error, "no container selected: n starts one");
            return vec![];
        };
        let (id, name, running, tty) = (
            sample.state.id.clone(),
            sample.state.name.clone(),
            sample.running,
            sample.state.tty,
        );
        let detached = sample.state.monitor_pid.is_some();
        self.pane_open = true;
        self.focus = Focus::Pane;
        self.shown.insert(id.clone(), Kind::Attach);
        let key = SessionKey::attach(&id);
        let reconnect = self.sessions.get(&key).is_none_or(|s| !s.is_live());
        if !reconnect {
            self.say(
                Tone::Info,
                format!("{name}: Ctrl-\\ returns to the dashboard"),
            );
            return vec![];
        }
        if !running || !detached {
            if !self.sessions.contains_key(&key) {
                self.say(
                    Tone::Info,
                    if running {
                        format!("{name} runs in the foreground of another hako: there is no terminal to attach")
                    } else {
                        format!("{name} is not running: there is no terminal to attach")
                    },
                );
            }
            self.focus = Focus::Dashboard;
            return vec![];
        }
        // A new connection starts a new screen: the monitor replays its scrollback.
        self.say(
            Tone::Info,
            format!("attaching to {name}; Ctrl-\\ returns to the dashboard"),
        );
        vec![self.new_session(key, tty)]
    }

    /// `x`: a new shell in the selected running container through exec, in
    /// a session of its own; shows the one already there while it runs.
    fn open_exec(&mut self) -> Vec<Effect> {
        let Some(container) = self.selected_running("open a shell in") else {
            return vec![];
        };
        self.pane_open = true;
        self.focus = Focus::Pane;
        self.shown.insert(container.id.clone(), Kind::Exec);
        let key = SessionKey::exec(&container.id);
        let name = container.name;
        if self.sessions.get(&key).is_some_and(|s| s.is_live()) {
            self.say(
                Tone::Info,
                format!("the shell in {name} again; Ctrl-\\ returns to the dashboard, Enter shows its terminal"),
            );
            return vec![];
        }
        self.say(
            Tone::Info,
            format!("starting a shell in {name} (hako exec -it {name} /bin/sh); Ctrl-\\ returns to the dashboard"),
        );
        vec![self.new_session(key, true)]
    }

    /// A new session the size of the pane, and the effect that connects it.
    fn new_session(&mut self, key: SessionKey, tty: bool) -> Effect {
        let (rows, cols) = self
            .drawn
            .pane_inner
            .map_or((24, 80), |r| (r.height.max(1), r.width.max(1)));
        self.serial += 1;
        let serial = self.serial;
        self.sessions
            .insert(key.clone(), Session::new(rows, cols, tty, key.kind, serial));
        Effect::Open {
            key,
            serial,
            rows,
            cols,
        }
    }

    /// The shown session follows the size of the pane's inside; true when
    /// it changed.
    pub fn resize_sessions(&mut self) -> bool {
        let Some(r) = self.drawn.pane_inner else {
            return false;
        };
        match self.selected_session_mut() {
            Some(session) => session.resize(r.height, r.width),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::testing::{app_with, three_samples, trip, NOW};
    use crossterm::event::{KeyCode, KeyModifiers};

    fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
        app.on_key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn trips_gather_into_one_alert_per_container_and_kind() {
        let samples = three_samples();
        let mut app = app_with(
            samples.clone(),
            vec![trip(&samples[1], TripKind::CpuThrottled, 5, 3)],
        );
        app.on_snapshot(Snapshot {
            time: NOW + 1,
            samples: samples.clone(),
            trips: vec![
                trip(&samples[1], TripKind::CpuThrottled, 7, 0),
                trip(&samples[0], TripKind::OomKill, 1, 0),
            ],
            error: None,
        });
        assert_eq!(app.alerts.len(), 2);
        let throttled = app
            .alerts
            .iter()
            .find(|a| a.kind == TripKind::CpuThrottled)
            .unwrap();
        assert_eq!(throttled.count, 12);
        assert_eq!(
            app.alerts[0].kind,
            TripKind::OomKill,
            "the most serious first"
        );
        assert_eq!(
            app.recent_trip(&samples[0].state.id),
            Some(TripKind::OomKill)
        );
    }

    #[test]
    fn filter_and_sort_change_the_rows_and_keep_a_selection() {
        let mut app = app_with(three_samples(), vec![]);
        press(&mut app, KeyCode::Char('/'));
        assert_eq!(app.mode(), Mode::Filter);
        for c in "hog".chars() {
            press(&mut app, KeyCode::Char(c));
        }
        press(&mut app, KeyCode::Enter);
        let names: Vec<&str> = app
            .visible()
            .iter()
            .map(|s| s.state.name.as_str())
            .collect();
        assert_eq!(names, ["memory-hog"]);
        assert_eq!(app.selected_sample().unwrap().state.name, "memory-hog");
        press(&mut app, KeyCode::Esc);
        assert_eq!(app.visible().len(), 3);
        // o: created -> name.
        press(&mut app, KeyCode::Char('o'));
        let names: Vec<&str> = app
            .visible()
            .iter()
            .map(|s| s.state.name.as_str())
            .collect();
        assert_eq!(names, ["cpu-burner", "memory-hog", "web"]);
    }

    #[test]
    fn actions_on_a_stopped_container_say_why_not_and_do_nothing() {
        let mut app = app_with(three_samples(), vec![]);
        app.selected = Some(app.samples[2].state.id.clone());
        for key in ['s', 'k', 'e'] {
            assert!(press(&mut app, KeyCode::Char(key)).is_empty());
            assert_eq!(app.status.tone, Tone::Error);
            assert!(
                app.status.text.contains("not running"),
                "{}",
                app.status.text
            );
        }
        assert!(press(&mut app, KeyCode::Enter).is_empty());
        assert_eq!(app.focus, Focus::Dashboard);
    }

    #[test]
    fn enter_attaches_once_and_ctrl_backslash_returns() {
        let mut app = app_with(three_samples(), vec![]);
        let effects = press(&mut app, KeyCode::Enter);
        assert!(matches!(
            effects.as_slice(),
            [Effect::Open { key, .. }] if key.kind == Kind::Attach
        ));
        assert_eq!(app.mode(), Mode::Pane);
        // q goes to the shell, not to the dashboard.
        press(&mut app, KeyCode::Char('q'));
        assert!(!app.quit);
        app.on_key(KeyEvent::new(KeyCode::Char('4'), KeyModifiers::CONTROL));
        assert_eq!(app.mode(), Mode::Dashboard);
        let (tx, _rx) = std::sync::mpsc::channel();
        let id = app.selected.clone().unwrap();
        app.sessions
            .get_mut(&SessionKey::attach(&id))
            .unwrap()
            .set_input(tx);
        // The session is live: Enter shows it again without a new connection.
        assert!(press(&mut app, KeyCode::Enter).is_empty());
        assert_eq!(app.mode(), Mode::Pane);
    }

    #[test]
    fn x_opens_an_exec_shell_in_its_own_session_beside_the_terminal() {
        let mut app = app_with(three_samples(), vec![]);
        let id = app.selected.clone().unwrap();
        let effects = press(&mut app, KeyCode::Enter);
        let [Effect::Open { serial: first, .. }] = effects.as_slice() else {
            panic!("{effects:?}");
        };
        let first = *first;
        app.on_key(KeyEvent::new(KeyCode::Char('\\'), KeyModifiers::CONTROL));

        // x: a second session, shown in the pane and given the keys.
        let effects = press(&mut app, KeyCode::Char('x'));
        let [Effect::Open { key, serial, .. }] = effects.as_slice() else {
            panic!("{effects:?}");
        };
        assert_eq!(key, &SessionKey::exec(&id));
        assert_ne!(*serial, first);
        let serial = *serial;
        assert_eq!(app.mode(), Mode::Pane);
        assert_eq!(app.pane_session().unwrap().kind, Kind::Exec);
        assert_eq!(app.sessions.len(), 2);

        // Output of the shell reaches its own screen, not the terminal's;
        // a late event of an earlier connection is dropped.
        let exec = SessionKey::exec(&id);
        app.on_pane_event(&exec, serial, PaneEvent::Connected);
        app.on_pane_event(&exec, serial, PaneEvent::Output(b"42-from-exec".to_vec()));
        app.on_pane_event(&exec, serial + 7, PaneEvent::Output(b"stale".to_vec()));
        let screen = app.pane_session().unwrap().parser.screen().contents();
        assert_eq!(screen.trim_end(), "42-from-exec");
        let attach = SessionKey::attach(&id);
        assert_eq!(app.sessions[&attach].parser.screen().contents(), "");

        app.on_key(KeyEvent::new(KeyCode::Char('\\'), KeyModifiers::CONTROL));
        assert!(app.status.text.contains("x returns"), "{}", app.status.text);
        // x while that shell runs shows it again.
        let (tx, _rx) = std::sync::mpsc::channel();
        app.sessions.get_mut(&exec).unwrap().set_input(tx);
        assert!(press(&mut app, KeyCode::Char('x')).is_empty());
        assert_eq!(app.pane_session().unwrap().kind, Kind::Exec);

        // The shell exits: the pane keeps its screen; x starts a new one.
        app.on_pane_event(
            &exec,
            serial,
            PaneEvent::Ended(Link::Exited {
                code: 0,
                oom_killed: false,
            }),
        );
        assert!(!app.pane_session().unwrap().is_live());
        app.on_key(KeyEvent::new(KeyCode::Char('\\'), KeyModifiers::CONTROL));
        assert!(matches!(
            press(&mut app, KeyCode::Char('x')).as_slice(),
            [Effect::Open { key, .. }] if key.kind == Kind::Exec
        ));

        // Enter shows the container's terminal again.
        app.on_key(KeyEvent::new(KeyCode::Char('\\'), KeyModifiers::CONTROL));
        press(&mut app, KeyCode::Enter);
        assert_eq!(app.pane_session().unwrap().kind, Kind::Attach);
    }

    #[test]
    fn x_on_a_stopped_container_says_why_not() {
        let mut app = app_with(three_samples(), vec![]);
        app.selected = Some(app.samples[2].state.id.clone());
        assert!(press(&mut app, KeyCode::Char('x')).is_empty());
        assert_eq!(app.mode(), Mode::Dashboard);
        assert!(
            app.status.text.contains("not running"),
            "{}",
            app.status.text
        );
    }

    #[test]
    fn removing_a_container_drops_both_its_sessions() {
        let mut app = app_with(three_samples(), vec![]);
        press(&mut app, KeyCode::Enter);
        app.on_key(KeyEvent::new(KeyCode::Char('\\'), KeyModifiers::CONTROL));
        press(&mut app, KeyCode::Char('x'));
        app.on_key(KeyEvent::new(KeyCode::Char('\\'), KeyModifiers::CONTROL));
        assert_eq!(app.sessions.len(), 2);
        press(&mut app, KeyCode::Char('d'));
        press(&mut app, KeyCode::Char('y'));
        assert!(app.sessions.is_empty());
    }

    #[test]
    fn removing_asks_first_and_a_create_error_stays_in_the_form() {
        let mut app = app_with(three_samples(), vec![]);
        assert!(press(&mut app, KeyCode::Char('d')).is_empty());
        assert_eq!(app.mode(), Mode::Confirm);
        assert!(press(&mut app, KeyCode::Char('n')).is_empty());
        assert_eq!(app.mode(), Mode::Dashboard);
        press(&mut app, KeyCode::Char('d'));
        let effects = press(&mut app, KeyCode::Char('y'));
        assert!(
            matches!(effects.as_slice(), [Effect::Job(job)] if matches!(**job, Job::Remove(_)))
        );

        press(&mut app, KeyCode::Char('n'));
        let effects = press(&mut app, KeyCode::Enter);
        assert!(
            matches!(effects.as_slice(), [Effect::Job(job)] if matches!(**job, Job::Create(_)))
        );
        app.on_report(Report {
            kind: JobKind::Create,
            result: Err("no such image: nope".into()),
            container_id: None,
        });
        let Overlay::Form(form) = &app.overlay else {
            panic!("the form closed");
        };
        assert_eq!(form.error.as_deref(), Some("no such image: nope"));
        assert!(!form.submitting);
    }

    #[test]
    fn q_quits_and_mouse_capture_toggles() {
        let mut app = app_with(three_samples(), vec![]);
        let effects = press(&mut app, KeyCode::Char('m'));
        assert!(matches!(
            effects.as_slice(),
            [Effect::SetMouseCapture(false)]
        ));
        press(&mut app, KeyCode::Char('q'));
        assert!(app.quit);
    }
}
