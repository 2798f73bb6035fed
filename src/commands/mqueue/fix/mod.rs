//! `toolkit mqueue fix`: bind each site's queued mail to the site's own disk quota (SPEC 5), shown as a
//! plan, confirmed, applied through the safe operations with a journal, and undoable with `--undo`.

mod default_user;
mod m4;
mod plan;
mod read;
mod render;
mod site;
#[cfg(test)]
mod tests;

use crate::act::Outcome;
use crate::cli::{MqueueFixArgs, QueueOwner};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::readers::sites::{discover, Site, SiteDb};
use crate::readers::users::UserDb;
use crate::safeops::journal::{self, Journal};
use crate::safeops::{Dir, SafeError};
use crate::status::Status;
use crate::ui::Approval;
use plan::{Names, Step};
use read::Snapshot;
pub use render::{FixReport, LeftOut, SiteFix};
use site::{Admin, Applier, FixOptions, Planner};
use std::ffi::OsStr;
use std::path::Path;

impl Names for UserDb {
    fn user(&self, uid: u32) -> String {
        self.user_name(uid)
    }
    fn group(&self, gid: u32) -> String {
        self.group_name(gid)
    }
}

/// Where journals live: outside every site tree, under the root.
const JOURNALS: &str = "var/lib/toolkit/mqueue-fix";

pub fn run(ctx: &Context, args: &MqueueFixArgs) -> Result<Status> {
    let users = UserDb::open(&ctx.root)?;
    let db = discover(&ctx.root, &users);
    let (sites, left_out) = select(&db, args)?;
    if args.undo {
        let opts = journal::UndoOptions {
            force: args.force,
            now: ctx.root.now_unix().unwrap_or(0),
        };
        return undo(ctx, &sites, &users, &opts);
    }
    let approval = Approval::decide(ctx)?;
    let opts = FixOptions {
        owner_root: args.owner == QueueOwner::Root,
        mode: args.mode,
        m4: args.m4,
        chgrp_queued: args.chgrp_queued,
        live: ctx.root.is_live(),
        root: ctx.root.path().to_path_buf(),
        now: ctx.root.now_unix().unwrap_or(0),
    };
    let mut fixes = Vec::new();
    for site in sites {
        fixes.push(fix_site(ctx, &users, site, &opts, approval)?);
    }
    let report = FixReport::new(fixes, ctx.dry_run, false)
        .with_left_out(left_out)
        .quiet_when_all_ok(ctx.quiet);
    super::super::output(ctx, &report)
}

/// The sites named with --site, or with --all those whose etc/mail/local-host-names is non-empty,
/// with the sites --all left out and why.
fn select<'a>(db: &'a SiteDb, args: &MqueueFixArgs) -> Result<(Vec<&'a Site>, Vec<LeftOut>)> {
    if !args.all {
        return Ok((db.named(&args.site).map_err(Error::Usage)?, Vec::new()));
    }
    let mut chosen = Vec::new();
    let mut left_out = Vec::new();
    for site in &db.sites {
        let names = Dir::open_trusted(&site.fst())
            .and_then(|d| d.subdir(Path::new("etc/mail")))
            .and_then(|d| d.read(OsStr::new("local-host-names")));
        let (reason, blind) = match names {
            Ok(b) if b.iter().any(|c| !c.is_ascii_whitespace()) => {
                chosen.push(site);
                continue;
            }
            Ok(_) => ("etc/mail/local-host-names is empty".to_string(), false),
            Err(SafeError::Missing { .. }) => ("no etc/mail/local-host-names".to_string(), false),
            Err(e) => (
                format!("etc/mail/local-host-names: {}", plan::reason(&e)),
                true,
            ),
        };
        left_out.push(LeftOut::new(site, reason, blind));
    }
    Ok((chosen, left_out))
}

/// One site: read, plan once, show, confirm, and apply that plan.
fn fix_site(
    ctx: &Context,
    users: &UserDb,
    site: &Site,
    opts: &FixOptions,
    approval: Approval,
) -> Result<SiteFix> {
    let label = site.label();
    let (Some(uid), Some(gid), None) = (site.uid, site.gid, &site.refused) else {
        let why = site
            .refused
            .clone()
            .unwrap_or_else(|| "admin user/group unknown".into());
        let step = Step::new(
            0,
            "",
            "bind to the site's admin",
            Outcome::Refused,
            format!("admin not settled: {why}"),
        );
        return Ok(SiteFix::new(site, vec![step]));
    };
    let fst = match Dir::open_trusted(&site.fst()) {
        Ok(d) => d,
        Err(e) => return Ok(SiteFix::new(site, vec![Step::refused(1, "fst", &e)])),
    };
    let admin = Admin { uid, gid };
    let snap = Snapshot::read(
        &fst,
        opts.chgrp_queued,
        opts.m4.then_some(opts.root.as_path()),
    );
    let plan = Planner {
        snap: &snap,
        admin,
        opts,
        names: users,
    }
    .plan();
    let shown = plan.steps();
    let pending = shown.iter().filter(|s| s.outcome.pending()).count();
    if pending == 0 || approval == Approval::DryRun {
        return Ok(SiteFix::new(site, shown));
    }
    if approval == Approval::Ask {
        render::print_plan(&label, &shown, &ctx.style);
        if !approval.confirm(&format!("Apply {pending} change(s) to {label}?"))? {
            let declined = shown
                .into_iter()
                .map(|s| {
                    if s.outcome.pending() {
                        s.became(Outcome::Declined, "declined")
                    } else {
                        s
                    }
                })
                .collect();
            return Ok(SiteFix::declined(site, declined));
        }
    }
    crate::act::pause_after_confirm();
    // Nothing is changed without a journal to undo it from; this site is refused, the others go on.
    let journal = open_journals(ctx).and_then(|j| Journal::begin(&j, &site.name, opts.now));
    let mut journal = match journal {
        Ok(j) => j,
        Err(e) => {
            let step = Step::new(
                0,
                "",
                "journal the changes",
                Outcome::Refused,
                format!("cannot journal, so nothing was changed: {e}"),
            );
            return Ok(SiteFix::new(site, vec![step]));
        }
    };
    let mut applier = Applier {
        fst: &fst,
        admin,
        opts,
        journal: &mut journal,
    };
    Ok(SiteFix::new(site, plan.apply(&mut applier)))
}

fn open_journals(ctx: &Context) -> std::result::Result<Dir, SafeError> {
    let mut dir = Dir::open_trusted(ctx.root.path())?;
    for part in JOURNALS.split('/') {
        dir = dir.ensure_dir(OsStr::new(part), 0o700)?;
    }
    Ok(dir)
}

/// Restored queued files (one journal entry each, thousands in a runaway queue) become one step per
/// outcome, as the fix's step 5 reports them; everything else is listed as it is.
fn summarize_queued(steps: Vec<Step>) -> Vec<Step> {
    let prefix = format!("{}/", site::QUEUE);
    let (queued, mut rest): (Vec<Step>, Vec<Step>) =
        steps.into_iter().partition(|s| s.path.starts_with(&prefix));
    for outcome in [
        Outcome::Changed,
        Outcome::Ok,
        Outcome::Refused,
        Outcome::Failed,
    ] {
        let of: Vec<&Step> = queued.iter().filter(|s| s.outcome == outcome).collect();
        if let Some(first) = of.first() {
            let note = if matches!(outcome, Outcome::Refused | Outcome::Failed) {
                format!("first: {}: {}", first.path, first.note)
            } else {
                String::new()
            };
            let change = format!(
                "restore owner and group of {} queued file(s)",
                crate::units::thousands(of.len() as u64)
            );
            rest.push(Step::new(0, site::QUEUE, change, outcome, note));
        }
    }
    rest
}

/// `owner 0:12` as `owner root:mail` for the report.
fn describe(what: &str, users: &UserDb) -> String {
    let Some(ids) = what.strip_prefix("owner ") else {
        return what.to_string();
    };
    match ids
        .split_once(':')
        .and_then(|(u, g)| Some((u.parse().ok()?, g.parse().ok()?)))
    {
        Some((u, g)) => format!("owner {}:{}", users.user_name(u), users.group_name(g)),
        None => what.to_string(),
    }
}

fn undo(
    ctx: &Context,
    sites: &[&Site],
    users: &UserDb,
    opts: &journal::UndoOptions,
) -> Result<Status> {
    let approval = Approval::decide(ctx)?;
    let mut fixes = Vec::new();
    for site in sites {
        let fst = match Dir::open_trusted(&site.fst()) {
            Ok(d) => d,
            Err(e) => {
                fixes.push(SiteFix::new(site, vec![Step::refused(1, "fst", &e)]));
                continue;
            }
        };
        let journals = match open_journals(ctx) {
            Ok(j) => j,
            Err(e) => {
                let step = Step::new(0, "", "read the journal", Outcome::Refused, e.to_string());
                fixes.push(SiteFix::new(site, vec![step]));
                continue;
            }
        };
        if approval == Approval::DryRun
            || !approval.confirm(&format!("Undo every recorded fix of {}?", site.label()))?
        {
            fixes.push(SiteFix::new(
                site,
                vec![Step::new(
                    0,
                    "",
                    "undo recorded fixes",
                    Outcome::WouldChange,
                    "",
                )],
            ));
            continue;
        }
        let undone = match journal::undo_with(&journals, &site.name, &fst, opts) {
            Ok(u) => u,
            Err(e) => {
                let step = Step::new(0, "", "undo recorded fixes", Outcome::Failed, e.to_string());
                fixes.push(SiteFix::new(site, vec![step]));
                continue;
            }
        };
        if undone.is_empty() {
            let why = format!(
                "no fix of {} is recorded under /{JOURNALS} (or every one was undone already)",
                site.name
            );
            fixes.push(SiteFix::new(
                site,
                vec![Step::new(0, "", render::NOTHING_TO_UNDO, Outcome::Ok, why)],
            ));
            continue;
        }
        let steps = summarize_queued(
            undone
                .into_iter()
                .map(|u| {
                    let outcome = match u.outcome {
                        journal::UndoOutcome::Restored => Outcome::Changed,
                        journal::UndoOutcome::Ok | journal::UndoOutcome::Gone => Outcome::Ok,
                        journal::UndoOutcome::Failed => Outcome::Failed,
                        journal::UndoOutcome::Refused => Outcome::Refused,
                    };
                    Step::new(
                        0,
                        &u.path,
                        format!("restore {}", describe(&u.what, users)),
                        outcome,
                        u.detail,
                    )
                })
                .collect(),
        );
        fixes.push(SiteFix::new(site, steps));
    }
    let report = FixReport::new(fixes, ctx.dry_run, true);
    super::super::output(ctx, &report)
}
