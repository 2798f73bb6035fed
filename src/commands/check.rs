//! `toolkit check`: every read-only check, one line each, worst first; the exit status is the worst.
//! A check that cannot run (unreadable input) is UNKNOWN with its reason; the others still run. The
//! checks run in their own threads: one that has not answered by `--timeout` is abandoned (the
//! process exits without waiting for it) and reported UNKNOWN, naming it.

use crate::cli::{CheckArgs, MemVerdictArgs, MqueueScanArgs, ZombiesArgs};
use crate::context::Context;
use crate::error::Result;
use crate::render::{self, prometheus, Family, Perf, Report, Style};
use crate::status::Status;
use serde::Serialize;
use std::io::{self, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

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
            summary: render::summary_line(report),
            report: serde_json::to_value(report).unwrap_or(serde_json::Value::Null),
            command: command.to_string(),
            perfdata: render::perfdata_of(report),
            metrics: render::metrics_of(report),
        }
    }

    fn from_result<R: Report>(name: &'static str, command: &str, result: Result<R>) -> CheckEntry {
        match result {
            Ok(r) => CheckEntry::from_report(command, &r),
            Err(e) => {
                let mut why = e.to_string();
                // Who could not read it says whether to look at permissions or at the host.
                if let crate::error::Error::Io { source, .. } = &e {
                    if source.kind() == io::ErrorKind::PermissionDenied {
                        why.push_str(&format!(" (as {})", crate::readers::skips::reader()));
                    }
                }
                CheckEntry::unknown(name, command, why)
            }
        }
    }

    fn unknown(name: &'static str, command: &str, summary: String) -> CheckEntry {
        CheckEntry {
            name,
            status: Status::Unknown,
            summary,
            report: serde_json::Value::Null,
            command: command.to_string(),
            perfdata: Vec::new(),
            metrics: Vec::new(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub status: Status,
    /// --timeout, in seconds.
    pub timeout: u64,
    pub checks: Vec<CheckEntry>,
}

pub fn run(ctx: &Context, args: &CheckArgs) -> Result<Status> {
    let report = build(ctx, args);
    super::output(ctx, &report)
}

type Job = Box<dyn FnOnce(&Context) -> CheckEntry + Send>;

/// The three checks, each with its command's own defaults overridden by the `--CHECK-...` options.
fn jobs(args: &CheckArgs) -> Vec<(&'static str, &'static str, Job)> {
    let mut z = defaults::<ZombiesArgs>();
    if let Some(r) = &args.zombies_warning {
        z.thresholds.warning = r.clone();
    }
    if let Some(r) = &args.zombies_critical {
        z.thresholds.critical = r.clone();
    }
    if let Some(d) = args.zombies_min_age {
        z.min_age = d;
    }
    let zombie_opts = super::zombies::Options::from_args(&z);
    // mem verdict with its own defaults, a 1s sample included: swap-out is the signal that matters
    // most and only a sample measures it (a fake root is not waited for).
    let mut m = defaults::<MemVerdictArgs>();
    let t = &mut m.thresholds;
    let set = |slot: &mut crate::render::Range, v: &Option<crate::render::Range>| {
        if let Some(r) = v {
            *slot = r.clone();
        }
    };
    set(&mut t.available_warning, &args.mem_available_warning);
    set(&mut t.available_critical, &args.mem_available_critical);
    set(&mut t.swap_out_warning, &args.mem_swap_out_warning);
    set(&mut t.swap_out_critical, &args.mem_swap_out_critical);
    if let Some(d) = args.mem_interval {
        m.interval = d;
    }
    let mem_opts = super::mem::Options::from_args(&m);
    let (mq_warning, mq_critical, mq_min) = (
        args.mqueue_warning.clone(),
        args.mqueue_critical.clone(),
        args.mqueue_min,
    );
    vec![
        (
            "zombies",
            "toolkit zombies",
            Box::new(move |ctx: &Context| {
                let r = super::zombies::scan(ctx, &zombie_opts);
                CheckEntry::from_result("zombies", "toolkit zombies", r)
            }) as Job,
        ),
        (
            "mem",
            "toolkit mem verdict",
            Box::new(move |ctx: &Context| {
                let r = super::mem::verdict(ctx, &mem_opts);
                CheckEntry::from_result("mem", "toolkit mem verdict", r)
            }),
        ),
        (
            "mqueue",
            "toolkit mqueue scan",
            Box::new(move |ctx: &Context| {
                let mut q = defaults::<MqueueScanArgs>();
                if let Some(r) = mq_warning {
                    q.thresholds.warning = r;
                }
                if let Some(r) = mq_critical {
                    q.thresholds.critical = r;
                }
                if let Some(s) = mq_min {
                    q.min = s;
                }
                let r = super::mqueue::scan(ctx, &q);
                CheckEntry::from_result("mqueue", "toolkit mqueue scan", r)
            }),
        ),
    ]
}

/// Runs the checks side by side and waits at most `--timeout` for them all.
pub fn build(ctx: &Context, args: &CheckArgs) -> CheckReport {
    let timeout = Duration::from_secs(args.timeout.secs());
    let deadline = Instant::now() + timeout;
    let jobs = jobs(args);
    let (tx, rx) = mpsc::channel();
    let mut pending: Vec<(&'static str, &'static str)> = Vec::new();
    for (i, (name, command, job)) in jobs.into_iter().enumerate() {
        let (to_main, ctx) = (tx.clone(), ctx.clone());
        let started = std::thread::Builder::new()
            .name(format!("check-{name}"))
            .spawn(move || {
                // A bug in one check must not cost the others their answer, nor wait for --timeout.
                let entry = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&ctx)))
                    .unwrap_or_else(|_| {
                        let why =
                            format!("{name} check failed: internal error (a bug: please report)");
                        CheckEntry::unknown(name, command, why)
                    });
                let _ = to_main.send((i, entry));
            });
        pending.push((name, command));
        if let Err(e) = started {
            tx_failed(&tx, i, name, command, e);
        }
    }
    drop(tx);
    let mut got: Vec<Option<CheckEntry>> = pending.iter().map(|_| None).collect();
    let mut gone = false;
    while got.iter().any(Option::is_none) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((i, entry)) => got[i] = Some(entry),
            Err(mpsc::RecvTimeoutError::Timeout) => break,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                gone = true;
                break;
            }
        }
    }
    let secs = args.timeout.secs();
    let mut checks: Vec<CheckEntry> = got
        .into_iter()
        .zip(pending)
        .map(|(entry, (name, command))| {
            entry.unwrap_or_else(|| {
                let why = if gone {
                    format!("{name} check stopped without a result")
                } else {
                    format!("{name} check did not finish within {secs}s (--timeout): abandoned")
                };
                CheckEntry::unknown(name, command, why)
            })
        })
        .collect();
    checks.sort_by_key(|c| std::cmp::Reverse(c.status.rank()));
    CheckReport {
        status: Status::worst_of(checks.iter().map(|c| c.status)),
        timeout: secs,
        checks,
    }
}

/// A check whose thread could not even be started is UNKNOWN with the reason.
fn tx_failed(
    tx: &mpsc::Sender<(usize, CheckEntry)>,
    i: usize,
    name: &'static str,
    command: &str,
    e: io::Error,
) {
    let why = format!("{name} check could not start: {e}");
    let _ = tx.send((i, CheckEntry::unknown(name, command, why)));
}

/// A command's options exactly as its own defaults set them, so `check` judges as the command does.
fn defaults<T: clap::Args + clap::FromArgMatches>() -> T {
    let cmd = T::augment_args(clap::Command::new("check").no_binary_name(true));
    let matches = cmd.get_matches_from(std::iter::empty::<String>());
    T::from_arg_matches(&matches).expect("command defaults are valid")
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
        // Each check's perfdata, its skip count included (already gathered by `from_report`).
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
