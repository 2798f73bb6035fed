//! The five steps of binding one site's queue to its quota (SPEC 5), inspected or applied through the
//! safe operations, relative to the site's `fst` directory.

use super::plan::{reason, set_meta, Mode, Names, Outcome, Owner, Step};
use crate::safeops::journal::{Change, Journal};
use crate::safeops::{Dir, Kind, SafeError};
use crate::sendmail::defaultuser;
use std::ffi::{OsStr, OsString};
use std::path::Path;

/// What the administrator asked for.
#[derive(Debug, Clone)]
pub struct FixOptions {
    /// Keep root as the queue directory's owner (`--owner root`).
    pub owner_root: bool,
    /// Queue directory mode (default 2770).
    pub mode: u32,
    /// Regenerate the cf from the mc with m4 instead of editing it.
    pub m4: bool,
    pub chgrp_queued: bool,
    /// The live system (m4 is run in it; a fake root only when it carries its own m4).
    pub live: bool,
    /// The root everything is under (`/` when live): m4 runs chrooted in it.
    pub root: std::path::PathBuf,
    /// "Now" for backup names, Unix seconds.
    pub now: u64,
}

/// The site's admin user and group ids.
#[derive(Debug, Clone, Copy)]
pub struct Admin {
    pub uid: u32,
    pub gid: u32,
}

pub const QUEUE: &str = "var/spool/mqueue";
const QUEUE_SUBDIRS: [&str; 3] = ["qf", "df", "xf"];
const CF_FILES: [&str; 2] = ["etc/sendmail.cf", "etc/mail/sendmail.cf"];
const MC_FILE: &str = "etc/mail/sendmail.mc";
/// How deep the etc/smrsh walk goes; anything deeper is reported, not changed.
const TREE_DEPTH: usize = 16;

pub struct Ctx<'a, 'j> {
    pub fst: &'a Dir,
    pub admin: Admin,
    pub opts: &'a FixOptions,
    pub run: Mode,
    pub journal: Option<&'j mut Journal>,
    pub names: &'a dyn Names,
}

fn split(rel: &str) -> (&Path, &OsStr) {
    let p = Path::new(rel);
    (
        p.parent().unwrap_or(Path::new("")),
        p.file_name().unwrap_or(OsStr::new("")),
    )
}

impl Ctx<'_, '_> {
    fn parent(&self, rel: &str) -> Result<Option<Dir>, SafeError> {
        let (parent, _) = split(rel);
        if parent.as_os_str().is_empty() {
            return Ok(None);
        }
        self.fst.subdir(parent).map(Some)
    }

    /// Owner and mode of one path (`mode: None` keeps the mode). A missing path is reported as such.
    fn meta_step(
        &mut self,
        step: u8,
        rel: &str,
        owner: Owner,
        mode: Option<u32>,
        missing_ok: bool,
    ) -> Step {
        let parent = match self.parent(rel) {
            Ok(p) => p,
            Err(SafeError::Missing { .. }) if missing_ok => {
                return Step::new(step, rel, "", Outcome::Ok, "absent: nothing to do")
            }
            Err(e) => return Step::refused(step, rel, &e),
        };
        let dir = parent.as_ref().unwrap_or(self.fst);
        let (_, name) = split(rel);
        match dir.entry(name) {
            Ok(Some(mut e)) => set_meta(
                step,
                rel,
                &mut e,
                owner,
                mode,
                self.run,
                &mut self.journal,
                self.names,
            ),
            Ok(None) if missing_ok => {
                Step::new(step, rel, "", Outcome::Ok, "absent: nothing to do")
            }
            Ok(None) => Step::new(step, rel, "", Outcome::Refused, "does not exist"),
            Err(e) => Step::refused(step, rel, &e),
        }
    }

    /// Step 1: the queue directory (and sendmail's qf/df/xf subdirectories when present).
    pub fn queue_dir(&mut self) -> Vec<Step> {
        let owner = Owner {
            uid: Some(if self.opts.owner_root {
                0
            } else {
                self.admin.uid
            }),
            gid: self.admin.gid,
        };
        let mut steps = vec![self.meta_step(1, QUEUE, owner, Some(self.opts.mode), false)];
        if self.opts.mode & 0o002 != 0 {
            steps[0].note = format!(
                "{}mode {:04o} is world-writable: every local user can delete queued mail",
                if steps[0].note.is_empty() { "" } else { "; " },
                self.opts.mode
            );
        }
        if let Ok(q) = self.fst.subdir(Path::new(QUEUE)) {
            for sub in QUEUE_SUBDIRS {
                if matches!(q.entry(OsStr::new(sub)), Ok(Some(e)) if e.meta.kind != Kind::File) {
                    let rel = format!("{QUEUE}/{sub}");
                    steps.push(self.meta_step(1, &rel, owner, Some(self.opts.mode), false));
                }
            }
        }
        steps
    }

    /// Step 2: etc/smrsh recursively, etc/aliases, etc/aliases.db.
    pub fn smrsh_aliases(&mut self) -> Vec<Step> {
        let admin = Owner {
            uid: Some(self.admin.uid),
            gid: self.admin.gid,
        };
        let mut steps = vec![self.meta_step(2, "etc/smrsh", admin, None, true)];
        if steps[0].outcome != Outcome::Refused {
            if let Ok(d) = self.fst.subdir(Path::new("etc/smrsh")) {
                self.tree(&d, "etc/smrsh", admin, 0, &mut steps);
            }
        }
        steps.push(self.meta_step(2, "etc/aliases", admin, None, true));
        let db = Owner {
            uid: Some(0),
            gid: self.admin.gid,
        };
        steps.push(self.meta_step(2, "etc/aliases.db", db, None, true));
        steps
    }

    fn tree(&mut self, dir: &Dir, rel: &str, owner: Owner, depth: usize, steps: &mut Vec<Step>) {
        let names = match dir.names() {
            Ok(n) => n,
            Err(e) => return steps.push(Step::refused(2, rel, &e)),
        };
        for name in names {
            let child_rel = format!("{rel}/{}", name.to_string_lossy());
            let mut entry = match dir.entry(&name) {
                Ok(Some(e)) => e,
                Ok(None) => continue,
                Err(e) => {
                    steps.push(Step::refused(2, &child_rel, &e));
                    continue;
                }
            };
            steps.push(set_meta(
                2,
                &child_rel,
                &mut entry,
                owner,
                None,
                self.run,
                &mut self.journal,
                self.names,
            ));
            if entry.meta.kind == Kind::Dir && depth < TREE_DEPTH {
                match entry.open_dir() {
                    Ok(sub) => self.tree(&sub, &child_rel, owner, depth + 1, steps),
                    Err(e) => steps.push(Step::refused(2, &child_rel, &e)),
                }
            } else if entry.meta.kind == Kind::Dir {
                steps.push(Step::new(
                    2,
                    &child_rel,
                    "",
                    Outcome::Refused,
                    format!("more than {TREE_DEPTH} directories deep: what is inside was not walked or changed"),
                ));
            }
        }
    }

    /// Steps 3 and 4: back up and edit DefaultUser in the mc and the cf (or regenerate the cf with m4).
    pub fn default_user(&mut self) -> Vec<Step> {
        let value = format!("{}:{}", self.admin.uid, self.admin.gid);
        let mut steps = Vec::new();
        let mc = self.read_rel(MC_FILE);
        let new_mc = match &mc {
            Ok(Some(text)) => match defaultuser::mc_set(text, &value) {
                Ok(new) => {
                    steps.extend(self.replace(
                        MC_FILE,
                        text,
                        &new,
                        &format!("confDEF_USER_ID -> {value}"),
                    ));
                    Some(new)
                }
                Err(e) => {
                    steps.push(Step::new(4, MC_FILE, "", Outcome::Refused, e));
                    None
                }
            },
            Ok(None) => None,
            Err(e) => {
                steps.push(Step::refused(4, MC_FILE, e));
                None
            }
        };
        let cf_rel = CF_FILES
            .iter()
            .find(|r| matches!(self.read_rel(r), Ok(Some(_))))
            .copied();
        // A cf passed over because it could not be read (a symlink, say) is reported, not hidden
        // behind the one edited instead.
        if let Some(chosen) = cf_rel {
            for r in CF_FILES.iter().take_while(|r| **r != chosen) {
                if let Err(e) = self.read_rel(r) {
                    let mut st = Step::refused(4, r, &e);
                    st.note = format!("{}; {chosen} is used instead", st.note);
                    steps.push(st);
                }
            }
        }
        let Some(cf_rel) = cf_rel else {
            let why = match self.read_rel(CF_FILES[0]) {
                Err(e) => reason(&e),
                _ => "no sendmail.cf in etc/ or etc/mail/".into(),
            };
            steps.push(Step::new(4, CF_FILES[0], "", Outcome::Refused, why));
            return steps;
        };
        let cf = match self.read_rel(cf_rel) {
            Ok(Some(t)) => t,
            Ok(None) => return steps,
            Err(e) => {
                steps.push(Step::refused(4, cf_rel, &e));
                return steps;
            }
        };
        if self.opts.m4 {
            let Some(mc_text) = new_mc else {
                steps.push(Step::new(
                    4,
                    cf_rel,
                    "regenerate with m4",
                    Outcome::Refused,
                    "no usable sendmail.mc to run m4 on",
                ));
                return steps;
            };
            steps.extend(self.regenerate_cf(cf_rel, &cf, &mc_text, &value));
        } else {
            match defaultuser::cf_set(&cf, &value) {
                Ok(new) => {
                    steps.extend(self.replace(cf_rel, &cf, &new, &format!("O DefaultUser={value}")))
                }
                Err(e) => steps.push(Step::new(4, cf_rel, "", Outcome::Refused, e)),
            }
        }
        steps
    }

    fn read_rel(&self, rel: &str) -> Result<Option<Vec<u8>>, SafeError> {
        let parent = match self.parent(rel) {
            Ok(p) => p,
            Err(SafeError::Missing { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let dir = parent.as_ref().unwrap_or(self.fst);
        match dir.read(split(rel).1) {
            Ok(b) => Ok(Some(b)),
            Err(SafeError::Missing { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Backs a file up (step 3) and replaces its content (step 4), unless it is already right.
    pub(super) fn replace(&mut self, rel: &str, old: &[u8], new: &[u8], change: &str) -> Vec<Step> {
        if old == new {
            return vec![Step::new(4, rel, "", Outcome::Ok, "")];
        }
        let parent = match self.parent(rel) {
            Ok(p) => p,
            Err(e) => return vec![Step::refused(4, rel, &e)],
        };
        let dir = parent.as_ref().unwrap_or(self.fst);
        let (_, name) = split(rel);
        let entry = match dir.existing(name) {
            Ok(e) => e,
            Err(e) => return vec![Step::refused(4, rel, &e)],
        };
        let meta = entry.meta;
        if let Err(e) = entry.check_changeable() {
            return vec![Step::refused(3, rel, &e)];
        }
        drop(entry);
        let backup = match backup_name(dir, name, self.opts.now) {
            Ok(b) => b,
            Err(e) => return vec![Step::refused(3, rel, &e)],
        };
        let backup_rel = format!("{}/{}", split(rel).0.display(), backup.to_string_lossy());
        if self.run == Mode::Inspect {
            return vec![
                Step::new(
                    3,
                    &backup_rel,
                    format!("back up {rel}"),
                    Outcome::WouldChange,
                    "",
                ),
                Step::new(4, rel, change, Outcome::WouldChange, ""),
            ];
        }
        let mut steps = Vec::new();
        match dir.create_exclusive(&backup, old, meta.uid, meta.gid, meta.mode) {
            Ok(()) => steps.push(Step::new(
                3,
                &backup_rel,
                format!("back up {rel}"),
                Outcome::Changed,
                "",
            )),
            Err(e) => {
                steps.push(Step::refused(3, &backup_rel, &e));
                return steps;
            }
        }
        let result = (|| -> Result<(), SafeError> {
            if let Some(j) = self.journal.as_deref_mut() {
                j.record(rel, meta, Change::Content, Some(old))?;
            }
            dir.replace(name, new)
        })();
        steps.push(match result {
            Ok(()) => Step::new(4, rel, change, Outcome::Changed, ""),
            Err(e) => Step {
                change: change.to_string(),
                ..Step::refused(4, rel, &e)
            },
        });
        steps
    }

    /// Step 5: queued files get the site's group (owner unchanged: sendmail distrusts queue files owned
    /// by another user). Thousands of files become one step per outcome, each with its count and the
    /// first few paths: changed (or would change), already right, refused, skipped, failed.
    pub fn chgrp_queued(&mut self) -> Vec<Step> {
        let mut tally = Tally::default();
        let owner = Owner {
            uid: None,
            gid: self.admin.gid,
        };
        let mut dirs = vec![QUEUE.to_string()];
        dirs.extend(QUEUE_SUBDIRS.iter().map(|s| format!("{QUEUE}/{s}")));
        for (i, rel) in dirs.iter().enumerate() {
            let dir = match self.fst.subdir(Path::new(rel)) {
                Ok(d) => d,
                // sendmail's qf/df/xf subdirectories are optional.
                Err(SafeError::Missing { .. }) if i > 0 => continue,
                Err(e) => {
                    tally.add(rel, outcome_of(&e), reason(&e));
                    // Without the queue directory there are no subdirectories to look at either.
                    if i == 0 {
                        break;
                    }
                    continue;
                }
            };
            let names = match dir.names() {
                Ok(n) => n,
                Err(e) => {
                    tally.add(rel, outcome_of(&e), reason(&e));
                    continue;
                }
            };
            for name in names {
                let file_rel = format!("{rel}/{}", name.to_string_lossy());
                let mut e = match dir.entry(&name) {
                    Ok(Some(e)) => e,
                    Ok(None) => {
                        tally.skip(&file_rel, "vanished while read (delivered?)");
                        continue;
                    }
                    Err(e) => {
                        tally.add(&file_rel, outcome_of(&e), reason(&e));
                        continue;
                    }
                };
                match e.meta.kind {
                    Kind::File => {}
                    // sendmail's own subdirectories are walked above; any other is not a queue file.
                    Kind::Dir => {
                        if i > 0 || !QUEUE_SUBDIRS.contains(&name.to_string_lossy().as_ref()) {
                            tally.skip(&file_rel, "a directory, not a queue file");
                        }
                        continue;
                    }
                    Kind::Symlink => {
                        tally.add(
                            &file_rel,
                            Outcome::Refused,
                            "is a symlink (not followed)".into(),
                        );
                        continue;
                    }
                    Kind::Other => {
                        tally.skip(&file_rel, "not a regular file");
                        continue;
                    }
                }
                let s = set_meta(
                    5,
                    &file_rel,
                    &mut e,
                    owner,
                    None,
                    self.run,
                    &mut self.journal,
                    self.names,
                );
                tally.add(&file_rel, s.outcome, s.note);
            }
        }
        tally.steps(&self.names.group(self.admin.gid))
    }
}

/// Step 5's counts per outcome, with the first few paths (and why) of each.
#[derive(Default)]
struct Tally {
    by: Vec<(Outcome, usize, Vec<String>)>,
    skipped: (usize, Vec<String>),
}

const FIRST: usize = 3;

fn outcome_of(e: &SafeError) -> Outcome {
    match e {
        SafeError::Failed { .. } => Outcome::Failed,
        _ => Outcome::Refused,
    }
}

impl Tally {
    fn add(&mut self, rel: &str, outcome: Outcome, note: String) {
        let i = match self.by.iter().position(|(o, _, _)| *o == outcome) {
            Some(i) => i,
            None => {
                self.by.push((outcome, 0, Vec::new()));
                self.by.len() - 1
            }
        };
        let (_, n, first) = &mut self.by[i];
        *n += 1;
        if first.len() < FIRST {
            first.push(if note.is_empty() {
                rel.to_string()
            } else {
                format!("{rel}: {note}")
            });
        }
    }

    fn skip(&mut self, rel: &str, why: &str) {
        self.skipped.0 += 1;
        if self.skipped.1.len() < FIRST {
            self.skipped.1.push(format!("{rel}: {why}"));
        }
    }

    fn steps(mut self, group: &str) -> Vec<Step> {
        let order = |o: &Outcome| match o {
            Outcome::Changed | Outcome::WouldChange => 0,
            Outcome::Ok => 1,
            Outcome::Refused => 2,
            Outcome::Failed => 3,
        };
        self.by.sort_by_key(|(o, _, _)| order(o));
        let files = |n: usize| format!("{} queue file(s)", crate::units::thousands(n as u64));
        let more = |n: usize, shown: usize| {
            if n > shown {
                format!(" and {} more", crate::units::thousands((n - shown) as u64))
            } else {
                String::new()
            }
        };
        let mut steps: Vec<Step> = self
            .by
            .iter()
            .map(|(o, n, first)| {
                let change = match o {
                    Outcome::Changed | Outcome::WouldChange => {
                        format!("group of {} -> {group}", files(*n))
                    }
                    Outcome::Ok => format!("{} already in group {group}", files(*n)),
                    _ => format!("group of {} not changed", files(*n)),
                };
                let note = match o {
                    Outcome::Ok => String::new(),
                    _ => format!("{}{}", first.join("; "), more(*n, first.len())),
                };
                Step::new(5, QUEUE, change, *o, note)
            })
            .collect();
        if self.skipped.0 > 0 {
            let (n, first) = &self.skipped;
            steps.push(Step::new(
                5,
                QUEUE,
                format!("{} skipped", crate::units::thousands(*n as u64)),
                Outcome::Ok,
                format!("{}{}", first.join("; "), more(*n, first.len())),
            ));
        }
        if steps.is_empty() {
            steps.push(Step::new(5, QUEUE, "", Outcome::Ok, "no queued files"));
        }
        steps
    }
}

/// `NAME.zorig` for the first backup (never overwritten); later ones `NAME.zorig-YYYYMMDD-HHMMSS`.
fn backup_name(dir: &Dir, name: &OsStr, now: u64) -> Result<OsString, SafeError> {
    let mut first = name.to_os_string();
    first.push(".zorig");
    match dir.entry(&first)? {
        None => return Ok(first),
        Some(e) if e.meta.kind != Kind::File => {
            return Err(SafeError::Refused {
                path: e.path(),
                reason: format!(
                    "{} exists and is not a regular file: not a backup, nothing written beside it",
                    first.to_string_lossy()
                ),
            })
        }
        Some(_) => {}
    }
    let mut later = first.clone();
    later.push(format!("-{}", crate::units::utc_stamp(now)));
    Ok(later)
}
