//! The process table the zombie checks judge: one light entry per process, and the details (signal
//! masks, cgroup, wait channel, command line) of the processes that matter, all from the one record
//! read per process (`status` and `cgroup` are not read again for the details).

pub use super::{list_pids, read_cmdline, read_file, ProcError, Skips};
use super::{read_record, status::Status, Record};
use crate::error::{Error, Result};
use crate::root::Root;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;

/// What the zombie and stuck-process checks need to know about every process.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proc {
    pub pid: i32,
    pub ppid: i32,
    /// State letter as in `ps` STAT: R, S, D, Z, T, t, X, I...
    pub state: char,
    pub comm: String,
    /// Live threads in the thread group (a zombie leader with live threads is not a zombie).
    pub threads: i64,
    /// Start time in clock ticks after boot (with the pid, the process's identity).
    pub starttime: u64,
    /// PID of the tracer (0: not traced).
    pub tracer: i32,
    pub uid: u32,
    /// Session id (0 when its leader is outside this PID namespace): a child whose session is neither
    /// its own nor its parent's was reparented, the trace a subreaper leaves.
    pub session: i32,
}

#[derive(Debug, Clone)]
pub struct ProcTable {
    /// Sorted by pid.
    pub procs: Vec<Proc>,
    pub skips: Skips,
    /// The record each entry was made from, for the details.
    pub records: HashMap<i32, Record>,
}

impl ProcTable {
    pub fn get(&self, pid: i32) -> Option<&Proc> {
        self.procs
            .binary_search_by_key(&pid, |p| p.pid)
            .ok()
            .map(|i| &self.procs[i])
    }

    /// The systemd cgroup path of a process in the table, when its `cgroup` file named one.
    pub fn cgroup(&self, pid: i32) -> Option<String> {
        let r = self.records.get(&pid)?;
        r.cgroup.as_ref().ok()?.systemd().map(String::from)
    }
}

/// Reads every numeric directory of `ROOT/proc`. Fails only when `proc` itself cannot be listed or
/// holds no process at all (not mounted, or the wrong --root).
pub fn read_table(root: &Root) -> Result<ProcTable> {
    let proc_dir = root.proc();
    let pids = list_pids(&proc_dir)?;
    if pids.is_empty() {
        return Err(Error::malformed(
            &proc_dir,
            None,
            "no process directories (is /proc mounted, is --root right?)",
        ));
    }
    let results: Vec<std::result::Result<(Proc, Record), ProcError>> = pids
        .par_iter()
        .map(|&pid| read_record(&proc_dir, pid).and_then(|r| Ok((entry(&r)?, r))))
        .collect();
    let mut skips = Skips::default();
    let mut procs = Vec::with_capacity(results.len());
    let mut records = HashMap::with_capacity(results.len());
    for (r, pid) in results.into_iter().zip(pids) {
        match r {
            Ok((p, rec)) => {
                procs.push(p);
                records.insert(pid, rec);
            }
            Err(e) => skips.record(root, pid, e),
        }
    }
    procs.sort_by_key(|p| p.pid);
    Ok(ProcTable {
        procs,
        skips,
        records,
    })
}

/// The table's entry for a record: `status` must give TracerPid and Uid.
fn entry(r: &Record) -> std::result::Result<Proc, ProcError> {
    let status = r.status.as_ref().map_err(Clone::clone)?;
    let (Some(tracer), Some(uid)) = (status.tracer, status.uid) else {
        return Err(ProcError::malformed(
            &r.status_path(),
            "missing or invalid TracerPid/Uid line",
        ));
    };
    let stat = &r.stat;
    Ok(Proc {
        pid: stat.pid,
        ppid: stat.ppid,
        state: stat.state,
        comm: stat.comm.clone(),
        threads: stat.num_threads,
        starttime: stat.starttime,
        tracer,
        uid,
        session: stat.session,
    })
}

/// What is shown about a process that matters (a non-reaping parent, a stuck process).
#[derive(Debug, Clone)]
pub struct Detail {
    pub status: Status,
    /// cgroup path of the systemd hierarchy (v2 unified, or v1 `name=systemd`), if any.
    pub cgroup: Option<String>,
    /// Kernel function the process sleeps in, if the kernel shows it.
    pub wchan: Option<String>,
    /// Command line (empty for kernel threads and zombies).
    pub cmdline: Vec<String>,
}

/// The details of a process in the table, from its record (only `wchan` and `cmdline` are read now).
/// A `status` without the lines every kernel writes is malformed here: the signal masks would be
/// guesses.
pub fn read_detail(table: &ProcTable, pid: i32) -> std::result::Result<Detail, ProcError> {
    let r = table.records.get(&pid).ok_or(ProcError::Vanished)?;
    let status = r.status.clone()?;
    if !status.complete {
        return Err(ProcError::malformed(
            &r.status_path(),
            "missing or invalid fields (truncated or garbled)",
        ));
    }
    let cgroup = match &r.cgroup {
        Ok(c) => c.systemd().map(String::from),
        Err(ProcError::Vanished) => return Err(ProcError::Vanished),
        Err(_) => None,
    };
    Ok(Detail {
        status,
        cgroup,
        wchan: super::read_wchan(&r.dir),
        cmdline: read_cmdline(&r.dir),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn live_table_contains_this_process() {
        let root = Root::new(Path::new("/")).unwrap();
        let table = read_table(&root).unwrap();
        let me = table
            .get(std::process::id() as i32)
            .expect("own pid in table");
        assert_eq!(me.ppid, nix::unistd::getppid().as_raw());
        let d = read_detail(&table, me.pid).unwrap();
        assert_eq!(
            d.status.nspid.as_ref().and_then(|n| n.first()),
            Some(&me.pid)
        );
        assert!(!d.cmdline.is_empty(), "own command line");
    }
}
