//! mqueue's figures, each defined once: its JSON field, unit, help text, and where it is shown (the
//! text table's column, the Nagios perfdata label, the Prometheus metric). The renderers take names,
//! units and values from here, so a figure cannot be called one thing in one format and another in
//! the next. Metric names are `toolkit_mqueue_<stem>` with the unit's suffix (`_bytes`, `_seconds`).

use super::report::{MqueueReport, QueueReport};
pub use crate::render::unit::Unit;
use crate::render::{Family, Perf, Range};

mod accounts;
// The Exim/Postfix accounts' figures, named `ACCOUNT_...` and `MTA_...`.
pub use accounts::*;

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

#[cfg(test)]
mod tests;
