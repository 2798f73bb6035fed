//! One queue directory walked through descriptors, symlinks never followed: totals from one `lstat`
//! per file (apparent bytes, blocks with hard links counted once, files outside the site's group),
//! anomalies, and the qf of each oversized message parsed and grouped; on request (`scan_messages`)
//! also one record per message at or over `min`, with its files, for the purge. Memory: about 50
//! bytes per message of this one queue for matching data and control files (capped, see
//! `MAX_TRACKED`), never proportional to the whole host; the per-message records only when asked.

use super::groups::{Groups, Message};
use super::qf;
use super::queued::{At, FromQf, Layout, QueuedMessage, Seen};
use crate::readers::skips::Skips;
use crate::root::Root;
use crate::safeops::read::{self as nofollow, is, open_dir_at, stat_at, Blocked};
use nix::dir::{Dir, Type};
use nix::sys::stat::{FileStat, SFlag};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
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

/// What the walk keeps beyond the totals and groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keep {
    Totals,
    /// One `QueuedMessage` per message at or over `min`.
    Messages,
}

struct Walk<'a> {
    root: &'a Root,
    opts: ScanOptions,
    keep: Keep,
    scan: QueueScan,
    /// Relative paths (from the queue directory) of every directory walked.
    dirs: Vec<PathBuf>,
    controls: HashSet<Key>,
    data: HashMap<Key, u64>,
    big: Vec<Big>,
    linked: HashSet<(u64, u64)>,
    seen: Seen,
    queued: Vec<QueuedMessage>,
    /// The first directory that could not be listed: the messages in it are missing.
    unlisted: Option<Unlisted>,
    skips: &'a mut Skips,
}

/// A directory of the queue that could not be listed (a purge refuses to plan over part of a queue).
#[derive(Debug, Clone, PartialEq)]
pub struct Unlisted {
    pub path: String,
    pub reason: String,
}

impl std::fmt::Display for Unlisted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: cannot list the queue: {}", self.path, self.reason)
    }
}

/// Scans the queue directory open as `fd`, shown to the user as `path`.
pub fn scan_queue(
    root: &Root,
    fd: OwnedFd,
    path: &Path,
    opts: ScanOptions,
    skips: &mut Skips,
) -> QueueScan {
    walk(root, fd, path, opts, Keep::Totals, skips).scan
}

/// The same scan, also yielding each message whose size is at least `opts.min` (with `min` 0, also
/// every qf without data file) with its files where sendmail keeps them, as they were when read.
/// An error when a directory of the queue could not be listed.
pub fn scan_messages(
    root: &Root,
    fd: OwnedFd,
    path: &Path,
    opts: ScanOptions,
    skips: &mut Skips,
) -> Result<(QueueScan, Vec<QueuedMessage>), Unlisted> {
    let w = walk(root, fd, path, opts, Keep::Messages, skips);
    match w.unlisted {
        Some(u) => Err(u),
        None => Ok((w.scan, w.queued)),
    }
}

fn walk<'a>(
    root: &'a Root,
    fd: OwnedFd,
    path: &Path,
    opts: ScanOptions,
    keep: Keep,
    skips: &'a mut Skips,
) -> Walk<'a> {
    let mut w = Walk {
        root,
        opts,
        keep,
        scan: QueueScan::default(),
        dirs: vec![PathBuf::new()],
        controls: HashSet::new(),
        data: HashMap::new(),
        big: Vec::new(),
        linked: HashSet::new(),
        seen: Seen::default(),
        queued: Vec::new(),
        unlisted: None,
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
    w
}

impl Walk<'_> {
    fn walk_dir(&mut self, fd: &OwnedFd, path: &Path, dir_index: u16, depth: u8) {
        let cloned = fd
            .try_clone()
            .map_err(|e| nix::Error::from_raw(e.raw_os_error().unwrap_or(0)));
        let dir = match cloned.and_then(Dir::from_fd) {
            Ok(d) => d,
            Err(e) => return self.cannot_list(path, e.desc()),
        };
        for entry in dir {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    self.cannot_list(path, e.desc());
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
            if self.keep == Keep::Messages {
                self.seen
                    .note(name.as_bytes(), &st, dir_index, self.opts.min);
            }
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

    fn cannot_list(&mut self, path: &Path, why: &str) {
        self.skips.add_unreadable(self.root, path, why);
        self.unlisted.get_or_insert_with(|| Unlisted {
            path: self.root.display(path),
            reason: why.to_string(),
        });
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
        let layout = Layout::of(&self.dirs);
        for big in std::mem::take(&mut self.big) {
            let mut message = Message {
                id: qf::lossless_text(&big.id),
                size: big.size,
                mtime: big.mtime,
                owner: big.owner,
                control: None,
                problem: None,
            };
            let control_dir = layout.holding(&self.dirs, big.dir, "qf");
            let rel = self.dirs[control_dir as usize].clone();
            let mut from_qf = None;
            match self.read_control(fd, path, &rel, &big.id) {
                Ok(c) => {
                    message.owner = (c.stat.st_uid, c.stat.st_gid);
                    if self.keep == Keep::Messages && !c.quarantined {
                        from_qf = Some(FromQf::of(&c.file, &c.stat));
                    }
                    message.control = Some(c.file);
                }
                Err(e) => message.problem = Some(e),
            }
            if self.keep == Keep::Messages {
                self.keep_message(&layout, control_dir, big.dir, &big.id, from_qf);
            }
            self.scan.groups.add(message);
        }
        if self.keep == Keep::Messages && self.opts.min == 0 {
            // Every message is at least 0 bytes: those without data file too, found by their qf.
            for (dir, id) in self.seen.unclaimed_qf() {
                let data_dir = layout.holding(&self.dirs, dir, "df");
                let rel = self.dirs[dir as usize].clone();
                let name = OsString::from_vec([&b"qf"[..], &id].concat());
                let from_qf = self.read_qf_only(fd, path, &rel, &name);
                self.keep_message(&layout, dir, data_dir, &id, from_qf);
            }
        }
    }

    fn keep_message(
        &mut self,
        layout: &Layout,
        control_dir: u16,
        data_dir: u16,
        id: &[u8],
        from_qf: Option<FromQf>,
    ) {
        let at = At {
            dirs: &self.dirs,
            layout,
            control_dir,
            data_dir,
        };
        let m = self.seen.record(at, id, from_qf);
        self.queued.push(m);
    }

    /// Reads `qfID` (or the quarantined `hfID`) in `rel`.
    fn read_control(
        &mut self,
        fd: &OwnedFd,
        path: &Path,
        rel: &Path,
        id: &[u8],
    ) -> Result<Control, String> {
        let show = |p: &Path| self.root.display(p);
        let dir = nofollow::open_dir_beneath_fd(fd, rel, path).map_err(|b| b.describe(show))?;
        let mut last = None;
        for (prefix, quarantined) in [(&b"qf"[..], false), (b"hf", true)] {
            let name = OsString::from_vec([prefix, id].concat());
            match self.read_qf(&dir, &path.join(rel), &name) {
                Ok(Some((file, stat))) => {
                    return Ok(Control {
                        file,
                        stat,
                        quarantined,
                    })
                }
                Ok(None) => {}
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| "no qf: data file without control file".into()))
    }

    /// Reads the qf `name` in `rel`, no hf instead (a message found by its qf).
    fn read_qf_only(
        &mut self,
        fd: &OwnedFd,
        path: &Path,
        rel: &Path,
        name: &OsStr,
    ) -> Option<FromQf> {
        let dir = nofollow::open_dir_beneath_fd(fd, rel, path).ok()?;
        let (file, stat) = self.read_qf(&dir, &path.join(rel), name).ok()??;
        Some(FromQf::of(&file, &stat))
    }

    /// Reads and parses one control file of the directory `dir` (shown as `dir_path`); `Ok(None)`
    /// when there is none. A damaged or unreadable one is also a skip.
    fn read_qf(
        &mut self,
        dir: &OwnedFd,
        dir_path: &Path,
        name: &OsStr,
    ) -> Result<Option<(qf::ControlFile, FileStat)>, String> {
        let file_path = dir_path.join(name);
        match nofollow::read_file_at(dir, name, QF_CAP) {
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
                Ok(Some((c, st)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => {
                self.skips
                    .add_unreadable(self.root, &file_path, &e.to_string());
                Err(format!("qf unreadable: {e}"))
            }
        }
    }
}

/// A control file as read: parsed, its stat, and whether it is a quarantined `hf`.
struct Control {
    file: qf::ControlFile,
    stat: FileStat,
    quarantined: bool,
}

fn oldest(s: &mut QueueScan, mtime: i64) {
    s.oldest = Some(s.oldest.map_or(mtime, |o| o.min(mtime)));
    s.newest = Some(s.newest.map_or(mtime, |n| n.max(mtime)));
}

#[cfg(test)]
mod tests {
    use super::{key, walk, Keep, ScanOptions};
    use crate::readers::skips::Skips;
    use crate::root::Root;
    use std::os::fd::OwnedFd;

    /// `mqueue scan` over a runaway queue must not grow with it: the records are the purge's alone.
    #[test]
    fn the_plain_scan_keeps_nothing_per_message() {
        let tmp = tempfile::tempdir().unwrap();
        let q = tmp.path().join("mqueue");
        std::fs::create_dir(&q).unwrap();
        for i in 0..20 {
            std::fs::write(q.join(format!("qf{i:04}")), "V8\nT1\nSa@b\n.\n").unwrap();
            std::fs::write(q.join(format!("df{i:04}")), [b'x'; 64]).unwrap();
            std::fs::write(q.join(format!("xf{i:04}")), "x").unwrap();
        }
        let root = Root::new(tmp.path()).unwrap();
        let opts = ScanOptions {
            min: 0,
            site_gid: None,
        };
        let scan = |keep| {
            let fd = OwnedFd::from(std::fs::File::open(&q).unwrap());
            let mut skips = Skips::default();
            let w = walk(&root, fd, &q, opts, keep, &mut skips);
            (w.queued.len(), w.seen.is_empty(), w.scan.oversized)
        };
        assert_eq!(scan(Keep::Totals), (0, true, 20));
        let (records, _, oversized) = scan(Keep::Messages);
        assert_eq!((records, oversized), (20, 20));
    }

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
