//! Leak detection over a history (pure): per process, a least-squares line through its anonymous
//! plus swapped memory over time. Only steady growth counts: the line must fit well (R²) *and* the
//! growth must be spread over several rises, none more than half of it, so that one allocation
//! followed by a plateau (which fits a line tolerably when the jump sits near an end) is not called
//! a leak. A rise in every interval is not required: allocators grow the heap in chunks, so a slow
//! leak sampled every minute rises in steps with flat minutes between them.

use super::sample::Sample;
use serde::Serialize;
use std::collections::BTreeMap;

/// What a trend must show to count as a leak.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Criteria {
    /// Samples of the same process (pid and start time) needed for a trend.
    pub min_samples: usize,
    /// Fit quality of the line: 1 is a perfect line.
    pub min_r2: f64,
    /// Intervals in which the memory rose.
    pub min_rises: usize,
    /// Largest single rise, as a share of all rises together.
    pub max_step: f64,
    /// Growth along the fitted line over the samples' span, in bytes: below it, noise.
    pub min_growth: f64,
}

impl Default for Criteria {
    fn default() -> Criteria {
        Criteria {
            min_samples: 4,
            min_r2: 0.9,
            min_rises: 3,
            max_step: 0.5,
            min_growth: (16u64 << 20) as f64,
        }
    }
}

/// A process whose memory grows steadily.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Leak {
    pub pid: i32,
    /// Start time in clock ticks after boot (with the pid, the process's identity).
    pub start: u64,
    pub comm: String,
    /// Growth of anonymous memory (RSS on kernels without RssAnon), bytes per second.
    pub rate: f64,
    pub r2: f64,
    /// Share of intervals in which the memory rose, 0 to 1.
    pub rising: f64,
    /// The largest single rise as a share of all rises, 0 to 1.
    pub largest_step: f64,
    pub samples: usize,
    /// Seconds between its first and last sample.
    pub span: f64,
    /// Anonymous memory at its first and last sample.
    pub first: u64,
    pub last: u64,
}

/// Slope (per second) and R² of the least-squares line through `(t, y)`; `None` for fewer than two
/// distinct times. A flat series has R² 0: it explains no growth.
pub fn fit(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    let t0 = points.first()?.0;
    // Times relative to the first sample: Unix seconds squared lose precision in f64.
    let (st, sy) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), (t, y)| (a + (t - t0), b + y));
    let (mt, my) = (st / n, sy / n);
    let (mut stt, mut sty, mut syy) = (0.0, 0.0, 0.0);
    for (t, y) in points {
        let (dt, dy) = (t - t0 - mt, y - my);
        stt += dt * dt;
        sty += dt * dy;
        syy += dy * dy;
    }
    if stt <= 0.0 || !stt.is_finite() {
        return None;
    }
    let slope = sty / stt;
    let r2 = if syy > 0.0 {
        (sty * sty / (stt * syy)).clamp(0.0, 1.0)
    } else {
        0.0
    };
    Some((slope, r2))
}

/// Every process of the history that grows steadily, fastest first.
pub fn leaks(samples: &[Sample], c: &Criteria) -> Vec<Leak> {
    // (pid, start) -> (comm, points): a reused pid has another start time, so another series.
    type Series<'a> = (&'a str, Vec<(f64, f64)>);
    let mut series: BTreeMap<(i32, u64), Series> = BTreeMap::new();
    for s in samples {
        for p in &s.procs {
            series
                .entry((p.pid, p.start))
                .or_insert_with(|| (&p.comm, Vec::new()))
                .1
                .push((s.t, p.leak_bytes() as f64));
        }
    }
    let mut out: Vec<Leak> = series
        .into_iter()
        .filter_map(|((pid, start), (comm, pts))| judge(pid, start, comm, &pts, c))
        .collect();
    out.sort_by(|a, b| b.rate.total_cmp(&a.rate).then(a.pid.cmp(&b.pid)));
    out
}

fn judge(pid: i32, start: u64, comm: &str, pts: &[(f64, f64)], c: &Criteria) -> Option<Leak> {
    if pts.len() < c.min_samples.max(2) {
        return None;
    }
    let (rate, r2) = fit(pts)?;
    let (first, last) = (pts.first()?, pts.last()?);
    let span = last.0 - first.0;
    let (mut n, mut rises, mut total, mut largest) = (0usize, 0usize, 0.0f64, 0.0f64);
    for w in pts.windows(2) {
        n += 1;
        let d = w[1].1 - w[0].1;
        if d > 0.0 {
            rises += 1;
            total += d;
            largest = largest.max(d);
        }
    }
    let rising = if n == 0 { 0.0 } else { rises as f64 / n as f64 };
    let largest_step = if total > 0.0 { largest / total } else { 1.0 };
    let steady = rate > 0.0 && r2 >= c.min_r2 && rises >= c.min_rises && largest_step <= c.max_step;
    (steady && rate * span >= c.min_growth).then(|| Leak {
        pid,
        start,
        comm: comm.to_string(),
        rate,
        r2,
        rising,
        largest_step,
        samples: pts.len(),
        span,
        first: first.1 as u64,
        last: last.1 as u64,
    })
}

/// Seconds until `available` bytes are used up at the leaks' combined rate; `None` without leaks.
pub fn forecast(available: u64, leaks: &[Leak]) -> Option<f64> {
    let rate: f64 = leaks.iter().map(|l| l.rate).sum();
    (rate > 0.0).then(|| available as f64 / rate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mem::history::sample::{Host, Proc, System};

    const MIB: u64 = 1 << 20;

    fn sample(t: f64, procs: &[(i32, u64, u64)]) -> Sample {
        Sample {
            v: 1,
            t,
            host: Host {
                hostname: "h".into(),
                boot: 1,
                boot_id: None,
            },
            mem: System {
                total: 4096 * MIB,
                used: 0,
                free: 0,
                buffers: 0,
                cache: 0,
                available: 1024 * MIB,
                swap_total: 0,
                swap_used: 0,
            },
            oom_kills: None,
            procs: procs
                .iter()
                .map(|&(pid, start, anon)| Proc {
                    pid,
                    start,
                    comm: format!("p{pid}"),
                    rss: anon,
                    anon: Some(anon),
                    vsize: anon * 2,
                    swap: 0,
                    major_faults: 0,
                })
                .collect(),
        }
    }

    #[test]
    fn a_line_fits_perfectly() {
        let pts: Vec<(f64, f64)> = (0..5).map(|i| (1e9 + i as f64, 10.0 * i as f64)).collect();
        let (slope, r2) = fit(&pts).unwrap();
        assert!((slope - 10.0).abs() < 1e-9 && (r2 - 1.0).abs() < 1e-9);
        assert_eq!(fit(&[(5.0, 1.0), (5.0, 2.0)]), None);
        assert_eq!(fit(&[(1.0, 3.0), (2.0, 3.0)]), Some((0.0, 0.0)));
    }

    #[test]
    fn steady_growth_is_a_leak_with_its_rate_and_a_forecast() {
        let h: Vec<Sample> = (0..10)
            .map(|i| sample(i as f64 * 20.0, &[(7, 100, 100 * MIB + i * 150 * MIB)]))
            .collect();
        let l = leaks(&h, &Criteria::default());
        assert_eq!(l.len(), 1);
        assert!((l[0].rate - 150.0 * MIB as f64 / 20.0).abs() < 1.0);
        let secs = forecast(1024 * MIB, &l).unwrap();
        assert!((secs - 1024.0 / 7.5).abs() < 0.1, "{secs}");
    }

    #[test]
    fn one_jump_then_flat_is_not_a_leak() {
        for jump_at in 1..9 {
            let h: Vec<Sample> = (0..10u64)
                .map(|i| {
                    let anon = if i >= jump_at { 900 * MIB } else { 100 * MIB };
                    sample(i as f64 * 20.0, &[(7, 100, anon)])
                })
                .collect();
            assert!(leaks(&h, &Criteria::default()).is_empty(), "{jump_at}");
        }
    }

    #[test]
    fn growth_in_chunks_with_flat_minutes_between_is_a_leak() {
        // An allocator taking 8 MiB every fifth sample: most intervals are flat.
        let h: Vec<Sample> = (0..60u64)
            .map(|i| sample(i as f64 * 60.0, &[(7, 1, 100 * MIB + (i / 5) * 8 * MIB)]))
            .collect();
        let l = leaks(&h, &Criteria::default());
        assert_eq!(l.len(), 1);
        assert!(l[0].rising < 0.25 && l[0].largest_step < 0.1, "{l:?}");
    }

    #[test]
    fn two_equal_jumps_are_not_steady_growth() {
        let h: Vec<Sample> = (0..9u64)
            .map(|i| sample(i as f64, &[(7, 1, 100 * MIB + (i / 3) * 400 * MIB)]))
            .collect();
        assert!(leaks(&h, &Criteria::default()).is_empty());
    }

    #[test]
    fn a_reused_pid_is_a_new_process_not_growth() {
        // pid 7 runs flat at 100 MiB, exits; a new pid 7 (later start) runs flat at 800 MiB.
        let h: Vec<Sample> = (0..10u64)
            .map(|i| {
                let p = if i < 5 {
                    (7, 100, 100 * MIB)
                } else {
                    (7, 900, 800 * MIB)
                };
                sample(i as f64 * 20.0, &[p])
            })
            .collect();
        assert!(leaks(&h, &Criteria::default()).is_empty());
    }

    #[test]
    fn too_few_samples_or_too_little_growth_is_no_verdict() {
        let grow = |n: u64, step: u64| -> Vec<Sample> {
            (0..n)
                .map(|i| sample(i as f64, &[(7, 1, 100 * MIB + i * step)]))
                .collect()
        };
        assert!(leaks(&grow(3, 100 * MIB), &Criteria::default()).is_empty());
        assert!(leaks(&grow(10, MIB), &Criteria::default()).is_empty());
        assert_eq!(leaks(&grow(4, 100 * MIB), &Criteria::default()).len(), 1);
    }
}
