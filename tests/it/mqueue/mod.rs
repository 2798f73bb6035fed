//! `toolkit mqueue scan`: the fixture's Ensim-style sites, agreement with sendmail's own mailq, the
//! 77 GB real-world case at full scale, and hostile input.

mod bad_input;
mod fixture;
pub mod mailq;
mod scale;

use crate::common::Scenario;
use std::path::Path;

/// The fake root with owners, setgid bits, sparse queue files and times applied from the manifest.
pub fn fakeroot() -> Scenario {
    Scenario::built_fakeroot()
}

pub const SITE1_QUEUE: &str = "home/virtual/site1/fst/var/spool/mqueue";
pub const MIB: u64 = 1 << 20;

/// Creates (or grows) a sparse file of `size` bytes.
pub fn sparse(path: &Path, size: u64) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.set_len(size).unwrap();
}

pub fn chown(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid)).unwrap();
}

/// The queue entry of `name` in a scan's JSON.
pub fn queue<'a>(json: &'a serde_json::Value, label: &str) -> &'a serde_json::Value {
    json["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["label"] == label)
        .unwrap_or_else(|| panic!("no queue {label} in {json:#}"))
}
