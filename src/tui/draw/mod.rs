//! Drawing: one function per panel, each from the app's state into a frame.
//! `dashboard` lays the panels out and returns where the mouse and the pane
//! will need to know they were.

mod alerts;
mod alerts_view;
mod detail;
mod form;
mod help;
mod log;
mod pane;
mod table;
mod text;
mod theme;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_views;

pub use alerts::draw as alerts;
pub use detail::draw as detail;
pub use form::{draw_confirm as confirm, draw_form as form};
pub use help::draw as help;
pub use pane::draw as pane;
pub use table::draw as table;
pub use text::{draw_header as header, draw_status as status};

use super::app::{App, DrawnAreas, Focus, Overlay};
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

/// Below this the dashboard shows only a note asking for a bigger window.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    pub table: Rect,
    pub detail: Option<Rect>,
    pub pane: Option<Rect>,
    pub alerts: Rect,
    pub status: Rect,
}

/// Where each panel goes, or `None` when the window is too small for any.
pub fn layout(area: Rect, rows: usize, pane_open: bool, pane_focused: bool) -> Option<Areas> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    let alerts_height = match area.height {
        h if h >= 36 => 7,
        h if h >= 24 => 5,
        _ => 3,
    };
    // Borders and header, or the three lines of the empty table's note.
    let wanted = if rows == 0 { 5 } else { rows as u16 + 3 };
    let most = if pane_focused {
        area.height / 4
    } else {
        area.height * 2 / 5
    };
    let table_height = wanted.min(most).max(4);
    let [header, table, middle, alerts, status] = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(1),
            Constraint::Length(table_height),
            Constraint::Min(3),
            Constraint::Length(alerts_height),
            Constraint::Length(1),
        ])
        .areas(area);
    let (detail, pane) = if !pane_open {
        (Some(middle), None)
    } else if middle.width >= 100 {
        let [d, p] = Layout::default()
            .direction(Direction::Horizontal)
            .constraints([Constraint::Percentage(38), Constraint::Percentage(62)])
            .areas(middle);
        (Some(d), Some(p))
    } else {
        (None, Some(middle))
    };
    Some(Areas {
        header,
        table,
        detail,
        pane,
        alerts,
        status,
    })
}

/// The inside of a bordered panel.
pub fn inner(area: Rect) -> Rect {
    Rect {
        x: area.x.saturating_add(1),
        y: area.y.saturating_add(1),
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(2),
    }
}

/// Draws the whole dashboard.
pub fn dashboard(frame: &mut Frame, app: &App) -> DrawnAreas {
    let area = frame.area();
    let rows = app.visible().len();
    let Some(areas) = layout(area, rows, app.panes.open, app.panes.focus == Focus::Pane) else {
        let note = format!(
            "hako: the window is {}x{}; make it at least {MIN_WIDTH}x{MIN_HEIGHT}. q quits.",
            area.width, area.height
        );
        frame.render_widget(
            Paragraph::new(Line::from(note)).wrap(Wrap { trim: true }),
            area,
        );
        return DrawnAreas::default();
    };
    header(frame, areas.header, app);
    let (table_rows, table_offset) = table(frame, areas.table, app);
    if let Some(d) = areas.detail {
        detail(frame, d, app);
    }
    if let Some(p) = areas.pane {
        pane(frame, p, app);
    }
    alerts(frame, areas.alerts, app);
    status(frame, areas.status, app);
    // The alerts and log views cover all but the header and the status line.
    let below_header = Rect {
        y: areas.table.y,
        height: areas.status.y.saturating_sub(areas.table.y),
        ..area
    };
    let mut view_rows = 0;
    match &app.overlay {
        Overlay::None => {}
        Overlay::Alerts(view) => {
            view_rows = alerts_view::draw(frame, below_header, &app.alerts, view, app.now)
        }
        Overlay::Log(view) => view_rows = log::draw(frame, below_header, view),
        Overlay::Help => help(frame, area),
        Overlay::Form(f) => form(frame, area, f),
        Overlay::ConfirmRemove(c) => {
            let running = app.samples.iter().any(|s| s.state.id == c.id && s.running);
            confirm(frame, area, c, running)
        }
    }
    DrawnAreas {
        table_rows,
        table_offset,
        pane_inner: areas.pane.map(inner),
        view_rows,
    }
}

/// A rectangle of at most `width` x `height` in the middle of `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}
