//! The fix as one plan: steps decided over what was read (no I/O), shown, confirmed, and applied as
//! planned. Each change carries what its target looked like when it was planned; the applier looks at
//! the target again just before changing it, journaled, and refuses the step if it changed. A second
//! run finds every step already right and changes nothing.

use crate::act::{recheck, Outcome};
use crate::safeops::journal::{Change, Journal, Record};
use crate::safeops::{Entry, Meta, SafeError};
use serde::{Serialize, Serializer};
use std::path::PathBuf;

/// The fix's word for an outcome (a declined step is shown as what it would change).
pub fn word(o: Outcome) -> &'static str {
    match o {
        Outcome::Ok => "ok",
        Outcome::WouldChange | Outcome::Declined => "would change",
        Outcome::Changed => "changed",
        Outcome::Refused | Outcome::NoEffect => "refused",
        Outcome::Failed => "failed",
    }
}

/// The outcomes the fix reports, in its report's order.
pub const SHOWN: [Outcome; 5] = [
    Outcome::Changed,
    Outcome::WouldChange,
    Outcome::Ok,
    Outcome::Refused,
    Outcome::Failed,
];

/// How the report counts an outcome (declined counts as would change).
pub fn shown(o: Outcome) -> Outcome {
    match o {
        Outcome::Declined => Outcome::WouldChange,
        Outcome::NoEffect => Outcome::Refused,
        o => o,
    }
}

fn serialize_outcome<S: Serializer>(o: &Outcome, s: S) -> Result<S::Ok, S::Error> {
    shown(*o).serialize(s)
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
    #[serde(serialize_with = "serialize_outcome")]
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
        Step::new(step, path, "", Outcome::of(err), reason(err))
    }

    /// The same step with another outcome and note (what applying it gave).
    pub fn became(&self, outcome: Outcome, note: impl Into<String>) -> Step {
        Step {
            outcome,
            note: note.into(),
            ..self.clone()
        }
    }
}

/// The reason of a safe-ops error without the path (the step shows the path).
pub fn reason(err: &SafeError) -> String {
    err.reason()
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

/// One planned owner/mode change, with the target as it was when planned.
#[derive(Debug, Clone)]
pub struct SetMeta {
    /// The exact path relative to the fst (journaled as bytes).
    pub path: PathBuf,
    pub seen: Meta,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
}

/// Plans owner/group, then mode, of one entry as it was read: the step to show, and the change to
/// apply when there is one the safety rules allow.
pub fn plan_meta(
    step: u8,
    path: PathBuf,
    m: Meta,
    owner: Owner,
    mode: Option<u32>,
    names: &dyn Names,
) -> (Step, Option<SetMeta>) {
    let rel = path.to_string_lossy().into_owned();
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
        return (Step::new(step, &rel, "", Outcome::Ok, ""), None);
    }
    let change = changes.join(", ");
    if let Some(why) = m.refusal() {
        return (Step::new(step, &rel, change, Outcome::Refused, why), None);
    }
    let set = SetMeta {
        path,
        seen: m,
        uid,
        gid: owner.gid,
        mode: want_mode,
    };
    (
        Step::new(step, &rel, change, Outcome::WouldChange, ""),
        Some(set),
    )
}

impl SetMeta {
    /// Applies the change to `entry` (the target looked up again): refused if it is not what was
    /// planned; else journaled, owner first, then the mode (chown may clear setgid, so the mode is
    /// checked again after it).
    pub fn apply(&self, planned: &Step, entry: Option<Entry>, journal: &mut Journal) -> Step {
        let Some(mut entry) = entry else {
            return planned.became(Outcome::Refused, recheck(&self.seen, None).unwrap_err());
        };
        if let Err(why) = recheck(&self.seen, Some(&entry.meta)) {
            return planned.became(Outcome::Refused, why);
        }
        let m = entry.meta;
        let result = (|| -> Result<(), SafeError> {
            if (m.uid, m.gid) != (self.uid, self.gid) {
                let owner = Change::Owner {
                    uid: self.uid,
                    gid: self.gid,
                };
                journal.record(&self.path, m, owner, None)?;
                entry.chown(self.uid, self.gid)?;
                entry.refresh()?;
            }
            let now = entry.meta;
            if now.mode != self.mode {
                journal.record(&self.path, now, Change::Mode { mode: self.mode }, None)?;
                entry.chmod(self.mode)?;
            }
            Ok(())
        })();
        match result {
            Ok(()) => planned.became(Outcome::Changed, ""),
            Err(e) => planned.became(Outcome::of(&e), reason(&e)),
        }
    }
}

/// Sets the group of several queued files (owners kept) as planned, journaled as one batch: one
/// journal file and one sync for all of them, written before any of them is changed. Each file is
/// looked up again first; one that changed since the plan, or that the safety rules refuse, is
/// neither journaled nor changed. A mode that chown cleared (setgid) is put back, journaled on its
/// own. Returns (path shown, outcome, note) per file.
pub fn set_group_batch(
    items: Vec<(SetMeta, Option<Entry>)>,
    journal: &mut Journal,
) -> Vec<(String, Outcome, String)> {
    let mut out = Vec::with_capacity(items.len());
    let mut todo = Vec::with_capacity(items.len());
    for (set, entry) in items {
        let rel = set.path.to_string_lossy().into_owned();
        match entry {
            None => out.push((rel, Outcome::Refused, recheck(&set.seen, None).unwrap_err())),
            Some(e) => match recheck(&set.seen, Some(&e.meta))
                .and_then(|()| e.check_changeable().map_err(|e| reason(&e)))
            {
                Err(why) => out.push((rel, Outcome::Refused, why)),
                Ok(()) => todo.push((set, rel, e)),
            },
        }
    }
    let records: Vec<Record> = todo
        .iter()
        .map(|(set, _, e)| Record {
            path: set.path.clone(),
            before: e.meta,
            change: Change::Owner {
                uid: e.meta.uid,
                gid: set.gid,
            },
        })
        .collect();
    if let Err(e) = journal.record_batch(&records) {
        let why = format!("journal: {}", reason(&e));
        out.extend(
            todo.into_iter()
                .map(|(_, rel, _)| (rel, Outcome::of(&e), why.clone())),
        );
        return out;
    }
    for (set, rel, mut entry) in todo {
        let m = entry.meta;
        let result = (|| -> Result<(), SafeError> {
            entry.chown(m.uid, set.gid)?;
            entry.refresh()?;
            let now = entry.meta;
            if now.mode != m.mode {
                journal.record(&set.path, now, Change::Mode { mode: m.mode }, None)?;
                entry.chmod(m.mode)?;
            }
            Ok(())
        })();
        out.push(match result {
            Ok(()) => (rel, Outcome::Changed, String::new()),
            Err(e) => (rel, Outcome::of(&e), reason(&e)),
        });
    }
    out
}
