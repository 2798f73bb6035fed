//! `mqueue purge --account NAME` on Exim and Postfix hosts: the account's queued messages selected by
//! the same options as for a site (--min, --older, --sender), shown as a plan and confirmed. On the
//! live root the MTA does the work with its own commands (`exim -Mrm`, `exim -Mf`, `postsuper -d`,
//! `postsuper -h`): nothing is removed behind its back. Under a fake root no program is run: each
//! message's files are moved whole into the quarantine (or deleted), or it is frozen (a `-frozen`
//! line in its -H file, as Exim writes it) or put on hold (its queue file moved to `hold/`, as
//! postsuper does), each under the MTA's lock, never following a symlink.

use super::{sender_matches, Outcome, PurgeReport, Purged, SitePurge};
use crate::cli::MqueuePurgeArgs;
use crate::commands::mqueue::targets::{MtaTarget, MTA_SPOOLS};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::readers::accounts::AccountDb;
use crate::readers::mta::{self, Mta, MtaMessage};
use crate::readers::skips::Skips;
use crate::readers::users::UserDb;
use crate::render::text::printable;
use crate::root::Root;
use crate::safeops::read::open_dir_beneath;
use crate::safeops::{Dir, Kind, Locked, SafeError};
use crate::status::Status;
use crate::ui::Approval;
use crate::units::human_size;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// What to do with each selected message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quarantine,
    Delete,
    Hold,
}

/// One selected message.
#[derive(Debug, Clone)]
struct Candidate {
    mta: Mta,
    /// The spool directory below the root.
    spool: PathBuf,
    account: String,
    message: MtaMessage,
    age: Option<u64>,
}

/// The MTA's own command for a batch of ids (shown in the plan, run on the live root).
pub fn command(mta: Mta, action: Action, ids: &[String]) -> Vec<String> {
    let mut argv: Vec<String> = match (mta, action) {
        (Mta::Exim, Action::Hold) => vec!["exim".into(), "-Mf".into()],
        (Mta::Exim, _) => vec!["exim".into(), "-Mrm".into()],
        (Mta::Postfix, Action::Hold) => vec!["postsuper".into(), "-h".into(), "-".into()],
        (Mta::Postfix, _) => vec!["postsuper".into(), "-d".into(), "-".into()],
    };
    if mta == Mta::Exim {
        argv.extend(ids.iter().cloned());
    }
    argv
}

pub fn run(ctx: &Context, args: &MqueuePurgeArgs) -> Result<Status> {
    let root = &ctx.root;
    let users = UserDb::open(root)?;
    let action = Action::of(args);
    let selected = read(root, &users, args, &Select::of(args, action))?;
    let approval = Approval::decide(ctx)?;
    let go = !selected.is_empty()
        && approval != Approval::DryRun
        && confirm(root, approval, &selected, action, &args.account)?;
    let mut sites: Vec<SitePurge> = args.account.iter().map(|a| empty_site(a)).collect();
    let results = if !go {
        not_done(ctx, &selected, action)
    } else if root.is_live() {
        run_commands(&selected, action)
            .into_iter()
            .map(|(c, outcome, detail)| c.entry(outcome, detail))
            .collect()
    } else {
        apply_beneath(root, args, &selected, action, &mut sites)
    };
    for p in results {
        if let Some(s) = sites.iter_mut().find(|s| s.site == p.0) {
            s.messages.push(p.1);
        }
    }
    let status = super::status_of(&sites, ctx.dry_run);
    let report = PurgeReport {
        status,
        dry_run: ctx.dry_run,
        delete: args.delete,
        min: args.min.0,
        sites,
    };
    crate::commands::output(ctx, &report)
}

impl Action {
    fn of(args: &MqueuePurgeArgs) -> Action {
        if args.hold {
            Action::Hold
        } else if args.delete {
            Action::Delete
        } else {
            Action::Quarantine
        }
    }

    /// The verb of the plan and the question.
    fn verb(self) -> &'static str {
        match self {
            Action::Quarantine => "Quarantine",
            Action::Delete => "Delete",
            Action::Hold => "Freeze/hold",
        }
    }
}

/// Which of an account's messages the options select.
#[derive(Debug, Clone)]
struct Select {
    min: u64,
    older: Option<u64>,
    sender: Option<String>,
    /// A message already frozen or held is not selected again by --hold.
    skip_held: bool,
}

impl Select {
    fn of(args: &MqueuePurgeArgs, action: Action) -> Select {
        Select {
            min: args.min.0,
            older: args.older.map(|o| o.secs()),
            sender: args.sender.clone(),
            skip_held: action == Action::Hold,
        }
    }

    /// Whether the message, `age` seconds old (unknown: `None`), is selected.
    fn keeps(&self, m: &MtaMessage, age: Option<u64>) -> bool {
        if m.size < self.min || (self.skip_held && m.held) {
            return false;
        }
        if let Some(older) = self.older {
            if age.is_none_or(|a| a < older) {
                return false;
            }
        }
        self.sender
            .as_ref()
            .is_none_or(|want| sender_matches(m.sender.as_deref(), want))
    }
}

/// The age of a message that arrived at `arrival`, by the root's clock.
fn age_of(now: Option<u64>, arrival: Option<i64>) -> Option<u64> {
    match (now, arrival) {
        (Some(n), Some(a)) => Some((n as i64 - a).max(0) as u64),
        _ => None,
    }
}

/// Reads every Exim and Postfix spool under the root and keeps the asked accounts' messages that
/// `select` keeps, largest first. Only those are kept in memory, whatever the size of the queue.
fn read(
    root: &Root,
    users: &UserDb,
    args: &MqueuePurgeArgs,
    select: &Select,
) -> Result<Vec<Candidate>> {
    let mut skips = Skips::default();
    let db = AccountDb::read(root, users, &mut skips);
    let now = root.now_unix();
    let mut selected: Vec<Candidate> = Vec::new();
    let mut found_spool = false;
    for (mta, rel) in MTA_SPOOLS {
        let t = MtaTarget {
            mta,
            rel: PathBuf::from(rel),
            optional: true,
        };
        let Ok(fd) = open_dir_beneath(root.path(), &t.rel) else {
            continue;
        };
        found_spool = true;
        let path = t.path(root);
        let mut sink = |m: MtaMessage| {
            let Some(account) = db.attribute(&m, users).account else {
                return;
            };
            let age = age_of(now, m.arrival);
            if args.account.contains(&account) && select.keeps(&m, age) {
                selected.push(Candidate {
                    mta,
                    spool: t.rel.clone(),
                    account,
                    message: m,
                    age,
                });
            }
        };
        match mta {
            Mta::Exim => mta::scan_exim(root, &fd, &path, &mut skips, &mut sink),
            Mta::Postfix => mta::scan_postfix(root, &fd, &path, &mut skips, &mut sink),
        };
    }
    if !found_spool {
        return Err(Error::Usage(format!(
            "--account: no Exim or Postfix spool under {} (looked in var/spool/exim4, var/spool/exim and var/spool/postfix)",
            root.path().display()
        )));
    }
    for a in &args.account {
        if !selected.iter().any(|c| &c.account == a) && users.user_by_name(a).is_none() {
            return Err(Error::Usage(format!(
                "--account {a}: no such account (a Unix user in etc/passwd or the panel's maps)"
            )));
        }
    }
    largest_first(&mut selected);
    Ok(selected)
}

fn largest_first(selected: &mut [Candidate]) {
    selected.sort_by(|a, b| {
        b.message
            .size
            .cmp(&a.message.size)
            .then(a.message.id.cmp(&b.message.id))
    });
}

/// Shows the plan (when asking) and asks; whether to go on.
fn confirm(
    root: &Root,
    approval: Approval,
    selected: &[Candidate],
    action: Action,
    accounts: &[String],
) -> Result<bool> {
    let total: u64 = selected.iter().map(|c| c.message.size).sum();
    if approval == Approval::Ask {
        eprintln!(
            "Plan: {} {} message(s), {}",
            action.verb().to_lowercase(),
            selected.len(),
            human_size(total)
        );
        for c in selected.iter().take(10) {
            eprintln!(
                "  {} {}  {}  {}",
                c.mta.name(),
                printable(&c.message.id),
                human_size(c.message.size),
                c.message
                    .sender
                    .as_deref()
                    .map(printable)
                    .unwrap_or_default()
            );
        }
        if root.is_live() {
            for mta in [Mta::Exim, Mta::Postfix] {
                if selected.iter().any(|c| c.mta == mta) {
                    eprintln!("  runs: {} ...", command(mta, action, &[]).join(" "));
                }
            }
        }
    }
    approval.confirm(&format!(
        "{} {} message(s) ({}) of {}?",
        action.verb(),
        selected.len(),
        human_size(total),
        printable(&accounts.join(", "))
    ))
}

fn empty_site(account: &str) -> SitePurge {
    SitePurge {
        site: account.to_string(),
        domain: None,
        quarantine: None,
        recovered: Vec::new(),
        pending: 0,
        messages: Vec::new(),
    }
}

/// Each selected message as it would be purged: a dry run, a declined plan.
fn not_done(ctx: &Context, selected: &[Candidate], action: Action) -> Vec<(String, Purged)> {
    let why = if ctx.dry_run {
        plan_detail(ctx.root.is_live(), action)
    } else if selected.is_empty() {
        String::new()
    } else {
        "declined".into()
    };
    let would = if action == Action::Hold {
        Outcome::WouldHold
    } else {
        Outcome::WouldPurge
    };
    selected
        .iter()
        .map(|c| c.entry(would, why.clone()))
        .collect()
}

/// Under a fake root: each message frozen/held, or moved whole to the quarantine, or deleted, by
/// the toolkit itself (no program runs); each account's quarantine is noted in its site.
fn apply_beneath(
    root: &Root,
    args: &MqueuePurgeArgs,
    selected: &[Candidate],
    action: Action,
    sites: &mut [SitePurge],
) -> Vec<(String, Purged)> {
    let stamp = crate::units::utc_stamp(root.now_unix().unwrap_or_else(wall_clock));
    let base = match &args.quarantine {
        Some(q) => root.join(q),
        None => root.join("var/lib/toolkit/quarantine"),
    };
    let mut results = Vec::new();
    for c in selected {
        let (outcome, detail) = match action {
            Action::Hold => hold(root.path(), c),
            Action::Delete => remove(root.path(), c, None),
            Action::Quarantine => match open_quarantine(&base, &c.account, &stamp, c) {
                Ok(q) => {
                    if let Some(s) = sites.iter_mut().find(|s| s.site == c.account) {
                        s.quarantine = Some(root.display(&base.join(&c.account).join(&stamp)));
                    }
                    remove(root.path(), c, Some(&q))
                }
                Err(e) => (Outcome::Failed, format!("quarantine: {e}")),
            },
        };
        results.push(c.entry(outcome, detail));
    }
    results
}

impl Candidate {
    /// What was (or would be) done to the message, under its account.
    fn entry(&self, outcome: Outcome, detail: String) -> (String, Purged) {
        let p = Purged {
            id: self.message.id.clone(),
            size: self.message.size,
            age: self.age,
            sender: self.message.sender.clone(),
            subject: self.message.subject.clone(),
            files: self.message.files.clone(),
            outcome,
            detail,
        };
        (self.account.clone(), p)
    }
}

fn plan_detail(live: bool, action: Action) -> String {
    match (live, action) {
        (true, _) => "dry run: the MTA's own command would do it".into(),
        (false, Action::Hold) => "dry run".into(),
        (false, _) => "dry run".into(),
    }
}

/// Runs the MTA's own commands, a batch of ids at a time.
fn run_commands(selected: &[Candidate], action: Action) -> Vec<(&Candidate, Outcome, String)> {
    let mut out = Vec::new();
    for mta in [Mta::Exim, Mta::Postfix] {
        let batch: Vec<&Candidate> = selected.iter().filter(|c| c.mta == mta).collect();
        for chunk in batch.chunks(100) {
            let ids: Vec<String> = chunk.iter().map(|c| c.message.id.clone()).collect();
            let argv = command(mta, action, &ids);
            let mut cmd = std::process::Command::new(&argv[0]);
            cmd.args(&argv[1..])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            let result = cmd.spawn().and_then(|mut child| {
                if mta == Mta::Postfix {
                    use std::io::Write;
                    if let Some(mut stdin) = child.stdin.take() {
                        stdin.write_all(format!("{}\n", ids.join("\n")).as_bytes())?;
                    }
                }
                child.wait_with_output()
            });
            let done = match action {
                Action::Hold => Outcome::Held,
                _ => Outcome::Deleted,
            };
            let shown = if mta == Mta::Postfix {
                format!("{} (ids on stdin)", argv.join(" "))
            } else {
                format!("{} {} ...", argv[0], argv[1])
            };
            for c in chunk {
                let r = match &result {
                    // How to take a hold back, as on a fake root.
                    Ok(o) if o.status.success() && action == Action::Hold => {
                        let undo = match mta {
                            Mta::Exim => "exim -Mt",
                            Mta::Postfix => "postsuper -H",
                        };
                        (done, format!("{shown}; undo: {undo} {}", c.message.id))
                    }
                    Ok(o) if o.status.success() => (done, shown.clone()),
                    Ok(o) => (
                        Outcome::Failed,
                        format!(
                            "{shown}: {}",
                            String::from_utf8_lossy(&o.stderr)
                                .lines()
                                .next()
                                .unwrap_or("failed")
                        ),
                    ),
                    Err(e) => (Outcome::Failed, format!("{}: {e}", argv[0])),
                };
                out.push((*c, r.0, r.1));
            }
        }
    }
    out
}

/// The directory (below the spool) and name of a message file given relative to the spool.
fn split(rel: &str) -> (&Path, &OsStr) {
    let p = Path::new(rel);
    (
        p.parent().unwrap_or(Path::new("")),
        p.file_name().unwrap_or(OsStr::new("")),
    )
}

/// The file the MTA locks while it works on the message: Exim's -D, Postfix's queue file.
fn lock_file(c: &Candidate) -> Option<&str> {
    match c.mta {
        Mta::Exim => c.message.files.iter().find(|f| f.ends_with("-D")),
        Mta::Postfix => c.message.files.first(),
    }
    .map(String::as_str)
}

/// A message's spool directory open, and the file the MTA locks held under its lock.
struct Taken<'c> {
    spool: Dir,
    lock_rel: &'c str,
    lock_dir: Dir,
    lname: &'c OsStr,
    lock: Locked,
}

impl<'c> Taken<'c> {
    /// Takes the MTA's lock on the message; what to report when it cannot (the MTA holds it: skipped).
    fn take(root: &Path, c: &'c Candidate) -> std::result::Result<Taken<'c>, (Outcome, String)> {
        let spool = Dir::open_trusted(root)
            .and_then(|r| r.subdir(&c.spool))
            .map_err(|e| (Outcome::Failed, e.to_string()))?;
        let lock_rel = lock_file(c).ok_or((Outcome::Skipped, "no data file: left alone".into()))?;
        let (ldir, lname) = split(lock_rel);
        let lock_dir = spool
            .subdir(ldir)
            .map_err(|e| (Outcome::Skipped, e.to_string()))?;
        let lock = match lock_dir.try_lock(lname) {
            Ok(Some(l)) => l,
            Ok(None) => return Err((Outcome::Skipped, "locked: the MTA is working on it".into())),
            Err(e @ SafeError::Failed { .. }) => return Err((Outcome::Failed, e.to_string())),
            Err(e) => return Err((Outcome::Skipped, e.to_string())),
        };
        Ok(Taken {
            spool,
            lock_rel,
            lock_dir,
            lname,
            lock,
        })
    }
}

fn open_quarantine(
    base: &Path,
    account: &str,
    stamp: &str,
    c: &Candidate,
) -> std::result::Result<Dir, SafeError> {
    std::fs::create_dir_all(base).map_err(|e| SafeError::Failed {
        path: base.display().to_string(),
        errno: nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
    })?;
    let dir = Dir::open_trusted(base)?;
    let a = dir.ensure_dir(OsStr::new(account), 0o700)?;
    let s = a.ensure_dir(OsStr::new(stamp), 0o700)?;
    // One directory per message: Postfix's queue file and its defer log share a name.
    s.ensure_dir(
        OsStr::new(&format!("{}-{}", c.mta.name(), c.message.id)),
        0o700,
    )
}

/// Moves every file of the message into `quarantine` (or deletes them), the lock file last so
/// that the MTA never sees a message without its data; on a failure what was moved is put back.
fn remove(root: &Path, c: &Candidate, quarantine: Option<&Dir>) -> (Outcome, String) {
    let Taken {
        spool,
        lock_rel,
        lock,
        ..
    } = match Taken::take(root, c) {
        Ok(l) => l,
        Err(why) => return why,
    };
    // The files in order, the locked one last.
    let mut files: Vec<&String> = c.message.files.iter().filter(|f| *f != lock_rel).collect();
    files.push(&c.message.files[c.message.files.iter().position(|f| f == lock_rel).unwrap()]);
    let mut dirs = Vec::new();
    for f in &files {
        let (d, n) = split(f);
        match spool.subdir(d) {
            Ok(dir) => match dir.entry(n) {
                Ok(Some(e)) if e.meta.kind != Kind::File => {
                    return (
                        Outcome::Skipped,
                        format!("{f} is not a regular file (symlink?): message left alone"),
                    )
                }
                Ok(_) => dirs.push((dir, n)),
                Err(e) => return (Outcome::Skipped, e.to_string()),
            },
            Err(e) => return (Outcome::Skipped, e.to_string()),
        }
    }
    let mut failure = None;
    let mut moved: Vec<(usize, Dir)> = Vec::new();
    for (i, (dir, name)) in dirs.iter().enumerate() {
        if !matches!(dir.entry(name), Ok(Some(_))) {
            continue;
        }
        // In the quarantine each file goes under its spool directory's name (`input`, `msglog`,
        // `deferred`, `defer`...): Postfix's queue file and its defer log share a name.
        let top = Path::new(files[i].as_str())
            .components()
            .next()
            .map(|c| c.as_os_str().to_owned())
            .unwrap_or_default();
        let r = match quarantine {
            Some(q) => q
                .ensure_dir(&top, 0o700)
                .and_then(|dest| dir.move_to(name, &dest).map(|_| Some(dest))),
            None => dir.remove(name).map(|_| None),
        };
        match r {
            Ok(Some(dest)) => moved.push((i, dest)),
            Ok(None) => {}
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    lock.release();
    match (failure, quarantine) {
        (None, Some(_)) => (Outcome::Quarantined, String::new()),
        (None, None) => (Outcome::Deleted, String::new()),
        (Some(e), Some(_)) => {
            for (i, dest) in moved.into_iter().rev() {
                let (dir, name) = &dirs[i];
                let _ = dest.move_to(name, dir);
            }
            (Outcome::Failed, e.to_string())
        }
        (Some(e), None) => (Outcome::Failed, e.to_string()),
    }
}

/// Freezes an Exim message (adds `-frozen TIME` to its -H file, atomically, under Exim's lock) or
/// puts a Postfix message on hold (moves its queue file to `hold/`, as postsuper does).
fn hold(root: &Path, c: &Candidate) -> (Outcome, String) {
    let Taken {
        spool,
        lock_dir,
        lname,
        lock,
        ..
    } = match Taken::take(root, c) {
        Ok(l) => l,
        Err(why) => return why,
    };
    let result = match c.mta {
        Mta::Postfix => spool
            .subdir(Path::new("hold"))
            .and_then(|h| lock_dir.move_to(lname, &h))
            .map(|_| format!("undo: postsuper -H {}", c.message.id)),
        Mta::Exim => {
            let Some(h) = c.message.files.iter().find(|f| f.ends_with("-H")) else {
                return (Outcome::Skipped, "no -H file".into());
            };
            let (hd, hn) = split(h);
            spool.subdir(hd).and_then(|dir| {
                let old = dir.read(hn)?;
                let frozen = freeze(&old, wall_clock()).ok_or_else(|| SafeError::Refused {
                    path: h.clone(),
                    reason: "not an -H file Exim wrote: left alone".into(),
                })?;
                dir.replace(hn, &frozen)
                    .map(|_| format!("undo: exim -Mt {}", c.message.id))
            })
        }
    };
    lock.release();
    match result {
        Ok(detail) => (Outcome::Held, detail),
        Err(e) => (Outcome::Failed, e.to_string()),
    }
}

/// The time written into a file: the real clock, whatever the root.
fn wall_clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The -H file with `-frozen TIME` among its options (after the four fixed lines), as Exim writes
/// it when it freezes a message; `None` when the file does not have the fixed lines.
pub fn freeze(h: &[u8], now: u64) -> Option<Vec<u8>> {
    let mut pos = 0;
    for _ in 0..4 {
        pos += h.get(pos..)?.iter().position(|&b| b == b'\n')? + 1;
    }
    let mut out = h[..pos].to_vec();
    out.extend_from_slice(format!("-frozen {now}\n").as_bytes());
    out.extend_from_slice(&h[pos..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_the_mtas_own() {
        let ids = vec![
            "1xYVPd-0004pL-03".to_string(),
            "1xYVPd-0004pN-05".to_string(),
        ];
        assert_eq!(
            command(Mta::Exim, Action::Hold, &ids),
            ["exim", "-Mf", "1xYVPd-0004pL-03", "1xYVPd-0004pN-05"]
        );
        assert_eq!(command(Mta::Exim, Action::Delete, &ids)[1], "-Mrm");
        assert_eq!(command(Mta::Exim, Action::Quarantine, &ids)[1], "-Mrm");
        assert_eq!(
            command(Mta::Postfix, Action::Hold, &ids),
            ["postsuper", "-h", "-"]
        );
        assert_eq!(
            command(Mta::Postfix, Action::Delete, &ids),
            ["postsuper", "-d", "-"]
        );
    }

    fn message(id: &str, size: u64, sender: &str, held: bool) -> MtaMessage {
        MtaMessage {
            id: id.into(),
            size,
            sender: Some(sender.into()),
            held,
            ..MtaMessage::default()
        }
    }

    #[test]
    fn the_options_select_as_for_a_site() {
        let all = Select {
            min: 1000,
            older: None,
            sender: None,
            skip_held: false,
        };
        let big = message("a", 5000, "<x@example.com>", false);
        assert!(all.keeps(&big, None));
        assert!(!all.keeps(&message("b", 999, "x@example.com", false), None));
        let older = Select {
            older: Some(3600),
            ..all.clone()
        };
        assert!(older.keeps(&big, Some(3600)));
        assert!(!older.keeps(&big, Some(3599)));
        // An age that cannot be known never passes --older.
        assert!(!older.keeps(&big, None));
        let domain = Select {
            sender: Some("@EXAMPLE.com".into()),
            ..all.clone()
        };
        assert!(domain.keeps(&big, None));
        assert!(!domain.keeps(&message("c", 5000, "x@other.org", false), None));
        let hold = Select {
            skip_held: true,
            ..all.clone()
        };
        assert!(!hold.keeps(&message("d", 5000, "x@example.com", true), None));
        assert!(all.keeps(&message("d", 5000, "x@example.com", true), None));
    }

    #[test]
    fn ages_by_the_roots_clock_never_negative() {
        assert_eq!(age_of(Some(1000), Some(400)), Some(600));
        assert_eq!(age_of(Some(1000), Some(2000)), Some(0));
        assert_eq!(age_of(None, Some(400)), None);
        assert_eq!(age_of(Some(1000), None), None);
    }

    #[test]
    fn largest_first_then_by_id() {
        let c = |id: &str, size| Candidate {
            mta: Mta::Exim,
            spool: PathBuf::new(),
            account: "jdoe".into(),
            message: message(id, size, "", false),
            age: None,
        };
        let mut v = vec![c("b", 10), c("a", 10), c("z", 30)];
        largest_first(&mut v);
        let ids: Vec<&str> = v.iter().map(|c| c.message.id.as_str()).collect();
        assert_eq!(ids, ["z", "a", "b"]);
    }

    #[test]
    fn freezing_adds_the_option_exim_writes() {
        let h = b"1xYVPd-0004pL-03-H\nroot 0 0\n<a@b>\n1796160561 0\n-local\nXX\n1\nc@d\n\n011  Subject: x\n";
        let f = freeze(h, 1_796_160_700).unwrap();
        let parsed = crate::readers::mta::exim::parse_header(&f);
        assert!(parsed.message.held && parsed.message.problems.is_empty());
        assert_eq!(freeze(b"short\n", 1), None);
    }
}
