//! Undoing recorded runs: newest run first, entries in reverse order, each checked against what the
//! fix left (owner, mode, the hash of the content written) so that a later change is never lost.

use super::{name, sha256_hex, Change, Entry, UndoOutcome, Undone};
use crate::safeops::{Dir, Result, SafeError, READ_CAP};
use std::ffi::{OsStr, OsString};
use std::path::Path;

/// How to undo.
#[derive(Debug, Clone, Copy, Default)]
pub struct UndoOptions {
    /// Restore a file whose content changed since the fix, after saving the current content as
    /// `NAME.zundo-YYYYMMDD-HHMMSS` beside it.
    pub force: bool,
    /// "Now" for the names of those copies, Unix seconds.
    pub now: u64,
}

/// Undoes every run recorded for `subject` (see `undo_with`), refusing changed content.
pub fn undo(journals: &Dir, subject: &str, base: &Dir) -> Result<Vec<Undone>> {
    undo_with(journals, subject, base, &UndoOptions::default())
}

/// Undoes every run recorded for `subject`, newest first, applying entries in reverse order relative
/// to `base`. Each run that was undone completely is renamed `<run>.undone`. An entry file that cannot
/// be read (torn by a killed run, or damaged) is reported as refused and skipped: the other entries
/// and runs are still undone, and that run stays recorded.
pub fn undo_with(
    journals: &Dir,
    subject: &str,
    base: &Dir,
    opts: &UndoOptions,
) -> Result<Vec<Undone>> {
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
        let dir = match subject_dir.subdir(Path::new(&run)) {
            Ok(d) => d,
            Err(e) => {
                results.push(unreadable(&subject_dir.show(&run), &e));
                continue;
            }
        };
        dir.sweep_temps();
        let (mut entries, problems) = read_entries(&dir);
        let mut clean = problems.is_empty();
        results.extend(problems);
        entries.sort_by_key(|e| std::cmp::Reverse(e.seq));
        for e in &entries {
            let r = undo_one(&dir, base, e, opts);
            clean &= matches!(
                r.outcome,
                UndoOutcome::Restored | UndoOutcome::Ok | UndoOutcome::Gone
            );
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

fn unreadable(path: &str, err: &SafeError) -> Undone {
    Undone {
        path: path.to_string(),
        what: "journal entry".into(),
        outcome: if matches!(err, SafeError::Failed { .. }) {
            UndoOutcome::Failed
        } else {
            UndoOutcome::Refused
        },
        detail: format!("skipped, not undone: {}", err.reason()),
    }
}

/// One journal file holds one entry (`{...}`) or a batch (`[{...}, ...]`).
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum OneOrBatch {
    One(Entry),
    Batch(Vec<Entry>),
}

/// The readable entries of a run, and one report for each entry file that is not.
fn read_entries(dir: &Dir) -> (Vec<Entry>, Vec<Undone>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let names = match dir.names() {
        Ok(n) => n,
        Err(e) => return (out, vec![unreadable(&dir.path().display().to_string(), &e)]),
    };
    for n in names {
        if !n.to_string_lossy().ends_with(".json") {
            continue;
        }
        let path = dir.path().join(&n).display().to_string();
        let parsed = dir.read_capped(&n, READ_CAP).and_then(|bytes| {
            serde_json::from_slice::<OneOrBatch>(&bytes).map_err(|e| SafeError::Refused {
                path: path.clone(),
                reason: format!(
                    "not a journal entry ({}): a run killed while writing it, or damaged",
                    if bytes.is_empty() {
                        "empty".to_string()
                    } else {
                        e.to_string()
                    }
                ),
            })
        });
        match parsed {
            Ok(OneOrBatch::One(e)) => out.push(e),
            Ok(OneOrBatch::Batch(es)) => out.extend(es),
            Err(e) => problems.push(unreadable(&path, &e)),
        }
    }
    (out, problems)
}

fn undo_one(journal: &Dir, base: &Dir, e: &Entry, opts: &UndoOptions) -> Undone {
    let what = match &e.change {
        Change::Owner { .. } => format!("owner {}:{}", e.before.uid, e.before.gid),
        Change::Mode { .. } => format!("mode {:04o}", e.before.mode),
        Change::Content => "content".to_string(),
    };
    let mut detail = String::new();
    let result = (|| -> Result<UndoOutcome> {
        let path = e.os_path()?;
        let parent = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(p) => Some(base.subdir(p)?),
            None => None,
        };
        let dir = parent.as_ref().unwrap_or(base);
        let file = path.file_name().ok_or_else(|| SafeError::Refused {
            path: e.path.clone(),
            reason: "no file name".into(),
        })?;
        let mut entry = dir.existing(file)?;
        let now = entry.meta;
        match &e.change {
            Change::Owner { uid, gid } => {
                if (now.uid, now.gid) == (e.before.uid, e.before.gid) {
                    return Ok(UndoOutcome::Ok);
                }
                if (now.uid, now.gid) != (*uid, *gid) {
                    return Err(changed_since(&entry.path()));
                }
                entry.chown(e.before.uid, e.before.gid)?;
                // chown clears setuid and setgid: the exact mode from before comes back after it.
                entry.refresh()?;
                if entry.meta.mode != e.before.mode {
                    entry.chmod(e.before.mode)?;
                }
            }
            Change::Mode { mode } => {
                if now.mode == e.before.mode {
                    return Ok(UndoOutcome::Ok);
                }
                if now.mode != *mode {
                    return Err(changed_since(&entry.path()));
                }
                entry.chmod(e.before.mode)?;
            }
            Change::Content => {
                return restore_content(journal, dir, file, entry, e, opts, &mut detail);
            }
        }
        Ok(UndoOutcome::Restored)
    })();
    undone(e, what, result, detail)
}

/// The report of one entry's undo, from what it came to.
fn undone(e: &Entry, what: String, result: Result<UndoOutcome>, detail: String) -> Undone {
    match result {
        Ok(outcome) => Undone {
            path: e.path.clone(),
            what,
            outcome,
            detail,
        },
        Err(SafeError::Missing { .. }) => Undone {
            path: e.path.clone(),
            what,
            outcome: UndoOutcome::Gone,
            detail: "no longer exists: nothing to restore".into(),
        },
        Err(err) => Undone {
            path: e.path.clone(),
            what,
            outcome: if matches!(err, SafeError::Failed { .. }) {
                UndoOutcome::Failed
            } else {
                UndoOutcome::Refused
            },
            detail: err.reason(),
        },
    }
}

/// Puts back the content the fix replaced (kept in the journal as `SEQ.orig`), if the file still
/// holds what the fix wrote; with --force, a changed file's current content is kept beside it first.
fn restore_content(
    journal: &Dir,
    dir: &Dir,
    file: &OsStr,
    entry: crate::safeops::Entry<'_>,
    e: &Entry,
    opts: &UndoOptions,
    detail: &mut String,
) -> Result<UndoOutcome> {
    let old = journal.read_capped(&name(e.seq, "orig"), READ_CAP)?;
    let current = dir.read_capped(file, READ_CAP)?;
    if current == old {
        return Ok(UndoOutcome::Ok);
    }
    let as_written = e.written_sha256.as_deref() == Some(&sha256_hex(&current));
    if !as_written {
        if !opts.force {
            return Err(SafeError::Refused {
                path: entry.path(),
                reason: if e.written_sha256.is_some() {
                    "content changed since the fix; not reverted (--force keeps a copy of it and restores)".into()
                } else {
                    "the journal does not say what the fix wrote; not reverted (--force keeps a copy of the current content and restores)".into()
                },
            });
        }
        let m = entry.meta;
        entry.check_changeable()?;
        let kept = keep_copy(dir, file, &current, m.uid, m.gid, m.mode, opts.now)?;
        *detail = format!(
            "content changed since the fix: kept as {}",
            kept.to_string_lossy()
        );
    }
    drop(entry);
    dir.replace(file, &old)?;
    Ok(UndoOutcome::Restored)
}

/// Saves content that undo is about to replace as `NAME.zundo-STAMP` (or `-STAMP-N`), exclusively.
fn keep_copy(
    dir: &Dir,
    file: &OsStr,
    content: &[u8],
    uid: u32,
    gid: u32,
    mode: u32,
    now: u64,
) -> Result<OsString> {
    let mut base = file.to_os_string();
    base.push(format!(".zundo-{}", crate::units::utc_stamp(now)));
    for n in 1..100 {
        let mut name = base.clone();
        if n > 1 {
            name.push(format!("-{n}"));
        }
        if dir.entry(&name)?.is_some() {
            continue;
        }
        dir.create_exclusive(&name, content, uid, gid, mode & 0o777)?;
        return Ok(name);
    }
    Err(SafeError::Refused {
        path: dir.show(file),
        reason: "no free name for a copy of the current content".into(),
    })
}

fn changed_since(path: &str) -> SafeError {
    SafeError::Refused {
        path: path.to_string(),
        reason: "changed since the fix; not reverted".into(),
    }
}
