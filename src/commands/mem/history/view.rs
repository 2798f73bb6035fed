//! `toolkit mem report`: the recorded history drawn as charts (terminal, and SVG on request), with
//! the leak suspects it shows. JSON carries the series; Nagios and Prometheus the latest sample
//! and the suspects.

use super::chart::{self, clock, Chart};
use super::file::{History, Skipped};
use super::sample::System;
use super::trend::{self, Criteria, Grew, Leak};
use crate::render::text::{printable, wrap};
use crate::render::{Family, Perf, Report, Style};
use crate::status::Status;
use crate::units::{human_duration, human_size};
use serde::Serialize;
use std::io::{self, Write};

/// Forecasts under these raise a warning and a critical (the `mem verdict` defaults).
pub const WARN_SECS: f64 = 24.0 * 3600.0;
pub const CRIT_SECS: f64 = 4.0 * 3600.0;

#[derive(Debug, Clone, Serialize)]
pub struct HistoryReport {
    pub status: Status,
    pub path: String,
    pub samples: usize,
    /// Unix seconds of the first and last sample used.
    pub from: Option<f64>,
    pub to: Option<f64>,
    pub hostname: Option<String>,
    pub skipped: Skipped,
    pub latest: Option<System>,
    pub leaks: Vec<Leak>,
    /// Processes that grew steadily and then stopped: not leaks now.
    pub grew: Vec<Grew>,
    /// Seconds until the latest available memory runs out at the leaks' combined rate.
    pub forecast: Option<f64>,
    pub charts: Vec<Chart>,
    /// Where the SVG was written, when asked for.
    pub svg: Option<String>,
}

impl HistoryReport {
    /// The command that records into this report's file (`--history` only when it is not the default).
    fn record_command(&self) -> String {
        if self.path == format!("/{}", super::file::DEFAULT) {
            "toolkit mem record".into()
        } else {
            format!("toolkit mem record --history {}", printable(&self.path))
        }
    }

    /// Without samples there is nothing to draw: say how to start recording instead.
    fn how_to_record(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        let cmd = self.record_command();
        writeln!(
            out,
            "{} no samples recorded yet in",
            style.status(self.status)
        )?;
        writeln!(out, "  {}", printable(&self.path))?;
        writeln!(out)?;
        writeln!(
            out,
            "Record one sample a minute from cron, in /etc/cron.d/toolkit-mem:"
        )?;
        writeln!(out, "  * * * * * root {cmd}")?;
        writeln!(out, "or with a systemd timer:")?;
        writeln!(
            out,
            "  systemd-run --unit=toolkit-mem-record --on-calendar=minutely {cmd}"
        )?;
        writeln!(out, "or for the next hour, from this shell:")?;
        writeln!(out, "  {cmd} --every 10s --for 1h")?;
        writeln!(out)?;
        writeln!(out, "Then run the report again:")?;
        writeln!(out, "  {}", cmd.replacen("mem record", "mem report", 1))
    }
}

/// Builds the report from a loaded history (`None`: no file yet).
pub fn build(path: &str, h: Option<&History>) -> HistoryReport {
    let empty = History::default();
    let h = h.unwrap_or(&empty);
    let s = &h.samples;
    let trend::Trends { leaks, grew } = trend::trends(s, &Criteria::default());
    let latest = s.last().map(|x| x.mem);
    let forecast = latest.and_then(|m| trend::forecast(m.available, &leaks));
    let status = match forecast {
        _ if s.is_empty() => Status::Unknown,
        Some(f) if f < CRIT_SECS => Status::Critical,
        Some(f) if f < WARN_SECS => Status::Warning,
        _ => Status::Ok,
    };
    HistoryReport {
        status,
        path: path.to_string(),
        samples: s.len(),
        from: s.first().map(|x| x.t),
        to: s.last().map(|x| x.t),
        hostname: s.last().map(|x| x.host.hostname.clone()),
        skipped: h.skipped.clone(),
        latest,
        leaks,
        grew,
        forecast,
        charts: chart::charts(s),
        svg: None,
    }
}

impl Report for HistoryReport {
    fn check_name(&self) -> &'static str {
        "mem_history"
    }

    fn status(&self) -> Status {
        self.status
    }

    fn summary(&self) -> String {
        if self.samples == 0 {
            return format!(
                "no samples recorded in {}: start recording with `{}`",
                self.path,
                self.record_command()
            );
        }
        let span = human_duration((self.to.unwrap_or(0.0) - self.from.unwrap_or(0.0)) as u64);
        match (self.leaks.first(), self.forecast) {
            (Some(l), Some(f)) => format!(
                "{} samples over {span}; {} (pid {}) grows {}/s, memory runs out in {}",
                self.samples,
                printable(&l.comm),
                l.pid,
                human_size(l.rate as u64),
                human_duration(f as u64)
            ),
            _ => format!(
                "{} samples over {span}; no process grows steadily",
                self.samples
            ),
        }
    }

    fn text(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        if self.samples == 0 {
            return self.how_to_record(out, style);
        }
        for l in wrap(&format!("{} {}", self.status.word(), self.summary()), 80, 2) {
            writeln!(out, "{l}")?;
        }
        if let (Some(a), Some(b)) = (self.from, self.to) {
            // A fake root may have no hostname: then no "host, " before the span.
            let host = match self.hostname.as_deref().filter(|h| !h.is_empty()) {
                Some(h) => format!("{}, ", printable(h)),
                None => String::new(),
            };
            writeln!(out, "  {host}{} to {} UTC", clock(a), clock(b))?;
        }
        if self.skipped.total() > 0 {
            let s = &self.skipped;
            let line = format!(
                "skipped lines: {} malformed, {} from another host or boot, {} out of order",
                s.malformed, s.other_run, s.out_of_order
            );
            for l in wrap(&line, 78, 2) {
                writeln!(out, "  {}", style.dim(&l))?;
            }
        }
        for l in &self.leaks {
            let line = format!(
                "{} (pid {}) grows {}/s (95% confidence {}/s to {}/s) over {} samples, {} to {}",
                printable(&l.comm),
                l.pid,
                human_size(l.rate.max(0.0) as u64),
                human_size(l.rate_low.max(0.0) as u64),
                human_size(l.rate_high.max(0.0) as u64),
                l.samples,
                human_size(l.first),
                human_size(l.last)
            );
            for l in wrap(&line, 78, 2) {
                writeln!(out, "  {l}")?;
            }
        }
        for g in &self.grew {
            let line = format!(
                "{} (pid {}) grew {} until {} UTC, flat for {} since: not a leak now",
                printable(&g.comm),
                g.pid,
                human_size(g.grew),
                clock(g.until),
                human_duration(g.flat_for.max(0.0) as u64)
            );
            for l in wrap(&line, 78, 2) {
                writeln!(out, "  {l}")?;
            }
        }
        for c in &self.charts {
            writeln!(out)?;
            for (i, l) in chart::draw(c).iter().enumerate() {
                if i == 0 {
                    writeln!(out, "{}", style.bold(l))?;
                } else {
                    writeln!(out, "{l}")?;
                }
            }
        }
        if let Some(p) = &self.svg {
            writeln!(out)?;
            for l in wrap(&format!("charts written to {p}"), 80, 2) {
                writeln!(out, "{l}")?;
            }
        }
        Ok(())
    }

    fn perfdata(&self) -> Vec<Perf> {
        let mut v = Vec::new();
        if let Some(m) = &self.latest {
            v.push(
                Perf::new("mem_used", m.used as f64, "B")
                    .min(0.0)
                    .max(m.total as f64),
            );
            v.push(Perf::new("mem_available", m.available as f64, "B").min(0.0));
            v.push(Perf::new("swap_used", m.swap_used as f64, "B").min(0.0));
        }
        v.push(Perf::new("leak_suspects", self.leaks.len() as f64, "").min(0.0));
        if let Some(f) = self.forecast {
            v.push(Perf::new("leak_forecast", f, "s").min(0.0));
        }
        v
    }

    fn nagios_details(&self) -> Vec<String> {
        self.leaks
            .iter()
            .map(|l| {
                format!(
                    "leak suspect {} (pid {}): {}/s (95% confidence from {}/s) over {} samples",
                    printable(&l.comm),
                    l.pid,
                    human_size(l.rate as u64),
                    human_size(l.rate_low.max(0.0) as u64),
                    l.samples
                )
            })
            .collect()
    }

    fn metrics(&self) -> Vec<Family> {
        let g = |n: &str, h: &str, v: f64| Family::gauge(n, h).single(v);
        let mut v = vec![g(
            "toolkit_mem_history_samples",
            "Usable samples in the memory history.",
            self.samples as f64,
        )];
        if let Some(m) = &self.latest {
            v.push(g(
                "toolkit_mem_history_used_bytes",
                "Used memory (total - available) at the latest sample.",
                m.used as f64,
            ));
            v.push(g(
                "toolkit_mem_history_swap_used_bytes",
                "Swap used at the latest sample.",
                m.swap_used as f64,
            ));
        }
        v.extend(super::findings::leak_families(&self.leaks, self.forecast));
        v.push(skipped_family(&self.skipped));
        v
    }
}

/// The check's one skipped gauge, as every check has: the history lines not used, by cause.
fn skipped_family(s: &super::file::Skipped) -> Family {
    let mut f = Family::gauge(
        "toolkit_mem_history_skipped",
        "History lines not used, by cause: malformed (garbage or torn), other_run (another host \
         or boot: normal after a reboot), out_of_order (a clock step).",
    );
    for (cause, n) in [
        ("malformed", s.malformed),
        ("other_run", s.other_run),
        ("out_of_order", s.out_of_order),
    ] {
        f.push(vec![("cause", cause.to_string())], n as f64);
    }
    f
}
