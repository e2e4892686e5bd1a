//! The terminal pane and its sessions: each container's terminal (attach)
//! and exec'd shell, which one the pane shows, and who has the keyboard.

use super::super::key_bytes::encode_key;
use super::super::keys::Action;
use super::super::pane::{Kind, Link, PaneEvent, Session, SessionKey};
use super::{App, Effect, Tone};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Dashboard,
    Pane,
}

pub struct Panes {
    pub focus: Focus,
    /// The pane is shown (beside or instead of the detail panel).
    pub open: bool,
    pub sessions: HashMap<SessionKey, Session>,
    /// Which of its sessions the pane shows for a container (its terminal
    /// unless `x` opened a shell since).
    pub shown: HashMap<String, Kind>,
    /// The serial of the latest session opened.
    serial: u64,
}

impl Default for Panes {
    fn default() -> Panes {
        Panes {
            focus: Focus::Dashboard,
            open: false,
            sessions: HashMap::new(),
            shown: HashMap::new(),
            serial: 0,
        }
    }
}

impl Panes {
    /// Drops the sessions of containers no longer there (their connections
    /// close, an exec'd shell ends).
    pub fn keep_only(&mut self, ids: &std::collections::HashSet<&str>) {
        self.sessions.retain(|key, _| ids.contains(key.id.as_str()));
        self.shown.retain(|id, _| ids.contains(id.as_str()));
    }

    pub fn on_event(&mut self, key: &SessionKey, serial: u64, event: PaneEvent) {
        let Some(session) = self.sessions.get_mut(key).filter(|s| s.serial == serial) else {
            return;
        };
        match event {
            PaneEvent::Connected => session.link = Link::Live,
            PaneEvent::Output(bytes) => session.process(&bytes),
            PaneEvent::Ended(link) => session.end(link),
        }
    }
}

impl App {
    /// The key of the session the pane shows: one of the selected container's.
    pub fn pane_key(&self) -> Option<SessionKey> {
        let id = self.table.selected.as_ref()?;
        let kind = self.panes.shown.get(id).copied().unwrap_or(Kind::Attach);
        Some(SessionKey {
            id: id.clone(),
            kind,
        })
    }

    /// The session shown in the pane.
    pub fn pane_session(&self) -> Option<&Session> {
        self.panes.sessions.get(&self.pane_key()?)
    }

    pub fn selected_session_mut(&mut self) -> Option<&mut Session> {
        let key = self.pane_key()?;
        self.panes.sessions.get_mut(&key)
    }

    /// The panes' reducer: opening, leaving and typing into the pane.
    pub(super) fn apply_pane(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::OpenPane => self.open_pane(),
            Action::Exec => self.open_exec(),
            Action::ClosePane => {
                self.panes.open = false;
                self.panes.focus = Focus::Dashboard;
                self.say(
                    Tone::Info,
                    "pane closed; its session stays (Enter shows it again)",
                );
                vec![]
            }
            Action::FocusDashboard => {
                if self.panes.focus == Focus::Pane {
                    self.panes.focus = Focus::Dashboard;
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
            _ => vec![],
        }
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
        self.panes.open = true;
        self.panes.focus = Focus::Pane;
        self.panes.shown.insert(id.clone(), Kind::Attach);
        let key = SessionKey::attach(&id);
        let reconnect = self.panes.sessions.get(&key).is_none_or(|s| !s.is_live());
        if !reconnect {
            self.say(
                Tone::Info,
                format!("{name}: Ctrl-\\ returns to the dashboard"),
            );
            return vec![];
        }
        if !running || !detached {
            // No terminal to attach to: what it wrote is in its log.
            self.panes.focus = Focus::Dashboard;
            if !self.panes.sessions.contains_key(&key) {
                self.panes.shown.remove(&id);
                self.panes.open = false;
            }
            return self.open_log();
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
        self.panes.open = true;
        self.panes.focus = Focus::Pane;
        self.panes.shown.insert(container.id.clone(), Kind::Exec);
        let key = SessionKey::exec(&container.id);
        let name = container.name;
        if self.panes.sessions.get(&key).is_some_and(|s| s.is_live()) {
            self.say(
                Tone::Info,
                format!("{name}: the same shell; Ctrl-\\ returns, Enter shows its terminal"),
            );
            return vec![];
        }
        self.say(
            Tone::Info,
            format!("a shell in {name} (exec /bin/sh); Ctrl-\\ returns"),
        );
        vec![self.new_session(key, true)]
    }

    /// A new session the size of the pane, and the effect that connects it.
    fn new_session(&mut self, key: SessionKey, tty: bool) -> Effect {
        let (rows, cols) = self
            .drawn
            .pane_inner
            .map_or((24, 80), |r| (r.height.max(1), r.width.max(1)));
        self.panes.serial += 1;
        let serial = self.panes.serial;
        self.panes
            .sessions
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
