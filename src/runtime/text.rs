//! Text that comes from images and containers (tar entry names, commands,
//! process names from the kernel log, container output), made safe to show
//! on the operator's terminal.
//!
//! A terminal acts on control characters: ESC starts sequences that can
//! retitle the window (`ESC ] 0 ; ... BEL`), clear the screen (`ESC [ 2 J`),
//! move the cursor to overwrite earlier lines, or on some terminals answer
//! back into the input; C1 characters (U+0080..U+009F, CSI is U+009B) do the
//! same on terminals that accept them (ECMA-48). So every C0 character, DEL
//! and every C1 character is shown as a visible escape instead; all other
//! text, valid UTF-8 included, is kept as it is. JSON output needs none of
//! this: serde_json escapes control characters itself.

use std::borrow::Cow;

fn is_terminal_control(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}')
}

/// `text` with its control characters shown as `\x1b` (C0 and DEL) or
/// `\u{9b}` (C1); borrowed unchanged when there are none.
pub fn escape_control(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_terminal_control) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c as u32 {
            code @ (0..=0x1f | 0x7f) => shown.push_str(&format!("\\x{code:02x}")),
            code @ 0x80..=0x9f => shown.push_str(&format!("\\u{{{code:x}}}")),
            _ => shown.push(c),
        }
    }
    Cow::Owned(shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_visible_and_the_rest_is_kept() {
        for (raw, shown) in [
            ("plain", "plain"),
            ("", ""),
            ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),
            ("\x1b[2J", "\\x1b[2J"),
            ("a\nb\tc\r", "a\\x0ab\\x09c\\x0d"),
            ("nul\0", "nul\\x00"),
            ("del\x7f", "del\\x7f"),
            ("csi\u{9b}2J", "csi\\u{9b}2J"),
            ("c1 edges \u{80}\u{9f}", "c1 edges \\u{80}\\u{9f}"),
            // Printable non-ASCII just past C1, and beyond, is text.
            ("\u{a0}é日本語 ✓", "\u{a0}é日本語 ✓"),
            ("back\\slash", "back\\slash"),
        ] {
            assert_eq!(escape_control(raw), shown, "for {raw:?}");
        }
    }

    #[test]
    fn clean_text_is_borrowed_and_escaping_is_idempotent() {
        assert!(matches!(escape_control("nothing to do"), Cow::Borrowed(_)));
        let once = escape_control("\x1b[31mred").into_owned();
        assert_eq!(escape_control(&once), once);
    }
}
