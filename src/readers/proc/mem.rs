//! Per-process memory: one light entry per process from its record (`stat`, the memory lines of
//! `status`, `cgroup`).
//!
//! Deliberately no `smaps` (or `smaps_rollup`): walking every process's mappings is what a thrashing
//! box cannot afford, and the kernel's own counters in `status` say what the verdict needs. Kernel
//! threads and zombies hold no user memory and are left out without being counted as skipped.

use super::{list_pids, read_record, ProcError, Record, Skips};
use crate::error::Result;
use crate::root::Root;
use serde::Serialize;
use std::path::Path;

/// PF_KTHREAD in the `flags` field of `stat`.
const PF_KTHREAD: u32 = 0x0020_0000;

/// What the verdict knows about one process's memory. Sizes in bytes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcMem {
    pub pid: i32,
    /// Start time in clock ticks after boot: with the pid, the identity used to match two readings.
    #[serde(skip)]
    pub starttime: u64,
    pub comm: String,
    /// Resident set size (VmRSS).
    pub rss: u64,
    /// Anonymous resident memory (RssAnon, kernels 4.5+), the part a leak grows.
    pub anon: Option<u64>,
    /// Virtual size (VmSize).
    pub vsize: u64,
    /// Peak resident set size (VmHWM).
    pub peak: u64,
    /// Swapped-out anonymous memory (VmSwap).
    pub swap: u64,
    /// Major page faults since the process started.
    pub major_faults: u64,
    /// Real user id (`Uid:` in `status`).
    pub uid: Option<u32>,
    /// Its cgroup (the v2 path, else the v1 systemd one), when readable: the unit it belongs to.
    pub cgroup: Option<String>,
}

impl ProcMem {
    /// Change of resident size since an earlier reading of the same process (same pid and start
    /// time), saturating at the bounds of `i64` (the sizes are the kernel's, or a fake root's,
    /// and may be anything); `None` when the earlier reading is of another process.
    pub fn rss_growth_since(&self, before: &ProcMem) -> Option<i64> {
        (self.pid == before.pid && self.starttime == before.starttime)
            .then(|| signed_change(before.rss, self.rss))
    }
}

/// `after - before` as a signed figure, saturating instead of wrapping.
fn signed_change(before: u64, after: u64) -> i64 {
    if after >= before {
        i64::try_from(after - before).unwrap_or(i64::MAX)
    } else {
        i64::try_from(before - after).map_or(i64::MIN, |d| -d)
    }
}

/// Reads every process under `proc_dir` (the root's `proc`, or a fake root's earlier snapshot).
/// Vanished and unreadable processes are counted in `Skips`; only an unlistable directory fails.
pub fn read_all(root: &Root, proc_dir: &Path) -> Result<(Vec<ProcMem>, Skips)> {
    let pids = list_pids(proc_dir)?;
    let mut procs = Vec::with_capacity(pids.len());
    let mut skips = Skips::default();
    // On the live system the toolkit would list itself among the consumers it is judging.
    let me = root.is_live().then(|| std::process::id() as i32);
    for pid in pids.into_iter().filter(|&p| Some(p) != me) {
        match read_one(proc_dir, pid) {
            Ok(Some(p)) => procs.push(p),
            Ok(None) => {}
            Err(e) => skips.record(root, pid, e),
        }
    }
    procs.sort_by_key(|p| p.pid);
    Ok((procs, skips))
}

/// One process's memory; `Ok(None)` for a kernel thread, a zombie or an exiting process.
pub fn read_one(proc_dir: &Path, pid: i32) -> std::result::Result<Option<ProcMem>, ProcError> {
    from_record(&read_record(proc_dir, pid)?)
}

/// The memory view of a record already read; `Ok(None)` as for [`read_one`].
pub fn from_record(r: &Record) -> std::result::Result<Option<ProcMem>, ProcError> {
    let pid = r.pid();
    let stat = &r.stat;
    if stat.flags & PF_KTHREAD != 0 || matches!(stat.state, 'Z' | 'X' | 'x') {
        return Ok(None);
    }
    let status = r.status.as_ref().map_err(Clone::clone)?;
    let vm = match &status.vm {
        Ok(Some(vm)) => vm,
        // A user process without Vm lines is exiting (its mm is gone): nothing to account.
        Ok(None) => return Ok(None),
        Err(reason) => return Err(ProcError::malformed(&r.status_path(), reason.clone())),
    };
    Ok(Some(ProcMem {
        pid,
        starttime: stat.starttime,
        comm: stat.comm.clone(),
        rss: vm.rss,
        anon: vm.anon,
        vsize: vm.vsize,
        peak: vm.peak.max(vm.rss),
        swap: vm.swap,
        major_faults: stat.majflt,
        uid: status.uid,
        // The cgroup only names the group a process belongs to: unreadable, it is just not known.
        cgroup: r
            .cgroup
            .as_ref()
            .ok()
            .and_then(|c| c.systemd())
            .map(String::from),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_saturates_and_needs_the_same_process() {
        let p = |pid, starttime, rss| ProcMem {
            pid,
            starttime,
            comm: "x".into(),
            rss,
            anon: None,
            vsize: rss,
            peak: rss,
            swap: 0,
            major_faults: 0,
            uid: None,
            cgroup: None,
        };
        assert_eq!(p(5, 10, 300).rss_growth_since(&p(5, 10, 100)), Some(200));
        assert_eq!(p(5, 10, 100).rss_growth_since(&p(5, 10, 300)), Some(-200));
        assert_eq!(
            p(5, 10, u64::MAX).rss_growth_since(&p(5, 10, 0)),
            Some(i64::MAX)
        );
        assert_eq!(
            p(5, 10, 0).rss_growth_since(&p(5, 10, u64::MAX)),
            Some(i64::MIN)
        );
        assert_eq!(
            p(5, 11, 300).rss_growth_since(&p(5, 10, 100)),
            None,
            "pid reused"
        );
        assert_eq!(p(6, 10, 300).rss_growth_since(&p(5, 10, 100)), None);
    }

    #[test]
    fn live_reading_leaves_out_this_process_and_reads_its_parent() {
        let root = Root::new(Path::new("/")).unwrap();
        let (procs, _) = read_all(&root, &root.proc()).unwrap();
        assert!(!procs.iter().any(|p| p.pid == std::process::id() as i32));
        let parent = procs
            .iter()
            .find(|p| p.pid == std::os::unix::process::parent_id() as i32)
            .expect("parent pid");
        assert!(parent.rss > 0 && parent.vsize >= parent.rss && parent.peak >= parent.rss);
    }
}
