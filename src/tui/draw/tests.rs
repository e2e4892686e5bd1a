//! Each panel drawn into a TestBackend from fixed data, compared with an
//! insta snapshot (`src/tui/draw/snapshots/`), plus checks of colours that a
//! text snapshot cannot show.

use super::*;
use crate::tui::app::{App, Focus, Overlay};
use crate::tui::collector::TripKind;
use crate::tui::form::Form;
use crate::tui::pane::{Kind, Link, Session, SessionKey, SCROLLBACK_LINES};
use crate::tui::testing::{self, app_with, three_samples, trip};
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use ratatui::Terminal;

fn render(width: u16, height: u16, draw: impl FnOnce(&mut Frame)) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(draw).unwrap();
    terminal
}

/// The fixture app, with a memory trip on `web` two seconds ago.
fn busy_app() -> App {
    let samples = three_samples();
    let trips = vec![
        trip(&samples[0], TripKind::MemoryLimit, 12, 2),
        trip(&samples[1], TripKind::CpuThrottled, 384, 1),
        trip(&samples[2], TripKind::OomKill, 1, 40),
    ];
    app_with(samples, trips)
}

fn row_of(terminal: &Terminal<TestBackend>, text: &str) -> u16 {
    let buffer = terminal.backend().buffer();
    (0..buffer.area.height)
        .find(|y| {
            let line: String = (0..buffer.area.width)
                .map(|x| buffer[(x, *y)].symbol().to_string())
                .collect();
            line.contains(text)
        })
        .unwrap_or_else(|| panic!("{text} is not drawn"))
}

#[test]
fn table_shows_usage_against_limits() {
    let app = busy_app();
    let terminal = render(140, 7, |f| {
        table(f, f.area(), &app);
    });
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn a_row_turns_red_when_its_container_hits_a_limit() {
    let app = busy_app();
    let terminal = render(140, 7, |f| {
        table(f, f.area(), &app);
    });
    let buffer = terminal.backend().buffer();
    let web = row_of(&terminal, "web");
    assert_eq!(buffer[(10, web)].bg, Color::Red);
    let burner = row_of(&terminal, "cpu-burner");
    assert_eq!(buffer[(10, burner)].fg, Color::Yellow);
    let hog = row_of(&terminal, "memory-hog");
    assert_eq!(buffer[(10, hog)].fg, Color::DarkGray);
}

#[test]
fn a_narrow_table_drops_image_and_id_first() {
    let app = busy_app();
    let terminal = render(96, 7, |f| {
        table(f, f.area(), &app);
    });
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn the_empty_table_points_to_the_demo() {
    let app = app_with(vec![], vec![]);
    let terminal = render(100, 5, |f| {
        table(f, f.area(), &app);
    });
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn detail_shows_history_limits_and_events() {
    let mut app = busy_app();
    app.table.selected = Some(app.samples[1].state.id.clone());
    let terminal = render(90, 22, |f| detail(f, f.area(), &app));
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn detail_of_an_oom_killed_container() {
    let mut app = busy_app();
    app.table.selected = Some(app.samples[2].state.id.clone());
    let terminal = render(90, 16, |f| detail(f, f.area(), &app));
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn alerts_list_trips_of_every_container_newest_first() {
    let app = busy_app();
    let terminal = render(90, 6, |f| alerts(f, f.area(), &app));
    insta::assert_snapshot!(terminal.backend());
}

fn app_with_session(link: Link, output: &[u8]) -> App {
    app_with_kind(Kind::Attach, link, output)
}

fn app_with_kind(kind: Kind, link: Link, output: &[u8]) -> App {
    let mut app = busy_app();
    let id = app.samples[0].state.id.clone();
    let mut session = Session::new(8, 48, true, kind, 1);
    session.link = link;
    session.process(output);
    app.panes.sessions.insert(
        SessionKey {
            id: id.clone(),
            kind,
        },
        session,
    );
    app.panes.shown.insert(id.clone(), kind);
    app.table.selected = Some(id);
    app.panes.open = true;
    app.panes.focus = Focus::Pane;
    app
}

#[test]
fn the_pane_shows_the_shell_screen_with_colour_and_utf8() {
    let app = app_with_session(
        Link::Live,
        "# echo MARK\r\nMARK\r\n# printf 'é 箱 \\033[31mRED\\033[m\\n'\r\né 箱 \x1b[31mRED\x1b[0m\r\n# ".as_bytes(),
    );
    let terminal = render(50, 10, |f| pane(f, f.area(), &app));
    insta::assert_snapshot!(terminal.backend());
    let buffer = terminal.backend().buffer();
    let red = (0..buffer.area.height)
        .rev()
        .find(|y| buffer[(6, *y)].symbol() == "R")
        .expect("RED is drawn");
    assert_eq!(buffer[(6, red)].fg, Color::Indexed(1));
}

#[test]
fn the_pane_says_when_the_command_was_oom_killed() {
    let app = app_with_session(
        Link::Exited {
            code: crate::runtime::exit_code::KILLED_BY_SIGKILL,
            oom_killed: true,
        },
        b"# tail /dev/zero\r\nKilled\r\n",
    );
    let terminal = render(50, 10, |f| pane(f, f.area(), &app));
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn the_pane_of_a_stopped_container_says_there_is_no_terminal() {
    let mut app = busy_app();
    app.table.selected = Some(app.samples[2].state.id.clone());
    app.panes.open = true;
    let terminal = render(50, 6, |f| pane(f, f.area(), &app));
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn the_pane_scrolls_back() {
    let mut output = Vec::new();
    for i in 1..=30 {
        output.extend_from_slice(format!("line {i}\r\n").as_bytes());
    }
    let mut app = app_with_session(Link::Live, &output);
    app.apply(crate::tui::keys::Action::PaneScroll(10));
    let terminal = render(50, 10, |f| pane(f, f.area(), &app));
    insta::assert_snapshot!(terminal.backend());
}

/// The text of the pane's rows, top to bottom, as drawn.
fn pane_lines(terminal: &Terminal<TestBackend>) -> Vec<String> {
    let buffer = terminal.backend().buffer();
    (1..buffer.area.height - 1)
        .map(|y| {
            (1..buffer.area.width - 1)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect()
}

#[test]
fn the_pane_scrolls_back_through_a_thousand_lines() {
    let mut output = Vec::new();
    for i in 1..=1500 {
        output.extend_from_slice(format!("line {i}\r\n").as_bytes());
    }
    output.extend_from_slice(b"$ ");
    let mut app = app_with_session(Link::Live, &output);
    // 8 rows: the screen holds lines 1494-1500 and the prompt; the
    // scrollback the 1000 lines before them.
    app.apply(crate::tui::keys::Action::PaneScroll(500));
    let terminal = render(50, 10, |f| pane(f, f.area(), &app));
    assert_eq!(pane_lines(&terminal)[0], "line 994");
    // Far past the top stops at the oldest line kept.
    for _ in 0..200 {
        app.apply(crate::tui::keys::Action::PaneScroll(10));
    }
    let session = app.pane_session().unwrap();
    assert_eq!(session.scroll, SCROLLBACK_LINES);
    let terminal = render(50, 10, |f| pane(f, f.area(), &app));
    let lines = pane_lines(&terminal);
    assert_eq!(lines[0], "line 494");
    assert_eq!(lines[7], "line 501");
    assert!(terminal.backend().to_string().contains("1000 lines back"));
    // The live screen is untouched underneath.
    let screen = app.pane_session().unwrap().parser.screen();
    assert_eq!(screen.size(), (8, 48));
    assert_eq!(screen.scrollback(), 0);
    assert_eq!(screen.contents().lines().next(), Some("line 1494"));
}

#[test]
fn output_while_scrolled_back_keeps_the_view_and_says_so() {
    let mut output = Vec::new();
    for i in 1..=100 {
        output.extend_from_slice(format!("line {i}\r\n").as_bytes());
    }
    let mut app = app_with_session(Link::Live, &output);
    app.apply(crate::tui::keys::Action::PaneScroll(30));
    let before = pane_lines(&render(50, 10, |f| pane(f, f.area(), &app)));
    assert_eq!(before[0], "line 64");
    let id = app.table.selected.clone().unwrap();
    let mut more = Vec::new();
    for i in 101..=150 {
        more.extend_from_slice(format!("more {i}\r\n").as_bytes());
    }
    app.on_pane_event(
        &SessionKey::attach(&id),
        1,
        crate::tui::pane::PaneEvent::Output(more),
    );
    let terminal = render(50, 10, |f| pane(f, f.area(), &app));
    assert_eq!(pane_lines(&terminal), before);
    assert!(terminal.backend().to_string().contains("new output below"));
    // Typing returns to the live screen, with the new output.
    let (keys, typed) = std::sync::mpsc::channel();
    app.selected_session_mut().unwrap().set_input(keys);
    app.apply(crate::tui::keys::Action::PaneKey(
        crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char('a')),
    ));
    assert_eq!(
        typed.try_recv(),
        Ok(crate::tui::pane::ToShell::Input(b"a".to_vec()))
    );
    let session = app.pane_session().unwrap();
    assert_eq!(session.scroll, 0);
    let terminal = render(50, 10, |f| pane(f, f.area(), &app));
    assert!(pane_lines(&terminal).contains(&"more 150".to_string()));
}

#[test]
fn an_exec_shell_in_the_pane_says_so_in_its_title() {
    let app = app_with_kind(Kind::Exec, Link::Live, b"/ # echo $((6*7))\r\n42\r\n/ # ");
    let terminal = render(50, 10, |f| pane(f, f.area(), &app));
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn the_pane_says_when_the_exec_shell_exited() {
    let app = app_with_kind(
        Kind::Exec,
        Link::Exited {
            code: 0,
            oom_killed: false,
        },
        b"/ # exit\r\n",
    );
    let terminal = render(60, 10, |f| pane(f, f.area(), &app));
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn the_new_container_form_shows_its_error() {
    let mut f = Form::new_container("hako");
    f.fields[2].value = "web".into();
    f.fields[3].value = "10zz".into();
    f.focus = 3;
    f.error = Some(f.job().unwrap_err());
    let terminal = render(90, 14, |frame| form(frame, frame.area(), &f));
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn the_limits_form_starts_from_the_current_limits() {
    let app = busy_app();
    let f = Form::edit_limits(&app.samples[0].state);
    let terminal = render(90, 9, |frame| form(frame, frame.area(), &f));
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn help_lists_every_key() {
    let terminal = render(84, 34, |f| help(f, f.area()));
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn removing_a_running_container_asks_first() {
    let app = busy_app();
    let terminal = render(60, 9, |f| confirm(f, f.area(), &app.samples[0].state, true));
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn the_whole_dashboard() {
    let mut app = app_with_session(Link::Live, b"# echo hello\r\nhello\r\n# ");
    app.panes.focus = Focus::Dashboard;
    app.status.text = "started web (memory 10 MiB, 0.5 CPU, pids 64)".into();
    let terminal = render(140, 34, |f| {
        dashboard(f, &app);
    });
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn a_tiny_window_asks_for_room_and_never_panics() {
    let mut app = app_with_session(Link::Live, b"hello\r\n");
    let terminal = render(30, 6, |f| {
        dashboard(f, &app);
    });
    insta::assert_snapshot!(terminal.backend());
    let overlays = [
        Overlay::None,
        Overlay::Help,
        Overlay::Form(Form::new_container("hako")),
        Overlay::ConfirmRemove(Box::new(app.samples[0].state.clone())),
    ];
    // Every size up to a few cells, each side of the minimum and of the
    // table's first column breakpoint, and the common 80x24: where drawing code
    // changes its mind, and so where a subtraction could underflow.
    let widths = [0, 1, 3, 8, 20, 29, 30, 39, 40, 41, 60, 79, 80, 89, 90];
    let heights = [0, 1, 3, 6, 9, 10, 11, 15, 23, 24];
    for overlay in overlays {
        app.overlay = overlay;
        for width in widths {
            for height in heights {
                let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
                terminal
                    .draw(|f| {
                        dashboard(f, &app);
                    })
                    .unwrap();
            }
        }
    }
}

#[test]
fn layout_gives_the_pane_most_of_the_middle_and_keeps_the_status_line() {
    let area = Rect::new(0, 0, 140, 40);
    let areas = layout(area, 3, true, true).unwrap();
    assert_eq!(areas.status.y, 39);
    let pane = areas.pane.unwrap();
    assert!(pane.width > areas.detail.unwrap().width);
    let narrow = layout(Rect::new(0, 0, 80, 24), 3, true, true).unwrap();
    assert!(narrow.detail.is_none() && narrow.pane.is_some());
    assert!(layout(Rect::new(0, 0, 39, 40), 3, true, true).is_none());
    let _ = testing::NOW;
}
