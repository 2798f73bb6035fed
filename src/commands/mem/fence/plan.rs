//! The planner: the fence for one process on the host at hand (the kinds and sizes of `mod.rs`),
//! as the commands an administrator would type, the steps `mem fence` applies, and the commands
//! that lift it again. Pure: everything it needs is read by the caller.

use super::{
    join, shell_quote, Controller, Fence, Host, Method, Sizes, Step, Target, Version, PREFIX,
};
use crate::readers::service::unit_of;

/// Limits are set in steps of 64 MiB.
const STEP: u64 = 64 << 20;
const PAGE: u64 = 4096;

fn round_up(v: u64) -> u64 {
    v.div_ceil(STEP).max(1).saturating_mul(STEP)
}

/// A size from the command line, rounded up to whole pages as the kernel stores it.
fn page_round(v: u64) -> u64 {
    v.div_ceil(PAGE).max(1).saturating_mul(PAGE)
}

fn mib(v: u64) -> String {
    if v % (1 << 20) == 0 {
        format!("{}M", v >> 20)
    } else {
        v.to_string()
    }
}

/// MemoryHigh and MemoryMax for a fence on `base` bytes of RSS on a box with `total` bytes of RAM:
/// `s`'s sizes where asked for, else the RSS rounded up to 64 MiB, and a quarter above it for the
/// hard limit, never above the RAM.
pub fn sizes(base: u64, total: u64, s: Sizes) -> (u64, u64) {
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
    for (file, v) in limit_files(c, high, max, t.swap) {
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
    }
    f.undo = way_back(c, t.pid, rel, &dir, already);
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

/// The limit files of a cgroup of its own and their values: v2 `memory.high` and `memory.max`;
/// v1 the soft and hard limits, and memory plus swap where swap is accounted.
fn limit_files(c: &Controller, high: u64, max: u64, swapped: u64) -> Vec<(&'static str, u64)> {
    match c.version {
        Version::V2 => vec![("memory.high", high), ("memory.max", max)],
        Version::V1 => {
            let mut v = vec![
                ("memory.soft_limit_in_bytes", high),
                ("memory.limit_in_bytes", max),
            ];
            if c.swap_accounting {
                // Memory plus swap: the hard limit plus what it has swapped out now, so that
                // it cannot grow in swap either.
                v.push(("memory.memsw.limit_in_bytes", round_up(max + swapped)));
            }
            v
        }
    }
}

/// The commands that lift a fence of its own cgroup `dir`: the process moved back to `rel` and
/// the cgroup removed, or (`already` in it before the fence) its limits set to unlimited.
fn way_back(c: &Controller, pid: i32, rel: &str, dir: &str, already: bool) -> Vec<String> {
    if !already {
        return vec![
            Step::Move {
                pid,
                from: dir.to_string(),
                to: rel.to_string(),
                file: c.procs_file,
            }
            .command(&c.mount),
            Step::Rmdir {
                dir: dir.to_string(),
            }
            .command(&c.mount),
        ];
    }
    let (lift, unlimited) = match c.version {
        Version::V2 => (["memory.max", "memory.high"], "max"),
        Version::V1 => (
            ["memory.limit_in_bytes", "memory.soft_limit_in_bytes"],
            "-1",
        ),
    };
    lift.iter()
        .map(|file| {
            Step::Write {
                file: join(dir, file),
                value: unlimited.into(),
            }
            .command(&c.mount)
        })
        .collect()
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
