//! `toolkit mqueue purge`: removes oversized queued messages of a site, whole messages only (qf, df and
//! xf together), never one sendmail holds locked; by default into a quarantine outside the site tree,
//! so nothing is lost. Shown as a plan, confirmed, applied through the safe operations.

use crate::cli::MqueuePurgeArgs;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::readers::mqueue::qf;
use crate::readers::sites::{discover, Site};
use crate::readers::users::UserDb;
use crate::render::text::printable;
use crate::safeops::{Dir, SafeError};
use crate::status::Status;
use crate::ui::Approval;
use crate::units::human_size;
use serde::Serialize;
use std::ffi::{OsStr, OsString};
use std::path::Path;

mod mta;
mod render;

const QUEUE: &str = "var/spool/mqueue";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

#[derive(Debug, Clone, Serialize)]
pub struct Purged {
    pub id: String,
    pub size: u64,
    pub age: Option<u64>,
    pub sender: Option<String>,
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
    if let Some(q) = &args.quarantine {
        let q = ctx.root.join(q);
        if let Some(s) = sites.iter().find(|s| q.starts_with(&s.dir)) {
            return Err(Error::Usage(format!("--quarantine {}: inside {}, which its admin controls; choose a directory outside the site", q.display(), s.name)));
        }
    }
    let approval = Approval::decide(ctx)?;
    let now = ctx.root.now_unix();
    let mut out = Vec::new();
    for site in sites {
        out.push(purge_site(ctx, args, site, now, approval)?);
    }
    let failed = out
        .iter()
        .flat_map(|s| &s.messages)
        .any(|m| m.outcome == Outcome::Failed);
    let skipped = out
        .iter()
        .flat_map(|s| &s.messages)
        .any(|m| m.outcome == Outcome::Skipped);
    let declined = !ctx.dry_run
        && out
            .iter()
            .flat_map(|s| &s.messages)
            .any(|m| m.outcome == Outcome::WouldPurge);
    let status = if failed {
        Status::Critical
    } else if skipped || declined {
        Status::Warning
    } else {
        Status::Ok
    };
    let report = PurgeReport {
        status,
        dry_run: ctx.dry_run,
        delete: args.delete,
        min: args.min.0,
        sites: out,
    };
    super::super::output(ctx, &report)
}

/// One candidate message: its id and the names of its files, per directory.
struct Candidate {
    id: String,
    /// (subdirectory relative to the queue dir, or "", file name)
    files: Vec<(String, OsString)>,
    size: u64,
    age: Option<u64>,
    sender: Option<String>,
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

fn purge_site(
    ctx: &Context,
    args: &MqueuePurgeArgs,
    site: &Site,
    now: Option<u64>,
    approval: Approval,
) -> Result<SitePurge> {
    let mut report = SitePurge {
        site: site.name.clone(),
        domain: site.domains.first().cloned(),
        quarantine: None,
        messages: Vec::new(),
    };
    let queue = Dir::open_trusted(&site.fst()).and_then(|f| f.subdir(Path::new(QUEUE)));
    let queue = match queue {
        Ok(q) => q,
        Err(e) => return Err(Error::Refused(format!("{}: {e}", site.name))),
    };
    // sendmail's split layout keeps qf, df and xf files in subdirectories of the same names.
    let sub = |name: &str| match queue.entry(OsStr::new(name)) {
        Ok(Some(e)) if e.meta.kind == crate::safeops::Kind::Dir => {
            e.open_dir().ok().map(|d| (name.to_string(), d))
        }
        _ => None,
    };
    let qf_dir = sub("qf");
    let df_dir = sub("df");
    let xf_dir = sub("xf");
    let dir_of = |kind: &str| -> (&str, &Dir) {
        let d = match kind {
            "qf" => &qf_dir,
            "df" => &df_dir,
            _ => &xf_dir,
        };
        d.as_ref()
            .map(|(n, d)| (n.as_str(), d))
            .unwrap_or(("", &queue))
    };
    let (_, qdir) = dir_of("qf");
    let names = qdir.names().map_err(|e| Error::Refused(e.to_string()))?;
    let mut candidates = Vec::new();
    for name in names {
        let n = name.to_string_lossy();
        let Some(id) = n.strip_prefix("qf") else {
            continue;
        };
        let (df_sub, ddir) = dir_of("df");
        let df_name = OsString::from(format!("df{id}"));
        let size = match ddir.entry(&df_name) {
            Ok(Some(e)) if e.meta.kind == crate::safeops::Kind::File => e.meta.size,
            _ => 0,
        };
        if size < args.min.0 {
            continue;
        }
        let control = match qdir.read(&name) {
            Ok(b) => Some(qf::parse(&b)),
            Err(_) => None,
        };
        let created = control.as_ref().and_then(|c| c.created);
        let age = match (now, created) {
            (Some(n), Some(c)) => Some(n.saturating_sub(c)),
            _ => None,
        };
        if let Some(older) = args.older {
            if age.is_none_or(|a| a < older.secs()) {
                continue;
            }
        }
        let sender = control.as_ref().and_then(|c| c.sender.clone());
        if let Some(want) = &args.sender {
            if !sender_matches(sender.as_deref(), want) {
                continue;
            }
        }
        let (qf_sub, _) = dir_of("qf");
        let mut files = vec![
            (qf_sub.to_string(), name.clone()),
            (df_sub.to_string(), df_name),
        ];
        let (xf_sub, xdir) = dir_of("xf");
        let xf_name = OsString::from(format!("xf{id}"));
        if matches!(xdir.entry(&xf_name), Ok(Some(_))) {
            files.push((xf_sub.to_string(), xf_name));
        }
        candidates.push(Candidate {
            id: id.to_string(),
            files,
            size,
            age,
            sender,
        });
    }
    candidates.sort_by(|a, b| b.size.cmp(&a.size).then(a.id.cmp(&b.id)));
    let shown = |c: &Candidate| -> Vec<String> {
        c.files
            .iter()
            .map(|(d, n)| {
                if d.is_empty() {
                    n.to_string_lossy().into_owned()
                } else {
                    format!("{d}/{}", n.to_string_lossy())
                }
            })
            .collect()
    };
    let entry = |c: &Candidate, outcome: Outcome, detail: &str| Purged {
        id: c.id.clone(),
        size: c.size,
        age: c.age,
        sender: c.sender.clone(),
        files: shown(c),
        outcome,
        detail: detail.to_string(),
    };
    if candidates.is_empty() || approval == Approval::DryRun {
        report.messages = candidates
            .iter()
            .map(|c| {
                entry(
                    c,
                    Outcome::WouldPurge,
                    if ctx.dry_run { "dry run" } else { "" },
                )
            })
            .collect();
        return Ok(report);
    }
    let total: u64 = candidates.iter().map(|c| c.size).sum();
    let verb = if args.delete { "Delete" } else { "Quarantine" };
    if approval == Approval::Ask {
        eprintln!(
            "Plan for {}: {} {} message(s), {}",
            site.label(),
            verb.to_lowercase(),
            candidates.len(),
            human_size(total)
        );
        for c in candidates.iter().take(10) {
            eprintln!(
                "  {}  {}  {}",
                c.id,
                human_size(c.size),
                c.sender.as_deref().map(printable).unwrap_or_default()
            );
        }
    }
    if !approval.confirm(&format!(
        "{verb} {} message(s) ({}) of {}?",
        candidates.len(),
        human_size(total),
        site.label()
    ))? {
        report.messages = candidates
            .iter()
            .map(|c| entry(c, Outcome::WouldPurge, "declined"))
            .collect();
        return Ok(report);
    }
    let quarantine = if args.delete {
        None
    } else {
        let base = match &args.quarantine {
            Some(q) => ctx.root.join(q),
            None => ctx.root.join("var/lib/toolkit/quarantine"),
        };
        let stamp = crate::units::utc_stamp(now.unwrap_or(0));
        let dir = open_quarantine(&base, &site.name, &stamp)
            .map_err(|e| Error::Refused(format!("quarantine: {e}")))?;
        report.quarantine = Some(ctx.root.display(&base.join(&site.name).join(&stamp)));
        Some(dir)
    };
    for c in &candidates {
        let (outcome, detail) =
            purge_one(&queue, &qf_dir, &df_dir, &xf_dir, c, quarantine.as_ref());
        report.messages.push(entry(c, outcome, &detail));
    }
    Ok(report)
}

fn open_quarantine(base: &Path, site: &str, stamp: &str) -> std::result::Result<Dir, SafeError> {
    std::fs::create_dir_all(base).map_err(|e| SafeError::Failed {
        path: base.display().to_string(),
        errno: nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
    })?;
    let dir = Dir::open_trusted(base)?;
    let site_dir = dir.ensure_dir(OsStr::new(site), 0o700)?;
    site_dir.ensure_dir(OsStr::new(stamp), 0o700)
}

/// Moves (or deletes) one whole message: the qf first, under sendmail's lock, so sendmail never sees a
/// message without its body; if a later file fails, the qf is put back.
fn purge_one(
    queue: &Dir,
    qf: &Option<(String, Dir)>,
    df: &Option<(String, Dir)>,
    xf: &Option<(String, Dir)>,
    c: &Candidate,
    quarantine: Option<&Dir>,
) -> (Outcome, String) {
    let dir_for = |sub: &str| -> &Dir {
        match sub {
            "qf" => qf.as_ref().map(|(_, d)| d).unwrap_or(queue),
            "df" => df.as_ref().map(|(_, d)| d).unwrap_or(queue),
            "xf" => xf.as_ref().map(|(_, d)| d).unwrap_or(queue),
            _ => queue,
        }
    };
    let (qsub, qname) = &c.files[0];
    let qdir = dir_for(qsub);
    let lock = match qdir.try_lock(qname) {
        Ok(Some(l)) => l,
        Ok(None) => return (Outcome::Skipped, "locked: sendmail is working on it".into()),
        Err(e @ SafeError::Failed { .. }) => return (Outcome::Failed, e.to_string()),
        Err(e) => return (Outcome::Skipped, e.to_string()),
    };
    for (sub, name) in &c.files[1..] {
        if let Ok(Some(e)) = dir_for(sub).entry(name) {
            if e.meta.kind != crate::safeops::Kind::File {
                return (
                    Outcome::Skipped,
                    format!(
                        "{} is not a regular file (symlink?): message left alone",
                        name.to_string_lossy()
                    ),
                );
            }
        }
    }
    let result = match quarantine {
        Some(q) => {
            let mut moved: Vec<(&str, &OsString)> = Vec::new();
            let mut failure = None;
            for (sub, name) in &c.files {
                let d = dir_for(sub);
                match d.entry(name) {
                    Ok(Some(_)) => {}
                    _ => continue,
                }
                match d.move_to(name, q) {
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
                        let _ = q.move_to(name, dir_for(sub));
                    }
                    Err(e)
                }
            }
        }
        None => {
            let mut err = None;
            for (sub, name) in &c.files {
                let d = dir_for(sub);
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
    use super::sender_matches;

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
