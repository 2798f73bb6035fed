//! The fix as a plan: steps that each inspect the current state through the safe operations, say what
//! they would change, and apply exactly that (journaled) when allowed. A second run finds every step
//! already right and changes nothing.

use crate::safeops::journal::{Change, Journal, Record};
use crate::safeops::{Entry, SafeError};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// How a step went (or would go).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Already right: nothing to do.
    Ok,
    /// Dry run, declined, or fake-root-only action: what would be done.
    WouldChange,
    Changed,
    /// A safety rule or a precondition stopped it (the reason says which).
    Refused,
    Failed,
}

impl Outcome {
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::WouldChange => "would change",
            Outcome::Changed => "changed",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// Step of SPEC 5 this belongs to (1 queue directory, 2 smrsh/aliases, 3 backups, 4 DefaultUser,
    /// 5 queued files).
    pub step: u8,
    /// Path relative to the site's fst.
    pub path: String,
    /// What is (or would be) changed: `owner root:mail -> admin11:admin11`.
    pub change: String,
    pub outcome: Outcome,
    /// Why refused or failed, or a warning (world-writable mode).
    pub note: String,
}

impl Step {
    pub fn new(
        step: u8,
        path: &str,
        change: impl Into<String>,
        outcome: Outcome,
        note: impl Into<String>,
    ) -> Step {
        Step {
            step,
            path: path.to_string(),
            change: change.into(),
            outcome,
            note: note.into(),
        }
    }

    pub fn refused(step: u8, path: &str, err: &SafeError) -> Step {
        let outcome = if matches!(err, SafeError::Failed { .. }) {
            Outcome::Failed
        } else {
            Outcome::Refused
        };
        Step::new(step, path, "", outcome, reason(err))
    }
}

/// The reason of a safe-ops error without the path (the step shows the path).
pub fn reason(err: &SafeError) -> String {
    match err {
        SafeError::Refused { reason, .. } => reason.clone(),
        SafeError::Failed { errno, .. } => errno.desc().to_string(),
        SafeError::Missing { .. } => "does not exist".into(),
    }
}

/// Whether changes are made in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Inspect,
    Apply,
}

/// Ownership to set; `None` leaves that part as it is (group-only changes of queued files).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub uid: Option<u32>,
    pub gid: u32,
}

/// Names for uids and gids in step descriptions.
pub trait Names {
    fn user(&self, uid: u32) -> String;
    fn group(&self, gid: u32) -> String;
}

/// Sets owner/group, then mode, of one entry: journaled, modes after owners (chown may clear
/// setgid, so the mode is checked again after it). `rel` is the exact path (it is journaled as bytes).
#[allow(clippy::too_many_arguments)]
pub fn set_meta(
    step: u8,
    path: &Path,
    entry: &mut Entry,
    owner: Owner,
    mode: Option<u32>,
    run: Mode,
    journal: &mut Option<&mut Journal>,
    names: &dyn Names,
) -> Step {
    let rel = &*path.to_string_lossy();
    let m = entry.meta;
    let uid = owner.uid.unwrap_or(m.uid);
    let want_mode = mode.unwrap_or(m.mode);
    let mut changes = Vec::new();
    if (m.uid, m.gid) != (uid, owner.gid) {
        changes.push(format!(
            "owner {}:{} -> {}:{}",
            names.user(m.uid),
            names.group(m.gid),
            names.user(uid),
            names.group(owner.gid)
        ));
    }
    if m.mode != want_mode {
        changes.push(format!("mode {:04o} -> {:04o}", m.mode, want_mode));
    }
    if changes.is_empty() {
        return Step::new(step, rel, "", Outcome::Ok, "");
    }
    let change = changes.join(", ");
    if let Err(e) = entry.check_changeable() {
        return Step::new(step, rel, change, Outcome::Refused, reason(&e));
    }
    if run == Mode::Inspect {
        return Step::new(step, rel, change, Outcome::WouldChange, "");
    }
    let result = (|| -> Result<(), SafeError> {
        if (m.uid, m.gid) != (uid, owner.gid) {
            if let Some(j) = journal.as_deref_mut() {
                j.record(
                    path,
                    m,
                    Change::Owner {
                        uid,
                        gid: owner.gid,
                    },
                    None,
                )?;
            }
            entry.chown(uid, owner.gid)?;
            entry.refresh()?;
        }
        let now = entry.meta;
        if now.mode != want_mode {
            if let Some(j) = journal.as_deref_mut() {
                j.record(path, now, Change::Mode { mode: want_mode }, None)?;
            }
            entry.chmod(want_mode)?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => Step::new(step, rel, change, Outcome::Changed, ""),
        Err(e) => {
            let outcome = if matches!(e, SafeError::Failed { .. }) {
                Outcome::Failed
            } else {
                Outcome::Refused
            };
            Step::new(step, rel, change, outcome, reason(&e))
        }
    }
}

/// Sets the group of several entries (owners kept), journaled as one batch: one journal file and one
/// sync for all of them, written before any of them is changed. One step per entry; an entry the
/// safety rules refuse is neither journaled nor changed. A mode that chown cleared (setgid) is put
/// back, journaled on its own.
pub fn set_group_batch(
    step: u8,
    items: &mut [(PathBuf, Entry)],
    gid: u32,
    journal: &mut Option<&mut Journal>,
) -> Vec<Step> {
    let mut steps = Vec::with_capacity(items.len());
    let mut todo = Vec::with_capacity(items.len());
    for (path, entry) in items.iter_mut() {
        let rel = path.to_string_lossy().into_owned();
        match entry.check_changeable() {
            Err(e) => steps.push(Step::new(step, &rel, "group", Outcome::Refused, reason(&e))),
            Ok(()) => todo.push((path.as_path(), rel, entry)),
        }
    }
    let records: Vec<Record> = todo
        .iter()
        .map(|(path, _, e)| Record {
            path: path.to_path_buf(),
            before: e.meta,
            change: Change::Owner {
                uid: e.meta.uid,
                gid,
            },
        })
        .collect();
    if let Some(j) = journal.as_deref_mut() {
        if let Err(e) = j.record_batch(&records) {
            let outcome = if matches!(e, SafeError::Failed { .. }) {
                Outcome::Failed
            } else {
                Outcome::Refused
            };
            let why = format!("journal: {}", reason(&e));
            steps.extend(
                todo.iter()
                    .map(|(_, rel, _)| Step::new(step, rel, "group", outcome, why.clone())),
            );
            return steps;
        }
    }
    for (path, rel, entry) in todo {
        let m = entry.meta;
        let result = (|| -> Result<(), SafeError> {
            entry.chown(m.uid, gid)?;
            entry.refresh()?;
            let now = entry.meta;
            if now.mode != m.mode {
                if let Some(j) = journal.as_deref_mut() {
                    j.record(path, now, Change::Mode { mode: m.mode }, None)?;
                }
                entry.chmod(m.mode)?;
            }
            Ok(())
        })();
        steps.push(match result {
            Ok(()) => Step::new(step, &rel, "group", Outcome::Changed, ""),
            Err(e) => Step::refused(step, &rel, &e),
        });
    }
    steps
}
