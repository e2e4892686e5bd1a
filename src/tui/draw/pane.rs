//! The terminal pane: the selected container's session, drawn by tui-term
//! from its vt100 screen, with a line saying what state the session is in.

use super::theme;
use crate::tui::app::{App, Focus};
use crate::tui::collector::Sample;
use crate::tui::pane::{Kind, Link, Session, View};
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;
use tui_term::widget::{Cursor, PseudoTerminal};

/// What the pane says when it has no screen to show, or under the screen.
pub fn notice(sample: Option<&Sample>, session: Option<&Session>) -> Option<String> {
    let Some(sample) = sample else {
        return Some("No container selected.".into());
    };
    let name = &sample.state.name;
    let Some(session) = session else {
        return Some(if !sample.running {
            let how = if sample.state.oom_killed {
                " (OOM-killed)".to_string()
            } else {
                sample
                    .state
                    .exit_code
                    .map(|c| format!(" (exit code {c})"))
                    .unwrap_or_default()
            };
            format!("{name} is not running{how}: there is no terminal to attach.")
        } else if sample.state.monitor_pid.is_none() {
            format!(
                "{name} runs in the foreground of another hako: its terminal is there, not here."
            )
        } else {
            format!("Enter attaches to {name}'s terminal.")
        });
    };
    if session.kind == Kind::Exec {
        return match &session.link {
            Link::Connecting => Some(format!("starting a shell in {name} (hako exec)…")),
            Link::Live => None,
            Link::Exited { code, .. } => {
                Some(format!("The shell exited ({code}); x starts a new one."))
            }
            Link::Lost(why) => Some(format!("The shell is gone: {why}. x starts a new one.")),
        };
    }
    match &session.link {
        Link::Connecting => Some("connecting…".into()),
        Link::Exited { code, oom_killed } => Some(if *oom_killed {
            format!("OOM-killed at the memory limit (exit {code}); last output above.")
        } else {
            format!("The command exited ({code}); last output above.")
        }),
        Link::Lost(why) => Some(format!("Not connected: {why}.")),
        Link::Live if !session.tty => Some(format!(
            "{name} has no PTY (started without -t): output only, keys go to its stdin."
        )),
        Link::Live => None,
    }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let focused = app.panes.focus == Focus::Pane;
    let sample = app.selected_sample();
    let session = app.pane_session();
    let exec = session.is_some_and(|s| s.kind == Kind::Exec);
    // With no container selected the title is just "terminal (Enter to type)".
    let mut title = vec![Span::raw(" ")];
    if let Some(s) = sample {
        title.push(Span::styled(format!("{} ", s.state.name), theme::title()));
    }
    if exec {
        title.push(Span::styled("· exec /bin/sh ", theme::key()));
    }
    title.push(Span::styled(
        match (focused, exec) {
            (true, _) => "keys go to the shell · Ctrl-\\ returns ",
            (false, false) => "terminal (Enter to type) ",
            (false, true) => "(x to type, Enter: its terminal) ",
        },
        theme::dim(),
    ));
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::border(focused))
        .title(Line::from(title));
    if let Some(s) = session.filter(|s| s.scroll > 0) {
        let unseen = if s.unseen_output() {
            "new output below · "
        } else {
            ""
        };
        block = block.title_bottom(
            Line::from(Span::styled(
                format!(" {} lines back · {unseen}Shift-PgDn returns ", s.scroll),
                theme::key(),
            ))
            .alignment(Alignment::Right),
        );
    }
    let inner = super::inner(area);
    let message = notice(sample, session);
    match session {
        Some(session) => {
            let mut cursor = Cursor::default();
            if !focused || session.scroll > 0 || !session.is_live() {
                cursor.hide();
            }
            match session.view() {
                View::Live(screen) => frame.render_widget(
                    PseudoTerminal::new(screen).block(block).cursor(cursor),
                    area,
                ),
                View::Back(history) => frame.render_widget(
                    PseudoTerminal::new(&history).block(block).cursor(cursor),
                    area,
                ),
            }
            if let Some(text) = message {
                let line = Rect {
                    y: inner.y + inner.height.saturating_sub(1),
                    height: inner.height.min(1),
                    ..inner
                };
                frame.render_widget(
                    Paragraph::new(Line::from(format!(" {text}"))).style(
                        Style::default()
                            .fg(Color::Black)
                            .bg(Color::Yellow)
                            .add_modifier(Modifier::BOLD),
                    ),
                    line,
                );
            }
        }
        None => {
            frame.render_widget(
                Paragraph::new(message.unwrap_or_default())
                    .block(block)
                    .wrap(Wrap { trim: true }),
                area,
            );
        }
    }
}
