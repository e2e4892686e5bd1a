//! The reducers' tests, through keys and snapshots as the event loop feeds them.

use super::*;
use crate::tui::pane::{Kind, Link};
use crate::tui::testing::{app_with, three_samples, NOW};
use crossterm::event::{KeyCode, KeyModifiers};

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE))
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
    app.table.selected = Some(app.samples[2].state.id.clone());
    for key in ['s', 'k', 'e'] {
        assert!(press(&mut app, KeyCode::Char(key)).is_empty());
        assert_eq!(app.status.tone, Tone::Error);
        assert!(
            app.status.text.contains("not running"),
            "{}",
            app.status.text
        );
    }
    // Enter has no terminal to attach to: it shows the log instead.
    assert!(matches!(
        press(&mut app, KeyCode::Enter).as_slice(),
        [Effect::OpenLog { .. }]
    ));
    assert_eq!(app.panes.focus, Focus::Dashboard);
    assert_eq!(app.mode(), Mode::Log);
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
    let id = app.table.selected.clone().unwrap();
    app.panes
        .sessions
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
    let id = app.table.selected.clone().unwrap();
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
    assert_eq!(app.panes.sessions.len(), 2);

    // Output of the shell reaches its own screen, not the terminal's;
    // a late event of an earlier connection is dropped.
    let exec = SessionKey::exec(&id);
    app.on_pane_event(&exec, serial, PaneEvent::Connected);
    app.on_pane_event(&exec, serial, PaneEvent::Output(b"42-from-exec".to_vec()));
    app.on_pane_event(&exec, serial + 7, PaneEvent::Output(b"stale".to_vec()));
    let screen = app.pane_session().unwrap().parser.screen().contents();
    assert_eq!(screen.trim_end(), "42-from-exec");
    let attach = SessionKey::attach(&id);
    assert_eq!(app.panes.sessions[&attach].parser.screen().contents(), "");

    app.on_key(KeyEvent::new(KeyCode::Char('\\'), KeyModifiers::CONTROL));
    assert!(app.status.text.contains("x returns"), "{}", app.status.text);
    // x while that shell runs shows it again.
    let (tx, _rx) = std::sync::mpsc::channel();
    app.panes.sessions.get_mut(&exec).unwrap().set_input(tx);
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
    app.table.selected = Some(app.samples[2].state.id.clone());
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
    assert_eq!(app.panes.sessions.len(), 2);
    press(&mut app, KeyCode::Char('d'));
    press(&mut app, KeyCode::Char('y'));
    assert!(app.panes.sessions.is_empty());
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
    assert!(matches!(effects.as_slice(), [Effect::Job(job)] if matches!(**job, Job::Remove(_))));

    press(&mut app, KeyCode::Char('n'));
    let effects = press(&mut app, KeyCode::Enter);
    assert!(matches!(effects.as_slice(), [Effect::Job(job)] if matches!(**job, Job::Create(_))));
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

#[test]
fn an_unknown_key_says_so_and_points_to_the_help() {
    let mut app = app_with(three_samples(), vec![]);
    assert!(press(&mut app, KeyCode::Char('z')).is_empty());
    assert_eq!(app.status.text, "z does nothing here: ? lists the keys");
    app.on_key(KeyEvent::new(KeyCode::Char('g'), KeyModifiers::CONTROL));
    assert_eq!(
        app.status.text,
        "Ctrl-G does nothing here: ? lists the keys"
    );
    // A key the dashboard knows says something else; a release says nothing.
    press(&mut app, KeyCode::Char('o'));
    assert!(
        app.status.text.starts_with("sorted by"),
        "{}",
        app.status.text
    );
    let mut release = KeyEvent::new(KeyCode::Char('z'), KeyModifiers::NONE);
    release.kind = crossterm::event::KeyEventKind::Release;
    app.on_key(release);
    assert!(
        app.status.text.starts_with("sorted by"),
        "{}",
        app.status.text
    );
}

/// Containers made in the same second, with ids that sort against their
/// creation order: `c0` first, then `c1`...
fn same_second_samples(n: usize) -> Vec<Sample> {
    (0..n)
        .map(|i| {
            let id = format!("{:08x}-0000-4000-8000-000000000000", 0xffff_ffff - i as u64);
            let mut sample = crate::tui::testing::running(
                crate::tui::testing::state(&format!("c{i}"), &id, 5),
                crate::tui::testing::stats((i as u64 + 1) << 20, None, 1, None),
                i as f64,
            );
            sample.events[0].time_ms = (NOW - 5) * 1000 + i as u64;
            sample
        })
        .collect()
}

fn names(app: &App) -> Vec<String> {
    app.visible().iter().map(|s| s.state.name.clone()).collect()
}

#[test]
fn containers_made_in_one_second_come_in_creation_order() {
    let mut app = app_with(same_second_samples(4), vec![]);
    assert_eq!(names(&app), ["c0", "c1", "c2", "c3"]);
    // Equal figures keep creation order too, whichever way the column goes.
    for s in &mut app.samples {
        s.cpu_percent = Some(1.0);
    }
    press(&mut app, KeyCode::Char('C'));
    assert_eq!(names(&app), ["c0", "c1", "c2", "c3"]);
    press(&mut app, KeyCode::Char('C'));
    assert_eq!(names(&app), ["c0", "c1", "c2", "c3"]);
}

#[test]
fn numbers_sort_biggest_first_and_the_same_key_again_reverses() {
    let mut app = app_with(same_second_samples(3), vec![]);
    press(&mut app, KeyCode::Char('C'));
    assert_eq!(names(&app), ["c2", "c1", "c0"]);
    assert_eq!(app.status.text, "sorted by cpu, biggest first (O reverses)");
    press(&mut app, KeyCode::Char('C'));
    assert_eq!(names(&app), ["c0", "c1", "c2"]);
    assert_eq!(
        app.status.text,
        "sorted by cpu, smallest first (O reverses)"
    );
    press(&mut app, KeyCode::Char('M'));
    assert_eq!(names(&app), ["c2", "c1", "c0"]);
    press(&mut app, KeyCode::Char('N'));
    assert_eq!(names(&app), ["c0", "c1", "c2"]);
    press(&mut app, KeyCode::Char('N'));
    assert_eq!(names(&app), ["c2", "c1", "c0"]);
    // o goes through the columns, each in its own default direction.
    press(&mut app, KeyCode::Char('A'));
    assert_eq!(app.table.sort, SortColumn::Created);
    press(&mut app, KeyCode::Char('o'));
    press(&mut app, KeyCode::Char('o'));
    press(&mut app, KeyCode::Char('o'));
    assert_eq!(app.table.sort, SortColumn::Cpu);
    assert!(app.table.sort_descending);
    assert_eq!(names(&app), ["c2", "c1", "c0"]);
}

#[test]
fn the_table_title_counts_what_a_filter_hides() {
    let mut app = app_with(three_samples(), vec![]);
    assert_eq!(app.rows_summary(3), "3 in all, 2 running");
    press(&mut app, KeyCode::Char('/'));
    for c in "web".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    let shown = app.visible().len();
    assert_eq!(
        app.rows_summary(shown),
        "1 of 3 shown (filter \"web\"), 2 running in all"
    );
}

#[test]
fn five_hundred_containers_keep_rows_and_selection_right() {
    let samples = same_second_samples(500);
    let mut app = app_with(samples.clone(), vec![]);
    app.drawn.table_rows = Rect::new(1, 3, 100, 20);
    assert_eq!(app.visible().len(), 500);
    assert_eq!(
        app.table.selected.as_deref(),
        Some(samples[0].state.id.as_str())
    );
    press(&mut app, KeyCode::PageDown);
    press(&mut app, KeyCode::Down);
    assert_eq!(app.selected_index(), Some(21));
    assert_eq!(app.selected_sample().unwrap().state.name, "c21");
    press(&mut app, KeyCode::End);
    assert_eq!(app.selected_sample().unwrap().state.name, "c499");
    // Biggest memory first: the selection stays on its container.
    press(&mut app, KeyCode::Char('M'));
    assert_eq!(app.selected_index(), Some(0));
    assert_eq!(names(&app)[..3], ["c499", "c498", "c497"]);
    // A snapshot without some containers keeps the others' state.
    let fewer: Vec<Sample> = samples.iter().step_by(2).cloned().collect();
    app.on_snapshot(Snapshot {
        time: NOW + 1,
        samples: fewer,
        trips: vec![],
        error: None,
    });
    assert_eq!(app.visible().len(), 250);
    assert_eq!(app.history.len(), 250);
    // c499 is gone: the selection moves to the first row, the biggest left.
    assert_eq!(app.selected_sample().unwrap().state.name, "c498");
    let on_screen = app.on_screen();
    assert_eq!(on_screen.len(), 20);
    assert!(on_screen.contains(&samples[498].state.id));
}
