//! The leak table of issue 14, each behaviour a series and its verdict.

use super::*;
use crate::commands::mem::history::sample::{Host, Proc, System};

const MIB: f64 = 1048576.0;

/// One process `(pid, start, comm, anon, rss)` per tick.
fn history(
    n: usize,
    every: f64,
    procs: impl Fn(usize) -> Vec<(i32, u64, &'static str, f64, f64)>,
) -> Vec<Sample> {
    (0..n)
        .map(|i| Sample {
            v: 1,
            t: 1.7e9 + i as f64 * every,
            host: Host {
                hostname: "h".into(),
                boot: 1,
                boot_id: None,
            },
            mem: System {
                total: 4096 << 20,
                used: 0,
                free: 0,
                buffers: 0,
                cache: 0,
                available: 1024 << 20,
                swap_total: 0,
                swap_used: 0,
            },
            oom_kills: None,
            n: None,
            dt: None,
            mem_lo: None,
            mem_hi: None,
            p: Vec::new(),
            procs: procs(i)
                .into_iter()
                .map(|(pid, start, comm, anon, rss)| Proc {
                    pid,
                    start,
                    comm: comm.into(),
                    rss: rss as u64,
                    anon: Some(anon as u64),
                    vsize: rss as u64 * 2,
                    swap: 0,
                    major_faults: 0,
                    floor: None,
                })
                .collect(),
        })
        .collect()
}

fn one(n: usize, every: f64, anon: impl Fn(usize) -> f64) -> Vec<Sample> {
    history(n, every, |i| {
        vec![(7, 100, "app", anon(i), anon(i) + 10.0 * MIB)]
    })
}

/// Deterministic noise in [-1, 1].
fn noise(i: usize) -> f64 {
    ((i * 7919) % 13) as f64 / 6.0 - 1.0
}

#[test]
fn steady_linear_growth_is_a_leak_with_rate_bounds_and_forecast() {
    // 1 MiB every 10 s for an hour, with +-2 MiB of noise.
    let h = one(360, 10.0, |i| {
        300.0 * MIB + i as f64 * MIB + 2.0 * MIB * noise(i)
    });
    let t = trends(&h, &Criteria::default());
    assert_eq!(t.leaks.len(), 1, "{t:?}");
    let l = &t.leaks[0];
    let rate = MIB / 10.0;
    assert!((l.rate - rate).abs() < rate * 0.05, "{l:?}");
    assert!(l.rate_low > rate * 0.9 && l.rate_high < rate * 1.1, "{l:?}");
    let secs = forecast(1024 << 20, &t.leaks).unwrap();
    assert!((secs - 10240.0).abs() < 600.0, "{secs}");
}

#[test]
fn sawtooth_with_rising_floor_is_a_leak_at_the_floors_rate() {
    // A GC every 2 minutes: climbs 200 MiB, drops back to a floor that rises 4 MiB a cycle.
    let h = one(360, 10.0, |i| {
        let cycle = (i / 12) as f64;
        300.0 * MIB + cycle * 4.0 * MIB + (i % 12) as f64 * (200.0 / 12.0) * MIB
    });
    let t = trends(&h, &Criteria::default());
    assert_eq!(t.leaks.len(), 1, "{t:?}");
    let floor_rate = 4.0 * MIB / 120.0;
    assert!(
        (t.leaks[0].rate - floor_rate).abs() < floor_rate * 0.2,
        "{:?}",
        t.leaks[0]
    );
}

#[test]
fn sawtooth_with_flat_floor_is_not_a_leak() {
    let h = one(360, 10.0, |i| {
        300.0 * MIB + (i % 12) as f64 * (200.0 / 12.0) * MIB
    });
    assert_eq!(trends(&h, &Criteria::default()), Trends::default());
    // Nor when the period does not divide the windows (the floor is missed in some of them).
    let h = one(360, 10.0, |i| 300.0 * MIB + (i % 17) as f64 * 12.0 * MIB);
    assert_eq!(trends(&h, &Criteria::default()), Trends::default());
}

#[test]
fn one_large_allocation_then_flat_is_not_a_leak_wherever_it_falls() {
    for jump_at in [1, 20, 90, 180, 270, 340, 358] {
        let h = one(360, 10.0, |i| {
            (if i >= jump_at { 1300.0 } else { 300.0 }) * MIB + MIB * noise(i)
        });
        assert_eq!(
            trends(&h, &Criteria::default()),
            Trends::default(),
            "{jump_at}"
        );
    }
    // Two equal jumps are not steady growth either.
    let h = one(9, 1.0, |i| 100.0 * MIB + (i / 3) as f64 * 400.0 * MIB);
    assert!(leaks(&h, &Criteria::default()).is_empty());
}

#[test]
fn growth_that_plateaus_for_the_last_third_grew_but_is_not_a_leak_now() {
    let h = one(360, 10.0, |i| {
        300.0 * MIB + (i.min(240) as f64) * 2.0 * MIB + MIB * noise(i)
    });
    let t = trends(&h, &Criteria::default());
    assert!(t.leaks.is_empty(), "{t:?}");
    assert_eq!(t.grew.len(), 1);
    let g = &t.grew[0];
    assert!((g.grew as f64 - 480.0 * MIB).abs() < 10.0 * MIB, "{g:?}");
    // Flat for the last third (about 20 minutes), reached 90% of it around sample 216.
    assert!((1000.0..1500.0).contains(&g.flat_for), "{g:?}");
}

#[test]
fn file_backed_growth_with_flat_anonymous_memory_is_not_a_leak() {
    // RSS grows 2 GiB (a mapped log file, page cache) while anonymous memory stays flat.
    let h = history(360, 10.0, |i| {
        vec![(
            7,
            100,
            "logd",
            200.0 * MIB + MIB * noise(i),
            300.0 * MIB + i as f64 * 6.0 * MIB,
        )]
    });
    assert_eq!(trends(&h, &Criteria::default()), Trends::default());
}

#[test]
fn a_reused_pid_is_two_processes_never_one_trend() {
    // pid 7 grows from 100 to 280 MiB and exits; pid 7 again (another program, later start)
    // runs flat at 2 GiB. One trend over both would be a huge leak.
    let h = history(360, 10.0, |i| {
        if i < 180 {
            vec![(7, 100, "php", 100.0 * MIB + i as f64 * MIB, 0.0)]
        } else {
            vec![(7, 90_000, "java", 2048.0 * MIB + MIB * noise(i), 0.0)]
        }
    });
    let t = trends(&h, &Criteria::default());
    assert_eq!(t.leaks.len(), 1, "{t:?}");
    assert_eq!((t.leaks[0].start, t.leaks[0].comm.as_str()), (100, "php"));
    assert!(t.leaks[0].last < 300 << 20);
    // The same process exec'ing another program is another series too.
    let h = history(40, 10.0, |i| {
        let comm = if i < 20 { "sh" } else { "java" };
        vec![(
            7,
            100,
            comm,
            if i < 20 { 1.0 * MIB } else { 900.0 * MIB },
            0.0,
        )]
    });
    assert_eq!(trends(&h, &Criteria::default()), Trends::default());
}

#[test]
fn single_spikes_do_not_make_or_break_a_trend() {
    // Flat with two huge one-sample spikes: no leak.
    let h = one(360, 10.0, |i| {
        (if i == 100 || i == 300 { 3000.0 } else { 300.0 }) * MIB + MIB * noise(i)
    });
    assert_eq!(trends(&h, &Criteria::default()), Trends::default());
    // Steady growth with a dip to zero in one sample: still a leak at its rate.
    let h = one(360, 10.0, |i| {
        if i == 200 {
            0.0
        } else {
            300.0 * MIB + i as f64 * MIB
        }
    });
    let l = leaks(&h, &Criteria::default());
    assert_eq!(l.len(), 1);
    assert!((l[0].rate - MIB / 10.0).abs() < MIB / 100.0, "{l:?}");
}

#[test]
fn growth_in_chunks_with_flat_minutes_between_is_a_leak() {
    // An allocator taking 8 MiB every fifth sample: most intervals are flat.
    let h = one(60, 60.0, |i| 100.0 * MIB + (i / 5) as f64 * 8.0 * MIB);
    let l = leaks(&h, &Criteria::default());
    assert_eq!(l.len(), 1, "{l:?}");
    assert!(l[0].largest_step < 0.2, "{l:?}");
}

#[test]
fn too_few_samples_or_too_little_growth_is_no_verdict() {
    let grow = |n: usize, step: f64| one(n, 1.0, move |i| 100.0 * MIB + i as f64 * step);
    assert!(leaks(&grow(3, 100.0 * MIB), &Criteria::default()).is_empty());
    assert!(leaks(&grow(10, MIB), &Criteria::default()).is_empty());
    assert_eq!(leaks(&grow(4, 100.0 * MIB), &Criteria::default()).len(), 1);
}
