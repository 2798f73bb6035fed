//! Reading for `mem verdict`: one or two readings of `vmstat` and the processes, then the system
//! files once. Everything under the root.
//!
//! On the live system the readings are `--interval` apart. A fake root is a snapshot and cannot
//! change while we wait, so nothing is waited for: the earlier reading comes from `ROOT/proc.before`
//! (its `vmstat`, `uptime` and PID directories) when the fixture has one, the elapsed time from the
//! two `uptime` files; without it the rates are reported as not measured rather than as zero.

use super::report::Inputs;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::readers::memory::{read_meminfo, read_psi, read_slabinfo, read_vmstat_if_any, Vmstat};
use crate::readers::proc::host::read_uptime;
use crate::readers::procmem::{self, ProcMem};
use crate::readers::procs::Skips;
use crate::root::{Root, SysInfo};
use crate::ui::Progress;
use std::path::Path;
use std::time::Instant;

struct Reading {
    /// Why there is none when `vmstat` is missing or empty.
    vmstat: std::result::Result<Vmstat, String>,
    procs: Vec<ProcMem>,
    skips: Skips,
}

fn reading(root: &Root, proc_dir: &Path) -> Result<Reading> {
    let path = proc_dir.join("vmstat");
    let shown = path
        .strip_prefix(root.path())
        .unwrap_or(&path)
        .display()
        .to_string();
    let vmstat = read_vmstat_if_any(&path, &shown)?;
    let (procs, skips) = procmem::read_all(root, proc_dir)?;
    Ok(Reading {
        vmstat,
        procs,
        skips,
    })
}

/// The earlier reading and the seconds between it and now, or why there is none.
fn earlier(
    ctx: &Context,
    interval: u64,
    sys: &SysInfo,
) -> Result<std::result::Result<(Reading, f64), String>> {
    let root = &ctx.root;
    if interval == 0 {
        return Ok(Err(
            "rates (swap-in/out, page scans, faults, growth): --interval 0 takes one reading; \
             PSI stands in"
                .into(),
        ));
    }
    if root.is_live() {
        let start = Instant::now();
        let first = reading(root, &root.proc())?;
        let spinner = Progress::spinner(ctx, &format!("sampling memory for {interval}s"));
        std::thread::sleep(std::time::Duration::from_secs(interval));
        spinner.finish();
        return Ok(Ok((first, start.elapsed().as_secs_f64())));
    }
    let before = root.join("proc.before");
    if !before.is_dir() {
        return Ok(Err(
            "rates (swap-in/out, page scans, faults, growth): a fake root is one snapshot \
             (no proc.before to compare with)"
                .into(),
        ));
    }
    let up_path = before.join("uptime");
    let elapsed = sys.uptime - read_uptime(&up_path)?;
    if elapsed <= 0.0 {
        return Err(Error::malformed(
            &up_path,
            Some(1),
            "uptime not earlier than proc/uptime",
        ));
    }
    Ok(Ok((reading(root, &before)?, elapsed)))
}

/// The inputs of the verdict, and the clocks they were read with (for the history's comparison).
pub fn read(ctx: &Context, interval: u64) -> Result<(Inputs, SysInfo)> {
    let root = &ctx.root;
    let sys = root.sys()?;
    let first = earlier(ctx, interval, &sys)?;
    let now = reading(root, &root.proc())?;
    let meminfo = read_meminfo(&root.join("proc/meminfo"))?;
    let psi_path = root.join("proc/pressure/memory");
    let psi = read_psi(&psi_path)?;
    let psi_note = (psi.is_none() && psi_path.is_file())
        .then(|| "memory pressure: proc/pressure/memory is empty (treated as missing)".to_string());
    let slab = read_slabinfo(&root.join("proc/slabinfo"), sys.page_size, 8);
    let (rates, rates_note, before) = match first {
        Ok((r, secs)) => match (&r.vmstat, &now.vmstat) {
            (Ok(a), Ok(b)) => (Some(super::judge::rates(a, b, secs)), None, Some(r.procs)),
            (Err(why), _) | (_, Err(why)) => (
                None,
                Some(format!("rates (swap-in/out, page scans, faults): {why}")),
                Some(r.procs),
            ),
        },
        Err(note) => (None, Some(note), None),
    };
    let (rates_note, oom_kills_since_boot) = match &now.vmstat {
        Ok(v) => (rates_note, v.oom_kill),
        Err(why) if rates_note.is_none() => (Some(format!("rates and OOM kills: {why}")), None),
        Err(why) => (
            rates_note.map(|n| {
                if n.contains(why.as_str()) {
                    n.replace("faults)", "faults) and OOM kills")
                } else {
                    format!("{n}; OOM kills: {why}")
                }
            }),
            None,
        ),
    };
    // Names for the uids seen; without an etc/passwd under the root they stay numbers.
    let users = crate::readers::users::UserDb::open(root).ok();
    let user_names = now
        .procs
        .iter()
        .filter_map(|p| p.uid)
        .map(|u| {
            (
                u,
                users.as_ref().map_or(u.to_string(), |db| db.user_name(u)),
            )
        })
        .collect();
    let inputs = Inputs {
        user_names,
        figures: super::judge::figures(&meminfo),
        rates,
        rates_note,
        psi,
        oom_kills_since_boot,
        psi_note,
        procs: now.procs,
        before,
        slab,
        skips: now.skips,
        history: None,
        history_reasons: Vec::new(),
    };
    Ok((inputs, sys))
}
