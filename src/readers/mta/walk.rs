//! Walking Exim's spool and Postfix's queue directory through descriptors, symlinks never followed:
//! every message is parsed and handed to the caller one at a time (memory stays bounded by what the
//! caller keeps), unreadable or damaged files are counted in the skips and the walk goes on.

use super::{exim, postfix, MtaMessage};
use crate::readers::skips::Skips;
use crate::root::Root;
use crate::safeops::read::{
    self as nofollow, is, open_dir_at, open_dir_beneath_fd, stat_at, Blocked,
};
use nix::dir::Dir;
use nix::sys::stat::{FileStat, SFlag};
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// An `-H` file or the head of a Postfix queue file larger than this is read only this far.
const HEAD_CAP: usize = 1 << 20;
/// What is read first of a Postfix queue file: its envelope and headers, as a rule.
const SMALL_HEAD: usize = 16 << 10;
/// A message log, defer or bounce log is read this far.
const LOG_CAP: usize = 256 << 10;
/// Postfix's queues, as `postqueue` lists them.
pub const POSTFIX_QUEUES: [&str; 6] = [
    "maildrop", "incoming", "active", "deferred", "hold", "corrupt",
];

/// Totals of one spool, beside the messages handed over.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpoolScan {
    pub messages: u64,
    /// Apparent bytes and disk blocks of the message files.
    pub bytes: u64,
    pub disk_bytes: u64,
    /// Files that are not messages (stray names, symlinks, devices).
    pub other_files: u64,
    /// Messages whose files are damaged or truncated.
    pub damaged: u64,
    /// Postfix queue files still being written (no owner execute bit yet): not messages yet.
    pub being_written: u64,
    pub symlinks: Vec<String>,
}

struct Entry {
    name: OsString,
    st: FileStat,
}

/// The entries of an open directory with their lstat, sorted by name; what vanished is left out.
/// Names are listed in one pass, then stat'ed in parallel.
fn entries(root: &Root, fd: &OwnedFd, path: &Path, skips: &mut Skips) -> Vec<Entry> {
    use rayon::prelude::*;
    let cloned = fd
        .try_clone()
        .map_err(|e| nix::Error::from_raw(e.raw_os_error().unwrap_or(0)));
    let dir = match cloned.and_then(Dir::from_fd) {
        Ok(d) => d,
        Err(e) => {
            skips.add(root, path, e.desc());
            return Vec::new();
        }
    };
    let mut names = Vec::new();
    for e in dir {
        match e {
            Ok(e) => {
                let name = OsStr::from_bytes(e.file_name().to_bytes());
                if name != "." && name != ".." {
                    names.push(name.to_owned());
                }
            }
            Err(err) => {
                skips.add(root, path, err.desc());
                break;
            }
        }
    }
    let stats: Vec<(OsString, nix::Result<FileStat>)> = names
        .into_par_iter()
        .map(|name| {
            let st = stat_at(fd, &name);
            (name, st)
        })
        .collect();
    let mut out = Vec::with_capacity(stats.len());
    for (name, st) in stats {
        match st {
            Ok(st) => out.push(Entry { name, st }),
            Err(nix::Error::ENOENT) => {}
            Err(err) => skips.add(root, &path.join(&name), err.desc()),
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn blocks(st: &FileStat) -> u64 {
    st.st_blocks.max(0) as u64 * 512
}

fn size(st: &FileStat) -> u64 {
    st.st_size.max(0) as u64
}

fn open_sub(
    root: &Root,
    fd: &OwnedFd,
    name: &str,
    path: &Path,
    skips: &mut Skips,
) -> Option<OwnedFd> {
    match open_dir_at(fd, OsStr::new(name), &path.join(name)) {
        Ok(d) => Some(d),
        Err(Blocked::Missing) => None,
        Err(b) => {
            skips.add(root, &path.join(name), &b.describe(|p| root.display(p)));
            None
        }
    }
}

fn note_odd(root: &Root, scan: &mut SpoolScan, fd: &OwnedFd, path: &Path, e: &Entry) {
    if is(e.st, SFlag::S_IFLNK) {
        let target = nofollow::link_target(fd, &e.name);
        scan.symlinks
            .push(format!("{} -> {target}", root.display(&path.join(&e.name))));
    }
    scan.other_files += 1;
}

/// Reads Exim's spool directory `fd` (shown as `path`): `input/` flat or split in one-character
/// subdirectories, and `msglog/` alike. Messages are parsed in parallel, handed over in order.
pub fn scan_exim(
    root: &Root,
    fd: &OwnedFd,
    path: &Path,
    skips: &mut Skips,
    sink: &mut dyn FnMut(MtaMessage),
) -> SpoolScan {
    let mut scan = SpoolScan::default();
    let Some(input) = open_sub(root, fd, "input", path, skips) else {
        skips.add(
            root,
            &path.join("input"),
            "no input directory: not an Exim spool",
        );
        return scan;
    };
    let msglog = open_sub(root, fd, "msglog", path, skips);
    let input_path = path.join("input");
    let mut top = Vec::new();
    let mut dirs: Vec<(String, OwnedFd, Option<OwnedFd>)> = Vec::new();
    for e in entries(root, &input, &input_path, skips) {
        if is(e.st, SFlag::S_IFDIR) && e.name.len() == 1 {
            let sub = e.name.to_string_lossy().into_owned();
            if let Some(d) = open_sub(root, &input, &sub, &input_path, skips) {
                let log = msglog
                    .as_ref()
                    .and_then(|m| open_sub(root, m, &sub, &path.join("msglog"), skips));
                dirs.push((sub, d, log));
            }
        } else {
            top.push(e);
        }
    }
    let flat = ExDir {
        sub: String::new(),
        path: input_path.clone(),
        fd: &input,
        log: msglog.as_ref(),
    };
    exim_dir(root, &flat, top, &mut scan, skips, sink);
    for (sub, dfd, log) in &dirs {
        let d = ExDir {
            sub: sub.clone(),
            path: input_path.join(sub),
            fd: dfd,
            log: log.as_ref(),
        };
        let list = entries(root, dfd, &d.path, skips);
        exim_dir(root, &d, list, &mut scan, skips, sink);
    }
    scan
}

/// One directory of -H/-D files and the message log directory beside it.
struct ExDir<'a> {
    sub: String,
    path: PathBuf,
    fd: &'a OwnedFd,
    log: Option<&'a OwnedFd>,
}

impl ExDir<'_> {
    fn rel(&self, top: &str, name: &str) -> String {
        if self.sub.is_empty() {
            format!("{top}/{name}")
        } else {
            format!("{top}/{}/{name}", self.sub)
        }
    }
}

/// One message read by a parser thread: what it adds to the spool's bytes and blocks beyond the
/// files already counted, and whether it is damaged.
struct Parsed {
    message: MtaMessage,
    bytes: u64,
    disk: u64,
    damaged: bool,
}

/// Messages handed to the parser threads at a time (bounds what is held in memory).
const CHUNK: usize = 256;

fn exim_dir(
    root: &Root,
    d: &ExDir,
    list: Vec<Entry>,
    scan: &mut SpoolScan,
    skips: &mut Skips,
    sink: &mut dyn FnMut(MtaMessage),
) {
    let mut jobs = Vec::new();
    for e in &list {
        if !is(e.st, SFlag::S_IFREG) {
            note_odd(root, scan, d.fd, &d.path, e);
            continue;
        }
        scan.bytes += size(&e.st);
        scan.disk_bytes += blocks(&e.st);
        let n = e.name.as_bytes();
        match n.strip_suffix(b"-H") {
            Some(id) if exim::is_id(id) => jobs.push(e),
            _ => {
                let known = [&b"-D"[..], b"-J", b"-T", b"-K"]
                    .iter()
                    .any(|s| n.strip_suffix(*s).is_some_and(exim::is_id));
                if !known {
                    scan.other_files += 1;
                }
            }
        }
    }
    let parse = |e: &&Entry, sk: &mut Skips| exim_message(root, d, e, &list, sk);
    pipeline(&jobs, parse, scan, skips, sink);
}

/// Parses `jobs` a chunk at a time on the thread pool and hands the messages over in order on this
/// thread, the previous chunk's while the next one is parsed: the caller's work on each message
/// (attribution, classification, grouping) overlaps the reading instead of leaving the pool idle.
/// At most two chunks are held at once.
fn pipeline<J, F>(
    jobs: &[J],
    parse: F,
    scan: &mut SpoolScan,
    skips: &mut Skips,
    sink: &mut dyn FnMut(MtaMessage),
) where
    J: Sync,
    F: Fn(&J, &mut Skips) -> Option<Parsed> + Sync,
{
    use rayon::prelude::*;
    let parse_chunk = |chunk: &[J]| -> Vec<(Option<Parsed>, Skips)> {
        chunk
            .par_iter()
            .map(|j| {
                let mut sk = Skips::default();
                let m = parse(j, &mut sk);
                (m, sk)
            })
            .collect()
    };
    let mut hand_over = |done: Vec<(Option<Parsed>, Skips)>| {
        for (m, sk) in done {
            skips.merge(sk);
            if let Some(p) = m {
                scan.bytes += p.bytes;
                scan.disk_bytes += p.disk;
                scan.damaged += p.damaged as u64;
                scan.messages += 1;
                sink(p.message);
            }
        }
    };
    let mut ready: Vec<(Option<Parsed>, Skips)> = Vec::new();
    for chunk in jobs.chunks(CHUNK) {
        let mut next = Vec::new();
        rayon::in_place_scope(|s| {
            s.spawn(|_| next = parse_chunk(chunk));
            hand_over(std::mem::take(&mut ready));
        });
        ready = next;
    }
    hand_over(ready);
}

/// One message: its -H parsed, its -D sized, its msglog applied (the msglog's bytes are what it adds
/// to the spool's: the input files are counted by the directory walk).
fn exim_message(
    root: &Root,
    d: &ExDir,
    e: &Entry,
    list: &[Entry],
    skips: &mut Skips,
) -> Option<Parsed> {
    let name = e.name.to_string_lossy();
    let id = name.strip_suffix("-H")?.to_string();
    let file_path = d.path.join(&e.name);
    let mut header = match read_listed(d.fd, &e.name, &e.st, HEAD_CAP) {
        Ok((bytes, longer)) => {
            let mut h = exim::parse_header(&bytes);
            if longer {
                h.message
                    .problems
                    .push(format!("larger than {HEAD_CAP} bytes: read in part"));
            }
            h
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return None,
        Err(err) => {
            skips.add(root, &file_path, &err.to_string());
            return None;
        }
    };
    let m = &mut header.message;
    if m.id.is_empty() {
        m.id = id.clone();
    }
    m.files.push(d.rel("input", &format!("{id}-H")));
    m.file_bytes += size(&e.st);
    m.disk_bytes += blocks(&e.st);
    match regular(list, &id, b"-D") {
        Some(st) => {
            m.size = exim::listed_size(header.header_bytes, size(st), &id);
            m.file_bytes += size(st);
            m.disk_bytes += blocks(st);
            m.files.push(d.rel("input", &format!("{id}-D")));
        }
        None => m.problem("no -D data file"),
    }
    // The journal of deliveries done in the current run, if one is under way.
    if regular(list, &id, b"-J").is_some() {
        m.files.push(d.rel("input", &format!("{id}-J")));
    }
    let (mut log_bytes, mut log_blocks) = (0, 0);
    if let Some(lfd) = d.log {
        if let Ok((log, _, st)) = read_capped(lfd, OsStr::new(&id), LOG_CAP) {
            exim::apply_msglog(m, &log);
            log_bytes = size(&st);
            log_blocks = blocks(&st);
            m.file_bytes += log_bytes;
            m.disk_bytes += log_blocks;
            m.files.push(d.rel("msglog", &id));
        }
    }
    let damaged = !header.complete || !m.problems.is_empty();
    if damaged {
        let why = format!("malformed -H: {}", m.problems.join("; "));
        skips.add(root, &file_path, &why);
    }
    Some(Parsed {
        message: header.message,
        bytes: log_bytes,
        disk: log_blocks,
        damaged,
    })
}

/// The stat of the regular file `ID` + `suffix` in a listing sorted by name.
fn regular<'a>(list: &'a [Entry], id: &str, suffix: &[u8]) -> Option<&'a FileStat> {
    let key = || id.as_bytes().iter().chain(suffix);
    let i = list
        .binary_search_by(|e| e.name.as_bytes().iter().cmp(key()))
        .ok()?;
    Some(&list[i].st).filter(|st| is(**st, SFlag::S_IFREG))
}

/// Reads at most `cap` bytes of the file `name`, which the listing found regular with the stat
/// `listed`, never through a symlink: one open and one read, no second stat. The read asks for a
/// byte more than listed, so that a file grown (or replaced by a longer one) since the listing is
/// seen, and then read again by its own stat. Returns the bytes and whether the file is longer than `cap`.
fn read_listed(
    dir: impl AsFd,
    name: &OsStr,
    listed: &FileStat,
    cap: usize,
) -> std::io::Result<(Vec<u8>, bool)> {
    use nix::fcntl::{openat, OFlag};
    use nix::sys::stat::Mode;
    let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK;
    let fd = openat(dir, name, flags, Mode::empty()).map_err(std::io::Error::from)?;
    let file = std::fs::File::from(fd);
    let len = size(listed);
    if len >= cap as u64 {
        return Ok((read_at_most(&file, 0, cap)?, len > cap as u64));
    }
    // One read: a regular file reads short only at its end.
    let buf = read_once(&file, len as usize + 1)?;
    if buf.len() as u64 <= len {
        return Ok((buf, false));
    }
    let now = nix::sys::stat::fstat(file.as_fd()).map_err(std::io::Error::from)?;
    if !is(now, SFlag::S_IFREG) {
        return Err(std::io::Error::other("not a regular file"));
    }
    let len = size(&now);
    Ok((
        read_at_most(&file, 0, (len as usize).min(cap))?,
        len > cap as u64,
    ))
}

/// Reads at most `cap` bytes of the regular file `name` (never through a symlink), in as few reads
/// as its size allows. Returns the bytes, whether the file was longer, and its stat.
fn read_capped(
    dir: impl AsFd,
    name: &OsStr,
    cap: usize,
) -> std::io::Result<(Vec<u8>, bool, FileStat)> {
    use nix::fcntl::{openat, OFlag};
    use nix::sys::stat::Mode;
    let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK;
    let fd = openat(dir, name, flags, Mode::empty()).map_err(std::io::Error::from)?;
    let st = nix::sys::stat::fstat(&fd).map_err(std::io::Error::from)?;
    if !is(st, SFlag::S_IFREG) {
        return Err(std::io::Error::other("not a regular file"));
    }
    let len = size(&st);
    let buf = read_at_most(&std::fs::File::from(fd), 0, (len as usize).min(cap))?;
    Ok((buf, len > cap as u64, st))
}

/// Reads Postfix's queue directory `fd` (shown as `path`): each queue with its hashed
/// subdirectories, the defer and bounce logs beside. Messages are parsed in parallel, handed over in
/// order.
pub fn scan_postfix(
    root: &Root,
    fd: &OwnedFd,
    path: &Path,
    skips: &mut Skips,
    sink: &mut dyn FnMut(MtaMessage),
) -> SpoolScan {
    let mut scan = SpoolScan::default();
    let logs: Vec<(&str, Option<OwnedFd>)> = ["defer", "bounce"]
        .into_iter()
        .map(|n| (n, open_sub(root, fd, n, path, skips)))
        .collect();
    let mut any = false;
    for queue in POSTFIX_QUEUES {
        let Some(qfd) = open_sub(root, fd, queue, path, skips) else {
            continue;
        };
        any = true;
        let mut stack: Vec<(PathBuf, OwnedFd, u8)> = vec![(PathBuf::new(), qfd, 0)];
        while let Some((rel, dfd, depth)) = stack.pop() {
            let dpath = path.join(queue).join(&rel);
            let mut files = Vec::new();
            for e in entries(root, &dfd, &dpath, skips) {
                if is(e.st, SFlag::S_IFDIR) && depth < 4 {
                    let name = e.name.to_string_lossy().into_owned();
                    if let Some(sub) = open_sub(root, &dfd, &name, &dpath, skips) {
                        stack.push((rel.join(&e.name), sub, depth + 1));
                    }
                } else if is(e.st, SFlag::S_IFREG)
                    && queue != "maildrop"
                    && e.st.st_mode & 0o100 == 0
                {
                    // Postfix sets the owner execute bit when a queue file is complete.
                    scan.being_written += 1;
                } else if is(e.st, SFlag::S_IFREG) {
                    files.push(e);
                } else {
                    note_odd(root, &mut scan, &dfd, &dpath, &e);
                }
            }
            // The defer and bounce logs sit at the same hashed place as the queue file.
            let log_dirs: Vec<(&str, Option<OwnedFd>)> = logs
                .iter()
                .map(|(n, fd)| {
                    let at = path.join(n);
                    let sub = fd
                        .as_ref()
                        .and_then(|fd| open_dir_beneath_fd(fd, &rel, &at).ok());
                    (*n, sub)
                })
                .collect();
            let d = PfDir {
                queue,
                rel: &rel,
                fd: &dfd,
                path: &dpath,
                logs: &log_dirs,
            };
            let parse = |e: &Entry, sk: &mut Skips| postfix_message(root, &d, e, sk);
            pipeline(&files, parse, &mut scan, skips, sink);
        }
    }
    if !any {
        skips.add(
            root,
            path,
            "no queue directories (maildrop, incoming, active, deferred, hold): not a Postfix queue",
        );
    }
    scan
}

/// One directory of a Postfix queue, and the log directories beside the queues.
struct PfDir<'a> {
    queue: &'static str,
    rel: &'a Path,
    fd: &'a OwnedFd,
    path: &'a Path,
    /// The defer and bounce log directories for this one.
    logs: &'a [(&'a str, Option<OwnedFd>)],
}

/// One queue file parsed, with its defer and bounce logs applied.
fn postfix_message(root: &Root, d: &PfDir, e: &Entry, skips: &mut Skips) -> Option<Parsed> {
    let id = e.name.to_string_lossy().into_owned();
    let file_path = d.path.join(&e.name);
    let img = match read_image(d.fd, &e.name, &e.st, SMALL_HEAD) {
        Ok(img) => img,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return None,
        Err(err) => {
            skips.add(root, &file_path, &err.to_string());
            return None;
        }
    };
    let mut q = postfix::parse(&id, d.queue, &img);
    // A message larger than the head read: its extracted section is read where the size record
    // says, and a longer head only when the envelope or the headers did not fit.
    if let Some(at) = q.beyond {
        let tail = q.xtra_offset.filter(|&x| x >= img.head.len() as u64);
        let cap = if tail.is_some_and(|x| at >= x) {
            SMALL_HEAD
        } else {
            HEAD_CAP
        };
        if cap > SMALL_HEAD || tail.is_some_and(|x| x != img.tail_offset) {
            if let Ok(img) = read_image(d.fd, &e.name, &e.st, cap) {
                q = postfix::parse(&id, d.queue, &img);
            }
        }
    }
    let m = &mut q.message;
    m.file_bytes = size(&e.st);
    m.disk_bytes = blocks(&e.st);
    let rel_file = Path::new(d.queue).join(d.rel).join(&e.name);
    m.files.push(rel_file.to_string_lossy().into_owned());
    // A file in maildrop belongs to the user who submitted it (postdrop writes it as that user).
    if d.queue == "maildrop" && m.uid.is_none() {
        m.uid = Some(e.st.st_uid);
    }
    for (name, ldir) in d.logs {
        let Some(ldir) = ldir else { continue };
        let found = read_capped(ldir, &e.name, LOG_CAP).ok();
        if let Some((log, _, st)) = found {
            postfix::apply_log(m, &log);
            m.file_bytes += size(&st);
            m.disk_bytes += blocks(&st);
            m.files.push(
                Path::new(name)
                    .join(d.rel)
                    .join(&e.name)
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    let damaged = !q.complete || !m.problems.is_empty();
    if damaged {
        let why = format!("malformed queue file: {}", m.problems.join("; "));
        skips.add(root, &file_path, &why);
    }
    let (bytes, disk) = (m.file_bytes, m.disk_bytes);
    Some(Parsed {
        message: q.message,
        bytes,
        disk,
        damaged,
    })
}

/// At most `n` bytes from the start of `file` in a single read.
fn read_once(file: &std::fs::File, n: usize) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0u8; n];
    let got = loop {
        match file.read_at(&mut buf, 0) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            r => break r?,
        }
    };
    buf.truncate(got);
    Ok(buf)
}

/// `n` bytes from `off` (fewer at the end of the file), in as few reads as the kernel allows: one,
/// as a rule, where `read_to_end` would also probe for the end.
fn read_at_most(file: &std::fs::File, off: u64, n: usize) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0u8; n];
    let mut got = 0;
    while got < n {
        match file.read_at(&mut buf[got..], off + got as u64) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(got);
    Ok(buf)
}

/// The first `cap` bytes of a queue file and, when its size record puts the extracted section beyond
/// them, the file from there on: one open per message.
fn read_image(
    dir: impl AsFd,
    name: &OsStr,
    st: &FileStat,
    cap: usize,
) -> std::io::Result<postfix::Image> {
    use nix::fcntl::{openat, OFlag};
    use nix::sys::stat::Mode;
    let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK;
    let fd = openat(dir, name, flags, Mode::empty()).map_err(std::io::Error::from)?;
    let now = nix::sys::stat::fstat(&fd).map_err(std::io::Error::from)?;
    if !is(now, SFlag::S_IFREG) || now.st_ino != st.st_ino {
        return Err(std::io::Error::other("not the regular file listed"));
    }
    let len = size(&now);
    let file = std::fs::File::from(fd);
    let head = read_at_most(&file, 0, (len as usize).min(cap))?;
    let mut img = postfix::Image {
        tail_offset: 0,
        tail: Vec::new(),
        len,
        head,
    };
    let beyond = |x: &u64| *x >= img.head.len() as u64 && *x < len;
    if let Some(off) = postfix::xtra_offset(&img.head).filter(beyond) {
        img.tail = read_at_most(&file, off, ((len - off) as usize).min(HEAD_CAP))?;
        img.tail_offset = off;
    }
    Ok(img)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The listing's stat stands in for a second one: a file that grew or shrank since is still
    /// read whole, one longer than the cap is read to the cap and said to be longer, and a symlink
    /// is never followed.
    #[test]
    fn listed_files_are_read_whole_as_they_are_now() {
        let dir = tempfile::tempdir().unwrap();
        let d = std::fs::File::open(dir.path()).unwrap();
        let f = dir.path().join("m-H");
        std::fs::write(&f, b"abc").unwrap();
        let listed = stat_at(&d, OsStr::new("m-H")).unwrap();
        assert_eq!(
            read_listed(&d, OsStr::new("m-H"), &listed, 64).unwrap(),
            (b"abc".to_vec(), false)
        );
        std::fs::write(&f, b"abcdefgh").unwrap();
        assert_eq!(
            read_listed(&d, OsStr::new("m-H"), &listed, 64).unwrap(),
            (b"abcdefgh".to_vec(), false),
            "grown since the listing"
        );
        assert_eq!(
            read_listed(&d, OsStr::new("m-H"), &listed, 5).unwrap(),
            (b"abcde".to_vec(), true),
            "grown past the cap"
        );
        std::fs::write(&f, b"a").unwrap();
        assert_eq!(
            read_listed(&d, OsStr::new("m-H"), &listed, 64).unwrap(),
            (b"a".to_vec(), false),
            "shrunk since the listing"
        );
        std::os::unix::fs::symlink(&f, dir.path().join("l-H")).unwrap();
        assert!(read_listed(&d, OsStr::new("l-H"), &listed, 64).is_err());
    }
}
