//! mqueue's figures, each defined once: its JSON field, unit, help text, and where it is shown (the
//! text table's column, the Nagios perfdata label, the Prometheus metric). The renderers take names,
//! units and values from here, so a figure cannot be called one thing in one format and another in
//! the next. Metric names are `toolkit_mqueue_<stem>` with the unit's suffix (`_bytes`, `_seconds`).

use super::accounts::{AccountReport, MtaSection};
use super::report::{MqueueReport, QueueReport};
pub use crate::render::unit::Unit;
use crate::render::{Family, Perf, Range};

/// One figure of `T` (a queue, or the whole report).
pub struct Figure<T> {
    /// Its JSON field (a path for nested ones: `totals.messages`); None when JSON has it only as the
    /// figures it is made of (`largest_queue` is the first queue's `bytes`).
    pub field: Option<&'static str>,
    pub unit: Unit,
    /// What it is (the Prometheus HELP).
    pub help: &'static str,
    /// Prometheus metric stem, named `toolkit_mqueue_<stem>_<unit>`; None: not a metric.
    pub metric: Option<&'static str>,
    /// Nagios perfdata label (a queue's is prefixed with the queue's name); None: not in perfdata.
    pub perf: Option<&'static str>,
    /// Text table column head; None: not a column.
    pub column: Option<&'static str>,
    /// The figure `-w/-c` judge: its perfdata carries the thresholds.
    pub judged: bool,
    /// Its value; None when it does not apply (a host queue has no quota binding, an empty queue
    /// no oldest message).
    pub value: fn(&T) -> Option<f64>,
    /// The sample its metric exports when there is no value (Prometheus has no "absent" sample worth
    /// alerting on: an empty queue's oldest age is 0); None: no sample.
    pub absent: Option<f64>,
}

impl<T> Figure<T> {
    /// The Prometheus metric name.
    pub fn metric_name(&self) -> Option<String> {
        let stem = self.metric?;
        let suffix = self.unit.metric_suffix();
        Some(if stem.is_empty() {
            format!("toolkit_mqueue{suffix}")
        } else {
            format!("toolkit_mqueue_{stem}{suffix}")
        })
    }

    /// An empty gauge family for it.
    pub fn family(&self) -> Option<Family> {
        Some(Family::gauge(&self.metric_name()?, self.help))
    }

    /// Its perfdata item for `of`, the label prefixed with `prefix` (a queue's name) when given,
    /// with the thresholds when it is the judged figure.
    pub fn perf(&self, of: &T, prefix: Option<&str>, w: &Range, c: &Range) -> Option<Perf> {
        let label = self.perf?;
        let value = (self.value)(of)?;
        let label = match prefix {
            Some(p) => format!("{p} {label}"),
            None => label.to_string(),
        };
        let p = Perf::new(label, value, self.unit.uom());
        let p = if self.judged { p.thresholds(w, c) } else { p };
        Some(p.min(0.0))
    }

    /// The sample its metric exports for `of`, if any.
    pub fn sample(&self, of: &T) -> Option<f64> {
        (self.value)(of).or(self.absent)
    }

    /// Its value for a person (`-` when it does not apply).
    pub fn human(&self, of: &T) -> String {
        match (self.value)(of) {
            Some(v) => self.unit.human(v as u64),
            None => "-".into(),
        }
    }
}

/// The gauge families of `figs` with a metric, one sample per item of `items` labelled by `labels`.
pub fn families<T>(
    figs: &[&Figure<T>],
    items: &[T],
    labels: impl Fn(&T) -> Vec<(&'static str, String)>,
) -> Vec<Family> {
    let with_metric: Vec<_> = figs
        .iter()
        .filter_map(|f| Some((*f, f.family()?)))
        .collect();
    let (figs, mut families): (Vec<_>, Vec<Family>) = with_metric.into_iter().unzip();
    for item in items {
        for (f, fam) in figs.iter().zip(families.iter_mut()) {
            if let Some(v) = f.sample(item) {
                fam.push(labels(item), v);
            }
        }
    }
    families
}

pub const BYTES: Figure<QueueReport> = Figure {
    field: Some("bytes"),
    unit: Unit::Bytes,
    help: "Apparent size of the queue's files, in bytes.",
    metric: Some(""),
    perf: Some("bytes"),
    column: Some("APPARENT"),
    judged: false,
    value: |q| Some(q.scan.bytes as f64),
    absent: None,
};

pub const DISK_BYTES: Figure<QueueReport> = Figure {
    field: Some("disk_bytes"),
    unit: Unit::Bytes,
    help: "Disk space used by the queue, in bytes (hard links once).",
    metric: Some("disk"),
    perf: None,
    column: Some("ON DISK"),
    judged: false,
    value: |q| Some(q.scan.disk_bytes as f64),
    absent: None,
};

pub const MESSAGES: Figure<QueueReport> = Figure {
    field: Some("messages"),
    unit: Unit::Count,
    help: "Messages (qf control files) in the queue.",
    metric: Some("messages"),
    perf: None,
    column: Some("MSGS"),
    judged: false,
    value: |q| Some(q.scan.messages as f64),
    absent: None,
};

/// Its column head is completed with the size (`>=20M`): see `text::table`.
pub const OVERSIZED: Figure<QueueReport> = Figure {
    field: Some("oversized"),
    unit: Unit::Count,
    help: "Messages at least --min bytes.",
    metric: Some("oversized_messages"),
    perf: Some("oversized"),
    column: Some(">="),
    judged: false,
    value: |q| Some(q.scan.oversized as f64),
    absent: None,
};

pub const OVERSIZED_BYTES: Figure<QueueReport> = Figure {
    field: Some("oversized_bytes"),
    unit: Unit::Bytes,
    help: "Bytes of the messages at least --min bytes.",
    metric: Some("oversized"),
    perf: None,
    column: None,
    judged: false,
    value: |q| Some(q.scan.oversized_bytes as f64),
    absent: None,
};

pub const UNCHARGED_BYTES: Figure<QueueReport> = Figure {
    field: Some("foreign_bytes"),
    unit: Unit::Bytes,
    help: "Bytes of queue files not in the site's group (outside its quota).",
    metric: Some("uncharged"),
    perf: None,
    column: None,
    judged: false,
    value: |q| Some(q.scan.foreign_bytes as f64),
    absent: None,
};

/// 0 in Prometheus for an empty queue.
pub const OLDEST_AGE: Figure<QueueReport> = Figure {
    field: Some("oldest_age"),
    unit: Unit::Seconds,
    help: "Age of the oldest message in the queue.",
    metric: Some("oldest_age"),
    perf: None,
    column: None,
    judged: false,
    value: |q| q.oldest_age.map(|a| a as f64),
    absent: Some(0.0),
};

pub const BOUND: Figure<QueueReport> = Figure {
    field: Some("binding.bound"),
    unit: Unit::Flag,
    help: "1 when the site's queue is bound to its quota.",
    metric: Some("bound"),
    perf: None,
    column: None,
    judged: false,
    value: |q| q.binding.as_ref().map(|b| f64::from(u8::from(b.bound))),
    absent: None,
};

/// Every queue figure, in the order the metrics and the per-queue perfdata are written.
pub const QUEUE_FIGURES: [&Figure<QueueReport>; 8] = [
    &BYTES,
    &DISK_BYTES,
    &MESSAGES,
    &OVERSIZED,
    &OVERSIZED_BYTES,
    &UNCHARGED_BYTES,
    &OLDEST_AGE,
    &BOUND,
];

/// The size of the largest queue (`queues` is sorted largest first): what the status is judged on.
pub fn largest(queues: &[QueueReport]) -> u64 {
    queues.first().map_or(0, |q| q.scan.bytes)
}

/// The figure `-w/-c` judge; its perfdata carries the thresholds.
pub const LARGEST_QUEUE: Figure<MqueueReport> = Figure {
    field: None,
    unit: Unit::Bytes,
    help: "Size of the largest queue, in bytes: what -w/-c judge.",
    metric: None,
    perf: Some("largest_queue"),
    column: None,
    judged: true,
    value: |r| Some(largest(&r.queues) as f64),
    absent: None,
};

pub const TOTAL_MESSAGES: Figure<MqueueReport> = Figure {
    field: Some("totals.messages"),
    unit: Unit::Count,
    help: "Messages in every queue.",
    metric: None,
    perf: Some("messages"),
    column: None,
    judged: false,
    value: |r| Some(r.totals.messages as f64),
    absent: None,
};

pub const TOTAL_OVERSIZED: Figure<MqueueReport> = Figure {
    field: Some("totals.oversized"),
    unit: Unit::Count,
    help: "Messages at least --min bytes, in every queue.",
    metric: None,
    perf: Some("oversized"),
    column: None,
    judged: false,
    value: |r| Some(r.totals.oversized as f64),
    absent: None,
};

pub const UNBOUND_SITES: Figure<MqueueReport> = Figure {
    field: Some("totals.unbound_sites"),
    unit: Unit::Count,
    help: "Sites whose queue is not bound to their quota.",
    metric: None,
    perf: Some("unbound_sites"),
    column: None,
    judged: false,
    value: |r| Some(r.totals.unbound_sites as f64),
    absent: None,
};

/// The report's own figures, in perfdata order (the queues' follow).
pub const REPORT_FIGURES: [&Figure<MqueueReport>; 4] = [
    &LARGEST_QUEUE,
    &TOTAL_MESSAGES,
    &TOTAL_OVERSIZED,
    &UNBOUND_SITES,
];

/// The largest account's queued bytes (`accounts` is sorted largest first): what the Exim/Postfix
/// section's status is judged on.
pub fn largest_account(accounts: &[AccountReport]) -> u64 {
    accounts.first().map_or(0, |a| a.bytes)
}

/// An Exim/Postfix hosting account's figure: its metric stem starts with `account`, its perfdata
/// label is prefixed with the account's name.
const fn account(
    field: &'static str,
    unit: Unit,
    help: &'static str,
    metric: &'static str,
    value: fn(&AccountReport) -> Option<f64>,
) -> Figure<AccountReport> {
    Figure {
        field: Some(field),
        unit,
        help,
        metric: Some(metric),
        perf: None,
        column: None,
        judged: false,
        value,
        absent: None,
    }
}

pub const ACCOUNT_MESSAGES: Figure<AccountReport> = Figure {
    column: Some("MSGS"),
    ..account(
        "messages",
        Unit::Count,
        "Messages queued by Exim or Postfix for the hosting account.",
        "account_messages",
        |a| Some(a.messages as f64),
    )
};

pub const ACCOUNT_BYTES: Figure<AccountReport> = Figure {
    perf: Some("bytes"),
    column: Some("LISTED"),
    ..account(
        "bytes",
        Unit::Bytes,
        "Size of the account's queued messages as the MTA lists them, in bytes.",
        "account",
        |a| Some(a.bytes as f64),
    )
};

pub const ACCOUNT_DISK_BYTES: Figure<AccountReport> = Figure {
    column: Some("ON DISK"),
    ..account(
        "disk_bytes",
        Unit::Bytes,
        "Disk space used by the account's queued messages, in bytes.",
        "account_disk",
        |a| Some(a.disk_bytes as f64),
    )
};

/// Its column head is completed with the size (`>=20M`), as the queues' is.
pub const ACCOUNT_OVERSIZED: Figure<AccountReport> = Figure {
    perf: Some("oversized"),
    column: Some(">="),
    ..account(
        "oversized",
        Unit::Count,
        "The account's queued messages at least --min bytes.",
        "account_oversized_messages",
        |a| Some(a.oversized as f64),
    )
};

pub const ACCOUNT_OVERSIZED_BYTES: Figure<AccountReport> = account(
    "oversized_bytes",
    Unit::Bytes,
    "Bytes of the account's queued messages at least --min bytes.",
    "account_oversized",
    |a| Some(a.oversized_bytes as f64),
);

pub const ACCOUNT_HELD: Figure<AccountReport> = Figure {
    column: Some("HELD"),
    ..account(
        "held",
        Unit::Count,
        "The account's messages frozen (Exim) or on hold (Postfix).",
        "account_held_messages",
        |a| Some(a.held as f64),
    )
};

pub const ACCOUNT_SCRIPTS: Figure<AccountReport> = Figure {
    perf: Some("scripts"),
    column: Some("SCRIPTS"),
    ..account(
        "by_scripts",
        Unit::Count,
        "Messages queued by the account's own scripts (its uid submitted them).",
        "account_script_messages",
        |a| Some(a.by_scripts as f64),
    )
};

/// `-` in the text table and 0 in Prometheus for an account none of whose messages has an arrival
/// time.
pub const ACCOUNT_OLDEST_AGE: Figure<AccountReport> = Figure {
    column: Some("OLDEST"),
    absent: Some(0.0),
    ..account(
        "oldest_age",
        Unit::Seconds,
        "Age of the account's oldest queued message.",
        "account_oldest_age",
        |a| a.oldest_age.map(|v| v as f64),
    )
};

/// Every account figure, in the order the metrics and the per-account perfdata are written.
pub const ACCOUNT_FIGURES: [&Figure<AccountReport>; 8] = [
    &ACCOUNT_MESSAGES,
    &ACCOUNT_BYTES,
    &ACCOUNT_DISK_BYTES,
    &ACCOUNT_OVERSIZED,
    &ACCOUNT_OVERSIZED_BYTES,
    &ACCOUNT_HELD,
    &ACCOUNT_SCRIPTS,
    &ACCOUNT_OLDEST_AGE,
];

/// The figure `-w/-c` judge in the Exim/Postfix section; its perfdata carries the thresholds.
pub const LARGEST_ACCOUNT: Figure<MtaSection> = Figure {
    field: None,
    unit: Unit::Bytes,
    help: "Size of the largest account's queued messages, in bytes: what -w/-c judge.",
    metric: None,
    perf: Some("largest_account"),
    column: None,
    judged: true,
    value: |m| Some(largest_account(&m.accounts) as f64),
    absent: None,
};

pub const MTA_MESSAGES: Figure<MtaSection> = Figure {
    field: Some("totals.messages"),
    unit: Unit::Count,
    help: "Messages in the Exim and Postfix spools.",
    metric: None,
    perf: Some("mta_messages"),
    column: None,
    judged: false,
    value: |m| Some(m.totals.messages as f64),
    absent: None,
};

/// The Exim/Postfix section's own figures, in perfdata order (the accounts' follow).
pub const MTA_FIGURES: [&Figure<MtaSection>; 2] = [&LARGEST_ACCOUNT, &MTA_MESSAGES];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mqueue::binding::Binding;
    use crate::readers::mqueue::queue::QueueScan;

    fn queue() -> QueueReport {
        QueueReport {
            label: "site1".into(),
            name: "site1 example.com".into(),
            site: None,
            path: "/home/virtual/site1/fst/var/spool/mqueue".into(),
            state: super::super::report::QueueState::Ok,
            problem: None,
            scan: QueueScan {
                messages: 3,
                files: 7,
                bytes: 5001,
                disk_bytes: 8192,
                oversized: 2,
                oversized_bytes: 4000,
                foreign_files: 1,
                foreign_bytes: 17,
                ..Default::default()
            },
            oldest_age: Some(7200),
            stale_tf: 0,
            binding: Some(Binding {
                bound: true,
                owner: "root:admin1".into(),
                mode: "2770".into(),
                setgid: true,
                world_writable: false,
                default_user: None,
                default_user_file: None,
                reasons: Vec::new(),
                fix: None,
            }),
        }
    }

    fn at<'v>(v: &'v serde_json::Value, path: &str) -> &'v serde_json::Value {
        path.split('.').fold(v, |v, k| &v[k])
    }

    fn account(oldest_age: Option<u64>) -> AccountReport {
        AccountReport {
            account: "alice".into(),
            attributed: true,
            mtas: vec![crate::readers::mta::Mta::Exim],
            messages: 3,
            bytes: 5001,
            file_bytes: 5100,
            disk_bytes: 8192,
            oversized: 2,
            oversized_bytes: 4000,
            oldest: oldest_age.map(|a| 1_800_000_000 - a as i64),
            oldest_age,
            held: 1,
            by_scripts: 4,
            by_scripts_bytes: 300,
            classes: Default::default(),
            reasons: Vec::new(),
            damaged: 0,
        }
    }

    fn section() -> MtaSection {
        MtaSection {
            status: crate::status::Status::Ok,
            findings: Vec::new(),
            panels: Vec::new(),
            spools: Vec::new(),
            totals: super::super::accounts::Totals {
                messages: 5,
                ..Default::default()
            },
            accounts: vec![account(Some(60)), account(None)],
            oversized: Vec::new(),
            oversized_not_listed: 0,
            unreadable: 0,
        }
    }

    /// Each figure naming a JSON field has the value found there (a flag as 0/1, null as None),
    /// distinct figures naming distinct fields.
    fn are_their_json_fields<T: serde::Serialize>(figs: &[&Figure<T>], of: &T) {
        let json = serde_json::to_value(of).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for f in figs {
            let Some(field) = f.field else { continue };
            assert!(seen.insert(field), "{field} twice");
            let j = at(&json, field);
            assert!(
                !j.is_null() || (f.value)(of).is_none(),
                "{field} not in JSON"
            );
            let j = j.as_f64().or(j.as_bool().map(|b| f64::from(u8::from(b))));
            assert_eq!(j, (f.value)(of), "{field}");
        }
    }

    #[test]
    fn every_queue_figure_is_the_json_field_it_names() {
        assert!(QUEUE_FIGURES.iter().all(|f| f.field.is_some()));
        are_their_json_fields(&QUEUE_FIGURES, &queue());
        let mut empty = queue();
        empty.oldest_age = None;
        are_their_json_fields(&QUEUE_FIGURES, &empty);
        assert_eq!(OLDEST_AGE.sample(&empty), Some(0.0), "0 in Prometheus");
    }

    #[test]
    fn every_account_figure_is_the_json_field_it_names() {
        assert!(ACCOUNT_FIGURES.iter().all(|f| f.field.is_some()));
        let s = section();
        for a in &s.accounts {
            are_their_json_fields(&ACCOUNT_FIGURES, a);
        }
        are_their_json_fields(&MTA_FIGURES, &s);
        assert_eq!((LARGEST_ACCOUNT.value)(&s), Some(5001.0));
    }

    #[test]
    fn account_metrics_perfdata_and_columns_take_the_figures_names_and_units() {
        let names: Vec<String> = ACCOUNT_FIGURES
            .iter()
            .filter_map(|f| f.metric_name())
            .collect();
        assert_eq!(
            names,
            [
                "toolkit_mqueue_account_messages",
                "toolkit_mqueue_account_bytes",
                "toolkit_mqueue_account_disk_bytes",
                "toolkit_mqueue_account_oversized_messages",
                "toolkit_mqueue_account_oversized_bytes",
                "toolkit_mqueue_account_held_messages",
                "toolkit_mqueue_account_script_messages",
                "toolkit_mqueue_account_oldest_age_seconds",
            ]
        );
        assert!(MTA_FIGURES.iter().all(|f| f.metric.is_none()));
        let s = section();
        let fams = families(&ACCOUNT_FIGURES, &s.accounts, |a| {
            vec![("account", a.account.clone())]
        });
        let oldest = fams.last().unwrap();
        let samples: Vec<f64> = oldest.samples.iter().map(|s| s.value).collect();
        assert_eq!(samples, [60.0, 0.0], "an account without an age exports 0");
        let (w, c): (Range, Range) = ("10".parse().unwrap(), "20".parse().unwrap());
        let perf: Vec<String> = ACCOUNT_FIGURES
            .iter()
            .filter_map(|f| f.perf(&s.accounts[0], Some("alice"), &w, &c))
            .map(|p| p.to_string())
            .collect();
        assert_eq!(
            perf,
            [
                "'alice bytes'=5001B;;;0",
                "'alice oversized'=2;;;0",
                "'alice scripts'=4;;;0"
            ]
        );
        let section: Vec<String> = MTA_FIGURES
            .iter()
            .filter_map(|f| f.perf(&s, None, &w, &c))
            .map(|p| p.to_string())
            .collect();
        assert_eq!(
            section,
            ["'largest_account'=5001B;10;20;0", "'mta_messages'=5;;;0"]
        );
        assert_eq!(ACCOUNT_OLDEST_AGE.human(&s.accounts[0]), "1m");
        assert_eq!(ACCOUNT_OLDEST_AGE.human(&s.accounts[1]), "-");
        assert_eq!(ACCOUNT_BYTES.human(&s.accounts[0]), "4.9 KiB");
        assert_eq!(ACCOUNT_SCRIPTS.human(&s.accounts[0]), "4");
    }

    #[test]
    fn metric_names_have_one_prefix_and_their_unit() {
        let names: Vec<String> = QUEUE_FIGURES
            .iter()
            .filter_map(|f| f.metric_name())
            .collect();
        assert_eq!(
            names,
            [
                "toolkit_mqueue_bytes",
                "toolkit_mqueue_disk_bytes",
                "toolkit_mqueue_messages",
                "toolkit_mqueue_oversized_messages",
                "toolkit_mqueue_oversized_bytes",
                "toolkit_mqueue_uncharged_bytes",
                "toolkit_mqueue_oldest_age_seconds",
                "toolkit_mqueue_bound",
            ]
        );
        for f in QUEUE_FIGURES {
            let n = f.metric_name().unwrap();
            match f.unit {
                Unit::Bytes => assert!(n.ends_with("_bytes"), "{n}"),
                Unit::Seconds => assert!(n.ends_with("_seconds"), "{n}"),
                _ => {
                    assert!(!n.ends_with("_bytes") && !n.ends_with("_seconds"), "{n}")
                }
            }
        }
        assert!(REPORT_FIGURES.iter().all(|f| f.metric.is_none()));
    }

    #[test]
    fn perfdata_and_text_take_the_figures_names_and_units() {
        let q = queue();
        let (w, c): (Range, Range) = ("10".parse().unwrap(), "20".parse().unwrap());
        let perf: Vec<String> = QUEUE_FIGURES
            .iter()
            .filter_map(|f| f.perf(&q, Some("site1"), &w, &c))
            .map(|p| p.to_string())
            .collect();
        assert_eq!(perf, ["'site1 bytes'=5001B;;;0", "'site1 oversized'=2;;;0"]);
        let judged: Vec<&str> = REPORT_FIGURES
            .iter()
            .filter(|f| f.judged)
            .filter_map(|f| f.perf)
            .collect();
        assert_eq!(judged, ["largest_queue"]);
        assert!(QUEUE_FIGURES.iter().all(|f| !f.judged));
        assert_eq!(BYTES.human(&q), "4.9 KiB");
        assert_eq!(MESSAGES.human(&q), "3");
        let mut unbound = queue();
        unbound.binding = None;
        assert_eq!((BOUND.value)(&unbound), None, "no sample for a host queue");
    }
}
