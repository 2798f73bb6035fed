//! Round-robin consolidation of the history, as RRDtool does it: full resolution for the last hour,
//! then one sample per minute up to six hours back, then one per ten minutes. A consolidated
//! sample keeps the mean of every figure, the minimum and maximum of each system figure, and per
//! process (the largest `AGG_PROCS` by mean resident size) the mean, minimum and maximum of its
//! resident size and the minimum and maximum of its anonymous + swapped memory, whose minimum is
//! the floor the leak trend is judged on. A month of samples so fits in the 16 MiB cap.
//!
//! Streaming: the file is read line by line and written to a temporary file beside it, so memory
//! stays bounded by one interval's processes whatever the size of the history. Lines are merged
//! only with lines of the same run of the machine; malformed lines are dropped.

use super::sample::{AggProc, Host, Proc, Sample, System, VERSION};
use std::collections::HashMap;
use std::io::{self, BufRead, Write};

/// Samples younger than this (seconds before the newest) are kept as they are.
pub const RAW_SECS: f64 = 3600.0;
/// Up to this age, one sample per minute; older, one per ten minutes.
pub const MINUTE_SECS: f64 = 6.0 * 3600.0;
/// Processes kept per consolidated sample.
pub const AGG_PROCS: usize = 12;

fn resolution(age: f64) -> Option<f64> {
    if age <= RAW_SECS {
        None
    } else if age <= MINUTE_SECS {
        Some(60.0)
    } else {
        Some(600.0)
    }
}

fn arr(s: &System) -> [u64; 8] {
    [
        s.total,
        s.used,
        s.free,
        s.buffers,
        s.cache,
        s.available,
        s.swap_total,
        s.swap_used,
    ]
}

fn system(a: [u64; 8]) -> System {
    System {
        total: a[0],
        used: a[1],
        free: a[2],
        buffers: a[3],
        cache: a[4],
        available: a[5],
        swap_total: a[6],
        swap_used: a[7],
    }
}

#[derive(Debug, Clone)]
struct ProcAcc {
    w: f64,
    rss: f64,
    rss_lo: u64,
    rss_hi: u64,
    anon: Option<f64>,
    vsize: f64,
    swap: f64,
    major_faults: u64,
    floor: u64,
    peak: u64,
}

impl ProcAcc {
    fn new() -> ProcAcc {
        ProcAcc {
            w: 0.0,
            rss: 0.0,
            rss_lo: u64::MAX,
            rss_hi: 0,
            anon: None,
            vsize: 0.0,
            swap: 0.0,
            major_faults: 0,
            floor: u64::MAX,
            peak: 0,
        }
    }

    fn add(&mut self, w: f64, a: &AggProc) {
        self.w += w;
        self.rss += a.3 as f64 * w;
        self.rss_lo = self.rss_lo.min(a.4);
        self.rss_hi = self.rss_hi.max(a.5);
        if let Some(anon) = a.6 {
            *self.anon.get_or_insert(0.0) += anon as f64 * w;
        }
        self.vsize += a.7 as f64 * w;
        self.swap += a.8 as f64 * w;
        self.major_faults = a.9;
        self.floor = self.floor.min(a.10);
        self.peak = self.peak.max(a.11);
    }
}

/// A raw process as a consolidated one of one sample.
fn agg(p: &Proc) -> AggProc {
    let leak = p.leak_bytes();
    AggProc(
        p.pid,
        p.start,
        p.comm.clone(),
        p.rss,
        p.rss,
        p.rss,
        p.anon,
        p.vsize,
        p.swap,
        p.major_faults,
        p.floor.unwrap_or(leak),
        leak,
    )
}

struct Bucket {
    host: Host,
    index: i64,
    res: f64,
    n: u64,
    t: f64,
    mem: [f64; 8],
    lo: [u64; 8],
    hi: [u64; 8],
    oom_kills: Option<u64>,
    procs: HashMap<(i32, u64, String), ProcAcc>,
}

impl Bucket {
    fn new(host: Host, index: i64, res: f64) -> Bucket {
        Bucket {
            host,
            index,
            res,
            n: 0,
            t: 0.0,
            mem: [0.0; 8],
            lo: [u64::MAX; 8],
            hi: [0; 8],
            oom_kills: None,
            procs: HashMap::new(),
        }
    }

    fn add(&mut self, s: &Sample) {
        let n = u64::from(s.n.unwrap_or(1).max(1));
        let w = n as f64;
        self.n += n;
        self.t += s.t * w;
        let mean = arr(&s.mem);
        let lo = arr(s.mem_lo.as_ref().unwrap_or(&s.mem));
        let hi = arr(s.mem_hi.as_ref().unwrap_or(&s.mem));
        for i in 0..8 {
            self.mem[i] += mean[i] as f64 * w;
            self.lo[i] = self.lo[i].min(lo[i]);
            self.hi[i] = self.hi[i].max(hi[i]);
        }
        if s.oom_kills.is_some() {
            self.oom_kills = s.oom_kills;
        }
        let raw = s.procs.iter().map(agg);
        for a in raw.chain(s.p.iter().cloned()) {
            self.procs
                .entry((a.0, a.1, a.2.clone()))
                .or_insert_with(ProcAcc::new)
                .add(w, &a);
        }
    }

    fn sample(self) -> Sample {
        let w = self.n.max(1) as f64;
        let mut mem = [0u64; 8];
        for (m, s) in mem.iter_mut().zip(self.mem) {
            *m = (s / w).round() as u64;
        }
        let mut procs: Vec<AggProc> = self
            .procs
            .into_iter()
            .map(|((pid, start, comm), a)| {
                AggProc(
                    pid,
                    start,
                    comm,
                    (a.rss / a.w).round() as u64,
                    a.rss_lo,
                    a.rss_hi,
                    a.anon.map(|x| (x / a.w).round() as u64),
                    (a.vsize / a.w).round() as u64,
                    (a.swap / a.w).round() as u64,
                    a.major_faults,
                    a.floor,
                    a.peak,
                )
            })
            .collect();
        procs.sort_by(|a, b| b.3.cmp(&a.3).then(a.0.cmp(&b.0)));
        procs.truncate(AGG_PROCS);
        Sample {
            v: VERSION,
            t: self.t / w,
            host: self.host,
            mem: system(mem),
            oom_kills: self.oom_kills,
            procs: Vec::new(),
            n: Some(self.n.min(u64::from(u32::MAX)) as u32),
            dt: Some(self.res),
            mem_lo: Some(system(self.lo)),
            mem_hi: Some(system(self.hi)),
            p: procs,
        }
    }
}

/// What a rewrite did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub lines_in: usize,
    pub lines_out: usize,
    pub dropped: usize,
}

fn flush(bucket: &mut Option<Bucket>, out: &mut dyn Write, stats: &mut Stats) -> io::Result<()> {
    if let Some(b) = bucket.take() {
        let mut line = serde_json::to_vec(&b.sample()).map_err(io::Error::other)?;
        line.push(b'\n');
        out.write_all(&line)?;
        stats.lines_out += 1;
    }
    Ok(())
}

/// Copies a history from `input` to `out`, consolidating the samples older than an hour before
/// `newest` (Unix seconds).
pub fn rewrite(input: &mut dyn BufRead, out: &mut dyn Write, newest: f64) -> io::Result<Stats> {
    let mut stats = Stats::default();
    let mut bucket: Option<Bucket> = None;
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        stats.lines_in += 1;
        let s = match serde_json::from_slice::<Sample>(&line) {
            Ok(s) if s.v == VERSION && s.t.is_finite() => s,
            _ => {
                stats.dropped += 1;
                continue;
            }
        };
        let res = resolution(newest - s.t);
        let Some(res) = res.filter(|r| s.dt.is_none_or(|dt| dt < *r)) else {
            // Recent enough, or already as coarse: kept as it is.
            flush(&mut bucket, out, &mut stats)?;
            if !line.ends_with(b"\n") {
                line.push(b'\n');
            }
            out.write_all(&line)?;
            stats.lines_out += 1;
            continue;
        };
        let index = (s.t / res).floor() as i64;
        let same = bucket
            .as_ref()
            .is_some_and(|b| b.index == index && b.res == res && b.host.same_run(&s.host));
        if !same {
            flush(&mut bucket, out, &mut stats)?;
            bucket = Some(Bucket::new(s.host.clone(), index, res));
        }
        if let Some(b) = bucket.as_mut() {
            b.add(&s);
        }
    }
    flush(&mut bucket, out, &mut stats)?;
    Ok(stats)
}

#[cfg(test)]
mod tests;
