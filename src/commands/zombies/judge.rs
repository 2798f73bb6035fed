//! Pure judgement: the process table and the details read for the processes that matter become the
//! zombies report (parents, diagnosis, suggestions gentlest first, D-state and traced sections).

use super::service::{self, Service, ServiceFacts};
use crate::readers::procs::{Detail, Proc, ProcTable, Skips};
use crate::render::nagios::{self, Range};
use crate::root::SysInfo;
use crate::status::Status;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// SIGCHLD is signal 17 on Linux; bit 16 of the status masks.
const SIGCHLD_BIT: u64 = 1 << (libc::SIGCHLD - 1);

/// Programs that reap adopted children when they run as PID 1.
const INITS: &[&str] = &[
    "systemd",
    "init",
    "tini",
    "tini-static",
    "dumb-init",
    "catatonit",
    "docker-init",
    "runit",
    "runit-init",
    "s6-svscan",
    "openrc-init",
    "upstart",
    "busybox",
    "sinit",
    "supervisord",
    "launchd",
];

/// Known child subreapers (PR_SET_CHILD_SUBREAPER): orphans below them are adopted by them, not by PID 1.
const SUBREAPERS: &[&str] = &[
    "containerd-shim",
    "containerd-shim-runc-v2",
    "conmon",
    "crun",
    "tini",
    "dumb-init",
    "catatonit",
    "systemd",
];

#[derive(Debug, Clone)]
pub struct Options {
    pub min_age: u64,
    pub parent: Option<i32>,
    pub all: bool,
    pub warning: Range,
    pub critical: Range,
}

/// Everything read from the root that the judgement uses.
pub struct Facts<'a> {
    pub table: &'a ProcTable,
    pub sys: SysInfo,
    pub details: &'a HashMap<i32, Detail>,
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

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    /// `continue`, `nudge`, `restart`, `kill`, `init`, `detach`, `wait`.
    pub kind: &'static str,
    pub command: String,
    pub note: String,
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
    pub diagnosis: Vec<Finding>,
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
    pub warning: String,
    pub critical: String,
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
    let mut transient = 0;
    for p in f.table.procs.iter().filter(|p| is_zombie(p)) {
        if opts.parent.is_some_and(|want| p.ppid != want) {
            continue;
        }
        let age = f.sys.age(p.starttime);
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
    let mut parents: Vec<Parent> = by_parent
        .into_iter()
        .map(|(ppid, zs)| parent(f, ppid, zs))
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
            wchan: f.details.get(&p.pid).and_then(|d| d.wchan.clone()),
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
        warning: opts.warning.to_string(),
        critical: opts.critical.to_string(),
        parents,
        dstate,
        traced,
        processes: f.table.procs.len(),
        skipped,
        show_all: opts.all,
        parent_filter: opts.parent,
    }
}

fn parent(f: &Facts, ppid: i32, mut zombies: Vec<Zombie>) -> Parent {
    zombies.sort_by(|a, b| b.age.cmp(&a.age).then(a.pid.cmp(&b.pid)));
    let oldest_age = zombies.first().map(|z| z.age).unwrap_or(0);
    let proc = f.table.get(ppid);
    let detail = f.details.get(&ppid);
    let facts = f.services.get(&ppid);
    let service = facts.and_then(|sf| service::judge(sf, ppid));
    let mut p = Parent {
        pid: ppid,
        comm: proc.map(|p| p.comm.clone()).unwrap_or_else(|| "?".into()),
        cmdline: detail.map(|d| d.cmdline.join(" ")).unwrap_or_default(),
        state: proc.map(|p| p.state).unwrap_or('?'),
        started: proc.map(|p| f.sys.start_unix(p.starttime)),
        starttime: proc.map(|p| p.starttime),
        zombie_count: zombies.len(),
        oldest_age,
        zombies,
        service,
        cgroup: facts.and_then(|s| s.cgroup.clone()),
        diagnosis: Vec::new(),
        suggestions: Vec::new(),
    };
    let unreadable =
        f.table.skips.unreadable_pids.contains(&ppid) || f.skips.unreadable_pids.contains(&ppid);
    diagnose(&mut p, proc, detail, f.table, unreadable);
    p
}

fn diagnose(
    p: &mut Parent,
    proc: Option<&Proc>,
    detail: Option<&Detail>,
    table: &ProcTable,
    unreadable: bool,
) {
    let n = p.zombie_count;
    let them = if n == 1 { "it" } else { "them" };
    let pid = p.pid;
    let (Some(proc), Some(detail)) = (proc, detail) else {
        if unreadable {
            p.diagnosis.push(Finding {
                code: "parent_unreadable",
                text: format!("the files of parent {pid} could not be read (see Skipped): the reason it does not reap is unknown"),
            });
            nudge(p, None, false);
            p.suggestions.push(Suggestion {
                kind: "kill",
                command: format!("kill {pid}"),
                note: format!(
                    "ends the parent (kill -KILL {pid} if it stays); init adopts and reaps the {}",
                    plural(n, "zombie")
                ),
            });
            return;
        }
        p.diagnosis.push(Finding {
            code: "parent_gone",
            text: format!("parent {pid} exited while being read; its zombies pass to init, which should reap {them}"),
        });
        p.suggestions.push(Suggestion {
            kind: "wait",
            command: "toolkit zombies".into(),
            note: "run again in a minute to see whether they were reaped".into(),
        });
        return;
    };
    let st = &detail.status;
    let catches = st.sigcgt & SIGCHLD_BIT != 0;
    let ignores = st.sigign & SIGCHLD_BIT != 0;
    let blocks = st.sigblk & SIGCHLD_BIT != 0;
    let tracer = proc.tracer;

    // PID 1 of the host, or of a container (its last NSpid is 1): orphans are adopted by it.
    let container_init = pid != 1
        && st
            .nspid
            .as_ref()
            .is_some_and(|ns| ns.len() > 1 && ns.last() == Some(&1));
    if pid == 1 || container_init {
        let is_init = INITS.contains(&proc.comm.as_str());
        let whose = if container_init {
            "the container's PID 1"
        } else {
            "PID 1"
        };
        p.diagnosis.push(if is_init {
            Finding {
                code: "init_not_reaping",
                text: format!("{whose} ({}) normally reaps at once; {} waiting means it is busy or hung", proc.comm, plural(n, "zombie")),
            }
        } else {
            Finding {
                code: "pid1_not_init",
                text: format!(
                    "{whose} is '{}', not an init: it inherits every orphan but never waits for them (a container started without an init)",
                    proc.comm
                ),
            }
        });
        nudge(p, Some(catches && !ignores), blocks);
        if container_init {
            if let Some(svc) = &p.service {
                p.suggestions.push(Suggestion {
                    kind: "restart",
                    command: svc.restart.clone(),
                    note: format!(
                        "restarts the container: its processes and the {} go",
                        plural(n, "zombie")
                    ),
                });
            }
        }
        if !is_init {
            p.suggestions.push(Suggestion {
                kind: "init",
                command: "docker run --init ...  (or tini / dumb-init as the entrypoint)".into(),
                note: "give the container an init that reaps, so this does not come back".into(),
            });
        }
        if pid == 1 {
            p.suggestions.push(Suggestion {
                kind: "wait",
                command: "systemctl status".into(),
                note: "PID 1 is never killed; if the zombies stay, PID 1 itself needs attention (a reboot is the last resort)".into(),
            });
        }
        return;
    }

    if SUBREAPERS.contains(&proc.comm.as_str()) && proc.ppid != 0 {
        p.diagnosis.push(Finding {
            code: "subreaper",
            text: format!("{} is a child subreaper (container shim or service manager): orphans below it are adopted by it, and it is not reaping {them}", proc.comm),
        });
    }
    match proc.state {
        'T' => p.diagnosis.push(Finding {
            code: "stopped",
            text: "stopped (SIGSTOP or job control): it cannot run, so it cannot reap".into(),
        }),
        't' => {}
        'D' => p.diagnosis.push(Finding {
            code: "uninterruptible",
            text: format!(
                "in uninterruptible sleep{}: it cannot reap until that I/O completes",
                detail
                    .wchan
                    .as_ref()
                    .map(|w| format!(" in {w}"))
                    .unwrap_or_default()
            ),
        }),
        'Z' => p.diagnosis.push(Finding {
            code: "parent_zombie",
            text: "is itself a zombie: its own parent must reap it first".into(),
        }),
        _ => {}
    }
    if tracer > 0 {
        let tcomm = table
            .get(tracer)
            .map(|t| format!(" ({})", t.comm))
            .unwrap_or_default();
        p.diagnosis.push(Finding {
            code: "traced",
            text: format!("being traced by {tracer}{tcomm}: it runs only when the tracer lets it"),
        });
    }
    if ignores {
        p.diagnosis.push(Finding {
            code: "sigchld_ignored",
            text: "ignores SIGCHLD: the kernel reaps its new children, but these became zombies before that and still need a wait()".into(),
        });
    } else if blocks {
        p.diagnosis.push(Finding {
            code: "sigchld_blocked",
            text: "blocks SIGCHLD: a nudge stays pending until it unblocks the signal".into(),
        });
    } else if !catches {
        p.diagnosis.push(Finding {
            code: "sigchld_default",
            text: "does not handle SIGCHLD: it reaps only when its own code calls wait(), which it is not doing".into(),
        });
    }
    if p.diagnosis.is_empty() || (p.diagnosis.iter().all(|d| d.code == "subreaper") && catches) {
        p.diagnosis.push(Finding {
            code: "not_waiting",
            text: format!(
                "alive and handling SIGCHLD, but not calling wait() for {them}: it has lost track of its children (a bug in {})",
                proc.comm
            ),
        });
    }

    // Suggestions, gentlest first.
    if proc.state == 'T' {
        p.suggestions.push(Suggestion {
            kind: "continue",
            command: format!("kill -CONT {pid}"),
            note: "resume it; it may then reap".into(),
        });
    }
    if tracer > 0 {
        p.suggestions.push(Suggestion {
            kind: "detach",
            command: format!("kill -CONT {pid}  # after detaching tracer {tracer}"),
            note: "detach the debugger (or end it) so the process runs again".into(),
        });
    }
    nudge(p, Some(catches && !ignores), blocks);
    if let Some(svc) = &p.service {
        let note = if svc.restart_removes_parent {
            format!(
                "restarts the service; its processes go, and init reaps the {}",
                plural(n, "zombie")
            )
        } else {
            format!(
                "{} has KillMode={}: a restart stops only its main process {}, not {pid}; kill {pid} after the restart",
                svc.name,
                svc.kill_mode.as_deref().unwrap_or("?"),
                svc.main_pid.map(|m| m.to_string()).unwrap_or_else(|| "?".into())
            )
        };
        p.suggestions.push(Suggestion {
            kind: "restart",
            command: svc.restart.clone(),
            note,
        });
    }
    p.suggestions.push(Suggestion {
        kind: "kill",
        command: format!("kill {pid}"),
        note: format!(
            "ends the parent (kill -KILL {pid} if it stays); init adopts and reaps the {}",
            plural(n, "zombie")
        ),
    });
}

/// `1 zombie`, `3 zombies`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn nudge(p: &mut Parent, handles: Option<bool>, blocked: bool) {
    let note = match (blocked, handles) {
        (true, _) => "SIGCHLD is blocked: the nudge will wait until it is unblocked",
        (false, Some(true)) => "may make it reap: it handles SIGCHLD",
        (false, Some(false)) => "harmless, but unlikely to help: it does not handle SIGCHLD",
        (false, None) => "harmless; helps only if it handles SIGCHLD",
    }
    .to_string();
    p.suggestions.push(Suggestion {
        kind: "nudge",
        command: format!("kill -CHLD {}", p.pid),
        note,
    });
}
