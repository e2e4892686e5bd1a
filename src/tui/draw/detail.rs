//! The detail panel of the selected container: its limits and counters,
//! memory and CPU over the last minutes, and its event timeline.

use super::theme;
use crate::runtime::limits::format_bytes;
use crate::runtime::text::escape_control;
use crate::tui::app::App;
use crate::tui::collector::Sample;
use crate::tui::format::{self, describe_limits};
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline, Wrap};
use ratatui::Frame;

fn label(text: &str) -> Span<'static> {
    Span::styled(format!("{text} "), theme::dim())
}

fn summary(sample: &Sample) -> Vec<Line<'static>> {
    let state = &sample.state;
    let stats = sample.stats.as_ref();
    let counter = |f: fn(&crate::runtime::cgroup::CgroupStats) -> Option<u64>| {
        format::counter(stats.and_then(f))
    };
    vec![
        Line::from(vec![
            label("image"),
            Span::raw(state.image.clone()),
            label("  cmd"),
            Span::raw(one_line(&state.command.join(" "))),
        ]),
        Line::from(vec![
            label("limits"),
            Span::styled(describe_limits(&state.limits), theme::title()),
        ]),
        Line::from(vec![
            label("memory peak"),
            Span::raw(
                stats
                    .and_then(|s| s.memory_peak)
                    .map_or_else(|| format::NOT_REPORTED.into(), format_bytes),
            ),
            label("  limit hits"),
            Span::raw(counter(|s| s.memory_limit_hits)),
            label("  OOM kills"),
            Span::raw(counter(|s| s.oom_kills)),
        ]),
        Line::from(vec![
            label("throttled periods"),
            Span::raw(counter(|s| s.nr_throttled)),
            label("  forks refused"),
            Span::raw(counter(|s| s.pids_limit_hits)),
        ]),
    ]
}

/// The last `width` points of a history.
fn tail(points: &std::collections::VecDeque<u64>, width: u16) -> Vec<u64> {
    let skip = points.len().saturating_sub(width as usize);
    points.iter().skip(skip).copied().collect()
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let Some(sample) = app.selected_sample() else {
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme::border(false))
            .title(Span::styled(" Details ", theme::title()));
        frame.render_widget(
            Paragraph::new("Select a container to see its usage over time and its events.")
                .block(block)
                .wrap(Wrap { trim: true }),
            area,
        );
        return;
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::border(false))
        .title(Line::from(vec![
            Span::styled(format!(" {} ", sample.state.name), theme::title()),
            Span::styled(format!("{} ", sample.state.id), theme::dim()),
        ]));
    let inner = super::inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let summary = summary(sample);
    let chart_height = if inner.height >= 22 {
        4
    } else if inner.height >= 14 {
        2
    } else {
        1
    };
    let [top, mem_title, mem_chart, cpu_title, cpu_chart, events] = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(summary.len() as u16),
            Constraint::Length(1),
            Constraint::Length(chart_height),
            Constraint::Length(1),
            Constraint::Length(chart_height),
            Constraint::Min(0),
        ])
        .areas(inner);
    frame.render_widget(Paragraph::new(summary), top);

    let stats = sample.stats.as_ref();
    let history = app.history.get(&sample.state.id);
    let minutes = |n: usize| {
        let seconds = n as u64 * app.tick_ms / 1000;
        format::age(seconds)
    };
    let memory_limit = stats
        .and_then(|s| s.memory_limit)
        .or(sample.state.limits.memory);
    let memory_points = history
        .map(|h| tail(&h.memory, mem_chart.width))
        .unwrap_or_default();
    // Twice the highest point, so the chart has a shape, but never above the
    // limit, so a container at its limit fills it.
    let highest = memory_points
        .iter()
        .copied()
        .max()
        .unwrap_or(0)
        .saturating_mul(2);
    let memory_max = memory_limit.map_or(highest, |l| l.min(highest)).max(1);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("memory ", theme::title()),
            Span::raw(format::used_of_limit(
                stats
                    .and_then(|s| s.memory_usage)
                    .filter(|_| sample.running),
                memory_limit,
            )),
            Span::styled(
                format!("  last {}", minutes(memory_points.len())),
                theme::dim(),
            ),
        ])),
        mem_title,
    );
    frame.render_widget(
        Sparkline::default()
            .data(&memory_points)
            .max(memory_max)
            .style(Style::default().fg(Color::Magenta)),
        mem_chart,
    );

    let cpu_points = history
        .map(|h| tail(&h.cpu_permille, cpu_chart.width))
        .unwrap_or_default();
    let quota = sample.state.limits.cpu.map(|q| q.cpus());
    // The chart's top is the quota when there is one, else one CPU or the peak.
    let cpu_max = quota
        .map(|q| (q * 1000.0).round() as u64)
        .unwrap_or(1000)
        .max(cpu_points.iter().copied().max().unwrap_or(0))
        .max(1);
    let quota_text = quota.map_or_else(
        || "no quota".to_string(),
        |q| format!("quota {}", format::cpus(q)),
    );
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("cpu ", theme::title()),
            Span::raw(super::table::cpu_text(sample)),
            Span::raw(format!(" of one CPU, {quota_text}")),
            Span::styled(
                format!("  last {}", minutes(cpu_points.len())),
                theme::dim(),
            ),
        ])),
        cpu_title,
    );
    frame.render_widget(
        Sparkline::default()
            .data(&cpu_points)
            .max(cpu_max)
            .style(Style::default().fg(Color::Cyan)),
        cpu_chart,
    );

    let mut lines = vec![Line::from(Span::styled("events", theme::title()))];
    for event in sample.events.iter().rev() {
        let style = match event.kind.as_str() {
            "oom_kill" => theme::trip(crate::tui::collector::TripKind::OomKill),
            "memory_limit" => theme::trip(crate::tui::collector::TripKind::MemoryLimit),
            "pids_limit" => theme::trip(crate::tui::collector::TripKind::PidsLimit),
            "cpu_throttled" => theme::trip(crate::tui::collector::TripKind::CpuThrottled),
            _ => Style::default(),
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!(
                    "{:>4} ago ",
                    format::age(app.now.saturating_sub(event.time))
                ),
                theme::dim(),
            ),
            Span::styled(format!("{:<14}", event.kind), style),
            Span::raw(one_line(&event.detail)),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), events);
}

/// Text on one line: newlines (real or escaped, as in a shell script) become
/// spaces; any other control character (from a container's command or
/// process name) is shown escaped rather than sent to the terminal.
fn one_line(text: &str) -> String {
    let joined = text.replace("\\n", " ").replace('\n', " ");
    escape_control(&joined).into_owned()
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn commands_and_event_details_are_one_line_with_no_control_characters() {
        assert_eq!(one_line("sh -c \"a\\nb\""), "sh -c \"a b\"");
        assert_eq!(one_line("a\nb"), "a b");
        assert_eq!(
            one_line("killed \x1b]0;pwned\x07 (1 kill)"),
            "killed \\x1b]0;pwned\\x07 (1 kill)"
        );
        assert_eq!(one_line("\x1b[2J\u{9b}2J"), "\\x1b[2J\\u{9b}2J");
    }
}
