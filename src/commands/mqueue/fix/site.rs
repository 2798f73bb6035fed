//! The five steps of binding one site's queue to its quota (SPEC 5): planned over what was read of the
//! site (`read::Snapshot`, no I/O here), then applied as planned through the safe operations, relative
//! to the site's `fst` directory.

use super::plan::{plan_meta, reason, set_group_batch, Names, Owner, SetMeta, Step};
use super::read::{Listing, Snapshot};
use crate::act::Outcome;
use crate::safeops::journal::Journal;
use crate::safeops::{Dir, Kind, SafeError};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

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
pub(super) const TREE_DEPTH: usize = 16;
/// Queued files per journal batch (one journal file and one sync each).
const BATCH: usize = 256;

pub(super) fn split(rel: &str) -> (&Path, &OsStr) {
    let p = Path::new(rel);
    (
        p.parent().unwrap_or(Path::new("")),
        p.file_name().unwrap_or(OsStr::new("")),
    )
}

/// Decides a site's plan over what was read.
pub struct Planner<'a> {
    pub snap: &'a Snapshot,
    pub admin: Admin,
    pub opts: &'a FixOptions,
    pub names: &'a dyn Names,
}

/// One part of a site's plan: the steps it shows, and what applying it does.
pub enum Part {
    /// Shown as it is: already right, refused, or waiting for something this run does not do.
    Fixed(Vec<Step>),
    /// An owner/mode change; `warn` is added to the note of what applying it gives.
    Meta {
        step: Step,
        set: SetMeta,
        warn: Option<String>,
    },
    /// Steps 3 and 4, the DefaultUser pair.
    Pair {
        shown: Vec<Step>,
        pair: Box<super::default_user::Pair>,
    },
    /// Step 5, the queued files.
    Queued { events: Vec<Event>, group: String },
}

/// One queued file (or directory of them) as step 5 planned it, in the order they were read.
pub enum Event {
    /// Counted as it is (already right, refused, failed).
    Known(String, Outcome, String),
    Skip(String, &'static str),
    /// Its group to change.
    Todo(SetMeta),
    /// The end of one queue directory's files (a batch ends there).
    DirEnd,
}

/// A site's plan, computed once: shown, confirmed, and applied.
pub struct SitePlan {
    pub parts: Vec<Part>,
}

impl SitePlan {
    /// What the plan shows: each step as it would go.
    pub fn steps(&self) -> Vec<Step> {
        let mut steps = Vec::new();
        for p in &self.parts {
            match p {
                Part::Fixed(s) | Part::Pair { shown: s, .. } => steps.extend(s.iter().cloned()),
                Part::Meta { step, .. } => steps.push(step.clone()),
                Part::Queued { events, group } => {
                    let mut tally = Tally::default();
                    for e in events {
                        match e {
                            Event::Known(rel, o, note) => tally.add(rel, *o, note.clone()),
                            Event::Skip(rel, why) => tally.skip(rel, why),
                            Event::Todo(set) => {
                                let rel = set.path.to_string_lossy();
                                match set.seen.refusal() {
                                    Some(why) => tally.add(&rel, Outcome::Refused, why),
                                    None => tally.add(&rel, Outcome::WouldChange, String::new()),
                                }
                            }
                            Event::DirEnd => {}
                        }
                    }
                    steps.extend(tally.steps(group));
                }
            }
        }
        steps
    }

    /// Applies the plan as it was shown; each target is looked at again just before it is changed.
    pub fn apply(self, ap: &mut Applier) -> Vec<Step> {
        let mut steps = Vec::new();
        for p in self.parts {
            match p {
                Part::Fixed(s) => steps.extend(s),
                Part::Meta { step, set, warn } => {
                    let mut done = ap.set_meta(&step, &set);
                    if let Some(w) = warn {
                        done.note = if done.note.is_empty() {
                            w
                        } else {
                            format!("{}; {w}", done.note)
                        };
                    }
                    steps.push(done);
                }
                Part::Pair { pair, .. } => steps.extend(ap.default_user(*pair)),
                Part::Queued { events, group } => steps.extend(ap.queued(events, &group)),
            }
        }
        steps
    }
}

impl Planner<'_> {
    /// The whole plan of a site, in the order of SPEC 5.
    pub fn plan(&self) -> SitePlan {
        let mut parts = self.queue_dir();
        parts.extend(self.smrsh_aliases());
        parts.push(self.default_user());
        if self.opts.chgrp_queued {
            parts.push(self.chgrp_queued());
        }
        SitePlan { parts }
    }

    /// Owner and mode of one path (`mode: None` keeps the mode). A missing path is reported as such.
    fn meta_step(&self, step: u8, rel: &str, owner: Owner, mode: Option<u32>, ok: bool) -> Part {
        let absent = || {
            Part::Fixed(vec![Step::new(
                step,
                rel,
                "",
                Outcome::Ok,
                "absent: nothing to do",
            )])
        };
        match self.snap.entry(rel) {
            // Only the parent directory can be missing: a lookup says `None`.
            Err(SafeError::Missing { .. }) if ok => absent(),
            Err(e) => Part::Fixed(vec![Step::refused(step, rel, &e)]),
            Ok(None) if ok => absent(),
            Ok(None) => Part::Fixed(vec![Step::new(
                step,
                rel,
                "",
                Outcome::Refused,
                "does not exist",
            )]),
            Ok(Some(m)) => self.meta_part(step, PathBuf::from(rel), m, owner, mode),
        }
    }

    fn meta_part(
        &self,
        step: u8,
        path: PathBuf,
        m: crate::safeops::Meta,
        owner: Owner,
        mode: Option<u32>,
    ) -> Part {
        match plan_meta(step, path, m, owner, mode, self.names) {
            (step, Some(set)) => Part::Meta {
                step,
                set,
                warn: None,
            },
            (step, None) => Part::Fixed(vec![step]),
        }
    }

    /// Step 1: the queue directory (and sendmail's qf/df/xf subdirectories when present).
    pub fn queue_dir(&self) -> Vec<Part> {
        let owner = Owner {
            uid: Some(if self.opts.owner_root {
                0
            } else {
                self.admin.uid
            }),
            gid: self.admin.gid,
        };
        let mut first = self.meta_step(1, QUEUE, owner, Some(self.opts.mode), false);
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
            let step = match &mut first {
                Part::Fixed(s) => s.first_mut(),
                Part::Meta { step, warn, .. } => {
                    // Applying it gives a new note (the reason if it fails): the warnings follow it.
                    *warn = Some(warnings.join("; "));
                    Some(step)
                }
                Part::Pair { .. } | Part::Queued { .. } => None,
            };
            if let Some(step) = step {
                if !step.note.is_empty() {
                    warnings.insert(0, step.note.clone());
                }
                step.note = warnings.join("; ");
            }
        }
        let mut parts = vec![first];
        for sub in QUEUE_SUBDIRS {
            let rel = format!("{QUEUE}/{sub}");
            if matches!(self.snap.entry(&rel), Ok(Some(m)) if m.kind != Kind::File) {
                parts.push(self.meta_step(1, &rel, owner, Some(self.opts.mode), false));
            }
        }
        parts
    }

    /// Step 2: etc/smrsh recursively, etc/aliases, etc/aliases.db.
    pub fn smrsh_aliases(&self) -> Vec<Part> {
        let admin = Owner {
            uid: Some(self.admin.uid),
            gid: self.admin.gid,
        };
        let top = self.meta_step(2, "etc/smrsh", admin, None, true);
        let refused =
            matches!(&top, Part::Fixed(s) if s.iter().any(|s| s.outcome == Outcome::Refused));
        let mut parts = vec![top];
        if !refused {
            let root = Path::new("etc/smrsh");
            // The directory itself could not be opened: there is nothing under it to walk.
            if !matches!(self.snap.listing(root), Listing::Unopened(_)) {
                self.tree(root, admin, 0, &mut parts);
            }
        }
        parts.push(self.meta_step(2, "etc/aliases", admin, None, true));
        let db = Owner {
            uid: Some(0),
            gid: self.admin.gid,
        };
        parts.push(self.meta_step(2, "etc/aliases.db", db, None, true));
        parts
    }

    fn tree(&self, rel: &Path, owner: Owner, depth: usize, parts: &mut Vec<Part>) {
        let fixed = |s: Step| Part::Fixed(vec![s]);
        let names = match self.snap.listing(rel) {
            Listing::Names(n) => n,
            Listing::Unopened(e) | Listing::Unlisted(e) => {
                return parts.push(fixed(Step::refused(2, &rel.to_string_lossy(), &e)))
            }
        };
        for (name, seen) in names {
            let child_rel = rel.join(&name);
            let shown = child_rel.to_string_lossy().into_owned();
            let m = match seen {
                Ok(Some(m)) => m,
                Ok(None) => continue,
                Err(e) => {
                    parts.push(fixed(Step::refused(2, &shown, &e)));
                    continue;
                }
            };
            // Stock Ensim smrsh holds links to the programs mail may run (vacation, procmail): a link
            // is left alone, its target never touched, and its own owner means nothing on Linux.
            if m.kind == Kind::Symlink {
                parts.push(fixed(Step::new(
                    2,
                    &shown,
                    "",
                    Outcome::Ok,
                    "symlink, not followed",
                )));
                continue;
            }
            parts.push(self.meta_part(2, child_rel.clone(), m, owner, None));
            if m.kind == Kind::Dir && depth < TREE_DEPTH {
                self.tree(&child_rel, owner, depth + 1, parts);
            } else if m.kind == Kind::Dir {
                parts.push(fixed(Step::new(
                    2,
                    &shown,
                    "",
                    Outcome::Refused,
                    format!("more than {TREE_DEPTH} directories deep: what is inside was not walked or changed"),
                )));
            }
        }
    }

    /// Step 5: queued files get the site's group (owner unchanged: sendmail distrusts queue files owned
    /// by another user), one line per outcome with its count and first paths.
    pub fn chgrp_queued(&self) -> Part {
        let mut events = Vec::new();
        let mut dirs = vec![QUEUE.to_string()];
        dirs.extend(QUEUE_SUBDIRS.iter().map(|s| format!("{QUEUE}/{s}")));
        for (i, rel) in dirs.iter().enumerate() {
            let names = match self.snap.listing(Path::new(rel)) {
                Listing::Names(n) => n,
                // sendmail's qf/df/xf subdirectories are optional.
                Listing::Unopened(SafeError::Missing { .. }) if i > 0 => continue,
                Listing::Unopened(e) => {
                    events.push(Event::Known(rel.clone(), Outcome::of(&e), reason(&e)));
                    // Without the queue directory there are no subdirectories to look at either.
                    if i == 0 {
                        break;
                    }
                    continue;
                }
                Listing::Unlisted(e) => {
                    events.push(Event::Known(rel.clone(), Outcome::of(&e), reason(&e)));
                    continue;
                }
            };
            for (name, seen) in names {
                let file_path = Path::new(rel).join(&name);
                let file_rel = file_path.to_string_lossy().into_owned();
                let m = match seen {
                    Ok(Some(m)) => m,
                    Ok(None) => {
                        events.push(Event::Skip(file_rel, "vanished while read (delivered?)"));
                        continue;
                    }
                    Err(e) => {
                        events.push(Event::Known(file_rel, Outcome::of(&e), reason(&e)));
                        continue;
                    }
                };
                match m.kind {
                    Kind::File => {}
                    // sendmail's own subdirectories are walked above; any other is not a queue file.
                    Kind::Dir => {
                        if i > 0 || !QUEUE_SUBDIRS.contains(&name.to_string_lossy().as_ref()) {
                            events.push(Event::Skip(file_rel, "a directory, not a queue file"));
                        }
                        continue;
                    }
                    Kind::Symlink => {
                        let why = "is a symlink (not followed)".to_string();
                        events.push(Event::Known(file_rel, Outcome::Refused, why));
                        continue;
                    }
                    Kind::Other => {
                        events.push(Event::Skip(file_rel, "not a regular file"));
                        continue;
                    }
                }
                if m.gid == self.admin.gid {
                    events.push(Event::Known(file_rel, Outcome::Ok, String::new()));
                    continue;
                }
                events.push(Event::Todo(SetMeta {
                    path: file_path,
                    seen: m,
                    uid: m.uid,
                    gid: self.admin.gid,
                    mode: m.mode,
                }));
            }
            events.push(Event::DirEnd);
        }
        Part::Queued {
            events,
            group: self.names.group(self.admin.gid),
        }
    }
}

/// Applies a site's plan: journaled, each target looked at again just before it is changed.
pub struct Applier<'a> {
    pub fst: &'a Dir,
    pub admin: Admin,
    pub opts: &'a FixOptions,
    pub journal: &'a mut Journal,
}

impl Applier<'_> {
    fn set_meta(&mut self, planned: &Step, set: &SetMeta) -> Step {
        // The exact bytes of the planned path, never its lossy spelling (a name that is not UTF-8
        // must find the file planned, and no other).
        let dir_rel = set.path.parent().unwrap_or(Path::new(""));
        let parent = match dir_rel.as_os_str().is_empty() {
            true => None,
            false => match self.fst.subdir(dir_rel) {
                Ok(d) => Some(d),
                Err(e) => return planned.became(Outcome::of(&e), reason(&e)),
            },
        };
        let dir = parent.as_ref().unwrap_or(self.fst);
        let name = set.path.file_name().unwrap_or(OsStr::new(""));
        match dir.entry(name) {
            Ok(entry) => set.apply(planned, entry, self.journal),
            Err(e) => planned.became(Outcome::of(&e), reason(&e)),
        }
    }

    /// Step 5 as planned, in batches: each batch is journaled with one file and one sync before any
    /// file of it is changed (a runaway queue holds thousands of files).
    fn queued(&mut self, events: Vec<Event>, group: &str) -> Vec<Step> {
        let mut tally = Tally::default();
        let mut batch: Vec<SetMeta> = Vec::new();
        for e in events {
            match e {
                Event::Known(rel, o, note) => tally.add(&rel, o, note),
                Event::Skip(rel, why) => tally.skip(&rel, why),
                Event::Todo(set) => {
                    batch.push(set);
                    if batch.len() == BATCH {
                        self.flush(&mut batch, &mut tally);
                    }
                }
                Event::DirEnd => self.flush(&mut batch, &mut tally),
            }
        }
        self.flush(&mut batch, &mut tally);
        tally.steps(group)
    }

    fn flush(&mut self, batch: &mut Vec<SetMeta>, tally: &mut Tally) {
        let Some(first) = batch.first() else {
            return;
        };
        let dir_rel = first.path.parent().unwrap_or(Path::new("")).to_path_buf();
        let dir = match self.fst.subdir(&dir_rel) {
            Ok(d) => d,
            Err(e) => {
                for set in batch.drain(..) {
                    tally.add(&set.path.to_string_lossy(), Outcome::of(&e), reason(&e));
                }
                return;
            }
        };
        let mut items = Vec::with_capacity(batch.len());
        let mut lookup_failed = Vec::new();
        for set in batch.drain(..) {
            let name = set
                .path
                .file_name()
                .unwrap_or(OsStr::new(""))
                .to_os_string();
            match dir.entry(&name) {
                Ok(e) => items.push((set, e)),
                Err(e) => lookup_failed.push((set.path.to_string_lossy().into_owned(), e)),
            }
        }
        for (rel, o, note) in set_group_batch(items, self.journal) {
            tally.add(&rel, o, note);
        }
        for (rel, e) in lookup_failed {
            tally.add(&rel, Outcome::of(&e), reason(&e));
        }
    }
}

/// Step 5's counts per outcome, with the first few paths (and why) of each.
#[derive(Default)]
struct Tally {
    by: Vec<(Outcome, usize, Vec<String>)>,
    skipped: (usize, Vec<String>),
}

const FIRST: usize = 3;

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
            Outcome::Changed | Outcome::WouldChange | Outcome::Declined => 0,
            Outcome::Ok => 1,
            Outcome::Refused | Outcome::NoEffect => 2,
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

/// `NAME.zorig` for the first backup (never overwritten); later ones `NAME.zorig-YYYYMMDD-HHMMSS`,
/// chosen from what was read of the first backup name.
pub(super) fn backup_name(snap: &Snapshot, rel: &str, now: u64) -> Result<OsString, SafeError> {
    let mut first = split(rel).1.to_os_string();
    first.push(".zorig");
    match snap.entry(&format!("{rel}.zorig"))? {
        None => return Ok(first),
        Some(m) if m.kind != Kind::File => {
            return Err(SafeError::Refused {
                path: format!("{rel}.zorig"),
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
