//! Leak detection over a history (pure). Per process (pid and start time, and one program: a pid
//! reused, or an exec, is another series), its anonymous plus swapped memory over time is cut into
//! equal time windows and each window kept by its lowest point: the floor a garbage collector
//! returns to, or the value itself for a steadily growing heap. The floors' trend is a Theil-Sen
//! slope with its 95% confidence bound, so outliers and one jump do not make a trend. A leak
//! suspect must:
//! - grow with confidence (the lower bound of the slope above zero) by at least 16 MiB over the span;
//! - grow in several rises, the largest under half of all growth (one allocation then a plateau is
//!   not a leak, however well a line fits it);
//! - still grow in the last third of its windows (at least a quarter of the overall rate):
//!   otherwise it grew and stopped, which is reported as such, not as a leak now.
//!
//! File-backed memory (page cache, a mapped file that grows) is not counted: only anonymous memory
//! and swap are, RSS standing in only on kernels without RssAnon.

use super::sample::{Proc, Sample};
use super::theilsen;
use serde::Serialize;
use std::collections::BTreeMap;

/// What a trend must show to count as a leak.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Criteria {
    /// Windows (with at least one sample each) needed for a trend.
    pub min_samples: usize,
    /// Windows the span is cut into.
    pub windows: usize,
    /// Windows whose floor rose above every earlier one.
    pub min_rises: usize,
    /// Largest single rise of the floor, as a share of all rises together (strictly below).
    pub max_step: f64,
    /// Growth along the slope over the span, in bytes: below it, noise.
    pub min_growth: f64,
    /// The last third's slope as a share of the whole slope, under which it has stopped growing.
    pub still_growing: f64,
}

impl Default for Criteria {
    fn default() -> Criteria {
        Criteria {
            min_samples: 4,
            windows: 24,
            min_rises: 3,
            max_step: 0.5,
            min_growth: (16u64 << 20) as f64,
            still_growing: 0.25,
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
    /// Growth of the floor of anonymous + swapped memory, bytes per second (Theil-Sen).
    pub rate: f64,
    /// 95% confidence bounds of the rate.
    pub rate_low: f64,
    pub rate_high: f64,
    /// Share of windows whose floor rose above every earlier one, 0 to 1.
    pub rising: f64,
    /// The largest single rise as a share of all rises, 0 to 1.
    pub largest_step: f64,
    /// Samples of the process, and the windows they fell in.
    pub samples: usize,
    pub windows: usize,
    /// Seconds between its first and last sample.
    pub span: f64,
    /// Floor of anonymous + swapped memory in its first and last window.
    pub first: u64,
    pub last: u64,
}

/// A process that grew steadily, then stopped: not a leak now, but worth saying.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grew {
    pub pid: i32,
    pub start: u64,
    pub comm: String,
    /// Growth of the floor from the first window to the last, bytes.
    pub grew: u64,
    /// When it reached 90% of that (Unix seconds), and how long it has been flat since.
    pub until: f64,
    pub flat_for: f64,
    pub first: u64,
    pub last: u64,
}

/// What the history says about growth: leak suspects (fastest first) and processes that grew and
/// stopped (most growth first).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Trends {
    pub leaks: Vec<Leak>,
    pub grew: Vec<Grew>,
}

/// One program's points: (Unix seconds, lowest anonymous + swapped bytes in the sample's interval).
#[derive(Debug, Clone, Default)]
struct Run {
    comm: String,
    points: Vec<(f64, f64)>,
}

/// The series of every process, built one sample at a time (so that a history can be streamed).
#[derive(Debug, Clone, Default)]
pub struct SeriesSet {
    map: BTreeMap<(i32, u64), Vec<Run>>,
}

impl SeriesSet {
    pub fn add(&mut self, t: f64, p: &Proc) {
        let runs = self.map.entry((p.pid, p.start)).or_default();
        // The same process running another program (exec) is another series.
        if runs.last().is_none_or(|r| r.comm != p.comm) {
            runs.push(Run {
                comm: p.comm.clone(),
                points: Vec::new(),
            });
        }
        if let Some(r) = runs.last_mut() {
            r.points.push((t, p.floor_bytes() as f64));
        }
    }

    pub fn add_sample(&mut self, s: &Sample) {
        for p in &s.procs {
            self.add(s.t, p);
        }
    }

    /// Judges every series.
    pub fn judge(&self, c: &Criteria) -> Trends {
        let mut out = Trends::default();
        for (&(pid, start), runs) in &self.map {
            for r in runs {
                match judge(pid, start, &r.comm, &r.points, c) {
                    Some(Verdict::Leak(l)) => out.leaks.push(l),
                    Some(Verdict::Grew(g)) => out.grew.push(g),
                    None => {}
                }
            }
        }
        out.leaks
            .sort_by(|a, b| b.rate.total_cmp(&a.rate).then(a.pid.cmp(&b.pid)));
        out.grew
            .sort_by(|a, b| b.grew.cmp(&a.grew).then(a.pid.cmp(&b.pid)));
        out
    }
}

/// Every process of the history that grows steadily, fastest first.
pub fn leaks(samples: &[Sample], c: &Criteria) -> Vec<Leak> {
    trends(samples, c).leaks
}

pub fn trends(samples: &[Sample], c: &Criteria) -> Trends {
    let mut set = SeriesSet::default();
    for s in samples {
        set.add_sample(s);
    }
    set.judge(c)
}

enum Verdict {
    Leak(Leak),
    Grew(Grew),
}

/// The lowest point of each of `n` equal time windows over the series (empty windows skipped).
fn floors(pts: &[(f64, f64)], n: usize) -> Vec<(f64, f64)> {
    let (Some(first), Some(last)) = (pts.first(), pts.last()) else {
        return Vec::new();
    };
    let span = last.0 - first.0;
    let mut out: Vec<Option<(f64, f64)>> = vec![None; n.max(1)];
    for &(t, v) in pts {
        let i = if span > 0.0 {
            (((t - first.0) / span * n as f64) as usize).min(n - 1)
        } else {
            0
        };
        let slot = &mut out[i];
        if slot.is_none_or(|(_, m)| v < m) {
            *slot = Some((t, v));
        }
    }
    out.into_iter().flatten().collect()
}

fn judge(pid: i32, start: u64, comm: &str, pts: &[(f64, f64)], c: &Criteria) -> Option<Verdict> {
    let f = floors(pts, c.windows);
    if f.len() < c.min_samples.max(2) {
        return None;
    }
    let s = theilsen::slope(&f)?;
    let (first, last) = (f.first()?, f.last()?);
    let span = pts.last()?.0 - pts.first()?.0;
    // Rises of the highest floor so far: a window dipping low (a reading taken mid-restart) is
    // not followed by a "rise" back to where it was.
    let (mut rises, mut total, mut largest) = (0usize, 0.0f64, 0.0f64);
    let mut top = first.1;
    for p in &f[1..] {
        let d = p.1 - top;
        if d > 0.0 {
            rises += 1;
            total += d;
            largest = largest.max(d);
            top = p.1;
        }
    }
    let largest_step = if total > 0.0 { largest / total } else { 1.0 };
    let grows = s.slope > 0.0
        && s.low > 0.0
        && rises >= c.min_rises
        && largest_step < c.max_step
        && s.slope * span >= c.min_growth;
    if !grows {
        return None;
    }
    let tail = &f[f.len() - (f.len() / 3).max(3).min(f.len())..];
    let still = theilsen::slope(tail).is_some_and(|t| t.slope >= c.still_growing * s.slope);
    if still {
        return Some(Verdict::Leak(Leak {
            pid,
            start,
            comm: comm.to_string(),
            rate: s.slope,
            rate_low: s.low,
            rate_high: s.high,
            rising: rises as f64 / (f.len() - 1) as f64,
            largest_step,
            samples: pts.len(),
            windows: f.len(),
            span,
            first: first.1 as u64,
            last: last.1 as u64,
        }));
    }
    let grew = (last.1 - first.1).max(0.0);
    let until = f
        .iter()
        .find(|p| p.1 - first.1 >= 0.9 * grew)
        .map_or(last.0, |p| p.0);
    Some(Verdict::Grew(Grew {
        pid,
        start,
        comm: comm.to_string(),
        grew: grew as u64,
        until,
        flat_for: pts.last()?.0 - until,
        first: first.1 as u64,
        last: last.1 as u64,
    }))
}

/// Seconds until `available` bytes are used up at the leaks' combined rate; `None` without leaks.
pub fn forecast(available: u64, leaks: &[Leak]) -> Option<f64> {
    let rate: f64 = leaks.iter().map(|l| l.rate).sum();
    (rate > 0.0).then(|| available as f64 / rate)
}

#[cfg(test)]
mod tests;
