//! The log view (`l`, or Enter where there is no terminal): what a
//! container wrote, following new output at the bottom, scrolled and
//! searched (`/`, `n`, `N`), the current match highlighted.

use super::theme;
use crate::tui::app::LogView;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

/// A line with every case-insensitive occurrence of `query` marked.
fn marked(text: String, query: &str, current: bool) -> Line<'static> {
    let style = if current {
        theme::key().add_modifier(Modifier::REVERSED)
    } else {
        Style::default().add_modifier(Modifier::UNDERLINED)
    };
    // Match on a lower-case copy only where that keeps every char's byte
    // length (so the positions agree); otherwise show the line plain.
    let lower = text.to_lowercase();
    let needle = query.to_lowercase();
    if needle.is_empty() || lower.len() != text.len() || !lower.contains(&needle) {
        return Line::from(text);
    }
    let mut spans = vec![];
    let mut at = 0;
    for (start, _) in lower.match_indices(&needle) {
        if start < at {
            continue;
        }
        spans.push(Span::raw(text[at..start].to_string()));
        spans.push(Span::styled(
            text[start..start + needle.len()].to_string(),
            style,
        ));
        at = start + needle.len();
    }
    spans.push(Span::raw(text[at..].to_string()));
    Line::from(spans)
}

/// Draws the view over `area`; returns how many lines it has room for.
pub fn draw(frame: &mut Frame, area: Rect, view: &LogView) -> usize {
    let rows = area.height.saturating_sub(2) as usize;
    let count = view.line_count();
    let state = if view.scroll > 0 {
        format!("{} lines back · End follows", view.scroll)
    } else if view.ended {
        "exited: the whole log".to_string()
    } else {
        "following".to_string()
    };
    let mut title = vec![
        Span::styled(format!(" log of {} ", view.name), theme::title()),
        Span::styled(format!("{count} lines · {state} "), theme::dim()),
    ];
    if view.searching || !view.query.is_empty() {
        title.push(Span::raw("/"));
        title.push(Span::styled(view.query.clone(), theme::key()));
        title.push(Span::styled(
            if view.searching {
                "▏ (Enter finds) "
            } else {
                " "
            },
            theme::dim(),
        ));
    }
    let hints = Line::from(vec![
        Span::styled(" ↑↓ PgUp PgDn Home End", theme::key()),
        Span::raw(" scroll  "),
        Span::styled("/", theme::key()),
        Span::raw(" search  "),
        Span::styled("n N", theme::key()),
        Span::raw(" older/newer  "),
        Span::styled("Esc", theme::key()),
        Span::raw(" closes "),
    ])
    .alignment(Alignment::Right);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::border(true))
        .title(Line::from(title))
        .title_bottom(hints);
    let text: Vec<Line> = if count == 0 {
        let note = if !view.loaded {
            "reading the log…".to_string()
        } else if view.foreground {
            format!(
                "{} has no log: it was run in the foreground of a hako command, which keeps none.",
                view.name
            )
        } else {
            format!("{} has written nothing yet.", view.name)
        };
        vec![Line::from(Span::styled(note, theme::dim()))]
    } else {
        let top = view.top(rows);
        (top..(top + rows).min(count))
            .filter_map(|i| {
                let line = view.line(i)?;
                Some(marked(line, &view.query, view.found == Some(i)))
            })
            .collect()
    };
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(text).block(block), area);
    rows
}
