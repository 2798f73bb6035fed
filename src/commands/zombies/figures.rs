//! Each figure of the zombies report defined once: its name (the Nagios perfdata label; `toolkit_`,
//! the name and its unit's suffix make the Prometheus metric), unit, help text, the JSON field it is,
//! how the text names it, and which formats show it. The perfdata and metrics are rendered from this
//! table alone; the skip count (`zombies_skipped`, `toolkit_zombies_skipped`) is added for every check
//! by `render::perfdata_of` and `render::metrics_of`.

use super::judge::{Parent, ZombiesReport};
pub use crate::render::unit::Unit;
use crate::render::{Family, Perf};

/// How the text names a figure beside its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// A counted noun: `20 zombies`, `1 parent`.
    Noun(&'static str),
    /// Words after the value: `1 in D state`, `2 traced`.
    After(&'static str),
    /// Words before the value: `oldest 3d 8h`.
    Before(&'static str),
    /// Not named in the text.
    None,
}

/// Where a figure's value comes from.
#[derive(Clone, Copy)]
pub enum Value {
    /// One value for the report.
    One(fn(&ZombiesReport) -> u64),
    /// One sample per parent, labelled by its pid, comm and service.
    PerParent(fn(&Parent) -> u64),
}

/// Where the JSON has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Json {
    /// A number field of the report (null when there is no value, as `oldest_age` without zombies).
    Field(&'static str),
    /// The length of a list field of the report.
    Len(&'static str),
    /// A number field of each parent.
    ParentField(&'static str),
    /// A number field of the report's `skipped` object.
    Skipped(&'static str),
}

/// One figure, and everything that shows it.
#[derive(Clone, Copy)]
pub struct Figure {
    /// `zombies` or `zombies_<what>`: the perfdata label, and the metric name without `toolkit_`
    /// and the unit's suffix.
    pub name: &'static str,
    pub unit: Unit,
    /// The metric's HELP line.
    pub help: &'static str,
    /// Read only by the test that checks it against the serialised report (the JSON is the report's
    /// serde form, unchanged).
    #[cfg_attr(not(test), allow(dead_code))]
    pub json: Json,
    pub label: Label,
    pub value: Value,
    pub perfdata: bool,
    pub metric: bool,
    /// Whether -w/-c apply to it (they are shown in its perfdata).
    pub thresholds: bool,
}

pub const ZOMBIES: Figure = Figure {
    name: "zombies",
    unit: Unit::Count,
    help: "Zombie processes at least --min-age old.",
    json: Json::Field("zombies"),
    label: Label::Noun("zombie"),
    value: Value::One(|r| r.zombies as u64),
    perfdata: true,
    metric: true,
    thresholds: true,
};

pub const PARENTS: Figure = Figure {
    name: "zombies_parents",
    unit: Unit::Count,
    help: "Parent processes holding zombies at least --min-age old.",
    json: Json::Len("parents"),
    label: Label::Noun("parent"),
    value: Value::One(|r| r.parents.len() as u64),
    perfdata: true,
    metric: false,
    thresholds: false,
};

pub const TRANSIENT: Figure = Figure {
    name: "zombies_transient",
    unit: Unit::Count,
    help: "Zombie processes younger than --min-age.",
    json: Json::Field("transient"),
    label: Label::After("younger, transient"),
    value: Value::One(|r| r.transient as u64),
    perfdata: true,
    metric: true,
    thresholds: false,
};

pub const OLDEST: Figure = Figure {
    name: "zombies_oldest",
    unit: Unit::Seconds,
    help: "Age of the oldest zombie at least --min-age old.",
    json: Json::Field("oldest_age"),
    label: Label::Before("oldest"),
    value: Value::One(|r| r.oldest_age.unwrap_or(0)),
    perfdata: true,
    metric: true,
    thresholds: false,
};

pub const BY_PARENT: Figure = Figure {
    name: "zombies_by_parent",
    unit: Unit::Count,
    help: "Zombies at least --min-age old, per parent process.",
    json: Json::ParentField("zombie_count"),
    label: Label::None,
    value: Value::PerParent(|p| p.zombie_count as u64),
    perfdata: false,
    metric: true,
    thresholds: false,
};

pub const DSTATE: Figure = Figure {
    name: "zombies_dstate",
    unit: Unit::Count,
    help: "Processes in uninterruptible sleep (D) alive at least --min-age.",
    json: Json::Len("dstate"),
    label: Label::After("in D state"),
    value: Value::One(|r| r.dstate.len() as u64),
    perfdata: true,
    metric: true,
    thresholds: false,
};

pub const TRACED: Figure = Figure {
    name: "zombies_traced",
    unit: Unit::Count,
    help: "Processes being traced (TracerPid set).",
    json: Json::Len("traced"),
    label: Label::After("traced"),
    value: Value::One(|r| r.traced.len() as u64),
    perfdata: true,
    metric: true,
    thresholds: false,
};

pub const VANISHED: Figure = Figure {
    name: "zombies_vanished",
    unit: Unit::Count,
    help:
        "Processes that exited while the scan read them (normal churn; what could not be read is \
           toolkit_zombies_skipped).",
    json: Json::Skipped("vanished"),
    label: Label::None,
    value: Value::One(|r| r.skipped.vanished),
    perfdata: false,
    metric: true,
    thresholds: false,
};

/// Every figure, in the order perfdata and metrics list them.
pub const FIGURES: [Figure; 8] = [
    ZOMBIES, PARENTS, TRANSIENT, OLDEST, BY_PARENT, DSTATE, TRACED, VANISHED,
];

impl Figure {
    pub fn metric_name(&self) -> String {
        format!("toolkit_{}{}", self.name, self.unit.metric_suffix())
    }

    /// The report's value (None for a per-parent figure).
    pub fn of(&self, r: &ZombiesReport) -> Option<u64> {
        match self.value {
            Value::One(f) => Some(f(r)),
            Value::PerParent(_) => None,
        }
    }

    /// The value with its label, as the text shows it: `20 zombies`, `1 in D state`, `oldest 3d 8h`.
    pub fn phrase(&self, v: u64) -> String {
        let shown = self.unit.human(v);
        match self.label {
            Label::Noun(noun) if v == 1 => format!("{shown} {noun}"),
            Label::Noun(noun) => format!("{shown} {noun}s"),
            Label::After(words) => format!("{shown} {words}"),
            Label::Before(words) => format!("{words} {shown}"),
            Label::None => shown,
        }
    }

    fn perf(&self, r: &ZombiesReport) -> Option<Perf> {
        let v = self.of(r).filter(|_| self.perfdata)?;
        let perf = Perf::new(self.name, v as f64, self.unit.uom()).min(0.0);
        Some(if self.thresholds {
            perf.thresholds(&r.warning, &r.critical)
        } else {
            perf
        })
    }

    fn family(&self, r: &ZombiesReport) -> Option<Family> {
        if !self.metric {
            return None;
        }
        let family = Family::gauge(&self.metric_name(), self.help);
        Some(match self.value {
            Value::One(f) => family.single(f(r) as f64),
            Value::PerParent(f) => r.parents.iter().fold(family, |family, p| {
                let service = p.service.as_ref().map(|s| s.name.clone());
                family.sample(
                    vec![
                        ("ppid", p.pid.to_string()),
                        ("comm", p.comm.clone()),
                        ("service", service.unwrap_or_default()),
                    ],
                    f(p) as f64,
                )
            }),
        })
    }
}

/// The perfdata of the report, from the table.
pub fn perfdata(r: &ZombiesReport) -> Vec<Perf> {
    FIGURES.iter().filter_map(|f| f.perf(r)).collect()
}

/// The metric families of the report, from the table.
pub fn metrics(r: &ZombiesReport) -> Vec<Family> {
    FIGURES.iter().filter_map(|f| f.family(r)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The prefix of every figure's name: the check's own name.
    const CHECK: &str = "zombies";

    #[test]
    fn names_follow_one_rule() {
        for f in FIGURES {
            assert!(
                f.name == CHECK || f.name.starts_with(&format!("{CHECK}_")),
                "{}: one prefix per check",
                f.name
            );
            assert!(f.perfdata || f.metric, "{}: shown nowhere", f.name);
            assert!(
                !f.name.ends_with("_seconds") && !f.name.ends_with("_bytes"),
                "{}: the unit's suffix comes from its unit",
                f.name
            );
            assert!(
                !f.name.contains("skipped"),
                "{}: the one skipped gauge is render::metrics_of's",
                f.name
            );
        }
        let names: Vec<String> = FIGURES.iter().map(Figure::metric_name).collect();
        assert_eq!(
            names,
            [
                "toolkit_zombies",
                "toolkit_zombies_parents",
                "toolkit_zombies_transient",
                "toolkit_zombies_oldest_seconds",
                "toolkit_zombies_by_parent",
                "toolkit_zombies_dstate",
                "toolkit_zombies_traced",
                "toolkit_zombies_vanished",
            ]
        );
    }

    #[test]
    fn phrases_as_the_text_shows_them() {
        assert_eq!(ZOMBIES.phrase(1), "1 zombie");
        assert_eq!(ZOMBIES.phrase(1234), "1,234 zombies");
        assert_eq!(PARENTS.phrase(4), "4 parents");
        assert_eq!(TRANSIENT.phrase(3), "3 younger, transient");
        assert_eq!(OLDEST.phrase(290_000), "oldest 3d 8h");
        assert_eq!(DSTATE.phrase(1), "1 in D state");
        assert_eq!(TRACED.phrase(2), "2 traced");
    }
}
