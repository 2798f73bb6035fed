//! One way of showing a plan before asking: a title, then one line per step (what would change,
//! from -> to, and why), indented under it. Each command words (and escapes, and colours) its own step
//! lines; the title names a site, a unit or a parent from outside the toolkit, so it is escaped here.

use crate::render::sanitize::printable;
use crate::render::Style;
use std::io::{self, Write};

/// Writes `title` (escaped, bold when `style` says so), then the step lines two columns in.
pub fn show_plan(
    out: &mut dyn Write,
    style: &Style,
    title: &str,
    lines: &[String],
) -> io::Result<()> {
    writeln!(out, "{}", style.bold(&printable(title)))?;
    for l in lines {
        writeln!(out, "  {l}")?;
    }
    out.flush()
}
