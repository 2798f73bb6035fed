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
use crate::safeops::read::open_dir_beneath;
use crate::safeops::{Dir, Kind, SafeError};
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
    let mut skips = Skips::default();
    let db = AccountDb::read(root, &users, &mut skips);
    let now = root.now_unix();
    let action = if args.hold {
        Action::Hold
    } else if args.delete {
        Action::Delete
    } else {
        Action::Quarantine
    };
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
            let who = db.attribute(&m, &users);
            let Some(account) = who.account else { return };
            if !args.account.contains(&account) || m.size < args.min.0 {
                return;
            }
            let age = match (now, m.arrival) {
                (Some(n), Some(a)) => Some((n as i64 - a).max(0) as u64),
                _ => None,
            };
            if let Some(older) = args.older {
                if age.is_none_or(|a| a < older.secs()) {
                    return;
                }
            }
            if let Some(want) = &args.sender {
                if !sender_matches(m.sender.as_deref(), want) {
                    return;
                }
            }
            if action == Action::Hold && m.held {
                return;
            }
            selected.push(Candidate {
                mta,
                spool: t.rel.clone(),
                account,
                message: m,
                age,
            });
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
    selected.sort_by(|a, b| {
        b.message
            .size
            .cmp(&a.message.size)
            .then(a.message.id.cmp(&b.message.id))
    });
    let approval = Approval::decide(ctx)?;
    let mut sites: Vec<SitePurge> = args
        .account
        .iter()
        .map(|a| SitePurge {
            site: a.clone(),
            domain: None,
            quarantine: None,
            recovered: Vec::new(),
            pending: 0,
            messages: Vec::new(),
        })
        .collect();
    let total: u64 = selected.iter().map(|c| c.message.size).sum();
    let verb = match action {
        Action::Quarantine => "Quarantine",
        Action::Delete => "Delete",
        Action::Hold => "Freeze/hold",
    };
    let go = if selected.is_empty() || approval == Approval::DryRun {
        false
    } else {
        if approval == Approval::Ask {
            eprintln!(
                "Plan: {} {} message(s), {}",
                verb.to_lowercase(),
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
            "{verb} {} message(s) ({}) of {}?",
            selected.len(),
            human_size(total),
            printable(&args.account.join(", "))
        ))?
    };
    let entry = |c: &Candidate, outcome: Outcome, detail: String| Purged {
        id: c.message.id.clone(),
        size: c.message.size,
        age: c.age,
        sender: c.message.sender.clone(),
        subject: c.message.subject.clone(),
        files: c.message.files.clone(),
        outcome,
        detail,
    };
    let mut results: Vec<(String, Purged)> = Vec::new();
    if !go {
        let why = if ctx.dry_run {
            plan_detail(root.is_live(), action)
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
        for c in &selected {
            results.push((c.account.clone(), entry(c, would, why.clone())));
        }
    } else if root.is_live() {
        for (c, outcome, detail) in run_commands(&selected, action) {
            results.push((c.account.clone(), entry(c, outcome, detail)));
        }
    } else {
        let stamp = crate::units::utc_stamp(now.unwrap_or_else(wall_clock));
        let base = match &args.quarantine {
            Some(q) => root.join(q),
            None => root.join("var/lib/toolkit/quarantine"),
        };
        for c in &selected {
            let (outcome, detail) = match action {
                Action::Hold => hold(root.path(), c),
                _ => {
                    let q = match action {
                        Action::Quarantine => match open_quarantine(&base, &c.account, &stamp, c) {
                            Ok(d) => Some(d),
                            Err(e) => {
                                results.push((
                                    c.account.clone(),
                                    entry(c, Outcome::Failed, format!("quarantine: {e}")),
                                ));
                                continue;
                            }
                        },
                        _ => None,
                    };
                    if let Some(s) = sites.iter_mut().find(|s| s.site == c.account) {
                        if action == Action::Quarantine {
                            let shown = base.join(&c.account).join(&stamp);
                            s.quarantine = Some(root.display(&shown));
                        }
                    }
                    remove(root.path(), c, q.as_ref())
                }
            };
            results.push((c.account.clone(), entry(c, outcome, detail)));
        }
    }
    for (account, p) in results {
        if let Some(s) = sites.iter_mut().find(|s| s.site == account) {
            s.messages.push(p);
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
    let spool = match Dir::open_trusted(root).and_then(|r| r.subdir(&c.spool)) {
        Ok(d) => d,
        Err(e) => return (Outcome::Failed, e.to_string()),
    };
    let Some(lock_rel) = lock_file(c) else {
        return (Outcome::Skipped, "no data file: left alone".into());
    };
    let (ldir, lname) = split(lock_rel);
    let lock_dir = match spool.subdir(ldir) {
        Ok(d) => d,
        Err(e) => return (Outcome::Skipped, e.to_string()),
    };
    let lock = match lock_dir.try_lock(lname) {
        Ok(Some(l)) => l,
        Ok(None) => return (Outcome::Skipped, "locked: the MTA is working on it".into()),
        Err(e @ SafeError::Failed { .. }) => return (Outcome::Failed, e.to_string()),
        Err(e) => return (Outcome::Skipped, e.to_string()),
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
    let spool = match Dir::open_trusted(root).and_then(|r| r.subdir(&c.spool)) {
        Ok(d) => d,
        Err(e) => return (Outcome::Failed, e.to_string()),
    };
    let Some(lock_rel) = lock_file(c) else {
        return (Outcome::Skipped, "no data file: left alone".into());
    };
    let (ldir, lname) = split(lock_rel);
    let lock_dir = match spool.subdir(ldir) {
        Ok(d) => d,
        Err(e) => return (Outcome::Skipped, e.to_string()),
    };
    let lock = match lock_dir.try_lock(lname) {
        Ok(Some(l)) => l,
        Ok(None) => return (Outcome::Skipped, "locked: the MTA is working on it".into()),
        Err(e @ SafeError::Failed { .. }) => return (Outcome::Failed, e.to_string()),
        Err(e) => return (Outcome::Skipped, e.to_string()),
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

    #[test]
    fn freezing_adds_the_option_exim_writes() {
        let h = b"1xYVPd-0004pL-03-H\nroot 0 0\n<a@b>\n1796160561 0\n-local\nXX\n1\nc@d\n\n011  Subject: x\n";
        let f = freeze(h, 1_796_160_700).unwrap();
        let parsed = crate::readers::mta::exim::parse_header(&f);
        assert!(parsed.message.held && parsed.message.problems.is_empty());
        assert_eq!(freeze(b"short\n", 1), None);
    }
}
