//! The key map: a pure function from the dashboard's mode and a key press to
//! an action. `assets/keys.txt`, the help overlay, lists the same keys.

use super::app::SortColumn;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The table and its actions.
    Dashboard,
    /// Typing the table's filter after `/`.
    Filter,
    /// The help overlay.
    Help,
    /// The new-container or edit-limits form.
    Form,
    /// A yes/no question (remove).
    Confirm,
    /// The embedded terminal: every key but the way back goes to the shell.
    Pane,
    /// The alerts view: every limit trip so far.
    Alerts,
    /// Typing the alerts view's container filter.
    AlertsFilter,
    /// A container's log.
    Log,
    /// Typing a search of the log.
    LogSearch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Up,
    Down,
    PageUp,
    PageDown,
    First,
    Last,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Quit,
    ToggleHelp,
    CloseOverlay,
    Select(Move),
    SortNext,
    SortReverse,
    /// Sort by this column; again reverses.
    SortBy(SortColumn),
    StartFilter,
    FilterInput(char),
    FilterBackspace,
    FilterAccept,
    FilterCancel,
    Stop,
    Kill,
    AskRemove,
    Confirm,
    Cancel,
    EditLimits,
    NewContainer,
    FormNext,
    FormPrevious,
    FormInput(char),
    FormBackspace,
    FormClear,
    FormSubmit,
    OpenPane,
    ClosePane,
    FocusDashboard,
    /// Scroll the pane's scrollback; positive is back (up).
    PaneScroll(i32),
    /// A key for the shell, encoded with the pane's current modes.
    PaneKey(KeyEvent),
    Exec,
    ToggleMouse,
    Demo,
    /// The alerts view, and in it the next kind of limit to show.
    OpenAlerts,
    AlertsKind,
    /// The selected container's log, and in it the older or newer match.
    OpenLog,
    SearchNext,
    SearchPrevious,
}

/// `Ctrl-\`, which the shell never needs, takes the keyboard back from the
/// pane. Terminals send it as 0x1c, which crossterm reads as Ctrl-4.
pub fn is_leave_pane(key: &KeyEvent) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL)
        && matches!(key.code, KeyCode::Char('\\') | KeyCode::Char('4'))
}

fn is_ctrl_c(key: &KeyEvent) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL) && matches!(key.code, KeyCode::Char('c'))
}

/// The action for `key` in `mode`, if it has one.
pub fn map_key(mode: Mode, key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let shift = key.modifiers.contains(KeyModifiers::SHIFT);
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match mode {
        Mode::Pane => Some(match key.code {
            _ if is_leave_pane(&key) => Action::FocusDashboard,
            KeyCode::PageUp if shift => Action::PaneScroll(PAGE),
            KeyCode::PageDown if shift => Action::PaneScroll(-PAGE),
            KeyCode::Up if shift && ctrl => Action::PaneScroll(1),
            KeyCode::Down if shift && ctrl => Action::PaneScroll(-1),
            _ => Action::PaneKey(key),
        }),
        Mode::Help => match key.code {
            _ if is_ctrl_c(&key) => Some(Action::Quit),
            KeyCode::Char('q') => Some(Action::Quit),
            _ => Some(Action::CloseOverlay),
        },
        Mode::Confirm => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => Some(Action::Confirm),
            _ if is_ctrl_c(&key) => Some(Action::Quit),
            _ => Some(Action::Cancel),
        },
        Mode::Form => match key.code {
            _ if is_ctrl_c(&key) => Some(Action::Cancel),
            KeyCode::Char('u') if ctrl => Some(Action::FormClear),
            KeyCode::Esc => Some(Action::Cancel),
            KeyCode::Enter => Some(Action::FormSubmit),
            KeyCode::Tab | KeyCode::Down => Some(Action::FormNext),
            KeyCode::BackTab | KeyCode::Up => Some(Action::FormPrevious),
            KeyCode::Backspace => Some(Action::FormBackspace),
            KeyCode::Char(c) if !ctrl => Some(Action::FormInput(c)),
            _ => None,
        },
        Mode::Alerts | Mode::Log => match key.code {
            _ if is_ctrl_c(&key) => Some(Action::Quit),
            KeyCode::Char('q') => Some(Action::Quit),
            KeyCode::Esc => Some(Action::CloseOverlay),
            KeyCode::Char('a') if mode == Mode::Alerts => Some(Action::CloseOverlay),
            KeyCode::Char('l') if mode == Mode::Log => Some(Action::CloseOverlay),
            KeyCode::Char('k') if mode == Mode::Alerts => Some(Action::AlertsKind),
            KeyCode::Char('n') if mode == Mode::Log => Some(Action::SearchNext),
            KeyCode::Char('N') if mode == Mode::Log => Some(Action::SearchPrevious),
            KeyCode::Char('f') if mode == Mode::Log => Some(Action::Select(Move::Last)),
            KeyCode::Char('/') => Some(Action::StartFilter),
            KeyCode::Up => Some(Action::Select(Move::Up)),
            KeyCode::Down => Some(Action::Select(Move::Down)),
            KeyCode::PageUp => Some(Action::Select(Move::PageUp)),
            KeyCode::PageDown => Some(Action::Select(Move::PageDown)),
            KeyCode::Home => Some(Action::Select(Move::First)),
            KeyCode::End => Some(Action::Select(Move::Last)),
            _ => None,
        },
        Mode::Filter | Mode::AlertsFilter | Mode::LogSearch => match key.code {
            _ if is_ctrl_c(&key) => Some(Action::FilterCancel),
            KeyCode::Esc => Some(Action::FilterCancel),
            KeyCode::Enter => Some(Action::FilterAccept),
            KeyCode::Backspace => Some(Action::FilterBackspace),
            KeyCode::Up => Some(Action::Select(Move::Up)),
            KeyCode::Down => Some(Action::Select(Move::Down)),
            KeyCode::Char(c) if !ctrl => Some(Action::FilterInput(c)),
            _ => None,
        },
        Mode::Dashboard => match key.code {
            _ if is_ctrl_c(&key) => Some(Action::Quit),
            _ if is_leave_pane(&key) => Some(Action::FocusDashboard),
            KeyCode::Char('q') => Some(Action::Quit),
            KeyCode::Char('?') | KeyCode::F(1) => Some(Action::ToggleHelp),
            KeyCode::Esc => Some(Action::CloseOverlay),
            KeyCode::Up => Some(Action::Select(Move::Up)),
            KeyCode::Down => Some(Action::Select(Move::Down)),
            KeyCode::PageUp if shift => Some(Action::PaneScroll(PAGE)),
            KeyCode::PageDown if shift => Some(Action::PaneScroll(-PAGE)),
            KeyCode::PageUp => Some(Action::Select(Move::PageUp)),
            KeyCode::PageDown => Some(Action::Select(Move::PageDown)),
            KeyCode::Home => Some(Action::Select(Move::First)),
            KeyCode::End => Some(Action::Select(Move::Last)),
            KeyCode::Char('o') => Some(Action::SortNext),
            KeyCode::Char('O') => Some(Action::SortReverse),
            KeyCode::Char('A') => Some(Action::SortBy(SortColumn::Created)),
            KeyCode::Char('N') => Some(Action::SortBy(SortColumn::Name)),
            KeyCode::Char('C') => Some(Action::SortBy(SortColumn::Cpu)),
            KeyCode::Char('M') => Some(Action::SortBy(SortColumn::Memory)),
            KeyCode::Char('P') => Some(Action::SortBy(SortColumn::Pids)),
            KeyCode::Char('/') => Some(Action::StartFilter),
            KeyCode::Char('s') => Some(Action::Stop),
            KeyCode::Char('k') => Some(Action::Kill),
            KeyCode::Char('d') | KeyCode::Delete => Some(Action::AskRemove),
            KeyCode::Char('e') => Some(Action::EditLimits),
            KeyCode::Char('n') => Some(Action::NewContainer),
            KeyCode::Enter | KeyCode::Tab => Some(Action::OpenPane),
            KeyCode::Char('c') => Some(Action::ClosePane),
            KeyCode::Char('x') => Some(Action::Exec),
            KeyCode::Char('m') => Some(Action::ToggleMouse),
            KeyCode::Char('D') => Some(Action::Demo),
            KeyCode::Char('a') => Some(Action::OpenAlerts),
            KeyCode::Char('l') => Some(Action::OpenLog),
            _ => None,
        },
    }
}

/// A key as the help writes it (`z`, `Ctrl-G`, `F5`), or `None` for what
/// is not a key press of its own (a release, a modifier alone).
pub fn key_name(key: &KeyEvent) -> Option<String> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let base = match key.code {
        KeyCode::Char(' ') => "Space".to_string(),
        // Ctrl-letters as the help writes them: Ctrl-C, Ctrl-U.
        KeyCode::Char(c) if key.modifiers.contains(KeyModifiers::CONTROL) => {
            c.to_ascii_uppercase().to_string()
        }
        KeyCode::Char(c) => c.to_string(),
        KeyCode::F(n) => format!("F{n}"),
        KeyCode::Modifier(_) | KeyCode::Null => return None,
        other => format!("{other:?}"),
    };
    let mut name = String::new();
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        name.push_str("Ctrl-");
    }
    if key.modifiers.contains(KeyModifiers::ALT) {
        name.push_str("Alt-");
    }
    name.push_str(&base);
    Some(name)
}

/// Lines scrolled by Shift-PageUp / Shift-PageDown.
pub const PAGE: i32 = 10;

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn with(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn dashboard_keys_are_the_documented_ones() {
        let cases = [
            (press(KeyCode::Char('q')), Action::Quit),
            (
                with(KeyCode::Char('c'), KeyModifiers::CONTROL),
                Action::Quit,
            ),
            (press(KeyCode::Char('?')), Action::ToggleHelp),
            (press(KeyCode::Char('s')), Action::Stop),
            (press(KeyCode::Char('k')), Action::Kill),
            (press(KeyCode::Char('d')), Action::AskRemove),
            (press(KeyCode::Char('e')), Action::EditLimits),
            (press(KeyCode::Char('n')), Action::NewContainer),
            (press(KeyCode::Enter), Action::OpenPane),
            (press(KeyCode::Char('x')), Action::Exec),
            (press(KeyCode::Char('m')), Action::ToggleMouse),
            (press(KeyCode::Char('/')), Action::StartFilter),
            (press(KeyCode::Char('o')), Action::SortNext),
            (
                with(KeyCode::Char('O'), KeyModifiers::SHIFT),
                Action::SortReverse,
            ),
            (with(KeyCode::Char('D'), KeyModifiers::SHIFT), Action::Demo),
            (press(KeyCode::Down), Action::Select(Move::Down)),
            (press(KeyCode::Up), Action::Select(Move::Up)),
            (press(KeyCode::Char('c')), Action::ClosePane),
        ];
        for (key, action) in cases {
            assert_eq!(map_key(Mode::Dashboard, key), Some(action), "{key:?}");
        }
        assert_eq!(map_key(Mode::Dashboard, press(KeyCode::Char('z'))), None);
    }

    #[test]
    fn the_pane_gets_every_key_but_the_way_back() {
        for key in [
            press(KeyCode::Char('q')),
            press(KeyCode::Char('?')),
            with(KeyCode::Char('c'), KeyModifiers::CONTROL),
            press(KeyCode::Up),
            press(KeyCode::F(5)),
            press(KeyCode::Esc),
            press(KeyCode::PageUp),
            with(KeyCode::Char('a'), KeyModifiers::CONTROL),
        ] {
            assert_eq!(
                map_key(Mode::Pane, key),
                Some(Action::PaneKey(key)),
                "{key:?}"
            );
        }
        assert_eq!(
            map_key(Mode::Pane, with(KeyCode::Char('4'), KeyModifiers::CONTROL)),
            Some(Action::FocusDashboard)
        );
        assert_eq!(
            map_key(Mode::Pane, with(KeyCode::Char('\\'), KeyModifiers::CONTROL)),
            Some(Action::FocusDashboard)
        );
        assert_eq!(
            map_key(Mode::Pane, with(KeyCode::PageUp, KeyModifiers::SHIFT)),
            Some(Action::PaneScroll(PAGE))
        );
        assert_eq!(
            map_key(Mode::Pane, with(KeyCode::PageDown, KeyModifiers::SHIFT)),
            Some(Action::PaneScroll(-PAGE))
        );
    }

    #[test]
    fn forms_take_text_and_never_quit() {
        assert_eq!(
            map_key(Mode::Form, press(KeyCode::Char('q'))),
            Some(Action::FormInput('q'))
        );
        assert_eq!(
            map_key(Mode::Form, press(KeyCode::Char('é'))),
            Some(Action::FormInput('é'))
        );
        assert_eq!(
            map_key(Mode::Form, press(KeyCode::Tab)),
            Some(Action::FormNext)
        );
        assert_eq!(
            map_key(Mode::Form, press(KeyCode::BackTab)),
            Some(Action::FormPrevious)
        );
        assert_eq!(
            map_key(Mode::Form, press(KeyCode::Enter)),
            Some(Action::FormSubmit)
        );
        assert_eq!(
            map_key(Mode::Form, press(KeyCode::Esc)),
            Some(Action::Cancel)
        );
        assert_eq!(
            map_key(Mode::Form, with(KeyCode::Char('u'), KeyModifiers::CONTROL)),
            Some(Action::FormClear)
        );
    }

    #[test]
    fn confirmation_needs_a_yes() {
        assert_eq!(
            map_key(Mode::Confirm, press(KeyCode::Char('y'))),
            Some(Action::Confirm)
        );
        assert_eq!(
            map_key(Mode::Confirm, press(KeyCode::Enter)),
            Some(Action::Confirm)
        );
        assert_eq!(
            map_key(Mode::Confirm, press(KeyCode::Char('n'))),
            Some(Action::Cancel)
        );
        assert_eq!(
            map_key(Mode::Confirm, press(KeyCode::Char('d'))),
            Some(Action::Cancel)
        );
    }

    #[test]
    fn filter_and_help() {
        assert_eq!(
            map_key(Mode::Filter, press(KeyCode::Char('q'))),
            Some(Action::FilterInput('q'))
        );
        assert_eq!(
            map_key(Mode::Filter, press(KeyCode::Enter)),
            Some(Action::FilterAccept)
        );
        assert_eq!(
            map_key(Mode::Filter, press(KeyCode::Esc)),
            Some(Action::FilterCancel)
        );
        assert_eq!(
            map_key(Mode::Help, press(KeyCode::Esc)),
            Some(Action::CloseOverlay)
        );
        assert_eq!(
            map_key(Mode::Help, press(KeyCode::Char('q'))),
            Some(Action::Quit)
        );
    }

    #[test]
    fn key_releases_do_nothing() {
        let mut key = press(KeyCode::Char('q'));
        key.kind = KeyEventKind::Release;
        assert_eq!(map_key(Mode::Dashboard, key), None);
    }
}
