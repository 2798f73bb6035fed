//! One queue directory walked through descriptors, symlinks never followed: totals from one `lstat`
//! per file (apparent bytes, blocks with hard links counted once, files outside the site's group),
//! anomalies, and the qf of each oversized message parsed and grouped. Memory: about 50 bytes per
//! message of this one queue for matching data and control files (capped, see `MAX_TRACKED`), never
//! proportional to the whole host.

use super::groups::{Groups, Message};
use super::qf;
use crate::readers::skips::Skips;
use crate::root::Root;
use crate::safeops::read::{self as nofollow, is, open_dir_at, stat_at, Blocked};
use nix::dir::{Dir, Type};
use nix::sys::stat::SFlag;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// A qf larger than this is read only this far (a qf holds headers and recipients, not the body).
const QF_CAP: usize = 4 << 20;

/// Ids remembered per queue to match df with qf files (about 50 bytes each). Beyond this the totals
/// and oversized messages are still exact, but data files without control file are no longer counted.
pub const MAX_TRACKED: usize = 1_000_000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Owner {
    pub uid: u32,
    pub gid: u32,
    /// Permission bits including setgid (e.g. 0o2770).
    pub mode: u32,
}

/// Queue files that should not be there, or not for long.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Anomalies {
    /// Data files whose control file is gone: never delivered, never expired.
    pub df_without_qf: u64,
    pub df_without_qf_bytes: u64,
    /// Temporary control files (`tf`), with their modification times to judge staleness.
    #[serde(skip)]
    pub tf_mtimes: Vec<i64>,
    /// Control files sendmail could not read and set aside (`Qf`).
    pub lost_qf: u64,
    /// Quarantined messages (`hf`).
    pub quarantined: u64,
    /// Files that are not queue files at all (not `xfID` names, devices, sockets...).
    pub other_files: u64,
}

#[derive(Debug, Default)]
pub struct QueueScan {
    pub dir: Owner,
    pub messages: u64,
    pub files: u64,
    pub bytes: u64,
    pub disk_bytes: u64,
    pub foreign_files: u64,
    pub foreign_bytes: u64,
    pub oldest: Option<i64>,
    pub newest: Option<i64>,
    pub oversized: u64,
    pub oversized_bytes: u64,
    pub anomalies: Anomalies,
    /// Sub-queue directories walked (`qf/ df/ xf/` and `q*` multiple queues).
    pub subdirs: u64,
    /// Symlinks met in the queue, not followed ("path -> target").
    pub symlinks: Vec<String>,
    pub groups: Groups,
    /// More than `MAX_TRACKED` ids: data files without control file were not all counted.
    pub matching_incomplete: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct ScanOptions {
    pub min: u64,
    /// The group whose quota the queue should be charged to (the site's admin group).
    pub site_gid: Option<u32>,
}

/// A queue id as a fixed-size key: sendmail's ids (14 characters) as they are, longer names by a
/// 128-bit hash, so that matching costs a few bytes per message whatever the names.
type Key = [u8; 16];

fn key(id: &[u8]) -> Key {
    use std::hash::{Hash, Hasher};
    let mut k = [0u8; 16];
    if id.len() < 16 {
        k[..id.len()].copy_from_slice(id);
        k[15] = id.len() as u8;
    } else {
        for (half, seed) in [(0usize, 0u8), (8, 1)] {
            let mut h = std::hash::DefaultHasher::new();
            (seed, id).hash(&mut h);
            k[half..half + 8].copy_from_slice(&h.finish().to_le_bytes());
        }
        // Lengths are below 16: this tag cannot collide with a short id.
        k[15] = 0xff;
    }
    k
}

/// A data file at or over --min, kept until its control file is read.
struct Big {
    id: Box<[u8]>,
    dir: u16,
    size: u64,
    mtime: i64,
    owner: (u32, u32),
}

struct Walk<'a> {
    root: &'a Root,
    opts: ScanOptions,
    scan: QueueScan,
    /// Relative paths (from the queue directory) of every directory walked.
    dirs: Vec<PathBuf>,
    controls: HashSet<Key>,
    data: HashMap<Key, u64>,
    big: Vec<Big>,
    linked: HashSet<(u64, u64)>,
    skips: &'a mut Skips,
}

/// Scans the queue directory open as `fd`, shown to the user as `path`.
pub fn scan_queue(
    root: &Root,
    fd: OwnedFd,
    path: &Path,
    opts: ScanOptions,
    skips: &mut Skips,
) -> QueueScan {
    let mut w = Walk {
        root,
        opts,
        scan: QueueScan::default(),
        dirs: vec![PathBuf::new()],
        controls: HashSet::new(),
        data: HashMap::new(),
        big: Vec::new(),
        linked: HashSet::new(),
        skips,
    };
    if let Ok(st) = nix::sys::stat::fstat(&fd) {
        w.scan.dir = Owner {
            uid: st.st_uid,
            gid: st.st_gid,
            mode: st.st_mode & 0o7777,
        };
    }
    w.walk_dir(&fd, path, 0, 0);
    w.finish(&fd, path);
    w.scan
}

impl Walk<'_> {
    fn walk_dir(&mut self, fd: &OwnedFd, path: &Path, dir_index: u16, depth: u8) {
        let cloned = fd
            .try_clone()
            .map_err(|e| nix::Error::from_raw(e.raw_os_error().unwrap_or(0)));
        let dir = match cloned.and_then(Dir::from_fd) {
            Ok(d) => d,
            Err(e) => return self.skips.add_unreadable(self.root, path, e.desc()),
        };
        for entry in dir {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    self.skips.add_unreadable(self.root, path, e.desc());
                    break;
                }
            };
            let name = OsStr::from_bytes(entry.file_name().to_bytes());
            if name == "." || name == ".." {
                continue;
            }
            let st = match stat_at(fd, name) {
                Ok(st) => st,
                // Delivered or expired while we looked: not an error.
                Err(nix::Error::ENOENT) => continue,
                Err(e) => {
                    self.skips
                        .add_unreadable(self.root, &path.join(name), e.desc());
                    continue;
                }
            };
            if is(st, SFlag::S_IFDIR) && entry.file_type() != Some(Type::Symlink) {
                self.subdir(fd, path, name, dir_index, depth);
            } else if is(st, SFlag::S_IFLNK) {
                let target = nofollow::link_target(fd, name);
                let shown = self.root.display(&path.join(name));
                self.scan.symlinks.push(format!("{shown} -> {target}"));
            } else if is(st, SFlag::S_IFREG) {
                self.file(name.as_bytes(), st, dir_index);
            } else {
                self.scan.anomalies.other_files += 1;
            }
        }
    }

    /// `qf/ df/ xf/` split the queue by file type; any other directory at the top is a sub-queue of a
    /// multiple-queue setup (`QueueDirectory=.../q*`), itself possibly split. Deeper is not sendmail's.
    fn subdir(&mut self, fd: &OwnedFd, path: &Path, name: &OsStr, parent: u16, depth: u8) {
        if depth >= 2 || self.dirs.len() >= u16::MAX as usize {
            self.scan.anomalies.other_files += 1;
            return;
        }
        let sub_path = path.join(name);
        let sub = match open_dir_at(fd, name, &sub_path) {
            Ok(sub) => sub,
            Err(Blocked::Missing) => return,
            Err(b) => {
                let why = b.describe(|p| self.root.display(p));
                return match b {
                    Blocked::Error { .. } => self.skips.add_unreadable(self.root, &sub_path, &why),
                    _ => self.skips.add(self.root, &sub_path, &why),
                };
            }
        };
        self.scan.subdirs += 1;
        let rel = self.dirs[parent as usize].join(name);
        self.dirs.push(rel);
        let index = (self.dirs.len() - 1) as u16;
        self.walk_dir(&sub, &sub_path, index, depth + 1);
    }

    fn file(&mut self, name: &[u8], st: nix::sys::stat::FileStat, dir_index: u16) {
        let size = st.st_size.max(0) as u64;
        let s = &mut self.scan;
        s.files += 1;
        s.bytes += size;
        // Blocks of a file with several links are counted once, like du.
        if st.st_nlink <= 1 || self.linked.insert((st.st_dev, st.st_ino)) {
            s.disk_bytes += st.st_blocks.max(0) as u64 * 512;
        }
        if self.opts.site_gid.is_some_and(|g| g != st.st_gid) {
            s.foreign_files += 1;
            s.foreign_bytes += size;
        }
        if name.len() < 3 {
            s.anomalies.other_files += 1;
            return;
        }
        let (kind, id) = name.split_at(2);
        let mtime = st.st_mtime;
        let room = self.controls.len() + self.data.len() < MAX_TRACKED;
        if !room {
            s.matching_incomplete = true;
        }
        match kind {
            b"qf" | b"hf" => {
                if kind == b"qf" {
                    s.messages += 1;
                } else {
                    s.anomalies.quarantined += 1;
                }
                // A qf is rewritten at every attempt: its time is the last attempt, but for a
                // message without data file it is the best there is.
                oldest(s, mtime);
                if room {
                    self.controls.insert(key(id));
                }
            }
            b"df" => {
                oldest(s, mtime);
                if room {
                    self.data.insert(key(id), size);
                }
                if size >= self.opts.min {
                    s.oversized += 1;
                    s.oversized_bytes += size;
                    self.big.push(Big {
                        id: id.into(),
                        dir: dir_index,
                        size,
                        mtime,
                        owner: (st.st_uid, st.st_gid),
                    });
                }
            }
            b"tf" => s.anomalies.tf_mtimes.push(mtime),
            b"Qf" => s.anomalies.lost_qf += 1,
            b"xf" => {}
            _ => s.anomalies.other_files += 1,
        }
    }

    /// Counts data files without control file and reads the qf of every oversized message.
    fn finish(&mut self, fd: &OwnedFd, path: &Path) {
        for (k, size) in std::mem::take(&mut self.data) {
            if !self.controls.contains(&k) {
                self.scan.anomalies.df_without_qf += 1;
                self.scan.anomalies.df_without_qf_bytes += size;
            }
        }
        self.controls = HashSet::new();
        for big in std::mem::take(&mut self.big) {
            let mut message = Message {
                id: qf::lossless_text(&big.id),
                size: big.size,
                mtime: big.mtime,
                owner: big.owner,
                control: None,
                problem: None,
            };
            // The control file sits beside the data file, or in the sibling qf/ of a df/.
            let rel = &self.dirs[big.dir as usize];
            let control_dir = match rel.file_name() {
                Some(n) if n == "df" => rel.with_file_name("qf"),
                _ => rel.clone(),
            };
            match self.read_control(fd, path, &control_dir, &big.id) {
                Ok((c, owner)) => {
                    message.control = Some(c);
                    message.owner = owner;
                }
                Err(e) => message.problem = Some(e),
            }
            self.scan.groups.add(message);
        }
    }

    /// Reads `qfID` (or the quarantined `hfID`) in `rel`; returns it with its owner.
    fn read_control(
        &mut self,
        fd: &OwnedFd,
        path: &Path,
        rel: &Path,
        id: &[u8],
    ) -> Result<(qf::ControlFile, (u32, u32)), String> {
        let show = |p: &Path| self.root.display(p);
        let dir = nofollow::open_dir_beneath_fd(fd, rel, path).map_err(|b| b.describe(show))?;
        let mut last = None;
        for prefix in [&b"qf"[..], b"hf"] {
            let name = [prefix, id].concat();
            let name = OsStr::from_bytes(&name);
            let file_path = path.join(rel).join(name);
            match nofollow::read_file_at(&dir, name, QF_CAP) {
                Ok((bytes, longer, st)) => {
                    let mut c = qf::parse(&bytes);
                    if longer {
                        c.problems
                            .push(format!("larger than {QF_CAP} bytes: read in part"));
                    }
                    if c.is_damaged() {
                        let reason = format!("malformed qf: {}", c.problems.join("; "));
                        self.skips.add(self.root, &file_path, &reason);
                    }
                    return Ok((c, (st.st_uid, st.st_gid)));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    self.skips
                        .add_unreadable(self.root, &file_path, &e.to_string());
                    last = Some(format!("qf unreadable: {e}"));
                }
            }
        }
        Err(last.unwrap_or_else(|| "no qf: data file without control file".into()))
    }
}

fn oldest(s: &mut QueueScan, mtime: i64) {
    s.oldest = Some(s.oldest.map_or(mtime, |o| o.min(mtime)));
    s.newest = Some(s.newest.map_or(mtime, |n| n.max(mtime)));
}

#[cfg(test)]
mod tests {
    use super::key;

    #[test]
    fn keys_tell_ids_apart() {
        assert_ne!(key(b"6AM2aXUG006021"), key(b"6AM2aXUG006022"));
        assert_ne!(key(b"ab"), key(b"ab\0"));
        let long = b"a very long queue file name indeed";
        assert_eq!(key(long), key(long));
        assert_ne!(key(long), key(b"a very long queue file name indeeD"));
        assert_eq!(key(long)[15], 0xff);
    }
}
