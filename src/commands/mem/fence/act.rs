//! `toolkit mem fence PID`: the fence of `plan` applied. Each step is inspected first (already
//! right, or what it would change), the plan shown and confirmed, the pid's start time checked
//! again, and only then changed: a record of the inverse steps is written first (for `--undo`),
//! every file's old content is journaled (`safeops::journal`) just before it is replaced, and the
//! steps run in order. A second run finds every step already done.
//!
//! Under a fake root the cgroup files are plain files: they are written through the safe
//! operations with the kernel's semantics (a pid written to `cgroup.procs` leaves its old cgroup,
//! `+memory` is added to `cgroup.subtree_control`, a new cgroup gets its interface files), and no
//! program runs: a `systemctl` step writes the files systemd would set. On the live root the files
//! are cgroupfs files, written in place, and `systemctl`/`prlimit` run. `--undo` (`undo.rs`) replays
//! the record backwards the same way (the journal's own undo restores by renaming a new file over
//! the old, which cgroupfs does not allow, so the record holds the inverse steps).

use super::backend::Cgroupfs;
use super::inspect::{inspect, Inspect};
use super::record::{begin_journal, Record, Records, STATE};
use super::render::{Done, FenceReport, Outcome};
use super::{host, plan, Fence, Host, Method, Sizes, Step, Target};
use crate::cli::MemFenceArgs;
use crate::commands::output;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::readers::memory::read_meminfo;
use crate::readers::proc::{read_cmdline, read_record, read_stat, ProcError};
use crate::readers::procmem;
use crate::readers::service::systemd_host;
use crate::root::Root;
use crate::status::Status;
use crate::ui::Approval;

/// The process as read now, its cgroups and the host's controller.
pub fn read_target(root: &Root, pid: i32) -> Result<(Target, Host)> {
    let unreadable = |e: ProcError| match e {
        ProcError::Vanished => Error::Usage(format!(
            "no process {pid} under {}",
            root.display(&root.proc())
        )),
        ProcError::Unreadable { path, reason } | ProcError::Malformed { path, reason } => {
            Error::malformed(path, None, reason)
        }
    };
    let record = read_record(&root.proc(), pid).map_err(unreadable)?;
    let p = procmem::from_record(&record)
        .map_err(unreadable)?
        .ok_or_else(|| {
            Error::Refused(format!(
                "process {pid} holds no user memory (a kernel thread, a zombie or exiting)"
            ))
        })?;
    let dir = &record.dir;
    let cgroups = record.cgroup.clone().unwrap_or_default();
    let memory = host::controller(root, &cgroups);
    let (cgroup, usage) = match &memory {
        Ok((c, path)) => (Some(path.clone()), host::usage(root, c, path)),
        Err(_) => (cgroups.v2.clone().or(cgroups.v1_memory.clone()), None),
    };
    let target = Target {
        pid,
        start: p.starttime,
        comm: p.comm,
        rss: p.rss,
        swap: p.swap,
        vsize: p.vsize,
        cmdline: read_cmdline(dir),
        cgroup,
        usage,
    };
    let host = Host {
        systemd: systemd_host(root),
        memory: memory.map(|(c, _)| c),
    };
    Ok((target, host))
}

/// The start time of `pid` now (`None`: gone, or unreadable).
pub(super) fn start_now(root: &Root, pid: i32) -> Option<u64> {
    read_stat(&root.proc(), pid).ok().map(|s| s.starttime)
}

/// The pid is still the process planned for (a reused pid is another program).
pub(super) fn same_process(planned_start: u64, start_now: Option<u64>) -> bool {
    start_now == Some(planned_start)
}

/// What a fixing run does once its plan is inspected, before anything is asked or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Gate {
    /// Nothing to change, or a dry run: the plan is the report.
    Show,
    /// The plan is shown on the terminal and a question asked.
    Ask,
    /// `--yes`: straight on.
    Apply,
}

pub(super) fn gate(anything_to_change: bool, approval: Approval) -> Gate {
    match approval {
        _ if !anything_to_change => Gate::Show,
        Approval::DryRun => Gate::Show,
        Approval::Ask => Gate::Ask,
        Approval::Granted => Gate::Apply,
    }
}

/// The sizes asked for on the command line; the soft limit may not exceed the hard one.
pub(super) fn asked_sizes(args: &MemFenceArgs) -> Result<Sizes> {
    let sizes = Sizes {
        high: args.high.map(|s| s.0),
        max: args.max.map(|s| s.0),
    };
    if let (Some(h), Some(m)) = (sizes.high, sizes.max) {
        if h > m {
            return Err(Error::Usage(format!(
                "--high {h} is above --max {m}: the soft limit must not exceed the hard one"
            )));
        }
    }
    Ok(sizes)
}

pub(super) fn refuse_init(pid: i32) -> Result<()> {
    if pid == 1 {
        // Limiting init limits everything it starts and can take the whole box down with it.
        return Err(Error::Usage(
            "pid 1 is init: fencing it in would fence in the whole system; fence the service \
             that grows instead"
                .into(),
        ));
    }
    Ok(())
}

/// Under a fake root a `prlimit` has nothing to change and nothing to undo: it is only shown.
pub(super) fn only_shown(live: bool, method: Method) -> bool {
    !live && method == Method::Prlimit
}

/// Each step of the fence as it stands now (`explicit`: sizes were asked for, so an existing
/// limit is replaced).
fn inspect_steps(fs: &Cgroupfs, fence: &Fence, explicit: bool) -> Vec<(Step, Inspect)> {
    fence
        .steps
        .iter()
        .map(|s| (s.clone(), inspect(fs, s, explicit)))
        .collect()
}

/// The steps as they would be done.
pub(super) fn planned(mount: &str, inspected: &[(Step, Inspect)]) -> Vec<Done> {
    inspected.iter().map(|(s, i)| i.done(mount, s)).collect()
}

/// The needed steps applied in order by `apply`, the others shown as they stand. After a failure
/// nothing more is tried: a limit without the move (or a move without its limits) is not what was
/// planned.
pub(super) fn apply_in_order(
    mount: &str,
    inspected: &[(Step, Inspect)],
    mut apply: impl FnMut(&Step) -> std::result::Result<Outcome, String>,
) -> Vec<Done> {
    let mut failed = false;
    let mut steps = Vec::with_capacity(inspected.len());
    for (step, i) in inspected {
        let mut d = i.done(mount, step);
        if i.needed && failed {
            d.outcome = Outcome::Refused;
            d.note = "not tried: an earlier step failed".into();
        } else if i.needed {
            match apply(step) {
                Ok(outcome) => d.outcome = outcome,
                Err(e) => {
                    d.outcome = Outcome::Failed;
                    d.note = e;
                    failed = true;
                }
            }
        }
        steps.push(d);
    }
    steps
}

pub fn run(ctx: &Context, args: &MemFenceArgs) -> Result<Status> {
    let sizes = asked_sizes(args)?;
    if args.undo {
        return super::undo::undo(ctx, args.pid);
    }
    refuse_init(args.pid)?;
    let root = &ctx.root;
    let (target, host) = read_target(root, args.pid)?;
    let meminfo = read_meminfo(&root.join("proc/meminfo"))?;
    let fence = plan(&target, meminfo.total, &host, sizes);
    let fs = Cgroupfs::new(root, fence.controller.as_ref());
    let explicit = sizes.high.is_some() || sizes.max.is_some();
    let inspected = inspect_steps(&fs, &fence, explicit);
    let mut report = FenceReport::new(ctx, &fence, false);
    let approval = Approval::decide(ctx)?;
    let pending = inspected.iter().any(|(_, i)| i.needed);
    match gate(pending, approval) {
        Gate::Show => {
            report.steps = planned(fence.mount(), &inspected);
            return output(ctx, &report.finish());
        }
        Gate::Ask => {
            if !confirm(ctx, &mut report, &fence, &inspected)? {
                return output(ctx, &report.finish());
            }
        }
        Gate::Apply => {}
    }
    if !same_process(target.start, start_now(root, target.pid)) {
        return Err(Error::Refused(format!(
            "process {} is gone or its pid now belongs to another process (start time changed): \
             nothing changed",
            target.pid
        )));
    }
    if only_shown(root.is_live(), fence.method) {
        report.steps = planned(fence.mount(), &inspected)
            .into_iter()
            .map(|d| Done {
                outcome: Outcome::NotRun,
                ..d
            })
            .collect();
        return output(ctx, &report.finish());
    }
    apply(ctx, report, &target, &fence, &fs, &inspected)
}

/// Shows the plan on the terminal and asks; declined, the report holds the plan unchanged.
fn confirm(
    ctx: &Context,
    report: &mut FenceReport,
    fence: &Fence,
    inspected: &[(Step, Inspect)],
) -> Result<bool> {
    let plan = planned(fence.mount(), inspected);
    report.print_plan(&ctx.style, &plan);
    let yes = Approval::Ask.confirm(&format!(
        "Fence in {} (pid {})?",
        crate::render::text::printable(&fence.comm),
        fence.pid
    ))?;
    if !yes {
        report.declined = true;
        report.steps = plan;
    }
    Ok(yes)
}

/// The record of the inverse steps first, then a journal, then the steps in order.
fn apply(
    ctx: &Context,
    mut report: FenceReport,
    target: &Target,
    fence: &Fence,
    fs: &Cgroupfs,
    inspected: &[(Step, Inspect)],
) -> Result<Status> {
    let root = &ctx.root;
    let now = root.now_unix().unwrap_or(0);
    let record = Record::of(target, fence, inspected, now);
    let name = Records::open(root)?.write(&record)?;
    let mut journal = begin_journal(root, &format!("pid-{}", target.pid), now)?;
    report.steps = apply_in_order(fence.mount(), inspected, |s| fs.apply(s, &mut journal));
    report.record = Some(format!(
        "{}/records/{name}",
        root.display(&root.join(STATE))
    ));
    output(ctx, &report.finish())
}
