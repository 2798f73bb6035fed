//! The five steps of binding one site's queue to its quota (SPEC 5), inspected or applied through the
//! safe operations, relative to the site's `fst` directory.

use super::plan::{reason, set_group_batch, set_meta, Mode, Names, Outcome, Owner, Step};
use crate::safeops::journal::Journal;
use crate::safeops::{Dir, Kind, SafeError, CONFIG_CAP};
use std::ffi::{OsStr, OsString};
use std::path::Path;

/// What the administrator asked for.
#[derive(Debug, Clone)]
pub struct FixOptions {
    /// root owns the queue directory (`--owner root`, the default); else the site's admin.
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

pub use crate::sendmail::layout::QUEUE;
pub(super) use crate::sendmail::layout::{CF_FILES, MC_FILE, QUEUE_SUBDIRS};
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

pub(super) fn split(rel: &str) -> (&Path, &OsStr) {
    let p = Path::new(rel);
    (
        p.parent().unwrap_or(Path::new("")),
        p.file_name().unwrap_or(OsStr::new("")),
    )
}

impl Ctx<'_, '_> {
    pub(super) fn parent(&self, rel: &str) -> Result<Option<Dir>, SafeError> {
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
                Path::new(rel),
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
        let mut warnings = Vec::new();
        let world_writable = self.opts.mode & 0o002 != 0;
        if !self.opts.owner_root && self.opts.mode & 0o003 != 0o003 {
            warnings.push(format!(
                "--owner admin: a root-run sendmail cannot queue in a {}-owned {:04o} queue \
                 (\"Cannot write ./df...: Permission denied\"); only for a sendmail that runs as the \
                 site's user",
                self.names.user(self.admin.uid),
                self.opts.mode
            ));
        }
        if world_writable {
            warnings.push(format!(
                "mode {:04o} is world-writable: every local user can delete queued mail",
                self.opts.mode
            ));
        }
        if !warnings.is_empty() {
            if !steps[0].note.is_empty() {
                warnings.insert(0, steps[0].note.clone());
            }
            steps[0].note = warnings.join("; ");
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
                self.tree(&d, Path::new("etc/smrsh"), admin, 0, &mut steps);
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

    fn tree(&mut self, dir: &Dir, rel: &Path, owner: Owner, depth: usize, steps: &mut Vec<Step>) {
        let names = match dir.names() {
            Ok(n) => n,
            Err(e) => return steps.push(Step::refused(2, &rel.to_string_lossy(), &e)),
        };
        for name in names {
            let child_rel = rel.join(&name);
            let shown = child_rel.to_string_lossy().into_owned();
            let mut entry = match dir.entry(&name) {
                Ok(Some(e)) => e,
                Ok(None) => continue,
                Err(e) => {
                    steps.push(Step::refused(2, &shown, &e));
                    continue;
                }
            };
            // Stock Ensim smrsh holds links to the programs mail may run (vacation, procmail): a link
            // is left alone, its target never touched, and its own owner means nothing on Linux.
            if entry.meta.kind == Kind::Symlink {
                steps.push(Step::new(
                    2,
                    &shown,
                    "",
                    Outcome::Ok,
                    "symlink, not followed",
                ));
                continue;
            }
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
                    Err(e) => steps.push(Step::refused(2, &shown, &e)),
                }
            } else if entry.meta.kind == Kind::Dir {
                steps.push(Step::new(
                    2,
                    &shown,
                    "",
                    Outcome::Refused,
                    format!("more than {TREE_DEPTH} directories deep: what is inside was not walked or changed"),
                ));
            }
        }
    }

    pub(super) fn read_rel(&self, rel: &str) -> Result<Option<Vec<u8>>, SafeError> {
        let parent = match self.parent(rel) {
            Ok(p) => p,
            Err(SafeError::Missing { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let dir = parent.as_ref().unwrap_or(self.fst);
        // An mc or cf is a few hundred KiB at most: a bigger one is refused with its size.
        match dir.read_capped(split(rel).1, CONFIG_CAP) {
            Ok(b) => Ok(Some(b)),
            Err(SafeError::Missing { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Step 5: queued files get the site's group (owner unchanged: sendmail distrusts queue files owned
    /// by another user), one line per outcome with its count and first paths. Applied in batches: each
    /// batch is journaled with one file and one sync before any file of it is changed (a runaway queue
    /// holds thousands of files).
    pub fn chgrp_queued(&mut self) -> Vec<Step> {
        const BATCH: usize = 256;
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
            let mut batch = Vec::new();
            for name in names {
                let file_path = Path::new(rel).join(&name);
                let file_rel = file_path.to_string_lossy().into_owned();
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
                if self.run == Mode::Apply && e.meta.gid != self.admin.gid {
                    batch.push((file_path, e));
                    if batch.len() == BATCH {
                        for s in set_group_batch(5, &mut batch, self.admin.gid, &mut self.journal) {
                            tally.add(&s.path, s.outcome, s.note);
                        }
                        batch.clear();
                    }
                    continue;
                }
                let s = set_meta(
                    5,
                    &file_path,
                    &mut e,
                    owner,
                    None,
                    self.run,
                    &mut self.journal,
                    self.names,
                );
                tally.add(&file_rel, s.outcome, s.note);
            }
            for s in set_group_batch(5, &mut batch, self.admin.gid, &mut self.journal) {
                tally.add(&s.path, s.outcome, s.note);
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
pub(super) fn backup_name(dir: &Dir, name: &OsStr, now: u64) -> Result<OsString, SafeError> {
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
