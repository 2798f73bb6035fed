//! One queued message as the queue walker found it (`queue::scan_messages`): its files where sendmail
//! keeps them, each as it was when read (never followed), and what its qf says of it. Only made when
//! a caller asks for messages (`mqueue purge`); `mqueue scan` keeps totals and groups alone.

use super::qf::ControlFile;
use crate::safeops::read::is;
use crate::safeops::Meta;
use crate::sendmail::layout::QUEUE_SUBDIRS;
use nix::sys::stat::{FileStat, SFlag};
use std::collections::HashMap;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

/// One file of a message.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueFile {
    /// The directory sendmail keeps files of its kind in, relative to the queue directory: "" or its
    /// `qf/`, `df/`, `xf/` subdirectory (each split on its own, as sendmail's `queuename()` does), or
    /// the same below a `q*` sub-queue.
    pub dir: PathBuf,
    /// Its name as the directory holds it (kind and id bytes, never decoded).
    pub name: OsString,
    /// What it was when read, not followed (a symlink is a symlink); `None` when there is no such
    /// file, and for the data file when it is not a regular file.
    pub meta: Option<Meta>,
}

/// A message whose size is at least the scan's `min` (with `min` 0, also a qf without data file).
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedMessage {
    /// The queue id as the file names carry it.
    pub id: Vec<u8>,
    /// Size of the data file (0 without a regular one), as mailq shows it.
    pub size: u64,
    /// The control file; its `meta` is `None` for a data file without one (or only a quarantined `hf`).
    pub qf: QueueFile,
    pub df: QueueFile,
    /// The transcript, when a name for it exists (of whatever type: the purge checks it when it acts).
    pub xf: Option<QueueFile>,
    /// From the qf (`T`, `S`, `Subject:`), when it could be read; never from an `hf`.
    pub created: Option<u64>,
    pub sender: Option<String>,
    pub subject: Option<String>,
}

/// A queue file's name in one walked directory: (directory index, id bytes).
pub(super) type Named = (u16, Box<[u8]>);

/// What the walk notes for the records: every qf and xf name (of any type: a purge must see a
/// symlink named like a queue file, to refuse it) and every regular data file at or over `min`, as
/// each was.
#[derive(Default)]
pub(super) struct Seen {
    qf: HashMap<Named, Meta>,
    df: HashMap<Named, Meta>,
    xf: HashMap<Named, Meta>,
}

/// Where one message's files are: the walked directories, and the indexes of its qf's and df's.
pub(super) struct At<'a> {
    pub dirs: &'a [PathBuf],
    pub layout: &'a Layout,
    pub control_dir: u16,
    pub data_dir: u16,
}

impl Seen {
    /// Notes the entry `name` of the walked directory `dir`, lstat'ed as `st`.
    pub(super) fn note(&mut self, name: &[u8], st: &FileStat, dir: u16, min: u64) {
        let (Some(kind), Some(id)) = (name.get(..2), name.get(2..)) else {
            return;
        };
        let meta = Meta::from_stat(st);
        let seen = match kind {
            b"qf" => &mut self.qf,
            b"xf" => &mut self.xf,
            b"df" if is(*st, SFlag::S_IFREG) && meta.size >= min => &mut self.df,
            _ => return,
        };
        seen.insert((dir, id.into()), meta);
    }

    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.qf.is_empty() && self.df.is_empty() && self.xf.is_empty()
    }

    /// The qf names no record has taken yet (of messages without data file at or over `min`), in
    /// directory and name order.
    pub(super) fn unclaimed_qf(&self) -> Vec<Named> {
        let mut left: Vec<Named> = self.qf.keys().cloned().collect();
        left.sort();
        left
    }

    /// The record of one message: its qf as read (`from_qf`, else as walked), its data file, and its
    /// xf where sendmail keeps it. Its qf is taken: `unclaimed_qf` no longer lists it.
    pub(super) fn record(&mut self, at: At, id: &[u8], from_qf: Option<FromQf>) -> QueuedMessage {
        let walked = self.qf.remove(&(at.control_dir, id.into()));
        let df = self.df.get(&(at.data_dir, id.into())).copied();
        let xf_dir = at.layout.holding(at.dirs, at.control_dir, "xf");
        let xf = self.xf.get(&(xf_dir, id.into())).copied();
        let file = |dir: u16, kind: &[u8], meta| QueueFile {
            dir: at.dirs[dir as usize].clone(),
            name: OsString::from_vec([kind, id].concat()),
            meta,
        };
        let (qf_meta, envelope) = match from_qf {
            Some(q) => (q.meta, q),
            None => (walked, FromQf::default()),
        };
        QueuedMessage {
            id: id.to_vec(),
            size: df.map_or(0, |m| m.size),
            qf: file(at.control_dir, b"qf", qf_meta),
            df: file(at.data_dir, b"df", df),
            xf: xf.map(|m| file(xf_dir, b"xf", Some(m))),
            created: envelope.created,
            sender: envelope.sender,
            subject: envelope.subject,
        }
    }
}

/// What a message's record takes from its qf: the file as it was read, and the envelope fields.
#[derive(Default)]
pub(super) struct FromQf {
    meta: Option<Meta>,
    created: Option<u64>,
    sender: Option<String>,
    subject: Option<String>,
}

impl FromQf {
    pub(super) fn of(c: &ControlFile, st: &FileStat) -> FromQf {
        FromQf {
            meta: Some(Meta::from_stat(st)),
            created: c.created,
            sender: c.sender.clone(),
            subject: c.subject.clone(),
        }
    }
}

/// Which walked directory holds a queue's files of one kind. sendmail splits a queue's qf, df and xf
/// files into subdirectories of those names each on its own (queue.c `queuename()`): a queue with a
/// `df/` but no `qf/` keeps its control files at its top.
pub(super) struct Layout {
    index: HashMap<PathBuf, u16>,
}

impl Layout {
    pub(super) fn of(dirs: &[PathBuf]) -> Layout {
        let index = dirs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.clone(), i as u16))
            .collect();
        Layout { index }
    }

    /// The directory holding files of `kind` in the queue that `dir` belongs to (`dir` is the queue
    /// directory, a `q*` sub-queue, or one of their `qf/ df/ xf/`).
    pub(super) fn holding(&self, dirs: &[PathBuf], dir: u16, kind: &str) -> u16 {
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

#[cfg(test)]
mod tests {
    use super::super::queue::{scan_messages, scan_queue, ScanOptions};
    use super::QueuedMessage;
    use crate::readers::skips::Skips;
    use crate::root::Root;
    use crate::safeops::Kind;
    use std::fs;
    use std::os::fd::OwnedFd;
    use std::path::Path;

    const T: u64 = 1_795_314_996;

    fn qf(sender: &str) -> String {
        format!("V8\nT{T}\nK0\nN0\nP1\nS{sender}\nRPFD:x@example.net\nH??Subject: hi {sender}\n.\n")
    }

    fn put(q: &Path, rel: &str, content: &[u8]) {
        let p = q.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }

    fn opts(min: u64) -> ScanOptions {
        ScanOptions {
            min,
            site_gid: None,
        }
    }

    fn open(q: &Path) -> OwnedFd {
        OwnedFd::from(fs::File::open(q).unwrap())
    }

    /// The records of the queue `q` (under the root `root`), by id.
    fn records(root: &Path, q: &Path, min: u64) -> Vec<QueuedMessage> {
        let root = Root::new(root).unwrap();
        let mut skips = Skips::default();
        let (_, mut v) = scan_messages(&root, open(q), q, opts(min), &mut skips).unwrap();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    fn ids(v: &[QueuedMessage]) -> Vec<String> {
        v.iter()
            .map(|m| String::from_utf8_lossy(&m.id).into_owned())
            .collect()
    }

    fn dirs(m: &QueuedMessage) -> (String, String, Option<String>) {
        let d = |p: &Path| p.display().to_string();
        (d(&m.qf.dir), d(&m.df.dir), m.xf.as_ref().map(|x| d(&x.dir)))
    }

    #[test]
    fn each_message_at_or_over_min_with_its_files_as_walked() {
        let tmp = tempfile::tempdir().unwrap();
        let q = tmp.path().join("mqueue");
        put(&q, "qfA", qf("a@example.com").as_bytes());
        put(&q, "dfA", &[b'x'; 100]);
        put(&q, "xfA", b"transcript");
        put(&q, "qfB", qf("b@example.com").as_bytes());
        put(&q, "dfB", &[b'x'; 10]);
        put(&q, "dfC", &[b'x'; 100]);
        put(&q, "qfD", qf("d@example.com").as_bytes());
        put(&q, "elsewhere", qf("e@example.com").as_bytes());
        std::os::unix::fs::symlink("elsewhere", q.join("qfE")).unwrap();
        put(&q, "dfE", &[b'x'; 100]);

        let big = records(tmp.path(), &q, 50);
        assert_eq!(ids(&big), ["A", "C", "E"]);
        let a = &big[0];
        assert_eq!((a.size, a.created), (100, Some(T)));
        assert_eq!(a.sender.as_deref(), Some("a@example.com"));
        assert_eq!(a.subject.as_deref(), Some("hi a@example.com"));
        assert_eq!(dirs(a), ("".into(), "".into(), Some("".into())));
        let names: Vec<_> = [&a.qf, &a.df, a.xf.as_ref().unwrap()]
            .iter()
            .map(|f| (f.name.clone(), f.meta.map(|m| (m.kind, m.size))))
            .collect();
        let qf_len = qf("a@example.com").len() as u64;
        assert_eq!(
            names,
            [
                ("qfA".into(), Some((Kind::File, qf_len))),
                ("dfA".into(), Some((Kind::File, 100))),
                ("xfA".into(), Some((Kind::File, 10))),
            ]
        );
        // A data file without qf is a message without control file; a symlink named as the qf is
        // kept as what it is, never followed (its target is not read).
        assert_eq!((big[1].qf.meta, big[1].sender.as_deref()), (None, None));
        assert_eq!(big[2].qf.meta.map(|m| m.kind), Some(Kind::Symlink));
        assert_eq!(big[2].sender, None);

        // Every message is at least 0 bytes: with --min 0 a qf without data file is one too.
        let all = records(tmp.path(), &q, 0);
        assert_eq!(ids(&all), ["A", "B", "C", "D", "E"]);
        let d = &all[3];
        assert_eq!(
            (d.size, d.df.meta, d.df.name.clone()),
            (0, None, "dfD".into())
        );
        assert_eq!(d.sender.as_deref(), Some("d@example.com"));
    }

    #[test]
    fn each_kind_is_where_sendmail_keeps_it_split_or_not() {
        let tmp = tempfile::tempdir().unwrap();
        let q = tmp.path().join("mqueue");
        // Split qf/ df/ xf/, and a sub-queue q1 split in qf/ df/ only.
        put(&q, "qf/qfA", qf("a@example.com").as_bytes());
        put(&q, "df/dfA", &[b'x'; 100]);
        put(&q, "xf/xfA", b"transcript");
        put(&q, "q1/qf/qfB", qf("b@example.com").as_bytes());
        put(&q, "q1/df/dfB", &[b'x'; 100]);
        put(&q, "q1/xfB", b"transcript");
        let v = records(tmp.path(), &q, 1);
        assert_eq!(ids(&v), ["A", "B"]);
        assert_eq!(dirs(&v[0]), ("qf".into(), "df".into(), Some("xf".into())));
        assert_eq!(
            dirs(&v[1]),
            ("q1/qf".into(), "q1/df".into(), Some("q1".into()))
        );
        assert!(v.iter().all(|m| m.sender.is_some()));

        // Each kind is split on its own: a df/ without qf/ keeps the qf at the top, and the scan
        // reads that qf (the one sendmail uses) for its groups too.
        let tmp = tempfile::tempdir().unwrap();
        let q = tmp.path().join("mqueue");
        put(&q, "qfA", qf("a@example.com").as_bytes());
        put(&q, "df/dfA", &[b'x'; 100]);
        let v = records(tmp.path(), &q, 1);
        assert_eq!(dirs(&v[0]), ("".into(), "df".into(), None));
        assert_eq!(v[0].sender.as_deref(), Some("a@example.com"));
        let root = Root::new(tmp.path()).unwrap();
        let scan = scan_queue(&root, open(&q), &q, opts(1), &mut Skips::default());
        let groups = scan.groups.sorted();
        assert_eq!(groups.len(), 1);
        assert_eq!(
            (groups[0].sender.as_deref(), groups[0].damaged),
            (Some("a@example.com"), 0)
        );
    }

    #[test]
    fn a_queue_that_cannot_be_listed_is_an_error_not_an_empty_queue() {
        use nix::fcntl::{open, OFlag};
        let tmp = tempfile::tempdir().unwrap();
        let q = tmp.path().join("mqueue");
        put(&q, "qfA", qf("a@example.com").as_bytes());
        put(&q, "dfA", &[b'x'; 100]);
        // A descriptor that names the directory but cannot read it (`O_PATH`).
        let fd = open(
            &q,
            OFlag::O_PATH | OFlag::O_DIRECTORY,
            nix::sys::stat::Mode::empty(),
        )
        .unwrap();
        let root = Root::new(tmp.path()).unwrap();
        let err = scan_messages(&root, fd, &q, opts(0), &mut Skips::default()).unwrap_err();
        assert!(err.to_string().contains("cannot list the queue"), "{err}");
    }
}
