//! Text from outside the process (response bodies in errors, names built from data) on its way
//! to a terminal: escape sequences and control characters are shown, never obeyed, so a body
//! holding `ESC[2J` cannot clear the screen or paint a fake verdict. The reports keep the text
//! verbatim (JSON, CSV) or valid (JUnit, see `report::junit`).

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with every control character but newline and tab written visibly: `ESC` as `\x1b`,
/// other C0 controls and DEL as `\xNN`, C1 controls and the bidirectional overrides (which can
/// reorder what a terminal shows) as `U+NNNN`. Borrowed when there is nothing to escape.
pub(crate) fn terminal_safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if !needs_escape(c) => out.push(c),
            '\0'..='\u{1f}' | '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            _ => {
                let _ = write!(out, "U+{:04X}", u32::from(c));
            }
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    match c {
        '\n' | '\t' => false,
        '\0'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_shown_not_obeyed() {
        let body = "\u{1b}[2J\u{1b}[31mALL TESTS PASSED\u{1b}[0m\r\u{7}";
        assert_eq!(
            terminal_safe(body),
            "\\x1b[2J\\x1b[31mALL TESTS PASSED\\x1b[0m\\x0d\\x07"
        );
        assert_eq!(terminal_safe("a\u{9b}b\u{202e}c"), "aU+009BbU+202Ec");
    }

    #[test]
    fn plain_text_is_borrowed() {
        let text = "step \"Buy\" failed:\n\tbody: {\"ok\": false} — é ✓";
        assert!(matches!(terminal_safe(text), Cow::Borrowed(t) if t == text));
    }
}
