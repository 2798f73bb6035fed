//! Per-process memory: one light entry per process from `stat` and five lines of `status`.
//!
//! Deliberately no `smaps` (or `smaps_rollup`): walking every process's mappings is what a thrashing
//! box cannot afford, and the kernel's own counters in `status` say what the verdict needs. Kernel
//! threads and zombies hold no user memory and are left out without being counted as skipped.

use crate::error::Result;
use crate::readers::procs::{list_pids, parse_cgroup, parse_stat, read_file, ProcError, Skips};
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
    let dir = proc_dir.join(pid.to_string());
    let stat_path = dir.join("stat");
    let stat = parse_stat(&stat_path, &read_file(&stat_path)?)?;
    if stat.pid != pid {
        return Err(ProcError::Malformed {
            path: stat_path,
            reason: format!("pid field {} does not match the directory", stat.pid),
        });
    }
    if stat.flags & PF_KTHREAD != 0 || matches!(stat.state, 'Z' | 'X' | 'x') {
        return Ok(None);
    }
    let status_path = dir.join("status");
    let Some(f) = status_fields(&status_path, &read_file(&status_path)?)? else {
        // A user process without Vm lines is exiting (its mm is gone): nothing to account.
        return Ok(None);
    };
    // The cgroup only names the group a process belongs to: unreadable, it is just not known.
    let cgroup = read_file(&dir.join("cgroup"))
        .ok()
        .and_then(|b| parse_cgroup(&b));
    Ok(Some(ProcMem {
        pid,
        starttime: stat.starttime,
        comm: stat.comm,
        rss: f.rss,
        anon: f.anon,
        vsize: f.vsize,
        peak: f.peak.max(f.rss),
        swap: f.swap,
        major_faults: stat.majflt,
        uid: f.uid,
        cgroup,
    }))
}

#[derive(Debug, Default, PartialEq)]
struct Fields {
    rss: u64,
    anon: Option<u64>,
    vsize: u64,
    peak: u64,
    swap: u64,
    uid: Option<u32>,
}

/// The five memory lines of `status`, in bytes; `None` when the process has no address space
/// (no `VmSize` line at all). A `Vm` line whose value is not `N kB`, or `VmSize` without `VmRSS`
/// (a truncated file), is malformed.
fn status_fields(path: &Path, bytes: &[u8]) -> std::result::Result<Option<Fields>, ProcError> {
    if bytes.is_empty() {
        return Err(ProcError::Vanished);
    }
    let malformed = |reason: String| ProcError::Malformed {
        path: path.to_path_buf(),
        reason,
    };
    let mut f = Fields::default();
    let (mut has_size, mut has_rss) = (false, false);
    for line in bytes.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let key = &line[..colon];
        if key == b"Uid" {
            f.uid = std::str::from_utf8(&line[colon + 1..])
                .ok()
                .and_then(|v| v.split_whitespace().next()?.parse().ok());
            continue;
        }
        let slot: &mut u64 = match key {
            b"VmSize" => {
                has_size = true;
                &mut f.vsize
            }
            b"VmRSS" => {
                has_rss = true;
                &mut f.rss
            }
            b"VmHWM" => &mut f.peak,
            b"VmSwap" => &mut f.swap,
            b"RssAnon" => f.anon.insert(0),
            _ => continue,
        };
        *slot = kb(&line[colon + 1..]).ok_or_else(|| {
            malformed(format!(
                "bad {} line (expected 'N kB')",
                String::from_utf8_lossy(key)
            ))
        })?;
    }
    match (has_size, has_rss) {
        (false, false) => Ok(None),
        (true, true) => Ok(Some(f)),
        _ => Err(malformed("VmSize without VmRSS (truncated?)".into())),
    }
}

fn kb(v: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(v).ok()?;
    let mut words = s.split_whitespace();
    let n: u64 = words.next()?.parse().ok()?;
    (words.next() == Some("kB") && words.next().is_none()).then_some(n.checked_mul(1024)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_memory_lines() {
        let p = Path::new("status");
        let s = b"Name:\tx\nVmPeak:\t 300 kB\nVmSize:\t 200 kB\nVmHWM:\t 150 kB\nVmRSS:\t 100 kB\n\
                  RssAnon:\t 60 kB\nVmSwap:\t 5 kB\n";
        let f = status_fields(p, s).unwrap().unwrap();
        assert_eq!(
            f,
            Fields {
                rss: 100 << 10,
                anon: Some(60 << 10),
                vsize: 200 << 10,
                peak: 150 << 10,
                swap: 5 << 10,
                uid: None,
            }
        );
        // Kernel thread or exiting process: no address space.
        assert_eq!(status_fields(p, b"Name:\tkworker\nState:\tI\n"), Ok(None));
        assert_eq!(status_fields(p, b""), Err(ProcError::Vanished));
    }

    #[test]
    fn malformed_status_is_a_counted_problem() {
        let p = Path::new("status");
        for bad in [
            &b"VmSize:\t 200 kB\nVmRSS:\t abc kB\n"[..],
            b"VmSize:\t 200 kB\nVmRSS:\t 100\n",
            b"VmSize:\t 200 kB\nVmRSS:\t 100 kB extra\n",
            b"VmSize:\t 200 kB\nVmHW",
            b"VmSize:\t 99999999999999999999 kB\nVmRSS:\t 1 kB\n",
        ] {
            assert!(
                matches!(status_fields(p, bad), Err(ProcError::Malformed { .. })),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
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
