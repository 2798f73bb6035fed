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

/// The width of `s` on a terminal, in columns (East Asian wide characters count 2, combining
/// marks 0): what "80 columns" is measured in.
pub fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// Shortens `s` to at most `width` display columns, marking the cut with `…`. The text is made
/// [`printable`] first: what is cut to fit a column is usually a name from outside.
pub fn truncate(s: &str, width: usize) -> String {
    let s = &*super::sanitize::escape(s);
    if self::width(s) <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut t = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        used += w;
        t.push(c);
    }
    t.push('…');
    t
}

/// Wraps `text` to `width` display columns, continuation lines indented by `indent` spaces (a
/// hanging indent). Runs of whitespace count as one space. A word longer than a line (a path, an
/// address) is never broken: it gets a line of its own, so it stays copyable. The text is made
/// [`printable`] first, so a newline or CR inside a name cannot start a line of its own.
pub fn wrap(text: &str, width: usize, indent: usize) -> Vec<String> {
    let text = super::sanitize::escape(text);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let pad = " ".repeat(indent);
    let options = textwrap::Options::new(width.max(1))
        .subsequent_indent(&pad)
        .break_words(false)
        .word_separator(textwrap::WordSeparator::AsciiSpace)
        .word_splitter(textwrap::WordSplitter::NoHyphenation);
    let lines: Vec<String> = textwrap::wrap(&text, options)
        .into_iter()
        .map(|l| l.into_owned())
        .collect();
    if lines.is_empty() {
        vec![String::new()]
    } else {
        lines
    }
}

/// Wraps `prose` as [`wrap`] does, then adds `command`: on the last line when it fits there,
/// else on a line of its own (indented by `indent`), whole even when it is wider than `width`, so
/// it can be copied and pasted as it is. The command is made printable but never broken.
pub fn wrap_with_command(prose: &str, command: &str, width: usize, indent: usize) -> Vec<String> {
    let command = super::sanitize::escape(command);
    let mut lines = if prose.trim().is_empty() {
        Vec::new()
    } else {
        wrap(prose, width, indent)
    };
    match lines.last_mut() {
        Some(last) if self::width(last) + 1 + self::width(&command) <= width => {
            last.push(' ');
            last.push_str(&command);
        }
        Some(_) => lines.push(format!("{}{command}", " ".repeat(indent))),
        None => lines.push(command.into_owned()),
    }
    lines
}

/// A status word and its summary, wrapped to 80 columns with a hanging indent of 2: the first
/// line starts with the coloured status word, the rest of the text bold.
pub fn status_lines(style: &Style, status: Status, text: &str) -> Vec<String> {
    let word = status.word();
    wrap(&format!("{word} {text}"), 80, 2)
        .into_iter()
        .enumerate()
        .map(|(i, l)| match l.strip_prefix(word) {
            Some(rest) if i == 0 => {
                let rest = rest.strip_prefix(' ').unwrap_or(rest);
                format!("{} {}", style.status(status), style.bold(rest))
            }
            _ => style.bold(&l),
        })
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
    fn wrap_counts_display_width_and_never_breaks_a_word() {
        // Each CJK character takes two columns: 10 of them fill a 20-column line.
        let cjk = "漢字 ".repeat(10);
        let lines = wrap(&cjk, 20, 2);
        assert!(lines.iter().all(|l| width(l) <= 20), "{lines:?}");
        assert_eq!(lines.len(), 3, "{lines:?}");
        let long = "/home/virtual/site1/fst/var/spool/mqueue/a-very-long-name";
        assert_eq!(
            wrap(&format!("see {long} now"), 20, 2),
            vec!["see".to_string(), format!("  {long}"), "  now".to_string()]
        );
        assert_eq!(truncate("漢字漢字", 5), "漢字…");
    }

    #[test]
    fn a_command_is_never_broken() {
        let cmd =
            "systemd-run --scope -p MemoryHigh=2048M -p MemoryMax=2560M -- /usr/bin/a-long-program";
        let lines = wrap_with_command("fence it in, reclaiming above 2.0 GiB:", cmd, 40, 4);
        assert_eq!(lines.last().unwrap(), &format!("    {cmd}"));
        assert!(
            lines[..lines.len() - 1].iter().all(|l| width(l) <= 40),
            "{lines:?}"
        );
        assert_eq!(
            wrap_with_command("run:", "kill 5", 40, 2),
            vec!["run: kill 5"]
        );
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
