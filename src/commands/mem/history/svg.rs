//! The charts of `mem report` as one SVG document: a panel per chart, stacked, each a polyline over
//! axes with its title and its range in text. Hand-written: a few elements need no library, and
//! every piece of text is escaped.

use super::chart::{clock, Chart};
use crate::units::human_size;
use std::fmt::Write;

const WIDTH: f64 = 800.0;
const PANEL: f64 = 180.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 30.0;

/// Escapes text for an XML text node or attribute value. Control characters other than tab and
/// newline are not allowed in XML 1.0 at all: they become U+FFFD.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' => out.push(' '),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

pub fn document(charts: &[Chart]) -> String {
    let height = PANEL * charts.len().max(1) as f64;
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(
        s,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>"#
    );
    for (i, c) in charts.iter().enumerate() {
        panel(&mut s, c, i as f64 * PANEL);
    }
    s.push_str("</svg>\n");
    s
}

fn panel(s: &mut String, c: &Chart, y0: f64) {
    let (x0, x1) = (LEFT, WIDTH - RIGHT);
    let (top, bottom) = (y0 + TOP, y0 + PANEL - BOTTOM);
    let _ = writeln!(
        s,
        r#"<g><text x="{x0}" y="{}" font-weight="bold">{}</text>"#,
        y0 + 18.0,
        escape(&c.title)
    );
    let _ = writeln!(
        s,
        r##"<path d="M{x0} {top} V{bottom} H{x1}" fill="none" stroke="#444"/>"##
    );
    let max = c.top();
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="end">{}</text><text x="{}" y="{bottom}" text-anchor="end">0</text>"#,
        x0 - 6.0,
        top + 4.0,
        escape(&human_size(max)),
        x0 - 6.0
    );
    if let (Some(first), Some(last)) = (c.points.first(), c.points.last()) {
        let span = last.0 - first.0;
        let _ = writeln!(
            s,
            r#"<text x="{x0}" y="{}">{}</text><text x="{x1}" y="{}" text-anchor="end">{} UTC</text>"#,
            bottom + 18.0,
            escape(&clock(first.0)),
            bottom + 18.0,
            escape(&clock(last.0))
        );
        let pts: Vec<String> = c
            .points
            .iter()
            .map(|&(t, v)| {
                let x = if span > 0.0 {
                    x0 + (t - first.0) / span * (x1 - x0)
                } else {
                    x1
                };
                let y = if max > 0 {
                    bottom - v as f64 / max as f64 * (bottom - top)
                } else {
                    bottom
                };
                format!("{x:.1},{y:.1}")
            })
            .collect();
        let _ = writeln!(
            s,
            r##"<polyline points="{}" fill="none" stroke="#c03" stroke-width="1.5"/>"##,
            pts.join(" ")
        );
    }
    s.push_str("</g>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("a<b>&\"'\u{1}"),
            "a&lt;b&gt;&amp;&quot;&apos;\u{FFFD}"
        );
        let d = document(&[Chart {
            title: "RSS of <evil> & co".into(),
            points: vec![(1.0, 5), (2.0, 9)],
            ceiling: None,
        }]);
        assert!(d.contains("RSS of &lt;evil&gt; &amp; co"));
        assert!(d.ends_with("</svg>\n"));
    }
}
