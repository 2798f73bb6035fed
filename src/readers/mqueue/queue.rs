//! One queue directory walked through descriptors, symlinks never followed: totals from one `lstat`
//! per file (apparent bytes, blocks with hard links counted once, files outside the site's group),
//! anomalies, and the qf of each oversized message parsed and grouped. Memory is proportional to the
//! number of messages in this one queue (a few dozen bytes each), never to the whole host.

use super::groups::{Groups, Message};
use super::qf;
use crate::readers::nofollow::{self, is, open_dir_at, stat_at, Blocked};
use crate::readers::skips::Skips;
use crate::root::Root;
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
}

#[derive(Debug, Clone, Copy)]
pub struct ScanOptions {
    pub min: u64,
    /// The group whose quota the queue should be charged to (the site's admin group).
    pub site_gid: Option<u32>,
}

#[derive(Default, Clone, Copy)]
struct Slot {
    qf_dir: Option<u16>,
    hf_dir: Option<u16>,
    has_df: bool,
    df_size: u64,
    df_mtime: i64,
    owner: (u32, u32),
}

struct Walk<'a> {
    root: &'a Root,
    opts: ScanOptions,
    scan: QueueScan,
    /// Relative paths (from the queue directory) of every directory walked; slots point into it.
    dirs: Vec<PathBuf>,
    slots: HashMap<Box<[u8]>, Slot>,
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
        slots: HashMap::new(),
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
            Err(e) => return self.skips.add(self.root, path, e.desc()),
        };
        for entry in dir {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    self.skips.add(self.root, path, e.desc());
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
                    self.skips.add(self.root, &path.join(name), e.desc());
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
                return self
                    .skips
                    .add(self.root, &sub_path, &b.describe(|p| self.root.display(p)))
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
        let slot = || Slot::default();
        match kind {
            b"qf" => {
                s.messages += 1;
                let e = self.slots.entry(id.into()).or_insert_with(slot);
                e.qf_dir = Some(dir_index);
                e.owner = (st.st_uid, st.st_gid);
                oldest(s, mtime, !e.has_df);
            }
            b"hf" => {
                s.anomalies.quarantined += 1;
                self.slots.entry(id.into()).or_insert_with(slot).hf_dir = Some(dir_index);
            }
            b"df" => {
                let e = self.slots.entry(id.into()).or_insert_with(slot);
                e.has_df = true;
                e.df_size = size;
                e.df_mtime = mtime;
                if e.qf_dir.is_none() {
                    e.owner = (st.st_uid, st.st_gid);
                }
                oldest(s, mtime, true);
            }
            b"tf" => s.anomalies.tf_mtimes.push(mtime),
            b"Qf" => s.anomalies.lost_qf += 1,
            b"xf" => {}
            _ => s.anomalies.other_files += 1,
        }
    }

    /// Matches data files with control files and reads the qf of every oversized message.
    fn finish(&mut self, fd: &OwnedFd, path: &Path) {
        let slots = std::mem::take(&mut self.slots);
        for (id, slot) in slots {
            if !slot.has_df {
                continue;
            }
            let control = slot.qf_dir.or(slot.hf_dir);
            if control.is_none() {
                self.scan.anomalies.df_without_qf += 1;
                self.scan.anomalies.df_without_qf_bytes += slot.df_size;
            }
            if slot.df_size < self.opts.min {
                continue;
            }
            self.scan.oversized += 1;
            self.scan.oversized_bytes += slot.df_size;
            let id_text = qf::lossless_text(&id);
            let mut message = Message {
                id: id_text,
                size: slot.df_size,
                mtime: slot.df_mtime,
                owner: slot.owner,
                control: None,
                problem: None,
            };
            match control {
                None => message.problem = Some("no qf: data file without control file".into()),
                Some(d) => {
                    let prefix: &[u8] = if slot.qf_dir.is_some() { b"qf" } else { b"hf" };
                    let name = [prefix, &id[..]].concat();
                    match self.read_control(fd, path, d, &name) {
                        Ok(c) => message.control = Some(c),
                        Err(e) => message.problem = Some(e),
                    }
                }
            }
            self.scan.groups.add(message);
        }
    }

    fn read_control(
        &mut self,
        fd: &OwnedFd,
        path: &Path,
        dir_index: u16,
        name: &[u8],
    ) -> Result<qf::ControlFile, String> {
        let rel = self.dirs[dir_index as usize].clone();
        let dir_path = path.join(&rel);
        let file_path = dir_path.join(OsStr::from_bytes(name));
        let show = |p: &Path| self.root.display(p);
        let sub = nofollow::open_dir_beneath_fd(fd, &rel, path).map_err(|b| b.describe(show))?;
        match nofollow::read_file_at(&sub, OsStr::from_bytes(name), QF_CAP) {
            Ok((bytes, longer)) => {
                let mut c = qf::parse(&bytes);
                if longer {
                    c.problems
                        .push(format!("larger than {QF_CAP} bytes: read in part"));
                }
                if c.is_damaged() {
                    let reason = format!("malformed qf: {}", c.problems.join("; "));
                    self.skips.add(self.root, &file_path, &reason);
                }
                Ok(c)
            }
            Err(e) => {
                self.skips.add(self.root, &file_path, &e.to_string());
                Err(format!("qf unreadable: {e}"))
            }
        }
    }
}

fn oldest(s: &mut QueueScan, mtime: i64, counts: bool) {
    if counts {
        s.oldest = Some(s.oldest.map_or(mtime, |o| o.min(mtime)));
    }
    s.newest = Some(s.newest.map_or(mtime, |n| n.max(mtime)));
}
