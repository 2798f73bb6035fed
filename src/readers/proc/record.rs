//! One process directory read once: `stat`, `status` and `cgroup`, each parsed once. What a command
//! does with a file that could not be read is its own affair, so the record keeps each file's result:
//! the memory readings leave kernel threads out whatever their `status` says, the zombie checks need
//! `status` for every process and the cgroup only for the ones that matter. `wchan` and `cmdline` are
//! read only for the processes shown.

use super::{cgroup, read_file, stat, status, ProcError};
use crate::render::sanitize::decode;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub stat: stat::Stat,
    pub status: Result<status::Status, ProcError>,
    /// Its paths in the cgroup hierarchies.
    pub cgroup: Result<cgroup::Cgroups, ProcError>,
    /// The `proc/PID` directory it was read from.
    pub dir: PathBuf,
}

impl Record {
    pub fn pid(&self) -> i32 {
        self.stat.pid
    }

    pub fn status_path(&self) -> PathBuf {
        self.dir.join("status")
    }
}

/// Reads and parses `proc/PID/stat` alone (to re-check a process's identity before acting on it).
pub fn read_stat(proc_dir: &Path, pid: i32) -> Result<stat::Stat, ProcError> {
    let path = proc_dir.join(pid.to_string()).join("stat");
    let bytes = read_file(&path)?;
    if bytes.is_empty() {
        // The kernel returns an empty file for a process being torn down.
        return Err(ProcError::Vanished);
    }
    let stat = stat::parse(&bytes)
        .map_err(|_| ProcError::malformed(&path, "not a valid stat line (truncated or garbled)"))?;
    if stat.pid != pid {
        return Err(ProcError::malformed(
            &path,
            format!("pid field {} does not match the directory", stat.pid),
        ));
    }
    Ok(stat)
}

/// Reads one process directory. Fails only when `stat` cannot be read or parsed: without it there is
/// no process to speak of.
pub fn read_record(proc_dir: &Path, pid: i32) -> Result<Record, ProcError> {
    let stat = read_stat(proc_dir, pid)?;
    let dir = proc_dir.join(pid.to_string());
    let status = read_file(&dir.join("status")).and_then(|b| {
        if b.is_empty() {
            Err(ProcError::Vanished)
        } else {
            Ok(status::parse(&b))
        }
    });
    let cgroup = read_file(&dir.join("cgroup")).map(|b| cgroup::parse(&b));
    Ok(Record {
        stat,
        status,
        cgroup,
        dir,
    })
}

/// Kernel function the process sleeps in, if the kernel shows it.
pub fn read_wchan(dir: &Path) -> Option<String> {
    read_file(&dir.join("wchan"))
        .ok()
        .map(|b| decode(&b).trim().to_string())
        .filter(|w| !w.is_empty() && w != "0")
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

#[cfg(test)]
mod tests {
    use super::*;

    const STAT_TAIL: &str = " 1 812 812 0 -1 4194560 120 0 3 0 0 0 0 0 20 0 1 0 81234 \
        0 0 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

    fn fake(pid: i32, comm: &[u8], files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join(pid.to_string());
        std::fs::create_dir(&dir).unwrap();
        let mut stat = format!("{pid} (").into_bytes();
        stat.extend_from_slice(comm);
        stat.extend_from_slice(b") S");
        stat.extend_from_slice(STAT_TAIL.as_bytes());
        std::fs::write(dir.join("stat"), stat).unwrap();
        std::fs::write(dir.join("status"), status::tests::FULL).unwrap();
        std::fs::write(dir.join("cgroup"), "0::/system.slice/crond.service\n").unwrap();
        for (name, body) in files {
            std::fs::write(dir.join(name), body).unwrap();
        }
        d
    }

    #[test]
    fn one_record_with_every_file() {
        let d = fake(
            812,
            b"cron d) (x\ny",
            &[("cmdline", b"/usr/sbin/cron\0-f\0")],
        );
        let r = read_record(d.path(), 812).unwrap();
        assert_eq!(r.stat.comm, "cron d) (x\ny");
        assert_eq!((r.stat.ppid, r.stat.starttime), (1, 81234));
        let st = r.status.as_ref().unwrap();
        assert!(st.complete);
        assert_eq!(st.uid, Some(1000));
        assert_eq!(
            r.cgroup.as_ref().unwrap().systemd(),
            Some("/system.slice/crond.service")
        );
        assert_eq!(read_cmdline(&r.dir), ["/usr/sbin/cron", "-f"]);
        assert_eq!(read_wchan(&r.dir), None);
    }

    #[test]
    fn vanished_pid_and_files_that_went_away() {
        let d = fake(812, b"sh", &[]);
        assert_eq!(read_record(d.path(), 999), Err(ProcError::Vanished));
        // Torn down: empty stat.
        std::fs::write(d.path().join("812/stat"), "").unwrap();
        assert_eq!(read_record(d.path(), 812), Err(ProcError::Vanished));
        let d = fake(812, b"sh", &[("status", b"")]);
        std::fs::remove_file(d.path().join("812/cgroup")).unwrap();
        let r = read_record(d.path(), 812).unwrap();
        assert_eq!(r.status, Err(ProcError::Vanished));
        assert_eq!(r.cgroup, Err(ProcError::Vanished));
    }

    #[test]
    fn malformed_truncated_and_mismatched_stat() {
        let d = fake(812, b"sh", &[("stat", b"812 (sh) S 1 812")]);
        let e = read_record(d.path(), 812).unwrap_err();
        assert!(matches!(&e, ProcError::Malformed { reason, .. } if reason.contains("truncated")));
        let d = fake(812, b"sh", &[]);
        let stat = std::fs::read(d.path().join("812/stat")).unwrap();
        std::fs::write(d.path().join("812/stat"), [b"813", &stat[3..]].concat()).unwrap();
        let e = read_record(d.path(), 812).unwrap_err();
        assert!(matches!(&e, ProcError::Malformed { reason, .. } if reason.contains("813")));
    }

    #[test]
    fn random_bytes_in_every_file_never_panic() {
        let mut rng = crate::testing::XorShift(0x2545_f491_4f6c_dd1d);
        let mut next = || rng.next();
        let d = fake(5, b"sh", &[]);
        for round in 0..300 {
            for name in ["stat", "status", "cgroup", "wchan", "cmdline"] {
                let len = (next() % 300) as usize;
                let mut body: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                if round % 3 == 0 && name == "stat" {
                    body.splice(0..0, b"5 (".iter().copied());
                }
                std::fs::write(d.path().join("5").join(name), body).unwrap();
            }
            if let Ok(r) = read_record(d.path(), 5) {
                let _ = (read_cmdline(&r.dir), read_wchan(&r.dir));
            }
        }
    }

    #[test]
    fn unreadable_files_are_unreadable_not_vanished() {
        // A directory where the file should be: no one reads it as a file, root included.
        let d = fake(812, b"sh", &[]);
        std::fs::remove_file(d.path().join("812/status")).unwrap();
        std::fs::create_dir(d.path().join("812/status")).unwrap();
        let r = read_record(d.path(), 812).unwrap();
        assert!(
            matches!(r.status, Err(ProcError::Unreadable { .. })),
            "{:?}",
            r.status
        );
        std::fs::remove_file(d.path().join("812/stat")).unwrap();
        std::fs::create_dir(d.path().join("812/stat")).unwrap();
        let e = read_record(d.path(), 812).unwrap_err();
        assert!(matches!(e, ProcError::Unreadable { .. }), "{e:?}");
    }
}
