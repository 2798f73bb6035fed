//! What a scan could not read, counted and reported rather than fatal: the first few with their path
//! and reason, and how many in all.

use crate::root::Root;
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Skips {
    /// Files that could not be read (permissions) or parsed.
    pub count: u64,
    /// The first few, in the order met.
    pub first: Vec<Skipped>,
    /// Processes that exited while being read: normal churn, counted apart from problems.
    pub vanished: u64,
    /// Processes whose files could not be read or parsed (not those that vanished).
    #[serde(skip)]
    pub unreadable_pids: Vec<i32>,
}

impl Skips {
    const KEEP: usize = 8;

    pub fn add(&mut self, root: &Root, path: &Path, reason: &str) {
        self.count += 1;
        if self.first.len() < Self::KEEP {
            self.first.push(Skipped {
                path: root.display(path),
                reason: reason.to_string(),
            });
        }
    }

    pub fn merge(&mut self, other: Skips) {
        self.count += other.count;
        self.vanished += other.vanished;
        self.unreadable_pids.extend(other.unreadable_pids);
        for s in other.first {
            if self.first.len() < Self::KEEP {
                self.first.push(s);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0 && self.vanished == 0
    }
}
