//! The alerts' and the log view's reducers.

use super::*;
use crate::tui::collector::Trip;
use crate::tui::testing::{app_with, three_samples, trip, NOW};
use crossterm::event::{KeyCode, KeyModifiers};

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn tick(app: &mut App, at: u64, trips: Vec<Trip>) {
    let samples = app.samples.clone();
    app.on_snapshot(Snapshot {
        time: at,
        samples,
        trips,
        error: None,
    });
}

fn at(mut trip: Trip, time: u64) -> Trip {
    trip.time = time;
    trip
}

#[test]
fn trips_of_one_kind_in_one_container_coalesce_into_a_burst_with_a_count() {
    let samples = three_samples();
    let mut app = app_with(
        samples.clone(),
        vec![trip(&samples[1], TripKind::CpuThrottled, 5, 3)],
    );
    tick(
        &mut app,
        NOW + 1,
        vec![
            at(trip(&samples[1], TripKind::CpuThrottled, 7, 0), NOW + 1),
            at(trip(&samples[0], TripKind::OomKill, 1, 0), NOW + 1),
        ],
    );
    assert_eq!(app.alerts.all().len(), 2);
    let throttled = &app.alerts.all()[0];
    assert_eq!(
        (throttled.kind, throttled.count),
        (TripKind::CpuThrottled, 12)
    );
    assert_eq!((throttled.first, throttled.last), (NOW - 3, NOW + 1));
    let main = app.alerts.main_lines(NOW + 1, 5);
    assert_eq!(main[0].kind, TripKind::OomKill, "the most serious first");
    assert_eq!(
        app.recent_trip(&samples[0].state.id),
        Some(TripKind::OomKill)
    );
    // After a quiet minute the same kind starts a new line.
    let later = NOW + 1 + alerts::BURST_GAP_SECONDS;
    tick(
        &mut app,
        later,
        vec![at(trip(&samples[1], TripKind::CpuThrottled, 2, 0), later)],
    );
    assert_eq!(app.alerts.all().len(), 3);
    assert_eq!(app.alerts.all()[2].count, 2);
}

#[test]
fn a_new_trip_keeps_its_place_on_the_main_screen_while_others_go_on() {
    let samples = three_samples();
    let (web, burner, hog) = (&samples[0], &samples[1], &samples[2]);
    let mut app = app_with(samples.clone(), vec![]);
    // Two containers trip at every tick, for minutes.
    let going_on = |t| {
        vec![
            at(trip(web, TripKind::MemoryLimit, 3, 0), t),
            at(trip(burner, TripKind::CpuThrottled, 50, 0), t),
        ]
    };
    for t in NOW..NOW + 120 {
        tick(&mut app, t, going_on(t));
    }
    // One OOM kill elsewhere; then the others go on tripping.
    let kill = NOW + 120;
    let mut trips = going_on(kill);
    trips.push(at(trip(hog, TripKind::OomKill, 1, 0), kill));
    tick(&mut app, kill, trips);
    for t in kill + 1..kill + alerts::HOLD_SECONDS {
        tick(&mut app, t, going_on(t));
        let main = app.alerts.main_lines(t, 1);
        assert_eq!(main[0].kind, TripKind::OomKill, "{}s after", t - kill);
    }
    // Once held long enough, lines that go on come first; it stays in the
    // history.
    let after = kill + alerts::HOLD_SECONDS;
    tick(&mut app, after, going_on(after));
    let main = app.alerts.main_lines(after, 2);
    assert_eq!(main[0].kind, TripKind::MemoryLimit);
    assert_eq!(main[1].kind, TripKind::CpuThrottled);
    assert_eq!(app.alerts.main_lines(after, 3)[2].kind, TripKind::OomKill);
    assert_eq!(app.alerts.all().len(), 3, "bursts, not one line per tick");
}

#[test]
fn new_lines_are_counted_until_the_alerts_view_is_opened() {
    let samples = three_samples();
    let mut app = app_with(samples.clone(), vec![]);
    assert_eq!(app.alerts.unseen(), 0);
    tick(
        &mut app,
        NOW + 1,
        vec![
            at(trip(&samples[0], TripKind::MemoryLimit, 1, 0), NOW + 1),
            at(trip(&samples[1], TripKind::CpuThrottled, 4, 0), NOW + 1),
        ],
    );
    assert_eq!(app.alerts.unseen(), 2);
    // A burst that goes on is not a new line.
    tick(
        &mut app,
        NOW + 2,
        vec![at(trip(&samples[1], TripKind::CpuThrottled, 4, 0), NOW + 2)],
    );
    assert_eq!(app.alerts.unseen(), 2);
    press(&mut app, KeyCode::Char('a'));
    assert_eq!(app.mode(), Mode::Alerts);
    assert_eq!(app.alerts.unseen(), 0);
    // While the view is open, what arrives is seen.
    tick(
        &mut app,
        NOW + 3,
        vec![at(trip(&samples[2], TripKind::OomKill, 1, 0), NOW + 3)],
    );
    assert_eq!(app.alerts.unseen(), 0);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.mode(), Mode::Dashboard);
    tick(
        &mut app,
        NOW + 4,
        vec![at(trip(&samples[2], TripKind::PidsLimit, 1, 0), NOW + 4)],
    );
    assert_eq!(app.alerts.unseen(), 1);
}

#[test]
fn trips_recorded_before_the_start_go_first_and_are_not_new() {
    let samples = three_samples();
    let mut app = app_with(samples.clone(), vec![]);
    // A live trip arrives before the history has been read.
    tick(
        &mut app,
        NOW + 1,
        vec![at(trip(&samples[0], TripKind::MemoryLimit, 2, 0), NOW + 1)],
    );
    app.on_recorded_trips(vec![
        at(trip(&samples[2], TripKind::OomKill, 1, 0), NOW - 3600),
        at(trip(&samples[0], TripKind::MemoryLimit, 5, 0), NOW - 10),
        at(trip(&samples[0], TripKind::MemoryLimit, 1, 0), NOW - 7200),
    ]);
    let all = app.alerts.all();
    let kinds: Vec<(TripKind, u64)> = all.iter().map(|a| (a.kind, a.first)).collect();
    assert_eq!(
        kinds,
        [
            (TripKind::MemoryLimit, NOW - 7200),
            (TripKind::OomKill, NOW - 3600),
            (TripKind::MemoryLimit, NOW - 10),
        ]
    );
    // The live trip joined the burst recorded 11 s before it.
    assert_eq!((all[2].count, all[2].last), (7, NOW + 1));
    assert_eq!(app.alerts.unseen(), 1);
}

#[test]
fn the_alerts_view_filters_by_kind_and_container_and_scrolls() {
    let samples = three_samples();
    let mut app = app_with(samples.clone(), vec![]);
    let mut recorded = vec![];
    for i in 0..40 {
        let sample = &samples[i % 3];
        let kind = [
            TripKind::MemoryLimit,
            TripKind::CpuThrottled,
            TripKind::OomKill,
        ][i % 3];
        // Far enough apart to be bursts of their own.
        recorded.push(at(trip(sample, kind, 1, 0), NOW - 10_000 + i as u64 * 100));
    }
    app.on_recorded_trips(recorded);
    press(&mut app, KeyCode::Char('a'));
    app.drawn.view_rows = 10;
    let lines = |app: &App| match &app.overlay {
        Overlay::Alerts(view) => view
            .lines(&app.alerts)
            .iter()
            .map(|a| (a.name.clone(), a.kind, a.last))
            .collect::<Vec<_>>(),
        _ => panic!("the view closed"),
    };
    assert_eq!(lines(&app).len(), 40);
    assert_eq!(lines(&app)[0].2, NOW - 10_000 + 3900, "newest first");
    press(&mut app, KeyCode::Char('k'));
    assert!(lines(&app).iter().all(|l| l.1 == TripKind::OomKill));
    assert_eq!(lines(&app).len(), 13);
    press(&mut app, KeyCode::Char('k'));
    press(&mut app, KeyCode::Char('k'));
    press(&mut app, KeyCode::Char('k'));
    press(&mut app, KeyCode::Char('k'));
    assert_eq!(lines(&app).len(), 40, "k goes round to every kind");
    press(&mut app, KeyCode::Char('/'));
    assert_eq!(app.mode(), Mode::AlertsFilter);
    for c in "WEB".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.mode(), Mode::Alerts);
    assert!(lines(&app).iter().all(|l| l.0 == "web"));
    assert_eq!(lines(&app).len(), 14);
    press(&mut app, KeyCode::PageDown);
    press(&mut app, KeyCode::PageDown);
    let Overlay::Alerts(view) = &app.overlay else {
        panic!()
    };
    assert_eq!(view.scroll, 13, "never past the last line");
    // The table's selection did not move: the keys were the view's.
    assert_eq!(app.selected_sample().unwrap().state.name, "web");
}

fn log_app(running: bool) -> (App, u64) {
    let mut app = app_with(three_samples(), vec![]);
    if !running {
        app.table.selected = Some(app.samples[2].state.id.clone());
    }
    let effects = press(&mut app, KeyCode::Char('l'));
    let [Effect::OpenLog { container, serial }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(container.id, *app.table.selected.as_ref().unwrap());
    (app, *serial)
}

fn log_view(app: &App) -> &LogView {
    match &app.overlay {
        Overlay::Log(view) => view,
        _ => panic!("the log view is not open"),
    }
}

#[test]
fn the_log_view_follows_output_split_anywhere() {
    let (mut app, serial) = log_app(true);
    assert_eq!(app.mode(), Mode::Log);
    let full = "one\r\ntwo \u{1b}[1;31mred\u{1b}[0m é\nthree\n".as_bytes();
    // Cut inside a line, an escape sequence and a two-byte character.
    let escape = full.iter().position(|b| *b == 0x1b).unwrap();
    let e_acute = full.len() - "\nthree\n".len() - 1;
    for piece in [
        &full[..6],
        &full[6..escape + 2],
        &full[escape + 2..e_acute],
        &full[e_acute..],
    ] {
        app.on_log(serial, LogChunk::Data(piece.to_vec()));
    }
    // A chunk of an earlier view is dropped.
    app.on_log(serial + 9, LogChunk::Data(b"stale\n".to_vec()));
    let view = log_view(&app);
    assert_eq!(view.lines, ["one", "two red é", "three"]);
    assert!(!view.ended);
    app.on_log(serial, LogChunk::Ended);
    assert!(log_view(&app).ended);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.mode(), Mode::Dashboard);
}

#[test]
fn the_log_view_scrolls_and_stays_put_while_output_arrives() {
    let (mut app, serial) = log_app(true);
    app.drawn.view_rows = 10;
    let text: String = (1..=100).map(|i| format!("line {i}\n")).collect();
    app.on_log(serial, LogChunk::Data(text.into_bytes()));
    assert_eq!(log_view(&app).top(10), 90, "following: the end shows");
    press(&mut app, KeyCode::PageUp);
    assert_eq!(log_view(&app).top(10), 80);
    app.on_log(serial, LogChunk::Data(b"line 101\n".to_vec()));
    assert_eq!(log_view(&app).top(10), 80, "scrolled back, the view stays");
    press(&mut app, KeyCode::Home);
    assert_eq!(log_view(&app).top(10), 0);
    press(&mut app, KeyCode::Up);
    assert_eq!(log_view(&app).top(10), 0);
    press(&mut app, KeyCode::Char('f'));
    assert_eq!(log_view(&app).scroll, 0, "f follows again");
}

#[test]
fn search_finds_the_nearest_older_match_and_n_goes_on() {
    let (mut app, serial) = log_app(false);
    app.drawn.view_rows = 4;
    let text: String = (0..50)
        .map(|i| {
            if i % 10 == 3 {
                format!("{i} ERROR disk full\n")
            } else {
                format!("{i} fine\n")
            }
        })
        .collect();
    app.on_log(serial, LogChunk::Data(text.into_bytes()));
    app.on_log(serial, LogChunk::Ended);
    press(&mut app, KeyCode::Char('/'));
    assert_eq!(app.mode(), Mode::LogSearch);
    for c in "error".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.mode(), Mode::Log);
    assert_eq!(log_view(&app).found, Some(43));
    assert!(
        app.status.text.contains("line 44 of 50"),
        "{}",
        app.status.text
    );
    let shown = |app: &App| {
        let top = log_view(app).top(4);
        top..top + 4
    };
    assert!(shown(&app).contains(&43));
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(log_view(&app).found, Some(33));
    assert!(shown(&app).contains(&33));
    for _ in 0..3 {
        press(&mut app, KeyCode::Char('n'));
    }
    assert_eq!(log_view(&app).found, Some(3));
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(log_view(&app).found, Some(3));
    assert_eq!(app.status.text, "no older line has \"error\"");
    app.on_key(KeyEvent::new(KeyCode::Char('N'), KeyModifiers::SHIFT));
    assert_eq!(log_view(&app).found, Some(13));
}

#[test]
fn enter_on_an_exited_container_opens_its_log() {
    let mut app = app_with(three_samples(), vec![]);
    app.table.selected = Some(app.samples[2].state.id.clone());
    let effects = press(&mut app, KeyCode::Enter);
    assert!(
        matches!(effects.as_slice(), [Effect::OpenLog { container, .. }] if container.name == "memory-hog"),
        "{effects:?}"
    );
    assert_eq!(app.mode(), Mode::Log);
    assert!(!app.panes.open);
    assert!(
        app.status.text.contains("it has exited"),
        "{}",
        app.status.text
    );
}

#[test]
fn enter_on_a_container_of_a_foreground_hako_opens_its_log() {
    let mut samples = three_samples();
    samples[0].state.monitor_pid = None;
    let mut app = app_with(samples, vec![]);
    let effects = press(&mut app, KeyCode::Enter);
    assert!(matches!(effects.as_slice(), [Effect::OpenLog { .. }]));
    assert!(log_view(&app).foreground);
}

#[test]
fn terminal_output_becomes_plain_text() {
    use super::logs::plain_text;
    assert_eq!(plain_text(b"a\tb"), "a       b");
    assert_eq!(plain_text(b"50%\r100%"), "100%");
    assert_eq!(
        plain_text(b"\x1b]0;title\x07prompt$ \x1b[?2004h"),
        "prompt$ "
    );
    assert_eq!(plain_text(b"ab\x08c\x00"), "ac");
    assert_eq!(plain_text(b"\xff ok"), "\u{fffd} ok");
}
