//! Turning keys and pasted text into the bytes a terminal sends, for the
//! shell in the embedded pane.
//!
//! The sequences are xterm's (what `TERM=xterm-256color` programs expect):
//! arrows and Home/End follow the application cursor mode (DECCKM) that the
//! program in the pane set, modified keys use the `CSI 1 ; m X` form, and
//! characters are sent as UTF-8, never truncated to a byte.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

const ESC: u8 = 0x1b;

/// xterm's modifier parameter: 1 + shift(1) + alt(2) + ctrl(4).
fn modifier_param(modifiers: KeyModifiers) -> u8 {
    let mut m = 1;
    if modifiers.contains(KeyModifiers::SHIFT) {
        m += 1;
    }
    if modifiers.contains(KeyModifiers::ALT) {
        m += 2;
    }
    if modifiers.contains(KeyModifiers::CONTROL) {
        m += 4;
    }
    m
}

/// The control byte of Ctrl plus `c`, as a terminal sends it, if there is one.
fn control_byte(c: char) -> Option<u8> {
    match c {
        'a'..='z' => Some(c as u8 - b'a' + 1),
        'A'..='Z' => Some(c as u8 - b'A' + 1),
        '@' | ' ' | '2' => Some(0),
        '[' | '3' => Some(0x1b),
        '\\' | '4' => Some(0x1c),
        ']' | '5' => Some(0x1d),
        '^' | '6' => Some(0x1e),
        '_' | '-' | '7' | '/' => Some(0x1f),
        '8' | '?' => Some(0x7f),
        _ => None,
    }
}

/// A cursor-style key (arrows, Home, End, F1-F4): `ESC [ X`, `ESC O X` in
/// application mode (or always, for F1-F4), `ESC [ 1 ; m X` with modifiers.
fn cursor_key(letter: u8, modifiers: KeyModifiers, application: bool) -> Vec<u8> {
    let m = modifier_param(modifiers);
    if m > 1 {
        format!("\x1b[1;{m}{}", letter as char).into_bytes()
    } else if application {
        vec![ESC, b'O', letter]
    } else {
        vec![ESC, b'[', letter]
    }
}

/// A tilde key (Insert, Delete, PageUp, F5...): `ESC [ n ~` or `ESC [ n ; m ~`.
fn tilde_key(number: u8, modifiers: KeyModifiers) -> Vec<u8> {
    let m = modifier_param(modifiers);
    if m > 1 {
        format!("\x1b[{number};{m}~").into_bytes()
    } else {
        format!("\x1b[{number}~").into_bytes()
    }
}

/// The bytes for one key press, or `None` for a key a terminal does not send.
/// `application_cursor` is the pane's DECCKM mode (`screen().application_cursor()`).
pub fn encode_key(key: KeyEvent, application_cursor: bool) -> Option<Vec<u8>> {
    let mods = key.modifiers;
    let alt = mods.contains(KeyModifiers::ALT);
    let ctrl = mods.contains(KeyModifiers::CONTROL);
    let mut bytes = match key.code {
        KeyCode::Char(c) => {
            if ctrl {
                vec![control_byte(c)?]
            } else {
                let mut buf = [0u8; 4];
                c.encode_utf8(&mut buf).as_bytes().to_vec()
            }
        }
        KeyCode::Enter => vec![b'\r'],
        KeyCode::Tab => vec![b'\t'],
        KeyCode::BackTab => return Some(b"\x1b[Z".to_vec()),
        KeyCode::Backspace if ctrl => vec![0x08],
        KeyCode::Backspace => vec![0x7f],
        KeyCode::Esc => vec![ESC],
        KeyCode::Up => return Some(cursor_key(b'A', mods, application_cursor)),
        KeyCode::Down => return Some(cursor_key(b'B', mods, application_cursor)),
        KeyCode::Right => return Some(cursor_key(b'C', mods, application_cursor)),
        KeyCode::Left => return Some(cursor_key(b'D', mods, application_cursor)),
        KeyCode::Home => return Some(cursor_key(b'H', mods, application_cursor)),
        KeyCode::End => return Some(cursor_key(b'F', mods, application_cursor)),
        KeyCode::Insert => return Some(tilde_key(2, mods)),
        KeyCode::Delete => return Some(tilde_key(3, mods)),
        KeyCode::PageUp => return Some(tilde_key(5, mods)),
        KeyCode::PageDown => return Some(tilde_key(6, mods)),
        KeyCode::F(n @ 1..=4) => return Some(cursor_key(b'P' + (n - 1), mods, true)),
        KeyCode::F(n) => {
            let number = match n {
                5 => 15,
                6 => 17,
                7 => 18,
                8 => 19,
                9 => 20,
                10 => 21,
                11 => 23,
                12 => 24,
                _ => return None,
            };
            return Some(tilde_key(number, mods));
        }
        _ => return None,
    };
    // Alt (meta) sends ESC before the key, as xterm's default metaSendsEscape.
    if alt {
        bytes.insert(0, ESC);
    }
    Some(bytes)
}

/// Pasted text: wrapped in `ESC [200~ ... ESC [201~` when the program asked
/// for bracketed paste, with line ends sent as Enter (CR) as terminals do.
pub fn encode_paste(text: &str, bracketed: bool) -> Vec<u8> {
    let body = text.replace("\r\n", "\r").replace('\n', "\r");
    if bracketed {
        // A paste must not be able to end the bracket early.
        let body = body.replace("\x1b[201~", "");
        format!("\x1b[200~{body}\x1b[201~").into_bytes()
    } else {
        body.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    fn plain(code: KeyCode) -> Vec<u8> {
        encode_key(key(code, KeyModifiers::NONE), false).unwrap()
    }

    #[test]
    fn characters_are_sent_as_utf8() {
        assert_eq!(plain(KeyCode::Char('a')), b"a");
        assert_eq!(plain(KeyCode::Char('é')), "é".as_bytes());
        assert_eq!(plain(KeyCode::Char('箱')), "箱".as_bytes());
        assert_eq!(plain(KeyCode::Char('🦀')), "🦀".as_bytes());
        assert_eq!(
            encode_key(key(KeyCode::Char('A'), KeyModifiers::SHIFT), false).unwrap(),
            b"A"
        );
    }

    #[test]
    fn arrows_follow_the_application_cursor_mode() {
        let cases = [
            (KeyCode::Up, "\x1b[A", "\x1bOA"),
            (KeyCode::Down, "\x1b[B", "\x1bOB"),
            (KeyCode::Right, "\x1b[C", "\x1bOC"),
            (KeyCode::Left, "\x1b[D", "\x1bOD"),
            (KeyCode::Home, "\x1b[H", "\x1bOH"),
            (KeyCode::End, "\x1b[F", "\x1bOF"),
        ];
        for (code, normal, application) in cases {
            let k = key(code, KeyModifiers::NONE);
            assert_eq!(encode_key(k, false).unwrap(), normal.as_bytes(), "{code:?}");
            assert_eq!(
                encode_key(k, true).unwrap(),
                application.as_bytes(),
                "{code:?}"
            );
        }
    }

    #[test]
    fn modified_arrows_use_the_csi_1_m_form_in_both_modes() {
        let ctrl_left = key(KeyCode::Left, KeyModifiers::CONTROL);
        assert_eq!(encode_key(ctrl_left, false).unwrap(), b"\x1b[1;5D");
        assert_eq!(encode_key(ctrl_left, true).unwrap(), b"\x1b[1;5D");
        let shift_up = key(KeyCode::Up, KeyModifiers::SHIFT);
        assert_eq!(encode_key(shift_up, false).unwrap(), b"\x1b[1;2A");
        let alt_ctrl_right = key(KeyCode::Right, KeyModifiers::ALT | KeyModifiers::CONTROL);
        assert_eq!(encode_key(alt_ctrl_right, false).unwrap(), b"\x1b[1;7C");
    }

    #[test]
    fn function_keys_are_xterm_sequences() {
        let cases = [
            (1, "\x1bOP"),
            (2, "\x1bOQ"),
            (3, "\x1bOR"),
            (4, "\x1bOS"),
            (5, "\x1b[15~"),
            (6, "\x1b[17~"),
            (7, "\x1b[18~"),
            (8, "\x1b[19~"),
            (9, "\x1b[20~"),
            (10, "\x1b[21~"),
            (11, "\x1b[23~"),
            (12, "\x1b[24~"),
        ];
        for (n, bytes) in cases {
            assert_eq!(plain(KeyCode::F(n)), bytes.as_bytes(), "F{n}");
        }
        assert_eq!(
            encode_key(key(KeyCode::F(5), KeyModifiers::SHIFT), false).unwrap(),
            b"\x1b[15;2~"
        );
        assert_eq!(
            encode_key(key(KeyCode::F(1), KeyModifiers::CONTROL), false).unwrap(),
            b"\x1b[1;5P"
        );
        assert_eq!(
            encode_key(key(KeyCode::F(13), KeyModifiers::NONE), false),
            None
        );
    }

    #[test]
    fn editing_keys() {
        assert_eq!(plain(KeyCode::Enter), b"\r");
        assert_eq!(plain(KeyCode::Tab), b"\t");
        assert_eq!(plain(KeyCode::BackTab), b"\x1b[Z");
        assert_eq!(plain(KeyCode::Backspace), b"\x7f");
        assert_eq!(plain(KeyCode::Esc), b"\x1b");
        assert_eq!(plain(KeyCode::Insert), b"\x1b[2~");
        assert_eq!(plain(KeyCode::Delete), b"\x1b[3~");
        assert_eq!(plain(KeyCode::PageUp), b"\x1b[5~");
        assert_eq!(plain(KeyCode::PageDown), b"\x1b[6~");
        assert_eq!(
            encode_key(key(KeyCode::Delete, KeyModifiers::CONTROL), false).unwrap(),
            b"\x1b[3;5~"
        );
    }

    #[test]
    fn control_combinations_are_control_bytes() {
        let ctrl = |c| encode_key(key(KeyCode::Char(c), KeyModifiers::CONTROL), false);
        assert_eq!(ctrl('c').unwrap(), [0x03]);
        assert_eq!(ctrl('a').unwrap(), [0x01]);
        assert_eq!(ctrl('z').unwrap(), [0x1a]);
        assert_eq!(ctrl('D').unwrap(), [0x04]);
        assert_eq!(ctrl(' ').unwrap(), [0x00]);
        assert_eq!(ctrl('[').unwrap(), [0x1b]);
        assert_eq!(ctrl('4').unwrap(), [0x1c]);
        assert_eq!(ctrl(']').unwrap(), [0x1d]);
        assert_eq!(ctrl('_').unwrap(), [0x1f]);
        assert_eq!(ctrl('é'), None);
    }

    #[test]
    fn alt_sends_escape_first() {
        let alt = |c| encode_key(key(KeyCode::Char(c), KeyModifiers::ALT), false).unwrap();
        assert_eq!(alt('b'), b"\x1bb");
        assert_eq!(alt('é'), "\x1bé".as_bytes());
        assert_eq!(
            encode_key(
                key(
                    KeyCode::Char('x'),
                    KeyModifiers::ALT | KeyModifiers::CONTROL
                ),
                false
            )
            .unwrap(),
            [0x1b, 0x18]
        );
        assert_eq!(
            encode_key(key(KeyCode::Backspace, KeyModifiers::ALT), false).unwrap(),
            b"\x1b\x7f"
        );
    }

    #[test]
    fn paste_is_bracketed_only_when_the_program_asked() {
        assert_eq!(encode_paste("ls\nécho", false), "ls\récho".as_bytes());
        assert_eq!(
            encode_paste("a\r\nb", true),
            b"\x1b[200~a\rb\x1b[201~".to_vec()
        );
        assert_eq!(
            encode_paste("x\x1b[201~rm -rf /\n", true),
            b"\x1b[200~xrm -rf /\r\x1b[201~".to_vec()
        );
    }
}
