//! `toolkit mqueue scan`: every sendmail queue, per site, what is oversized and why it is stuck, and
//! whether queued mail counts against the site's quota.
//!
//! Read (sites, then every queue in parallel, qf files only for oversized messages), judge (pure, in
//! `judge`), render (`render`).

pub mod accounts;
mod binding;
pub mod figures;
pub mod findings;
pub mod fix;
pub mod judge;
pub mod purge;
pub(crate) mod render;
pub mod report;
pub mod targets;
pub(crate) mod text;

use crate::cli::{MqueueArgs, MqueueCommand, MqueueScanArgs};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::readers::mqueue::queue::{scan_queue, QueueScan, ScanOptions};
use crate::readers::sendmail_cf;
use crate::readers::sites::{self, SiteDb};
use crate::readers::skips::Skips;
use crate::readers::users::UserDb;
use crate::safeops::read::{open_dir_beneath, Blocked};
use crate::status::Status;
use crate::ui::Progress;
pub use judge::{MqueueReport, Now, NowSource, Options};
use rayon::prelude::*;
use targets::Target;

impl Options {
    pub fn from_args(args: &MqueueScanArgs) -> Options {
        Options {
            min: args.min.0,
            top: args.top,
            warning: args.thresholds.warning.clone(),
            critical: args.thresholds.critical.clone(),
        }
    }
}

pub fn run(ctx: &Context, args: &MqueueArgs) -> Result<Status> {
    match &args.command {
        MqueueCommand::Scan(scan_args) => {
            let report = scan(ctx, scan_args)?;
            super::output(ctx, &report)
        }
        MqueueCommand::Fix(fix_args) => fix::run(ctx, fix_args),
        MqueueCommand::Purge(purge_args) => purge::run(ctx, purge_args),
    }
}

/// What was found at one target: the queue's contents, or why it could not be opened.
pub enum Found {
    Queue(Box<QueueScan>),
    Blocked(Blocked),
}

/// Everything read for one queue.
pub struct Scanned {
    pub target: Target,
    pub found: Found,
    /// The site's DefaultUser setting, the cf file it is in and the ids it stands for.
    pub default_user: Option<sendmail_cf::DefaultUser>,
    pub skips: Skips,
}

/// Reads the root and judges.
pub fn scan(ctx: &Context, args: &MqueueScanArgs) -> Result<MqueueReport> {
    let root = &ctx.root;
    let mut skips = Skips::default();
    // Names are a convenience: without a readable passwd/group, numbers are shown.
    let users = UserDb::open(root).unwrap_or_else(|e| {
        skips.add_unreadable(root, &root.join("etc/passwd"), &e.to_string());
        UserDb::empty()
    });
    users.report_bad_lines(root, &mut skips);
    let sites = sites::discover(root, &users);
    let only = sites.select(&args.site).map_err(Error::Usage)?;
    let targets = targets::targets(
        root,
        &sites,
        &only,
        &args.spool,
        args.spool_only,
        &mut skips,
    )?;
    let opts = Options::from_args(args);
    // Exim and Postfix spools are host-wide: read unless only some Ensim sites were asked for.
    let (mta, mta_skips) = if only.is_empty() {
        let mta_targets = targets::mta_targets(root, &args.spool, args.spool_only);
        let mta_opts = accounts::Options {
            min: opts.min,
            top: opts.top,
            warning: &opts.warning,
            critical: &opts.critical,
        };
        let now = root.now_unix().map(|n| n as i64);
        accounts::scan(root, &users, &mta_targets, now, &mta_opts)
    } else {
        (None, Skips::default())
    };
    skips.merge(mta_skips);
    let progress = Progress::bar(ctx, targets.len() as u64, "scanning queues");
    let scanned: Vec<Scanned> = targets
        .into_par_iter()
        .map(|t| {
            let s = scan_target(ctx, &sites, &users, t, opts.min);
            progress.inc(1);
            s
        })
        .collect();
    progress.finish();
    let now = now(ctx, &scanned);
    skips.merge(sites.skips.clone());
    let report = judge::judge(
        judge::Facts {
            root,
            users: &users,
            sites: &sites,
            scanned,
            now,
            skips,
            mta,
        },
        &opts,
    );
    Ok(report)
}

fn scan_target(ctx: &Context, sites: &SiteDb, users: &UserDb, target: Target, min: u64) -> Scanned {
    let root = &ctx.root;
    let site = target.site.map(|i| &sites.sites[i]);
    let mut skips = Skips::default();
    let default_user = site.and_then(|s| sendmail_cf::read(&s.fst(), users));
    let found = match open_dir_beneath(&target.base, &target.rel) {
        Ok(fd) => {
            let opts = ScanOptions {
                min,
                site_gid: site.and_then(|s| s.quota_gid()),
            };
            Found::Queue(Box::new(scan_queue(
                root,
                fd,
                &target.path(),
                opts,
                &mut skips,
            )))
        }
        Err(b) => Found::Blocked(b),
    };
    Scanned {
        target,
        found,
        default_user,
        skips,
    }
}

/// "Now" for ages. A live root uses the clock; a fake root its own `proc/stat` and `proc/uptime` when it
/// has them, else the newest queue file, so that a fake root gives the same ages whenever it is read.
fn now(ctx: &Context, scanned: &[Scanned]) -> Now {
    if let Some(unix) = ctx.root.now_unix() {
        let source = if ctx.root.is_live() {
            NowSource::Clock
        } else {
            NowSource::Proc
        };
        return Now {
            unix: unix as i64,
            source,
        };
    }
    let newest = scanned
        .iter()
        .filter_map(|s| match &s.found {
            Found::Queue(q) => q.newest,
            Found::Blocked(_) => None,
        })
        .max()
        .unwrap_or(0);
    Now {
        unix: newest,
        source: NowSource::NewestQueueFile,
    }
}
