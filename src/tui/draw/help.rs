//! The help overlay: every key, from `assets/keys.txt`.

use super::theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

pub const KEYS: &str = include_str!("../../../assets/keys.txt");

pub fn draw(frame: &mut Frame, area: Rect) {
    let lines: Vec<Line> = KEYS
        .lines()
        .map(|line| {
            if is_heading(line) {
                Line::from(Span::styled(line.to_string(), theme::title()))
            } else {
                Line::from(line.to_string())
            }
        })
        .collect();
    let width = KEYS.lines().map(|l| l.chars().count()).max().unwrap_or(40) as u16 + 4;
    let height = lines.len() as u16 + 2;
    let box_area = super::centered(area, width, height);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::border(true))
        .title(Span::styled(" Keys (any key closes) ", theme::title()));
    frame.render_widget(Clear, box_area);
    frame.render_widget(Paragraph::new(lines).block(block), box_area);
}

/// `Dashboard`, `Forms`: a short line that is not indented.
fn is_heading(line: &str) -> bool {
    !line.is_empty() && !line.starts_with(' ') && line.len() < 20
}
