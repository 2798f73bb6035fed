//! Reading the spool's small files (Exim's -H files and message logs, Postfix's queue file heads and
//! defer/bounce logs): never through a symlink, in as few system calls as their size allows, capped,
//! and into each parser thread's own buffers, reused from one message to the next.

use super::postfix;
use crate::safeops::read::is;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::{fstat, FileStat, Mode, SFlag};
use std::cell::RefCell;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{Error, ErrorKind, Result};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::FileExt;

pub(super) fn blocks(st: &FileStat) -> u64 {
    st.st_blocks.max(0) as u64 * 512
}

pub(super) fn size(st: &FileStat) -> u64 {
    st.st_size.max(0) as u64
}

/// One thread's read buffers: the file being parsed (`head`) and its log (`log`).
#[derive(Debug, Default)]
pub(super) struct Buffers {
    pub head: Vec<u8>,
    pub log: Vec<u8>,
}

thread_local! {
    /// Reused so that a file read costs no allocation and touches no fresh page: a runaway spool is
    /// thousands of small files. Each grows at most to the largest cap it is read with.
    static BUFFERS: RefCell<Buffers> = RefCell::default();
}

/// Runs `f` with this thread's buffers (fresh ones in the unexpected case that they are in use).
pub(super) fn with_buffers<R>(f: impl FnOnce(&mut Buffers) -> R) -> R {
    BUFFERS.with(|b| match b.try_borrow_mut() {
        Ok(mut b) => f(&mut b),
        Err(_) => f(&mut Buffers::default()),
    })
}

fn open(dir: impl AsFd, name: &OsStr) -> Result<OwnedFd> {
    let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK;
    openat(dir, name, flags, Mode::empty()).map_err(Error::from)
}

/// Reads at most `cap` bytes of the file `name` into `buf`, which the listing found regular with the
/// stat `listed`, never through a symlink: one open and one read, no second stat. The read asks for
/// a byte more than listed, so that a file grown (or replaced by a longer one) since the listing is
/// seen, and then read again by its own stat. Returns whether the file is longer than `cap`.
pub(super) fn read_listed(
    dir: impl AsFd,
    name: &OsStr,
    listed: &FileStat,
    cap: usize,
    buf: &mut Vec<u8>,
) -> Result<bool> {
    let file = File::from(open(dir, name)?);
    let len = size(listed);
    if len >= cap as u64 {
        read_at_most(&file, 0, cap, buf)?;
        return Ok(len > cap as u64);
    }
    // One read: a regular file reads short only at its end.
    read_once(&file, len as usize + 1, buf)?;
    if buf.len() as u64 <= len {
        return Ok(false);
    }
    let now = fstat(file.as_fd()).map_err(Error::from)?;
    if !is(now, SFlag::S_IFREG) {
        return Err(Error::other("not a regular file"));
    }
    let len = size(&now);
    read_at_most(&file, 0, (len as usize).min(cap), buf)?;
    Ok(len > cap as u64)
}

/// Reads at most `cap` bytes of the regular file `name` into `buf` (never through a symlink), in as
/// few reads as its size allows. Returns whether the file was longer, and its stat.
pub(super) fn read_capped(
    dir: impl AsFd,
    name: &OsStr,
    cap: usize,
    buf: &mut Vec<u8>,
) -> Result<(bool, FileStat)> {
    let fd = open(dir, name)?;
    let st = fstat(&fd).map_err(Error::from)?;
    if !is(st, SFlag::S_IFREG) {
        return Err(Error::other("not a regular file"));
    }
    let len = size(&st);
    read_at_most(&File::from(fd), 0, (len as usize).min(cap), buf)?;
    Ok((len > cap as u64, st))
}

/// At most `n` bytes from the start of `file` into `buf`, in a single read.
fn read_once(file: &File, n: usize, buf: &mut Vec<u8>) -> Result<()> {
    buf.clear();
    buf.resize(n, 0);
    let got = loop {
        match file.read_at(buf, 0) {
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            r => break r?,
        }
    };
    buf.truncate(got);
    Ok(())
}

/// `n` bytes from `off` (fewer at the end of the file) into `buf`, in as few reads as the kernel
/// allows: one, as a rule, where `read_to_end` would also probe for the end.
fn read_at_most(file: &File, off: u64, n: usize, buf: &mut Vec<u8>) -> Result<()> {
    buf.clear();
    buf.resize(n, 0);
    let mut got = 0;
    while got < n {
        match file.read_at(&mut buf[got..], off + got as u64) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(got);
    Ok(())
}

/// The first `cap` bytes of a queue file and, when its size record puts the extracted section beyond
/// them, the file from there on (at most `tail_cap` bytes): one open per message.
pub(super) fn read_image(
    dir: impl AsFd,
    name: &OsStr,
    st: &FileStat,
    cap: usize,
    tail_cap: usize,
) -> Result<postfix::Image> {
    let fd = open(dir, name)?;
    let now = fstat(&fd).map_err(Error::from)?;
    if !is(now, SFlag::S_IFREG) || now.st_ino != st.st_ino {
        return Err(Error::other("not the regular file listed"));
    }
    let len = size(&now);
    let file = File::from(fd);
    let mut head = Vec::new();
    read_at_most(&file, 0, (len as usize).min(cap), &mut head)?;
    let mut img = postfix::Image {
        tail_offset: 0,
        tail: Vec::new(),
        len,
        head,
    };
    let beyond = |x: &u64| *x >= img.head.len() as u64 && *x < len;
    if let Some(off) = postfix::xtra_offset(&img.head).filter(beyond) {
        read_at_most(
            &file,
            off,
            ((len - off) as usize).min(tail_cap),
            &mut img.tail,
        )?;
        img.tail_offset = off;
    }
    Ok(img)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::safeops::read::stat_at;

    /// The listing's stat stands in for a second one: a file that grew or shrank since is still
    /// read whole, one longer than the cap is read to the cap and said to be longer, and a symlink
    /// is never followed. The buffer, reused, holds only what was read last.
    #[test]
    fn listed_files_are_read_whole_as_they_are_now() {
        let dir = tempfile::tempdir().unwrap();
        let d = std::fs::File::open(dir.path()).unwrap();
        let f = dir.path().join("m-H");
        std::fs::write(&f, b"abc").unwrap();
        let listed = stat_at(&d, OsStr::new("m-H")).unwrap();
        let mut buf = b"left over from the last file".to_vec();
        let mut read = |cap| {
            read_listed(&d, OsStr::new("m-H"), &listed, cap, &mut buf).map(|l| (buf.clone(), l))
        };
        assert_eq!(read(64).unwrap(), (b"abc".to_vec(), false));
        std::fs::write(&f, b"abcdefgh").unwrap();
        assert_eq!(
            read(64).unwrap(),
            (b"abcdefgh".to_vec(), false),
            "grown since the listing"
        );
        assert_eq!(
            read(5).unwrap(),
            (b"abcde".to_vec(), true),
            "grown past the cap"
        );
        std::fs::write(&f, b"a").unwrap();
        assert_eq!(
            read(64).unwrap(),
            (b"a".to_vec(), false),
            "shrunk since the listing"
        );
        std::os::unix::fs::symlink(&f, dir.path().join("l-H")).unwrap();
        let mut buf = Vec::new();
        // A symlink is refused by the open itself (O_NOFOLLOW: ELOOP), and nothing is read through it.
        let refused = |r: Option<i32>| assert_eq!(r, Some(libc::ELOOP));
        refused(
            read_listed(&d, OsStr::new("l-H"), &listed, 64, &mut buf)
                .unwrap_err()
                .raw_os_error(),
        );
        refused(
            read_capped(&d, OsStr::new("l-H"), 64, &mut buf)
                .unwrap_err()
                .raw_os_error(),
        );
        assert!(buf.is_empty());
        let (longer, st) = read_capped(&d, OsStr::new("m-H"), 64, &mut buf).unwrap();
        assert_eq!((buf.as_slice(), longer, st.st_size), (&b"a"[..], false, 1));
    }

    #[test]
    fn buffers_in_use_are_not_shared() {
        with_buffers(|outer| {
            outer.head.extend_from_slice(b"outer");
            with_buffers(|inner| assert!(inner.head.is_empty()));
            assert_eq!(outer.head, b"outer");
        });
    }
}
