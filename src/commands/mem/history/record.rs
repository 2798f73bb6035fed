//! `toolkit mem record`: one sample appended to the history, or a loop of them, then a report of
//! what was recorded (samples, processes, file and its size after pruning) in every format; in text,
//! `--quiet` leaves it out so that cron mails nothing when all is well.

use super::{file, sample};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::render::{Family, Format, Perf, Report, Style};
use crate::status::Status;
use crate::units::human_size;
use serde::Serialize;
use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// What one `mem record` run appended.
#[derive(Debug, Serialize)]
pub struct RecordReport {
    pub status: Status,
    /// The history file.
    pub path: String,
    /// Samples appended by this run.
    pub samples: u64,
    /// Processes in the last sample.
    pub processes: usize,
    /// Unix time of the last sample.
    pub last: f64,
    /// The file's size after the last append (and pruning), in bytes.
    pub bytes: u64,
}

impl Report for RecordReport {
    fn check_name(&self) -> &'static str {
        "mem_record"
    }

    fn status(&self) -> Status {
        self.status
    }

    fn summary(&self) -> String {
        let s = if self.samples == 1 { "" } else { "s" };
        format!(
            "recorded {} sample{s} ({} processes) to {} ({})",
            self.samples,
            self.processes,
            self.path,
            human_size(self.bytes)
        )
    }

    fn text(&self, out: &mut dyn Write, _style: &Style) -> io::Result<()> {
        writeln!(out, "{}", crate::render::text::printable(&self.summary()))
    }

    fn perfdata(&self) -> Vec<Perf> {
        vec![
            Perf::new("samples", self.samples as f64, "c").min(0.0),
            Perf::new("processes", self.processes as f64, "").min(0.0),
            Perf::new("history_bytes", self.bytes as f64, "B").min(0.0),
        ]
    }

    fn metrics(&self) -> Vec<Family> {
        vec![
            Family::gauge(
                "toolkit_mem_record_samples",
                "Samples appended to the memory history by this run.",
            )
            .single(self.samples as f64),
            Family::gauge(
                "toolkit_mem_record_processes",
                "Processes in the last sample recorded.",
            )
            .single(self.processes as f64),
            Family::gauge(
                "toolkit_mem_record_history_bytes",
                "Size of the history file after the last append and pruning, in bytes.",
            )
            .single(self.bytes as f64),
            Family::gauge(
                "toolkit_mem_record_last_timestamp_seconds",
                "Unix time of the last sample recorded.",
            )
            .single(self.last),
        ]
    }
}

/// How often and how long to sample: `every: None` is one sample (the cron form); `until: None`
/// with `every` loops until killed.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub every: Option<u64>,
    pub until: Option<u64>,
}

pub fn run(ctx: &Context, path: &Path, schedule: Schedule) -> Result<Status> {
    let mut report = RecordReport {
        status: Status::Ok,
        path: path.display().to_string(),
        samples: 0,
        processes: 0,
        last: 0.0,
        bytes: 0,
    };
    let every = match (schedule.every, schedule.until) {
        (None, None) => {
            once(ctx, path, &mut report)?;
            return finish(ctx, &report);
        }
        (Some(0), _) => return Err(Error::Usage("--every must be at least 1s".into())),
        // `--for` alone samples at the documented default pace.
        (e, _) => Duration::from_secs(e.unwrap_or(10)),
    };
    let start = Instant::now();
    let until = schedule.until.map(Duration::from_secs);
    // Ticks on a fixed schedule from the start, so a slow sample does not shift the later ones.
    let mut tick = 0u32;
    loop {
        once(ctx, path, &mut report)?;
        tick += 1;
        let next = every * tick;
        if until.is_some_and(|u| next > u) {
            return finish(ctx, &report);
        }
        std::thread::sleep(next.saturating_sub(start.elapsed()));
    }
}

/// The report, except in text with `--quiet` (the cron form stays silent).
fn finish(ctx: &Context, report: &RecordReport) -> Result<Status> {
    if ctx.format == Format::Text && ctx.quiet {
        return Ok(report.status);
    }
    crate::commands::output(ctx, report)
}

fn once(ctx: &Context, path: &Path, report: &mut RecordReport) -> Result<()> {
    let s = sample::read(&ctx.root)?;
    let size = file::append(path, &s)?;
    if ctx.show_progress {
        eprintln!(
            "recorded {} processes to {} ({})",
            s.procs.len(),
            path.display(),
            human_size(size)
        );
    }
    report.samples += 1;
    report.processes = s.procs.len();
    report.last = s.t;
    report.bytes = size;
    Ok(())
}
