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
mod plan;
mod record;
pub mod render;
mod undo;

pub use plan::{plan, sizes};
use serde::Serialize;

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

#[cfg(test)]
mod act_tests;
#[cfg(test)]
mod tests;
