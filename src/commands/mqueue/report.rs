//! What `mqueue scan` reports: the report, one entry per queue holding what the walk found, and the
//! oversized groups. The JSON is the serde form (a queue's fields in the order the scan has always
//! printed them, see `QueueReport`'s `Serialize`).

use super::binding::Binding;
use super::findings::StatusFinding;
use crate::readers::mqueue::delivery::Class;
use crate::readers::mqueue::queue::QueueScan;
use crate::readers::sites::Site;
use crate::readers::skips::Skips;
use crate::render::nagios::Range;
use crate::status::Status;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;

/// Where "now" came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NowSource {
    /// The live system's clock.
    Clock,
    /// The fake root's own `proc/stat` and `proc/uptime`.
    Proc,
    /// The newest sendmail queue file (a fake root without `proc/`).
    #[serde(rename = "newest queue file")]
    NewestQueueFile,
    /// The newest Exim or Postfix message (their section, without a clock).
    #[serde(rename = "newest message")]
    NewestMessage,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Now {
    pub unix: i64,
    pub source: NowSource,
}

/// Whether a queue could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueState {
    Ok,
    Missing,
    /// A symlink, not followed.
    Symlink,
    Unreadable,
}

#[derive(Debug, Serialize)]
pub struct MqueueReport {
    /// `status_of` the sendmail findings, then the worst with the Exim/Postfix section's.
    pub status: Status,
    /// What the sendmail queues' status rests on (the largest queue first); not in JSON, which has
    /// always shown the status and the figures only.
    #[serde(skip)]
    pub findings: Vec<StatusFinding>,
    pub now: Now,
    pub min_bytes: u64,
    /// --top: oversized groups listed, and queues detailed in text.
    pub top: usize,
    #[serde(rename = "warning", serialize_with = "range_text")]
    pub warning_range: Range,
    #[serde(rename = "critical", serialize_with = "range_text")]
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

fn range_text<S: Serializer>(r: &Range, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&r.to_string())
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

impl SiteRef {
    pub fn of(s: &Site) -> SiteRef {
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
}

/// One queue: where it is, whether it could be read, what the walk found and what the judge made of
/// it.
#[derive(Debug)]
pub struct QueueReport {
    /// `site11` or `host`.
    pub label: String,
    /// For a person: `site11 example.com`, `host /var/spool/mqueue`.
    pub name: String,
    pub site: Option<SiteRef>,
    pub path: String,
    pub state: QueueState,
    pub problem: Option<String>,
    /// What the walk found; all zero for a queue that could not be opened. Its oversized messages
    /// are in the report's `oversized` (taken out of `scan.groups`).
    pub scan: QueueScan,
    pub oldest_age: Option<u64>,
    /// Temporary files older than `STALE_TF_SECS`: left over from a crash.
    pub stale_tf: u64,
    pub binding: Option<Binding>,
}

impl Serialize for QueueReport {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let q = &self.scan;
        let mut m = s.serialize_struct("QueueReport", 22)?;
        m.serialize_field("label", &self.label)?;
        m.serialize_field("name", &self.name)?;
        m.serialize_field("site", &self.site)?;
        m.serialize_field("path", &self.path)?;
        m.serialize_field("state", &self.state)?;
        m.serialize_field("problem", &self.problem)?;
        m.serialize_field("messages", &q.messages)?;
        m.serialize_field("files", &q.files)?;
        m.serialize_field("bytes", &q.bytes)?;
        m.serialize_field("disk_bytes", &q.disk_bytes)?;
        m.serialize_field("oversized", &q.oversized)?;
        m.serialize_field("oversized_bytes", &q.oversized_bytes)?;
        // Queue files not in the site's group: not charged to its quota.
        m.serialize_field("foreign_files", &q.foreign_files)?;
        m.serialize_field("foreign_bytes", &q.foreign_bytes)?;
        m.serialize_field("oldest", &q.oldest)?;
        m.serialize_field("oldest_age", &self.oldest_age)?;
        m.serialize_field("anomalies", &q.anomalies)?;
        m.serialize_field("stale_tf", &self.stale_tf)?;
        m.serialize_field("subdirs", &q.subdirs)?;
        m.serialize_field("symlinks", &q.symlinks)?;
        // Too many files to match every df with its qf: `df_without_qf` is a lower bound.
        m.serialize_field("matching_incomplete", &q.matching_incomplete)?;
        m.serialize_field("binding", &self.binding)?;
        m.end()
    }
}

impl QueueReport {
    pub(super) fn unbound(&self) -> bool {
        self.binding.as_ref().is_some_and(|b| !b.bound)
    }
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
