//! Prometheus text exposition format (version 0.0.4), as node_exporter's textfile collector reads it:
//! one HELP and TYPE line per family, `toolkit_` prefix, escaped label values.

use crate::status::Status;
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gauge,
    Counter,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// Full metric name, `toolkit_` included.
    pub name: String,
    pub help: String,
    pub kind: Kind,
    pub samples: Vec<Sample>,
}

impl Family {
    pub fn gauge(name: &str, help: &str) -> Family {
        Family {
            name: name.to_string(),
            help: help.to_string(),
            kind: Kind::Gauge,
            samples: Vec::new(),
        }
    }

    pub fn counter(name: &str, help: &str) -> Family {
        Family {
            kind: Kind::Counter,
            ..Family::gauge(name, help)
        }
    }

    /// A family with one unlabelled sample.
    pub fn single(mut self, value: f64) -> Family {
        self.samples.push(Sample {
            labels: Vec::new(),
            value,
        });
        self
    }

    pub fn sample(mut self, labels: Vec<(&'static str, String)>, value: f64) -> Family {
        self.samples.push(Sample { labels, value });
        self
    }

    pub fn push(&mut self, labels: Vec<(&'static str, String)>, value: f64) {
        self.samples.push(Sample { labels, value });
    }
}

/// `toolkit_status{check="..."}`: the monitoring-plugins status of each check (0 OK .. 3 UNKNOWN).
pub fn status_family(checks: &[(&str, Status)]) -> Family {
    let mut f = Family::gauge(
        "toolkit_status",
        "Check status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (monitoring-plugins convention).",
    );
    for (name, status) in checks {
        f.push(vec![("check", name.to_string())], status.exit_code() as f64);
    }
    f
}

/// `toolkit_up`: 1 when the run completed and its report is complete, 0 when it failed.
pub fn up_family(up: bool) -> Family {
    Family::gauge(
        "toolkit_up",
        "1 when toolkit ran and wrote its report, 0 when it failed (usage error, unreadable input).",
    )
    .single(if up { 1.0 } else { 0.0 })
}

/// Merges families of the same name (as `toolkit check` gathers them from several reports).
pub fn merge(families: Vec<Family>) -> Vec<Family> {
    let mut out: Vec<Family> = Vec::new();
    for f in families {
        match out.iter_mut().find(|o| o.name == f.name) {
            Some(o) => o.samples.extend(f.samples),
            None => out.push(f),
        }
    }
    out
}

fn escape_help(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n")
}

fn escape_label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 9e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

pub fn write(out: &mut dyn Write, families: &[Family]) -> io::Result<()> {
    for f in merge(families.to_vec()) {
        let kind = match f.kind {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
        };
        writeln!(out, "# HELP {} {}", f.name, escape_help(&f.help))?;
        writeln!(out, "# TYPE {} {kind}", f.name)?;
        for s in &f.samples {
            if s.labels.is_empty() {
                writeln!(out, "{} {}", f.name, value(s.value))?;
            } else {
                let labels: Vec<String> = s
                    .labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                    .collect();
                writeln!(out, "{}{{{}}} {}", f.name, labels.join(","), value(s.value))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_lines_and_escaping() {
        let fams = vec![
            Family::gauge("toolkit_x", "Help with \\ and\nnewline").single(3.0),
            Family::gauge("toolkit_y", "Y.").sample(vec![("comm", "a\"b\\c\nd".into())], 0.5),
            Family::gauge("toolkit_x", "dup").sample(vec![("k", "v".into())], 1.0),
        ];
        let mut out = Vec::new();
        write(&mut out, &fams).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "# HELP toolkit_x Help with \\\\ and\\nnewline\n# TYPE toolkit_x gauge\ntoolkit_x 3\ntoolkit_x{k=\"v\"} 1\n\
             # HELP toolkit_y Y.\n# TYPE toolkit_y gauge\ntoolkit_y{comm=\"a\\\"b\\\\c\\nd\"} 0.5\n"
        );
    }
}
