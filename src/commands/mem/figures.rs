//! Each figure of `mem verdict` defined once: its JSON field, unit, help text, text label, and
//! whether Nagios perfdata and Prometheus show it. The Prometheus name is derived
//! (`toolkit_mem_` + base + the unit's suffix), as is the value exported (percent as a 0..1 ratio).
//! `metrics` and the perfdata render from these lists; a test holds the JSON to the same names.

use super::report::MemReport;
use super::thresholds::Thresholds;
pub use crate::render::unit::Unit;
use crate::render::{Family, Perf, Range};

/// The warning and critical ranges that apply to a figure, for its perfdata.
type Limits = fn(&Thresholds) -> (&Range, &Range);

pub struct Figure {
    /// The field in the report's JSON (`memory.available`, `rates.swap_out`...).
    pub json: &'static str,
    pub unit: Unit,
    /// What the text shows it as.
    pub label: &'static str,
    pub help: &'static str,
    /// Base of the Prometheus name, when Prometheus shows it as a single gauge.
    pub metric: Option<&'static str>,
    /// The Nagios perfdata label, when Nagios shows it.
    pub perf: Option<&'static str>,
    pub value: fn(&MemReport) -> Option<f64>,
    /// Perfdata maximum (percent: 100).
    pub max: fn(&MemReport) -> Option<f64>,
    pub limits: Option<Limits>,
}

impl Figure {
    pub fn metric_name(&self) -> Option<String> {
        self.metric
            .map(|m| format!("toolkit_mem_{m}{}", self.unit.metric_suffix()))
    }

    fn family(&self, r: &MemReport) -> Option<Family> {
        let v = (self.value)(r)?;
        Some(Family::gauge(&self.metric_name()?, self.help).single(self.unit.exported(v)))
    }

    fn perf(&self, r: &MemReport) -> Option<Perf> {
        let label = self.perf?;
        let mut p = Perf::new(label, (self.value)(r)?, self.unit.uom()).min(0.0);
        if let Some(max) = (self.max)(r) {
            p = p.max(max);
        }
        match (self.limits, r.thresholds.as_ref()) {
            (Some(l), Some(t)) => {
                let (w, c) = l(t);
                Some(p.thresholds(w, c))
            }
            _ => Some(p),
        }
    }
}

fn none(_: &MemReport) -> Option<f64> {
    None
}

fn hundred(_: &MemReport) -> Option<f64> {
    Some(100.0)
}

macro_rules! bytes {
    ($json:literal, $label:literal, $help:literal, $e:expr) => {
        Figure {
            json: $json,
            unit: Unit::Bytes,
            label: $label,
            help: $help,
            metric: Some($json),
            perf: None,
            value: $e,
            max: none,
            limits: None,
        }
    };
}

pub const TOTAL: Figure = bytes!("total", "total", "Total usable RAM (MemTotal).", |r| Some(
    r.memory.total as f64
));
pub const USED: Figure = bytes!(
    "used",
    "used",
    "Used memory as free 4.x computes it: total - available.",
    |r| Some(r.memory.used as f64)
);
pub const FREE: Figure = bytes!("free", "free", "Unused RAM (MemFree).", |r| Some(
    r.memory.free as f64
));
pub const BUFFERS: Figure = bytes!("buffers", "buffers", "Buffers.", |r| Some(
    r.memory.buffers as f64
));
pub const CACHE: Figure = bytes!(
    "cache",
    "cache",
    "Page cache and reclaimable slab (Cached + SReclaimable).",
    |r| Some(r.memory.cache as f64)
);
pub const AVAILABLE: Figure = Figure {
    perf: Some("mem_available"),
    max: |r| Some(r.memory.total as f64),
    ..bytes!(
        "available",
        "available",
        "Memory available for new work without swapping.",
        |r| Some(r.memory.available as f64)
    )
};
pub const AVAILABLE_PERCENT: Figure = Figure {
    json: "available_percent",
    unit: Unit::Percent,
    label: "available",
    help: "Available memory as a share of RAM.",
    metric: None,
    perf: Some("mem_available_pct"),
    value: |r| Some(r.memory.available_percent),
    max: hundred,
    limits: Some(|t| (&t.ranges.available_warning, &t.ranges.available_critical)),
};
pub const APPLICATION: Figure = bytes!(
    "application",
    "programs",
    "Memory held by programs: total - free - buffers - cache.",
    |r| Some(r.memory.application as f64)
);
pub const APPLICATION_PERCENT: Figure = Figure {
    json: "application_percent",
    unit: Unit::Percent,
    label: "of non-free memory",
    help: "Application memory as a share of all non-free memory (0..1).",
    metric: Some("application"),
    perf: None,
    value: |r| Some(r.memory.application_percent),
    max: hundred,
    limits: None,
};
pub const SWAP_TOTAL: Figure = bytes!("swap_total", "total", "Swap space configured.", |r| {
    Some(r.memory.swap_total as f64)
});
pub const SWAP_USED: Figure = Figure {
    perf: Some("swap_used"),
    max: |r| Some(r.memory.swap_total as f64),
    ..bytes!("swap_used", "used", "Swap space in use.", |r| Some(
        r.memory.swap_used as f64
    ))
};
pub const SLAB_UNRECLAIMABLE: Figure = bytes!(
    "slab_unreclaimable",
    "unreclaimable",
    "Kernel slab that cannot be reclaimed (SUnreclaim).",
    |r| Some(r.memory.slab_unreclaimable as f64)
);
// The pair is exported together or not at all.
pub const COMMITTED: Figure = bytes!(
    "committed",
    "committed",
    "Memory promised to processes (Committed_AS).",
    |r| r
        .memory
        .commit_limit
        .and(r.memory.committed)
        .map(|c| c as f64)
);
pub const COMMIT_LIMIT: Figure = bytes!(
    "commit_limit",
    "limit",
    "Overcommit limit (CommitLimit).",
    |r| r
        .memory
        .committed
        .and(r.memory.commit_limit)
        .map(|c| c as f64)
);

macro_rules! rate {
    ($json:literal, $metric:literal, $unit:expr, $label:literal, $help:literal, $f:ident) => {
        Figure {
            json: $json,
            unit: $unit,
            label: $label,
            help: $help,
            metric: Some($metric),
            perf: None,
            value: |r| r.rates.and_then(|x| x.$f),
            max: none,
            limits: None,
        }
    };
}

pub const SWAP_IN: Figure = rate!(
    "swap_in",
    "swap_in",
    Unit::PagesPerSecond,
    "swap-in",
    "Pages swapped in per second over the interval.",
    swap_in
);
pub const SWAP_OUT: Figure = Figure {
    perf: Some("swap_out"),
    limits: Some(|t| (&t.ranges.swap_out_warning, &t.ranges.swap_out_critical)),
    ..rate!(
        "swap_out",
        "swap_out",
        Unit::PagesPerSecond,
        "swap-out",
        "Pages swapped out per second over the interval.",
        swap_out
    )
};
pub const PAGES_SCANNED: Figure = rate!(
    "pages_scanned",
    "scanned",
    Unit::PagesPerSecond,
    "scanned",
    "Pages scanned for reclaim per second over the interval.",
    pages_scanned
);
pub const MAJOR_FAULTS: Figure = rate!(
    "major_faults",
    "major_faults",
    Unit::PerSecond,
    "faults",
    "Major page faults per second over the interval.",
    major_faults
);
/// PSI figures are exported in one labelled family (`toolkit_mem_pressure_ratio`), not alone.
pub const PSI_FULL_AVG10: Figure = Figure {
    json: "full_avg10",
    unit: Unit::Percent,
    label: "full",
    help: "Share of the last 10s in which all tasks stalled on memory (PSI full avg10).",
    metric: None,
    perf: Some("psi_full_avg10"),
    value: |r| r.psi.and_then(|p| p.full_avg10),
    max: hundred,
    limits: Some(|t| (&t.ranges.psi_warning, &t.ranges.psi_critical)),
};
pub const PSI_SOME_AVG10: Figure = Figure {
    json: "some_avg10",
    label: "some",
    help: "Share of the last 10s in which some task stalled on memory (PSI some avg10).",
    perf: Some("psi_some_avg10"),
    value: |r| r.psi.map(|p| p.some_avg10),
    limits: None,
    ..PSI_FULL_AVG10
};
/// Exported with the leak suspects' rates (`findings::leak_families`), shared with `mem report`.
pub const LEAK_FORECAST: Figure = Figure {
    json: "forecast",
    unit: Unit::Seconds,
    label: "runs out in",
    help: "Seconds until available memory runs out at the leak suspects' combined rate.",
    metric: Some("leak_forecast"),
    perf: Some("leak_forecast"),
    value: |r| r.history.as_ref().and_then(|h| h.forecast),
    max: none,
    limits: None,
};

/// The single gauges, in the order Prometheus shows them.
pub const PROMETHEUS: &[&Figure] = &[
    &TOTAL,
    &USED,
    &FREE,
    &BUFFERS,
    &CACHE,
    &AVAILABLE,
    &APPLICATION,
    &APPLICATION_PERCENT,
    &SWAP_TOTAL,
    &SWAP_USED,
    &SLAB_UNRECLAIMABLE,
    &COMMITTED,
    &COMMIT_LIMIT,
    &SWAP_IN,
    &SWAP_OUT,
    &PAGES_SCANNED,
    &MAJOR_FAULTS,
];

/// The perfdata, in the order Nagios shows it (kept from before the table, for existing graphs).
pub const NAGIOS: &[&Figure] = &[
    &AVAILABLE,
    &AVAILABLE_PERCENT,
    &SWAP_USED,
    &SWAP_OUT,
    &PSI_FULL_AVG10,
    &LEAK_FORECAST,
    &PSI_SOME_AVG10,
];

pub fn gauges(r: &MemReport) -> Vec<Family> {
    PROMETHEUS.iter().filter_map(|f| f.family(r)).collect()
}

pub fn perfdata(r: &MemReport) -> Vec<Perf> {
    NAGIOS.iter().filter_map(|f| f.perf(r)).collect()
}
