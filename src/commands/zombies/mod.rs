//! `toolkit zombies`: who is not reaping their children, why, and exactly what to restart.
//!
//! Read (process table, then details only for the parents and stuck processes that matter), judge
//! (pure, in `judge`), render (`render`), and act for `--reap`/`--restart` (`act`).

mod act;
mod adopter;
mod diagnose;
mod figures;
pub mod host;
pub mod judge;
mod plan;
mod render;
pub mod service;

use crate::cli::ZombiesArgs;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::readers::procs::{read_detail, read_table, Detail, ProcError, ProcTable, Skips};
use crate::readers::users::UserDb;
use crate::root::SysInfo;
use crate::status::Status;
pub use judge::{Options, ProcInfo, ZombiesReport};
use std::collections::HashMap;

impl Options {
    pub fn from_args(args: &ZombiesArgs) -> Options {
        Options {
            min_age: args.min_age.secs(),
            parent: args.parent,
            all: args.all,
            warning: args.thresholds.warning.clone(),
            critical: args.thresholds.critical.clone(),
        }
    }
}

pub fn run(ctx: &Context, args: &ZombiesArgs) -> Result<Status> {
    let opts = Options::from_args(args);
    if let Some(pid) = opts.parent {
        // "OK no zombies" about a process that is not there would answer another question.
        if !ctx.root.proc().join(pid.to_string()).is_dir() {
            return Err(Error::Usage(format!(
                "--parent {pid}: no such process (no {})",
                ctx.root.proc().join(pid.to_string()).display()
            )));
        }
    }
    let report = scan(ctx, &opts)?;
    if args.reap || args.restart {
        return act::run(ctx, &opts, report, args.restart);
    }
    super::output(ctx, &report)
}

/// Reads the root and judges.
pub fn scan(ctx: &Context, opts: &Options) -> Result<ZombiesReport> {
    let sys = ctx.root.sys()?;
    let table = read_table(&ctx.root)?;
    let mut report = judge_table(ctx, opts, &table, &sys);
    // Hidden processes are not counted one by one (they are not even listed): one skip says why.
    if let Some(why) = crate::readers::hidepid::hidden_from_reader(&ctx.root) {
        report.skipped.add_unreadable_shown("/proc", &why);
    }
    // Damaged process files are reported, not blinding; but when not one process could be parsed,
    // "no zombies" would be said of nothing.
    if table.procs.is_empty() && report.skipped.count > 0 {
        let why = format!(
            "none of its {} processes could be parsed",
            report.skipped.count
        );
        report.skipped.add_unreadable_shown("/proc", &why);
    }
    report.status = report.status.when_blind(report.skipped.blind());
    Ok(report)
}

impl ProcInfo {
    fn from_detail(d: Detail) -> ProcInfo {
        ProcInfo {
            caught: d.status.sigcgt,
            ignored: d.status.sigign,
            blocked: d.status.sigblk,
            nspid: d.status.nspid.unwrap_or_default(),
            cgroup: d.cgroup,
            wchan: d.wchan,
            cmdline: d.cmdline,
        }
    }
}

pub fn judge_table(
    ctx: &Context,
    opts: &Options,
    table: &ProcTable,
    sys: &SysInfo,
) -> ZombiesReport {
    let root = &ctx.root;
    let parents = judge::parents_of_interest(table, sys, opts);
    let stuck = judge::stuck_of_interest(table, sys, opts);
    // Ancestors (and PID 1) are read too: they are the candidates for adopting the zombies.
    let mut ancestors = judge::ancestors_of(table, &parents);
    ancestors.push(1);
    let mut info: HashMap<i32, ProcInfo> = HashMap::new();
    let mut services = HashMap::new();
    let mut skips = Skips::default();
    let wanted: Vec<i32> = parents
        .iter()
        .chain(stuck.iter())
        .chain(ancestors.iter())
        .copied()
        .collect();
    for &pid in &wanted {
        // Already counted when the table was read: reading it again would count it twice.
        if info.contains_key(&pid)
            || table.skips.unreadable_pids.contains(&pid)
            || skips.unreadable_pids.contains(&pid)
            || table.get(pid).is_none() && !parents.contains(&pid)
        {
            continue;
        }
        match read_detail(table, pid) {
            Ok(d) => {
                info.insert(pid, ProcInfo::from_detail(d));
            }
            // A parent that exited is reported as such by the judgement; nothing to count.
            Err(ProcError::Vanished) if parents.contains(&pid) => {}
            Err(e) => skips.record(root, pid, e),
        }
    }
    let pid1 = table.get(1).map(|p| p.comm.as_str());
    let host = host::judge(&host::HostFiles::read(root), pid1);
    // Names are only needed for user-manager units; the database is opened lazily for them.
    let users = std::cell::OnceCell::new();
    let user_name = |uid: u32| -> String {
        users
            .get_or_init(|| UserDb::open(root).ok())
            .as_ref()
            .map(|db: &UserDb| db.user_name(uid))
            .unwrap_or_else(|| uid.to_string())
    };
    for &pid in &parents {
        if let (Some(p), Some(i)) = (table.get(pid), info.get(&pid)) {
            let facts =
                service::gather(root, table, p, i.cgroup.as_deref(), host.systemd, user_name);
            services.insert(pid, facts);
        }
    }
    let facts = judge::Facts {
        table,
        sys: *sys,
        host,
        info: &info,
        services: &services,
        skips,
    };
    judge::judge(&facts, opts)
}

#[cfg(test)]
mod judge_tests;
#[cfg(test)]
mod tests;
