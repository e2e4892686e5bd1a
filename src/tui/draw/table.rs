//! The container table: one row per container with its usage against its limits.

use super::theme;
use crate::runtime::container::spec::short_id;
use crate::runtime::state::Status;
use crate::tui::app::{App, SortColumn};
use crate::tui::collector::{status_word, Sample};
use crate::tui::format::{self, NOT_REPORTED};
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

/// Width of the memory gauge, in cells.
const GAUGE: usize = 6;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Column {
    Name,
    Id,
    Image,
    Status,
    Cpu,
    Memory,
    Pids,
    Oom,
    Throttled,
}

impl Column {
    fn title(self) -> &'static str {
        match self {
            Column::Name => "NAME",
            Column::Id => "ID",
            Column::Image => "IMAGE",
            Column::Status => "STATUS",
            Column::Cpu => "CPU (QUOTA)",
            Column::Memory => "MEMORY USED / LIMIT",
            Column::Pids => "PIDS",
            Column::Oom => "OOM",
            Column::Throttled => "THROTTLED",
        }
    }

    fn width(self) -> Constraint {
        match self {
            Column::Name => Constraint::Min(10),
            Column::Id => Constraint::Length(12),
            Column::Image => Constraint::Length(8),
            Column::Status => Constraint::Length(15),
            Column::Cpu => Constraint::Length(12),
            Column::Memory => Constraint::Length(GAUGE as u16 + 21),
            Column::Pids => Constraint::Length(9),
            Column::Oom => Constraint::Length(4),
            Column::Throttled => Constraint::Length(9),
        }
    }

    fn sorted_by(self, sort: SortColumn) -> bool {
        matches!(
            (self, sort),
            (Column::Name, SortColumn::Name)
                | (Column::Status, SortColumn::Status)
                | (Column::Cpu, SortColumn::Cpu)
                | (Column::Memory, SortColumn::Memory)
                | (Column::Pids, SortColumn::Pids)
                | (Column::Oom, SortColumn::OomKills)
                | (Column::Throttled, SortColumn::Throttled)
        )
    }
}

/// The columns that fit: image and id go first when the window is narrow.
fn columns(width: u16) -> Vec<Column> {
    let mut all = vec![
        Column::Name,
        Column::Id,
        Column::Image,
        Column::Status,
        Column::Cpu,
        Column::Memory,
        Column::Pids,
        Column::Oom,
        Column::Throttled,
    ];
    if width < 124 {
        all.retain(|c| *c != Column::Image);
    }
    if width < 112 {
        all.retain(|c| *c != Column::Id);
    }
    if width < 90 {
        all.retain(|c| *c != Column::Throttled);
    }
    all
}

/// `running 5m`, `exited 137 2m`, `OOM-killed 3m`, `created`.
pub fn status_text(sample: &Sample, now: u64) -> String {
    let state = &sample.state;
    match status_word(sample) {
        Status::Running => {
            let since = state.started.unwrap_or(state.created);
            format!("running {}", format::age(now.saturating_sub(since)))
        }
        Status::Exited => {
            let ago = state
                .finished
                .map(|t| format!(" {}", format::age(now.saturating_sub(t))))
                .unwrap_or_default();
            if state.oom_killed {
                format!("OOM-killed{ago}")
            } else {
                let code = state
                    .exit_code
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default();
                format!("exited{code}{ago}")
            }
        }
        other => other.to_string(),
    }
}

/// `19% (97%)`: CPU of one CPU, and of the quota when there is one.
pub fn cpu_text(sample: &Sample) -> String {
    match (sample.cpu_percent, sample.cpu_quota_percent) {
        (None, _) => NOT_REPORTED.into(),
        (Some(p), Some(q)) => format!("{} ({})", format::percent(p), format::percent(q)),
        (Some(p), None) => format::percent(p),
    }
}

fn memory_cell(sample: &Sample) -> Line<'static> {
    let stats = sample.stats.as_ref();
    let used = stats.and_then(|s| s.memory_usage);
    let limit = stats
        .and_then(|s| s.memory_limit)
        .or(sample.state.limits.memory);
    let text = format::used_of_limit(used, limit);
    match (used, limit) {
        (Some(u), Some(l)) if l > 0 && sample.running => {
            let ratio = u as f64 / l as f64;
            Line::from(vec![
                Span::styled(format::bar(ratio, GAUGE), theme::level(ratio)),
                Span::raw(" "),
                Span::raw(text),
            ])
        }
        _ => Line::from(format!("{:GAUGE$} {text}", "")),
    }
}

fn cells(sample: &Sample, columns: &[Column], now: u64, tripped: bool) -> Vec<Cell<'static>> {
    let stats = sample.stats.as_ref();
    let pids_limit = stats
        .and_then(|s| s.pids_limit)
        .or(sample.state.limits.pids);
    columns
        .iter()
        .map(|column| match column {
            Column::Name => Cell::from(sample.state.name.clone()),
            Column::Id => Cell::from(short_id(&sample.state.id)),
            Column::Image => Cell::from(sample.state.image.clone()),
            Column::Status => Cell::from(status_text(sample, now)),
            Column::Cpu => Cell::from(cpu_text(sample)),
            Column::Memory => Cell::from(memory_cell(sample)),
            Column::Pids => Cell::from(if sample.running {
                format::count_of_limit(stats.and_then(|s| s.pids_current), pids_limit)
            } else {
                NOT_REPORTED.into()
            }),
            Column::Oom => {
                let kills = stats.and_then(|s| s.oom_kills);
                let text = format::counter(kills);
                if kills.unwrap_or(0) > 0 || sample.state.oom_killed {
                    // Red on a row that is already red would not show.
                    let style = if tripped {
                        Style::default().add_modifier(Modifier::BOLD)
                    } else {
                        theme::trip(crate::tui::collector::TripKind::OomKill)
                    };
                    Cell::from(Span::styled(
                        if kills.is_none() { "yes".into() } else { text },
                        style,
                    ))
                } else {
                    Cell::from(text)
                }
            }
            Column::Throttled => Cell::from(format::maybe_percent(sample.throttled_percent)),
        })
        .collect()
}

/// Draws the table; returns the rows' area and the index of the first row
/// shown, for mouse clicks.
pub fn draw(frame: &mut Frame, area: Rect, app: &App) -> (Rect, usize) {
    let visible = app.visible();
    let title = Line::from(vec![
        Span::styled(" Containers ", theme::title()),
        Span::styled(
            format!("{} ", app.rows_summary(visible.len())),
            theme::dim(),
        ),
    ]);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::border(false))
        .title(title);
    let inner = super::inner(area);
    if visible.is_empty() {
        let message = if !app.loaded {
            vec![Line::from("reading containers…")]
        } else if !app.table.filter.is_empty() {
            vec![Line::from(format!(
                "no container matches \"{}\" (Esc clears the filter)",
                app.table.filter
            ))]
        } else {
            vec![
                Line::from("No containers yet."),
                Line::from(vec![
                    Span::styled("D", theme::key()),
                    Span::raw(" starts the demo: three containers that each trip a limit (memory, CPU, pids)."),
                ]),
                Line::from(vec![
                    Span::styled("n", theme::key()),
                    Span::raw(" starts a container of your own,  "),
                    Span::styled("?", theme::key()),
                    Span::raw(" lists every key."),
                ]),
            ]
        };
        frame.render_widget(
            Paragraph::new(message)
                .block(block)
                .wrap(Wrap { trim: true }),
            area,
        );
        return (Rect::default(), 0);
    }
    let columns = columns(inner.width);
    let header = Row::new(columns.iter().map(|c| {
        let mut title = c.title().to_string();
        let mut style = Style::default().add_modifier(Modifier::BOLD);
        if c.sorted_by(app.table.sort) {
            title.push_str(if app.table.sort_descending {
                " ▼"
            } else {
                " ▲"
            });
            style = style.fg(theme::ACCENT);
        }
        Cell::from(title).style(style)
    }));
    let rows = visible.iter().map(|sample| {
        let trip = app.recent_trip(&sample.state.id).filter(|_| sample.running);
        let style = match trip {
            Some(kind) => theme::tripped_row(kind),
            None if !sample.running => theme::dim(),
            None => Style::default(),
        };
        let red = trip.is_some_and(|k| k != crate::tui::collector::TripKind::CpuThrottled);
        Row::new(cells(sample, &columns, app.now, red)).style(style)
    });
    let table = Table::new(rows, columns.iter().map(|c| c.width()))
        .header(header)
        .block(block)
        .column_spacing(1)
        .highlight_symbol("▶ ")
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED));
    let mut state = TableState::default().with_selected(app.selected_index());
    frame.render_stateful_widget(table, area, &mut state);
    let rows_area = Rect {
        y: inner.y.saturating_add(1),
        height: inner.height.saturating_sub(1),
        ..inner
    };
    (rows_area, state.offset())
}
