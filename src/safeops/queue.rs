//! Safe operations for queued messages: sendmail's lock taken without waiting, a move into another
//! directory that never replaces anything there, and removal of a name.

use super::{injected_failure, kind_of, Dir, Kind, Result, SafeError};
use nix::errno::Errno;
use nix::fcntl::{fcntl, openat, renameat, FcntlArg, Flock, FlockArg, OFlag};
use nix::sys::stat::{fstat, Mode};
use nix::unistd::fsync;
use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};

/// A regular file opened without following, with sendmail's locks taken (both kinds: sendmail locks
/// queue files with flock or fcntl depending on how it was built). Dropping it releases them (the
/// flock explicitly, the fcntl lock with the descriptor).
pub struct Locked {
    fd: Flock<OwnedFd>,
}

impl Dir {
    /// Locks a queue file the way sendmail does, without waiting. `Ok(None)` when another process
    /// (sendmail working on the message) holds a lock on it.
    pub fn try_lock(&self, name: &OsStr) -> Result<Option<Locked>> {
        let path = self.show(name);
        let flags = OFlag::O_RDWR | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
        let fd =
            openat(self.fd.as_fd(), name, flags, Mode::empty()).map_err(|errno| match errno {
                Errno::ELOOP => SafeError::Refused {
                    path: path.clone(),
                    reason: "is a symlink (not followed)".into(),
                },
                Errno::ENOENT => SafeError::Missing { path: path.clone() },
                errno => SafeError::Failed {
                    path: path.clone(),
                    errno,
                },
            })?;
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
        let held = |errno| match errno {
            // Another process holds it: sendmail is working on the message.
            Errno::EWOULDBLOCK | Errno::EACCES => Ok(None),
            errno => Err(SafeError::Failed {
                path: path.clone(),
                errno,
            }),
        };
        let fd = match Flock::lock(fd, FlockArg::LockExclusiveNonblock) {
            Ok(fd) => fd,
            Err((_, errno)) => return held(errno),
        };
        let whole_file = libc::flock {
            l_type: libc::F_WRLCK as libc::c_short,
            l_whence: libc::SEEK_SET as libc::c_short,
            l_start: 0,
            l_len: 0,
            l_pid: 0,
        };
        if let Err(errno) = fcntl(&*fd, FcntlArg::F_SETLK(&whole_file)) {
            return held(errno);
        }
        Ok(Some(Locked { fd }))
    }

    /// Moves a regular file to another directory under the same name, never replacing anything there:
    /// a rename when both are on one filesystem, else an exclusive copy (owner and mode kept, synced)
    /// followed by removal of the original.
    pub fn move_to(&self, name: &OsStr, dest: &Dir) -> Result<()> {
        self.move_to_unsynced(name, dest)?;
        dest.sync(name)?;
        self.sync(name)
    }

    /// `move_to` without syncing the two directories afterwards: for a batch of moves whose journal
    /// is already on disk, synced once with `sync` on both directories before the journal goes.
    pub fn move_to_unsynced(&self, name: &OsStr, dest: &Dir) -> Result<()> {
        let path = self.show(name);
        let entry = self.existing(name)?;
        if entry.meta.kind != Kind::File {
            return Err(SafeError::Refused {
                path,
                reason: "is not a regular file".into(),
            });
        }
        injected_failure("before moving", &path)?;
        if dest.entry(name)?.is_some() {
            return Err(SafeError::Refused {
                path: dest.show(name),
                reason: "already exists in the destination".into(),
            });
        }
        match renameat(self.fd.as_fd(), name, dest.fd.as_fd(), name) {
            Ok(()) => Ok(()),
            Err(Errno::EXDEV) => {
                // Streamed, never read whole: a data file can be any size.
                let flags =
                    OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
                let src = openat(self.fd.as_fd(), name, flags, Mode::empty()).map_err(|errno| {
                    SafeError::Failed {
                        path: path.clone(),
                        errno,
                    }
                })?;
                let st = fstat(src.as_fd()).map_err(|errno| SafeError::Failed {
                    path: path.clone(),
                    errno,
                })?;
                let m = entry.meta;
                if (st.st_dev, st.st_ino) != (m.dev, m.ino) {
                    return Err(SafeError::Refused {
                        path,
                        reason: "changed while being moved".into(),
                    });
                }
                let mut src = std::fs::File::from(src);
                dest.create_exclusive_with(name, m.uid, m.gid, m.mode, |out| {
                    std::io::copy(&mut src, out).map(|_| ())
                })?;
                nix::unistd::unlinkat(
                    self.fd.as_fd(),
                    name,
                    nix::unistd::UnlinkatFlags::NoRemoveDir,
                )
                .map_err(|errno| SafeError::Failed { path, errno })
            }
            Err(errno) => Err(SafeError::Failed { path, errno }),
        }
    }

    /// Syncs this directory (its entries) to disk; `name` is only for the error message.
    pub fn sync(&self, name: &OsStr) -> Result<()> {
        fsync(self.fd.as_fd()).map_err(|errno| SafeError::Failed {
            path: self.show(name),
            errno,
        })
    }

    /// Removes a name (not a directory); a symlink is removed itself, never its target.
    pub fn remove(&self, name: &OsStr) -> Result<()> {
        let path = self.show(name);
        injected_failure("before removing", &path)?;
        nix::unistd::unlinkat(
            self.fd.as_fd(),
            name,
            nix::unistd::UnlinkatFlags::NoRemoveDir,
        )
        .map_err(|errno| SafeError::Failed { path, errno })
    }
}

impl Locked {
    /// Keeps the descriptor alive until the caller is done with the message.
    pub fn release(self) {
        drop(self.fd);
    }
}
