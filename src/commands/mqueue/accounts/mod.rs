//! Exim and Postfix hosts (cPanel, DirectAdmin, Plesk): one queue for the whole host, read and charged
//! to hosting accounts. Read (the spools, the panel maps), judge (per account: messages, bytes,
//! oversized, oldest, held, what its own scripts queued, delivery status classified, identical copies
//! grouped), render (`render`). The section joins the sendmail report as `mta`.

mod render;

use super::findings::{self, StatusFinding};
use super::judge::{oversized_group, top_groups, Now, NowSource, OversizedGroup, QueueState};
use super::targets::MtaTarget;
use crate::readers::accounts::{AccountDb, Attribution};
use crate::readers::mqueue::delivery::{Class, Classifier};
use crate::readers::mqueue::groups::{Groups, Message};
use crate::readers::mqueue::qf::{ControlFile, Recipient};
use crate::readers::mta::{self, Mta, MtaMessage};
use crate::readers::skips::Skips;
use crate::readers::users::UserDb;
use crate::render::nagios::Range;
use crate::root::Root;
use crate::safeops::read::{open_dir_beneath, Blocked};
use crate::status::Status;
use serde::Serialize;
use std::collections::BTreeMap;

/// The name under which mail no account could be charged with is reported.
pub const UNATTRIBUTED: &str = "(unattributed)";
/// Distinct attribution reasons reported per account.
const KEPT_REASONS: usize = 3;
/// Distinct attribution reasons counted per account (the others are counted together).
const MAX_REASONS: usize = 64;

#[derive(Debug, Serialize)]
pub struct SpoolReport {
    pub mta: Mta,
    pub path: String,
    /// Whether the spool could be read (the sendmail queues' states: ok, missing, symlink, unreadable).
    pub state: QueueState,
    pub problem: Option<String>,
    pub messages: u64,
    pub bytes: u64,
    pub disk_bytes: u64,
    pub damaged: u64,
    pub other_files: u64,
    /// Postfix queue files still being written.
    pub being_written: u64,
    pub symlinks: Vec<String>,
}

impl SpoolReport {
    /// A spool in `state` with nothing counted yet.
    pub fn empty(mta: Mta, path: String, state: QueueState) -> SpoolReport {
        SpoolReport {
            mta,
            path,
            state,
            problem: None,
            messages: 0,
            bytes: 0,
            disk_bytes: 0,
            damaged: 0,
            other_files: 0,
            being_written: 0,
            symlinks: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Reason {
    pub reason: String,
    pub messages: u64,
}

#[derive(Debug, Default, Serialize)]
pub struct AccountReport {
    /// The account (a Unix user), or `(unattributed)`.
    pub account: String,
    pub attributed: bool,
    pub mtas: Vec<Mta>,
    pub messages: u64,
    /// Sum of the sizes the MTAs list.
    pub bytes: u64,
    /// Apparent bytes and disk blocks of the messages' files.
    pub file_bytes: u64,
    pub disk_bytes: u64,
    pub oversized: u64,
    pub oversized_bytes: u64,
    pub oldest: Option<i64>,
    pub oldest_age: Option<u64>,
    /// Frozen (Exim) or on hold (Postfix).
    pub held: u64,
    /// Mail queued by this account's scripts: submitted by its own uid on this host.
    pub by_scripts: u64,
    pub by_scripts_bytes: u64,
    /// Messages per delivery status class (of their recipients' last errors).
    pub classes: BTreeMap<Class, u64>,
    /// Why messages were charged to this account, most frequent first.
    pub reasons: Vec<Reason>,
    pub damaged: u64,
}

#[derive(Debug, Serialize)]
pub struct MtaSection {
    /// `status_of` its findings.
    pub status: Status,
    /// What the status rests on (the largest account first); not in JSON.
    #[serde(skip)]
    pub findings: Vec<StatusFinding>,
    /// The panels whose maps were read (cPanel, DirectAdmin, Plesk).
    pub panels: Vec<&'static str>,
    pub spools: Vec<SpoolReport>,
    pub totals: Totals,
    /// Accounts, largest first.
    pub accounts: Vec<AccountReport>,
    /// Oversized messages of every account, identical copies grouped, largest first.
    pub oversized: Vec<OversizedGroup>,
    pub oversized_not_listed: usize,
    /// Spool files that could not be read or parsed.
    pub unreadable: u64,
}

#[derive(Debug, Default, Serialize)]
pub struct Totals {
    pub messages: u64,
    pub bytes: u64,
    pub disk_bytes: u64,
    pub oversized: u64,
    pub oversized_bytes: u64,
    pub accounts: usize,
}

#[derive(Default)]
struct Acc {
    report: Option<AccountReport>,
    reasons: BTreeMap<String, u64>,
    groups: Groups,
}

/// A message as the sendmail grouping sees it, so that copies are grouped and statuses classified
/// exactly as for sendmail sites. Its texts are moved, not copied: this runs once per message.
pub fn into_control(m: MtaMessage) -> ControlFile {
    ControlFile {
        created: m.arrival.and_then(|t| u64::try_from(t).ok()),
        sender: m.sender,
        recipients: m
            .recipients
            .into_iter()
            .map(|r| Recipient {
                address: r.address,
                status: r.status,
            })
            .collect(),
        recipient_count: m.recipient_count,
        recipient_statuses: m.statuses,
        subject: m.subject,
        quarantine: m.held.then(|| "frozen or on hold".to_string()),
        complete: m.problems.is_empty(),
        problems: m.problems,
        ..Default::default()
    }
}

pub struct Options<'a> {
    pub min: u64,
    pub top: usize,
    pub warning: &'a Range,
    pub critical: &'a Range,
}

/// Reads every MTA spool among `targets`: the section (`None` when the host has none) and what
/// could not be read.
pub fn scan(
    root: &Root,
    users: &UserDb,
    targets: &[MtaTarget],
    now: Option<i64>,
    opts: &Options,
) -> (Option<MtaSection>, Skips) {
    let mut skips = Skips::default();
    let accounts = AccountDb::read(root, users, &mut skips);
    let mut per: BTreeMap<String, Acc> = BTreeMap::new();
    let mut classifier = Classifier::default();
    let mut spools = Vec::new();
    let mut newest = None;
    for t in targets {
        let path = t.path(root);
        let shown = root.display(&path);
        let mut spool = SpoolReport::empty(t.mta, shown, QueueState::Ok);
        let fd = match open_dir_beneath(root.path(), &t.rel) {
            Ok(fd) => fd,
            Err(Blocked::Missing) if t.optional => continue,
            Err(b) => {
                spool.state = match b {
                    Blocked::Missing => QueueState::Missing,
                    Blocked::Symlink { .. } => QueueState::Symlink,
                    _ => QueueState::Unreadable,
                };
                let why = b.describe(|p| root.display(p));
                skips.add(root, &path, &why);
                spool.problem = Some(why);
                spools.push(spool);
                continue;
            }
        };
        let mut sink = |m: MtaMessage| {
            if let Some(a) = m.arrival {
                newest = Some(newest.map_or(a, |n: i64| n.max(a)));
            }
            let who = accounts.attribute(&m, users);
            add(&mut per, &mut classifier, t.mta, m, who, opts.min);
        };
        let s = match t.mta {
            Mta::Exim => mta::scan_exim(root, &fd, &path, &mut skips, &mut sink),
            Mta::Postfix => mta::scan_postfix(root, &fd, &path, &mut skips, &mut sink),
        };
        spool.messages = s.messages;
        spool.bytes = s.bytes;
        spool.disk_bytes = s.disk_bytes;
        spool.damaged = s.damaged;
        spool.other_files = s.other_files;
        spool.being_written = s.being_written;
        spool.symlinks = s.symlinks;
        spools.push(spool);
    }
    if spools.is_empty() {
        return (None, skips);
    }
    let now = Now {
        unix: now.or(newest).unwrap_or(0),
        source: if now.is_some() {
            NowSource::Clock
        } else {
            NowSource::NewestMessage
        },
    };
    let section = judge(spools, &accounts, per, &skips, now, opts);
    (Some(section), skips)
}

fn add(
    per: &mut BTreeMap<String, Acc>,
    classifier: &mut Classifier,
    mta: Mta,
    mut m: MtaMessage,
    who: Attribution,
    min: u64,
) {
    let name = who
        .account
        .clone()
        .unwrap_or_else(|| UNATTRIBUTED.to_string());
    let acc = per.entry(name.clone()).or_default();
    let r = acc.report.get_or_insert_with(|| AccountReport {
        account: name,
        attributed: who.account.is_some(),
        ..AccountReport::default()
    });
    if !r.mtas.contains(&mta) {
        r.mtas.push(mta);
    }
    r.messages += 1;
    r.bytes += m.size;
    r.file_bytes += m.file_bytes;
    r.disk_bytes += m.disk_bytes;
    if let Some(a) = m.arrival {
        r.oldest = Some(r.oldest.map_or(a, |o| o.min(a)));
    }
    r.held += m.held as u64;
    if who.by_uid {
        r.by_scripts += 1;
        r.by_scripts_bytes += m.size;
    }
    r.damaged += !m.problems.is_empty() as u64;
    let (id, size, arrival, uid) = (std::mem::take(&mut m.id), m.size, m.arrival, m.uid);
    let control = into_control(m);
    // Classified once, for the account's classes and the oversized copy's group.
    let status = classifier.last_status(&control);
    *r.classes.entry(status.0).or_default() += 1;
    // Reasons name uids and sender domains: a flood from many domains must not grow this unbounded.
    let reason = if acc.reasons.len() >= MAX_REASONS && !acc.reasons.contains_key(&who.reason) {
        "(other reasons)".to_string()
    } else {
        who.reason
    };
    *acc.reasons.entry(reason).or_default() += 1;
    if size >= min {
        r.oversized += 1;
        r.oversized_bytes += size;
        let copy = Message {
            id,
            size,
            mtime: arrival.unwrap_or(0),
            owner: (uid.unwrap_or(u32::MAX), 0),
            problem: None,
            control: Some(control),
        };
        acc.groups.add_classified(copy, status);
    }
}

fn judge(
    spools: Vec<SpoolReport>,
    db: &AccountDb,
    per: BTreeMap<String, Acc>,
    skips: &Skips,
    now: Now,
    opts: &Options,
) -> MtaSection {
    let mut totals = Totals::default();
    let mut accounts = Vec::new();
    let mut groups = Vec::new();
    for (_, acc) in per {
        let Some(mut r) = acc.report else { continue };
        r.oldest_age = r.oldest.map(|t| (now.unix - t).max(0) as u64);
        let mut reasons: Vec<Reason> = acc
            .reasons
            .into_iter()
            .map(|(reason, messages)| Reason { reason, messages })
            .collect();
        reasons.sort_by(|a, b| b.messages.cmp(&a.messages).then(a.reason.cmp(&b.reason)));
        reasons.truncate(KEPT_REASONS);
        r.reasons = reasons;
        for g in acc.groups.sorted() {
            groups.push(oversized_group(g, r.account.clone(), None, now, Vec::new()));
        }
        totals.messages += r.messages;
        totals.bytes += r.bytes;
        totals.disk_bytes += r.disk_bytes;
        totals.oversized += r.oversized;
        totals.oversized_bytes += r.oversized_bytes;
        accounts.push(r);
    }
    totals.accounts = accounts.iter().filter(|a| a.attributed).count();
    accounts.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.account.cmp(&b.account)));
    let not_listed = top_groups(&mut groups, opts.top);
    let findings = findings::accounts(
        &spools,
        &accounts,
        skips,
        opts.min,
        opts.warning,
        opts.critical,
    );
    MtaSection {
        status: findings::status_of(&findings),
        findings,
        panels: db.sources.clone(),
        spools,
        totals,
        accounts,
        oversized: groups,
        oversized_not_listed: not_listed,
        unreadable: skips.count,
    }
}
