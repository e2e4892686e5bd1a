//! The header line and the status line.

use super::theme;
use crate::runtime::text::escape_control;
use crate::tui::app::App;
use crate::tui::keys::Mode;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn draw_header(frame: &mut Frame, area: Rect, app: &App) {
    let running = app.samples.iter().filter(|s| s.running).count();
    let mut spans = vec![
        Span::styled(
            " hako ",
            theme::title().add_modifier(ratatui::style::Modifier::REVERSED),
        ),
        Span::raw(format!(
            " {} containers, {running} running",
            app.samples.len()
        )),
        Span::styled(
            format!(
                "  root {}  tick {} ms  sort {}{}",
                app.root_label,
                app.tick_ms,
                app.table.sort.label(),
                if app.table.sort_descending {
                    " ▼"
                } else {
                    " ▲"
                }
            ),
            theme::dim(),
        ),
    ];
    if app.table.filter_editing || !app.table.filter.is_empty() {
        spans.push(Span::raw("  filter: "));
        spans.push(Span::styled(app.table.filter.clone(), theme::key()));
        if app.table.filter_editing {
            spans.push(Span::styled("▏ (Enter keeps, Esc clears)", theme::dim()));
        }
    }
    if let Some(error) = &app.collector_error {
        spans.push(Span::styled(
            format!("  {error}"),
            theme::tone(crate::tui::app::Tone::Error),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn draw_status(frame: &mut Frame, area: Rect, app: &App) {
    let hints: Vec<Span> = match app.mode() {
        Mode::Pane => vec![
            Span::styled("Ctrl-\\", theme::key()),
            Span::raw(" dashboard  "),
            Span::styled("Shift-PgUp", theme::key()),
            Span::raw(" scroll "),
        ],
        _ => vec![
            Span::styled("?", theme::key()),
            Span::raw(" help  "),
            Span::styled("q", theme::key()),
            Span::raw(" quit  "),
            Span::styled("m", theme::key()),
            Span::raw(if app.mouse_captured {
                " mouse on "
            } else {
                " mouse off "
            }),
        ],
    };
    let hints_width: u16 = hints.iter().map(|s| s.width() as u16).sum();
    let status_width = area.width.saturating_sub(hints_width);
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(
            // Results may quote a container's command or an image's names.
            format!(" {}", escape_control(&app.status.text)),
            theme::tone(app.status.tone),
        ))),
        Rect {
            width: status_width,
            ..area
        },
    );
    frame.render_widget(
        Paragraph::new(Line::from(hints)).alignment(Alignment::Right),
        Rect {
            x: area.x + status_width,
            width: area.width - status_width,
            ..area
        },
    );
}
