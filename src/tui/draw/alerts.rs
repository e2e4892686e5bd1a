//! The alerts area: limit trips of every container, newest first, one line
//! per container and kind of limit.

use super::theme;
use crate::tui::app::{Alert, App};
use crate::tui::collector::TripKind;
use crate::tui::format;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

/// `OOM kill x3`, `CPU throttled in 184 periods`, `41 forks refused`.
pub fn alert_text(alert: &Alert) -> String {
    let n = alert.count;
    match alert.kind {
        TripKind::OomKill if n == 1 => {
            "OOM kill: the kernel killed a process at the memory limit".into()
        }
        TripKind::OomKill => format!("{n} OOM kills at the memory limit"),
        TripKind::MemoryLimit => format!("memory limit reached ({n} times)"),
        TripKind::PidsLimit => format!("pids limit reached: {n} forks refused"),
        TripKind::CpuThrottled => format!("CPU throttled in {n} periods"),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let title = Line::from(vec![
        Span::styled(" Alerts ", theme::title()),
        Span::styled("limit trips in any container ", theme::dim()),
    ]);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::border(false))
        .title(title);
    let rows = area.height.saturating_sub(2) as usize;
    let lines: Vec<Line> = if app.alerts.list.is_empty() {
        vec![Line::from(Span::styled(
            "No limit has tripped since the dashboard started.",
            theme::dim(),
        ))]
    } else {
        app.alerts
            .list
            .iter()
            .take(rows)
            .map(|alert| {
                Line::from(vec![
                    Span::styled(
                        format!(
                            "{:>4} ago ",
                            format::age(app.now.saturating_sub(alert.last))
                        ),
                        theme::dim(),
                    ),
                    Span::styled(format!("{:<18} ", alert.name), theme::title()),
                    Span::styled(alert_text(alert), theme::trip(alert.kind)),
                ])
            })
            .collect()
    };
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
