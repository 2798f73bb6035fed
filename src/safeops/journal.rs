//! The journal of a fixing run: before each change, one entry file (created exclusively, synced)
//! records the path, the object's owner, group and mode before the change, the change itself and,
//! for a content change, a private copy of the old content. `undo` replays the entries backwards
//! through the same safe operations, and refuses an entry whose object was changed since.
//!
//! Layout: `JOURNALS/<subject>/<run>/NNNN.json` and `NNNN.orig`, where `<run>` is
//! `<unix time>-<pid>`; an undone run is renamed `<run>.undone`.

use super::{Dir, Meta, Result, SafeError};
use serde::{Deserialize, Serialize};
use std::ffi::{OsStr, OsString};
use std::path::Path;

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
    /// Path relative to the directory the run works in (a site's `fst`).
    pub path: String,
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
    /// `restored`, `ok` (already as before), `gone` (no longer exists: nothing to restore, as when a
    /// queued file was delivered or purged since), `refused` or `failed`.
    pub outcome: &'static str,
    pub detail: String,
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

    /// Records a change before it is made. `old_content` is required for `Change::Content`.
    pub fn record(
        &mut self,
        path: &str,
        before: Meta,
        change: Change,
        old_content: Option<&[u8]>,
    ) -> Result<()> {
        self.seq += 1;
        if let Some(content) = old_content {
            self.dir
                .create_exclusive(&name(self.seq, "orig"), content, 0, 0, 0o600)?;
        }
        let entry = Entry {
            seq: self.seq,
            path: path.to_string(),
            before,
            change,
        };
        let json = serde_json::to_vec_pretty(&entry).expect("journal entries serialize");
        self.dir
            .create_exclusive(&name(self.seq, "json"), &json, 0, 0, 0o600)
    }

    pub fn entries(&self) -> u32 {
        self.seq
    }
}

/// Undoes every run recorded for `subject`, newest first, applying entries in reverse order relative
/// to `base`. Each run that was undone completely is renamed `<run>.undone`.
pub fn undo(journals: &Dir, subject: &str, base: &Dir) -> Result<Vec<Undone>> {
    let Some(subject_dir) = journals.entry(OsStr::new(subject))? else {
        return Ok(Vec::new());
    };
    let subject_dir = subject_dir.open_dir()?;
    let mut runs: Vec<OsString> = subject_dir
        .names()?
        .into_iter()
        .filter(|n| !n.to_string_lossy().ends_with(".undone"))
        .collect();
    runs.sort_by_key(|r| std::cmp::Reverse(run_key(r)));
    let mut results = Vec::new();
    for run in runs {
        let dir = subject_dir.subdir(Path::new(&run))?;
        let mut entries = read_entries(&dir)?;
        entries.sort_by_key(|e| std::cmp::Reverse(e.seq));
        let mut clean = true;
        for e in &entries {
            let r = undo_one(&dir, base, e);
            clean &= matches!(r.outcome, "restored" | "ok" | "gone");
            results.push(r);
        }
        if clean {
            let mut done = run.clone();
            done.push(".undone");
            subject_dir.rename(&run, &done)?;
        }
    }
    Ok(results)
}

/// Runs sort by their start time, then pid (`<unix time>-<pid>`).
fn run_key(run: &OsStr) -> (u64, u64) {
    let s = run.to_string_lossy();
    let mut it = s.split('-').map(|p| p.parse::<u64>().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

fn read_entries(dir: &Dir) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    for n in dir.names()? {
        if !n.to_string_lossy().ends_with(".json") {
            continue;
        }
        let bytes = dir.read(&n)?;
        let entry: Entry = serde_json::from_slice(&bytes).map_err(|e| SafeError::Refused {
            path: dir.path().join(&n).display().to_string(),
            reason: format!("not a journal entry: {e}"),
        })?;
        out.push(entry);
    }
    Ok(out)
}

fn undo_one(journal: &Dir, base: &Dir, e: &Entry) -> Undone {
    let what = match &e.change {
        Change::Owner { .. } => format!("owner {}:{}", e.before.uid, e.before.gid),
        Change::Mode { .. } => format!("mode {:04o}", e.before.mode),
        Change::Content => "content".to_string(),
    };
    let result = (|| -> Result<&'static str> {
        let path = Path::new(&e.path);
        let parent = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(p) => Some(base.subdir(p)?),
            None => None,
        };
        let dir = parent.as_ref().unwrap_or(base);
        let file = path.file_name().ok_or_else(|| SafeError::Refused {
            path: e.path.clone(),
            reason: "no file name".into(),
        })?;
        let entry = dir.existing(file)?;
        let now = entry.meta;
        match &e.change {
            Change::Owner { uid, gid } => {
                if (now.uid, now.gid) == (e.before.uid, e.before.gid) {
                    return Ok("ok");
                }
                if (now.uid, now.gid) != (*uid, *gid) {
                    return Err(changed_since(&entry.path()));
                }
                entry.chown(e.before.uid, e.before.gid)?;
            }
            Change::Mode { mode } => {
                if now.mode == e.before.mode {
                    return Ok("ok");
                }
                if now.mode != *mode {
                    return Err(changed_since(&entry.path()));
                }
                entry.chmod(e.before.mode)?;
            }
            Change::Content => {
                let old = journal.read(&name(e.seq, "orig"))?;
                if dir.read(file)? == old {
                    return Ok("ok");
                }
                drop(entry);
                dir.replace(file, &old)?;
            }
        }
        Ok("restored")
    })();
    match result {
        Ok(outcome) => Undone {
            path: e.path.clone(),
            what,
            outcome,
            detail: String::new(),
        },
        Err(SafeError::Missing { .. }) => Undone {
            path: e.path.clone(),
            what,
            outcome: "gone",
            detail: "no longer exists: nothing to restore".into(),
        },
        Err(err) => Undone {
            path: e.path.clone(),
            what,
            outcome: if matches!(err, SafeError::Failed { .. }) {
                "failed"
            } else {
                "refused"
            },
            detail: err.to_string(),
        },
    }
}

fn changed_since(path: &str) -> SafeError {
    SafeError::Refused {
        path: path.to_string(),
        reason: "changed since the fix; not reverted".into(),
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
        j.record(
            "etc/mail/sendmail.cf",
            before,
            Change::Content,
            Some(b"O DefaultUser=mail:mail\n"),
        )
        .unwrap();
        dir.replace(OsStr::new("sendmail.cf"), b"O DefaultUser=501:501\n")
            .unwrap();

        let undone = undo(&journals, "site1", &base).unwrap();
        assert_eq!(
            undone.iter().map(|u| u.outcome).collect::<Vec<_>>(),
            vec!["restored"; 3]
        );
        let m = std::fs::metadata(&cf).unwrap();
        assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (0, 0, 0o644));
        assert_eq!(std::fs::read(&cf).unwrap(), b"O DefaultUser=mail:mail\n");
        assert!(
            undo(&journals, "site1", &base).unwrap().is_empty(),
            "an undone run is not undone twice"
        );
    }

    #[test]
    fn a_file_gone_since_is_nothing_to_restore() {
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
        std::fs::remove_file(site.path().join("qf1")).unwrap();
        let undone = undo(&journals, "site1", &base).unwrap();
        assert_eq!(undone[0].outcome, "gone");
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
        assert_eq!(undone[0].outcome, "refused");
        assert_eq!(
            std::fs::metadata(site.path().join("mqueue")).unwrap().uid(),
            777
        );
    }
}
