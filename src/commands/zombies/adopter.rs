//! Who adopts a parent's zombies when the parent ends, and whether that adopter reaps them.
//!
//! The kernel hands the children of an exiting process to its nearest ancestor (in the same PID
//! namespace) marked PR_SET_CHILD_SUBREAPER, else to the namespace's init. /proc does not show the
//! subreaper flag, so it is judged from evidence: a program known to set it (systemd --user,
//! containerd-shim, conmon, tini -s), or a child already reparented to the process (its session is
//! neither its own nor its parent's). Reaping is judged from evidence too: zombies at least --min-age
//! old already under it mean it does not reap; a known init or SIGCHLD ignored (the kernel then reaps
//! for it) mean it does; the rest is stated as likely or unknown.

use super::judge::{is_zombie, plural, ProcInfo};
use crate::readers::procs::{Proc, ProcTable};
use crate::units::human_duration;
use serde::Serialize;
use std::collections::HashMap;

/// Programs that reap every child they inherit when they run as an init.
pub const INITS: &[&str] = &[
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
];

pub fn is_known_init(comm: &str) -> bool {
    INITS.contains(&comm)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reaps {
    /// A known init or subreaper program, or SIGCHLD ignored (the kernel reaps for it), with no zombie
    /// waiting under it.
    Yes,
    /// It handles SIGCHLD and holds no old zombie.
    Likely,
    /// Nothing shows either way (no SIGCHLD handler: it reaps only if its code calls wait()).
    Unknown,
    /// Zombies at least --min-age old already wait under it, or it is stopped.
    No,
}

/// Why a process adopts: what the kernel's rule makes of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// PID 1 of the root's PID namespace.
    Init,
    /// PID 1 of the parent's PID namespace (a container's init).
    ContainerInit,
    /// An ancestor marked PR_SET_CHILD_SUBREAPER.
    Subreaper,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Adopter {
    pub pid: i32,
    pub comm: String,
    pub role: Role,
    /// Why this process is the adopter.
    pub why: String,
    pub reaps: Reaps,
    /// What `reaps` was judged from.
    pub evidence: String,
}

impl Adopter {
    /// `PID 1 (systemd)`, `subreaper python3 4242`, `the container's PID 1 (node 4010)`.
    pub fn name(&self) -> String {
        match self.role {
            Role::Init => format!("PID 1 ({})", self.comm),
            Role::ContainerInit => format!("the container's PID 1 ({} {})", self.comm, self.pid),
            Role::Subreaper => format!("subreaper {} {}", self.comm, self.pid),
        }
    }
}

/// What a judgement rests on, and whether it is inferred.
pub struct Evidence {
    pub likely: bool,
    pub text: String,
}

/// What adopter judgements look at, built once per report.
pub struct View<'a> {
    pub table: &'a ProcTable,
    pub info: &'a HashMap<i32, ProcInfo>,
    /// Zombies at least --min-age old under each pid, whatever the --parent filter.
    pub old_zombies: HashMap<i32, usize>,
    pub min_age: u64,
    /// For each pid, one child that was reparented to it.
    reparented: HashMap<i32, i32>,
}

impl<'a> View<'a> {
    pub fn new(
        table: &'a ProcTable,
        info: &'a HashMap<i32, ProcInfo>,
        old_zombies: HashMap<i32, usize>,
        min_age: u64,
    ) -> View<'a> {
        let mut reparented = HashMap::new();
        for c in &table.procs {
            // A session is inherited at fork or made by setsid() (then it is the pid itself): a child
            // whose session is neither its own nor its parent's came from another parent. A parent's
            // session of 0 (its leader is outside this PID namespace, as in a container) still
            // differs from a child's session led inside it; two sessions of 0 prove nothing.
            if c.ppid <= 1 || c.session <= 0 || c.session == c.pid {
                continue;
            }
            if let Some(x) = table.get(c.ppid) {
                if x.session >= 0 && x.session != c.session {
                    reparented.entry(x.pid).or_insert(c.pid);
                }
            }
        }
        View {
            table,
            info,
            old_zombies,
            min_age,
            reparented,
        }
    }

    fn argv(&self, pid: i32) -> &[String] {
        self.info
            .get(&pid)
            .map(|i| i.cmdline.as_slice())
            .unwrap_or(&[])
    }

    /// Why `p` is taken for a child subreaper, if anything shows it: a known program (certain), or a
    /// child reparented to it (likely).
    pub fn subreaper_evidence(&self, p: &Proc) -> Option<Evidence> {
        let ns_init = self.info.get(&p.pid).is_some_and(|i| i.is_ns_init());
        if p.pid > 1 && !ns_init {
            if let Some(known) = known_subreaper(&p.comm, self.argv(p.pid)) {
                return Some(Evidence {
                    likely: false,
                    text: known,
                });
            }
        }
        let child = self.table.get(*self.reparented.get(&p.pid)?)?;
        Some(Evidence {
            likely: true,
            text: format!(
                "{} ({}) was reparented to it: its session {} is neither its own nor its parent's",
                child.pid, child.comm, child.session
            ),
        })
    }

    /// The adopter of `parent`'s children, or None when the parent is PID 1 or a namespace's init (its
    /// zombies are reaped by the kernel when it ends), or its ancestry is unknown.
    pub fn find(&self, parent: &Proc) -> Option<Adopter> {
        let pinfo = self.info.get(&parent.pid);
        if parent.pid <= 1 || pinfo.is_some_and(|i| i.is_ns_init()) {
            return None;
        }
        let level = pinfo.map(|i| i.ns_level());
        let mut pid = parent.ppid;
        for _ in 0..256 {
            if pid <= 0 {
                return None;
            }
            let Some(a) = self.table.get(pid) else {
                // The chain broke: an ancestor vanished or could not be read.
                if level.unwrap_or(0) > 0 {
                    return None;
                }
                let init = self.table.get(1)?;
                let why = format!(
                    "PID 1, unless ancestor {pid} of {} (which could not be read) was a subreaper",
                    parent.pid
                );
                return Some(self.judged(init, Role::Init, why));
            };
            if a.pid == 1 {
                let why = format!(
                    "no ancestor of {} is a known subreaper or holds a reparented process",
                    parent.pid
                );
                return Some(self.judged(a, Role::Init, why));
            }
            let ainfo = self.info.get(&a.pid);
            if ainfo.is_some_and(|i| i.is_ns_init() && level.is_none_or(|l| l == i.ns_level())) {
                let why = format!(
                    "the init of {}'s PID namespace (NSpid ends in 1), and no ancestor below it is a known subreaper",
                    parent.pid
                );
                return Some(self.judged(a, Role::ContainerInit, why));
            }
            // The kernel passes over a subreaper that has no live thread left.
            if !is_zombie(a) {
                if let Some(ev) = self.subreaper_evidence(a) {
                    let why = if ev.likely {
                        format!("likely a child subreaper: {}", ev.text)
                    } else {
                        ev.text
                    };
                    return Some(self.judged(a, Role::Subreaper, why));
                }
            }
            pid = a.ppid;
        }
        None
    }

    fn judged(&self, a: &Proc, role: Role, why: String) -> Adopter {
        let (reaps, evidence) = self.reaping(a, role);
        Adopter {
            pid: a.pid,
            comm: a.comm.clone(),
            role,
            why,
            reaps,
            evidence,
        }
    }

    /// Whether `a` reaps what it adopts, and from what evidence.
    fn reaping(&self, a: &Proc, role: Role) -> (Reaps, String) {
        if let Some(&n) = self.old_zombies.get(&a.pid) {
            let old = match self.min_age {
                0 => String::new(),
                m => format!(" at least {} old", human_duration(m)),
            };
            return (
                Reaps::No,
                format!(
                    "{}{old} already {} under it",
                    plural(n, "zombie"),
                    if n == 1 { "waits" } else { "wait" }
                ),
            );
        }
        match a.state {
            'T' => return (Reaps::No, "it is stopped (state T)".into()),
            't' => return (Reaps::No, "it is held stopped by a tracer".into()),
            'D' => {
                return (
                    Reaps::Unknown,
                    "it is in uninterruptible sleep: it reaps only once that returns".into(),
                )
            }
            _ => {}
        }
        let Some(info) = self.info.get(&a.pid) else {
            return (Reaps::Unknown, "its signal state could not be read".into());
        };
        let none = match self.min_age {
            0 => "and holds no zombie".to_string(),
            m => format!("and holds no zombie at least {} old", human_duration(m)),
        };
        if info.ignores() {
            return (
                Reaps::Yes,
                "it ignores SIGCHLD, so the kernel reaps what it adopts at once".into(),
            );
        }
        let (known, what) = match role {
            Role::Subreaper => (
                known_subreaper(&a.comm, self.argv(a.pid)).is_some(),
                "a service manager or container shim that reaps",
            ),
            Role::Init | Role::ContainerInit => (is_known_init(&a.comm), "an init"),
        };
        if known {
            return (Reaps::Yes, format!("{} is {what} {none}", a.comm));
        }
        if info.handles() && !info.blocks() {
            return (Reaps::Likely, format!("it handles SIGCHLD {none}"));
        }
        if info.blocks() {
            return (
                Reaps::Likely,
                format!("it blocks SIGCHLD, as programs that collect children through signalfd do, {none}"),
            );
        }
        (
            Reaps::Unknown,
            format!(
                "it does not handle SIGCHLD, so it reaps only if its own code calls wait(), {none}"
            ),
        )
    }
}

/// Programs known to make themselves child subreapers, with how they are recognised.
fn known_subreaper(comm: &str, argv: &[String]) -> Option<String> {
    let has = |flag: &str| argv.iter().skip(1).any(|a| a == flag);
    let what = match comm {
        "systemd" if has("--user") => "systemd --user (a user's service manager)",
        "systemd" => "systemd not running as PID 1 (a service manager)",
        c if c.starts_with("containerd-shim") => "containerd-shim (a container shim)",
        "conmon" => "conmon (podman's container monitor)",
        "tini" | "tini-static" if has("-s") => "tini -s",
        _ => return None,
    };
    Some(format!("{what} sets PR_SET_CHILD_SUBREAPER"))
}
