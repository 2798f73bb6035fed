//! Prometheus families for `mem verdict`: base units (bytes, seconds, ratios 0..1), one family per
//! quantity, per-process gauges for the top consumers only (bounded cardinality).

use super::report::MemReport;
use crate::render::Family;

fn g(name: &str, help: &str, v: f64) -> Family {
    Family::gauge(name, help).single(v)
}

pub fn families(r: &MemReport) -> Vec<Family> {
    let f = &r.memory;
    let mut v = vec![
        g(
            "toolkit_mem_total_bytes",
            "Total usable RAM (MemTotal).",
            f.total as f64,
        ),
        g(
            "toolkit_mem_used_bytes",
            "Used memory as free 4.x computes it: total - available.",
            f.used as f64,
        ),
        g(
            "toolkit_mem_free_bytes",
            "Unused RAM (MemFree).",
            f.free as f64,
        ),
        g("toolkit_mem_buffers_bytes", "Buffers.", f.buffers as f64),
        g(
            "toolkit_mem_cache_bytes",
            "Page cache and reclaimable slab (Cached + SReclaimable).",
            f.cache as f64,
        ),
        g(
            "toolkit_mem_available_bytes",
            "Memory available for new work without swapping.",
            f.available as f64,
        ),
        g(
            "toolkit_mem_application_bytes",
            "Memory held by programs: total - free - buffers - cache.",
            f.application as f64,
        ),
        g(
            "toolkit_mem_application_ratio",
            "Application memory as a share of all non-free memory (0..1).",
            f.application_percent / 100.0,
        ),
        g(
            "toolkit_mem_swap_total_bytes",
            "Swap space configured.",
            f.swap_total as f64,
        ),
        g(
            "toolkit_mem_swap_used_bytes",
            "Swap space in use.",
            f.swap_used as f64,
        ),
        g(
            "toolkit_mem_slab_unreclaimable_bytes",
            "Kernel slab that cannot be reclaimed (SUnreclaim).",
            f.slab_unreclaimable as f64,
        ),
    ];
    if let (Some(c), Some(l)) = (f.committed, f.commit_limit) {
        v.push(g(
            "toolkit_mem_committed_bytes",
            "Memory promised to processes (Committed_AS).",
            c as f64,
        ));
        v.push(g(
            "toolkit_mem_commit_limit_bytes",
            "Overcommit limit (CommitLimit).",
            l as f64,
        ));
    }
    if let Some(rates) = &r.rates {
        let mut push = |name: &str, help: &str, val: Option<f64>| {
            if let Some(x) = val {
                v.push(g(name, help, x));
            }
        };
        push(
            "toolkit_mem_swap_in_pages_per_second",
            "Pages swapped in per second over the interval.",
            rates.swap_in,
        );
        push(
            "toolkit_mem_swap_out_pages_per_second",
            "Pages swapped out per second over the interval.",
            rates.swap_out,
        );
        push(
            "toolkit_mem_scanned_pages_per_second",
            "Pages scanned for reclaim per second over the interval.",
            rates.pages_scanned,
        );
        push(
            "toolkit_mem_major_faults_per_second",
            "Major page faults per second over the interval.",
            rates.major_faults,
        );
    }
    if let Some(p) = &r.psi {
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
        v.push(psi);
    }
    if let Some(n) = r.oom_kills_since_boot {
        v.push(
            Family::counter(
                "toolkit_mem_oom_kills_total",
                "Processes killed by the OOM killer since boot.",
            )
            .single(n as f64),
        );
    }
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
    v.push(rss);
    v.push(swap);
    if !r.groups.is_empty() {
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
        v.push(g);
        v.push(n);
    }
    if let Some(h) = &r.history {
        v.extend(super::history::findings::leak_families(
            &h.leaks, h.forecast,
        ));
    }
    v
}
