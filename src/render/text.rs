//! Text rendering helpers: colour only when wanted, and column layout that fits 80 columns.

use crate::status::Status;

/// How text output is styled. Colour is decided once, from `--color`, the terminal and `NO_COLOR`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }

    pub fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }

    pub fn status(&self, status: Status) -> String {
        let code = match status {
            Status::Ok => "1;32",
            Status::Warning => "1;33",
            Status::Critical => "1;31",
            Status::Unknown => "1;35",
        };
        self.paint(code, status.word())
    }
}

/// Shortens `s` to at most `width` characters, marking the cut with `…`. The text is made
/// [`printable`] first: what is cut to fit a column is usually a name from outside.
pub fn truncate(s: &str, width: usize) -> String {
    let s = &*super::sanitize::escape(s);
    if s.chars().count() <= width {
        s.to_string()
    } else if width == 0 {
        String::new()
    } else {
        let mut t: String = s.chars().take(width - 1).collect();
        t.push('…');
        t
    }
}

/// Wraps `text` to `width` columns, continuation lines indented by `indent` spaces. The text is
/// made [`printable`] first, so a newline or CR inside a name cannot start a line of its own.
pub fn wrap(text: &str, width: usize, indent: usize) -> Vec<String> {
    let text = &*super::sanitize::escape(text);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let limit = if lines.is_empty() {
            width
        } else {
            width.saturating_sub(indent)
        };
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > limit {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    let pad = " ".repeat(indent);
    lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| if i == 0 { l } else { format!("{pad}{l}") })
        .collect()
}

pub use super::sanitize::printable;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_fits_width_and_indents() {
        let lines = wrap("one two three four five six seven eight nine ten", 20, 4);
        assert!(lines.iter().all(|l| l.chars().count() <= 20), "{lines:?}");
        assert!(lines[1].starts_with("    "));
        assert_eq!(wrap("", 10, 2), vec![String::new()]);
        assert_eq!(wrap("a bug in x\ny\rz", 80, 2), vec!["a bug in x\\ny\\rz"]);
        assert_eq!(truncate("a\x1b]0;b", 80), "a\\x1b]0;b");
    }

    #[test]
    fn truncate_and_printable() {
        assert_eq!(truncate("crond", 10), "crond");
        assert_eq!(truncate("abcdefghij", 5), "abcd…");
        assert_eq!(printable("a\nb\tc"), "a\\nb\\tc");
    }

    #[test]
    fn colour_only_when_asked() {
        assert_eq!(Style { color: false }.status(Status::Critical), "CRITICAL");
        assert!(Style { color: true }
            .status(Status::Critical)
            .contains("\x1b["));
    }
}
