//! Descriptor-relative walking: the only way the toolkit changes files (this module, the write half)
//! and the way it reads inside trees others control (`read`, the read half, which readers use).
//! Every operation works relative to a directory descriptor,
//! never follows a symlink (`O_NOFOLLOW`, `AT_SYMLINK_NOFOLLOW`, `AT_EMPTY_PATH` on `O_PATH`
//! descriptors), refuses to touch a regular file with other hard links, replaces files atomically
//! (temporary file in the same directory, fsync, rename) keeping owner and mode, and creates backups
//! and journal entries exclusively (`O_EXCL`), never through an existing name.
//!
//! Modelled on uutils' `safe_traversal.rs`: the directory tree of a site is controlled by the site's
//! administrator, so every name in it is looked up exactly once, without following links, and the
//! object found is the object changed.

pub mod journal;
mod queue;
pub mod read;
mod temps;

pub use queue::Locked;

use read::{Blocked, NotOpened};

use nix::errno::Errno;
use nix::fcntl::{openat, renameat, AtFlags, OFlag};
use nix::sys::stat::{fchmod, fstat, FileStat, Mode};
use nix::unistd::{fchown, fchownat, fsync, linkat, Gid, Uid};
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// Why a safe operation did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SafeError {
    /// Refused by a safety rule (symlink, other hard links, unexpected file type...).
    #[error("{path}: {reason}")]
    Refused { path: String, reason: String },
    /// The operation was tried and failed.
    #[error("{path}: {errno}")]
    Failed { path: String, errno: Errno },
    /// The name does not exist.
    #[error("{path}: does not exist")]
    Missing { path: String },
}

pub type Result<T> = std::result::Result<T, SafeError>;

impl SafeError {
    /// The reason without the path (for reports that show the path beside it).
    pub fn reason(&self) -> String {
        match self {
            SafeError::Refused { reason, .. } => reason.clone(),
            SafeError::Failed { errno, .. } => errno.desc().to_string(),
            SafeError::Missing { .. } => "does not exist".into(),
        }
    }
}

/// What a name refers to, without following it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Dir,
    File,
    Symlink,
    Other,
}

fn kind_of(st: &FileStat) -> Kind {
    match st.st_mode & libc::S_IFMT {
        libc::S_IFDIR => Kind::Dir,
        libc::S_IFREG => Kind::File,
        libc::S_IFLNK => Kind::Symlink,
        _ => Kind::Other,
    }
}

/// Before each mutating operation (`what` it is about to do to `path`): a test can make the Nth
/// operation fail, simulating a run stopped between steps (`TOOLKIT_INJECT_FAILURE=N`), or kill the
/// process right there (`TOOLKIT_INJECT_KILL=N`). A kill counts in the same sequence as the kill
/// points inside the operations (`temps::kill_point`), so one number names one moment and
/// `TOOLKIT_INJECT_KILL_TRACE=1` lists them all; debug builds only.
#[cfg(debug_assertions)]
fn injected_failure(what: &str, path: &str) -> Result<()> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    temps::kill_point(what, path);
    if let Some(n) = std::env::var("TOOLKIT_INJECT_FAILURE")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        if COUNT.fetch_add(1, Ordering::SeqCst) + 1 == n {
            return Err(SafeError::Failed {
                path: path.to_string(),
                errno: Errno::EIO,
            });
        }
    }
    Ok(())
}

#[cfg(not(debug_assertions))]
fn injected_failure(_what: &str, _path: &str) -> Result<()> {
    Ok(())
}

/// An open directory; names below it are resolved relative to its descriptor.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

/// The owner, group and permission bits of a file system object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Meta {
    pub kind: Kind,
    pub uid: u32,
    pub gid: u32,
    /// Permission bits including setuid/setgid/sticky (`st_mode & 07777`).
    pub mode: u32,
    pub nlink: u64,
    /// Apparent size in bytes.
    #[serde(skip)]
    pub size: u64,
    #[serde(skip)]
    pub dev: u64,
    #[serde(skip)]
    pub ino: u64,
}

impl Meta {
    /// Why the safety rules refuse to change this object (see `Entry::check_changeable`), if they do:
    /// a plan is checked with it before anything is opened for writing.
    pub fn refusal(&self) -> Option<String> {
        match self.kind {
            Kind::Symlink => Some("is a symlink (not followed)".to_string()),
            Kind::Other => Some("is not a regular file or directory".to_string()),
            Kind::File if self.nlink > 1 => Some(format!(
                "has {} hard links (shared with files elsewhere; changing it would change them too)",
                self.nlink
            )),
            _ => None,
        }
    }

    /// The metadata of a stat result, as `Dir::entry` holds it (for readers that walk with `lstat`).
    pub fn from_stat(st: &FileStat) -> Meta {
        Meta {
            kind: kind_of(st),
            uid: st.st_uid,
            gid: st.st_gid,
            mode: st.st_mode & 0o7777,
            nlink: st.st_nlink,
            size: st.st_size.max(0) as u64,
            dev: st.st_dev,
            ino: st.st_ino,
        }
    }
}

fn single_name(name: &OsStr) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.as_bytes().contains(&b'/')
}

impl Dir {
    /// Opens a directory the administrator controls (the root, `home/virtual/siteN/fst`): the path is
    /// resolved normally except that its last component must not be a symlink.
    pub fn open_trusted(path: &Path) -> Result<Dir> {
        let shown = || path.display().to_string();
        match read::open_base(path) {
            Ok(fd) => Ok(Dir {
                fd,
                path: path.to_path_buf(),
            }),
            Err(Blocked::Symlink { .. } | Blocked::NotDir { .. }) => Err(SafeError::Refused {
                path: shown(),
                reason: "is a symlink or not a directory".into(),
            }),
            Err(Blocked::Missing) => Err(SafeError::Missing { path: shown() }),
            Err(Blocked::Error { errno, .. }) => Err(SafeError::Failed {
                path: shown(),
                errno,
            }),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn show(&self, name: &OsStr) -> String {
        self.path.join(name).display().to_string()
    }

    /// Opens a relative path one component at a time, never following a symlink.
    pub fn subdir(&self, rel: &Path) -> Result<Dir> {
        let mut current: Option<Dir> = None;
        for comp in rel.components() {
            let Component::Normal(name) = comp else {
                return Err(SafeError::Refused {
                    path: self.path.join(rel).display().to_string(),
                    reason: "path must be relative and plain".into(),
                });
            };
            let base = current.as_ref().unwrap_or(self);
            let next = base.open_dir(name)?;
            current = Some(next);
        }
        current.ok_or_else(|| SafeError::Refused {
            path: self.path.display().to_string(),
            reason: "empty path".into(),
        })
    }

    fn open_dir(&self, name: &OsStr) -> Result<Dir> {
        let path = self.show(name);
        if !single_name(name) {
            return Err(SafeError::Refused {
                path,
                reason: "not a plain name".into(),
            });
        }
        let at = self.path.join(name);
        match read::open_dir_at(self.fd.as_fd(), name, &at) {
            Ok(fd) => Ok(Dir { fd, path: at }),
            Err(Blocked::Symlink { .. }) => Err(SafeError::Refused {
                path,
                reason: "is a symlink (not followed)".into(),
            }),
            Err(Blocked::NotDir { .. }) => Err(SafeError::Refused {
                path,
                reason: "is not a directory".into(),
            }),
            Err(Blocked::Missing) => Err(SafeError::Missing { path }),
            Err(Blocked::Error { errno, .. }) => Err(SafeError::Failed { path, errno }),
        }
    }

    /// Looks a name up without following it. `Ok(None)` when it does not exist.
    pub fn entry(&self, name: &OsStr) -> Result<Option<Entry<'_>>> {
        let path = self.show(name);
        if !single_name(name) {
            return Err(SafeError::Refused {
                path,
                reason: "not a plain name".into(),
            });
        }
        let flags = OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let fd = match openat(self.fd.as_fd(), name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => return Ok(None),
            Err(errno) => return Err(SafeError::Failed { path, errno }),
        };
        let st = fstat(fd.as_fd()).map_err(|errno| SafeError::Failed {
            path: path.clone(),
            errno,
        })?;
        Ok(Some(Entry {
            dir: self,
            name: name.to_os_string(),
            fd,
            meta: Meta::from_stat(&st),
        }))
    }

    /// Like `entry`, but a missing name is an error.
    pub fn existing(&self, name: &OsStr) -> Result<Entry<'_>> {
        self.entry(name)?.ok_or_else(|| SafeError::Missing {
            path: self.show(name),
        })
    }

    /// Names in this directory (not `.`/`..`), sorted.
    pub fn names(&self) -> Result<Vec<OsString>> {
        let dup = self.fd.try_clone().map_err(|e| SafeError::Failed {
            path: self.path.display().to_string(),
            errno: Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
        })?;
        let mut d = nix::dir::Dir::from_fd(dup).map_err(|errno| SafeError::Failed {
            path: self.path.display().to_string(),
            errno,
        })?;
        let mut names: Vec<OsString> = d
            .iter()
            .flatten()
            .map(|e| OsStr::from_bytes(e.file_name().to_bytes()).to_os_string())
            .filter(|n| n != "." && n != "..")
            .collect();
        names.sort();
        Ok(names)
    }

    /// Reads a regular file without following a symlink, up to `READ_CAP` (see `read_capped`).
    pub fn read(&self, name: &OsStr) -> Result<Vec<u8>> {
        self.read_capped(name, READ_CAP)
    }

    /// Reads a regular file without following a symlink. A file bigger than `cap` bytes is refused
    /// with its size, before anything is allocated (a sparse 2 TiB file costs nothing to make).
    pub fn read_capped(&self, name: &OsStr, cap: u64) -> Result<Vec<u8>> {
        let path = self.show(name);
        let (mut file, st) = match read::open_regular_at(self.fd.as_fd(), name) {
            Ok(opened) => opened,
            Err(NotOpened::Errno(Errno::ELOOP)) => {
                return Err(SafeError::Refused {
                    path,
                    reason: "is a symlink (not followed)".into(),
                })
            }
            Err(NotOpened::Errno(Errno::ENOENT)) => return Err(SafeError::Missing { path }),
            Err(NotOpened::Errno(errno)) => return Err(SafeError::Failed { path, errno }),
            Err(NotOpened::NotRegular) => {
                return Err(SafeError::Refused {
                    path,
                    reason: "is not a regular file".into(),
                })
            }
        };
        let size = st.st_size.max(0) as u64;
        if size > cap {
            return Err(too_big(path, size, cap));
        }
        // The file may grow after the fstat: never read more than the cap.
        let (buf, longer) =
            read::read_upto(&mut file, cap, size).map_err(|e| io_failed(&path, e))?;
        if longer {
            return Err(too_big(path, cap + 1, cap));
        }
        Ok(buf)
    }

    /// Creates a new file that must not exist yet (not even as a dangling symlink), with this owner
    /// and mode, and syncs it. For backups and journal entries. The content is written to a temporary
    /// name, synced, and linked to `name` (`linkat`, which never replaces anything), so `name` holds
    /// the complete content or does not exist, even when the run is killed.
    pub fn create_exclusive(
        &self,
        name: &OsStr,
        content: &[u8],
        uid: u32,
        gid: u32,
        mode: u32,
    ) -> Result<()> {
        let shown = self.show(name);
        self.create_exclusive_with(name, uid, gid, mode, |file| {
            let (first, rest) = content.split_at(content.len() / 2);
            file.write_all(first)?;
            temps::kill_point("half written", &shown);
            file.write_all(rest)
        })
    }

    /// `create_exclusive` with the content written by `write` (a streamed copy).
    pub(crate) fn create_exclusive_with(
        &self,
        name: &OsStr,
        uid: u32,
        gid: u32,
        mode: u32,
        write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
    ) -> Result<()> {
        let path = self.show(name);
        injected_failure("before creating", &path)?;
        if !single_name(name) {
            return Err(SafeError::Refused {
                path,
                reason: "not a plain name".into(),
            });
        }
        self.sweep_temps();
        if self.entry(name)?.is_some() {
            return Err(exists(&path));
        }
        let tmp = temps::temp_name(name);
        let tmp_path = self.show(&tmp);
        let fd = self.create_new(&tmp, &tmp_path)?;
        let result = write_and_set(&fd, write, uid, gid, mode, &tmp_path).and_then(|_| {
            temps::kill_point("written and synced, not linked", &path);
            linkat(
                self.fd.as_fd(),
                tmp.as_os_str(),
                self.fd.as_fd(),
                name,
                AtFlags::empty(),
            )
            .map_err(|errno| match errno {
                Errno::EEXIST => exists(&path),
                errno => SafeError::Failed {
                    path: path.clone(),
                    errno,
                },
            })
        });
        temps::kill_point("linked, temporary name not removed", &path);
        let _ = nix::unistd::unlinkat(
            self.fd.as_fd(),
            tmp.as_os_str(),
            nix::unistd::UnlinkatFlags::NoRemoveDir,
        );
        result?;
        fsync(self.fd.as_fd()).map_err(|errno| SafeError::Failed { path, errno })
    }

    fn create_new(&self, name: &OsStr, path: &str) -> Result<OwnedFd> {
        if !single_name(name) {
            return Err(SafeError::Refused {
                path: path.to_string(),
                reason: "not a plain name".into(),
            });
        }
        let flags =
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        openat(
            self.fd.as_fd(),
            name,
            flags,
            Mode::from_bits_truncate(0o600),
        )
        .map_err(|errno| match errno {
            Errno::EEXIST => exists(path),
            errno => SafeError::Failed {
                path: path.to_string(),
                errno,
            },
        })
    }

    /// Atomically replaces a regular file's content, keeping its owner and mode: a temporary file in the
    /// same directory is written, given the owner and mode, synced, and renamed over the name. Refuses a
    /// symlink, a non-regular file, and a file with other hard links (replacing it would silently split
    /// it from the files it is shared with).
    pub fn replace(&self, name: &OsStr, content: &[u8]) -> Result<()> {
        let path = self.show(name);
        let old = self.existing(name)?;
        old.check_changeable()?;
        let meta = old.meta;
        injected_failure("before replacing", &path)?;
        self.sweep_temps();
        let tmp = temps::temp_name(name);
        let tmp_path = self.show(&tmp);
        let fd = self.create_new(&tmp, &tmp_path)?;
        let write = |file: &mut std::fs::File| file.write_all(content);
        let result =
            write_and_set(&fd, write, meta.uid, meta.gid, meta.mode, &tmp_path).and_then(|_| {
                // The name must still be the file checked above; if it changed meanwhile, give up.
                match self.entry(name)? {
                    Some(now) if now.meta.dev == meta.dev && now.meta.ino == meta.ino => Ok(()),
                    _ => Err(SafeError::Refused {
                        path: path.clone(),
                        reason: "changed while being replaced".into(),
                    }),
                }
            });
        let result = result.and_then(|_| {
            temps::kill_point("replacement written, not renamed", &path);
            renameat(self.fd.as_fd(), tmp.as_os_str(), self.fd.as_fd(), name).map_err(|errno| {
                SafeError::Failed {
                    path: path.clone(),
                    errno,
                }
            })
        });
        if result.is_err() {
            let _ = nix::unistd::unlinkat(
                self.fd.as_fd(),
                tmp.as_os_str(),
                nix::unistd::UnlinkatFlags::NoRemoveDir,
            );
        }
        result?;
        fsync(self.fd.as_fd()).map_err(|errno| SafeError::Failed { path, errno })
    }

    /// Writes `content` into an existing regular file in place, without truncating or replacing it,
    /// as kernel interface files (cgroupfs `memory.max`, `cgroup.procs`) must be written: a rename
    /// over them is refused by the kernel. Never follows a symlink and never creates the name.
    pub fn write_in_place(&self, name: &OsStr, content: &[u8]) -> Result<()> {
        let path = self.show(name);
        if !single_name(name) {
            return Err(SafeError::Refused {
                path,
                reason: "not a plain name".into(),
            });
        }
        injected_failure("before writing in place", &path)?;
        let flags = OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let fd = match openat(self.fd.as_fd(), name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::ELOOP) => {
                return Err(SafeError::Refused {
                    path,
                    reason: "is a symlink (not followed)".into(),
                })
            }
            Err(Errno::ENOENT) => return Err(SafeError::Missing { path }),
            Err(errno) => return Err(SafeError::Failed { path, errno }),
        };
        let st = fstat(fd.as_fd()).map_err(|errno| SafeError::Failed {
            path: path.clone(),
            errno,
        })?;
        if kind_of(&st) != Kind::File {
            return Err(SafeError::Refused {
                path,
                reason: "is not a regular file".into(),
            });
        }
        let mut file = std::fs::File::from(fd);
        file.write_all(content).map_err(|e| io_failed(&path, e))
    }

    /// Creates a subdirectory if it does not exist (never through a symlink) and opens it.
    pub fn ensure_dir(&self, name: &OsStr, mode: u32) -> Result<Dir> {
        match nix::sys::stat::mkdirat(self.fd.as_fd(), name, Mode::from_bits_truncate(mode)) {
            Ok(()) | Err(Errno::EEXIST) => self.open_dir(name),
            Err(errno) => Err(SafeError::Failed {
                path: self.show(name),
                errno,
            }),
        }
    }

    /// Renames an entry within this directory (for marking journals undone).
    pub fn rename(&self, from: &OsStr, to: &OsStr) -> Result<()> {
        injected_failure("before renaming", &self.show(from))?;
        renameat(self.fd.as_fd(), from, self.fd.as_fd(), to).map_err(|errno| SafeError::Failed {
            path: self.show(from),
            errno,
        })
    }
}

/// The most any file is read whole (`Dir::read`); kinds with a smaller natural size use
/// `read_capped` with their own cap.
pub const READ_CAP: u64 = 4 << 20;

/// A sendmail.mc or sendmail.cf: real ones are a few KiB (mc) to about 100 KiB (cf).
pub const CONFIG_CAP: u64 = 512 << 10;

fn too_big(path: String, size: u64, cap: u64) -> SafeError {
    SafeError::Refused {
        path,
        reason: format!(
            "is {} ({size} bytes), more than the {} this kind of file may be: not read",
            crate::units::human_size(size),
            crate::units::human_size(cap)
        ),
    }
}

fn exists(path: &str) -> SafeError {
    SafeError::Refused {
        path: path.to_string(),
        reason: "already exists (a backup or entry is never written through an existing name)"
            .into(),
    }
}

/// The directory's descriptor, for a child process to `fchdir` into (m4 runs inside a site).
impl AsFd for Dir {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

fn io_failed(path: &str, e: std::io::Error) -> SafeError {
    SafeError::Failed {
        path: path.to_string(),
        errno: Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
    }
}

/// Writes content to a fresh file, then owner, then mode (modes after owners: chown clears setgid), then fsync.
fn write_and_set(
    fd: &OwnedFd,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
    uid: u32,
    gid: u32,
    mode: u32,
    path: &str,
) -> Result<()> {
    let mut file = std::fs::File::from(fd.try_clone().map_err(|e| io_failed(path, e))?);
    temps::kill_point("temporary file created", path);
    write(&mut file).map_err(|e| io_failed(path, e))?;
    fchown(
        fd.as_fd(),
        Some(Uid::from_raw(uid)),
        Some(Gid::from_raw(gid)),
    )
    .map_err(|errno| SafeError::Failed {
        path: path.to_string(),
        errno,
    })?;
    fchmod(fd.as_fd(), Mode::from_bits_truncate(mode)).map_err(|errno| SafeError::Failed {
        path: path.to_string(),
        errno,
    })?;
    fsync(fd.as_fd()).map_err(|errno| SafeError::Failed {
        path: path.to_string(),
        errno,
    })
}

/// A name looked up without following it, held open (`O_PATH`) so that the object checked is the
/// object changed.
#[derive(Debug)]
pub struct Entry<'d> {
    dir: &'d Dir,
    name: OsString,
    fd: OwnedFd,
    pub meta: Meta,
}

impl Entry<'_> {
    pub fn path(&self) -> String {
        self.dir.show(&self.name)
    }

    /// The safety rules for changing an object: no symlink, only directories and regular files, and a
    /// regular file must have no other hard link.
    pub fn check_changeable(&self) -> Result<()> {
        match self.meta.refusal() {
            None => Ok(()),
            Some(reason) => Err(SafeError::Refused {
                path: self.path(),
                reason,
            }),
        }
    }

    /// Changes owner and group (`fchownat(fd, "", AT_EMPTY_PATH)` on the held descriptor).
    pub fn chown(&self, uid: u32, gid: u32) -> Result<()> {
        self.check_changeable()?;
        injected_failure("before changing the owner of", &self.path())?;
        fchownat(
            self.fd.as_fd(),
            "",
            Some(Uid::from_raw(uid)),
            Some(Gid::from_raw(gid)),
            AtFlags::AT_EMPTY_PATH,
        )
        .map_err(|errno| SafeError::Failed {
            path: self.path(),
            errno,
        })
    }

    /// Changes the permission bits. Linux has no fchmodat without following, so the name is opened
    /// again with `O_NOFOLLOW` and must be the same object (device and inode) as the one checked.
    pub fn chmod(&self, mode: u32) -> Result<()> {
        self.check_changeable()?;
        injected_failure("before changing the mode of", &self.path())?;
        let mut flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
        if self.meta.kind == Kind::Dir {
            flags |= OFlag::O_DIRECTORY;
        }
        let fd = openat(
            self.dir.fd.as_fd(),
            self.name.as_os_str(),
            flags,
            Mode::empty(),
        )
        .map_err(|errno| SafeError::Failed {
            path: self.path(),
            errno,
        })?;
        let st = fstat(fd.as_fd()).map_err(|errno| SafeError::Failed {
            path: self.path(),
            errno,
        })?;
        if st.st_dev != self.meta.dev || st.st_ino != self.meta.ino {
            return Err(SafeError::Refused {
                path: self.path(),
                reason: "changed while being changed".into(),
            });
        }
        fchmod(fd.as_fd(), Mode::from_bits_truncate(mode)).map_err(|errno| SafeError::Failed {
            path: self.path(),
            errno,
        })
    }

    /// Re-reads the metadata of the held object (after a change to it).
    pub fn refresh(&mut self) -> Result<()> {
        let st = fstat(self.fd.as_fd()).map_err(|errno| SafeError::Failed {
            path: self.path(),
            errno,
        })?;
        self.meta = Meta::from_stat(&st);
        Ok(())
    }

    /// Opens this entry as a directory (it must be one, and not a symlink).
    pub fn open_dir(&self) -> Result<Dir> {
        self.dir.open_dir(&self.name)
    }
}

#[cfg(test)]
mod tests;
