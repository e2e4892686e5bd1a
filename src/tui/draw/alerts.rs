//! The alerts area: the few limit trips the main screen has room for (see
//! `Alerts::main_lines` for which), and how many the alerts view has not
//! shown yet.

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
        TripKind::MemoryLimit if n == 1 => "memory limit reached (once)".into(),
        TripKind::MemoryLimit => format!("memory limit reached ({n} times)"),
        TripKind::PidsLimit if n == 1 => "pids limit reached: 1 fork refused".into(),
        TripKind::PidsLimit => format!("pids limit reached: {n} forks refused"),
        TripKind::CpuThrottled if n == 1 => "CPU throttled in 1 period".into(),
        TripKind::CpuThrottled => format!("CPU throttled in {n} periods"),
    }
}

/// One alert as a line: `  2s ago web  memory limit reached (12 times)`.
pub fn alert_line(alert: &Alert, now: u64) -> Line<'static> {
    let mut spans = vec![
        Span::styled(
            format!("{:>4} ago ", format::age(now.saturating_sub(alert.last))),
            theme::dim(),
        ),
        Span::styled(format!("{:<18} ", alert.name), theme::title()),
        Span::styled(alert_text(alert), theme::trip(alert.kind)),
    ];
    if alert.last > alert.first {
        spans.push(Span::styled(
            format!(
                " · for {}",
                format::age(alert.last.saturating_sub(alert.first))
            ),
            theme::dim(),
        ));
    }
    Line::from(spans)
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let mut title = vec![
        Span::styled(" Alerts ", theme::title()),
        Span::styled("limit trips in any container ", theme::dim()),
    ];
    let unseen = app.alerts.unseen();
    if unseen > 0 {
        title.push(Span::styled(format!("· {unseen} new "), theme::key()));
    }
    if !app.alerts.all().is_empty() {
        title.push(Span::styled("· a shows all ", theme::dim()));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::border(false))
        .title(Line::from(title));
    let rows = area.height.saturating_sub(2) as usize;
    let lines: Vec<Line> = if app.alerts.all().is_empty() {
        vec![Line::from(Span::styled(
            "No limit has tripped since the dashboard started.",
            theme::dim(),
        ))]
    } else {
        app.alerts
            .main_lines(app.now, rows)
            .into_iter()
            .map(|alert| alert_line(alert, app.now))
            .collect()
    };
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
