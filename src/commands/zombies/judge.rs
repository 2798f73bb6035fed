//! Pure judgement: the process table and the details read for the processes that matter become the
//! zombies report (parents with their adopter, diagnosis and suggestions gentlest first, then the
//! D-state and traced sections). The rules themselves live in `diagnose` and `adopter`.

use super::adopter::{Adopter, View};
use super::diagnose;
use super::host::Host;
use super::service::{self, Service, ServiceFacts};
use crate::finding::Finding;
use crate::readers::procs::{Proc, ProcTable, Skips};
use crate::render::nagios::{self, Range};
use crate::root::SysInfo;
use crate::status::Status;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// SIGCHLD is signal 17 on Linux; bit 16 of the status masks.
pub const SIGCHLD_BIT: u64 = 1 << (libc::SIGCHLD - 1);

#[derive(Debug, Clone)]
pub struct Options {
    pub min_age: u64,
    pub parent: Option<i32>,
    pub all: bool,
    pub warning: Range,
    pub critical: Range,
}

/// What the judgement uses of a process's `status`, `cgroup`, `wchan` and `cmdline`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcInfo {
    /// SigCgt, SigIgn and SigBlk (the thread-group leader's masks).
    pub caught: u64,
    pub ignored: u64,
    pub blocked: u64,
    /// NSpid: its pid in each PID namespace, the root's first (one entry: not in a container).
    pub nspid: Vec<i32>,
    pub cgroup: Option<String>,
    pub wchan: Option<String>,
    pub cmdline: Vec<String>,
}

impl ProcInfo {
    pub fn handles(&self) -> bool {
        self.caught & SIGCHLD_BIT != 0
    }
    pub fn ignores(&self) -> bool {
        self.ignored & SIGCHLD_BIT != 0
    }
    pub fn blocks(&self) -> bool {
        self.blocked & SIGCHLD_BIT != 0
    }
    /// Depth of its PID namespace below the root's (0: the root's own).
    pub fn ns_level(&self) -> usize {
        self.nspid.len().saturating_sub(1)
    }
    /// PID 1 of a PID namespace below the root's (a container's init).
    pub fn is_ns_init(&self) -> bool {
        self.nspid.len() > 1 && self.nspid.last() == Some(&1)
    }
}

/// Everything read from the root that the judgement uses.
pub struct Facts<'a> {
    pub table: &'a ProcTable,
    pub sys: SysInfo,
    pub host: Host,
    pub info: &'a HashMap<i32, ProcInfo>,
    pub services: &'a HashMap<i32, ServiceFacts>,
    /// Extra skips met while reading details (vanished parents...).
    pub skips: Skips,
}

#[derive(Debug, Clone, Serialize)]
pub struct Zombie {
    pub pid: i32,
    pub comm: String,
    /// Seconds since the process started (a zombie's age is at least its lifetime as a zombie).
    pub age: u64,
    /// Unix time it started.
    pub started: u64,
    #[serde(skip)]
    pub starttime: u64,
}

/// Why a parent does not reap: the diagnosis codes, as the JSON `code` and the Nagios detail name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The parent exited while it was being read.
    ParentGone,
    /// The parent's files could not be read.
    ParentUnreadable,
    /// PID 1 (or a container's) is a known init that is not reaping: busy or hung.
    InitNotReaping,
    /// PID 1 (or a container's) is a program that is not an init.
    Pid1NotInit,
    SigchldIgnored,
    Stopped,
    Uninterruptible,
    ParentZombie,
    Traced,
    SigchldBlocked,
    HandlerNotReaping,
    NeverWaits,
    Subreaper,
}

impl Cause {
    /// The code as the JSON spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::ParentGone => "parent_gone",
            Cause::ParentUnreadable => "parent_unreadable",
            Cause::InitNotReaping => "init_not_reaping",
            Cause::Pid1NotInit => "pid1_not_init",
            Cause::SigchldIgnored => "sigchld_ignored",
            Cause::Stopped => "stopped",
            Cause::Uninterruptible => "uninterruptible",
            Cause::ParentZombie => "parent_zombie",
            Cause::Traced => "traced",
            Cause::SigchldBlocked => "sigchld_blocked",
            Cause::HandlerNotReaping => "handler_not_reaping",
            Cause::NeverWaits => "never_waits",
            Cause::Subreaper => "subreaper",
        }
    }
}

/// A diagnosis's code: its cause, and the evidence it was inferred from (None: read directly, as a
/// state or a tracer is).
#[derive(Debug, Clone, PartialEq)]
pub struct Why {
    pub cause: Cause,
    pub inferred: Option<String>,
}

/// Why a parent does not reap. Its severity is what the parent's own zombies weigh against -w/-c
/// (their count is the figure, the range they crossed the threshold); the text is the whole
/// sentence as shown: `likely: ...` when inferred, the evidence in brackets.
pub type Diagnosis = Finding<Why>;

impl Diagnosis {
    pub fn cause(&self) -> Cause {
        self.code.cause
    }

    /// Inferred from indirect evidence (signal masks, ages) rather than read directly.
    pub fn is_likely(&self) -> bool {
        self.code.inferred.is_some()
    }

    /// The figures an inferred diagnosis rests on ("" for one read directly).
    pub fn evidence(&self) -> &str {
        self.code.inferred.as_deref().unwrap_or("")
    }
}

/// A diagnosis as the JSON has always shown it.
#[derive(Serialize)]
struct DiagnosisView<'a> {
    code: Cause,
    likely: bool,
    evidence: &'a str,
    text: &'a str,
}

fn diagnosis_view<S: serde::Serializer>(v: &[Diagnosis], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|d| DiagnosisView {
        code: d.cause(),
        likely: d.is_likely(),
        evidence: d.evidence(),
        text: &d.text,
    }))
}

/// Whether a suggested step would clear the zombies, as far as the evidence shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Clears {
    Yes,
    Likely,
    Maybe,
    No,
}

/// What a suggested step does, gentlest first as they are offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Remedy {
    /// `kill -CONT`: resume a stopped parent.
    Continue,
    /// End the tracer that holds the parent.
    Detach,
    /// `kill -CHLD`: run the parent's SIGCHLD handler again.
    Nudge,
    /// Restart the owning service or container.
    Restart,
    /// End the parent, so that its zombies pass to its adopter.
    Kill,
    /// `systemctl daemon-reexec` for a systemd PID 1.
    Reexec,
    /// Run the program under an init that reaps.
    Init,
    /// Look again later.
    Wait,
}

#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    pub kind: Remedy,
    pub command: String,
    pub note: String,
    pub clears: Clears,
}

#[derive(Debug, Clone, Serialize)]
pub struct Parent {
    pub pid: i32,
    pub comm: String,
    pub cmdline: String,
    pub state: char,
    pub started: Option<u64>,
    #[serde(skip)]
    pub starttime: Option<u64>,
    pub zombie_count: usize,
    pub oldest_age: u64,
    pub zombies: Vec<Zombie>,
    pub service: Option<Service>,
    pub cgroup: Option<String>,
    /// Who inherits the zombies if this parent ends (none for PID 1 and a container's init).
    pub adopter: Option<Adopter>,
    #[serde(serialize_with = "diagnosis_view")]
    pub diagnosis: Vec<Diagnosis>,
    pub suggestions: Vec<Suggestion>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Stuck {
    pub pid: i32,
    pub ppid: i32,
    pub comm: String,
    pub state: char,
    pub age: u64,
    pub wchan: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Traced {
    pub pid: i32,
    pub comm: String,
    pub state: char,
    pub tracer: i32,
    pub tracer_comm: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ZombiesReport {
    pub status: Status,
    /// Zombies at least `min_age` old: the figure the thresholds apply to.
    pub zombies: usize,
    /// Zombies younger than `min_age`, counted only.
    pub transient: usize,
    pub oldest_age: Option<u64>,
    pub min_age: u64,
    #[serde(serialize_with = "range_str")]
    pub warning: Range,
    #[serde(serialize_with = "range_str")]
    pub critical: Range,
    /// What the host is (init, container runtime): the suggestions depend on it.
    pub host: Host,
    pub parents: Vec<Parent>,
    pub dstate: Vec<Stuck>,
    pub traced: Vec<Traced>,
    pub processes: usize,
    pub skipped: Skips,
    #[serde(skip)]
    pub show_all: bool,
    #[serde(skip)]
    pub parent_filter: Option<i32>,
}

/// A threshold as the text it was given in.
fn range_str<S: serde::Serializer>(r: &Range, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(r)
}

/// A true zombie: state Z with no live thread left (a thread-group leader that exited while its other
/// threads run also shows Z, with num_threads above one, and is not a zombie).
pub fn is_zombie(p: &Proc) -> bool {
    p.state == 'Z' && p.threads <= 1
}

/// Parents to look at: those of zombies at least `min_age` old (optionally just one).
pub fn parents_of_interest(table: &ProcTable, sys: &SysInfo, opts: &Options) -> Vec<i32> {
    let mut v: Vec<i32> = table
        .procs
        .iter()
        .filter(|p| is_zombie(p) && sys.age(p.starttime) >= opts.min_age)
        .map(|p| p.ppid)
        .filter(|pp| opts.parent.is_none_or(|want| *pp == want))
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The ancestors of these parents, up to PID 1: candidates for adopting their zombies.
pub fn ancestors_of(table: &ProcTable, parents: &[i32]) -> Vec<i32> {
    let mut v = Vec::new();
    for &pid in parents {
        let mut at = table.get(pid).map(|p| p.ppid);
        for _ in 0..256 {
            let Some(a) = at.filter(|a| *a > 0) else {
                break;
            };
            if v.contains(&a) {
                break;
            }
            v.push(a);
            at = table.get(a).map(|p| p.ppid);
        }
    }
    v
}

/// D-state processes to detail: in D when read, and alive at least `min_age`.
pub fn stuck_of_interest(table: &ProcTable, sys: &SysInfo, opts: &Options) -> Vec<i32> {
    table
        .procs
        .iter()
        .filter(|p| p.state == 'D' && sys.age(p.starttime) >= opts.min_age)
        .map(|p| p.pid)
        .collect()
}

pub fn judge(f: &Facts, opts: &Options) -> ZombiesReport {
    let mut by_parent: BTreeMap<i32, Vec<Zombie>> = BTreeMap::new();
    let mut old_zombies: HashMap<i32, usize> = HashMap::new();
    let mut transient = 0;
    for p in f.table.procs.iter().filter(|p| is_zombie(p)) {
        let age = f.sys.age(p.starttime);
        if age >= opts.min_age {
            *old_zombies.entry(p.ppid).or_default() += 1;
        }
        if opts.parent.is_some_and(|want| p.ppid != want) {
            continue;
        }
        if age < opts.min_age {
            transient += 1;
            continue;
        }
        by_parent.entry(p.ppid).or_default().push(Zombie {
            pid: p.pid,
            comm: p.comm.clone(),
            age,
            started: f.sys.start_unix(p.starttime),
            starttime: p.starttime,
        });
    }
    let view = View::new(f.table, f.info, old_zombies, opts.min_age);
    let mut parents: Vec<Parent> = by_parent
        .into_iter()
        .map(|(ppid, zs)| parent(f, &view, opts, ppid, zs))
        .collect();
    parents.sort_by(|a, b| {
        b.zombie_count
            .cmp(&a.zombie_count)
            .then(b.oldest_age.cmp(&a.oldest_age))
            .then(a.pid.cmp(&b.pid))
    });
    let zombies: usize = parents.iter().map(|p| p.zombie_count).sum();
    let oldest_age = parents.iter().map(|p| p.oldest_age).max();

    let dstate = stuck_of_interest(f.table, &f.sys, opts)
        .into_iter()
        .filter_map(|pid| f.table.get(pid))
        .map(|p| Stuck {
            pid: p.pid,
            ppid: p.ppid,
            comm: p.comm.clone(),
            state: p.state,
            age: f.sys.age(p.starttime),
            wchan: f.info.get(&p.pid).and_then(|d| d.wchan.clone()),
        })
        .collect();
    let traced = f
        .table
        .procs
        .iter()
        .filter(|p| p.tracer > 0)
        .map(|p| Traced {
            pid: p.pid,
            comm: p.comm.clone(),
            state: p.state,
            tracer: p.tracer,
            tracer_comm: f.table.get(p.tracer).map(|t| t.comm.clone()),
        })
        .collect();
    let mut skipped = f.table.skips.clone();
    skipped.merge(f.skips.clone());
    ZombiesReport {
        status: nagios::judge(zombies as f64, &opts.warning, &opts.critical),
        zombies,
        transient,
        oldest_age,
        min_age: opts.min_age,
        warning: opts.warning.clone(),
        critical: opts.critical.clone(),
        host: f.host.clone(),
        parents,
        dstate,
        traced,
        processes: f.table.procs.len(),
        skipped,
        show_all: opts.all,
        parent_filter: opts.parent,
    }
}

fn parent(f: &Facts, view: &View, opts: &Options, ppid: i32, mut zombies: Vec<Zombie>) -> Parent {
    zombies.sort_by(|a, b| b.age.cmp(&a.age).then(a.pid.cmp(&b.pid)));
    let oldest_age = zombies.first().map(|z| z.age).unwrap_or(0);
    let proc = f.table.get(ppid);
    let info = f.info.get(&ppid);
    let facts = f.services.get(&ppid);
    let service = facts.and_then(|sf| service::judge(sf, ppid));
    let mut p = Parent {
        pid: ppid,
        comm: proc.map(|p| p.comm.clone()).unwrap_or_else(|| "?".into()),
        cmdline: info.map(|d| d.cmdline.join(" ")).unwrap_or_default(),
        state: proc.map(|p| p.state).unwrap_or('?'),
        started: proc.map(|p| f.sys.start_unix(p.starttime)),
        starttime: proc.map(|p| p.starttime),
        zombie_count: zombies.len(),
        oldest_age,
        zombies,
        service,
        cgroup: facts.and_then(|s| s.cgroup.clone()),
        adopter: proc.and_then(|p| view.find(p)),
        diagnosis: Vec::new(),
        suggestions: Vec::new(),
    };
    let unreadable =
        f.table.skips.unreadable_pids.contains(&ppid) || f.skips.unreadable_pids.contains(&ppid);
    let seen = diagnose::Seen {
        proc,
        info,
        view,
        host: &f.host,
        unreadable,
        weight: diagnose::Weight::of(p.zombie_count, &opts.warning, &opts.critical),
    };
    diagnose::diagnose(&mut p, &seen);
    p
}

/// `1 zombie`, `3 zombies`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_is_spelt_as_its_json_code() {
        use Cause::*;
        let all = [
            ParentGone,
            ParentUnreadable,
            InitNotReaping,
            Pid1NotInit,
            SigchldIgnored,
            Stopped,
            Uninterruptible,
            ParentZombie,
            Traced,
            SigchldBlocked,
            HandlerNotReaping,
            NeverWaits,
            Subreaper,
        ];
        for c in all {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str(), "{c:?}");
        }
    }
}
