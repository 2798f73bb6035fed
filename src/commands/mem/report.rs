//! The `mem verdict` report: the judged figures, reasons, consumers and remedy, assembled from plain
//! values (pure). Its serde form is the JSON output; field names are stable.

use super::fence::Fence;
use super::groups::{self, Group, GroupFence};
use super::history::findings::Findings;
use super::judge::{self, Consumer, Figures, Rates};
use super::reason::{Code, Reason};
use super::thresholds::Thresholds;
use crate::readers::memory::{Psi, SlabCache};
use crate::readers::procmem::ProcMem;
use crate::readers::procs::Skips;
use crate::render::text::printable;
use crate::status::Status;
use crate::units::human_size;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct MemReport {
    pub status: Status,
    pub headline: String,
    pub reasons: Vec<Reason>,
    /// Signals that could not be judged this run, and why (one reading, no PSI...).
    pub not_judged: Vec<String>,
    pub memory: Figures,
    /// Rates over the interval; null with `--interval 0` or a fake root without an earlier snapshot.
    pub rates: Option<Rates>,
    pub psi: Option<Psi>,
    pub oom_kills_since_boot: Option<u64>,
    pub processes: usize,
    pub top: Vec<Consumer>,
    /// The largest consumers by command name, user and cgroup (unit): count, rss, anon, swap.
    pub groups: Vec<Group>,
    /// How to fence in a group that fills memory when no single process does (the unit, the
    /// user's slice).
    pub group_fence: Option<GroupFence>,
    /// Processes with the most swap and major faults (shown for thrashing).
    pub swapping: Vec<ProcMem>,
    /// Largest slab caches when slabinfo is readable (shown for a slab leak).
    pub slab_caches: Vec<SlabCache>,
    pub slab_caches_unreadable: Option<String>,
    /// How to fence in the suspect (see `judge::blame`), when the verdict is not OK.
    pub fence: Option<Fence>,
    pub skipped: Skips,
    /// What the recorded history says (null without a history file).
    pub history: Option<Findings>,
    /// The process the headline blames and the fence is for (see `judge::blame`), chosen once.
    #[serde(skip)]
    pub suspect: Option<Consumer>,
    #[serde(skip)]
    pub thresholds: Option<Thresholds>,
}

/// Everything read, as plain values.
pub struct Inputs {
    pub figures: Figures,
    pub rates: Option<Rates>,
    pub rates_note: Option<String>,
    pub psi: Option<Psi>,
    /// Why PSI is absent when the kernel does have the file (an empty one).
    pub psi_note: Option<String>,
    pub oom_kills_since_boot: Option<u64>,
    pub procs: Vec<ProcMem>,
    pub before: Option<Vec<ProcMem>>,
    pub slab: Result<Vec<SlabCache>, String>,
    pub skips: Skips,
    pub history: Option<Findings>,
    /// Reasons raised by the history (leaks, OOM kills since the last record).
    pub history_reasons: Vec<Reason>,
    /// User names for the uids of the processes (from the root's etc/passwd).
    pub user_names: std::collections::HashMap<u32, String>,
}

pub fn assemble(i: Inputs, t: &Thresholds, top: usize) -> MemReport {
    let f = i.figures;
    let mut reasons = judge::reasons(&f, i.rates.as_ref(), i.psi.as_ref(), t);
    reasons.extend(i.history_reasons);
    reasons.sort_by_key(|r| std::cmp::Reverse(r.status().rank()));
    let status = Status::worst_of(reasons.iter().map(Reason::status));
    let mut not_judged = Vec::new();
    if let Some(note) = i.rates_note {
        not_judged.push(note);
    }
    match i.psi {
        None => {
            not_judged.push(i.psi_note.clone().unwrap_or_else(|| {
                "memory pressure: the kernel has no PSI (pressure/memory)".into()
            }))
        }
        Some(Psi {
            full_avg10: None, ..
        }) => not_judged.push("memory pressure: pressure/memory has no 'full' line".into()),
        Some(_) => {}
    }
    let oom_judged = i
        .history
        .as_ref()
        .is_some_and(|h| h.oom_kills_since_last_sample.is_some());
    if let Some(n) = i.oom_kills_since_boot.filter(|&n| n > 0 && !oom_judged) {
        not_judged.push(format!(
            "{n} OOM kill(s) since boot: only kills during the interval are judged \
             (there is no record of the previous run)"
        ));
    }
    if f.swap_total == 0 {
        not_judged.push("swap: none configured (not an error)".into());
    }
    let top = judge::consumers(&i.procs, i.before.as_deref(), f.total, top);
    let leaker = i.history.as_ref().and_then(|h| h.leaker.as_ref());
    let suspect = (status != Status::Ok)
        .then(|| judge::blame(leaker, &top, f.total))
        .flatten();
    let names = &i.user_names;
    let groups = groups::groups(&i.procs, f.total, &|u| {
        names.get(&u).cloned().unwrap_or_else(|| u.to_string())
    });
    // A group is the culprit only when no single process is: one leaker among many workers is
    // fenced on its own.
    let group_fence = (status != Status::Ok && suspect.is_none())
        .then(|| groups::culprit(&groups, &i.procs))
        .flatten()
        .map(|(g, unit)| groups::fence(g, &unit, f.total));
    let mut headline = headline(&f, &reasons, suspect.as_ref());
    if let (None, Some(g)) = (&suspect, &group_fence) {
        let who = match g.by {
            groups::By::User => format!("user {}", printable(&g.name)),
            groups::By::Command | groups::By::Cgroup => printable(&g.name),
        };
        headline.push_str(&format!(
            "; {who} ({} processes) holds {:.0}% of RAM",
            g.count, g.ram_percent
        ));
    }
    let (slab_caches, slab_caches_unreadable) = match i.slab {
        Ok(v) => (v, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    MemReport {
        status,
        headline,
        reasons,
        not_judged,
        swapping: judge::swappers(&i.procs, 5),
        processes: i.procs.len(),
        memory: f,
        rates: i.rates,
        psi: i.psi,
        oom_kills_since_boot: i.oom_kills_since_boot,
        top,
        groups,
        group_fence,
        slab_caches,
        slab_caches_unreadable,
        fence: None,
        skipped: i.skips,
        history: i.history,
        suspect,
        thresholds: Some(t.clone()),
    }
}

impl MemReport {
    /// The process to fence in: the one the headline blames (none when the verdict is OK).
    pub fn fence_candidate(&self) -> Option<&ProcMem> {
        self.suspect.as_ref().map(|c| &c.proc)
    }

    /// A thrashing signal fired: show who swaps.
    pub fn thrashing(&self) -> bool {
        self.reasons.iter().any(|r| r.code().thrashing())
    }

    pub fn slab_leak(&self) -> bool {
        self.reasons
            .iter()
            .any(|r| r.code() == Code::SlabUnreclaimable)
    }
}

fn headline(f: &Figures, reasons: &[Reason], suspect: Option<&Consumer>) -> String {
    let Some(worst) = reasons.first() else {
        return format!(
            "memory healthy: {:.0}% available, {} in cache, {} by programs",
            f.available_percent,
            human_size(f.buffers + f.cache),
            human_size(f.application)
        );
    };
    let worst_status = worst.status();
    let shorts: Vec<&str> = reasons
        .iter()
        .filter(|r| r.status() == worst_status)
        .take(2)
        .map(|r| r.short.as_str())
        .collect();
    let mut s = shorts.join("; ");
    if let Some(c) = suspect {
        s.push_str(&format!(
            "; {} (pid {}) holds {:.0}% of RAM",
            printable(&c.proc.comm),
            c.proc.pid,
            c.ram_percent
        ));
    }
    s
}
