//! Everything read from `ROOT/proc`. Each process directory is read once, into one [`Record`]
//! (`stat`, `status` and `cgroup`, each parsed once by the parsers here, our own: no third-party
//! parser, so nothing to guard against panics); the zombie checks' table ([`table`]) and the
//! memory readings ([`mem`]) are views of those records. Host-wide files are in [`host`].
//!
//! A process that vanishes while being read is counted, not reported as an error; a malformed file
//! is counted with its path and reason.

pub mod cgroup;
pub mod host;
pub mod mem;
mod record;
pub mod stat;
pub mod status;
pub mod table;

pub use crate::readers::skips::Skips;
pub use record::{read_cmdline, read_record, read_stat, read_wchan, Record};

use crate::error::{Error, Result};
use crate::root::Root;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Why one process could not be read. Vanished processes are normal and only counted.
#[derive(Debug, Clone, PartialEq)]
pub enum ProcError {
    Vanished,
    Unreadable { path: PathBuf, reason: String },
    Malformed { path: PathBuf, reason: String },
}

impl ProcError {
    pub fn malformed(path: &Path, reason: impl Into<String>) -> ProcError {
        ProcError::Malformed {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
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

/// The pids under a `proc` directory (the root's, or a fake root's earlier snapshot), in pid order.
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
    // In pid order, as ps lists them: what is skipped is then reported in the same order whatever
    // order the filesystem returns the entries in.
    pids.sort_unstable();
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
