//! `toolkit mqueue purge`: removes oversized queued messages of a site, whole messages only (qf, df and
//! xf together), never one sendmail holds locked; by default into a quarantine outside the site tree,
//! so nothing is lost. Shown as a plan, confirmed, applied through the safe operations.

use crate::act;
use crate::cli::MqueuePurgeArgs;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::readers::mqueue::queue::{scan_messages, ScanOptions};
use crate::readers::mqueue::queued::{QueueFile, QueuedMessage};
use crate::readers::sites::{discover, Site};
use crate::readers::skips::Skips;
use crate::readers::users::UserDb;
use crate::render::sanitize::{decode, printable};
use crate::root::Root;
use crate::safeops::{Dir, Meta, SafeError};
use crate::status::Status;
use crate::ui::Approval;
use crate::units::human_size;
use pending::{PurgeJournal, QueueDirs};
use serde::Serialize;
use std::ffi::{OsStr, OsString};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

mod mta;
mod pending;
mod quarantine;
mod render;

use crate::sendmail::layout::{QUEUE, QUEUE_SUBDIRS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    WouldPurge,
    /// Dry run (or declined) of --hold.
    WouldHold,
    Quarantined,
    Deleted,
    /// Frozen (Exim) or put on hold (Postfix): still queued, not retried.
    Held,
    /// Locked by sendmail, or a file of it is a symlink: left alone.
    Skipped,
    Failed,
}

impl Outcome {
    /// The shared outcome of what was (or would be) done to a message: the purge's words for it.
    pub fn effect(self, dry_run: bool) -> act::Outcome {
        match self {
            Outcome::WouldPurge | Outcome::WouldHold if dry_run => act::Outcome::WouldChange,
            Outcome::WouldPurge | Outcome::WouldHold => act::Outcome::Declined,
            Outcome::Quarantined | Outcome::Deleted | Outcome::Held => act::Outcome::Changed,
            Outcome::Skipped => act::Outcome::Refused,
            Outcome::Failed => act::Outcome::Failed,
        }
    }
}

/// The status of a purge, by the rule every fixing command shares (`act::status_of`): a failed
/// message or recovery is critical; a skipped or declined message, a message of an interrupted run
/// left locked, or journal entries a dry run left to recover, a warning.
pub(super) fn status_of(sites: &[SitePurge], dry_run: bool) -> Status {
    act::status_of(sites.iter().flat_map(|s| {
        let messages = s.messages.iter().map(move |m| m.outcome.effect(dry_run));
        let recovered = s.recovered.iter().map(|r| r.outcome.effect());
        let pending = (s.pending > 0).then_some(act::Outcome::Refused);
        messages.chain(recovered).chain(pending)
    }))
}

#[derive(Debug, Clone, Serialize)]
pub struct Purged {
    pub id: String,
    pub size: u64,
    pub age: Option<u64>,
    pub sender: Option<String>,
    /// Subject header, with sender and size what makes copies identical (grouped in text).
    pub subject: Option<String>,
    /// The files of the message (qf, df, xf...), relative to the queue directory.
    pub files: Vec<String>,
    pub outcome: Outcome,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SitePurge {
    pub site: String,
    pub domain: Option<String>,
    /// Where purged messages went (absent with --delete).
    pub quarantine: Option<String>,
    /// Messages an interrupted run had left half-moved, and how each was made whole.
    pub recovered: Vec<pending::Recovered>,
    /// Journal entries of an interrupted purge still to recover (a dry run only counts them).
    pub pending: usize,
    pub messages: Vec<Purged>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PurgeReport {
    pub status: Status,
    pub dry_run: bool,
    pub delete: bool,
    pub min: u64,
    pub sites: Vec<SitePurge>,
}

pub fn run(ctx: &Context, args: &MqueuePurgeArgs) -> Result<Status> {
    if !args.account.is_empty() {
        return mta::run(ctx, args);
    }
    if args.hold {
        return Err(Error::Usage(
            "--hold: only with --account (Exim and Postfix hosts); sendmail has no hold".into(),
        ));
    }
    let users = UserDb::open(&ctx.root)?;
    let db = discover(&ctx.root, &users);
    let sites = db.named(&args.site).map_err(Error::Usage)?;
    let quarantine_rel = match &args.quarantine {
        Some(q) => quarantine::relative(q)
            .map_err(|e| Error::Usage(format!("--quarantine {}: {e}", q.display())))?,
        None => PathBuf::from(quarantine::DEFAULT),
    };
    if !args.delete {
        // What exists of it now is checked before anything is planned; the rest is made when applied.
        quarantine::open(ctx.root.path(), &quarantine_rel, false).map_err(|e| {
            let arg = args
                .quarantine
                .as_deref()
                .unwrap_or(Path::new(quarantine::DEFAULT));
            Error::Usage(format!("--quarantine {}: {e}", arg.display()))
        })?;
    }
    let approval = Approval::decide(ctx)?;
    let now = ctx.root.now_unix();
    let mut out = Vec::new();
    for site in sites {
        out.push(purge_site(ctx, args, site, now, approval, &quarantine_rel)?);
    }
    let status = status_of(&out, ctx.dry_run);
    let report = PurgeReport {
        status,
        dry_run: ctx.dry_run,
        delete: args.delete,
        min: args.min.0,
        sites: out,
    };
    super::super::output(ctx, &report)
}

/// One candidate message: its id and the names of its files, per directory, with its qf and df as
/// they were when planned.
struct Candidate {
    id: String,
    /// (subdirectory relative to the queue dir, or "", file name)
    files: Vec<(String, OsString)>,
    size: u64,
    age: Option<u64>,
    sender: Option<String>,
    subject: Option<String>,
    /// The qf and df when the plan was made: a message whose files changed since (sendmail ran it,
    /// rewrote it, or someone swapped a file) is left alone.
    seen: [Option<Meta>; 2],
}

impl Candidate {
    fn shown(&self) -> Vec<String> {
        self.files
            .iter()
            .map(|(d, n)| {
                if d.is_empty() {
                    decode(n.as_bytes())
                } else {
                    format!("{d}/{}", decode(n.as_bytes()))
                }
            })
            .collect()
    }

    fn entry(&self, outcome: Outcome, detail: &str) -> Purged {
        Purged {
            id: self.id.clone(),
            size: self.size,
            age: self.age,
            sender: self.sender.clone(),
            subject: self.subject.clone(),
            files: self.shown(),
            outcome,
            detail: detail.to_string(),
        }
    }
}

pub(super) fn sender_matches(sender: Option<&str>, want: &str) -> bool {
    let norm = |s: &str| {
        s.trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_ascii_lowercase()
    };
    let Some(s) = sender.map(norm) else {
        return false;
    };
    let want = norm(want);
    if want.starts_with('@') {
        s.ends_with(&want)
    } else {
        s == want
    }
}

/// One site: recover what an interrupted run left, read and select the messages (the plan), show
/// and confirm it, then apply it batch by batch, journaled.
fn purge_site(
    ctx: &Context,
    args: &MqueuePurgeArgs,
    site: &Site,
    now: Option<u64>,
    approval: Approval,
    quarantine_rel: &Path,
) -> Result<SitePurge> {
    let mut report = SitePurge {
        site: site.name.clone(),
        domain: site.domains.first().cloned(),
        quarantine: None,
        recovered: Vec::new(),
        pending: 0,
        messages: Vec::new(),
    };
    let q = open_queue(site)?;
    let journal = if approval == Approval::DryRun {
        report.pending = pending::left_behind(ctx.root.path(), &site.name);
        None
    } else {
        let j = PurgeJournal::open(ctx.root.path(), &site.name)
            .map_err(|e| Error::Refused(format!("purge journal: {e}")))?;
        // First make whole whatever an interrupted run left half-moved.
        report.recovered = j.recover(ctx.root.path(), &q).map_err(|e| {
            Error::Refused(format!(
                "{}: recovering an interrupted purge: {e}",
                site.name
            ))
        })?;
        Some(j)
    };
    let wanted = Wanted {
        min: args.min.0,
        older: args.older.map(|o| o.secs()),
        sender: args.sender.as_deref(),
    };
    let candidates = plan(read_queue(&ctx.root, &q, wanted.min)?, &wanted, now);
    let Some(mut journal) = journal.filter(|_| !candidates.is_empty()) else {
        let why = if ctx.dry_run { "dry run" } else { "" };
        report.messages = candidates
            .iter()
            .map(|c| c.entry(Outcome::WouldPurge, why))
            .collect();
        return Ok(report);
    };
    if !confirm(approval, site, args, &candidates)? {
        report.messages = candidates
            .iter()
            .map(|c| c.entry(Outcome::WouldPurge, "declined"))
            .collect();
        return Ok(report);
    }
    act::pause_after_confirm();
    let (quarantine, run_rel) = if args.delete {
        (None, None)
    } else {
        let stamp = crate::units::utc_stamp(now.unwrap_or(0));
        let dir = quarantine::open(ctx.root.path(), quarantine_rel, true)
            .and_then(|base| {
                let base = base.expect("made when missing");
                quarantine::run_dir(&base, &site.name, &stamp)
            })
            .map_err(|e| Error::Refused(format!("quarantine: {e}")))?;
        let run_rel = quarantine_rel.join(&site.name).join(&stamp);
        report.quarantine = Some(ctx.root.display(&ctx.root.join(&run_rel)));
        (Some(dir), Some(run_rel))
    };
    let dest = Dest {
        dir: quarantine.as_ref(),
        rel: run_rel.as_deref(),
    };
    report.messages = apply(&q, &mut journal, &candidates, &dest)
        .map_err(|e| Error::Refused(format!("{}: purge journal: {e}", site.name)))?;
    Ok(report)
}

/// The site's queue directory, and sendmail's qf/df/xf subdirectories when it has them.
fn open_queue(site: &Site) -> Result<QueueDirs> {
    let queue = Dir::open_trusted(&site.fst()).and_then(|f| f.subdir(Path::new(QUEUE)));
    let queue = match queue {
        Ok(q) => q,
        Err(e) => return Err(Error::Refused(format!("{}: {e}", site.name))),
    };
    // sendmail's split layout keeps qf, df and xf files in subdirectories of the same names.
    let subs = QUEUE_SUBDIRS
        .into_iter()
        .filter_map(|name| match queue.entry(OsStr::new(name)) {
            Ok(Some(e)) if e.meta.kind == crate::safeops::Kind::Dir => {
                e.open_dir().ok().map(|d| (name.to_string(), d))
            }
            _ => None,
        })
        .collect();
    Ok(QueueDirs { queue, subs })
}

/// Reads the site's queue once, through the scan's reader: each message whose data is at least `min`
/// bytes (the smaller ones are never candidates, so their qf files are not read), with its files as
/// they are now. The walk starts from the very directory the purge then acts in, and the messages
/// kept are those of its own layout (`QueueDirs`): a data file without qf is no message to purge, and
/// a `q*` sub-queue is not this queue.
fn read_queue(root: &Root, q: &QueueDirs, min: u64) -> Result<Vec<QueuedMessage>> {
    let shown = q.queue.path().display();
    let fd = q
        .queue
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| Error::Refused(format!("{shown}: {e}")))?;
    let opts = ScanOptions {
        min,
        site_gid: None,
    };
    // What could not be read of a message leaves it out or without its envelope, as before; the
    // purge does not report the scan's skips.
    let mut skips = Skips::default();
    let (_, messages) = scan_messages(root, fd, q.queue.path(), opts, &mut skips)
        .map_err(|e| Error::Refused(e.to_string()))?;
    let held_in = |f: &QueueFile, kind: &str| f.dir.as_os_str() == q.sub(kind);
    Ok(messages
        .into_iter()
        .filter(|m| m.qf.meta.is_some() && held_in(&m.qf, "qf") && held_in(&m.df, "df"))
        .filter(|m| m.xf.as_ref().is_none_or(|x| held_in(x, "xf")))
        .collect())
}

/// What `--min`, `--older` and `--sender` ask for.
struct Wanted<'a> {
    min: u64,
    older: Option<u64>,
    sender: Option<&'a str>,
}

/// The plan, decided over what was read and nothing else: the messages the options select (`--min`,
/// `--older`, `--sender`), largest first, each with its qf, df and (when it has one) xf.
fn plan(queued: Vec<QueuedMessage>, wanted: &Wanted, now: Option<u64>) -> Vec<Candidate> {
    let mut candidates: Vec<Candidate> = queued
        .into_iter()
        .filter(|m| m.size >= wanted.min)
        .filter_map(|m| {
            let age = match (now, m.created) {
                (Some(n), Some(c)) => Some(n.saturating_sub(c)),
                _ => None,
            };
            if let Some(older) = wanted.older {
                if age.is_none_or(|a| a < older) {
                    return None;
                }
            }
            if let Some(want) = wanted.sender {
                if !sender_matches(m.sender.as_deref(), want) {
                    return None;
                }
            }
            let file = |f: QueueFile| (f.dir.to_string_lossy().into_owned(), f.name);
            Some(Candidate {
                id: decode(&m.id),
                seen: [m.qf.meta, m.df.meta],
                files: [Some(m.qf), Some(m.df), m.xf]
                    .into_iter()
                    .flatten()
                    .map(file)
                    .collect(),
                size: m.size,
                age,
                sender: m.sender,
                subject: m.subject,
            })
        })
        .collect();
    candidates.sort_by(|a, b| b.size.cmp(&a.size).then(a.id.cmp(&b.id)));
    candidates
}

/// Shows the plan (when asking) and asks for it.
fn confirm(
    approval: Approval,
    site: &Site,
    args: &MqueuePurgeArgs,
    candidates: &[Candidate],
) -> Result<bool> {
    let total: u64 = candidates.iter().map(|c| c.size).sum();
    let verb = if args.delete { "Delete" } else { "Quarantine" };
    if approval == Approval::Ask {
        let title = format!(
            "Plan for {}: {} {} message(s), {}",
            site.label(),
            verb.to_lowercase(),
            candidates.len(),
            human_size(total)
        );
        let lines: Vec<String> = candidates
            .iter()
            .take(10)
            .map(|c| {
                format!(
                    "{}  {}  {}",
                    printable(&c.id),
                    human_size(c.size),
                    c.sender.as_deref().map(printable).unwrap_or_default()
                )
            })
            .collect();
        let plain = crate::render::Style { color: false };
        let _ = act::show_plan(&mut std::io::stderr(), &plain, &title, &lines);
    }
    approval.confirm(&format!(
        "{verb} {} message(s) ({}) of {}?",
        candidates.len(),
        human_size(total),
        site.label()
    ))
}

/// Where the messages go: the run's quarantine directory (and its path under the root, for the
/// journal), or nowhere with --delete.
struct Dest<'a> {
    dir: Option<&'a Dir>,
    rel: Option<&'a Path>,
}

/// Applies the plan a journaled batch at a time: each batch's entry is written before any of its
/// messages is touched, and removed once all their moves are on disk.
fn apply(
    q: &QueueDirs,
    journal: &mut PurgeJournal,
    candidates: &[Candidate],
    dest: &Dest,
) -> std::result::Result<Vec<Purged>, SafeError> {
    let mut messages = Vec::with_capacity(candidates.len());
    for batch in candidates.chunks(pending::BATCH) {
        let entry_name = journal.begin(&pending::Batch {
            quarantine: dest.rel.map(|r| r.as_os_str().as_encoded_bytes().to_vec()),
            messages: batch
                .iter()
                .map(|c| pending::msg(&c.id, &c.files))
                .collect(),
        });
        let entry_name = match entry_name {
            Ok(n) => n,
            Err(e) => {
                let why = format!("not journaled, not touched: {e}");
                messages.extend(batch.iter().map(|c| c.entry(Outcome::Failed, &why)));
                continue;
            }
        };
        let mut whole = true;
        for c in batch {
            let (outcome, detail) = purge_one(q, c, dest.dir);
            whole &= outcome != Outcome::Failed;
            messages.push(c.entry(outcome, &detail));
        }
        // Every move of the batch on disk before its entry goes. A failed message may be half-moved
        // (its put-back failed too): the entry stays, and the next run makes it whole.
        dest.dir.map_or(Ok(()), |d| d.sync(OsStr::new(".")))?;
        q.sync()?;
        if whole {
            journal.end(&entry_name)?;
        }
    }
    Ok(messages)
}

/// Moves (or deletes) one whole message: the qf first, under sendmail's lock, so sendmail never sees a
/// message without its body; if a later file fails, the qf is put back. The directories are synced
/// by the caller once per journaled batch.
fn purge_one(q: &QueueDirs, c: &Candidate, quarantine: Option<&Dir>) -> (Outcome, String) {
    let (qsub, qname) = &c.files[0];
    let qdir = q.dir(qsub);
    let lock = match qdir.try_lock(qname) {
        Ok(Some(l)) => l,
        Ok(None) => return (Outcome::Skipped, "locked: sendmail is working on it".into()),
        Err(e @ SafeError::Failed { .. }) => return (Outcome::Failed, e.to_string()),
        Err(e) => return (Outcome::Skipped, e.to_string()),
    };
    // Under the lock, the message must still be the one planned (its qf and df as they were).
    let (_, dfname) = &c.files[1];
    let now = [
        qdir.entry(qname).ok().flatten().map(|e| e.meta),
        q.dir(&c.files[1].0)
            .entry(dfname)
            .ok()
            .flatten()
            .map(|e| e.meta),
    ];
    for (planned, now) in c.seen.iter().zip(&now) {
        let changed = match (planned, now) {
            (Some(p), Some(n)) => act::unchanged(p, n),
            (None, None) => None,
            (Some(_), None) => Some("vanished".to_string()),
            (None, Some(_)) => Some("appeared".to_string()),
        };
        if let Some(what) = changed {
            lock.release();
            return (
                Outcome::Skipped,
                format!("changed since the plan was made ({what}): left alone"),
            );
        }
    }
    for (sub, name) in &c.files[1..] {
        if let Ok(Some(e)) = q.dir(sub).entry(name) {
            if e.meta.kind != crate::safeops::Kind::File {
                return (
                    Outcome::Skipped,
                    format!(
                        "{} is not a regular file (symlink?): message left alone",
                        decode(name.as_bytes())
                    ),
                );
            }
        }
    }
    let result = match quarantine {
        Some(dest) => {
            let mut moved: Vec<(&str, &OsString)> = Vec::new();
            let mut failure = None;
            for (sub, name) in &c.files {
                let d = q.dir(sub);
                match d.entry(name) {
                    Ok(Some(_)) => {}
                    _ => continue,
                }
                match d.move_to_unsynced(name, dest) {
                    Ok(()) => moved.push((sub, name)),
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            match failure {
                None => Ok(Outcome::Quarantined),
                Some(e) => {
                    // Put back what was moved, so the message stays whole in the queue.
                    for (sub, name) in moved.into_iter().rev() {
                        let _ = dest.move_to(name, q.dir(sub));
                    }
                    Err(e)
                }
            }
        }
        None => {
            let mut err = None;
            for (sub, name) in &c.files {
                let d = q.dir(sub);
                if matches!(d.entry(name), Ok(Some(_))) {
                    if let Err(e) = d.remove(name) {
                        err = Some(e);
                        break;
                    }
                }
            }
            match err {
                None => Ok(Outcome::Deleted),
                Some(e) => Err(e),
            }
        }
    };
    lock.release();
    match result {
        Ok(o) => (o, String::new()),
        Err(e) => (Outcome::Failed, e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::{plan, sender_matches, QueueFile, QueuedMessage, Wanted};

    fn queued(id: &str, size: u64, created: Option<u64>, sender: &str) -> QueuedMessage {
        let file = |kind: &str| QueueFile {
            dir: "".into(),
            name: format!("{kind}{id}").into(),
            meta: None,
        };
        QueuedMessage {
            id: id.as_bytes().to_vec(),
            size,
            qf: file("qf"),
            df: file("df"),
            xf: (id == "A").then(|| file("xf")),
            created,
            sender: Some(sender.into()),
            subject: None,
        }
    }

    #[test]
    fn the_plan_is_decided_over_what_was_read_largest_first() {
        let read = || {
            vec![
                queued("A", 30 << 20, Some(1_000), "<bob@example.com>"),
                queued("B", 10 << 20, Some(1_000), "bob@example.com"),
                queued("C", 40 << 20, Some(90_000), "amy@example.com"),
                queued("D", 40 << 20, None, "bob@example.com"),
            ]
        };
        let ids = |w: &Wanted, now| {
            plan(read(), w, now)
                .into_iter()
                .map(|c| (c.id, c.age))
                .collect::<Vec<_>>()
        };
        let all = Wanted {
            min: 20 << 20,
            older: None,
            sender: None,
        };
        assert_eq!(
            ids(&all, Some(100_000)),
            [
                ("C".to_string(), Some(10_000)),
                ("D".to_string(), None),
                ("A".to_string(), Some(99_000))
            ]
        );
        // --older needs a known age: a message without a creation time is never taken for old.
        let old = Wanted {
            min: 20 << 20,
            older: Some(50_000),
            sender: None,
        };
        assert_eq!(ids(&old, Some(100_000)), [("A".to_string(), Some(99_000))]);
        // A candidate takes its files from what was read: qf first (locked and moved first), then
        // df, then the xf when it has one; and the qf and df as they were, to re-check.
        let a = plan(read(), &old, Some(100_000)).remove(0);
        let files: Vec<(String, String)> = a
            .files
            .iter()
            .map(|(d, n)| (d.clone(), n.to_string_lossy().into_owned()))
            .collect();
        let at = |n: &str| ("".to_string(), n.to_string());
        assert_eq!(files, [at("qfA"), at("dfA"), at("xfA")]);
        assert_eq!(a.seen, [None, None]);
        let c = plan(read(), &all, Some(100_000)).remove(0);
        assert_eq!(c.files.len(), 2, "no xf, none moved");
        let bob = Wanted {
            min: 0,
            older: None,
            sender: Some("bob@example.com"),
        };
        assert_eq!(
            ids(&bob, None),
            [
                ("D".to_string(), None),
                ("A".to_string(), None),
                ("B".to_string(), None)
            ]
        );
    }

    #[test]
    fn sender_forms() {
        assert!(sender_matches(Some("<Bob@Example.com>"), "bob@example.com"));
        assert!(sender_matches(Some("bob@example.com"), "@example.com"));
        assert!(!sender_matches(
            Some("bob@example.com.evil"),
            "@example.com"
        ));
        assert!(!sender_matches(None, "bob@example.com"));
    }
}
