//! `toolkit mem verdict`: is memory and swap healthy, who is eating it, and what to do.
//!
//! Read (`read`: vmstat and processes once or twice, then meminfo, PSI and slabinfo), judge
//! (`judge`, `fence`: pure), assemble (`report`) and render (`render`). Never changes anything;
//! `mem fence` (in `fence::act`) applies the fence the verdict prints.

pub mod fence;
pub mod figures;
pub mod groups;
pub mod history;
pub mod judge;
mod metrics;
mod read;
pub mod reason;
pub mod render;
pub mod report;
#[cfg(test)]
pub(crate) mod tests;
pub mod thresholds;

use crate::cli::{MemArgs, MemCommand, MemVerdictArgs};
use crate::context::Context;
use crate::error::Result;
use crate::status::Status;
pub use report::MemReport;
pub use thresholds::Thresholds;

#[derive(Debug, Clone)]
pub struct Options {
    /// Seconds between the two readings (0: one reading).
    pub interval: u64,
    pub top: usize,
    pub thresholds: Thresholds,
    /// The history file given with `--history` (else the default under the root).
    pub history: Option<std::path::PathBuf>,
}

impl Options {
    pub fn from_args(args: &MemVerdictArgs) -> Options {
        Options {
            interval: args.interval.secs(),
            top: args.top,
            history: args.history.clone(),
            thresholds: Thresholds::from_args(args),
        }
    }
}

pub fn run(ctx: &Context, args: &MemArgs) -> Result<Status> {
    match &args.command {
        MemCommand::Verdict(v) => {
            let report = verdict(ctx, &Options::from_args(v))?;
            super::output(ctx, &report)
        }
        MemCommand::Record(r) => {
            let schedule = history::record::Schedule {
                every: r.every.map(|d| d.secs()),
                until: r.for_.map(|d| d.secs()),
            };
            history::record::run(ctx, &history::path(ctx, r.history.as_deref()), schedule)
        }
        MemCommand::Fence(f) => fence::act::run(ctx, f),
        MemCommand::Report(r) => {
            let path = history::path(ctx, r.history.as_deref());
            let report = history::report(&path, r.svg.as_deref())?;
            if report.svg.as_deref() == Some("-") {
                let mut out = std::io::stdout().lock();
                std::io::Write::write_all(
                    &mut out,
                    history::svg::document(&report.charts).as_bytes(),
                )
                .map_err(crate::error::Error::Output)?;
                std::io::Write::flush(&mut out).map_err(crate::error::Error::Output)?;
                return Ok(report.status);
            }
            super::output(ctx, &report)
        }
    }
}

/// Reads the root and judges.
pub fn verdict(ctx: &Context, opts: &Options) -> Result<MemReport> {
    let (mut inputs, sys) = read::read(ctx, opts.interval)?;
    let path = history::path(ctx, opts.history.as_deref());
    if let Some(h) = history::scan::summarize(&path)? {
        let now = history::sample::Host::read(&ctx.root, &sys);
        let available = inputs.figures.available;
        let f = history::findings::judge(
            &h,
            &now,
            available,
            &inputs.procs,
            inputs.oom_kills_since_boot,
        );
        inputs.history_reasons = history::findings::reasons(&f, &opts.thresholds.leak, available);
        inputs.history = Some(f);
    }
    let mut report = report::assemble(inputs, &opts.thresholds, opts.top);
    if let Some(pid) = report.fence_candidate().map(|p| p.pid) {
        // The process may have exited since it was read: then there is nothing to fence.
        if let Ok((target, host)) = fence::act::read_target(&ctx.root, pid) {
            report.fence = Some(fence::plan(
                &target,
                report.memory.total,
                &host,
                fence::Sizes::default(),
            ));
        }
    }
    Ok(report)
}
