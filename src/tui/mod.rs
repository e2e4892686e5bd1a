//! The dashboard: live usage against limits, limit-trip alerts, actions on
//! keystrokes and each container's terminal in a pane.
//!
//! Threads, as bottom does it: the collector reads the containers at a steady
//! tick and sends `Event::Update`; the input thread sends keys, mouse,
//! paste, resizes and ending signals; the worker carries out actions through
//! the runtime core and sends reports; each attach connection sends its
//! output. All go into one channel. The main thread alone owns the `App`,
//! maps keys to actions with a pure function, and draws.
//!
//! This module never touches a cgroup file or a container's process itself:
//! every action is a call into the runtime core, gathered in `runtime_calls`.

// The dashboard makes no system call of its own: no unsafe code, ever.
#![forbid(unsafe_code)]

mod app;
mod collector;
mod draw;
mod form;
mod format;
mod key_bytes;
mod keys;
mod pane;
mod runtime_calls;
mod terminal;
mod worker;

#[cfg(test)]
mod testing;

use crate::runtime::paths::Paths;
use app::{App, Effect, LogChunk};
use collector::{Snapshot, Trip};
use pane::{Kind, PaneEvent, SessionKey};
use std::io::IsTerminal;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};
use worker::{Job, JobKind, Report};

/// The exit code when there is no terminal, as for a usage error.
pub const EXIT_NO_TERMINAL: i32 = 2;

/// How the dashboard runs.
#[derive(Debug, Clone)]
pub struct Options {
    pub paths: Paths,
    /// How often usage is read.
    pub tick: Duration,
    /// The parent cgroup of containers the dashboard starts.
    pub cgroup_parent: String,
}

/// Everything that reaches the main thread.
enum Event {
    Input(crossterm::event::Event),
    InputFailed(String),
    /// SIGTERM, SIGHUP or SIGINT.
    Signal(i32),
    Update(Snapshot),
    Report(Report),
    Pane {
        key: SessionKey,
        serial: u64,
        event: PaneEvent,
    },
    /// Trips recorded before the dashboard started.
    RecordedTrips(Vec<Trip>),
    Log {
        serial: u64,
        chunk: LogChunk,
    },
}

/// `hako`, `hako tui`: runs the dashboard and returns the exit code.
pub fn run(options: Options) -> i32 {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        eprintln!("hako: the dashboard needs a terminal; use hako ps");
        return EXIT_NO_TERMINAL;
    }
    if let Err(e) = terminal::catch_ending_signals() {
        eprintln!("hako: failed to set up signal handling: {e}");
        return crate::runtime::exit_code::HAKO_ERROR;
    }
    terminal::restore_on_panic();
    let mut screen = match terminal::enter() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hako: failed to set up the terminal: {e}");
            return crate::runtime::exit_code::HAKO_ERROR;
        }
    };
    let code = event_loop(&mut screen, options);
    terminal::restore();
    code
}

fn spawn_input(events: Sender<Event>) {
    let spawned = std::thread::Builder::new()
        .name("hako-input".into())
        .spawn(move || loop {
            if let Some(signal) = terminal::take_ending_signal() {
                if events.send(Event::Signal(signal)).is_err() {
                    return;
                }
            }
            let event = match crossterm::event::poll(Duration::from_millis(100)) {
                Ok(false) => continue,
                Ok(true) => crossterm::event::read(),
                Err(e) => Err(e),
            };
            let sent = match event {
                Ok(e) => events.send(Event::Input(e)),
                Err(e) => {
                    let _ = events.send(Event::InputFailed(e.to_string()));
                    return;
                }
            };
            if sent.is_err() {
                return;
            }
        });
    if let Err(e) = spawned {
        panic!("failed to start the input thread: {e}");
    }
}

/// Reads the trips the event files recorded before now, for the alerts'
/// history, off the main thread (one file per container).
fn spawn_history(paths: Paths, events: Sender<Event>) {
    let started_ms = runtime_calls::now_ms();
    // Should the thread not start, the alerts begin empty: no harm done.
    let _ = std::thread::Builder::new()
        .name("hako-history".into())
        .spawn(move || {
            let trips = runtime_calls::recorded_trips(&paths, started_ms);
            let _ = events.send(Event::RecordedTrips(trips));
        });
}

/// How often an open log view looks for new output.
const LOG_POLL: Duration = Duration::from_millis(100);

/// Reads a container's log, then what it appends while it runs, into the
/// log view with `serial`, until the view closes (`stop` disconnects).
fn spawn_log_reader(
    paths: Paths,
    container: crate::runtime::state::ContainerState,
    serial: u64,
    stop: Receiver<()>,
    events: Sender<Event>,
) {
    let failed = events.clone();
    let spawned = std::thread::Builder::new()
        .name("hako-log".into())
        .spawn(move || {
            let send = |chunk| events.send(Event::Log { serial, chunk }).is_ok();
            let (old, mut follower) = runtime_calls::log_read(&paths, &container);
            if !send(LogChunk::Data(old)) {
                return;
            }
            loop {
                // Whether it ran before reading, so its last words are read too.
                let running = runtime_calls::is_running(&container);
                let new = follower.read_new();
                if !new.is_empty() && !send(LogChunk::Data(new)) {
                    return;
                }
                if !running {
                    send(LogChunk::Ended);
                    return;
                }
                match stop.recv_timeout(LOG_POLL) {
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
            }
        });
    if let Err(e) = spawned {
        let _ = failed.send(Event::Log {
            serial,
            chunk: LogChunk::Data(
                format!("hako: failed to start reading the log: {e}\n").into_bytes(),
            ),
        });
    }
}

/// The most events handled between two draws, so a flood of output never
/// starves the screen.
const BATCH: Duration = Duration::from_millis(30);

fn event_loop(screen: &mut terminal::Screen, options: Options) -> i32 {
    let (events, inbox): (Sender<Event>, Receiver<Event>) = mpsc::channel();
    let (wake, woken) = mpsc::channel();
    let update_events = events.clone();
    let on_screen = collector::OnScreen::default();
    collector::spawn(
        options.paths.clone(),
        options.tick,
        woken,
        on_screen.clone(),
        move |s| update_events.send(Event::Update(s)).is_ok(),
    );
    let (jobs, pending_jobs) = mpsc::channel();
    let report_events = events.clone();
    worker::spawn(options.paths.clone(), pending_jobs, move |r| {
        let _ = report_events.send(Event::Report(r));
    });
    let _ = jobs.send(Job::Gc);
    spawn_history(options.paths.clone(), events.clone());
    spawn_input(events.clone());

    let mut app = App::new(
        options.paths.lib.display().to_string(),
        options.tick.as_millis() as u64,
        options.cgroup_parent.clone(),
    );
    let mut exit_code = 0;
    loop {
        // Every batch of events may have changed something: draw once for all
        // of them (ratatui sends only the cells that changed).
        if let Err(e) = draw(screen, &mut app) {
            terminal::restore();
            eprintln!("hako: failed to draw: {e}");
            return crate::runtime::exit_code::HAKO_ERROR;
        }
        let shown = app.on_screen();
        if let Ok(mut current) = on_screen.lock() {
            if *current != shown {
                *current = shown;
            }
        }
        let Ok(first) = inbox.recv() else { break };
        let started = Instant::now();
        let mut next = Some(first);
        while let Some(event) = next {
            let mut repaint = false;
            let effects = match event {
                Event::Input(crossterm::event::Event::Key(key)) => app.on_key(key),
                Event::Input(crossterm::event::Event::Paste(text)) => app.on_paste(&text),
                Event::Input(crossterm::event::Event::Mouse(m)) => app.on_mouse(m),
                Event::Input(_) => vec![],
                Event::InputFailed(e) => {
                    app.quit = true;
                    exit_code = crate::runtime::exit_code::HAKO_ERROR;
                    terminal::restore();
                    eprintln!("hako: failed to read the terminal: {e}");
                    vec![]
                }
                Event::Signal(signal) => {
                    app.quit = true;
                    exit_code = crate::runtime::exit_code::killed_by(signal);
                    vec![]
                }
                Event::Update(snapshot) => {
                    app.on_snapshot(snapshot);
                    vec![]
                }
                Event::Report(report) => {
                    // The monitor of a new container may have written to our terminal.
                    repaint = matches!(report.kind, JobKind::Create | JobKind::Demo);
                    app.on_report(report)
                }
                Event::Pane { key, serial, event } => {
                    app.on_pane_event(&key, serial, event);
                    vec![]
                }
                Event::RecordedTrips(trips) => {
                    app.on_recorded_trips(trips);
                    vec![]
                }
                Event::Log { serial, chunk } => {
                    app.on_log(serial, chunk);
                    vec![]
                }
            };
            if repaint {
                let _ = screen.clear();
            }
            for effect in effects {
                carry_out(effect, &mut app, &options, &events, &jobs, &wake);
            }
            if app.quit || started.elapsed() > BATCH {
                break;
            }
            next = inbox.try_recv().ok();
        }
        if app.quit {
            break;
        }
    }
    exit_code
}

fn draw(screen: &mut terminal::Screen, app: &mut App) -> std::io::Result<()> {
    let mut drawn = app.drawn;
    screen.draw(|frame| drawn = draw::dashboard(frame, app))?;
    let resized = app.drawn.pane_inner != drawn.pane_inner;
    app.drawn = drawn;
    // The pane's inside is the size of the PTY: follow it, and show the
    // screen at its new size at once.
    if app.resize_sessions() || resized {
        screen.draw(|frame| drawn = draw::dashboard(frame, app))?;
        app.drawn = drawn;
    }
    Ok(())
}

fn carry_out(
    effect: Effect,
    app: &mut App,
    options: &Options,
    events: &Sender<Event>,
    jobs: &Sender<Job>,
    wake: &Sender<()>,
) {
    match effect {
        Effect::Job(job) => {
            let _ = jobs.send(*job);
        }
        Effect::Refresh => {
            let _ = wake.send(());
        }
        Effect::SetMouseCapture(on) => terminal::set_mouse_capture(on),
        Effect::OpenLog { container, serial } => {
            let (stop, stopped) = mpsc::channel();
            app.log_reader_started(serial, stop);
            spawn_log_reader(
                options.paths.clone(),
                *container,
                serial,
                stopped,
                events.clone(),
            );
        }
        Effect::Open {
            key,
            serial,
            rows,
            cols,
        } => {
            let events = events.clone();
            let for_events = key.clone();
            let sink = move |event| {
                events
                    .send(Event::Pane {
                        key: for_events.clone(),
                        serial,
                        event,
                    })
                    .is_ok()
            };
            let (paths, id) = (options.paths.clone(), key.id.clone());
            let input = match key.kind {
                Kind::Attach => pane::start(rows, cols, move || pane::attach(&paths, &id), sink),
                Kind::Exec => pane::start(
                    rows,
                    cols,
                    move || pane::exec(&paths, &id, rows, cols),
                    sink,
                ),
            };
            if let Some(session) = app.panes.sessions.get_mut(&key) {
                session.set_input(input);
            }
        }
    }
}
