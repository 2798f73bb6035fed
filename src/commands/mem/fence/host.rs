//! Where the memory controller is on the host at hand, read from the root: the mount table
//! (`proc/self/mountinfo`, else `proc/mounts`) gives the cgroup v2 hierarchy and the cgroup v1
//! `memory` hierarchy, the process's own `proc/PID/cgroup` gives its path in the one that holds the
//! memory controller. A fake root without a mount table is probed at the usual places
//! (`sys/fs/cgroup/cgroup.controllers`, `sys/fs/cgroup/memory/memory.limit_in_bytes`).

use super::{Controller, ProcsFile, Version};
use crate::root::Root;
use std::path::Path;

/// One cgroup mount from the mount table: where it is and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Mount point as the host names it (`/sys/fs/cgroup/memory`).
    pub point: String,
    /// `cgroup2`, or `cgroup` with the v1 controllers it carries.
    pub v2: bool,
    pub memory: bool,
}

/// Undoes the octal escapes of the mount tables (`\040` for a space).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = |j: usize| {
            b.get(j)
                .filter(|c| (b'0'..=b'7').contains(c))
                .map(|c| (c - b'0') as u32)
        };
        if let (b'\\', Some(x), Some(y), Some(z)) = (b[i], octal(i + 1), octal(i + 2), octal(i + 3))
        {
            let v = x * 64 + y * 8 + z;
            if let Ok(c) = u8::try_from(v) {
                out.push(c);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn has_memory(opts: &str) -> bool {
    opts.split(',').any(|o| o == "memory")
}

/// The cgroup mounts of a `mountinfo` file: `ID PARENT MAJ:MIN ROOT POINT OPTS [TAGS...] - TYPE SRC SUPER`.
pub fn parse_mountinfo(text: &str) -> Vec<Mount> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let l: Vec<&str> = left.split_whitespace().collect();
        let r: Vec<&str> = right.split_whitespace().collect();
        if l.len() < 6 || r.is_empty() {
            continue;
        }
        let superopts = r.get(2).copied().unwrap_or("");
        match r[0] {
            "cgroup2" => out.push(Mount {
                point: unescape(l[4]),
                v2: true,
                memory: false,
            }),
            "cgroup" => out.push(Mount {
                point: unescape(l[4]),
                v2: false,
                memory: has_memory(superopts) || has_memory(l[5]),
            }),
            _ => {}
        }
    }
    out
}

/// The cgroup mounts of a `mounts` file: `SRC POINT TYPE OPTS DUMP PASS`.
pub fn parse_mounts(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (point, fstype, opts) = (f.get(1)?, f.get(2)?, f.get(3).copied().unwrap_or(""));
            match *fstype {
                "cgroup2" => Some(Mount {
                    point: unescape(point),
                    v2: true,
                    memory: false,
                }),
                "cgroup" => Some(Mount {
                    point: unescape(point),
                    v2: false,
                    memory: has_memory(opts),
                }),
                _ => None,
            }
        })
        .collect()
}

/// The cgroup mounts under the root, and where they were read from.
pub fn mounts(root: &Root) -> (Vec<Mount>, String) {
    for (rel, parse) in [
        (
            "proc/self/mountinfo",
            parse_mountinfo as fn(&str) -> Vec<Mount>,
        ),
        ("proc/mounts", parse_mounts),
    ] {
        if let Ok(text) = std::fs::read_to_string(root.join(rel)) {
            return (parse(&text), format!("/{rel}"));
        }
    }
    let mut v = Vec::new();
    if root.join("sys/fs/cgroup/cgroup.controllers").is_file() {
        v.push(Mount {
            point: "/sys/fs/cgroup".into(),
            v2: true,
            memory: false,
        });
    }
    if root
        .join("sys/fs/cgroup/memory/memory.limit_in_bytes")
        .is_file()
    {
        v.push(Mount {
            point: "/sys/fs/cgroup/memory".into(),
            v2: false,
            memory: true,
        });
    }
    (v, "no mount table: probed /sys/fs/cgroup".into())
}

/// The paths of a process in the hierarchies (the v2 one and the v1 `memory` one), from its record.
pub use crate::readers::proc::cgroup::Cgroups as ProcCgroups;

fn read_trim(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// The memory controller for a process and its path in it; `Err` says why there is none.
pub fn controller(
    root: &Root,
    cgroups: &ProcCgroups,
) -> std::result::Result<(Controller, String), String> {
    let (mounts, source) = mounts(root);
    // A v1 memory hierarchy takes the controller: in a hybrid layout the v2 tree carries none.
    if let Some(m) = mounts.iter().find(|m| !m.v2 && m.memory) {
        let Some(path) = cgroups.v1_memory.clone() else {
            return Err(format!(
                "the cgroup v1 memory controller is mounted at {} but the process's cgroup file \
                 names no memory cgroup",
                m.point
            ));
        };
        let dir = root.join(&m.point);
        let c = Controller {
            version: Version::V1,
            mount: m.point.clone(),
            swap_accounting: dir.join("memory.memsw.limit_in_bytes").is_file(),
            procs_file: ProcsFile::of_hierarchy(
                dir.join("cgroup.procs").exists(),
                dir.join("tasks").exists(),
            ),
            subtree_memory: true,
        };
        return Ok((c, path));
    }
    if let Some(m) = mounts.iter().find(|m| m.v2) {
        let dir = root.join(&m.point);
        let controllers = read_trim(&dir.join("cgroup.controllers")).unwrap_or_default();
        if !controllers.split_whitespace().any(|c| c == "memory") {
            return Err(format!(
                "the cgroup v2 hierarchy at {} offers no memory controller (cgroup.controllers: \
                 {:?})",
                m.point, controllers
            ));
        }
        let Some(path) = cgroups.v2.clone() else {
            return Err(format!(
                "a cgroup v2 hierarchy is mounted at {} but the process's cgroup file has no \
                 0:: line",
                m.point
            ));
        };
        let subtree = read_trim(&dir.join("cgroup.subtree_control")).unwrap_or_default();
        let c = Controller {
            version: Version::V2,
            mount: m.point.clone(),
            swap_accounting: dir.join("memory.swap.max").exists(),
            procs_file: ProcsFile::CgroupProcs,
            subtree_memory: subtree.split_whitespace().any(|c| c == "memory"),
        };
        return Ok((c, path));
    }
    let named = match (&cgroups.v2, &cgroups.v1_memory) {
        (Some(p), _) | (None, Some(p)) => format!(" (the process's cgroup file names {p})"),
        _ => String::new(),
    };
    Err(format!(
        "no cgroup memory controller is mounted ({source}){named}"
    ))
}

/// What the cgroup at `path` (relative to the controller's mount) uses now: `memory.current` on
/// v2, `memory.usage_in_bytes` on v1.
pub fn usage(root: &Root, c: &Controller, path: &str) -> Option<u64> {
    let file = match c.version {
        Version::V2 => "memory.current",
        Version::V1 => "memory.usage_in_bytes",
    };
    let dir = root.join(&c.mount).join(path.trim_start_matches('/'));
    read_trim(&dir.join(file))?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_of_hybrid_and_unified_hosts() {
        let hybrid = "\
25 30 0:23 / /sys rw,nosuid shared:7 - sysfs sysfs rw
26 25 0:24 / /sys/fs/cgroup ro,nosuid shared:8 - tmpfs tmpfs ro,mode=755
27 26 0:25 / /sys/fs/cgroup/unified rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate
33 26 0:31 / /sys/fs/cgroup/memory rw,nosuid shared:15 - cgroup cgroup rw,memory
34 26 0:32 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:16 - cgroup cgroup rw,cpu,cpuacct
";
        let m = parse_mountinfo(hybrid);
        assert_eq!(m.len(), 3);
        assert!(m[0].v2 && m[0].point == "/sys/fs/cgroup/unified");
        assert!(!m[1].v2 && m[1].memory && m[1].point == "/sys/fs/cgroup/memory");
        assert!(!m[2].memory);
        let unified = "30 23 0:26 / /sys/fs/cgroup rw shared:4 - cgroup2 cgroup2 rw\n";
        assert!(parse_mountinfo(unified)[0].v2);
        assert_eq!(parse_mountinfo("garbage\n- - -\n"), vec![]);
        let mounts = "cgroup /sys/fs/cgroup/my\\040memory cgroup rw,relatime,memory 0 0\n";
        assert_eq!(parse_mounts(mounts)[0].point, "/sys/fs/cgroup/my memory");
        assert!(parse_mounts(mounts)[0].memory);
    }
}
