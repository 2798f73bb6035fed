//! Walking Exim's spool and Postfix's queue directory through descriptors, symlinks never followed:
//! every message is parsed and handed to the caller one at a time (memory stays bounded by what the
//! caller keeps), unreadable or damaged files are counted in the skips and the walk goes on.

use super::files::{blocks, read_capped, read_image, read_listed, size, with_buffers};
use super::{exim, postfix, MtaMessage};
use crate::readers::skips::Skips;
use crate::root::Root;
use crate::safeops::read::{
    self as nofollow, is, open_dir_at, open_dir_beneath_fd, stat_at, Blocked,
};
use nix::dir::Dir;
use nix::sys::stat::{FileStat, SFlag};
use std::ffi::{OsStr, OsString};
use std::os::fd::OwnedFd;
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
fn entries(root: &Root, fd: &OwnedFd, path: &Path, skips: &mut Skips) -> Vec<Entry> {
    listing(root, fd, path, skips, &|_| false).0
}

/// As [`entries`], except for the regular files (as the directory itself says) whose name `unlisted`
/// accepts: those are not stat'ed but returned apart, sorted, for the caller to stat through the
/// descriptor it opens them with (one path lookup each instead of two). Names are listed in one
/// pass and sorted (moving names, not stats), then stat'ed in parallel in that order.
fn listing(
    root: &Root,
    fd: &OwnedFd,
    path: &Path,
    skips: &mut Skips,
    unlisted: &dyn Fn(&[u8]) -> bool,
) -> (Vec<Entry>, Vec<OsString>) {
    use rayon::prelude::*;
    let cloned = fd
        .try_clone()
        .map_err(|e| nix::Error::from_raw(e.raw_os_error().unwrap_or(0)));
    let dir = match cloned.and_then(Dir::from_fd) {
        Ok(d) => d,
        Err(e) => {
            skips.add(root, path, e.desc());
            return (Vec::new(), Vec::new());
        }
    };
    let mut names = Vec::new();
    let mut apart = Vec::new();
    for e in dir {
        match e {
            Ok(e) => {
                let name = OsStr::from_bytes(e.file_name().to_bytes());
                if e.file_type() == Some(nix::dir::Type::File) && unlisted(name.as_bytes()) {
                    apart.push(name.to_owned());
                } else if name != "." && name != ".." {
                    names.push(name.to_owned());
                }
            }
            Err(err) => {
                skips.add(root, path, err.desc());
                break;
            }
        }
    }
    names.sort_unstable();
    apart.sort_unstable();
    let stats: Vec<(OsString, nix::Result<FileStat>)> = names
        .into_par_iter()
        .map(|name| {
            let st = stat_at(fd, &name);
            (name, st)
        })
        .collect();
    // Collected in place (no second listing in fresh memory: a runaway spool lists thousands).
    let listed = stats
        .into_iter()
        .filter_map(|(name, st)| match st {
            Ok(st) => Some(Entry { name, st }),
            Err(nix::Error::ENOENT) => None,
            Err(err) => {
                skips.add(root, &path.join(&name), err.desc());
                None
            }
        })
        .collect();
    (listed, apart)
}

/// An `ID-H` name.
fn is_head(name: &[u8]) -> bool {
    name.strip_suffix(b"-H").is_some_and(exim::is_id)
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
    let mut dirs: Vec<(String, OwnedFd, Option<OwnedFd>)> = Vec::new();
    // The split subdirectories taken out of the listing in place; the rest is the flat spool.
    let (mut top, heads) = listing(root, &input, &input_path, skips, &is_head);
    top.retain(|e| {
        if !(is(e.st, SFlag::S_IFDIR) && e.name.len() == 1) {
            return true;
        }
        let sub = e.name.to_string_lossy().into_owned();
        if let Some(d) = open_sub(root, &input, &sub, &input_path, skips) {
            let log = msglog
                .as_ref()
                .and_then(|m| open_sub(root, m, &sub, &path.join("msglog"), skips));
            dirs.push((sub, d, log));
        }
        false
    });
    let flat = ExDir {
        sub: String::new(),
        path: input_path.clone(),
        fd: &input,
        log: msglog.as_ref(),
    };
    exim_dir(root, &flat, top, heads, &mut scan, skips, sink);
    for (sub, dfd, log) in &dirs {
        let d = ExDir {
            sub: sub.clone(),
            path: input_path.join(sub),
            fd: dfd,
            log: log.as_ref(),
        };
        let (list, heads) = listing(root, dfd, &d.path, skips, &is_head);
        exim_dir(root, &d, list, heads, &mut scan, skips, sink);
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

/// Messages handed to the parser threads at a time (bounds what is held in memory; small enough that
/// a chunk's results stay below malloc's mmap threshold, reused rather than mapped afresh).
const CHUNK: usize = 64;

/// The messages of one directory: `list` its entries stat'ed, `heads` its -H files not stat'ed.
fn exim_dir(
    root: &Root,
    d: &ExDir,
    list: Vec<Entry>,
    heads: Vec<OsString>,
    scan: &mut SpoolScan,
    skips: &mut Skips,
    sink: &mut dyn FnMut(MtaMessage),
) {
    // Each -H file by name, with its stat when the listing has it; handed over in name order.
    let mut jobs: Vec<(&OsStr, Option<&FileStat>)> =
        heads.iter().map(|h| (h.as_os_str(), None)).collect();
    let apart = jobs.len();
    for e in &list {
        if !is(e.st, SFlag::S_IFREG) {
            note_odd(root, scan, d.fd, &d.path, e);
            continue;
        }
        scan.bytes += size(&e.st);
        scan.disk_bytes += blocks(&e.st);
        let n = e.name.as_bytes();
        match n.strip_suffix(b"-H") {
            Some(id) if exim::is_id(id) => jobs.push((&e.name, Some(&e.st))),
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
    if apart > 0 && jobs.len() > apart {
        jobs.sort_by(|a, b| a.0.cmp(b.0));
    }
    let parse = |&(name, listed): &(&OsStr, Option<&FileStat>), sk: &mut Skips| {
        exim_message(root, d, &list, name, listed, sk)
    };
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

/// One message, whose -H file is `name` (with its stat when the listing has it, else stat'ed
/// through the descriptor it is read by): its -H parsed, its -D sized, its msglog applied. What it
/// adds to the spool's bytes is the msglog's, and the -H file's when the listing did not count it.
fn exim_message(
    root: &Root,
    d: &ExDir,
    list: &[Entry],
    name: &OsStr,
    listed: Option<&FileStat>,
    skips: &mut Skips,
) -> Option<Parsed> {
    let text = name.to_string_lossy();
    let id = text.strip_suffix("-H")?.to_string();
    let file_path = d.path.join(name);
    with_buffers(|buf| {
        let read = match listed {
            Some(st) => read_listed(d.fd, name, st, HEAD_CAP, &mut buf.head).map(|l| (l, *st)),
            None => read_capped(d.fd, name, HEAD_CAP, &mut buf.head),
        };
        let (mut header, st) = match read {
            Ok((longer, st)) => {
                let mut h = exim::parse_header(&buf.head);
                if longer {
                    h.message
                        .problems
                        .push(format!("larger than {HEAD_CAP} bytes: read in part"));
                }
                (h, st)
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return None,
            Err(err) => {
                skips.add(root, &file_path, &err.to_string());
                return None;
            }
        };
        let (mut bytes, mut disk) = match listed {
            Some(_) => (0, 0),
            None => (size(&st), blocks(&st)),
        };
        let m = &mut header.message;
        if m.id.is_empty() {
            m.id = id.clone();
        }
        m.files.push(d.rel("input", &format!("{id}-H")));
        m.file_bytes += size(&st);
        m.disk_bytes += blocks(&st);
        let near = list.partition_point(|e| e.name.as_os_str() < name);
        match regular(list, near, &id, b"-D") {
            Some(st) => {
                m.size = exim::listed_size(header.header_bytes, size(st), &id);
                m.file_bytes += size(st);
                m.disk_bytes += blocks(st);
                m.files.push(d.rel("input", &format!("{id}-D")));
            }
            None => m.problem("no -D data file"),
        }
        // The journal of deliveries done in the current run, if one is under way.
        if regular(list, near, &id, b"-J").is_some() {
            m.files.push(d.rel("input", &format!("{id}-J")));
        }
        if let Some(lfd) = d.log {
            if let Ok((_, st)) = read_capped(lfd, OsStr::new(&id), LOG_CAP, &mut buf.log) {
                exim::apply_msglog(m, &buf.log);
                bytes += size(&st);
                disk += blocks(&st);
                m.file_bytes += size(&st);
                m.disk_bytes += blocks(&st);
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
            bytes,
            disk,
            damaged,
        })
    })
}

/// The stat of the regular file `ID` + `suffix` in a listing sorted by name, looked for first
/// where `ID-H` is or would be (`list[near]`): `ID-D` sorts just before it and `ID-J` just after, as
/// a rule.
fn regular<'a>(list: &'a [Entry], near: usize, id: &str, suffix: &[u8]) -> Option<&'a FileStat> {
    let named = |e: &&Entry| e.name.as_bytes().strip_prefix(id.as_bytes()) == Some(suffix);
    let beside = [near.wrapping_sub(1), near, near.wrapping_add(1)]
        .into_iter()
        .filter_map(|i| list.get(i))
        .find(named);
    let found = beside.or_else(|| {
        let key = [id.as_bytes(), suffix].concat();
        let i = list
            .binary_search_by(|e| e.name.as_bytes().cmp(&key))
            .ok()?;
        Some(&list[i])
    })?;
    Some(&found.st).filter(|st| is(**st, SFlag::S_IFREG))
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
                } else if is(e.st, SFlag::S_IFREG) && !postfix::is_id(e.name.as_bytes()) {
                    scan.other_files += 1;
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
    let img = match read_image(d.fd, &e.name, &e.st, SMALL_HEAD, HEAD_CAP) {
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
            if let Ok(img) = read_image(d.fd, &e.name, &e.st, cap, HEAD_CAP) {
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
        let found = with_buffers(|buf| {
            let (_, st) = read_capped(ldir, &e.name, LOG_CAP, &mut buf.log).ok()?;
            postfix::apply_log(m, &buf.log);
            Some(st)
        });
        if let Some(st) = found {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `ID-D` and `ID-J` are found beside `ID-H`, and also when another name sorts between them.
    #[test]
    fn data_and_journal_files_are_found_in_the_listing() {
        let dir = tempfile::tempdir().unwrap();
        let d = std::fs::File::open(dir.path()).unwrap();
        std::fs::write(dir.path().join("f"), b"x").unwrap();
        let st = stat_at(&d, OsStr::new("f")).unwrap();
        let names = [
            "A-D", "A-H", "A-J", "B-H", "C-D", "C-Dx", "C-H", "C-I", "C-J",
        ];
        let list: Vec<Entry> = names.iter().map(|n| Entry { name: n.into(), st }).collect();
        let found = |at: usize, id: &str, suffix: &[u8]| regular(&list, at, id, suffix).is_some();
        assert!(found(1, "A", b"-D") && found(1, "A", b"-J"));
        assert!(!found(3, "B", b"-D") && !found(3, "B", b"-J"));
        assert!(found(6, "C", b"-D") && found(6, "C", b"-J"));
        assert!(!found(6, "C", b"-T"));
        // An -H file the listing did not stat: looked for where it would be.
        let list: Vec<Entry> = list.into_iter().filter(|e| e.name != "C-H").collect();
        let near = list.partition_point(|e| e.name.as_os_str() < OsStr::new("C-H"));
        assert_eq!(near, 6);
        assert!(regular(&list, near, "C", b"-D").is_some());
        assert!(regular(&list, near, "C", b"-J").is_some());
    }
}
