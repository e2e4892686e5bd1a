//! The alerts view and the log view drawn into a TestBackend from fixed
//! data, compared with insta snapshots.

use super::*;
use crate::tui::app::{App, LogChunk, Overlay};
use crate::tui::collector::TripKind;
use crate::tui::keys::Action;
use crate::tui::testing::{app_with, three_samples, trip, NOW};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

fn render(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| {
            dashboard(f, app);
        })
        .unwrap();
    terminal
}

/// Trips recorded over the last two hours, and two live ones.
fn app_with_history() -> App {
    let samples = three_samples();
    let mut app = app_with(samples.clone(), vec![]);
    let at = |i: usize, kind, count, ago| {
        let mut t = trip(&samples[i], kind, count, 0);
        t.time = NOW - ago;
        t
    };
    app.on_recorded_trips(vec![
        at(2, TripKind::OomKill, 1, 7200),
        at(0, TripKind::MemoryLimit, 40, 3600),
        at(0, TripKind::MemoryLimit, 2, 3590),
        at(1, TripKind::CpuThrottled, 1, 1800),
        at(1, TripKind::PidsLimit, 3, 600),
    ]);
    app.on_snapshot(crate::tui::collector::Snapshot {
        time: NOW,
        samples: samples.clone(),
        trips: vec![
            at(0, TripKind::MemoryLimit, 5, 0),
            at(1, TripKind::CpuThrottled, 50, 0),
        ],
        error: None,
    });
    app
}

#[test]
fn the_alerts_view_lists_every_trip_newest_first() {
    let mut app = app_with_history();
    app.apply(Action::OpenAlerts);
    let terminal = render(&app, 110, 16);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn the_alerts_view_filtered_by_container_and_kind() {
    let mut app = app_with_history();
    app.apply(Action::OpenAlerts);
    app.apply(Action::AlertsKind);
    app.apply(Action::AlertsKind);
    app.apply(Action::StartFilter);
    for c in "we".chars() {
        app.apply(Action::FilterInput(c));
    }
    let terminal = render(&app, 110, 12);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn the_main_alerts_say_how_many_are_new() {
    let app = app_with_history();
    let mut terminal = Terminal::new(TestBackend::new(100, 5)).unwrap();
    terminal.draw(|f| alerts(f, f.area(), &app)).unwrap();
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn the_log_view_shows_the_end_and_marks_a_search() {
    let mut app = app_with(three_samples(), vec![]);
    app.table.selected = Some(app.samples[2].state.id.clone());
    app.apply(Action::OpenLog);
    let Overlay::Log(view) = &app.overlay else {
        panic!("no log view");
    };
    let serial = view.serial;
    let mut text = String::new();
    for i in 1..=30 {
        text.push_str(&format!(
            "\u{1b}[32m{i:>3}\u{1b}[0m allocating {} MiB\r\n",
            i * 2
        ));
    }
    text.push_str("tail: memory exhausted\n");
    app.on_log(serial, LogChunk::Data(text.into_bytes()));
    app.on_log(serial, LogChunk::Ended);
    // A first draw tells the view how many lines fit.
    let mut terminal = Terminal::new(TestBackend::new(100, 16)).unwrap();
    terminal.draw(|f| app.drawn = dashboard(f, &app)).unwrap();
    assert_eq!(app.drawn.view_rows, 12);
    app.apply(Action::StartFilter);
    for c in "28 ".chars() {
        app.apply(Action::FilterInput(c));
    }
    app.apply(Action::FilterAccept);
    let terminal = render(&app, 100, 16);
    insta::assert_snapshot!(terminal.backend());
    // The match is marked where the text shows it: " 28 allocating".
    let buffer = terminal.backend().buffer();
    let row = (0..16)
        .find(|y| buffer[(2, *y)].symbol() == "2" && buffer[(3, *y)].symbol() == "8")
        .expect("line 28 is drawn");
    assert!(buffer[(2, row)]
        .modifier
        .contains(ratatui::style::Modifier::REVERSED));
    assert!(!buffer[(6, row)]
        .modifier
        .contains(ratatui::style::Modifier::REVERSED));
}

#[test]
fn an_empty_log_says_why() {
    let mut samples = three_samples();
    samples[0].state.monitor_pid = None;
    let mut app = app_with(samples, vec![]);
    app.apply(Action::OpenLog);
    let Overlay::Log(view) = &app.overlay else {
        panic!("no log view");
    };
    let serial = view.serial;
    app.on_log(serial, LogChunk::Data(vec![]));
    let terminal = render(&app, 100, 12);
    insta::assert_snapshot!(terminal.backend());
}
