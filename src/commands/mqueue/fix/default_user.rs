//! Steps 3 and 4 as one: the `DefaultUser` of `etc/mail/sendmail.mc` (`confDEF_USER_ID`) and of the
//! site's sendmail.cf (`O DefaultUser=`) change together or not at all. Both files are planned (read,
//! edited in memory or regenerated with m4, checked changeable, backup names chosen) before anything
//! is written; if either cannot be done, neither is, and the step says why. When the second write
//! fails after the first succeeded, the first is put back, so the pair is never left half-edited; a
//! rerun completes it and `--undo` restores both.

use super::m4::M4Plan;
use super::plan::{reason, Mode, Outcome, Step};
use super::site::{backup_name, split, Ctx, CF_FILES, MC_FILE};
use crate::safeops::{Meta, SafeError};
use crate::sendmail::defaultuser;
use std::ffi::OsString;

/// A file edit, fully prepared: nothing written yet.
struct Edit {
    rel: &'static str,
    old: Vec<u8>,
    new: Vec<u8>,
    change: String,
    meta: Meta,
    backup: OsString,
    backup_rel: String,
}

/// What one of the two files needs.
enum Plan {
    /// Already right, or absent and not needed: reported as it is.
    Done(Step),
    /// Cannot be done (refused or failed): the pair is not changed.
    Blocked(Step),
    /// Would change, but not in this run (m4 is not run under a fake root or in a dry run).
    Pending(Step),
    Edit(Edit),
}

const PAIR: &str = "sendmail.mc and sendmail.cf change together or not at all";

impl Ctx<'_, '_> {
    pub fn default_user(&mut self) -> Vec<Step> {
        let value = format!("{}:{}", self.admin.uid, self.admin.gid);
        let (mc, mc_text) = self.plan_mc(&value);
        let cf = self.plan_cf(&value, mc_text.as_deref());
        let plans = [mc, cf];
        if let Some(why) = plans.iter().find_map(|p| match p {
            Plan::Blocked(s) => Some(format!("{}: {}", s.path, s.note)),
            _ => None,
        }) {
            return held(
                plans,
                Outcome::Refused,
                &format!("not changed: {why}; {PAIR}"),
            );
        }
        if let Some(why) = plans.iter().find_map(|p| match p {
            Plan::Pending(s) if !s.note.is_empty() => Some(s.note.clone()),
            _ => None,
        }) {
            return held(plans, Outcome::WouldChange, &format!("{why}; {PAIR}"));
        }
        if self.run == Mode::Inspect {
            return plans.into_iter().flat_map(inspect).collect();
        }
        self.apply(plans)
    }

    /// The mc's new text (also what m4 would run on), and its plan.
    fn plan_mc(&self, value: &str) -> (Plan, Option<Vec<u8>>) {
        match self.read_rel(MC_FILE) {
            Ok(Some(text)) => match defaultuser::mc_set(&text, value) {
                Ok(new) => {
                    let change = format!("confDEF_USER_ID -> {value}");
                    (
                        self.plan_edit(MC_FILE, text, new.clone(), change),
                        Some(new),
                    )
                }
                Err(e) => (
                    Plan::Blocked(Step::new(4, MC_FILE, "", Outcome::Refused, e)),
                    None,
                ),
            },
            Ok(None) => (
                Plan::Done(Step::new(
                    4,
                    MC_FILE,
                    "",
                    Outcome::Ok,
                    "absent: nothing to do",
                )),
                None,
            ),
            Err(e) => (Plan::Blocked(Step::refused(4, MC_FILE, &e)), None),
        }
    }

    fn plan_cf(&self, value: &str, new_mc: Option<&[u8]>) -> Plan {
        let mut found = None;
        for rel in CF_FILES {
            match self.read_rel(rel) {
                Ok(Some(text)) => {
                    found = Some((rel, text));
                    break;
                }
                Ok(None) => {}
                Err(e) => return Plan::Blocked(self.cf_refused(rel, &e)),
            }
        }
        let Some((rel, cf)) = found else {
            let why = "no sendmail.cf in etc/ or etc/mail/";
            return Plan::Blocked(Step::new(4, CF_FILES[0], "", Outcome::Refused, why));
        };
        if !self.opts.m4 {
            return match defaultuser::cf_set(&cf, value) {
                Ok(new) => self.plan_edit(rel, cf, new, format!("O DefaultUser={value}")),
                Err(e) => Plan::Blocked(Step::new(4, rel, "", Outcome::Refused, e)),
            };
        }
        let Some(mc) = new_mc else {
            let why = "no usable sendmail.mc to run m4 on";
            return Plan::Blocked(Step::new(
                4,
                rel,
                "regenerate with m4",
                Outcome::Refused,
                why,
            ));
        };
        match self.plan_m4(rel, &cf, mc, value) {
            M4Plan::Done(s) => Plan::Done(s),
            M4Plan::Pending(s) => Plan::Pending(s),
            M4Plan::Blocked(s) => Plan::Blocked(s),
            M4Plan::Generated {
                cf: generated,
                change,
            } => self.plan_edit(rel, cf, generated, change),
        }
    }

    /// The cf sendmail reads cannot be read (a symlink the site admin planted, too big, unreadable):
    /// the pair is refused rather than editing a cf further down the list that sendmail may not
    /// read at all, and the step says which one is left alone.
    fn cf_refused(&self, rel: &str, e: &SafeError) -> Step {
        let mut step = Step::refused(4, rel, e);
        let later = CF_FILES.iter().skip_while(|c| **c != rel).skip(1);
        for other in later {
            if !matches!(self.read_rel(other), Ok(None)) {
                step.note
                    .push_str(&format!("; {other} is not edited in its place"));
            }
        }
        step
    }

    /// Checks that `rel` may be replaced and picks its backup name; nothing is written.
    fn plan_edit(&self, rel: &'static str, old: Vec<u8>, new: Vec<u8>, change: String) -> Plan {
        if old == new {
            return Plan::Done(Step::new(4, rel, "", Outcome::Ok, ""));
        }
        let prepared = (|| -> Result<(Meta, OsString), (u8, SafeError)> {
            let parent = self.parent(rel).map_err(|e| (4, e))?;
            let dir = parent.as_ref().unwrap_or(self.fst);
            let (_, name) = split(rel);
            let entry = dir.existing(name).map_err(|e| (4, e))?;
            entry.check_changeable().map_err(|e| (3, e))?;
            let backup = backup_name(dir, name, self.opts.now).map_err(|e| (3, e))?;
            Ok((entry.meta, backup))
        })();
        match prepared {
            Ok((meta, backup)) => {
                let backup_rel = format!("{}/{}", split(rel).0.display(), backup.to_string_lossy());
                Plan::Edit(Edit {
                    rel,
                    old,
                    new,
                    change,
                    meta,
                    backup,
                    backup_rel,
                })
            }
            Err((step, e)) => Plan::Blocked(Step {
                change,
                ..Step::refused(step, rel, &e)
            }),
        }
    }

    /// Backs both files up, then writes them; a failed second write puts the first back.
    fn apply(&mut self, plans: [Plan; 2]) -> Vec<Step> {
        let mut steps = Vec::new();
        let mut edits = Vec::new();
        for p in plans {
            match p {
                Plan::Edit(e) => edits.push(e),
                Plan::Done(s) | Plan::Blocked(s) | Plan::Pending(s) => steps.push(s),
            }
        }
        for e in &edits {
            match self.backup(e) {
                Ok(()) => steps.push(Step::new(
                    3,
                    &e.backup_rel,
                    format!("back up {}", e.rel),
                    Outcome::Changed,
                    "",
                )),
                Err(err) => {
                    steps.push(Step::refused(3, &e.backup_rel, &err));
                    let why = format!(
                        "not changed: no backup of {} ({}); {PAIR}",
                        e.rel,
                        reason(&err)
                    );
                    for e in &edits {
                        steps.push(Step::new(4, e.rel, &e.change, Outcome::Refused, &why));
                    }
                    return steps;
                }
            }
        }
        for (i, e) in edits.iter().enumerate() {
            if let Err(err) = self.write(e) {
                let outcome = match err {
                    SafeError::Failed { .. } => Outcome::Failed,
                    _ => Outcome::Refused,
                };
                let mut why = format!("{}; {PAIR}", reason(&err));
                for done in &edits[..i] {
                    why.push_str(&match self.put_back(done) {
                        Ok(()) => format!("; {} put back as it was", done.rel),
                        Err(e) => format!(
                            "; {} could not be put back ({}): rerun or --undo",
                            done.rel,
                            reason(&e)
                        ),
                    });
                }
                for done in &edits[..i] {
                    steps.push(Step::new(4, done.rel, &done.change, outcome, &why));
                }
                for e in &edits[i..] {
                    steps.push(Step::new(4, e.rel, &e.change, outcome, &why));
                }
                return steps;
            }
        }
        for e in &edits {
            steps.push(Step::new(4, e.rel, &e.change, Outcome::Changed, ""));
        }
        steps
    }

    fn backup(&self, e: &Edit) -> Result<(), SafeError> {
        let parent = self.parent(e.rel)?;
        let dir = parent.as_ref().unwrap_or(self.fst);
        let m = e.meta;
        dir.create_exclusive(&e.backup, &e.old, m.uid, m.gid, m.mode)
    }

    fn write(&mut self, e: &Edit) -> Result<(), SafeError> {
        let parent = self.parent(e.rel)?;
        let dir = parent.as_ref().unwrap_or(self.fst);
        if let Some(j) = self.journal.as_deref_mut() {
            j.record_content(e.rel, e.meta, &e.old, &e.new)?;
        }
        dir.replace(split(e.rel).1, &e.new)
    }

    fn put_back(&self, e: &Edit) -> Result<(), SafeError> {
        let parent = self.parent(e.rel)?;
        let dir = parent.as_ref().unwrap_or(self.fst);
        dir.replace(split(e.rel).1, &e.old)
    }
}

/// The steps of a plan in a dry run (or before confirmation).
fn inspect(p: Plan) -> Vec<Step> {
    match p {
        Plan::Edit(e) => vec![
            Step::new(
                3,
                &e.backup_rel,
                format!("back up {}", e.rel),
                Outcome::WouldChange,
                "",
            ),
            Step::new(4, e.rel, e.change, Outcome::WouldChange, ""),
        ],
        Plan::Done(s) | Plan::Blocked(s) | Plan::Pending(s) => vec![s],
    }
}

/// The pair held back: what stops it is reported as it is; the other file's edit is `outcome` with
/// `why`, and files already right stay ok.
fn held(plans: [Plan; 2], outcome: Outcome, why: &str) -> Vec<Step> {
    plans
        .into_iter()
        .map(|p| match p {
            Plan::Edit(e) => Step::new(4, e.rel, e.change, outcome, why),
            Plan::Done(s) | Plan::Blocked(s) | Plan::Pending(s) => s,
        })
        .collect()
}
