//! The purge journal, so that a purge killed at any point never leaves a message split between the
//! queue and the quarantine (a qf without its df, or the reverse).
//!
//! Before a batch of messages is moved (or deleted), one entry naming each message's files and where
//! they go is written exclusively and synced under `var/lib/toolkit/mqueue-purge/SITE/` (outside the
//! site). The moves follow (the qf first, under sendmail's lock), the directories are synced once, and
//! the entry is removed. A run that finds an entry left behind recovers every message in it from where
//! its files are: a message whose qf already reached the quarantine is completed there (the rest of
//! its files follow it); one whose qf is still in the queue gets back whatever of it had moved. A file
//! in both places (an interrupted copy across filesystems) keeps the queue's, which is the original.
//! A torn entry (killed while it was written) is removed: nothing of its batch had been moved yet.

use super::quarantine;
use crate::safeops::{Dir, Kind, SafeError};
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// Where purge journals live, under the root.
pub const JOURNALS: &str = "var/lib/toolkit/mqueue-purge";
/// Messages per journal entry: one entry write and one sync of each directory per batch.
pub const BATCH: usize = 64;

/// One journal entry: a batch of messages on their way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// The run's quarantine directory relative to the root, as bytes; `None` with `--delete`.
    pub quarantine: Option<Vec<u8>>,
    pub messages: Vec<Msg>,
}

/// A message's files: (subdirectory of the queue directory or "", file name as bytes), qf first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Msg {
    pub id: String,
    pub files: Vec<(String, Vec<u8>)>,
}

/// The queue directory and sendmail's qf/df/xf subdirectories when it has them.
pub struct QueueDirs {
    pub queue: Dir,
    pub subs: Vec<(String, Dir)>,
}

impl QueueDirs {
    /// The directory holding files of this kind ("qf", "df", "xf"; "" is the queue directory).
    pub fn dir(&self, sub: &str) -> &Dir {
        self.subs
            .iter()
            .find(|(n, _)| n == sub)
            .map(|(_, d)| d)
            .unwrap_or(&self.queue)
    }

    /// The subdirectory name for files of this kind, "" when they are in the queue directory.
    pub fn sub(&self, kind: &str) -> &str {
        self.subs
            .iter()
            .find(|(n, _)| n == kind)
            .map(|(n, _)| n.as_str())
            .unwrap_or("")
    }

    pub fn sync(&self) -> Result<(), SafeError> {
        self.queue.sync(OsStr::new("."))?;
        for (_, d) in &self.subs {
            d.sync(OsStr::new("."))?;
        }
        Ok(())
    }
}

/// How many entries an interrupted purge left for this site (a dry run reports them; nothing is
/// made or locked to count them).
pub fn left_behind(root: &Path, site: &str) -> usize {
    Dir::open_trusted(root)
        .and_then(|d| d.subdir(&Path::new(JOURNALS).join(site)))
        .and_then(|d| d.names())
        .map(|n| {
            n.iter()
                .filter(|n| n.as_bytes().ends_with(b".json"))
                .count()
        })
        .unwrap_or(0)
}

/// How one message of a left-behind entry was recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Recovery {
    /// Nothing of it had moved (or all of it had): already whole.
    Whole,
    /// Its qf was in the quarantine: the rest of it was moved there too (or deleted, with --delete).
    Completed,
    /// Its qf was still in the queue: what had moved was put back.
    RolledBack,
    /// sendmail holds it locked: left as it is, the entry kept for the next run.
    Locked,
    Failed,
}

impl Recovery {
    /// The shared outcome of a recovery (`act::Outcome`), for the run's status.
    pub fn effect(self) -> crate::act::Outcome {
        use crate::act::Outcome;
        match self {
            Recovery::Whole => Outcome::Ok,
            Recovery::Completed | Recovery::RolledBack => Outcome::Changed,
            Recovery::Locked => Outcome::Refused,
            Recovery::Failed => Outcome::Failed,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Recovered {
    pub id: String,
    pub outcome: Recovery,
    pub detail: String,
}

pub struct PurgeJournal {
    dir: Dir,
    seq: u32,
    /// Released when the journal is dropped.
    _lock: Flock<std::os::fd::OwnedFd>,
}

impl PurgeJournal {
    /// Opens (making as needed, mode 0700) the site's journal directory under the root.
    /// One purge of a site at a time: the directory is locked (`flock`, released with it), so that
    /// a run never "recovers" the batch another run is moving.
    pub fn open(root: &Path, site: &str) -> Result<PurgeJournal, SafeError> {
        let mut dir = Dir::open_trusted(root)?;
        for part in JOURNALS.split('/').chain([site]) {
            dir = dir.ensure_dir(OsStr::new(part), 0o700)?;
        }
        // The lock is held by a second descriptor of the same open directory, for as long as the
        // journal lives (flock belongs to the open file, which both descriptors share).
        let locked = std::os::fd::AsFd::as_fd(&dir)
            .try_clone_to_owned()
            .map_err(|e| SafeError::Failed {
                path: dir.path().display().to_string(),
                errno: Errno::from_raw(e.raw_os_error().unwrap_or(0)),
            })?;
        let lock = match Flock::lock(locked, FlockArg::LockExclusiveNonblock) {
            Ok(l) => l,
            Err((_, Errno::EWOULDBLOCK)) => {
                return Err(SafeError::Refused {
                    path: dir.path().display().to_string(),
                    reason: "another mqueue purge of this site is running (its journal is locked)"
                        .into(),
                })
            }
            Err((_, errno)) => {
                return Err(SafeError::Failed {
                    path: dir.path().display().to_string(),
                    errno,
                })
            }
        };
        Ok(PurgeJournal {
            dir,
            seq: 0,
            _lock: lock,
        })
    }

    /// Writes a batch's entry (exclusively, synced) before any of it is touched.
    pub fn begin(&mut self, batch: &Batch) -> Result<OsString, SafeError> {
        self.seq += 1;
        let name = OsString::from(format!("{}-{:06}.json", std::process::id(), self.seq));
        let json = serde_json::to_vec(batch).expect("purge journal entries serialize");
        self.dir.create_exclusive(&name, &json, 0, 0, 0o600)?;
        Ok(name)
    }

    /// Removes a batch's entry once every move of it is on disk.
    pub fn end(&self, name: &OsStr) -> Result<(), SafeError> {
        self.dir.remove(name)?;
        self.dir.sync(name)
    }

    /// Recovers every entry an interrupted run left. Entries whose messages are all whole again are
    /// removed; one with a locked or failed message stays for the next run.
    pub fn recover(&self, root: &Path, q: &QueueDirs) -> Result<Vec<Recovered>, SafeError> {
        let mut out = Vec::new();
        for name in self.dir.names()? {
            if !name.as_bytes().ends_with(b".json") {
                continue;
            }
            let batch: Batch = match self
                .dir
                .read(&name)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
            {
                Some(b) => b,
                None => {
                    // Torn while written: the moves of a batch start only once its entry is complete.
                    self.dir.remove(&name)?;
                    continue;
                }
            };
            let dest = match &batch.quarantine {
                None => Dest::Delete,
                Some(rel) => {
                    let rel = PathBuf::from(OsString::from_vec(rel.clone()));
                    match quarantine::open(root, &rel, false) {
                        Ok(Some(d)) => Dest::Quarantine(d),
                        Ok(None) => Dest::Gone,
                        Err(e) => return Err(e),
                    }
                }
            };
            let mut clean = true;
            for m in &batch.messages {
                let (outcome, detail) = match recover_one(q, &dest, m) {
                    Ok(o) => (o, String::new()),
                    Err(e) => (Recovery::Failed, e.to_string()),
                };
                clean &= !matches!(outcome, Recovery::Locked | Recovery::Failed);
                if outcome != Recovery::Whole {
                    out.push(Recovered {
                        id: m.id.clone(),
                        outcome,
                        detail,
                    });
                }
            }
            if clean {
                if let Dest::Quarantine(d) = &dest {
                    d.sync(OsStr::new("."))?;
                }
                q.sync()?;
                self.end(&name)?;
            }
        }
        Ok(out)
    }
}

enum Dest {
    Delete,
    Quarantine(Dir),
    /// The quarantine directory of the entry no longer exists: nothing of it can be there.
    Gone,
}

fn present(dir: &Dir, name: &OsStr) -> bool {
    matches!(dir.entry(name), Ok(Some(e)) if e.meta.kind == Kind::File)
}

fn recover_one(q: &QueueDirs, dest: &Dest, m: &Msg) -> Result<Recovery, SafeError> {
    let files: Vec<(&Dir, OsString)> = m
        .files
        .iter()
        .map(|(sub, n)| (q.dir(sub), OsString::from_vec(n.clone())))
        .collect();
    let Some((qdir, qf)) = files.first() else {
        return Ok(Recovery::Whole);
    };
    let qf_queued = present(qdir, qf);
    let d = match dest {
        Dest::Quarantine(d) => d,
        Dest::Gone if qf_queued => return Ok(Recovery::Whole),
        Dest::Gone => {
            return Err(SafeError::Refused {
                path: qdir.path().join(qf).display().to_string(),
                reason: "not in the queue, and the quarantine it was going to is gone".into(),
            })
        }
        Dest::Delete => {
            // Deletion removes the qf first: once it is gone, the rest of the message goes too.
            if qf_queued {
                return Ok(Recovery::Whole);
            }
            let mut removed = false;
            for (dir, n) in &files[1..] {
                if present(dir, n) {
                    dir.remove(n)?;
                    removed = true;
                }
            }
            return Ok(if removed {
                Recovery::Completed
            } else {
                Recovery::Whole
            });
        }
    };
    // A file in both places is an interrupted copy across filesystems: the queue's is the original.
    for (dir, n) in &files {
        if present(dir, n) && present(d, n) {
            d.remove(n)?;
        }
    }
    let moved: Vec<&(&Dir, OsString)> = files.iter().filter(|(_, n)| present(d, n)).collect();
    let queued: Vec<&(&Dir, OsString)> = files.iter().filter(|(dir, n)| present(dir, n)).collect();
    if moved.is_empty() || queued.is_empty() {
        return Ok(Recovery::Whole);
    }
    if qf_queued {
        // Put back under sendmail's lock, so it never picks up the message half there.
        let Some(lock) = qdir.try_lock(qf)? else {
            return Ok(Recovery::Locked);
        };
        for (dir, n) in moved {
            d.move_to(n, dir)?;
        }
        lock.release();
        Ok(Recovery::RolledBack)
    } else {
        for (dir, n) in queued {
            dir.move_to(n, d)?;
        }
        Ok(Recovery::Completed)
    }
}

/// The journal form of a message's files.
pub fn msg(id: &str, files: &[(String, OsString)]) -> Msg {
    Msg {
        id: id.to_string(),
        files: files
            .iter()
            .map(|(s, n)| (s.clone(), n.as_bytes().to_vec()))
            .collect(),
    }
}
