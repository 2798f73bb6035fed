//! Pure judgement: what the readers found becomes the report: per-queue totals and quota binding,
//! the oversized groups largest first, and the status from the largest queue against `-w/-c`.

use super::binding::{binding, Binding};
use super::{Found, Scanned};
use crate::readers::mqueue::delivery::Class;
use crate::readers::mqueue::groups::Group;
use crate::readers::mqueue::queue::Anomalies;
use crate::readers::sites::{Site, SiteDb};
use crate::readers::skips::Skips;
use crate::readers::users::UserDb;
use crate::render::nagios::{self, Range};
use crate::root::Root;
use crate::safeops::read::Blocked;
use crate::status::Status;
use serde::Serialize;
use std::collections::BTreeMap;

/// A tf file older than this is left over from a crash, not being written.
pub const STALE_TF_SECS: i64 = 3600;

#[derive(Debug, Clone)]
pub struct Options {
    pub min: u64,
    pub top: usize,
    pub warning: Range,
    pub critical: Range,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Now {
    pub unix: i64,
    /// Where "now" came from: `clock`, `proc` (the fake root's), `newest queue file`.
    pub source: &'static str,
}

pub struct Facts<'a> {
    pub root: &'a Root,
    pub users: &'a UserDb,
    pub sites: &'a SiteDb,
    pub scanned: Vec<Scanned>,
    pub now: Now,
    pub skips: Skips,
}

#[derive(Debug, Serialize)]
pub struct MqueueReport {
    pub status: Status,
    pub now: Now,
    pub min_bytes: u64,
    /// --top: oversized groups listed, and queues detailed in text.
    pub top: usize,
    pub warning: String,
    pub critical: String,
    #[serde(skip)]
    pub warning_range: Range,
    #[serde(skip)]
    pub critical_range: Range,
    pub totals: Totals,
    /// Queues, largest first.
    pub queues: Vec<QueueReport>,
    /// Oversized messages, identical copies grouped, largest first, at most --top.
    pub oversized: Vec<OversizedGroup>,
    /// Groups not listed because of --top.
    pub oversized_not_listed: usize,
    pub skipped: Skips,
    /// Exim and Postfix spools, per hosting account (absent on a host without them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mta: Option<super::accounts::MtaSection>,
}

#[derive(Debug, Default, Serialize)]
pub struct Totals {
    pub queues: usize,
    pub messages: u64,
    pub bytes: u64,
    pub disk_bytes: u64,
    pub oversized: u64,
    pub oversized_bytes: u64,
    pub unbound_sites: usize,
}

#[derive(Debug, Serialize)]
pub struct SiteRef {
    pub name: String,
    pub domains: Vec<String>,
    pub admin: Option<String>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// siteinfo's admin_user: the site's own login, not a host user.
    pub login: Option<String>,
    pub admin_sources: Vec<String>,
    /// Why `mqueue fix` refuses the site (its identity sources disagree or are missing).
    pub refused: Option<String>,
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct QueueReport {
    /// `site11` or `host`.
    pub label: String,
    /// For a person: `site11 example.com`, `host /var/spool/mqueue`.
    pub name: String,
    pub site: Option<SiteRef>,
    pub path: String,
    /// `ok`, `missing`, `symlink` (not followed), `unreadable`.
    pub state: &'static str,
    pub problem: Option<String>,
    pub messages: u64,
    pub files: u64,
    pub bytes: u64,
    pub disk_bytes: u64,
    pub oversized: u64,
    pub oversized_bytes: u64,
    /// Queue files not in the site's group: not charged to its quota.
    pub foreign_files: u64,
    pub foreign_bytes: u64,
    pub oldest: Option<i64>,
    pub oldest_age: Option<u64>,
    pub anomalies: Anomalies,
    pub stale_tf: u64,
    pub subdirs: u64,
    pub symlinks: Vec<String>,
    /// Too many files to match every df with its qf: `df_without_qf` is a lower bound.
    pub matching_incomplete: bool,
    pub binding: Option<Binding>,
}

#[derive(Debug, Serialize)]
pub struct OversizedGroup {
    pub queue: String,
    pub site_domain: Option<String>,
    pub count: u64,
    pub size: u64,
    pub bytes: u64,
    pub sender: Option<String>,
    pub subject: Option<String>,
    pub ids: Vec<String>,
    pub created: i64,
    pub age: u64,
    /// `root:mail`, one per distinct owner (at most three).
    pub owners: Vec<String>,
    pub recipient_count: usize,
    pub recipients: Vec<String>,
    pub attempts: Option<u32>,
    pub status_class: Class,
    pub status: Option<String>,
    pub quarantine: Option<String>,
    pub classes: BTreeMap<Class, u64>,
    pub damaged: u64,
    pub problem: Option<String>,
}

fn site_ref(s: &Site) -> SiteRef {
    SiteRef {
        name: s.name.clone(),
        domains: s.domains.clone(),
        admin: s.admin.clone(),
        uid: s.uid,
        gid: s.gid,
        login: s.login.clone(),
        admin_sources: s.admin_sources.clone(),
        refused: s.refused.clone(),
        notes: s.notes.clone(),
    }
}

fn age(now: Now, t: i64) -> u64 {
    (now.unix - t).max(0) as u64
}

pub fn judge(facts: &Facts, opts: &Options) -> MqueueReport {
    let mut totals = Totals::default();
    let mut queues = Vec::new();
    let mut groups: Vec<OversizedGroup> = Vec::new();
    let mut skips = facts.skips.clone();
    for s in &facts.scanned {
        skips.merge(s.skips.clone());
        let site = s.target.site.map(|i| &facts.sites.sites[i]);
        let label = site.map_or_else(|| "host".to_string(), |s| s.name.clone());
        let path = facts.root.display(&s.target.path());
        let name = match site {
            Some(s) => match s.domains.first() {
                Some(d) => format!("{} {d}", s.name),
                None => s.name.clone(),
            },
            None => {
                let p = s.target.path();
                let rel = p.strip_prefix(facts.root.path()).unwrap_or(&p);
                format!("host /{}", rel.display())
            }
        };
        let mut q = QueueReport {
            label: label.clone(),
            name,
            site: site.map(site_ref),
            path,
            state: "ok",
            problem: None,
            messages: 0,
            files: 0,
            bytes: 0,
            disk_bytes: 0,
            oversized: 0,
            oversized_bytes: 0,
            foreign_files: 0,
            foreign_bytes: 0,
            oldest: None,
            oldest_age: None,
            anomalies: Anomalies::default(),
            stale_tf: 0,
            subdirs: 0,
            symlinks: Vec::new(),
            matching_incomplete: false,
            binding: None,
        };
        match &s.found {
            Found::Blocked(Blocked::Missing) if s.target.optional => continue,
            Found::Blocked(b) => {
                q.state = match b {
                    Blocked::Missing => "missing",
                    Blocked::Symlink { .. } => "symlink",
                    Blocked::NotDir { .. } | Blocked::Error { .. } => "unreadable",
                };
                q.problem = Some(b.describe(|p| facts.root.display(p)));
                // A queue that could not be opened may hold anything: the scan is blind to it.
                match b {
                    Blocked::Error { at, errno } => {
                        skips.add_unreadable(facts.root, at, errno.desc())
                    }
                    Blocked::NotDir { at } => skips.add(facts.root, at, "not a directory"),
                    Blocked::Missing | Blocked::Symlink { .. } => {}
                }
            }
            Found::Queue(scan) => {
                let scan = &**scan;
                q.messages = scan.messages;
                q.files = scan.files;
                q.bytes = scan.bytes;
                q.disk_bytes = scan.disk_bytes;
                q.oversized = scan.oversized;
                q.oversized_bytes = scan.oversized_bytes;
                q.foreign_files = scan.foreign_files;
                q.foreign_bytes = scan.foreign_bytes;
                q.oldest = scan.oldest;
                q.oldest_age = scan.oldest.map(|t| age(facts.now, t));
                q.anomalies = scan.anomalies.clone();
                q.stale_tf = scan
                    .anomalies
                    .tf_mtimes
                    .iter()
                    .filter(|&&t| facts.now.unix - t > STALE_TF_SECS)
                    .count() as u64;
                q.subdirs = scan.subdirs;
                q.symlinks = scan.symlinks.clone();
                q.matching_incomplete = scan.matching_incomplete;
                if let Some(site) = site {
                    let du = s.default_user.as_ref();
                    q.binding = Some(binding(site, scan.dir, du, facts.users));
                }
            }
        }
        if let Found::Queue(scan) = &s.found {
            let domain = site.and_then(|s| s.domains.first().cloned());
            for g in scan.groups.sorted() {
                groups.push(oversized(g, &label, domain.clone(), facts));
            }
        }
        totals.queues += 1;
        totals.messages += q.messages;
        totals.bytes += q.bytes;
        totals.disk_bytes += q.disk_bytes;
        totals.oversized += q.oversized;
        totals.oversized_bytes += q.oversized_bytes;
        if q.binding.as_ref().is_some_and(|b| !b.bound) {
            totals.unbound_sites += 1;
        }
        queues.push(q);
    }
    queues.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.path.cmp(&b.path)));
    let not_listed = top_groups(&mut groups, opts.top);
    let largest = queues.first().map_or(0, |q| q.bytes);
    // Never OK for what could not be read: a skipped queue or file may be the runaway one.
    let status =
        nagios::judge(largest as f64, &opts.warning, &opts.critical).when_blind(skips.blind());
    MqueueReport {
        status,
        now: facts.now,
        min_bytes: opts.min,
        top: opts.top,
        warning: opts.warning.to_string(),
        critical: opts.critical.to_string(),
        warning_range: opts.warning.clone(),
        critical_range: opts.critical.clone(),
        totals,
        queues,
        oversized: groups,
        oversized_not_listed: not_listed,
        skipped: skips,
        mta: None,
    }
}

/// Orders oversized groups largest first (then most copies, then by queue and ids, so the listing is
/// stable), keeps the first `top` and returns how many were left out.
pub(super) fn top_groups(groups: &mut Vec<OversizedGroup>, top: usize) -> usize {
    groups.sort_by(|a, b| {
        b.size
            .cmp(&a.size)
            .then(b.count.cmp(&a.count))
            .then(a.queue.cmp(&b.queue))
            .then(a.ids.cmp(&b.ids))
    });
    let not_listed = groups.len().saturating_sub(top);
    groups.truncate(top);
    not_listed
}

fn oversized(g: Group, queue: &str, domain: Option<String>, facts: &Facts) -> OversizedGroup {
    let owners = g
        .owners
        .iter()
        .map(|&(u, gr)| {
            format!(
                "{}:{}",
                facts.users.user_name(u),
                facts.users.group_name(gr)
            )
        })
        .collect();
    oversized_group(g, queue.to_string(), domain, facts.now, owners)
}

/// One group of identical oversized messages as reported, for a sendmail queue or a hosting account.
pub(super) fn oversized_group(
    g: Group,
    queue: String,
    site_domain: Option<String>,
    now: Now,
    owners: Vec<String>,
) -> OversizedGroup {
    OversizedGroup {
        queue,
        site_domain,
        count: g.count,
        size: g.size,
        bytes: g.size.saturating_mul(g.count),
        sender: g.sender,
        subject: g.subject,
        ids: g.ids,
        created: g.created,
        age: age(now, g.created),
        owners,
        recipient_count: g.recipient_count,
        recipients: g.recipients,
        attempts: g.attempts,
        status_class: g.status_class,
        status: g.status,
        quarantine: g.quarantine,
        classes: g.classes,
        damaged: g.damaged,
        problem: g.problem,
    }
}
