//! The units figures are measured in, shared by every command's figure table: what a unit adds to a
//! Prometheus name (its base unit, as the naming guide asks), its Nagios unit of measure, the value
//! exported (percent as a 0..1 ratio), and how a person reads it.

use crate::units::{human_duration, human_size, thousands};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    /// 1 or 0.
    Flag,
    Bytes,
    Seconds,
    /// Shown in percent; exported as a 0..1 ratio.
    Percent,
    /// Kernel pages per second over an interval.
    PagesPerSecond,
    /// Events per second over an interval.
    PerSecond,
}

impl Unit {
    /// The Prometheus name's suffix, with its underscore (`_bytes`; none for a count).
    pub fn metric_suffix(self) -> &'static str {
        match self {
            Unit::Count | Unit::Flag => "",
            Unit::Bytes => "_bytes",
            Unit::Seconds => "_seconds",
            Unit::Percent => "_ratio",
            Unit::PagesPerSecond => "_pages_per_second",
            Unit::PerSecond => "_per_second",
        }
    }

    /// The Nagios unit of measure (bytes exact, never KB/MB).
    pub fn uom(self) -> &'static str {
        match self {
            Unit::Bytes => "B",
            Unit::Seconds => "s",
            Unit::Percent => "%",
            Unit::Count | Unit::Flag | Unit::PagesPerSecond | Unit::PerSecond => "",
        }
    }

    /// The value a metric exports.
    pub fn exported(self, v: f64) -> f64 {
        match self {
            Unit::Percent => v / 100.0,
            _ => v,
        }
    }

    /// As a person reads it: `4.9 KiB`, `3d 8h`, `2,074`.
    pub fn human(self, v: u64) -> String {
        match self {
            Unit::Bytes => human_size(v),
            Unit::Seconds => human_duration(v),
            Unit::Percent => format!("{v}%"),
            Unit::Count | Unit::Flag | Unit::PagesPerSecond | Unit::PerSecond => thousands(v),
        }
    }
}
