//! One history sample: the system figures and the larger processes at one moment, as one JSON line.
//! Reading a sample from the root is here too; everything else about the history works on these
//! plain values.

use crate::commands::mem::judge::figures;
use crate::error::Result;
use crate::readers::memory::{read_meminfo, read_vmstat};
use crate::readers::proc::host;
use crate::readers::procmem::{self, ProcMem};
use crate::root::{Root, SysInfo};
use serde::{Deserialize, Serialize};

/// Processes recorded per sample: the largest by resident size. A bound keeps every line a few
/// kilobytes however many processes the box runs; a leaker worth a forecast is large enough to be
/// among them long before it matters, and its trend starts from the first sample it appears in.
pub const MAX_PROCS: usize = 50;

/// Format version of a line; a line of another version is skipped as foreign.
pub const VERSION: u32 = 1;

/// Which run of which machine a sample comes from: processes compare only within one boot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Host {
    pub hostname: String,
    /// Unix time of boot (`btime`).
    pub boot: u64,
    /// The kernel's random id of this boot (`proc/sys/kernel/random/boot_id`), when readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
}

/// `btime` is derived from the wall clock minus uptime, so an NTP step moves it by a second or
/// more within one boot; two boots are further apart than this (a whole previous uptime).
const BTIME_SLACK: u64 = 60;

impl Host {
    /// Same machine, same boot: by boot id when both samples have one, else by boot time.
    pub fn same_run(&self, other: &Host) -> bool {
        self.hostname == other.hostname
            && match (&self.boot_id, &other.boot_id) {
                (Some(a), Some(b)) => a == b,
                _ => self.boot.abs_diff(other.boot) <= BTIME_SLACK,
            }
    }

    pub fn read(root: &Root, sys: &SysInfo) -> Host {
        Host {
            hostname: host::hostname(root),
            boot: sys.boot_time,
            boot_id: host::boot_id(root),
        }
    }
}

/// System figures in bytes, as `mem verdict` computes them (used = total - available).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct System {
    pub total: u64,
    pub used: u64,
    pub free: u64,
    pub buffers: u64,
    pub cache: u64,
    pub available: u64,
    pub swap_total: u64,
    pub swap_used: u64,
}

impl System {
    /// Used minus buffers and cache: what programs hold (total - free - buffers - cache).
    pub fn application(&self) -> u64 {
        let nonfree = self.total.saturating_sub(self.free);
        nonfree
            .checked_sub(self.buffers + self.cache)
            .unwrap_or(nonfree)
    }
}

/// One process in a sample. `start` (clock ticks after boot) with `pid` is its identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proc {
    pub pid: i32,
    pub start: u64,
    pub comm: String,
    pub rss: u64,
    /// Anonymous resident memory; null on kernels before 4.5 (RSS stands in for the trend).
    pub anon: Option<u64>,
    pub vsize: u64,
    pub swap: u64,
    pub major_faults: u64,
    /// For a consolidated sample: the lowest `leak_bytes` over the interval it covers.
    #[serde(skip)]
    pub floor: Option<u64>,
}

impl Proc {
    /// The floor of the memory a leak grows over this sample's interval (the value itself for a
    /// raw sample): what a garbage collector comes back down to.
    pub fn floor_bytes(&self) -> u64 {
        self.floor.unwrap_or_else(|| self.leak_bytes())
    }

    /// The memory a leak grows: anonymous (resident when the kernel does not say) plus swapped out.
    /// Swap counts because a leaker on a box that swaps stops growing in RAM and grows in swap.
    pub fn leak_bytes(&self) -> u64 {
        self.anon.unwrap_or(self.rss).saturating_add(self.swap)
    }
}

/// A process in a consolidated sample, compact (a month of them must fit in the cap): pid, start,
/// comm, rss mean, rss min, rss max, anon mean, vsize mean, swap mean, major faults (last), and
/// the min and max of anonymous + swapped memory over the interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggProc(
    pub i32,
    pub u64,
    pub String,
    pub u64,
    pub u64,
    pub u64,
    pub Option<u64>,
    pub u64,
    pub u64,
    pub u64,
    pub u64,
    pub u64,
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub v: u32,
    /// Unix time in seconds (fractional: a loop may sample more than once a second); for a
    /// consolidated sample, the mean time of the samples it stands for.
    pub t: f64,
    pub host: Host,
    /// System figures; the means over the interval for a consolidated sample.
    pub mem: System,
    /// OOM kills since boot (`oom_kill` in vmstat), when the kernel counts them.
    pub oom_kills: Option<u64>,
    #[serde(default)]
    pub procs: Vec<Proc>,
    /// Consolidated samples only: how many samples, over intervals of how many seconds, the
    /// minimum and maximum of each system figure, and the processes in compact form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dt: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_lo: Option<System>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_hi: Option<System>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub p: Vec<AggProc>,
}

impl Sample {
    /// The processes of any sample as `Proc`s: a consolidated one's means, with their floors.
    pub fn expand(&mut self) {
        for a in std::mem::take(&mut self.p) {
            self.procs.push(Proc {
                pid: a.0,
                start: a.1,
                comm: a.2,
                rss: a.3,
                anon: a.6,
                vsize: a.7,
                swap: a.8,
                major_faults: a.9,
                floor: Some(a.10),
            });
        }
    }
}

/// Keeps the `MAX_PROCS` largest by resident size (ties by pid, for a stable order).
pub fn largest(procs: &[ProcMem]) -> Vec<Proc> {
    let mut order: Vec<&ProcMem> = procs.iter().collect();
    order.sort_by(|a, b| b.rss.cmp(&a.rss).then(a.pid.cmp(&b.pid)));
    order
        .into_iter()
        .take(MAX_PROCS)
        .map(|p| Proc {
            pid: p.pid,
            start: p.starttime,
            comm: p.comm.clone(),
            rss: p.rss,
            anon: p.anon,
            vsize: p.vsize,
            swap: p.swap,
            major_faults: p.major_faults,
            floor: None,
        })
        .collect()
}

/// Reads one sample from the root. The timestamp is the root's own clock (boot time plus uptime),
/// so a fake root gives the same sample whenever it is read.
pub fn read(root: &Root) -> Result<Sample> {
    let sys = SysInfo::read(root)?;
    let m = figures(&read_meminfo(&root.join("proc/meminfo"))?);
    let vmstat = read_vmstat(&root.join("proc/vmstat"))?;
    let (procs, _skips) = procmem::read_all(root, &root.proc())?;
    Ok(Sample {
        v: VERSION,
        t: sys.boot_time as f64 + sys.uptime,
        host: Host::read(root, &sys),
        mem: System {
            total: m.total,
            used: m.used,
            free: m.free,
            buffers: m.buffers,
            cache: m.cache,
            available: m.available,
            swap_total: m.swap_total,
            swap_used: m.swap_used,
        },
        oom_kills: vmstat.oom_kill,
        procs: largest(&procs),
        n: None,
        dt: None,
        mem_lo: None,
        mem_hi: None,
        p: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_run_by_boot_id_else_by_boot_time_within_a_minute() {
        let h = |name: &str, boot, id: Option<&str>| Host {
            hostname: name.into(),
            boot,
            boot_id: id.map(String::from),
        };
        assert!(h("a", 1000, None).same_run(&h("a", 1001, None)));
        // Within a minute, either way, and no more.
        assert!(h("a", 1000, None).same_run(&h("a", 1060, None)));
        assert!(h("a", 1060, None).same_run(&h("a", 1000, None)));
        assert!(!h("a", 1000, None).same_run(&h("a", 1061, None)));
        assert!(!h("a", 1000, None).same_run(&h("a", 5000, None)));
        assert!(!h("a", 1000, None).same_run(&h("b", 1000, None)));
        assert!(h("a", 1000, Some("x")).same_run(&h("a", 1030, Some("x"))));
        assert!(!h("a", 1000, Some("x")).same_run(&h("a", 1000, Some("y"))));
        assert!(h("a", 1000, Some("x")).same_run(&h("a", 1000, None)));
    }
}
