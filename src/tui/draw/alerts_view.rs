//! The alerts view (`a`): every limit trip since the dashboard started and
//! those recorded before it, newest first, one line per burst, filtered by
//! kind (`k`) and container (`/`).

use super::alerts::alert_line;
use super::theme;
use crate::runtime::events::format_utc;
use crate::tui::app::{Alerts, AlertsView};
use crate::tui::collector::TripKind;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

fn kind_label(kind: Option<TripKind>) -> &'static str {
    match kind {
        None => "every kind",
        Some(TripKind::OomKill) => "OOM kills",
        Some(TripKind::MemoryLimit) => "memory limit",
        Some(TripKind::PidsLimit) => "pids limit",
        Some(TripKind::CpuThrottled) => "CPU throttling",
    }
}

/// Draws the view over `area`; returns how many lines it has room for.
pub fn draw(frame: &mut Frame, area: Rect, alerts: &Alerts, view: &AlertsView, now: u64) -> usize {
    let lines = view.lines(alerts);
    let mut title = vec![
        Span::styled(" Alerts ", theme::title()),
        Span::styled(
            format!(
                "{} line{} · {} · times UTC",
                lines.len(),
                if lines.len() == 1 { "" } else { "s" },
                kind_label(view.kind)
            ),
            theme::dim(),
        ),
    ];
    if view.editing || !view.container.is_empty() {
        title.push(Span::raw(" · container: "));
        title.push(Span::styled(view.container.clone(), theme::key()));
        if view.editing {
            title.push(Span::styled("▏", theme::dim()));
        }
    }
    title.push(Span::raw(" "));
    let hints = Line::from(vec![
        Span::styled(" ↑↓ PgUp PgDn", theme::key()),
        Span::raw(" scroll  "),
        Span::styled("k", theme::key()),
        Span::raw(" kind  "),
        Span::styled("/", theme::key()),
        Span::raw(" container  "),
        Span::styled("Esc", theme::key()),
        Span::raw(" closes "),
    ])
    .alignment(Alignment::Right);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::border(true))
        .title(Line::from(title))
        .title_bottom(hints);
    let rows = area.height.saturating_sub(2) as usize;
    let text: Vec<Line> = if lines.is_empty() {
        let note = if alerts.all().is_empty() {
            "No limit has tripped, here or in the event files."
        } else {
            "No trip matches these filters (Esc in the filter clears it, k changes the kind)."
        };
        vec![Line::from(Span::styled(note, theme::dim()))]
    } else {
        lines
            .iter()
            .skip(view.scroll)
            .take(rows)
            .map(|alert| {
                // The date and time of the latest trip, then the line as
                // the main screen shows it.
                let clock = format_utc(alert.last * 1000);
                let clock = clock.get(5..19).unwrap_or(&clock).replace('T', " ");
                let mut line = alert_line(alert, now);
                line.spans
                    .insert(0, Span::styled(format!("{clock} "), theme::dim()));
                line
            })
            .collect()
    };
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(text).block(block), area);
    rows
}
