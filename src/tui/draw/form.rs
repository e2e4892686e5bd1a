//! The forms (new container, live limits) and the remove confirmation.

use super::theme;
use crate::runtime::state::ContainerState;
use crate::runtime::text::escape_control;
use crate::tui::form::Form;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

const LABEL: usize = 11;
/// Width of an input box, in cells (longer values push the hint right).
const FIELD: usize = 22;

pub fn draw_form(frame: &mut Frame, area: Rect, form: &Form) {
    let mut lines = vec![];
    for (i, field) in form.fields.iter().enumerate() {
        let focused = i == form.focus;
        let value_style = if focused {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default().add_modifier(Modifier::UNDERLINED)
        };
        let cursor = if focused && !form.submitting {
            "▏"
        } else {
            " "
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!("{:>LABEL$} ", field.label),
                if focused {
                    theme::key()
                } else {
                    Style::default()
                },
            ),
            Span::styled(
                format!(" {:<FIELD$}", format!("{}{cursor}", field.value)),
                value_style,
            ),
            Span::styled(format!("  {}", field.hint), theme::dim()),
        ]));
    }
    lines.push(Line::from(""));
    if form.submitting {
        lines.push(Line::from(Span::styled("working…", theme::title())));
    } else if let Some(error) = &form.error {
        lines.push(Line::from(Span::styled(
            format!("✗ {}", escape_control(error)),
            theme::tone(crate::tui::app::Tone::Error),
        )));
    } else {
        lines.push(Line::from(vec![
            Span::styled("Enter", theme::key()),
            Span::raw(" submit  "),
            Span::styled("Tab", theme::key()),
            Span::raw(" next field  "),
            Span::styled("Esc", theme::key()),
            Span::raw(" cancel"),
        ]));
    }
    let width = 80.min(area.width);
    // The error may wrap onto more lines.
    let error_lines = form.error.as_ref().map_or(0, |e| {
        (e.chars().count() + 2) / usize::from(width.saturating_sub(2).max(1))
    });
    let height = (lines.len() as u16 + 2 + error_lines as u16).min(area.height);
    let box_area = super::centered(area, width, height);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::border(true))
        .title(Span::styled(format!(" {} ", form.title()), theme::title()));
    frame.render_widget(Clear, box_area);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        box_area,
    );
}

pub fn draw_confirm(frame: &mut Frame, area: Rect, container: &ContainerState, running: bool) {
    let mut lines = vec![Line::from(vec![
        Span::raw("Remove "),
        Span::styled(container.name.clone(), theme::title()),
        Span::raw("?"),
    ])];
    if running {
        lines.push(Line::from(Span::styled(
            "It is running: it will be killed first.",
            theme::tone(crate::tui::app::Tone::Error),
        )));
    }
    lines.push(Line::from("Its writable layer and state go with it."));
    lines.push(Line::from(""));
    lines.push(Line::from(vec![
        Span::styled("y", theme::key()),
        Span::raw(" remove   "),
        Span::styled("any other key", theme::key()),
        Span::raw(" keep it"),
    ]));
    let box_area = super::centered(area, 50, lines.len() as u16 + 2);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::border(true))
        .title(Span::styled(" Remove ", theme::title()));
    frame.render_widget(Clear, box_area);
    frame.render_widget(
        Paragraph::new(lines).block(block).wrap(Wrap { trim: true }),
        box_area,
    );
}
