//! `toolkit check`: every read-only check, one line each, worst first; the exit status is the worst.
//! A check that cannot run (unreadable input) is UNKNOWN with its reason; the others still run.

use crate::cli::{CheckArgs, MqueueScanArgs, ZombiesArgs};
use crate::context::Context;
use crate::error::Result;
use crate::render::{prometheus, Family, Perf, Report, Style};
use crate::status::Status;
use serde::Serialize;
use std::io::{self, Write};

#[derive(Debug, Serialize)]
pub struct CheckEntry {
    pub name: &'static str,
    pub status: Status,
    pub summary: String,
    /// The check's full report, as its own `--format json` prints it (null when it could not run).
    pub report: serde_json::Value,
    /// The command that shows the details.
    pub command: String,
    #[serde(skip)]
    perfdata: Vec<Perf>,
    #[serde(skip)]
    metrics: Vec<Family>,
}

impl CheckEntry {
    fn from_report<R: Report>(command: &str, report: &R) -> CheckEntry {
        CheckEntry {
            name: report.check_name(),
            status: report.status(),
            summary: report.summary(),
            report: serde_json::to_value(report).unwrap_or(serde_json::Value::Null),
            command: command.to_string(),
            perfdata: report.perfdata(),
            metrics: report.metrics(),
        }
    }

    fn from_result<R: Report>(name: &'static str, command: &str, result: Result<R>) -> CheckEntry {
        match result {
            Ok(r) => CheckEntry::from_report(command, &r),
            Err(e) => CheckEntry {
                name,
                status: Status::Unknown,
                summary: e.to_string(),
                report: serde_json::Value::Null,
                command: command.to_string(),
                perfdata: Vec::new(),
                metrics: Vec::new(),
            },
        }
    }
}

#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub status: Status,
    pub checks: Vec<CheckEntry>,
}

pub fn run(ctx: &Context, _args: &CheckArgs) -> Result<Status> {
    let report = build(ctx);
    super::output(ctx, &report)
}

pub fn build(ctx: &Context) -> CheckReport {
    let zombie_opts = super::zombies::Options::from_args(&defaults::<ZombiesArgs>());
    let mut checks = vec![CheckEntry::from_result(
        "zombies",
        "toolkit zombies",
        super::zombies::scan(ctx, &zombie_opts),
    )];
    checks.push(CheckEntry::from_result(
        "mqueue",
        "toolkit mqueue scan",
        super::mqueue::scan(ctx, &defaults::<MqueueScanArgs>()),
    ));
    checks.sort_by_key(|c| std::cmp::Reverse(rank(c.status)));
    CheckReport {
        status: Status::worst_of(checks.iter().map(|c| c.status)),
        checks,
    }
}

/// A command's options exactly as its own defaults set them, so `check` judges as the command does.
fn defaults<T: clap::Args + clap::FromArgMatches>() -> T {
    let cmd = T::augment_args(clap::Command::new("check").no_binary_name(true));
    let matches = cmd.get_matches_from(std::iter::empty::<String>());
    T::from_arg_matches(&matches).expect("command defaults are valid")
}

fn rank(s: Status) -> u8 {
    match s {
        Status::Ok => 0,
        Status::Unknown => 1,
        Status::Warning => 2,
        Status::Critical => 3,
    }
}

impl Report for CheckReport {
    fn check_name(&self) -> &'static str {
        "toolkit"
    }

    fn status(&self) -> Status {
        self.status
    }

    fn summary(&self) -> String {
        self.checks
            .iter()
            .map(|c| format!("{}: {}", c.name, c.summary))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn text(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        for c in &self.checks {
            let status = format!("{:<8}", c.status.word());
            let status = status.replace(c.status.word(), &style.status(c.status));
            // One check per line; a long summary continues under itself rather than being cut.
            let lines = crate::render::text::wrap(&c.summary, 80 - 19, 0);
            writeln!(out, "{status} {:<9} {}", c.name, lines[0])?;
            for l in &lines[1..] {
                writeln!(out, "{:19}{l}", "")?;
            }
        }
        let worst: Vec<&str> = self
            .checks
            .iter()
            .filter(|c| c.status != Status::Ok)
            .map(|c| c.command.as_str())
            .collect();
        if !worst.is_empty() {
            writeln!(out)?;
            writeln!(out, "Details: {}", worst.join(", "))?;
        }
        Ok(())
    }

    fn perfdata(&self) -> Vec<Perf> {
        self.checks
            .iter()
            .flat_map(|c| c.perfdata.iter().cloned())
            .collect()
    }

    fn nagios_details(&self) -> Vec<String> {
        self.checks
            .iter()
            .map(|c| format!("{} {}: {}", c.name, c.status, c.summary))
            .collect()
    }

    fn metrics(&self) -> Vec<Family> {
        let mut families: Vec<Family> = self
            .checks
            .iter()
            .flat_map(|c| c.metrics.iter().cloned())
            .collect();
        let statuses: Vec<(&str, Status)> =
            self.checks.iter().map(|c| (c.name, c.status)).collect();
        families.push(prometheus::status_family(&statuses));
        families
    }
}
