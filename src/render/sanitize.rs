//! The one sanitizer for text from outside the toolkit (process names, command lines, unit and
//! container names, file and queue names, qf fields, delivery texts, site names, history hostnames).
//!
//! What a local user, a site admin or an internet sender wrote never reaches a terminal raw: C0 and C1
//! controls, DEL and the bidi overrides are shown escaped (`\x1b`, `\r`, `\u{9b}`, `\u{202e}`), and
//! bytes that are not UTF-8 are shown as `\xff`. Readers whose data model is `String` decode with
//! [`decode`], which turns invalid bytes into that same `\xNN` text at read time (JSON cannot hold them
//! either); every other escape happens here, at render time, so JSON keeps the exact value.
//!
//! Three entry points: [`printable`] for one field in text output, prompts and error messages;
//! [`nagios`] for a Nagios status or long-output line (also no `|`, no newline); and [`Guard`], a writer
//! every text output goes through, so that a field some renderer forgot still cannot drive the terminal.

use super::{Format, Style};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

/// True for a character that must never reach a terminal raw.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\t' => out.push_str("\\t"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\u{0}'..='\u{1f}' | '\u{7f}' => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        _ => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// One field of external text, safe to print: controls, DEL, C1 and bidi overrides escaped.
pub fn printable(s: &str) -> String {
    escape(s).into_owned()
}

/// Like [`printable`], borrowing when nothing needs escaping.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Bytes as the toolkit's `String` data model holds them: valid UTF-8 unchanged (controls too: they
/// are escaped when rendered), each byte of an invalid sequence as the text `\xNN`.
pub fn decode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Bytes straight to printable text: [`decode`] then [`printable`].
pub fn printable_bytes(bytes: &[u8]) -> String {
    printable(&decode(bytes))
}

/// A Nagios status or long-output line: one line (a raw newline becomes a space), no `|` (which
/// would start the perfdata: shown as `\x7c`), everything else as [`printable`].
pub fn nagios(s: &str) -> String {
    let one_line = s.replace(['\n', '\r'], " ");
    escape(&one_line).replace('|', "\\x7c")
}

/// A writer for text output. Complete lines pass through with every unsafe character escaped, except
/// the newline ending each line and, when `color` is on, the toolkit's own SGR colour sequences
/// (`ESC [ digits;... m`). Invalid UTF-8 is shown as `\xNN`. Per-field escaping in the renderers is
/// still needed (only they know which newlines are the toolkit's); this is the backstop.
pub struct Guard<W: Write> {
    inner: W,
    color: bool,
    /// Off for JSON and Prometheus, whose serializers escape what their format needs, and whose
    /// exact values must survive.
    active: bool,
    pending: Vec<u8>,
}

impl<W: Write> Guard<W> {
    pub fn new(inner: W, color: bool) -> Guard<W> {
        Guard {
            inner,
            color,
            active: true,
            pending: Vec::new(),
        }
    }

    /// The guard for a document in `format`: active for text and Nagios, a plain pass-through for
    /// JSON and Prometheus.
    pub fn for_format(inner: W, format: Format, style: &Style) -> Guard<W> {
        Guard {
            inner,
            color: style.color,
            active: matches!(format, Format::Text | Format::Nagios),
            pending: Vec::new(),
        }
    }

    fn drain(&mut self, all: bool) -> io::Result<()> {
        let upto = if all {
            // Keep back an incomplete UTF-8 sequence at the very end: the rest of it is still coming.
            match std::str::from_utf8(&self.pending) {
                Err(e) if e.error_len().is_none() => e.valid_up_to(),
                _ => self.pending.len(),
            }
        } else {
            match self.pending.iter().rposition(|&b| b == b'\n') {
                Some(i) => i + 1,
                None => return Ok(()),
            }
        };
        if upto == 0 {
            return Ok(());
        }
        let chunk: Vec<u8> = self.pending.drain(..upto).collect();
        let clean = guard_text(&decode(&chunk), self.color);
        self.inner.write_all(clean.as_bytes())
    }
}

/// Escapes `text` as [`Guard`] does: newlines kept, SGR sequences kept when `color`.
pub fn guard_text(text: &str, color: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '\x1b' && color {
            if let Some(n) = sgr_len(rest) {
                out.push_str(&rest[..n]);
                rest = &rest[n..];
                continue;
            }
        }
        if c != '\n' && is_unsafe(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Length of an SGR sequence (`ESC [ [0-9;]* m`) at the start of `s`, if there is one.
fn sgr_len(s: &str) -> Option<usize> {
    let body = s.strip_prefix("\x1b[")?;
    let params = body
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b';')
        .count();
    (body.as_bytes().get(params) == Some(&b'm')).then_some(2 + params + 1)
}

impl<W: Write> Write for Guard<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.active {
            return self.inner.write(buf);
        }
        self.pending.extend_from_slice(buf);
        self.drain(false)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.drain(true)?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for Guard<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &[u8] = b"\x1b]0;OWNED\x07\x1b[41m\rX\nY\0Z\xe2\x80\xae|\xff";

    #[test]
    fn escapes_are_readable() {
        let s = printable_bytes(HOSTILE);
        assert_eq!(
            s,
            "\\x1b]0;OWNED\\x07\\x1b[41m\\rX\\nY\\x00Z\\u{202e}|\\xff"
        );
        assert_eq!(
            printable("a\tb\u{7f}\u{9b}\u{200f}\u{2066}"),
            "a\\tb\\x7f\\u{9b}\\u{200f}\\u{2066}"
        );
        assert_eq!(printable("crond é 日本"), "crond é 日本");
        // Idempotent: what it prints is already printable.
        assert_eq!(printable(&s), s);
    }

    #[test]
    fn decode_keeps_valid_text_and_escapes_bad_bytes() {
        assert_eq!(decode(b"ok\x1b\xff\xc3"), "ok\x1b\\xff\\xc3");
        assert_eq!(decode("é".as_bytes()), "é");
    }

    #[test]
    fn nagios_lines_have_no_pipe_or_newline() {
        let s = nagios(&decode(HOSTILE));
        assert!(
            !s.contains('|') && !s.contains('\n') && !s.chars().any(is_unsafe),
            "{s}"
        );
        assert!(s.contains("\\x7c"));
    }

    #[test]
    fn guard_keeps_newlines_and_own_colour_only() {
        let mut out = Vec::new();
        {
            let mut g = Guard::new(&mut out, true);
            g.write_all(b"\x1b[1;31mCRITICAL\x1b[0m \x1b]0;x\x07")
                .unwrap();
            // a UTF-8 character split across writes survives whole
            g.write_all(&"é".as_bytes()[..1]).unwrap();
            g.write_all(&"é".as_bytes()[1..]).unwrap();
            g.write_all(b"\n\xff\r\n").unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\x1b[1;31mCRITICAL\x1b[0m \\x1b]0;x\\x07é\n\\xff\\r\n"
        );
        assert_eq!(guard_text("\x1b[41mred", false), "\\x1b[41mred");
    }
}
