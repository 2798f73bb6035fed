//! The process table under `ROOT/proc`: one light entry per process from `stat` and `status`, and the
//! details (signal masks, cgroup, wait channel, command line) read only for the processes that matter.
//!
//! A process that vanishes while being read is counted, not reported as an error; a malformed file is
//! counted with its path and reason; the procfs-core parsers run under a panic guard.

use crate::error::{Error, Result};
use crate::readers::guard::guarded;
pub use crate::readers::skips::Skips;
use crate::render::sanitize::decode;
use crate::root::Root;
use procfs_core::process::{Stat, Status};
use procfs_core::FromRead;
use rayon::prelude::*;
use serde::Serialize;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

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

/// Why one process could not be read. Vanished processes are normal and only counted.
#[derive(Debug, Clone, PartialEq)]
pub enum ProcError {
    Vanished,
    Unreadable { path: PathBuf, reason: String },
    Malformed { path: PathBuf, reason: String },
}

/// Counts a process that could not be read: vanished ones apart, problems with their path.
impl Skips {
    pub fn record(&mut self, root: &Root, pid: i32, err: ProcError) {
        match err {
            ProcError::Vanished => self.vanished += 1,
            ProcError::Unreadable { path, reason } => {
                self.unreadable_pids.push(pid);
                self.add_unreadable(root, &path, &reason);
            }
            ProcError::Malformed { path, reason } => {
                self.unreadable_pids.push(pid);
                self.add(root, &path, &reason);
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct ProcTable {
    /// Sorted by pid.
    pub procs: Vec<Proc>,
    pub skips: Skips,
}

impl ProcTable {
    pub fn get(&self, pid: i32) -> Option<&Proc> {
        self.procs
            .binary_search_by_key(&pid, |p| p.pid)
            .ok()
            .map(|i| &self.procs[i])
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
    let results: Vec<std::result::Result<Proc, ProcError>> = pids
        .par_iter()
        .map(|&pid| read_proc(&proc_dir, pid))
        .collect();
    let mut skips = Skips::default();
    let mut procs = Vec::with_capacity(results.len());
    for (r, pid) in results.into_iter().zip(pids) {
        match r {
            Ok(p) => procs.push(p),
            Err(e) => skips.record(root, pid, e),
        }
    }
    procs.sort_by_key(|p| p.pid);
    Ok(ProcTable { procs, skips })
}

pub fn list_pids(proc_dir: &Path) -> Result<Vec<i32>> {
    let entries = std::fs::read_dir(proc_dir).map_err(|e| Error::io(proc_dir, e))?;
    let mut pids = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(proc_dir, e))?;
        if let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        {
            if pid > 0 {
                pids.push(pid);
            }
        }
    }
    Ok(pids)
}

/// Reads a whole small file; a missing file or ESRCH means the process went away.
pub fn read_file(path: &Path) -> std::result::Result<Vec<u8>, ProcError> {
    match super::capped::read(path, super::capped::PROC_CAP) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == ErrorKind::NotFound || e.raw_os_error() == Some(libc::ESRCH) => {
            Err(ProcError::Vanished)
        }
        Err(e) => Err(ProcError::Unreadable {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }),
    }
}

fn malformed(path: &Path, reason: impl Into<String>) -> ProcError {
    ProcError::Malformed {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// The command name in a stat line: between the first `(` and the last `)` (it may hold either).
fn raw_comm(bytes: &[u8]) -> Option<&[u8]> {
    let open = bytes.iter().position(|&b| b == b'(')?;
    let close = bytes.iter().rposition(|&b| b == b')')?;
    bytes.get(open + 1..close)
}

/// Parses `proc/PID/stat` with procfs-core, guarded against its panics.
pub fn parse_stat(path: &Path, bytes: &[u8]) -> std::result::Result<Stat, ProcError> {
    if bytes.is_empty() {
        // The kernel returns an empty file for a process being torn down.
        return Err(ProcError::Vanished);
    }
    // procfs-core's own messages name its source files and ask for bug reports: not useful here.
    match guarded(|| Stat::from_read(bytes)) {
        Ok(Ok(mut stat)) => {
            // procfs-core decodes the name lossily (U+FFFD): keep what the bytes were, as `\xNN`.
            if stat.comm.contains('\u{fffd}') {
                if let Some(raw) = raw_comm(bytes) {
                    stat.comm = decode(raw);
                }
            }
            Ok(stat)
        }
        _ => Err(malformed(
            path,
            "not a valid stat line (truncated or garbled)",
        )),
    }
}

/// Parses `proc/PID/status` with procfs-core, guarded against its panics.
pub fn parse_status(path: &Path, bytes: &[u8]) -> std::result::Result<Status, ProcError> {
    if bytes.is_empty() {
        return Err(ProcError::Vanished);
    }
    // The kernel escapes only whitespace and a few specials in `Name:`; a process name that is not
    // UTF-8 would make procfs-core reject the whole file, hiding the process: decode it first.
    let text = decode(bytes);
    match guarded(|| <Status as FromRead>::from_read(text.as_bytes())) {
        Ok(Ok(status)) => Ok(status),
        _ => Err(malformed(
            path,
            "missing or invalid fields (truncated or garbled)",
        )),
    }
}

fn read_proc(proc_dir: &Path, pid: i32) -> std::result::Result<Proc, ProcError> {
    let dir = proc_dir.join(pid.to_string());
    let stat_path = dir.join("stat");
    let stat = parse_stat(&stat_path, &read_file(&stat_path)?)?;
    if stat.pid != pid {
        return Err(malformed(
            &stat_path,
            format!("pid field {} does not match the directory", stat.pid),
        ));
    }
    let status_path = dir.join("status");
    let (tracer, uid) = status_fields(&status_path, &read_file(&status_path)?)?;
    Ok(Proc {
        pid,
        ppid: stat.ppid,
        state: stat.state,
        comm: stat.comm,
        threads: stat.num_threads,
        starttime: stat.starttime,
        tracer,
        uid,
        session: stat.session,
    })
}

/// TracerPid and real uid from `status`. The full procfs-core parse (about fifty fields into a map) is
/// kept for the few processes whose details are shown; for the whole table only these two are needed.
fn status_fields(path: &Path, bytes: &[u8]) -> std::result::Result<(i32, u32), ProcError> {
    if bytes.is_empty() {
        return Err(ProcError::Vanished);
    }
    let mut tracer = None;
    let mut uid = None;
    for line in bytes.split(|&b| b == b'\n') {
        if let Some(v) = line.strip_prefix(b"TracerPid:") {
            tracer = std::str::from_utf8(v)
                .ok()
                .and_then(|s| s.trim().parse().ok());
        } else if let Some(v) = line.strip_prefix(b"Uid:") {
            uid = std::str::from_utf8(v)
                .ok()
                .and_then(|s| s.split_whitespace().next())
                .and_then(|s| s.parse().ok());
        }
        if tracer.is_some() && uid.is_some() {
            break;
        }
    }
    match (tracer, uid) {
        (Some(t), Some(u)) => Ok((t, u)),
        _ => Err(malformed(path, "missing or invalid TracerPid/Uid line")),
    }
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

pub fn read_detail(root: &Root, pid: i32) -> std::result::Result<Detail, ProcError> {
    let dir = root.proc().join(pid.to_string());
    let status_path = dir.join("status");
    let status = parse_status(&status_path, &read_file(&status_path)?)?;
    let cgroup = match read_file(&dir.join("cgroup")) {
        Ok(b) => parse_cgroup(&b),
        Err(ProcError::Vanished) => return Err(ProcError::Vanished),
        Err(_) => None,
    };
    let wchan = read_file(&dir.join("wchan"))
        .ok()
        .map(|b| decode(&b).trim().to_string())
        .filter(|w| !w.is_empty() && w != "0");
    let cmdline = read_cmdline(&dir);
    Ok(Detail {
        status,
        cgroup,
        wchan,
        cmdline,
    })
}

/// The command line of the process whose `proc/PID` directory this is (empty for kernel threads,
/// zombies, and processes that exited or hide it).
pub fn read_cmdline(dir: &Path) -> Vec<String> {
    read_file(&dir.join("cmdline"))
        .map(|b| {
            b.split(|&c| c == 0)
                .filter(|a| !a.is_empty())
                .map(decode)
                .collect()
        })
        .unwrap_or_default()
}

/// Picks the systemd cgroup path from `proc/PID/cgroup`: the v2 line `0::PATH`, else the v1
/// `N:name=systemd:PATH` line. Malformed lines are ignored (the file is advisory here).
pub fn parse_cgroup(bytes: &[u8]) -> Option<String> {
    let text = decode(bytes);
    let mut v1 = None;
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if !path.starts_with('/') {
            continue;
        }
        if id == "0" && controllers.is_empty() {
            return Some(path.to_string());
        }
        if controllers == "name=systemd" {
            v1 = Some(path.to_string());
        }
    }
    v1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_v2_and_v1() {
        assert_eq!(
            parse_cgroup(b"0::/system.slice/crond.service\n").as_deref(),
            Some("/system.slice/crond.service")
        );
        let v1 =
            b"12:pids:/system.slice/httpd.service\n1:name=systemd:/system.slice/httpd.service\n";
        assert_eq!(
            parse_cgroup(v1).as_deref(),
            Some("/system.slice/httpd.service")
        );
        assert_eq!(parse_cgroup(b"garbage\n\xff\xfe:x\n"), None);
    }

    #[test]
    fn status_fields_extracts_tracer_and_uid() {
        let p = Path::new("status");
        let s = b"Name:\tx\nUid:\t1000\t1000\t1000\t1000\nTracerPid:\t42\n";
        assert_eq!(status_fields(p, s), Ok((42, 1000)));
        assert!(matches!(
            status_fields(p, b"Name:\tx\n"),
            Err(ProcError::Malformed { .. })
        ));
        assert_eq!(status_fields(p, b""), Err(ProcError::Vanished));
    }

    #[test]
    fn malformed_stat_is_an_error_not_a_panic() {
        let p = Path::new("stat");
        for bad in [
            &b"garbage"[..],
            b"(",
            b")",
            b"1 (x) Z",
            b"1 (x)",
            b"\xff\xff",
            b"1 (a) Z 1 1 1 1 1 1",
        ] {
            assert!(
                matches!(parse_stat(p, bad), Err(ProcError::Malformed { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn live_table_contains_this_process() {
        let root = Root::new(Path::new("/")).unwrap();
        let table = read_table(&root).unwrap();
        let me = table
            .get(std::process::id() as i32)
            .expect("own pid in table");
        assert_eq!(me.ppid, nix::unistd::getppid().as_raw());
    }
}
