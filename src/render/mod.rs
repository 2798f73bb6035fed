//! One renderer per output format over the same report. Commands build a report; they never ask which
//! format was chosen. `emit` is the only place that does.

pub mod nagios;
pub mod prometheus;
pub mod sanitize;
pub mod text;

use crate::status::Status;
use serde::Serialize;
use std::io::{self, Write};

pub use nagios::{Perf, Range};
pub use prometheus::{Family, Sample};
pub use text::Style;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For a person at a terminal.
    Text,
    /// One JSON document: sizes in bytes, durations in seconds, timestamps in Unix seconds.
    Json,
    /// Monitoring-plugins status line with perfdata.
    Nagios,
    /// Prometheus text exposition format (node_exporter textfile collector).
    Prometheus,
}

/// What every command's report provides so that each format can be rendered from it.
pub trait Report: Serialize {
    /// Short check name: `zombies`, `mqueue`, `mem`. Upper-cased, it is the Nagios label.
    fn check_name(&self) -> &'static str;
    fn status(&self) -> Status;
    /// The most important line, as it would appear first in text and after the status in Nagios.
    fn summary(&self) -> String;
    fn text(&self, out: &mut dyn Write, style: &Style) -> io::Result<()>;
    fn perfdata(&self) -> Vec<Perf>;
    /// Extra lines for the Nagios long output (one per finding).
    fn nagios_details(&self) -> Vec<String> {
        Vec::new()
    }
    fn metrics(&self) -> Vec<Family>;
}

/// Renders a report in the chosen format.
pub fn emit<R: Report>(
    report: &R,
    format: Format,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Text => report.text(out, style),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::other)?;
            writeln!(out)
        }
        Format::Nagios => nagios::write(
            out,
            &report.check_name().to_uppercase(),
            report.status(),
            &report.summary(),
            &report.perfdata(),
            &report.nagios_details(),
        ),
        Format::Prometheus => {
            let mut families = report.metrics();
            families.push(prometheus::status_family(&[(
                report.check_name(),
                report.status(),
            )]));
            prometheus::write(out, &families)
        }
    }
}
