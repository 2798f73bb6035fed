//! Consolidation keeps counts, means, extremes and floors, so the trend of a day is the same
//! before and after; and it is idempotent.

use super::*;
use crate::commands::mem::history::scan::summarize_reader;
use crate::commands::mem::history::trend::Criteria;
use std::path::Path;

const MIB: u64 = 1 << 20;

fn sample(t: f64, boot: u64, procs: Vec<Proc>) -> Sample {
    Sample {
        v: VERSION,
        t,
        host: Host {
            hostname: "h".into(),
            boot,
            boot_id: None,
        },
        mem: System {
            total: 4096 * MIB,
            used: 2048 * MIB + (t as u64 % 100) * MIB,
            free: 100 * MIB,
            buffers: 0,
            cache: 0,
            available: 1024 * MIB,
            swap_total: 0,
            swap_used: 0,
        },
        oom_kills: Some(0),
        procs,
        n: None,
        dt: None,
        mem_lo: None,
        mem_hi: None,
        p: Vec::new(),
    }
}

fn proc(pid: i32, comm: &str, anon: u64) -> Proc {
    Proc {
        pid,
        start: 10,
        comm: comm.into(),
        rss: anon + MIB,
        anon: Some(anon),
        vsize: anon * 2,
        swap: 0,
        major_faults: 0,
        floor: None,
    }
}

/// A day of 10 s samples: `java` a GC sawtooth whose floor rises 4 MiB every 2 minutes, `db`
/// a sawtooth with a flat floor.
fn day() -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..8640u64 {
        let saw = (i % 12) * 16 * MIB;
        let s = sample(
            1.7e9 + i as f64 * 10.0,
            1,
            vec![
                proc(7, "java", 300 * MIB + (i / 12) * 4 * MIB + saw),
                proc(8, "db", 500 * MIB + saw),
            ],
        );
        out.extend(serde_json::to_vec(&s).unwrap());
        out.push(b'\n');
    }
    out
}

#[test]
fn a_day_keeps_its_counts_extremes_and_trend() {
    let raw = day();
    let newest = 1.7e9 + 8639.0 * 10.0;
    let mut out = Vec::new();
    let stats = rewrite(&mut raw.as_slice(), &mut out, newest).unwrap();
    assert_eq!(stats.lines_in, 8640);
    // 360 raw for the last hour, 300 per-minute for the five before, 108 per-10-minute before.
    assert!((765..=772).contains(&stats.lines_out), "{stats:?}");
    assert!(out.len() * 4 < raw.len(), "{} of {}", out.len(), raw.len());
    let lines: Vec<Sample> = out
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    let n: u64 = lines.iter().map(|s| u64::from(s.n.unwrap_or(1))).sum();
    assert_eq!(n, 8640);
    let first = &lines[0];
    assert_eq!(first.dt, Some(600.0));
    let (lo, hi) = (first.mem_lo.unwrap(), first.mem_hi.unwrap());
    assert!(lo.used < first.mem.used && first.mem.used < hi.used);
    // db's floor is its flat 500 MiB, its peak 676 MiB, in every ten-minute line (five of its
    // two-minute cycles each; a minute holds half a cycle).
    let ten_minutes: Vec<&Sample> = lines.iter().filter(|s| s.dt == Some(600.0)).collect();
    assert!(ten_minutes.len() >= 100, "{}", ten_minutes.len());
    for s in ten_minutes {
        let db = s.p.iter().find(|p| p.2 == "db").unwrap();
        assert_eq!((db.10, db.11), (500 * MIB, 676 * MIB), "at {}", s.t);
    }
    // The same verdict before and after: java leaks at its floor's rate, db does not.
    let judge = |bytes: &[u8]| {
        let mut r = bytes;
        summarize_reader(Path::new("h"), &mut r)
            .unwrap()
            .run
            .series
            .judge(&Criteria::default())
    };
    let (before, after) = (judge(&raw), judge(&out));
    assert_eq!(before.leaks.len(), 1);
    assert_eq!(after.leaks.len(), 1);
    assert_eq!(after.leaks[0].comm, "java");
    let rate = 4.0 * MIB as f64 / 120.0;
    for l in [&before.leaks[0], &after.leaks[0]] {
        assert!((l.rate - rate).abs() < rate * 0.1, "{l:?}");
    }
}

#[test]
fn rewriting_again_changes_nothing_and_runs_are_not_mixed() {
    let raw = day();
    let newest = 1.7e9 + 8639.0 * 10.0;
    let mut once = Vec::new();
    rewrite(&mut raw.as_slice(), &mut once, newest).unwrap();
    let mut twice = Vec::new();
    rewrite(&mut once.as_slice(), &mut twice, newest).unwrap();
    assert_eq!(once, twice);
    // Two boots within one ten-minute bucket stay two lines; garbage is dropped.
    let mut mixed = Vec::new();
    for (t, boot) in [(0.0, 1), (10.0, 1), (20.0, 5000), (30.0, 5000)] {
        mixed.extend(serde_json::to_vec(&sample(1.7e9 + t, boot, vec![])).unwrap());
        mixed.push(b'\n');
    }
    mixed.extend(b"garbage\n");
    let mut out = Vec::new();
    let stats = rewrite(&mut mixed.as_slice(), &mut out, 1.8e9).unwrap();
    assert_eq!((stats.lines_out, stats.dropped), (2, 1));
}
