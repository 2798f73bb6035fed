//! What a scan could not read, counted and reported rather than fatal: the first few with their path
//! and reason, how many in all, and as whom they were read. Two kinds: what could not be read at all
//! (permissions, hidden /proc entries, I/O errors: `add_unreadable`), which may hide anything, and
//! what was read but is damaged or odd (a malformed qf, a dangling site link: `add`), which is
//! reported with what it still says. A check with anything unreadable could not see everything it
//! needs: `blind_reason` says why, and its status becomes UNKNOWN unless what it did see is already
//! CRITICAL (`Status::when_blind`).

use crate::root::Root;
use serde::Serialize;
use std::path::Path;
use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Skips {
    /// Files that could not be read (permissions) or parsed.
    pub count: u64,
    /// Of those, the ones that could not be read at all: what they hold is unknown.
    pub unreadable: u64,
    /// The first few, in the order met.
    pub first: Vec<Skipped>,
    /// Processes that exited while being read: normal churn, counted apart from problems.
    pub vanished: u64,
    /// Who could not read them (`uid 65534 (nobody)`); absent when nothing was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reader: Option<String>,
    /// Processes whose files could not be read or parsed (not those that vanished).
    #[serde(skip)]
    pub unreadable_pids: Vec<i32>,
    /// The first path that could not be read at all, for the reason.
    #[serde(skip)]
    pub first_unreadable: Option<Skipped>,
}

/// The identity this process reads with, for reasons: `uid 65534 (nobody)`. The name comes from the
/// live system's user database, since it is this process's own identity, not one under the root.
pub fn reader() -> &'static str {
    static READER: OnceLock<String> = OnceLock::new();
    READER.get_or_init(|| {
        let uid = nix::unistd::geteuid().as_raw();
        match uzers::get_user_by_uid(uid) {
            Some(u) => format!("uid {uid} ({})", u.name().to_string_lossy()),
            None => format!("uid {uid}"),
        }
    })
}

impl Skips {
    const KEEP: usize = 8;

    /// Counts a file read but damaged or odd (reported with what it still says).
    pub fn add(&mut self, root: &Root, path: &Path, reason: &str) {
        self.add_shown(&root.display(path), reason);
    }

    /// Like `add`, for a path already as it is shown.
    pub fn add_shown(&mut self, path: &str, reason: &str) {
        self.count += 1;
        self.reader.get_or_insert_with(|| reader().to_string());
        if self.first.len() < Self::KEEP {
            self.first.push(Skipped {
                path: path.to_string(),
                reason: reason.to_string(),
            });
        }
    }

    /// Counts a path that could not be read at all: the check is blind to what it holds.
    pub fn add_unreadable(&mut self, root: &Root, path: &Path, reason: &str) {
        self.add_unreadable_shown(&root.display(path), reason);
    }

    /// Like `add_unreadable`, for a path already as it is shown.
    pub fn add_unreadable_shown(&mut self, path: &str, reason: &str) {
        self.add_shown(path, reason);
        self.unreadable += 1;
        self.first_unreadable.get_or_insert_with(|| Skipped {
            path: path.to_string(),
            reason: reason.to_string(),
        });
    }

    pub fn merge(&mut self, other: Skips) {
        self.count += other.count;
        self.unreadable += other.unreadable;
        self.vanished += other.vanished;
        if self.first_unreadable.is_none() {
            self.first_unreadable = other.first_unreadable;
        }
        self.unreadable_pids.extend(other.unreadable_pids);
        if self.reader.is_none() {
            self.reader = other.reader;
        }
        for s in other.first {
            if self.first.len() < Self::KEEP {
                self.first.push(s);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0 && self.vanished == 0
    }

    /// Why the check could not see everything, naming what and as whom: `could not read 6 paths as
    /// uid 65534 (nobody): /home/virtual/site1/fst (Permission denied) and 5 more`. None when it
    /// could read everything (damaged files are reported, vanished processes are churn).
    pub fn blind_reason(&self) -> Option<String> {
        if self.unreadable == 0 {
            return None;
        }
        let reader = self.reader.as_deref().unwrap_or_else(|| reader());
        let what = if self.unreadable == 1 {
            "path"
        } else {
            "paths"
        };
        let mut s = format!("could not read {} {what} as {reader}", self.unreadable);
        if let Some(f) = &self.first_unreadable {
            s.push_str(&format!(": {} ({})", f.path, f.reason));
            if self.unreadable > 1 {
                s.push_str(&format!(" and {} more", self.unreadable - 1));
            }
        }
        Some(s)
    }

    /// True when something could not be read at all.
    pub fn blind(&self) -> bool {
        self.unreadable > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blind_reason_names_what_and_as_whom() {
        let mut s = Skips::default();
        assert_eq!(s.blind_reason(), None);
        s.vanished = 3;
        assert_eq!(
            s.blind_reason(),
            None,
            "vanished processes are not blindness"
        );
        s.add_shown(
            "/etc/virtualhosting/mappings/domainmap",
            "maps x to site9, which does not exist",
        );
        assert_eq!(
            s.blind_reason(),
            None,
            "a damaged or odd file is reported, not blindness"
        );
        s.add_unreadable_shown("/var/spool/mqueue", "Permission denied");
        let mut other = Skips::default();
        other.add_unreadable_shown("/home/virtual/site1/fst", "Permission denied");
        s.merge(other);
        assert_eq!((s.count, s.unreadable), (3, 2));
        let r = s.blind_reason().unwrap();
        assert!(r.starts_with("could not read 2 paths as uid "), "{r}");
        assert!(
            r.ends_with(": /var/spool/mqueue (Permission denied) and 1 more"),
            "{r}"
        );
        assert_eq!(s.reader.as_deref(), Some(reader()));
    }
}
