//! The fence-in of a process with a memory limit, for the host at hand: the exact commands, the
//! command that lifts the limit again, and the same as typed steps that `mem fence` applies. Pure:
//! the caller reads the process, its cgroup and the host's memory controller (`host`).
//!
//! Kinds, in order of preference:
//! - `systemd-unit`: `systemctl set-property UNIT MemoryHigh= MemoryMax=` (v1: `MemoryLimit=`),
//!   applying at once to every process of the unit and persisting across restarts;
//! - `systemd-scope`: the same with `--runtime` (a scope is transient, and a session's scope holds
//!   the whole session);
//! - `cgroup-v2` / `cgroup-v1`: a child cgroup `toolkit-fence-PID` at the top of the memory
//!   hierarchy with the limits written (v2 `memory.high`/`memory.max`; v1
//!   `memory.soft_limit_in_bytes`/`memory.limit_in_bytes`, and `memory.memsw.limit_in_bytes` when
//!   swap is accounted), then the pid written to its `cgroup.procs` (`tasks` on old v1 kernels);
//! - `prlimit`: no memory controller at all: only the address space can be capped
//!   (`prlimit --pid PID --as=`), so malloc fails in the leaker rather than the OOM killer choosing.
//!
//! Sizes: MemoryHigh at what the fenced group uses now (the process's resident size, or the whole
//! unit's or scope's usage when the limit covers them) rounded up to 64 MiB, so the kernel reclaims
//! from it (slowing it) instead of letting it grow; MemoryMax a quarter above, the hard stop at
//! which the OOM killer acts inside the group only. `--high`/`--max` override them.

pub mod act;
mod backend;
pub mod host;
mod inspect;
mod record;
pub mod render;
mod undo;

use crate::readers::service::unit_of;
use serde::Serialize;

const STEP: u64 = 64 << 20;
const PAGE: u64 = 4096;
/// The name of the child cgroup made for one process.
pub const PREFIX: &str = "toolkit-fence-";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Version {
    V1,
    V2,
}

/// How a process is fenced in (the kinds above); the kebab-case name is the JSON `method` and the
/// undo record's (kebab, not snake: records and reports of earlier versions spell it so).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    SystemdUnit,
    SystemdScope,
    CgroupV2,
    CgroupV1,
    Prlimit,
}

impl Method {
    pub fn word(self) -> &'static str {
        match self {
            Method::SystemdUnit => "systemd-unit",
            Method::SystemdScope => "systemd-scope",
            Method::CgroupV2 => "cgroup-v2",
            Method::CgroupV1 => "cgroup-v1",
            Method::Prlimit => "prlimit",
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.word())
    }
}

/// The cgroup file a pid is written to, to move its process there; serialised as the file's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum ProcsFile {
    /// Every hierarchy since Linux 2.6.24: the whole process moves.
    #[serde(rename = "cgroup.procs")]
    CgroupProcs,
    /// Older v1 kernels, which have only the per-thread list.
    #[serde(rename = "tasks")]
    Tasks,
}

impl ProcsFile {
    pub fn name(self) -> &'static str {
        match self {
            ProcsFile::CgroupProcs => "cgroup.procs",
            ProcsFile::Tasks => "tasks",
        }
    }

    /// `cgroup.procs` where the hierarchy has it, or has no `tasks` either (a fake root that
    /// lists neither); `tasks` only on a kernel that offers nothing else.
    pub fn of_hierarchy(has_procs: bool, has_tasks: bool) -> ProcsFile {
        if has_procs || !has_tasks {
            ProcsFile::CgroupProcs
        } else {
            ProcsFile::Tasks
        }
    }
}

/// The memory controller of the host: which hierarchy, where, and what it offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Controller {
    pub version: Version,
    /// Mount point as the host names it (`/sys/fs/cgroup`, `/sys/fs/cgroup/memory`).
    pub mount: String,
    /// v1: `memory.memsw.*` exist (swap accounting on); v2: `memory.swap.max` exists.
    pub swap_accounting: bool,
    /// Where a pid is written to move its process: `cgroup.procs` (`tasks` on old v1 kernels).
    pub procs_file: ProcsFile,
    /// v2: the top cgroup's `cgroup.subtree_control` enables memory for its children (v1: always).
    pub subtree_memory: bool,
}

/// The process to fence in, as read now.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub pid: i32,
    pub start: u64,
    pub comm: String,
    pub rss: u64,
    pub swap: u64,
    pub vsize: u64,
    pub cmdline: Vec<String>,
    /// Its path in the memory controller's hierarchy (`/system.slice/lekker.service`).
    pub cgroup: Option<String>,
    /// What that cgroup uses now (`memory.current`, v1 `memory.usage_in_bytes`).
    pub usage: Option<u64>,
}

/// What the host offers: systemd as init, and the memory controller (or why there is none).
#[derive(Debug, Clone, PartialEq)]
pub struct Host {
    pub systemd: bool,
    pub memory: Result<Controller, String>,
}

/// Limits asked for on the command line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sizes {
    pub high: Option<u64>,
    pub max: Option<u64>,
}

/// One change, with paths relative to the controller's mount point (`""` is its top cgroup).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Step {
    /// Create a child cgroup.
    Mkdir { dir: String },
    /// Remove a child cgroup made by a fence (undo only).
    Rmdir { dir: String },
    /// Write a value to a cgroup file (a limit, or `+memory` to `cgroup.subtree_control`).
    Write { file: String, value: String },
    /// Move a process: its pid written to `to/FILE`.
    Move {
        pid: i32,
        from: String,
        to: String,
        file: ProcsFile,
    },
    /// Run a program (systemctl, prlimit); `sets` are the cgroup files it sets, with the values
    /// they will show, checked to know whether it is needed (and written under a fake root).
    Run {
        argv: Vec<String>,
        sets: Vec<(String, String)>,
    },
}

fn under(mount: &str, rel: &str) -> String {
    let mount = mount.trim_end_matches('/');
    if rel.is_empty() {
        mount.to_string()
    } else {
        format!("{mount}/{rel}")
    }
}

impl Step {
    /// The step as the shell command an administrator would type.
    pub fn command(&self, mount: &str) -> String {
        match self {
            Step::Mkdir { dir } => format!("mkdir {}", shell_quote(&under(mount, dir))),
            Step::Rmdir { dir } => format!("rmdir {}", shell_quote(&under(mount, dir))),
            Step::Write { file, value } => {
                format!("echo {value} > {}", shell_quote(&under(mount, file)))
            }
            Step::Move { pid, to, file, .. } => {
                format!(
                    "echo {pid} > {}",
                    shell_quote(&under(mount, &join(to, file.name())))
                )
            }
            Step::Run { argv, .. } => argv
                .iter()
                .map(|a| shell_quote(a))
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

/// `dir/name` for a path relative to the mount (`""` is the top).
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fence {
    pub pid: i32,
    pub comm: String,
    /// What the process holds now.
    pub rss: u64,
    pub swap: u64,
    /// What the limits were sized from: the process's resident size, or the usage of the whole
    /// unit or scope when the limit covers it.
    pub sized_from: u64,
    pub memory_high: u64,
    pub memory_max: u64,
    pub method: Method,
    pub unit: Option<String>,
    /// The memory controller found (null when there is none).
    pub controller: Option<Controller>,
    /// The process's cgroup in that controller's hierarchy.
    pub cgroup: Option<String>,
    /// Commands to run, in order.
    pub commands: Vec<String>,
    /// The same, as the steps `mem fence` applies.
    pub steps: Vec<Step>,
    /// For the next start of the program under a limit.
    pub next_run: Option<String>,
    /// Commands that lift the limit again.
    pub undo: Vec<String>,
    pub note: String,
}

impl Fence {
    /// The controller's mount point, as the host names it (`""` when there is none).
    pub fn mount(&self) -> &str {
        self.controller.as_ref().map_or("", |c| c.mount.as_str())
    }
}

fn round_up(v: u64) -> u64 {
    v.div_ceil(STEP).max(1).saturating_mul(STEP)
}

/// A size from the command line, rounded up to whole pages as the kernel stores it.
pub fn page_round(v: u64) -> u64 {
    v.div_ceil(PAGE).max(1).saturating_mul(PAGE)
}

fn mib(v: u64) -> String {
    if v % (1 << 20) == 0 {
        format!("{}M", v >> 20)
    } else {
        v.to_string()
    }
}

/// Quotes an argument for a POSIX shell only when it needs it.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./=:,@+-%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn sizes(base: u64, total: u64, s: Sizes) -> (u64, u64) {
    let high = s.high.map(page_round).unwrap_or_else(|| round_up(base));
    let max = s.max.map(page_round).unwrap_or_else(|| {
        // A limit above the RAM there is would never be reached.
        round_up(high.saturating_add(high / 4))
            .min(total / STEP * STEP)
            .max(high)
    });
    (high, max.max(high))
}

fn quoted(argv: &[String]) -> String {
    argv.iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The fence for `t` on a box with `total` bytes of RAM.
pub fn plan(t: &Target, total: u64, host: &Host, ask: Sizes) -> Fence {
    let mut f = Fence {
        pid: t.pid,
        comm: t.comm.clone(),
        rss: t.rss,
        swap: t.swap,
        sized_from: t.rss,
        memory_high: 0,
        memory_max: 0,
        method: Method::Prlimit,
        unit: None,
        controller: host.memory.as_ref().ok().cloned(),
        cgroup: t.cgroup.clone(),
        commands: Vec::new(),
        steps: Vec::new(),
        next_run: None,
        undo: Vec::new(),
        note: String::new(),
    };
    let c = match &host.memory {
        Ok(c) => c,
        Err(why) => {
            no_controller(&mut f, t, why, ask);
            return f;
        }
    };
    let path = t.cgroup.clone().unwrap_or_else(|| "/".into());
    let rel = path.trim_matches('/').to_string();
    let leaf = rel.rsplit('/').next().unwrap_or("");
    let user_manager = rel.split('/').any(|p| p.starts_with("user@"));
    let unit = (host.systemd && !user_manager)
        .then(|| {
            unit_of(&path).or_else(|| {
                (leaf.ends_with(".scope") && !leaf.starts_with(PREFIX)).then(|| leaf.to_string())
            })
        })
        .flatten();
    // The unit's own cgroup: the process may sit in a child of it (a delegated subtree), which the
    // unit's limit covers too.
    let unit_rel = unit.as_ref().map(|u| {
        let parts: Vec<&str> = rel.split('/').collect();
        let end = parts
            .iter()
            .rposition(|p| p == u)
            .map_or(parts.len(), |i| i + 1);
        parts[..end].join("/")
    });
    match (unit, unit_rel) {
        (Some(unit), Some(unit_rel)) => by_unit(&mut f, t, (total, host, c), unit, &unit_rel, ask),
        _ => own_cgroup(&mut f, t, (total, host, c), &rel, leaf, ask),
    }
    f.commands = f.steps.iter().map(|s| s.command(&c.mount)).collect();
    f
}

/// How to start the command again under the same limits (`systemd-run --scope`), on systemd.
fn next_run(t: &Target, host: &Host, c: &Controller, high: u64, max: u64) -> Option<String> {
    if !host.systemd || t.cmdline.is_empty() {
        return None;
    }
    let props = match c.version {
        Version::V2 => format!("-p MemoryHigh={} -p MemoryMax={}", mib(high), mib(max)),
        Version::V1 => format!("-p MemoryLimit={}", mib(max)),
    };
    Some(format!(
        "systemd-run --scope {props} -- {}",
        quoted(&t.cmdline)
    ))
}

/// The box: RAM, host and its memory controller.
type On<'a> = (u64, &'a Host, &'a Controller);

/// A systemd unit or scope: `systemctl set-property`, sized from the whole unit's usage.
fn by_unit(f: &mut Fence, t: &Target, on: On, unit: String, unit_rel: &str, ask: Sizes) {
    let (total, host, c) = on;
    let scope = unit.ends_with(".scope");
    let base = t.rss.max(t.usage.unwrap_or(0));
    let (high, max) = sizes(base, total, ask);
    f.sized_from = base;
    (f.memory_high, f.memory_max) = (high, max);
    let mut argv = vec!["systemctl".to_string(), "set-property".to_string()];
    if scope {
        argv.push("--runtime".into());
    }
    argv.push(unit.clone());
    let mut undo = argv.clone();
    let sets = match c.version {
        Version::V2 => {
            argv.push(format!("MemoryHigh={}", mib(high)));
            argv.push(format!("MemoryMax={}", mib(max)));
            undo.push("MemoryHigh=infinity".into());
            undo.push("MemoryMax=infinity".into());
            vec![
                (join(unit_rel, "memory.high"), high.to_string()),
                (join(unit_rel, "memory.max"), max.to_string()),
            ]
        }
        Version::V1 => {
            argv.push(format!("MemoryLimit={}", mib(max)));
            undo.push("MemoryLimit=infinity".into());
            vec![(join(unit_rel, "memory.limit_in_bytes"), max.to_string())]
        }
    };
    f.method = if scope {
        Method::SystemdScope
    } else {
        Method::SystemdUnit
    };
    f.note = if scope {
        format!(
            "applies at once to every process of {unit} (for a login session: everything \
             started from it), until the scope ends"
        )
    } else {
        format!("applies at once to every process of {unit} and persists across restarts")
    };
    f.steps = vec![Step::Run { argv, sets }];
    f.undo = vec![quoted(&undo)];
    f.next_run = if scope {
        next_run(t, host, c, high, max)
    } else {
        None
    };
    f.unit = Some(unit);
}

/// Any other process: a cgroup of its own (`toolkit-fence-PID`) with the limits, then the move.
fn own_cgroup(f: &mut Fence, t: &Target, on: On, rel: &str, leaf: &str, ask: Sizes) {
    let (total, host, c) = on;
    let (high, max) = sizes(t.rss, total, ask);
    (f.memory_high, f.memory_max) = (high, max);
    let own = format!("{PREFIX}{}", t.pid);
    let already = leaf == own;
    let dir = if already { rel.to_string() } else { own };
    if c.version == Version::V2 && !c.subtree_memory && !already {
        f.steps.push(Step::Write {
            file: "cgroup.subtree_control".into(),
            value: "+memory".into(),
        });
    }
    if !already {
        f.steps.push(Step::Mkdir { dir: dir.clone() });
    }
    let limits: Vec<(&str, u64)> = match c.version {
        Version::V2 => vec![("memory.high", high), ("memory.max", max)],
        Version::V1 => {
            let mut v = vec![
                ("memory.soft_limit_in_bytes", high),
                ("memory.limit_in_bytes", max),
            ];
            if c.swap_accounting {
                // Memory plus swap: the hard limit plus what it has swapped out now, so that
                // it cannot grow in swap either.
                v.push(("memory.memsw.limit_in_bytes", round_up(max + t.swap)));
            }
            v
        }
    };
    for (file, v) in limits {
        f.steps.push(Step::Write {
            file: join(&dir, file),
            value: v.to_string(),
        });
    }
    if !already {
        f.steps.push(Step::Move {
            pid: t.pid,
            from: rel.to_string(),
            to: dir.clone(),
            file: c.procs_file,
        });
        f.undo = vec![
            Step::Move {
                pid: t.pid,
                from: dir.clone(),
                to: rel.to_string(),
                file: c.procs_file,
            }
            .command(&c.mount),
            Step::Rmdir { dir: dir.clone() }.command(&c.mount),
        ];
    } else {
        let lift = match c.version {
            Version::V2 => ["memory.max", "memory.high"],
            Version::V1 => ["memory.limit_in_bytes", "memory.soft_limit_in_bytes"],
        };
        let unlimited = if c.version == Version::V2 {
            "max"
        } else {
            "-1"
        };
        f.undo = lift
            .iter()
            .map(|file| {
                Step::Write {
                    file: join(&dir, file),
                    value: unlimited.into(),
                }
                .command(&c.mount)
            })
            .collect();
    }
    f.method = match c.version {
        Version::V2 => Method::CgroupV2,
        Version::V1 => Method::CgroupV1,
    };
    f.note = if already {
        format!("already in its own cgroup {dir}: only the limits are set")
    } else {
        let v1 = if c.version == Version::V1 {
            "; v1 has no memory.high: the soft limit applies only when the whole box is short"
        } else {
            ""
        };
        format!(
            "moves the running process (not its existing children) into a cgroup of its \
             own{v1}"
        )
    };
    f.next_run = next_run(t, host, c, high, max);
}

/// No memory controller: cap the address space of the running process instead.
fn no_controller(f: &mut Fence, t: &Target, why: &str, ask: Sizes) {
    let limit = ask
        .max
        .map(page_round)
        .unwrap_or_else(|| round_up(t.vsize.saturating_add(t.vsize / 4)));
    f.sized_from = t.vsize;
    f.memory_high = limit;
    f.memory_max = limit;
    let argv = vec![
        "prlimit".to_string(),
        "--pid".to_string(),
        t.pid.to_string(),
        format!("--as={limit}"),
    ];
    f.commands = vec![quoted(&argv)];
    f.steps = vec![Step::Run {
        argv,
        sets: Vec::new(),
    }];
    f.undo = vec![format!("prlimit --pid {} --as=unlimited", t.pid)];
    f.note = format!(
        "{why}: the running process cannot be given a memory limit; this caps its address space \
         (virtual size) instead, so its next large allocation fails rather than the OOM killer \
         choosing a victim"
    );
    if !t.cmdline.is_empty() {
        f.next_run = Some(format!("prlimit --as={limit} {}", quoted(&t.cmdline)));
    }
}

#[cfg(test)]
mod act_tests;
#[cfg(test)]
mod tests;
