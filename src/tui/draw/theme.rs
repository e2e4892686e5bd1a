//! The dashboard's colours and styles, in one place.

use crate::tui::app::Tone;
use crate::tui::collector::TripKind;
use ratatui::style::{Color, Modifier, Style};

pub const ACCENT: Color = Color::Cyan;

pub fn title() -> Style {
    Style::default().fg(ACCENT).add_modifier(Modifier::BOLD)
}

pub fn dim() -> Style {
    Style::default().fg(Color::DarkGray)
}

pub fn key() -> Style {
    Style::default()
        .fg(Color::Yellow)
        .add_modifier(Modifier::BOLD)
}

pub fn border(focused: bool) -> Style {
    if focused {
        Style::default().fg(ACCENT)
    } else {
        Style::default().fg(Color::Gray)
    }
}

pub fn tone(tone: Tone) -> Style {
    match tone {
        Tone::Info => Style::default(),
        Tone::Ok => Style::default().fg(Color::Green),
        Tone::Error => Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
    }
}

pub fn trip(kind: TripKind) -> Style {
    match kind {
        TripKind::OomKill => Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        TripKind::MemoryLimit => Style::default().fg(Color::LightRed),
        TripKind::PidsLimit => Style::default().fg(Color::Magenta),
        TripKind::CpuThrottled => Style::default().fg(Color::Yellow),
    }
}

/// A row whose container just hit a limit: hard limits flash red, throttling yellow.
pub fn tripped_row(kind: TripKind) -> Style {
    match kind {
        TripKind::CpuThrottled => Style::default().fg(Color::Yellow),
        _ => Style::default()
            .fg(Color::White)
            .bg(Color::Red)
            .add_modifier(Modifier::BOLD),
    }
}

/// The colour of a usage against its limit.
pub fn level(ratio: f64) -> Style {
    if ratio >= 0.9 {
        Style::default().fg(Color::Red)
    } else if ratio >= 0.7 {
        Style::default().fg(Color::Yellow)
    } else {
        Style::default().fg(Color::Green)
    }
}
