//! Prometheus families for `mem verdict`: base units (bytes, seconds, ratios 0..1), one family per
//! quantity, per-process gauges for the top consumers only (bounded cardinality). The single
//! gauges come from the figure table (`figures`); the labelled families are built here.

use super::figures;
use super::report::MemReport;
use crate::readers::memory::Psi;
use crate::render::Family;

pub fn families(r: &MemReport) -> Vec<Family> {
    let mut v = figures::gauges(r);
    v.extend(r.psi.as_ref().map(pressure));
    v.extend(r.oom_kills_since_boot.map(oom_kills));
    v.extend(processes(r));
    v.extend(groups(r));
    if let Some(h) = &r.history {
        v.extend(super::history::findings::leak_families(
            &h.leaks, h.forecast,
        ));
    }
    v
}

fn pressure(p: &Psi) -> Family {
    let mut psi = Family::gauge(
        "toolkit_mem_pressure_ratio",
        "PSI memory stall share of wall time (0..1), by kind and window.",
    );
    for (kind, window, val) in [
        ("some", "10s", Some(p.some_avg10)),
        ("some", "60s", Some(p.some_avg60)),
        ("full", "10s", p.full_avg10),
        ("full", "60s", p.full_avg60),
    ] {
        if let Some(x) = val {
            psi.push(
                vec![("kind", kind.into()), ("window", window.into())],
                x / 100.0,
            );
        }
    }
    psi
}

fn oom_kills(n: u64) -> Family {
    Family::counter(
        "toolkit_mem_oom_kills_total",
        "Processes killed by the OOM killer since boot.",
    )
    .single(n as f64)
}

/// Resident and swapped memory of the top consumers, labelled by pid and command.
fn processes(r: &MemReport) -> [Family; 2] {
    let mut rss = Family::gauge(
        "toolkit_mem_process_resident_bytes",
        "Resident memory of the top consumers.",
    );
    let mut swap = Family::gauge(
        "toolkit_mem_process_swap_bytes",
        "Swapped-out memory of the top consumers.",
    );
    for c in &r.top {
        let labels = || {
            vec![
                ("pid", c.proc.pid.to_string()),
                ("comm", c.proc.comm.clone()),
            ]
        };
        rss.push(labels(), c.proc.rss as f64);
        swap.push(labels(), c.proc.swap as f64);
    }
    [rss, swap]
}

/// The largest groups by command, user or cgroup (none when there are no groups).
fn groups(r: &MemReport) -> Vec<Family> {
    if r.groups.is_empty() {
        return Vec::new();
    }
    let mut g = Family::gauge(
        "toolkit_mem_group_resident_bytes",
        "Resident memory of the largest groups of processes, by command, user or cgroup.",
    );
    let mut n = Family::gauge(
        "toolkit_mem_group_processes",
        "Processes in the largest groups, by command, user or cgroup.",
    );
    for x in &r.groups {
        let labels = || vec![("by", x.by.to_string()), ("group", x.name.clone())];
        g.push(labels(), x.rss as f64);
        n.push(labels(), x.count as f64);
    }
    vec![g, n]
}
