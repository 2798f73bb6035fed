//! The exact commands that fence a process in with a cgroup memory limit, sized from what it uses
//! now. Pure: the caller supplies the process's cgroup and command line and what the host has.
//!
//! Sized from resident memory, since that is what `memory.high`/`memory.max` count (swap has its own
//! limit): MemoryHigh at the current resident size rounded up, so the kernel reclaims from the
//! process (slowing it) instead of letting it grow; MemoryMax a quarter above that, the hard stop at
//! which the OOM killer acts inside the cgroup only, never against the rest of the box.

use crate::commands::zombies::service::unit_of;
use crate::readers::procmem::ProcMem;
use serde::Serialize;

const STEP: u64 = 64 << 20;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fence {
    pub pid: i32,
    pub comm: String,
    /// What the process holds now (the limits are sized from the resident part).
    pub rss: u64,
    pub swap: u64,
    pub memory_high: u64,
    pub memory_max: u64,
    /// `systemd-unit`, `cgroup-v2` or `new-run-only`.
    pub method: &'static str,
    pub unit: Option<String>,
    /// Commands to run, in order.
    pub commands: Vec<String>,
    /// For the next start of the program under a limit (`systemd-run --scope`), when not a unit.
    pub next_run: Option<String>,
    /// How to lift the limit again, when there is one command for it.
    pub undo: Option<String>,
    pub note: String,
}

/// What the host offers for fencing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Host {
    /// systemd is the init (ROOT/run/systemd/system exists).
    pub systemd: bool,
    /// The unified cgroup v2 hierarchy is mounted at ROOT/sys/fs/cgroup.
    pub cgroup2: bool,
}

fn round_up(v: u64) -> u64 {
    v.div_ceil(STEP).max(1).saturating_mul(STEP)
}

fn mib(v: u64) -> String {
    format!("{}M", v >> 20)
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

/// The fence for process `p` on a box with `total` bytes of RAM.
pub fn plan(
    p: &ProcMem,
    total: u64,
    cgroup: Option<&str>,
    cmdline: &[String],
    host: Host,
) -> Fence {
    let high = round_up(p.rss);
    // memory.max counts RAM only: a limit above the RAM there is would never be reached.
    let max = round_up(high.saturating_add(high / 4))
        .min(total / STEP * STEP)
        .max(high);
    // A unit of a user's own manager (under user@UID.service) is not the system manager's to set.
    let unit = match cgroup {
        Some(cg) if host.systemd && !cg.contains("/user@") => unit_of(cg),
        _ => None,
    };
    let argv: Vec<String> = cmdline.iter().map(|a| shell_quote(a)).collect();
    let next_run = (unit.is_none() && host.systemd && !argv.is_empty()).then(|| {
        format!(
            "systemd-run --scope -p MemoryHigh={} -p MemoryMax={} {}",
            mib(high),
            mib(max),
            argv.join(" ")
        )
    });
    let mut fence = Fence {
        pid: p.pid,
        comm: p.comm.clone(),
        rss: p.rss,
        swap: p.swap,
        memory_high: high,
        memory_max: max,
        method: "new-run-only",
        unit: unit.clone(),
        commands: Vec::new(),
        next_run,
        undo: None,
        note: String::new(),
    };
    if let Some(unit) = unit {
        fence.method = "systemd-unit";
        fence.commands.push(format!(
            "systemctl set-property {} MemoryHigh={} MemoryMax={}",
            shell_quote(&unit),
            mib(high),
            mib(max)
        ));
        fence.note = format!("applies at once to every process of {unit} and persists");
        fence.undo = Some(format!(
            "systemctl set-property {} MemoryHigh=infinity MemoryMax=infinity",
            shell_quote(&unit)
        ));
    } else if host.cgroup2 {
        fence.method = "cgroup-v2";
        let dir = format!("/sys/fs/cgroup/toolkit-fence-{}", p.pid);
        fence.commands = vec![
            format!("mkdir {dir}"),
            format!("echo {high} > {dir}/memory.high"),
            format!("echo {max} > {dir}/memory.max"),
            format!("echo {} > {dir}/cgroup.procs", p.pid),
        ];
        fence.note = "moves the running process (not its existing children) into a new cgroup; \
                      needs +memory in /sys/fs/cgroup/cgroup.subtree_control"
            .into();
    } else {
        fence.note = "no cgroup v2 hierarchy: the running process cannot be fenced in; \
                      start it again under a limit"
            .into();
    }
    fence
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(rss: u64, swap: u64) -> ProcMem {
        ProcMem {
            pid: 31048,
            starttime: 1,
            comm: "lekker".into(),
            rss,
            anon: Some(rss),
            vsize: rss * 2,
            peak: rss,
            swap,
            major_faults: 0,
        }
    }

    #[test]
    fn unit_gets_set_property_sized_from_use() {
        let host = Host {
            systemd: true,
            cgroup2: true,
        };
        let f = plan(
            &proc(2000 << 20, 100 << 20),
            16 << 30,
            Some("/system.slice/lekker.service"),
            &[],
            host,
        );
        // 2000 MiB resident rounded up to 64 MiB: 2048 MiB; a quarter more: 2560 MiB. Swap is not
        // counted by memory.max.
        assert_eq!(f.memory_high, 2048 << 20);
        assert_eq!(f.memory_max, 2560 << 20);
        assert_eq!(
            f.commands,
            vec!["systemctl set-property lekker.service MemoryHigh=2048M MemoryMax=2560M"]
        );
        assert!(f
            .undo
            .unwrap()
            .ends_with("MemoryHigh=infinity MemoryMax=infinity"));
        assert_eq!(f.next_run, None);
    }

    #[test]
    fn session_process_gets_cgroup_files_and_a_scope_for_next_run() {
        let host = Host {
            systemd: true,
            cgroup2: true,
        };
        let cmd = vec!["/usr/bin/lekker".to_string(), "--size=it's".to_string()];
        let f = plan(
            &proc(100 << 20, 0),
            16 << 30,
            Some("/user.slice/user-1000.slice/session-3.scope"),
            &cmd,
            host,
        );
        assert_eq!(f.method, "cgroup-v2");
        assert_eq!(f.commands.len(), 4);
        assert_eq!(
            f.commands[3],
            "echo 31048 > /sys/fs/cgroup/toolkit-fence-31048/cgroup.procs"
        );
        assert_eq!(
            f.next_run.as_deref(),
            Some("systemd-run --scope -p MemoryHigh=128M -p MemoryMax=192M /usr/bin/lekker '--size=it'\\''s'")
        );
    }

    #[test]
    fn without_cgroup2_or_systemd_only_advice() {
        let host = Host {
            systemd: false,
            cgroup2: false,
        };
        let f = plan(
            &proc(1, 0),
            1 << 30,
            Some("/system.slice/x.service"),
            &[],
            host,
        );
        assert_eq!((f.method, f.commands.len()), ("new-run-only", 0));
        assert_eq!(f.memory_high, 64 << 20);
    }

    #[test]
    fn user_manager_units_and_limits_above_ram() {
        let host = Host {
            systemd: true,
            cgroup2: true,
        };
        let cg = "/user.slice/user-1000.slice/user@1000.service/app.slice/leak.service";
        let f = plan(&proc(3000 << 20, 0), 3200 << 20, Some(cg), &[], host);
        assert_eq!(f.method, "cgroup-v2");
        // 3008 MiB high; a quarter more would exceed the 3200 MiB of RAM.
        assert_eq!((f.memory_high, f.memory_max), (3008 << 20, 3200 << 20));
    }
}
