//! The undo record of an applied fence and where it lives: written before anything changes, read
//! back by `--undo` (newest first), renamed `.undone` once replayed cleanly. Its JSON is a contract
//! with the records of earlier versions (pinned by tests with literals of that format).

use super::inspect::Inspect;
use super::{Fence, Method, Step, Target, Version};
use crate::error::{Error, Result};
use crate::root::Root;
use crate::safeops::journal::Journal;
use crate::safeops::Dir;
use serde::{Deserialize, Serialize};
use std::ffi::{OsStr, OsString};

/// Records and journals, outside every cgroup and site tree.
pub const STATE: &str = "var/lib/toolkit/mem-fence";

/// What `--undo` replays: the inverse steps of one applied fence, in the order to run them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

impl Record {
    /// The record of `fence` about to be applied at `at`: the inverses of the steps that will
    /// change something, last step first.
    pub fn of(target: &Target, fence: &Fence, inspected: &[(Step, Inspect)], at: u64) -> Record {
        Record {
            pid: target.pid,
            start: target.start,
            comm: target.comm.clone(),
            method: fence.method,
            mount: fence.mount().to_string(),
            version: fence.controller.as_ref().map(|c| c.version),
            at,
            undo: inspected
                .iter()
                .rev()
                .filter(|(_, i)| i.needed)
                .filter_map(|(_, i)| i.inverse.clone())
                .collect(),
        }
    }

    /// `PID-START-AT-RUN.json`: one file per fence applied, never overwritten (`run` is the
    /// applying process's id).
    pub fn file_name(&self, run: u32) -> String {
        format!("{}-{}-{}-{run}.json", self.pid, self.start, self.at)
    }
}

/// A record of a fence on `pid` not yet undone (`.json`, not `.json.undone`).
pub fn is_record_of(name: &str, pid: i32) -> bool {
    name.starts_with(&format!("{pid}-")) && name.ends_with(".json")
}

/// Newest first; records of the same second keep the directory's order.
pub fn newest_first(records: &mut [(OsString, Record)]) {
    records.sort_by_key(|(_, r)| std::cmp::Reverse(r.at));
}

fn state_dir(root: &Root, sub: &str) -> std::result::Result<Dir, String> {
    let mut dir = Dir::open_trusted(root.path()).map_err(|e| e.to_string())?;
    for part in STATE.split('/').chain([sub]) {
        dir = dir
            .ensure_dir(OsStr::new(part), 0o700)
            .map_err(|e| e.to_string())?;
    }
    Ok(dir)
}

fn refused(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Refused(format!("{what}: {e}"))
}

/// A new journal for one run on `subject`, under the state directory.
pub fn begin_journal(root: &Root, subject: &str, now: u64) -> Result<Journal> {
    let journals = state_dir(root, "journal").map_err(|e| refused("journal", e))?;
    Journal::begin(&journals, subject, now).map_err(|e| refused("journal", e))
}

/// The directory of records, made on first use.
pub struct Records {
    dir: Dir,
}

impl Records {
    pub fn open(root: &Root) -> Result<Records> {
        let dir = state_dir(root, "records").map_err(|e| refused("record", e))?;
        Ok(Records { dir })
    }

    /// Writes `r` as a new file (never over another); returns its name.
    pub fn write(&self, r: &Record) -> Result<String> {
        let name = r.file_name(std::process::id());
        let json = serde_json::to_vec_pretty(r).expect("records serialize");
        self.dir
            .create_exclusive(OsStr::new(&name), &json, 0, 0, 0o600)
            .map_err(|e| refused("record", e))?;
        Ok(name)
    }

    /// The records of fences on `pid` not yet undone, newest first. One that is not a record
    /// ends the run: replaying the others could leave the fence half lifted.
    pub fn of_pid(&self, pid: i32) -> Result<Vec<(OsString, Record)>> {
        let names = self.dir.names().map_err(|e| refused("record", e))?;
        let mut mine = Vec::new();
        for n in names {
            if !is_record_of(&n.to_string_lossy(), pid) {
                continue;
            }
            let bytes = self.dir.read(&n).map_err(|e| refused("record", e))?;
            let r: Record = serde_json::from_slice(&bytes).map_err(|e| {
                Error::malformed(
                    self.dir.path().join(&n),
                    None,
                    format!("not a fence record: {e}"),
                )
            })?;
            mine.push((n, r));
        }
        newest_first(&mut mine);
        Ok(mine)
    }

    /// Renames a replayed record `NAME.undone`, so that the next `--undo` leaves it.
    pub fn mark_undone(&self, name: &OsStr) -> Result<()> {
        let mut done = name.to_os_string();
        done.push(".undone");
        self.dir
            .rename(name, &done)
            .map_err(|e| refused("record", e))
    }
}

#[cfg(test)]
mod tests {
    use super::super::ProcsFile;
    use super::*;

    fn record(at: u64) -> Record {
        Record {
            pid: 4242,
            start: 25000000,
            comm: "leaky-php".into(),
            method: Method::CgroupV2,
            mount: "/sys/fs/cgroup".into(),
            version: Some(Version::V2),
            at,
            undo: Vec::new(),
        }
    }

    #[test]
    fn only_live_records_of_the_pid_itself_are_replayed() {
        assert!(is_record_of("4242-25000000-1767484800-77.json", 4242));
        assert!(!is_record_of(
            "4242-25000000-1767484800-77.json.undone",
            4242
        ));
        // Another pid that starts with the same digits.
        assert!(!is_record_of("42420-1-2-3.json", 4242));
        assert!(!is_record_of("424-1-2-3.json", 4242));
        assert!(!is_record_of("4242-1-2-3.json.tmp", 4242));
        assert_eq!(
            record(1767484800).file_name(77),
            "4242-25000000-1767484800-77.json"
        );
    }

    #[test]
    fn newest_first_keeps_the_order_of_records_of_the_same_second() {
        let mut rs: Vec<(OsString, Record)> = [("a", 5), ("b", 9), ("c", 5), ("d", 7)]
            .into_iter()
            .map(|(n, at)| (OsString::from(n), record(at)))
            .collect();
        newest_first(&mut rs);
        let names: Vec<&str> = rs.iter().map(|(n, _)| n.to_str().unwrap()).collect();
        assert_eq!(names, ["b", "d", "a", "c"]);
    }

    /// A record of a fence on a live host without a memory controller, in the format of today
    /// (only a live root writes one: under a fake root prlimit is not run and nothing is recorded).
    const PRLIMIT_RECORD: &str = r#"{
  "pid": 4242,
  "start": 25000000,
  "comm": "leaky-php",
  "method": "prlimit",
  "mount": "",
  "version": null,
  "at": 1767484800,
  "undo": [
    {
      "op": "run",
      "argv": [
        "prlimit",
        "--pid",
        "4242",
        "--as=unlimited"
      ],
      "sets": []
    }
  ]
}"#;

    /// Shared with the integration test that undoes it on a fake root.
    const V1_TASKS_RECORD: &str =
        include_str!("../../../../fixtures/mem/fence/records/v1-tasks.json");

    #[test]
    fn records_of_today_read_typed_and_write_back_byte_for_byte() {
        let r: Record = serde_json::from_str(PRLIMIT_RECORD).unwrap();
        assert_eq!(r.method, Method::Prlimit);
        assert_eq!(r.version, None);
        assert_eq!(serde_json::to_string_pretty(&r).unwrap(), PRLIMIT_RECORD);
        let r: Record = serde_json::from_str(V1_TASKS_RECORD).unwrap();
        assert_eq!(r.method, Method::CgroupV1);
        assert_eq!(
            r.undo[0],
            Step::Move {
                pid: 4242,
                from: "toolkit-fence-4242".into(),
                to: String::new(),
                file: ProcsFile::Tasks,
            }
        );
        assert_eq!(serde_json::to_string_pretty(&r).unwrap(), V1_TASKS_RECORD);
        // A label no version wrote is not a record to replay.
        let odd = V1_TASKS_RECORD.replace("cgroup-v1", "cgroup-v3");
        assert!(serde_json::from_str::<Record>(&odd).is_err());
    }
}
