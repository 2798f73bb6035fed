//! The read half of descriptor-relative walking: reading inside a tree that someone else controls (a
//! site's `fst/`, a spool) without ever following a symlink. Every component is opened relative to
//! its parent's descriptor with `O_NOFOLLOW`, and what stops a walk (a symlink, a missing entry, a
//! file where a directory was expected) is returned as data. The write half (`safeops::Dir`) opens
//! directories and files through the same primitives.

use nix::errno::Errno;
use nix::fcntl::{openat, readlinkat, OFlag};
use nix::sys::stat::{fstat, fstatat, FileStat, Mode, SFlag};
use std::ffi::OsStr;
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Why a path could not be opened as a directory without following a symlink.
#[derive(Debug, Clone, PartialEq)]
pub enum Blocked {
    /// The path (or one of its components) does not exist.
    Missing,
    /// A component is a symlink: not followed. `at` is the symlink, `target` what it points to.
    Symlink { at: PathBuf, target: String },
    /// A component exists but is not a directory.
    NotDir { at: PathBuf },
    /// Any other error (permission denied, I/O error), with the component it happened at.
    Error { at: PathBuf, errno: Errno },
}

impl Blocked {
    /// One line for a person, paths shown through `show`.
    pub fn describe(&self, show: impl Fn(&Path) -> String) -> String {
        match self {
            Blocked::Missing => "does not exist".into(),
            Blocked::Symlink { at, target } => {
                format!("{} is a symlink to {target}: not followed", show(at))
            }
            Blocked::NotDir { at } => format!("{} is not a directory", show(at)),
            Blocked::Error { at, errno } => format!("{}: {}", show(at), errno.desc()),
        }
    }
}

pub(super) const DIR_FLAGS: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_DIRECTORY)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC);

/// Opens a directory the administrator controls (the root, a directory the caller found with lstat):
/// the path is resolved normally except that its last component must not be a symlink.
pub fn open_base(base: &Path) -> Result<OwnedFd, Blocked> {
    nix::fcntl::open(base, DIR_FLAGS, Mode::empty()).map_err(|errno| match errno {
        Errno::ENOENT => Blocked::Missing,
        Errno::ELOOP => Blocked::Symlink {
            at: base.to_path_buf(),
            target: std::fs::read_link(base)
                .map(|t| t.display().to_string())
                .unwrap_or_default(),
        },
        Errno::ENOTDIR => Blocked::NotDir {
            at: base.to_path_buf(),
        },
        errno => Blocked::Error {
            at: base.to_path_buf(),
            errno,
        },
    })
}

/// Opens `base` (trusted, see `open_base`) and then each component of `rel` below it, refusing
/// symlinks.
pub fn open_dir_beneath(base: &Path, rel: &Path) -> Result<OwnedFd, Blocked> {
    open_dir_beneath_fd(&open_base(base)?, rel, base)
}

/// Opens the directory `rel` below the open directory `fd` (shown as `base`), refusing symlinks.
pub fn open_dir_beneath_fd(fd: &OwnedFd, rel: &Path, base: &Path) -> Result<OwnedFd, Blocked> {
    let mut cur = fd.try_clone().map_err(|e| Blocked::Error {
        at: base.to_path_buf(),
        errno: Errno::from_raw(e.raw_os_error().unwrap_or(0)),
    })?;
    let mut at = base.to_path_buf();
    for comp in rel.components() {
        at.push(comp.as_os_str());
        cur = open_dir_at(&cur, comp.as_os_str(), &at)?;
    }
    Ok(cur)
}

/// Opens the directory `name` inside `dir` (shown as `at`), refusing a symlink.
pub fn open_dir_at(dir: impl AsFd, name: &OsStr, at: &Path) -> Result<OwnedFd, Blocked> {
    match openat(&dir, name, DIR_FLAGS, Mode::empty()) {
        Ok(fd) => Ok(fd),
        Err(Errno::ENOENT) => Err(Blocked::Missing),
        // O_NOFOLLOW on a symlink gives ELOOP (and ENOTDIR with O_DIRECTORY on some kernels).
        Err(Errno::ELOOP | Errno::ENOTDIR) => match stat_at(&dir, name) {
            Ok(st) if is(st, SFlag::S_IFLNK) => Err(Blocked::Symlink {
                at: at.to_path_buf(),
                target: link_target(&dir, name),
            }),
            _ => Err(Blocked::NotDir {
                at: at.to_path_buf(),
            }),
        },
        Err(errno) => Err(Blocked::Error {
            at: at.to_path_buf(),
            errno,
        }),
    }
}

/// lstat relative to a directory descriptor.
pub fn stat_at(dir: impl AsFd, name: &OsStr) -> nix::Result<FileStat> {
    fstatat(dir, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)
}

/// The target of the symlink `name` in `dir`, as text.
pub fn link_target(dir: impl AsFd, name: &OsStr) -> String {
    readlinkat(dir, name)
        .map(|t| String::from_utf8_lossy(t.as_bytes()).into_owned())
        .unwrap_or_default()
}

/// True when `st` is of the given file type.
pub fn is(st: FileStat, kind: SFlag) -> bool {
    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) == kind
}

/// Why a regular file could not be opened for reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NotOpened {
    /// `openat` or `fstat` failed (`ELOOP`: the name is a symlink).
    Errno(Errno),
    /// It exists but is not a regular file (a FIFO would block, a device is not data).
    NotRegular,
}

/// Opens the regular file `name` in `dir` for reading, refusing a symlink and anything but a regular
/// file (`O_NONBLOCK`, so a FIFO planted in its place does not hang the run).
pub(super) fn open_regular_at(
    dir: impl AsFd,
    name: &OsStr,
) -> Result<(std::fs::File, FileStat), NotOpened> {
    let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK;
    let fd = openat(dir, name, flags, Mode::empty()).map_err(NotOpened::Errno)?;
    let st = fstat(&fd).map_err(NotOpened::Errno)?;
    if !is(st, SFlag::S_IFREG) {
        return Err(NotOpened::NotRegular);
    }
    Ok((std::fs::File::from(fd), st))
}

/// Reads at most `cap` bytes of an open file (the file may grow while it is read); true when it held
/// more.
pub(super) fn read_upto(
    file: &mut std::fs::File,
    cap: u64,
    hint: u64,
) -> std::io::Result<(Vec<u8>, bool)> {
    let mut buf = Vec::with_capacity(hint.min(cap) as usize);
    file.take(cap + 1).read_to_end(&mut buf)?;
    let longer = buf.len() as u64 > cap;
    buf.truncate(cap as usize);
    Ok((buf, longer))
}

/// Reads at most `cap` bytes of the regular file `name` in `dir`, refusing a symlink (and anything
/// but a regular file). Returns the bytes, whether the file was longer than `cap`, and its stat.
pub fn read_file_at(
    dir: impl AsFd,
    name: &OsStr,
    cap: usize,
) -> std::io::Result<(Vec<u8>, bool, FileStat)> {
    let (mut file, st) = open_regular_at(dir, name).map_err(|e| match e {
        NotOpened::Errno(errno) => std::io::Error::from(errno),
        NotOpened::NotRegular => std::io::Error::other("not a regular file"),
    })?;
    let (buf, longer) = read_upto(&mut file, cap as u64, 0)?;
    Ok((buf, longer, st))
}
