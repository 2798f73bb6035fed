//! The journal of a fixing run: before changes are made, entries (one file per entry or per batch of
//! entries, written to a temporary name, synced, and linked into place) record the path, the object's
//! owner, group and mode before the change, the change itself and, for a content change, a private
//! copy of the old content and the SHA-256 of the new. `undo` replays the entries backwards through the
//! same safe operations, and refuses an entry whose object was changed since (content included).
//!
//! Layout: `JOURNALS/<subject>/<run>/NNNN.json` (one entry, or a JSON array of consecutive entries
//! starting at NNNN) and `NNNN.orig`, where `<run>` is `<unix time>-<pid>`; an undone run is renamed
//! `<run>.undone`. Paths are stored as text in `path`; a path that is not UTF-8 also has its exact
//! bytes in `path_hex`, which undo uses.

mod undo;

pub use undo::{undo, undo_with, UndoOptions};

use super::{Dir, Meta, Result, SafeError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    Owner {
        uid: u32,
        gid: u32,
    },
    Mode {
        mode: u32,
    },
    /// The content was replaced; the old content is in `NNNN.orig`.
    Content,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub seq: u32,
    /// Path relative to the directory the run works in (a site's `fst`), as text: lossy when the
    /// name is not UTF-8, and then `path_hex` holds the exact bytes.
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_hex: Option<String>,
    pub before: Meta,
    pub change: Change,
    /// For `Change::Content`: SHA-256 (hex) of the content the fix wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_sha256: Option<String>,
}

impl Entry {
    fn new(seq: u32, path: &Path, before: Meta, change: Change) -> Entry {
        let bytes = path.as_os_str().as_bytes();
        let path_hex = std::str::from_utf8(bytes).is_err().then(|| hex(bytes));
        Entry {
            seq,
            path: path.to_string_lossy().into_owned(),
            path_hex,
            before,
            change,
            written_sha256: None,
        }
    }

    /// The exact path recorded (bytes from `path_hex` when present).
    pub fn os_path(&self) -> Result<PathBuf> {
        match &self.path_hex {
            None => Ok(PathBuf::from(&self.path)),
            Some(h) => unhex(h)
                .map(|b| PathBuf::from(OsString::from_vec(b)))
                .ok_or_else(|| SafeError::Refused {
                    path: self.path.clone(),
                    reason: "journal entry has a malformed path_hex".into(),
                }),
        }
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

pub(crate) fn sha256_hex(content: &[u8]) -> String {
    hex(&Sha256::digest(content))
}

/// One change to journal in a batch.
#[derive(Debug, Clone)]
pub struct Record {
    pub path: PathBuf,
    pub before: Meta,
    pub change: Change,
}

/// An open journal for one run.
pub struct Journal {
    dir: Dir,
    seq: u32,
}

/// How undoing one entry went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Undone {
    pub path: String,
    pub what: String,
    pub outcome: UndoOutcome,
    pub detail: String,
}

/// How one entry's undo ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UndoOutcome {
    /// Put back as it was before the fix.
    Restored,
    /// Already as before: nothing to do.
    Ok,
    /// No longer exists: nothing to restore (a queued file delivered or purged since).
    Gone,
    /// Not undone by a safety rule (changed since, a symlink, an unreadable entry), with the reason.
    Refused,
    /// Tried and failed.
    Failed,
}

fn name(seq: u32, ext: &str) -> OsString {
    OsString::from(format!("{seq:04}.{ext}"))
}

impl Journal {
    /// Starts a run under `journals/<subject>/`, creating directories as needed (mode 0700).
    pub fn begin(journals: &Dir, subject: &str, now: u64) -> Result<Journal> {
        let subject_dir = journals.ensure_dir(OsStr::new(subject), 0o700)?;
        let run = format!("{now}-{}", std::process::id());
        let dir = subject_dir.ensure_dir(OsStr::new(&run), 0o700)?;
        Ok(Journal { dir, seq: 0 })
    }

    /// Records a change before it is made. `old_content` is required for `Change::Content`; prefer
    /// `record_content`, which also records what is written (undo then refuses to lose later edits).
    pub fn record(
        &mut self,
        path: impl AsRef<Path>,
        before: Meta,
        change: Change,
        old_content: Option<&[u8]>,
    ) -> Result<()> {
        self.write(
            Entry::new(self.seq + 1, path.as_ref(), before, change),
            old_content,
        )
    }

    /// Records a content change before it is made: the old content (kept for undo) and the hash of
    /// the new one.
    pub fn record_content(
        &mut self,
        path: impl AsRef<Path>,
        before: Meta,
        old: &[u8],
        new: &[u8],
    ) -> Result<()> {
        let mut entry = Entry::new(self.seq + 1, path.as_ref(), before, Change::Content);
        entry.written_sha256 = Some(sha256_hex(new));
        self.write(entry, Some(old))
    }

    fn write(&mut self, entry: Entry, old_content: Option<&[u8]>) -> Result<()> {
        let seq = entry.seq;
        if let Some(content) = old_content {
            self.dir
                .create_exclusive(&name(seq, "orig"), content, 0, 0, 0o600)?;
        }
        let json = serde_json::to_vec_pretty(&entry).expect("journal entries serialize");
        self.dir
            .create_exclusive(&name(seq, "json"), &json, 0, 0, 0o600)?;
        self.seq = seq;
        Ok(())
    }

    /// Records several changes (no content changes) with one file and one sync: every change in the
    /// batch may be made once this returns, none before.
    pub fn record_batch(&mut self, records: &[Record]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        if records.iter().any(|r| r.change == Change::Content) {
            return Err(SafeError::Refused {
                path: self.dir.path().display().to_string(),
                reason: "a content change is journaled with its old content (record_content)"
                    .into(),
            });
        }
        let entries: Vec<Entry> = records
            .iter()
            .zip(self.seq + 1..)
            .map(|(r, seq)| Entry::new(seq, &r.path, r.before, r.change.clone()))
            .collect();
        let json = serde_json::to_vec(&entries).expect("journal entries serialize");
        self.dir
            .create_exclusive(&name(self.seq + 1, "json"), &json, 0, 0, 0o600)?;
        self.seq += entries.len() as u32;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    #[test]
    fn undo_restores_owner_mode_and_content_in_reverse() {
        let site = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(site.path().join("etc/mail")).unwrap();
        let cf = site.path().join("etc/mail/sendmail.cf");
        std::fs::write(&cf, "O DefaultUser=mail:mail\n").unwrap();
        std::fs::set_permissions(&cf, std::fs::Permissions::from_mode(0o644)).unwrap();
        let base = Dir::open_trusted(site.path()).unwrap();
        let journals = Dir::open_trusted(state.path()).unwrap();

        let mut j = Journal::begin(&journals, "site1", 1_700_000_000).unwrap();
        let dir = base.subdir(Path::new("etc/mail")).unwrap();
        let e = dir.existing(OsStr::new("sendmail.cf")).unwrap();
        let before = e.meta;
        j.record(
            "etc/mail/sendmail.cf",
            before,
            Change::Owner { uid: 501, gid: 501 },
            None,
        )
        .unwrap();
        e.chown(501, 501).unwrap();
        j.record(
            "etc/mail/sendmail.cf",
            Meta {
                uid: 501,
                gid: 501,
                ..before
            },
            Change::Mode { mode: 0o640 },
            None,
        )
        .unwrap();
        e.chmod(0o640).unwrap();
        drop(e);
        j.record_content(
            "etc/mail/sendmail.cf",
            before,
            b"O DefaultUser=mail:mail\n",
            b"O DefaultUser=501:501\n",
        )
        .unwrap();
        dir.replace(OsStr::new("sendmail.cf"), b"O DefaultUser=501:501\n")
            .unwrap();

        let undone = undo(&journals, "site1", &base).unwrap();
        assert_eq!(
            undone.iter().map(|u| u.outcome).collect::<Vec<_>>(),
            vec![UndoOutcome::Restored; 3]
        );
        // In reverse: the last change first (the final state alone would not show the order).
        assert_eq!(
            undone.iter().map(|u| u.what.as_str()).collect::<Vec<_>>(),
            ["content", "mode 0644", "owner 0:0"]
        );
        let m = std::fs::metadata(&cf).unwrap();
        assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (0, 0, 0o644));
        assert_eq!(std::fs::read(&cf).unwrap(), b"O DefaultUser=mail:mail\n");
        assert!(
            undo(&journals, "site1", &base).unwrap().is_empty(),
            "an undone run is not undone twice"
        );
    }

    /// A site holding qf1, chowned to 0:501 by a journaled run of site1: (site, state dir, the
    /// site's Dir, the journals' Dir).
    fn one_journaled_chown() -> (tempfile::TempDir, tempfile::TempDir, Dir, Dir) {
        let site = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        std::fs::write(site.path().join("qf1"), "x").unwrap();
        let base = Dir::open_trusted(site.path()).unwrap();
        let journals = Dir::open_trusted(state.path()).unwrap();
        let mut j = Journal::begin(&journals, "site1", 1).unwrap();
        let e = base.existing(OsStr::new("qf1")).unwrap();
        j.record("qf1", e.meta, Change::Owner { uid: 0, gid: 501 }, None)
            .unwrap();
        e.chown(0, 501).unwrap();
        (site, state, base, journals)
    }

    #[test]
    fn a_file_gone_since_is_nothing_to_restore() {
        let (site, _state, base, journals) = one_journaled_chown();
        std::fs::remove_file(site.path().join("qf1")).unwrap();
        let undone = undo(&journals, "site1", &base).unwrap();
        assert_eq!(undone[0].outcome, UndoOutcome::Gone);
        assert!(
            undo(&journals, "site1", &base).unwrap().is_empty(),
            "the run counts as undone"
        );
    }

    #[test]
    fn undo_refuses_what_changed_since() {
        let site = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        std::fs::create_dir(site.path().join("mqueue")).unwrap();
        let base = Dir::open_trusted(site.path()).unwrap();
        let journals = Dir::open_trusted(state.path()).unwrap();
        let mut j = Journal::begin(&journals, "site1", 1).unwrap();
        let e = base.existing(OsStr::new("mqueue")).unwrap();
        j.record("mqueue", e.meta, Change::Owner { uid: 501, gid: 501 }, None)
            .unwrap();
        e.chown(501, 501).unwrap();
        std::os::unix::fs::chown(site.path().join("mqueue"), Some(777), Some(777)).unwrap();
        let undone = undo(&journals, "site1", &base).unwrap();
        assert_eq!(undone[0].outcome, UndoOutcome::Refused);
        assert_eq!(
            std::fs::metadata(site.path().join("mqueue")).unwrap().uid(),
            777
        );
    }

    #[test]
    fn an_old_entry_with_a_plain_path_still_undoes() {
        let site = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        std::fs::write(site.path().join("qf1"), "x").unwrap();
        std::os::unix::fs::chown(site.path().join("qf1"), Some(0), Some(501)).unwrap();
        let run = state.path().join("site1/1-1");
        std::fs::create_dir_all(&run).unwrap();
        // As versions before path_hex and batches wrote them.
        std::fs::write(
            run.join("0001.json"),
            r#"{"seq": 1, "path": "qf1",
                "before": {"kind": "file", "uid": 0, "gid": 12, "mode": 384, "nlink": 1},
                "change": {"kind": "owner", "uid": 0, "gid": 501}}"#,
        )
        .unwrap();
        let base = Dir::open_trusted(site.path()).unwrap();
        let journals = Dir::open_trusted(state.path()).unwrap();
        let undone = undo(&journals, "site1", &base).unwrap();
        assert_eq!(undone[0].outcome, UndoOutcome::Restored, "{undone:?}");
        assert_eq!(
            std::fs::metadata(site.path().join("qf1")).unwrap().gid(),
            12
        );
    }

    #[test]
    fn names_that_are_not_utf8_round_trip_exactly() {
        use std::os::unix::ffi::OsStrExt;
        let raw = OsStr::from_bytes(b"var/spool/mqueue/qf\xff\xfe1");
        let e = Entry::new(
            1,
            Path::new(raw),
            meta_of_nothing(),
            Change::Mode { mode: 0o600 },
        );
        assert_eq!(e.path, "var/spool/mqueue/qf\u{FFFD}\u{FFFD}1");
        let back: Entry = serde_json::from_slice(&serde_json::to_vec(&e).unwrap()).unwrap();
        assert_eq!(back.os_path().unwrap().as_os_str(), raw);
        let plain = Entry::new(
            2,
            Path::new("etc/aliases"),
            meta_of_nothing(),
            Change::Mode { mode: 0 },
        );
        assert_eq!(plain.path_hex, None, "UTF-8 names are stored as before");
        assert_eq!(unhex("0g"), None);
        assert_eq!(unhex("abc"), None);
    }

    fn meta_of_nothing() -> Meta {
        Meta {
            kind: crate::safeops::Kind::File,
            uid: 0,
            gid: 0,
            mode: 0o600,
            nlink: 1,
            size: 0,
            dev: 0,
            ino: 0,
        }
    }

    #[test]
    fn a_batch_is_one_file_and_undoes_like_single_entries() {
        let site = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        for i in 0..3 {
            std::fs::write(site.path().join(format!("qf{i}")), "x").unwrap();
        }
        let base = Dir::open_trusted(site.path()).unwrap();
        let journals = Dir::open_trusted(state.path()).unwrap();
        let mut j = Journal::begin(&journals, "site1", 1).unwrap();
        let entries: Vec<_> = (0..3)
            .map(|i| base.existing(OsStr::new(&format!("qf{i}"))).unwrap())
            .collect();
        let records: Vec<Record> = entries
            .iter()
            .zip(0..)
            .map(|(e, i)| Record {
                path: PathBuf::from(format!("qf{i}")),
                before: e.meta,
                change: Change::Owner { uid: 0, gid: 501 },
            })
            .collect();
        j.record_batch(&records).unwrap();
        assert_eq!(j.seq, 3);
        assert!(j
            .record_batch(&[Record {
                change: Change::Content,
                ..records[0].clone()
            }])
            .is_err());
        for e in &entries {
            e.chown(0, 501).unwrap();
        }
        let run = std::fs::read_dir(state.path().join("site1"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let files: Vec<_> = std::fs::read_dir(&run).unwrap().collect();
        assert_eq!(files.len(), 1, "one file for the batch");
        drop(entries);
        let undone = undo(&journals, "site1", &base).unwrap();
        assert_eq!(undone.len(), 3);
        assert!(
            undone.iter().all(|u| u.outcome == UndoOutcome::Restored),
            "{undone:?}"
        );
    }

    #[test]
    fn a_torn_entry_is_reported_and_the_others_are_undone() {
        let (site, state, base, journals) = one_journaled_chown();
        let run = std::fs::read_dir(state.path().join("site1"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        std::fs::write(run.join("0002.json"), b"{\"seq\": 2, \"pa").unwrap();
        let undone = undo(&journals, "site1", &base).unwrap();
        let outcomes: Vec<_> = undone.iter().map(|u| u.outcome).collect();
        assert_eq!(
            outcomes,
            vec![UndoOutcome::Refused, UndoOutcome::Restored],
            "{undone:?}"
        );
        assert!(undone[0].detail.contains("skipped, not undone"));
        assert_eq!(std::fs::metadata(site.path().join("qf1")).unwrap().gid(), 0);
        assert!(
            run.exists(),
            "a run with an unreadable entry stays recorded"
        );
    }
}
