//! One renderer per output format over the same report. Commands build a report; they never ask which
//! format was chosen. `emit` is the only place that does, and `emit_failure` writes the document of a
//! run that failed, so every format always gets one well-formed document.

pub mod nagios;
pub mod prometheus;
pub mod sanitize;
pub mod text;
pub mod unit;

use crate::readers::skips::Skips;
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
    /// What the check could not read, counted in every format (JSON `skipped`, the
    /// `toolkit_<check>_skipped` gauge, the `<check>_skipped` perfdata).
    fn skipped(&self) -> Option<&Skips> {
        None
    }
    /// Why the check could not see everything it needs (its status is then UNKNOWN unless already
    /// CRITICAL). By default any skip blinds it; a check for which some skips are harmless says so.
    fn blind(&self) -> Option<String> {
        self.skipped().and_then(Skips::blind_reason)
    }
}

/// The summary as monitoring shows it: when the check was blind, the reason comes first (it is why
/// the status is UNKNOWN), or after the emergency when what was seen is CRITICAL anyway.
pub fn summary_line<R: Report + ?Sized>(report: &R) -> String {
    // The reason quotes paths a site admin may have named: never raw.
    match report.blind().map(|why| text::printable(&why)) {
        Some(why) if report.status() == Status::Critical => format!("{}; {why}", report.summary()),
        Some(why) => format!("{why}; {}", report.summary()),
        None => report.summary(),
    }
}

/// The report's perfdata and its skip count (`'<check>_skipped'=N;;;0`).
pub fn perfdata_of<R: Report + ?Sized>(report: &R) -> Vec<Perf> {
    let mut perf = report.perfdata();
    if let Some(s) = report.skipped() {
        perf.push(
            Perf::new(
                format!("{}_skipped", report.check_name()),
                s.count as f64,
                "",
            )
            .min(0.0),
        );
    }
    perf
}

/// The report's metric families and its `toolkit_<check>_skipped` gauge.
pub fn metrics_of<R: Report + ?Sized>(report: &R) -> Vec<Family> {
    let mut families = report.metrics();
    if let Some(s) = report.skipped() {
        families.push(
            Family::gauge(
                &format!("toolkit_{}_skipped", report.check_name()),
                "Paths the check skipped: unreadable (permissions, hidden /proc entries: the check \
                 is then UNKNOWN unless CRITICAL) or damaged (reported with what they still say).",
            )
            .single(s.count as f64),
        );
    }
    families
}

/// Renders a report in the chosen format.
pub fn emit<R: Report>(
    report: &R,
    format: Format,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Text => {
            if let Some(why) = report.blind() {
                let why = text::printable(&why);
                for l in text::wrap(&format!("Blind: {why}"), 80, 2) {
                    writeln!(out, "{}", style.bold(&l))?;
                }
            }
            report.text(out, style)
        }
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::other)?;
            writeln!(out)
        }
        Format::Nagios => nagios::write(
            out,
            &report.check_name().to_uppercase(),
            report.status(),
            &summary_line(report),
            &perfdata_of(report),
            &report.nagios_details(),
        ),
        Format::Prometheus => {
            let mut families = metrics_of(report);
            families.push(prometheus::status_family(&[(
                report.check_name(),
                report.status(),
            )]));
            families.push(prometheus::up_family(true));
            prometheus::write(out, &families)
        }
    }
}

/// The document of a run that failed (usage error, unreadable input): Nagios `TOOLKIT UNKNOWN -
/// error`, JSON `{"status":"UNKNOWN","error":...}`, Prometheus `toolkit_up 0`. Text writes nothing on
/// stdout: the one-line message on stderr is the whole story for a person.
pub fn emit_failure(format: Format, error: &str, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Text => Ok(()),
        Format::Json => {
            let doc = serde_json::json!({"status": Status::Unknown, "error": error});
            serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
            writeln!(out)
        }
        Format::Nagios => nagios::write(
            out,
            "TOOLKIT",
            Status::Unknown,
            &text::printable(error),
            &[],
            &[],
        ),
        Format::Prometheus => prometheus::write(out, &[prometheus::up_family(false)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(format: Format) -> String {
        let mut out = Vec::new();
        emit_failure(format, "--root /x: No such file | or \"dir\"", &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_format_has_a_failure_document() {
        assert_eq!(
            failure(Format::Nagios),
            "TOOLKIT UNKNOWN - --root /x: No such file \\x7c or \"dir\"\n"
        );
        let j: serde_json::Value = serde_json::from_str(&failure(Format::Json)).unwrap();
        assert_eq!(j["status"], "UNKNOWN");
        assert_eq!(j["error"], "--root /x: No such file | or \"dir\"");
        let p = failure(Format::Prometheus);
        assert!(p.starts_with("# HELP toolkit_up "), "{p}");
        assert!(
            p.contains("\n# TYPE toolkit_up gauge\ntoolkit_up 0\n"),
            "{p}"
        );
        assert_eq!(failure(Format::Text), "");
    }
}
