//! Pure judgement: what was read (meminfo, two vmstat readings, PSI, processes) becomes the figures
//! as `free` computes them, the reasons (each a figure against its threshold) and the consumers.
//! No I/O here.

use super::reason::{Code, Reason};
use super::thresholds::{self, Thresholds};
use crate::cli::MemThresholds;
use crate::finding::Finding;
use crate::readers::memory::{Meminfo, Psi, Vmstat};
use crate::readers::procmem::ProcMem;
use crate::render::nagios::Range;
use crate::status::Status;
use crate::units::human_size;
use serde::Serialize;

/// A process above this share of RAM is always listed (and is the one to fence in).
pub const BIG_PCT: f64 = 10.0;

/// The figures of `free` (procps 4) and the rest of the system picture, in bytes and percent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub total: u64,
    /// total - available, as `free` 4.x prints it.
    pub used: u64,
    pub free: u64,
    pub shared: u64,
    pub buffers: u64,
    /// Cached + SReclaimable.
    pub cache: u64,
    pub available: u64,
    pub available_source: AvailableSource,
    pub available_percent: f64,
    /// total - free - buffers - cache: what programs hold (the classic "used -/+ buffers/cache").
    pub application: u64,
    /// application as a share of all non-free memory (total - free); above 75%: leak or too little RAM.
    pub application_percent: f64,
    pub swap_total: u64,
    pub swap_used: u64,
    pub swap_used_percent: Option<f64>,
    pub committed: Option<u64>,
    pub commit_limit: Option<u64>,
    pub commit_percent: Option<f64>,
    pub slab: u64,
    pub slab_unreclaimable: u64,
    pub unreclaimable_percent: f64,
}

/// Where `available` came from: `MemAvailable`, or `MemFree` when the kernel has no MemAvailable
/// or reports one above MemTotal (a container's view of the host), as procps falls back. The JSON
/// and the text show the sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AvailableSource {
    MemAvailable,
    #[serde(rename = "MemFree (no MemAvailable)")]
    NoMemAvailable,
    #[serde(rename = "MemFree (MemAvailable above MemTotal)")]
    AboveMemTotal,
}

impl AvailableSource {
    pub fn word(self) -> &'static str {
        match self {
            AvailableSource::MemAvailable => "MemAvailable",
            AvailableSource::NoMemAvailable => "MemFree (no MemAvailable)",
            AvailableSource::AboveMemTotal => "MemFree (MemAvailable above MemTotal)",
        }
    }
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// The figures exactly as procps 4's `meminfo.c` derives them.
pub fn figures(m: &Meminfo) -> Figures {
    let (available, available_source) = match m.available {
        None | Some(0) => (m.free, AvailableSource::NoMemAvailable),
        Some(a) if a > m.total => (m.free, AvailableSource::AboveMemTotal),
        Some(a) => (a, AvailableSource::MemAvailable),
    };
    let used = m
        .total
        .checked_sub(available)
        .unwrap_or(m.total.saturating_sub(m.free));
    let cache = m.cached + m.sreclaimable;
    let nonfree = m.total.saturating_sub(m.free);
    // As procps 3.3 computed its "used": when buffers and cache exceed what is not free (odd
    // container figures), fall back to everything not free.
    let application = nonfree.checked_sub(m.buffers + cache).unwrap_or(nonfree);
    let swap_used = m.swap_total.saturating_sub(m.swap_free);
    let commit_percent = match (m.committed_as, m.commit_limit) {
        (Some(c), Some(l)) if l > 0 => Some(pct(c, l)),
        _ => None,
    };
    Figures {
        total: m.total,
        used,
        free: m.free,
        shared: m.shmem,
        buffers: m.buffers,
        cache,
        available,
        available_source,
        available_percent: pct(available, m.total),
        application,
        application_percent: pct(application, nonfree),
        swap_total: m.swap_total,
        swap_used,
        swap_used_percent: (m.swap_total > 0).then(|| pct(swap_used, m.swap_total)),
        committed: m.committed_as,
        commit_limit: m.commit_limit,
        commit_percent,
        slab: m.slab,
        slab_unreclaimable: m.sunreclaim,
        unreclaimable_percent: pct(m.sunreclaim, m.total),
    }
}

/// Rates over the interval between two vmstat readings, per second (pages or events).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rates {
    pub seconds: f64,
    pub swap_in: Option<f64>,
    pub swap_out: Option<f64>,
    pub pages_scanned: Option<f64>,
    pub major_faults: Option<f64>,
    /// OOM kills during the interval.
    pub oom_kills: Option<u64>,
}

pub fn rates(before: &Vmstat, after: &Vmstat, seconds: f64) -> Rates {
    // A counter that went backwards (a fake root's snapshots disagreeing) counts as no activity.
    let delta = |a: Option<u64>, b: Option<u64>| Some(b?.saturating_sub(a?));
    let rate = |a, b| delta(a, b).map(|d| d as f64 / seconds);
    Rates {
        seconds,
        swap_in: rate(before.pswpin, after.pswpin),
        swap_out: rate(before.pswpout, after.pswpout),
        pages_scanned: rate(before.pgscan, after.pgscan),
        major_faults: rate(before.pgmajfault, after.pgmajfault),
        oom_kills: delta(before.oom_kill, after.oom_kill),
    }
}

/// Raises `code` when `value` crosses its warning or critical range: the sentence is `text` given
/// the crossed limit in words (`critical below 10`).
fn check(
    out: &mut Vec<Reason>,
    code: Code,
    value: f64,
    (warning, critical): (&Range, Option<&Range>),
    short: String,
    text: impl Fn(&str) -> String,
) {
    let Some((status, range)) = thresholds::judge(value, warning, critical) else {
        return;
    };
    let level = status.word().to_lowercase();
    let text = text(&format!("{level} {}", range.describe()));
    out.push(Reason {
        finding: Finding::figure(code, status, value, range.clone(), text),
        short,
    });
}

/// Every signal of SPEC 6 against its threshold; only the ones that alert are returned, worst first
/// (in SPEC order within a severity).
pub fn reasons(
    f: &Figures,
    rates: Option<&Rates>,
    psi: Option<&Psi>,
    t: &Thresholds,
) -> Vec<Reason> {
    let t = &t.ranges;
    let mut out = Vec::new();
    let ap = f.available_percent;
    check(
        &mut out,
        Code::Available,
        ap,
        (&t.available_warning, Some(&t.available_critical)),
        format!("available memory {ap:.1}% of RAM"),
        |th| {
            format!(
                "available memory {ap:.1}% of RAM ({} of {}), {th}%",
                human_size(f.available),
                human_size(f.total)
            )
        },
    );
    activity(&mut out, rates, psi, t);
    out.extend(figures_reasons(f, t));
    if let Some(n) = rates.and_then(|r| r.oom_kills).filter(|&n| n > 0) {
        out.push(oom_kill(
            Code::OomKill,
            n,
            format!("{n} OOM kill(s)"),
            format!("{n} process(es) killed by the OOM killer during the interval"),
        ));
    }
    out.sort_by_key(|r| std::cmp::Reverse(r.status().rank()));
    out
}

/// Swapping and stalls over the interval (rates and PSI).
fn activity(out: &mut Vec<Reason>, rates: Option<&Rates>, psi: Option<&Psi>, t: &MemThresholds) {
    if let Some(so) = rates.and_then(|r| r.swap_out) {
        check(
            out,
            Code::SwapOut,
            so,
            (&t.swap_out_warning, Some(&t.swap_out_critical)),
            format!("swapping out {so:.0} pages/s"),
            |th| format!("swapping out {so:.0} pages/s, {th}: the box is thrashing"),
        );
    }
    if let Some(full) = psi.and_then(|p| p.full_avg10) {
        check(
            out,
            Code::PsiFull,
            full,
            (&t.psi_warning, Some(&t.psi_critical)),
            format!("memory stalls {full:.1}% (PSI full avg10)"),
            |th| {
                format!("all tasks stalled on memory {full:.1}% of the last 10s (PSI full), {th}%")
            },
        );
    }
}

/// Swap, kernel slab and overcommit, from meminfo alone.
fn figures_reasons(f: &Figures, t: &MemThresholds) -> Vec<Reason> {
    let mut out = Vec::new();
    if let Some(sp) = f.swap_used_percent {
        check(
            &mut out,
            Code::SwapUsed,
            sp,
            (&t.swap_used_warning, None),
            format!("swap {sp:.0}% used"),
            |th| {
                format!(
                    "swap {sp:.0}% used ({} of {}), {th}%",
                    human_size(f.swap_used),
                    human_size(f.swap_total)
                )
            },
        );
    }
    let up = f.unreclaimable_percent;
    check(
        &mut out,
        Code::SlabUnreclaimable,
        up,
        (&t.unreclaimable_warning, None),
        format!("unreclaimable slab {up:.1}% of RAM"),
        |th| {
            format!(
                "unreclaimable kernel slab {} = {up:.1}% of RAM, {th}%: a kernel-side leak",
                human_size(f.slab_unreclaimable)
            )
        },
    );
    if let Some(cp) = f.commit_percent {
        check(
            &mut out,
            Code::Commit,
            cp,
            (&t.commit_warning, None),
            format!("committed {cp:.0}% of the limit"),
            |th| {
                format!(
                    "committed {} = {cp:.0}% of the commit limit {}, {th}%",
                    human_size(f.committed.unwrap_or(0)),
                    human_size(f.commit_limit.unwrap_or(0))
                )
            },
        );
    }
    out
}

/// Any OOM kill is a warning (SPEC 6): the range `0` alerts above none.
pub fn oom_kill(code: Code, n: u64, short: String, text: String) -> Reason {
    let none: Range = "0".parse().expect("valid range");
    Reason {
        finding: Finding::figure(code, Status::Warning, n as f64, none, text),
        short,
    }
}

/// A process in the top list: its memory, share of RAM and growth over the interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Consumer {
    #[serde(flatten)]
    pub proc: ProcMem,
    pub ram_percent: f64,
    /// Change of RSS over the interval (None: one reading, or the process is new).
    pub growth: Option<i64>,
}

/// The `top` largest by resident size, plus every process above 10% of RAM.
pub fn consumers(
    procs: &[ProcMem],
    before: Option<&[ProcMem]>,
    total: u64,
    top: usize,
) -> Vec<Consumer> {
    let mut order: Vec<&ProcMem> = procs.iter().collect();
    order.sort_by(|a, b| b.rss.cmp(&a.rss).then(a.pid.cmp(&b.pid)));
    order
        .into_iter()
        .enumerate()
        .take_while(|(i, p)| *i < top || pct(p.rss, total) > BIG_PCT)
        .map(|(_, p)| {
            let growth = before.and_then(|b| {
                let i = b.binary_search_by_key(&p.pid, |q| q.pid).ok()?;
                p.rss_growth_since(&b[i])
            });
            Consumer {
                proc: p.clone(),
                ram_percent: pct(p.rss, total),
                growth,
            }
        })
        .collect()
}

/// The process to blame and fence in: of those above 10% of RAM, the one that grew most over the
/// interval (a leaker grows; a large steady database does not), else the largest. Without
/// a recorded history this is one interval's evidence, not a trend.
pub fn suspect(top: &[Consumer]) -> Option<&Consumer> {
    let big = top.iter().filter(|c| c.ram_percent > BIG_PCT);
    big.clone()
        .filter(|c| c.growth.is_some_and(|g| g > 0))
        .max_by_key(|c| c.growth)
        .or_else(|| big.max_by_key(|c| c.proc.rss))
}

/// The process to blame in the headline and to fence in, chosen once for both: the history's
/// leaker when it still runs (a trend is better evidence than one interval), whether or not it made
/// the top list, else one interval's evidence (`suspect`).
pub fn blame(leaker: Option<&ProcMem>, top: &[Consumer], total: u64) -> Option<Consumer> {
    let Some(l) = leaker else {
        return suspect(top).cloned();
    };
    let same = |c: &&Consumer| c.proc.pid == l.pid && c.proc.starttime == l.starttime;
    Some(top.iter().find(same).cloned().unwrap_or_else(|| Consumer {
        proc: l.clone(),
        ram_percent: pct(l.rss, total),
        growth: None,
    }))
}

/// The processes that swap: most swapped out, then most major faults (pages read back in).
pub fn swappers(procs: &[ProcMem], keep: usize) -> Vec<ProcMem> {
    let mut v: Vec<&ProcMem> = procs
        .iter()
        .filter(|p| p.swap > 0 || p.major_faults > 0)
        .collect();
    v.sort_by_key(|p| std::cmp::Reverse((p.swap, p.major_faults)));
    v.into_iter().take(keep).cloned().collect()
}
