//! One queue directory walked through descriptors, symlinks never followed: totals from one `lstat`
//! per file (apparent bytes, blocks with hard links counted once, files outside the site's group),
//! anomalies, and the qf of each oversized message parsed and grouped; on request (`scan_messages`)
//! also one record per message at or over `min`, with its files, for the purge. Memory: about 50
//! bytes per message of this one queue for matching data and control files (capped, see
//! `MAX_TRACKED`), never proportional to the whole host; the per-message records only when asked.

use super::groups::{Groups, Message};
use super::qf;
use super::queued::{QueueFile, QueuedMessage};
use crate::readers::skips::Skips;
use crate::root::Root;
use crate::safeops::read::{self as nofollow, is, open_dir_at, stat_at, Blocked};
use crate::safeops::Meta;
use crate::sendmail::layout::QUEUE_SUBDIRS;
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

/// A queue file's name in one walked directory: (directory index, id bytes).
type Named = (u16, Box<[u8]>);

/// What `Keep::Messages` notes while walking: every qf and xf name (of any type: a purge must see a
/// symlink named like a queue file to refuse it) and every data file at or over `min`, as it was.
#[derive(Default)]
struct Seen {
    qf: HashMap<Named, Meta>,
    df: HashMap<Named, Meta>,
    xf: HashMap<Named, Meta>,
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
                self.note(name.as_bytes(), &st, dir_index);
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

    /// Notes a queue file's name as `Keep::Messages` needs it (see `Seen`).
    fn note(&mut self, name: &[u8], st: &FileStat, dir: u16) {
        let (Some(kind), Some(id)) = (name.get(..2), name.get(2..)) else {
            return;
        };
        let meta = Meta::from_stat(st);
        let regular = is(*st, SFlag::S_IFREG);
        let seen = match kind {
            b"qf" => &mut self.seen.qf,
            b"xf" => &mut self.seen.xf,
            b"df" if regular && meta.size >= self.opts.min => &mut self.seen.df,
            _ => return,
        };
        seen.insert((dir, id.into()), meta);
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
            let mut left: Vec<Named> = self.seen.qf.keys().cloned().collect();
            left.sort();
            for (dir, id) in left {
                let data_dir = layout.holding(&self.dirs, dir, "df");
                let rel = self.dirs[dir as usize].clone();
                let name = OsString::from_vec([&b"qf"[..], &id].concat());
                let from_qf = self.read_qf_only(fd, path, &rel, &name);
                self.keep_message(&layout, dir, data_dir, &id, from_qf);
            }
        }
    }

    /// The record of one message (`Keep::Messages`): its qf in `control_dir`, as read when it was
    /// (else as walked), its data file in `data_dir`, its xf where sendmail keeps it.
    fn keep_message(
        &mut self,
        layout: &Layout,
        control_dir: u16,
        data_dir: u16,
        id: &[u8],
        from_qf: Option<FromQf>,
    ) {
        let walked = self.seen.qf.remove(&(control_dir, id.into()));
        let df = self.seen.df.get(&(data_dir, id.into())).copied();
        let xf_dir = layout.holding(&self.dirs, control_dir, "xf");
        let xf = self.seen.xf.get(&(xf_dir, id.into())).copied();
        let file = |dir: u16, kind: &[u8], meta| QueueFile {
            dir: self.dirs[dir as usize].clone(),
            name: OsString::from_vec([kind, id].concat()),
            meta,
        };
        let (qf_meta, envelope) = match from_qf {
            Some(q) => (q.meta, q),
            None => (walked, FromQf::default()),
        };
        self.queued.push(QueuedMessage {
            id: id.to_vec(),
            size: df.map_or(0, |m| m.size),
            qf: file(control_dir, b"qf", qf_meta),
            df: file(data_dir, b"df", df),
            xf: xf.map(|m| file(xf_dir, b"xf", Some(m))),
            created: envelope.created,
            sender: envelope.sender,
            subject: envelope.subject,
        });
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

/// What a message's record takes from its qf: the file as it was read, and the envelope fields.
#[derive(Default)]
struct FromQf {
    meta: Option<Meta>,
    created: Option<u64>,
    sender: Option<String>,
    subject: Option<String>,
}

impl FromQf {
    fn of(c: &qf::ControlFile, st: &FileStat) -> FromQf {
        FromQf {
            meta: Some(Meta::from_stat(st)),
            created: c.created,
            sender: c.sender.clone(),
            subject: c.subject.clone(),
        }
    }
}

/// A control file as read: parsed, its stat, and whether it is a quarantined `hf`.
struct Control {
    file: qf::ControlFile,
    stat: FileStat,
    quarantined: bool,
}

/// Which walked directory holds a queue's files of one kind. sendmail splits a queue's qf, df and xf
/// files into subdirectories of those names each on its own (queue.c `queuename()`): a queue with a
/// `df/` but no `qf/` keeps its control files at its top.
struct Layout {
    index: HashMap<PathBuf, u16>,
}

impl Layout {
    fn of(dirs: &[PathBuf]) -> Layout {
        let index = dirs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.clone(), i as u16))
            .collect();
        Layout { index }
    }

    /// The directory holding files of `kind` in the queue that `dir` belongs to (`dir` is the queue
    /// directory, a `q*` sub-queue, or one of their `qf/ df/ xf/`).
    fn holding(&self, dirs: &[PathBuf], dir: u16, kind: &str) -> u16 {
        let rel = &dirs[dir as usize];
        let queue = match (rel.file_name(), rel.parent()) {
            (Some(n), Some(parent)) if QUEUE_SUBDIRS.iter().any(|s| n == *s) => parent,
            _ => rel.as_path(),
        };
        let found = |p: &Path| self.index.get(p).copied();
        found(&queue.join(kind))
            .or_else(|| found(queue))
            .unwrap_or(dir)
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
