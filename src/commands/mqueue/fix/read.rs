//! Read: everything the fix of one site looks at, read once through the safe operations (relative to
//! the site's `fst`, never following a link) into plain data that the planner decides over without
//! touching the file system. What could not be read is kept as the error, so the plan says why.

use super::m4::{locate, M4Tools};
use super::site::{split, CF_FILES, MC_FILE, QUEUE, QUEUE_SUBDIRS, TREE_DEPTH};
use crate::safeops::{Dir, Kind, Meta, SafeError, CONFIG_CAP};
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// A name looked up without following it: `Ok(None)` when absent; an error from its parent directory
/// (a symlink, missing) or from the lookup itself.
pub type Seen = Result<Option<Meta>, SafeError>;

/// A directory's entries as read.
#[derive(Debug, Clone)]
pub enum Listing {
    /// The directory could not be opened.
    Unopened(SafeError),
    /// Opened, but its names could not be read.
    Unlisted(SafeError),
    Names(Vec<(OsString, Seen)>),
}

/// What the fix of one site read, keyed by the path relative to the site's fst.
#[derive(Debug, Default)]
pub struct Snapshot {
    entries: HashMap<PathBuf, Seen>,
    listings: HashMap<PathBuf, Listing>,
    texts: HashMap<PathBuf, Result<Option<Vec<u8>>, SafeError>>,
    /// m4 and the cf macros of the root (only read for `--m4`): `Ok(None)` when the root has none.
    pub m4_tools: Option<Result<Option<M4Tools>, String>>,
    /// Who this process is (m4 can only be run as the site admin by root or by that admin).
    pub euid: u32,
}

fn not_read(rel: &Path) -> SafeError {
    SafeError::Refused {
        path: rel.display().to_string(),
        reason: "was not read before planning".into(),
    }
}

impl Snapshot {
    /// Reads what the fix of a site needs: the queue directory (and, for `--chgrp-queued`, every
    /// queued file), the etc/smrsh tree, the aliases, the mc and cf files with their backup names.
    pub fn read(fst: &Dir, chgrp_queued: bool, m4_root: Option<&Path>) -> Snapshot {
        let mut s = Snapshot {
            euid: nix::unistd::geteuid().as_raw(),
            m4_tools: m4_root.map(locate),
            ..Snapshot::default()
        };
        s.look(fst, QUEUE);
        for sub in QUEUE_SUBDIRS {
            s.look(fst, &format!("{QUEUE}/{sub}"));
        }
        for rel in ["etc/smrsh", "etc/aliases", "etc/aliases.db"] {
            s.look(fst, rel);
        }
        match fst.subdir(Path::new("etc/smrsh")) {
            Ok(d) => s.walk(&d, Path::new("etc/smrsh"), 0),
            Err(e) => {
                s.listings
                    .insert(PathBuf::from("etc/smrsh"), Listing::Unopened(e));
            }
        }
        for rel in [MC_FILE].into_iter().chain(CF_FILES) {
            s.read_text(fst, rel);
            s.look(fst, rel);
            s.look(fst, &format!("{rel}.zorig"));
        }
        if chgrp_queued {
            let dirs = [QUEUE.to_string()]
                .into_iter()
                .chain(QUEUE_SUBDIRS.iter().map(|s| format!("{QUEUE}/{s}")));
            for rel in dirs {
                let listing = match fst.subdir(Path::new(&rel)) {
                    Ok(d) => list(&d),
                    Err(e) => Listing::Unopened(e),
                };
                s.listings.insert(PathBuf::from(rel), listing);
            }
        }
        s
    }

    fn look(&mut self, fst: &Dir, rel: &str) {
        let seen = parent(fst, rel).and_then(|p| {
            let dir = p.as_ref().unwrap_or(fst);
            dir.entry(split(rel).1).map(|e| e.map(|e| e.meta))
        });
        self.entries.insert(PathBuf::from(rel), seen);
    }

    /// An mc or cf is a few hundred KiB at most: a bigger one is refused with its size.
    fn read_text(&mut self, fst: &Dir, rel: &str) {
        let text = match parent(fst, rel) {
            Err(SafeError::Missing { .. }) => Ok(None),
            Err(e) => Err(e),
            Ok(p) => match p
                .as_ref()
                .unwrap_or(fst)
                .read_capped(split(rel).1, CONFIG_CAP)
            {
                Ok(b) => Ok(Some(b)),
                Err(SafeError::Missing { .. }) => Ok(None),
                Err(e) => Err(e),
            },
        };
        self.texts.insert(PathBuf::from(rel), text);
    }

    /// The tree under etc/smrsh, to the walk's depth limit (a directory at the limit is not opened).
    fn walk(&mut self, dir: &Dir, rel: &Path, depth: usize) {
        let listing = list(dir);
        if let Listing::Names(names) = &listing {
            for (name, seen) in names {
                if let Ok(Some(m)) = seen {
                    if m.kind == Kind::Dir && depth < TREE_DEPTH {
                        let child = rel.join(name);
                        match dir.subdir(Path::new(name)) {
                            Ok(sub) => self.walk(&sub, &child, depth + 1),
                            Err(e) => {
                                self.listings.insert(child, Listing::Unopened(e));
                            }
                        }
                    }
                }
            }
        }
        self.listings.insert(rel.to_path_buf(), listing);
    }

    /// A name as it was looked up.
    pub fn entry(&self, rel: &str) -> Seen {
        let rel = Path::new(rel);
        self.entries
            .get(rel)
            .cloned()
            .unwrap_or_else(|| Err(not_read(rel)))
    }

    pub fn listing(&self, rel: &Path) -> Listing {
        self.listings
            .get(rel)
            .cloned()
            .unwrap_or_else(|| Listing::Unopened(not_read(rel)))
    }

    /// An mc or cf's content: `Ok(None)` when it (or its directory) does not exist.
    pub fn text(&self, rel: &str) -> Result<Option<&[u8]>, SafeError> {
        match self.texts.get(Path::new(rel)) {
            Some(Ok(t)) => Ok(t.as_deref()),
            Some(Err(e)) => Err(e.clone()),
            None => Err(not_read(Path::new(rel))),
        }
    }
}

fn list(dir: &Dir) -> Listing {
    match dir.names() {
        Err(e) => Listing::Unlisted(e),
        Ok(names) => Listing::Names(
            names
                .into_iter()
                .map(|n| {
                    let seen = dir.entry(&n).map(|e| e.map(|e| e.meta));
                    (n, seen)
                })
                .collect(),
        ),
    }
}

/// The directory holding `rel` (`None`: the fst itself), opened without following links.
pub fn parent(fst: &Dir, rel: &str) -> Result<Option<Dir>, SafeError> {
    let (parent, _) = split(rel);
    if parent.as_os_str().is_empty() {
        return Ok(None);
    }
    fst.subdir(parent).map(Some)
}

/// Snapshots made of plain values, for the planner's tests.
#[cfg(test)]
impl Snapshot {
    pub fn with_entry(mut self, rel: &str, seen: Seen) -> Snapshot {
        self.entries.insert(PathBuf::from(rel), seen);
        self
    }

    pub fn with_listing(mut self, rel: &str, listing: Listing) -> Snapshot {
        self.listings.insert(PathBuf::from(rel), listing);
        self
    }

    pub fn with_text(mut self, rel: &str, text: &str) -> Snapshot {
        self.texts
            .insert(PathBuf::from(rel), Ok(Some(text.as_bytes().to_vec())));
        self
    }
}
