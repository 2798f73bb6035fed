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
//! are cgroupfs files, written in place, and `systemctl`/`prlimit` run. `--undo` replays the record
//! backwards the same way (the journal's own undo restores by renaming a new file over the old,
//! which cgroupfs does not allow, so the record holds the inverse steps).

use super::backend::Cgroupfs;
use super::inspect::{inspect, Inspect};
use super::render::{Done, FenceReport, Outcome};
use super::{host, plan, Host, Method, Sizes, Step, Target, Version};
use crate::cli::MemFenceArgs;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::readers::memory::read_meminfo;
use crate::readers::proc::{read_cmdline, read_record, read_stat, ProcError};
use crate::readers::procmem;
use crate::readers::service::systemd_host;
use crate::root::Root;
use crate::safeops::journal::Journal;
use crate::safeops::Dir;
use crate::status::Status;
use crate::ui::Approval;
use serde::{Deserialize, Serialize};
use std::ffi::OsStr;

/// Records and journals, outside every cgroup and site tree.
const STATE: &str = "var/lib/toolkit/mem-fence";

/// What `--undo` replays: the inverse steps of one applied fence, in the order to run them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub pid: i32,
    pub start: u64,
    pub comm: String,
    pub method: Method,
    /// The controller's mount point as the host names it.
    pub mount: String,
    pub version: Option<Version>,
    pub at: u64,
    pub undo: Vec<Step>,
}

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

fn start_now(root: &Root, pid: i32) -> Option<u64> {
    read_stat(&root.proc(), pid).ok().map(|s| s.starttime)
}

fn state_dir(root: &Root, sub: &[&str]) -> std::result::Result<Dir, String> {
    let mut dir = Dir::open_trusted(root.path()).map_err(|e| e.to_string())?;
    for part in STATE.split('/').chain(sub.iter().copied()) {
        dir = dir
            .ensure_dir(OsStr::new(part), 0o700)
            .map_err(|e| e.to_string())?;
    }
    Ok(dir)
}

pub fn run(ctx: &Context, args: &MemFenceArgs) -> Result<Status> {
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
    if args.undo {
        return undo(ctx, args.pid);
    }
    if args.pid == 1 {
        // Limiting init limits everything it starts and can take the whole box down with it.
        return Err(Error::Usage(
            "pid 1 is init: fencing it in would fence in the whole system; fence the service \
             that grows instead"
                .into(),
        ));
    }
    let root = &ctx.root;
    let (target, host) = read_target(root, args.pid)?;
    let meminfo = read_meminfo(&root.join("proc/meminfo"))?;
    let fence = plan(&target, meminfo.total, &host, sizes);
    let explicit = sizes.high.is_some() || sizes.max.is_some();
    let fs = Cgroupfs::new(root, fence.controller.as_ref());
    let inspected: Vec<(Step, Inspect)> = fence
        .steps
        .iter()
        .map(|s| (s.clone(), inspect(&fs, s, explicit)))
        .collect();
    let pending = inspected.iter().filter(|(_, i)| i.needed).count();
    let mut report = FenceReport::new(ctx, &fence, false);
    let approval = Approval::decide(ctx)?;
    if pending == 0 || approval == Approval::DryRun {
        report.steps = inspected.iter().map(|(s, i)| i.done(&fence, s)).collect();
        return super::super::super::output(ctx, &report.finish());
    }
    if approval == Approval::Ask {
        report.print_plan(
            &ctx.style,
            &inspected
                .iter()
                .map(|(s, i)| i.done(&fence, s))
                .collect::<Vec<_>>(),
        );
        if !approval.confirm(&format!(
            "Fence in {} (pid {})?",
            crate::render::text::printable(&fence.comm),
            fence.pid
        ))? {
            report.declined = true;
            report.steps = inspected.iter().map(|(s, i)| i.done(&fence, s)).collect();
            return super::super::super::output(ctx, &report.finish());
        }
    }
    // The pid must still be the process planned for: a reused pid is another program.
    if start_now(root, target.pid) != Some(target.start) {
        return Err(Error::Refused(format!(
            "process {} is gone or its pid now belongs to another process (start time changed): \
             nothing changed",
            target.pid
        )));
    }
    if !root.is_live() && fence.method == Method::Prlimit {
        // Nothing under a fake root to change or to undo: the program is only shown.
        report.steps = inspected
            .iter()
            .map(|(s, i)| Done {
                outcome: Outcome::NotRun,
                ..i.done(&fence, s)
            })
            .collect();
        return super::super::super::output(ctx, &report.finish());
    }
    let now = root.now_unix().unwrap_or(0);
    let record = Record {
        pid: target.pid,
        start: target.start,
        comm: target.comm.clone(),
        method: fence.method,
        mount: fence
            .controller
            .as_ref()
            .map(|c| c.mount.clone())
            .unwrap_or_default(),
        version: fence.controller.as_ref().map(|c| c.version),
        at: now,
        undo: inspected
            .iter()
            .rev()
            .filter(|(_, i)| i.needed)
            .filter_map(|(_, i)| i.inverse.clone())
            .collect(),
    };
    let records =
        state_dir(root, &["records"]).map_err(|e| Error::Refused(format!("record: {e}")))?;
    let name = format!(
        "{}-{}-{now}-{}.json",
        target.pid,
        target.start,
        std::process::id()
    );
    let json = serde_json::to_vec_pretty(&record).expect("records serialize");
    records
        .create_exclusive(OsStr::new(&name), &json, 0, 0, 0o600)
        .map_err(|e| Error::Refused(format!("record: {e}")))?;
    let journals =
        state_dir(root, &["journal"]).map_err(|e| Error::Refused(format!("journal: {e}")))?;
    let mut journal = Journal::begin(&journals, &format!("pid-{}", target.pid), now)
        .map_err(|e| Error::Refused(format!("journal: {e}")))?;
    let mut failed = false;
    for (step, i) in &inspected {
        if !i.needed || failed {
            let mut d = i.done(&fence, step);
            if failed && i.needed {
                d.outcome = Outcome::Refused;
                d.note = "not tried: an earlier step failed".into();
            }
            report.steps.push(d);
            continue;
        }
        let result = fs.apply(step, &mut journal);
        let mut d = i.done(&fence, step);
        match result {
            Ok(outcome) => d.outcome = outcome,
            Err(e) => {
                d.outcome = Outcome::Failed;
                d.note = e;
                failed = true;
            }
        }
        report.steps.push(d);
    }
    report.record = Some(format!(
        "{}/records/{name}",
        root.display(&root.join(STATE))
    ));
    super::super::super::output(ctx, &report.finish())
}

/// `mem fence PID --undo`: replays the records of the fences applied to PID, newest first.
fn undo(ctx: &Context, pid: i32) -> Result<Status> {
    let root = &ctx.root;
    let records =
        state_dir(root, &["records"]).map_err(|e| Error::Refused(format!("record: {e}")))?;
    let names = records
        .names()
        .map_err(|e| Error::Refused(format!("record: {e}")))?;
    let prefix = format!("{pid}-");
    let mut mine: Vec<(std::ffi::OsString, Record)> = Vec::new();
    for n in names {
        let s = n.to_string_lossy();
        if !s.starts_with(&prefix) || !s.ends_with(".json") {
            continue;
        }
        let bytes = records
            .read(&n)
            .map_err(|e| Error::Refused(format!("record: {e}")))?;
        let r: Record = serde_json::from_slice(&bytes).map_err(|e| {
            Error::malformed(
                records.path().join(&n),
                None,
                format!("not a fence record: {e}"),
            )
        })?;
        mine.push((n, r));
    }
    mine.sort_by_key(|(_, r)| std::cmp::Reverse(r.at));
    let approval = Approval::decide(ctx)?;
    let mut report = FenceReport::undo(ctx, pid);
    if mine.is_empty() {
        report.note = format!("no fence of pid {pid} recorded (nothing to undo)");
        return super::super::super::output(ctx, &report.finish());
    }
    let same_process = |r: &Record| start_now(root, r.pid) == Some(r.start);
    let plan_lines: Vec<Done> = mine
        .iter()
        .flat_map(|(_, r)| {
            r.undo.iter().map(move |s| Done {
                command: s.command(&r.mount),
                outcome: Outcome::WouldChange,
                note: String::new(),
            })
        })
        .collect();
    if approval == Approval::DryRun {
        report.steps = plan_lines;
        return super::super::super::output(ctx, &report.finish());
    }
    if approval == Approval::Ask {
        report.print_plan(&ctx.style, &plan_lines);
        if !approval.confirm(&format!("Lift the fence of pid {pid}?"))? {
            report.declined = true;
            report.steps = plan_lines;
            return super::super::super::output(ctx, &report.finish());
        }
    }
    let journals =
        state_dir(root, &["journal"]).map_err(|e| Error::Refused(format!("journal: {e}")))?;
    let now = root.now_unix().unwrap_or(0);
    let mut journal = Journal::begin(&journals, &format!("pid-{pid}-undo"), now)
        .map_err(|e| Error::Refused(format!("journal: {e}")))?;
    for (name, r) in &mine {
        let controller = r.version.map(|version| super::Controller {
            version,
            mount: r.mount.clone(),
            swap_accounting: false,
            procs_file: super::ProcsFile::CgroupProcs,
            subtree_memory: true,
        });
        let fs = Cgroupfs::new(root, controller.as_ref());
        let alive = same_process(r);
        let mut clean = true;
        for s in &r.undo {
            let mut d = Done {
                command: s.command(&r.mount),
                outcome: Outcome::Ok,
                note: String::new(),
            };
            // Moving a pid back, or raising its rlimit, is for the same process only.
            let per_process = matches!(s, Step::Move { .. }) || r.method == Method::Prlimit;
            if per_process && !alive {
                d.note = "the process is gone (or its pid reused): nothing to move back".into();
                report.steps.push(d);
                continue;
            }
            let i = inspect(&fs, s, true);
            if !i.needed {
                d.note = i.note;
                report.steps.push(d);
                continue;
            }
            match fs.apply(s, &mut journal) {
                Ok(o) => d.outcome = o,
                Err(e) => {
                    d.outcome = Outcome::Failed;
                    d.note = e;
                    clean = false;
                }
            }
            report.steps.push(d);
        }
        if clean {
            let mut done = name.clone();
            done.push(".undone");
            records
                .rename(name, &done)
                .map_err(|e| Error::Refused(format!("record: {e}")))?;
        }
    }
    super::super::super::output(ctx, &report.finish())
}
