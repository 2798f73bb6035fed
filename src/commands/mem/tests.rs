//! Unit tests of the pure judgement with plain values: figures as procps computes them, each
//! threshold, consumers and growth.

use super::judge::{consumers, figures, rates, reasons, suspect, AvailableSource};
use super::reason::Code;
use super::thresholds::Thresholds;
use crate::cli::MemVerdictArgs;
use crate::readers::memory::{Meminfo, Psi, Vmstat};
use crate::readers::procmem::ProcMem;
use crate::status::Status;

const MIB: u64 = 1 << 20;

/// `mem verdict`'s arguments as clap defaults them.
pub(crate) fn default_args() -> MemVerdictArgs {
    use clap::{Args, FromArgMatches};
    let cmd = MemVerdictArgs::augment_args(clap::Command::new("verdict").no_binary_name(true));
    let m = cmd.get_matches_from(std::iter::empty::<String>());
    MemVerdictArgs::from_arg_matches(&m).expect("defaults are valid")
}

/// The default thresholds (SPEC 6), as the command line parses them.
fn t() -> Thresholds {
    Thresholds::from_args(&default_args())
}

fn healthy() -> Meminfo {
    Meminfo {
        total: 1000 * MIB,
        free: 100 * MIB,
        available: Some(700 * MIB),
        buffers: 50 * MIB,
        cached: 550 * MIB,
        sreclaimable: 20 * MIB,
        sunreclaim: 10 * MIB,
        slab: 30 * MIB,
        shmem: 5 * MIB,
        swap_total: 500 * MIB,
        swap_free: 500 * MIB,
        committed_as: Some(400 * MIB),
        commit_limit: Some(1000 * MIB),
    }
}

#[test]
fn figures_follow_procps_4() {
    let f = figures(&healthy());
    assert_eq!(f.used, 300 * MIB);
    assert_eq!(f.cache, 570 * MIB);
    assert_eq!(f.application, (900 - 50 - 570) * MIB);
    assert!((f.application_percent - 280.0 / 9.0).abs() < 1e-9);
    assert_eq!(f.swap_used_percent, Some(0.0));
    assert_eq!(f.available_source, AvailableSource::MemAvailable);
    assert_eq!(
        serde_json::to_value(AvailableSource::AboveMemTotal).unwrap(),
        "MemFree (MemAvailable above MemTotal)"
    );
}

#[test]
fn available_falls_back_to_free_like_procps() {
    let mut m = healthy();
    m.available = None;
    let f = figures(&m);
    assert_eq!((f.available, f.used), (100 * MIB, 900 * MIB));
    // A container showing the host's MemAvailable.
    m.available = Some(5000 * MIB);
    let f = figures(&m);
    assert_eq!(f.available, 100 * MIB);
    assert_eq!(f.available_source, AvailableSource::AboveMemTotal);
    // Buffers and cache larger than what is not free: application falls back to non-free.
    m.cached = 5000 * MIB;
    assert_eq!(figures(&m).application, 900 * MIB);
}

#[test]
fn healthy_cache_is_ok() {
    assert!(reasons(&figures(&healthy()), None, None, &t()).is_empty());
}

#[test]
fn each_threshold_raises_its_reason() {
    let mut m = healthy();
    m.available = Some(150 * MIB);
    let r = reasons(&figures(&m), None, None, &t());
    assert_eq!(
        (r[0].code(), r[0].status()),
        (Code::Available, Status::Warning)
    );
    assert!(
        r[0].text().contains("15.0% of RAM") && r[0].text().contains("warning below 20%"),
        "{}",
        r[0].text()
    );
    m.available = Some(50 * MIB);
    m.swap_free = 50 * MIB;
    m.sunreclaim = 200 * MIB;
    m.committed_as = Some(1200 * MIB);
    let psi = Psi {
        some_avg10: 70.0,
        some_avg60: 50.0,
        full_avg10: Some(45.0),
        full_avg60: Some(30.0),
    };
    let before = Vmstat {
        pswpout: Some(0),
        oom_kill: Some(1),
        ..Vmstat::default()
    };
    let after = Vmstat {
        pswpout: Some(220),
        oom_kill: Some(2),
        ..Vmstat::default()
    };
    let rt = rates(&before, &after, 20.0);
    let r = reasons(&figures(&m), Some(&rt), Some(&psi), &t());
    let codes: Vec<(Code, Status)> = r.iter().map(|r| (r.code(), r.status())).collect();
    assert_eq!(
        codes,
        vec![
            (Code::Available, Status::Critical),
            (Code::SwapOut, Status::Critical),
            (Code::PsiFull, Status::Critical),
            (Code::SwapUsed, Status::Warning),
            (Code::SlabUnreclaimable, Status::Warning),
            (Code::Commit, Status::Warning),
            (Code::OomKill, Status::Warning),
        ]
    );
    assert_eq!(r[1].finding.figure, Some(11.0));
    assert_eq!(r[1].threshold_text(), "10");
}

#[test]
fn any_swap_out_is_a_warning_and_no_swap_is_fine() {
    let before = Vmstat {
        pswpout: Some(100),
        ..Vmstat::default()
    };
    let after = Vmstat {
        pswpout: Some(105),
        ..Vmstat::default()
    };
    let rt = rates(&before, &after, 1.0);
    let r = reasons(&figures(&healthy()), Some(&rt), None, &t());
    assert_eq!(
        (r[0].code(), r[0].status()),
        (Code::SwapOut, Status::Warning)
    );
    let mut m = healthy();
    m.swap_total = 0;
    m.swap_free = 0;
    assert!(reasons(&figures(&m), Some(&rates(&after, &after, 1.0)), None, &t()).is_empty());
    assert_eq!(figures(&m).swap_used_percent, None);
}

#[test]
fn counters_going_backwards_are_no_activity() {
    let a = Vmstat {
        pswpin: Some(10),
        pswpout: Some(10),
        ..Vmstat::default()
    };
    let b = Vmstat {
        pswpin: Some(5),
        pswpout: None,
        ..Vmstat::default()
    };
    let r = rates(&a, &b, 2.0);
    assert_eq!((r.swap_in, r.swap_out), (Some(0.0), None));
}

fn p(pid: i32, rss_mib: u64) -> ProcMem {
    ProcMem {
        pid,
        starttime: 7,
        comm: format!("p{pid}"),
        rss: rss_mib * MIB,
        anon: None,
        vsize: 0,
        peak: 0,
        swap: 0,
        major_faults: 0,
        uid: None,
        cgroup: None,
    }
}

#[test]
fn consumers_top_n_plus_every_big_one_with_growth() {
    let now = vec![p(1, 300), p(2, 200), p(3, 150), p(4, 5)];
    let mut restarted = p(2, 100);
    restarted.starttime = 1;
    let before = vec![p(1, 250), restarted];
    let c = consumers(&now, Some(&before), 1000 * MIB, 1);
    let pids: Vec<i32> = c.iter().map(|c| c.proc.pid).collect();
    assert_eq!(pids, vec![1, 2, 3]);
    assert_eq!(c[0].growth, Some(50 * MIB as i64));
    // Same pid, another start time: another process, no growth.
    assert_eq!(c[1].growth, None);
    assert_eq!(c[2].ram_percent, 15.0);
}

#[test]
fn suspect_is_the_big_one_that_grows_else_the_largest() {
    let now = vec![p(1, 400), p(2, 200), p(3, 150), p(4, 90)];
    let before = vec![p(1, 400), p(2, 150), p(3, 140), p(4, 10)];
    let c = consumers(&now, Some(&before), 1000 * MIB, 10);
    // pid 4 grew most but holds under 10% of RAM; pid 2 grew most among the big ones.
    assert_eq!(suspect(&c).unwrap().proc.pid, 2);
    let c = consumers(&now, None, 1000 * MIB, 10);
    assert_eq!(suspect(&c).unwrap().proc.pid, 1);
    let c = consumers(&now, None, 10_000 * MIB, 10);
    assert!(suspect(&c).is_none());
}

/// What `read` would hand over: one big steady process (pid 1, 60% of RAM) and the history's
/// leaker (pid 2, 5% of RAM, below the top 1), with available memory critical.
fn inputs_with_a_small_leaker() -> super::report::Inputs {
    use super::history::findings::Findings;
    let mut m = healthy();
    m.available = Some(50 * MIB);
    let procs = vec![p(1, 600), p(2, 50), p(3, 20)];
    super::report::Inputs {
        figures: figures(&m),
        rates: None,
        rates_note: None,
        psi: None,
        psi_note: None,
        oom_kills_since_boot: None,
        before: None,
        slab: Ok(Vec::new()),
        skips: Default::default(),
        history: Some(Findings {
            path: "h".into(),
            samples: 10,
            readings: 10,
            span: 100.0,
            skipped: Default::default(),
            leaks: Vec::new(),
            grew: Vec::new(),
            forecast: None,
            oom_kills_since_last_sample: None,
            note: None,
            leaker: Some(procs[1].clone()),
        }),
        procs,
        history_reasons: Vec::new(),
        user_names: Default::default(),
    }
}

#[test]
fn the_headline_and_the_fence_name_the_same_suspect() {
    // Before the suspect was chosen once, the headline named the largest process of the top list
    // (pid 1) while the fence went to the history's leaker (pid 2), which is not in that list.
    let r = super::report::assemble(inputs_with_a_small_leaker(), &t(), 1);
    assert_eq!(r.status, Status::Critical);
    let fenced = r.fence_candidate().map(|p| p.pid);
    assert_eq!(fenced, Some(2));
    assert!(
        r.headline.contains("p2 (pid 2) holds 5% of RAM"),
        "{}",
        r.headline
    );
    assert!(!r.headline.contains("pid 1"), "{}", r.headline);
}

#[test]
fn every_figure_is_the_json_field_of_its_name() {
    use super::figures::{NAGIOS, PROMETHEUS};
    let mut i = inputs_with_a_small_leaker();
    i.rates = Some(rates(
        &Vmstat {
            pswpin: Some(1),
            pswpout: Some(2),
            pgscan: Some(3),
            pgmajfault: Some(4),
            oom_kill: Some(0),
        },
        &Vmstat {
            pswpin: Some(11),
            pswpout: Some(32),
            pgscan: Some(53),
            pgmajfault: Some(74),
            oom_kill: Some(0),
        },
        10.0,
    ));
    i.psi = Some(Psi {
        some_avg10: 12.5,
        some_avg60: 3.0,
        full_avg10: Some(7.25),
        full_avg60: Some(1.0),
    });
    if let Some(h) = i.history.as_mut() {
        h.forecast = Some(3600.0);
    }
    let r = super::report::assemble(i, &t(), 1);
    let j = serde_json::to_value(&r).unwrap();
    for f in PROMETHEUS.iter().chain(NAGIOS) {
        let want = (f.value)(&r).unwrap_or_else(|| panic!("{} has a value here", f.json));
        let found: Vec<f64> = ["memory", "rates", "psi", "history"]
            .iter()
            .filter_map(|s| j[s][f.json].as_f64())
            .collect();
        assert_eq!(found, vec![want], "{}", f.json);
        if let Some(m) = f.metric_name() {
            assert!(m.starts_with("toolkit_mem_"), "{m}");
        }
    }
}

#[test]
fn a_figure_without_a_critical_range_is_never_critical() {
    let mut m = healthy();
    m.swap_free = 0;
    m.sunreclaim = 900 * MIB;
    let r = reasons(&figures(&m), None, None, &t());
    let codes: Vec<(Code, Status)> = r.iter().map(|r| (r.code(), r.status())).collect();
    assert_eq!(
        codes,
        vec![
            (Code::SwapUsed, Status::Warning),
            (Code::SlabUnreclaimable, Status::Warning)
        ]
    );
    assert_eq!(r[0].finding.figure, Some(100.0));
    assert_eq!(r[0].threshold_text(), "80");
    assert!(r[0].text().contains("warning above 80%"), "{}", r[0].text());
    assert_eq!(r[0].short, "swap 100% used");
}

#[test]
fn blame_prefers_the_history_leaker_and_matches_it_by_start_time() {
    use super::judge::blame;
    let now = vec![p(1, 400), p(2, 200)];
    let before = vec![p(1, 300), p(2, 200)];
    let top = consumers(&now, Some(&before), 1000 * MIB, 10);
    // No history: one interval's evidence, the big one that grew.
    assert_eq!(blame(None, &top, 1000 * MIB).unwrap().proc.pid, 1);
    // The history's leaker wins, and keeps its top-list entry (growth included).
    let leaker = p(2, 200);
    let b = blame(Some(&leaker), &top, 1000 * MIB).unwrap();
    assert_eq!((b.proc.pid, b.ram_percent, b.growth), (2, 20.0, Some(0)));
    // A leaker outside the list is still the one blamed, with its share of RAM.
    let small = p(9, 30);
    let b = blame(Some(&small), &top, 1000 * MIB).unwrap();
    assert_eq!((b.proc.pid, b.ram_percent, b.growth), (9, 3.0, None));
    // The same pid started at another time is another process: not the list's entry (no growth of
    // its own, its own size).
    let mut reused = p(1, 50);
    reused.starttime = 99;
    let b = blame(Some(&reused), &top, 1000 * MIB).unwrap();
    assert_eq!(
        (b.proc.pid, b.proc.starttime, b.ram_percent, b.growth),
        (1, 99, 5.0, None)
    );
}

#[test]
fn growth_saturates_on_absurd_kernel_figures() {
    let mut big = p(1, 0);
    big.rss = u64::MAX;
    let c = consumers(&[big], Some(&[p(1, 10)]), 1000 * MIB, 1);
    assert_eq!(c[0].growth, Some(i64::MAX));
}
