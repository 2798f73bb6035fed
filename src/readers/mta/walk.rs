//! Walking Exim's spool and Postfix's queue directory through descriptors, symlinks never followed:
//! every message is parsed and handed to the caller one at a time (memory stays bounded by what the
//! caller keeps), unreadable or damaged files are counted in the skips and the walk goes on.

use super::{exim, postfix, MtaMessage};
use crate::readers::nofollow::{self, is, open_dir_at, open_dir_beneath_fd, stat_at, Blocked};
use crate::readers::skips::Skips;
use crate::root::Root;
use nix::dir::Dir;
use nix::sys::stat::{FileStat, SFlag};
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// An `-H` file or the head of a Postfix queue file larger than this is read only this far.
const HEAD_CAP: usize = 1 << 20;
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
    pub symlinks: Vec<String>,
}

struct Entry {
    name: OsString,
    st: FileStat,
}

/// The entries of an open directory with their lstat, sorted by name; what vanished is left out.
fn entries(root: &Root, fd: &OwnedFd, path: &Path, skips: &mut Skips) -> Vec<Entry> {
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
    let mut out = Vec::new();
    for e in dir {
        let e = match e {
            Ok(e) => e,
            Err(err) => {
                skips.add(root, path, err.desc());
                break;
            }
        };
        let name = OsStr::from_bytes(e.file_name().to_bytes());
        if name == "." || name == ".." {
            continue;
        }
        match stat_at(fd, name) {
            Ok(st) => out.push(Entry {
                name: name.to_owned(),
                st,
            }),
            Err(nix::Error::ENOENT) => {}
            Err(err) => skips.add(root, &path.join(name), err.desc()),
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
/// subdirectories, and `msglog/` alike.
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
    let mut logdirs: HashMap<String, Option<OwnedFd>> = HashMap::new();
    let input_path = path.join("input");
    let mut dirs: Vec<(String, OwnedFd)> = Vec::new();
    let mut top = Vec::new();
    for e in entries(root, &input, &input_path, skips) {
        if is(e.st, SFlag::S_IFDIR) && e.name.len() == 1 {
            let sub = e.name.to_string_lossy().into_owned();
            if let Some(d) = open_sub(root, &input, &sub, &input_path, skips) {
                dirs.push((sub, d));
            }
        } else {
            top.push(e);
        }
    }
    let mut walk =
        |sub: &str, dfd: &OwnedFd, list: Vec<Entry>, scan: &mut SpoolScan, skips: &mut Skips| {
            let dpath = if sub.is_empty() {
                input_path.clone()
            } else {
                input_path.join(sub)
            };
            let data: HashMap<OsString, FileStat> = list
                .iter()
                .filter(|e| is(e.st, SFlag::S_IFREG))
                .map(|e| (e.name.clone(), e.st))
                .collect();
            for e in &list {
                if !is(e.st, SFlag::S_IFREG) {
                    note_odd(root, scan, dfd, &dpath, e);
                    continue;
                }
                scan.bytes += size(&e.st);
                scan.disk_bytes += blocks(&e.st);
                let n = e.name.as_bytes();
                let Some(id) = n.strip_suffix(b"-H") else {
                    let known = [&b"-D"[..], b"-J", b"-T", b"-K"]
                        .iter()
                        .any(|s| n.strip_suffix(*s).is_some_and(exim::is_id));
                    if !known {
                        scan.other_files += 1;
                    }
                    continue;
                };
                if !exim::is_id(id) {
                    scan.other_files += 1;
                    continue;
                }
                let id_text = String::from_utf8_lossy(id).into_owned();
                let file_path = dpath.join(&e.name);
                let mut header = match nofollow::read_file_at(dfd, &e.name, HEAD_CAP) {
                    Ok((bytes, longer, _)) => {
                        let mut h = exim::parse_header(&bytes);
                        if longer {
                            h.message
                                .problems
                                .push(format!("larger than {HEAD_CAP} bytes: read in part"));
                        }
                        h
                    }
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(err) => {
                        skips.add(root, &file_path, &err.to_string());
                        continue;
                    }
                };
                let rel = |name: String| {
                    if sub.is_empty() {
                        format!("input/{name}")
                    } else {
                        format!("input/{sub}/{name}")
                    }
                };
                let m = &mut header.message;
                if m.id.is_empty() {
                    m.id = id_text.clone();
                }
                m.files.push(rel(format!("{id_text}-H")));
                m.file_bytes += size(&e.st);
                m.disk_bytes += blocks(&e.st);
                let dname = OsString::from(format!("{id_text}-D"));
                match data.get(&dname) {
                    Some(st) => {
                        m.size = exim::listed_size(header.header_bytes, size(st), &id_text);
                        m.file_bytes += size(st);
                        m.disk_bytes += blocks(st);
                        m.files.push(rel(format!("{id_text}-D")));
                    }
                    None => m.problem("no -D data file"),
                }
                // The journal of deliveries done in the current run, if one is under way.
                let journal = format!("{id_text}-J");
                if data.contains_key(OsStr::new(&journal)) {
                    m.files.push(rel(journal));
                }
                // The message log sits in msglog/ (or msglog/X/ when split).
                if let Some(mfd) = &msglog {
                    let lfd = if sub.is_empty() {
                        Some(mfd)
                    } else {
                        logdirs
                            .entry(sub.to_string())
                            .or_insert_with(|| {
                                open_sub(root, mfd, sub, &path.join("msglog"), skips)
                            })
                            .as_ref()
                    };
                    if let Some(lfd) = lfd {
                        if let Ok((log, _, st)) =
                            nofollow::read_file_at(lfd, OsStr::new(&id_text), LOG_CAP)
                        {
                            exim::apply_msglog(m, &log);
                            m.file_bytes += size(&st);
                            m.disk_bytes += blocks(&st);
                            scan.bytes += size(&st);
                            scan.disk_bytes += blocks(&st);
                            m.files.push(if sub.is_empty() {
                                format!("msglog/{id_text}")
                            } else {
                                format!("msglog/{sub}/{id_text}")
                            });
                        }
                    }
                }
                if !header.complete || !m.problems.is_empty() {
                    scan.damaged += 1;
                    let why = format!("malformed -H: {}", m.problems.join("; "));
                    skips.add(root, &file_path, &why);
                }
                scan.messages += 1;
                sink(header.message);
            }
        };
    walk("", &input, top, &mut scan, skips);
    for (sub, dfd) in &dirs {
        let list = entries(root, dfd, &input_path.join(sub), skips);
        walk(sub, dfd, list, &mut scan, skips);
    }
    scan
}

/// Reads Postfix's queue directory `fd` (shown as `path`): each queue with its hashed
/// subdirectories, the defer and bounce logs beside.
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
            for e in entries(root, &dfd, &dpath, skips) {
                if is(e.st, SFlag::S_IFDIR) && depth < 4 {
                    let name = e.name.to_string_lossy().into_owned();
                    if let Some(sub) = open_sub(root, &dfd, &name, &dpath, skips) {
                        stack.push((rel.join(&e.name), sub, depth + 1));
                    }
                    continue;
                }
                if !is(e.st, SFlag::S_IFREG) {
                    note_odd(root, &mut scan, &dfd, &dpath, &e);
                    continue;
                }
                let Some(m) =
                    postfix_message(root, &dfd, &dpath, queue, &rel, &e, &logs, &mut scan, skips)
                else {
                    continue;
                };
                scan.messages += 1;
                sink(m);
            }
        }
    }
    if !any {
        skips.add(root, path, "no queue directories (maildrop, incoming, active, deferred, hold): not a Postfix queue");
    }
    scan
}

#[allow(clippy::too_many_arguments)]
fn postfix_message(
    root: &Root,
    dfd: &OwnedFd,
    dpath: &Path,
    queue: &str,
    rel: &Path,
    e: &Entry,
    logs: &[(&str, Option<OwnedFd>)],
    scan: &mut SpoolScan,
    skips: &mut Skips,
) -> Option<MtaMessage> {
    let id = e.name.to_string_lossy().into_owned();
    let file_path = dpath.join(&e.name);
    let img = match read_image(dfd, &e.name, &e.st, None) {
        Ok(img) => img,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return None,
        Err(err) => {
            skips.add(root, &file_path, &err.to_string());
            return None;
        }
    };
    let mut q = postfix::parse(&id, queue, &img);
    // A message larger than the head read: its extracted section is read where the size record says.
    if let Some(x) = q
        .xtra_offset
        .filter(|&x| x >= img.head.len() as u64 && !q.complete)
    {
        if let Ok(img) = read_image(dfd, &e.name, &e.st, Some(x)) {
            q = postfix::parse(&id, queue, &img);
        }
    }
    let m = &mut q.message;
    scan.bytes += size(&e.st);
    scan.disk_bytes += blocks(&e.st);
    m.file_bytes = size(&e.st);
    m.disk_bytes = blocks(&e.st);
    let rel_file = Path::new(queue).join(rel).join(&e.name);
    m.files.push(rel_file.to_string_lossy().into_owned());
    // A file in maildrop belongs to the user who submitted it (postdrop writes it as that user).
    if queue == "maildrop" && m.uid.is_none() {
        m.uid = Some(e.st.st_uid);
    }
    for (name, lfd) in logs {
        let Some(lfd) = lfd else { continue };
        let at = root.join(name);
        let found = open_dir_beneath_fd(lfd, rel, &at).ok().and_then(|d| {
            nofollow::read_file_at(&d, &e.name, LOG_CAP)
                .ok()
                .map(|r| (r, d))
        });
        if let Some(((log, _, st), _)) = found {
            postfix::apply_log(m, &log);
            m.file_bytes += size(&st);
            m.disk_bytes += blocks(&st);
            scan.bytes += size(&st);
            scan.disk_bytes += blocks(&st);
            m.files.push(
                Path::new(name)
                    .join(rel)
                    .join(&e.name)
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    if !q.complete || !m.problems.is_empty() {
        scan.damaged += 1;
        let why = format!("malformed queue file: {}", m.problems.join("; "));
        skips.add(root, &file_path, &why);
    }
    Some(q.message)
}

/// The head of a queue file, and the piece from `tail` on when asked.
fn read_image(
    dir: impl AsFd,
    name: &OsStr,
    st: &FileStat,
    tail: Option<u64>,
) -> std::io::Result<postfix::Image> {
    use nix::fcntl::{openat, OFlag};
    use nix::sys::stat::Mode;
    use std::io::{Read, Seek, SeekFrom};
    let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK;
    let fd = openat(dir, name, flags, Mode::empty()).map_err(std::io::Error::from)?;
    let now = nix::sys::stat::fstat(&fd).map_err(std::io::Error::from)?;
    if !is(now, SFlag::S_IFREG) || now.st_ino != st.st_ino {
        return Err(std::io::Error::other("not the regular file listed"));
    }
    let mut file = std::fs::File::from(fd);
    let mut head = Vec::new();
    (&mut file).take(HEAD_CAP as u64).read_to_end(&mut head)?;
    let mut img = postfix::Image {
        head,
        tail_offset: 0,
        tail: Vec::new(),
        len: size(&now),
    };
    if let Some(off) = tail {
        file.seek(SeekFrom::Start(off))?;
        (&mut file)
            .take(HEAD_CAP as u64)
            .read_to_end(&mut img.tail)?;
        img.tail_offset = off;
    }
    Ok(img)
}
