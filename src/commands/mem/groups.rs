//! Top consumers by group (pure): the processes summed by command name, by user and by systemd
//! unit or cgroup, since forty PHP-FPM workers at 50 MiB each are one 2 GiB consumer that no
//! per-process list shows. When such a group is what fills memory, the fence for the whole group:
//! its unit, or the user's slice.

use super::judge::BIG_PCT;
use crate::readers::procmem::ProcMem;
use crate::units::human_size;
use serde::Serialize;
use std::collections::HashMap;

/// Groups shown per kind.
pub const PER_KIND: usize = 3;

/// What the processes of a group share; the lowercase name is the JSON `by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum By {
    Command,
    User,
    Cgroup,
}

impl By {
    pub fn word(self) -> &'static str {
        match self {
            By::Command => "command",
            By::User => "user",
            By::Cgroup => "cgroup",
        }
    }
}

impl std::fmt::Display for By {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.word())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub by: By,
    pub name: String,
    pub count: usize,
    pub rss: u64,
    pub anon: u64,
    pub swap: u64,
    pub ram_percent: f64,
    /// The largest member's resident size.
    pub largest: u64,
    /// For a user group: the uid.
    #[serde(skip)]
    pub uid: Option<u32>,
}

/// How to fence in a group that is the culprit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupFence {
    pub by: By,
    pub name: String,
    pub count: usize,
    pub rss: u64,
    pub ram_percent: f64,
    /// The systemd unit or slice that holds the group.
    pub unit: String,
    pub memory_high: u64,
    pub memory_max: u64,
    pub command: String,
    pub undo: String,
    pub note: String,
}

/// The unit a cgroup path names: its innermost `.service` or `.scope`, else the path itself.
fn unit_name(cgroup: &str) -> String {
    cgroup
        .rsplit('/')
        .find(|c| (c.ends_with(".service") && !c.starts_with("user@")) || c.ends_with(".scope"))
        .map(str::to_string)
        .unwrap_or_else(|| cgroup.to_string())
}

/// The user's slice of a cgroup path (`user-500.slice`), when it is under one.
fn user_slice(cgroup: &str) -> Option<String> {
    cgroup
        .split('/')
        .find(|c| c.starts_with("user-") && c.ends_with(".slice"))
        .map(str::to_string)
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// The largest groups of each kind by resident size (`PER_KIND` each), the groups of one only left
/// out (they are in the process list already).
pub fn groups(procs: &[ProcMem], total: u64, user: &dyn Fn(u32) -> String) -> Vec<Group> {
    let mut out = Vec::new();
    type Key<'a> = &'a dyn Fn(&ProcMem) -> Option<String>;
    let kinds: [(By, Key); 3] = [
        (By::Command, &|p| Some(p.comm.clone())),
        (By::User, &|p| p.uid.map(user)),
        (By::Cgroup, &|p| p.cgroup.as_deref().map(unit_name)),
    ];
    for (by, key) in kinds {
        let mut map: HashMap<String, Group> = HashMap::new();
        for p in procs {
            let Some(name) = key(p) else { continue };
            let g = map.entry(name.clone()).or_insert_with(|| Group {
                by,
                name,
                count: 0,
                rss: 0,
                anon: 0,
                swap: 0,
                ram_percent: 0.0,
                largest: 0,
                uid: if by == By::User { p.uid } else { None },
            });
            g.count += 1;
            g.rss += p.rss;
            g.anon += p.anon.unwrap_or(p.rss);
            g.swap += p.swap;
            g.largest = g.largest.max(p.rss);
        }
        let mut v: Vec<Group> = map.into_values().filter(|g| g.count > 1).collect();
        v.sort_by(|a, b| b.rss.cmp(&a.rss).then(a.name.cmp(&b.name)));
        for g in v.iter_mut() {
            g.ram_percent = pct(g.rss, total);
        }
        out.extend(v.into_iter().take(PER_KIND));
    }
    out
}

/// The group to fence in, when memory is short and a group (not one process) fills it: above 10%
/// of RAM, with no member holding half of it. A unit first (its limit covers exactly the group),
/// then a user (their slice), then a command whose processes share one unit or one user.
pub fn culprit<'a>(groups: &'a [Group], procs: &[ProcMem]) -> Option<(&'a Group, String)> {
    let big = |g: &&Group| g.ram_percent > BIG_PCT && g.largest * 2 < g.rss;
    let rank = |g: &&Group| {
        [By::Cgroup, By::User, By::Command]
            .iter()
            .position(|k| *k == g.by)
    };
    let mut order: Vec<&Group> = groups.iter().filter(big).collect();
    order.sort_by_key(rank);
    for g in order {
        let members: Vec<&ProcMem> = procs
            .iter()
            .filter(|p| match g.by {
                By::Command => p.comm == g.name,
                By::Cgroup => {
                    p.cgroup.as_deref().map(unit_name).as_deref() == Some(g.name.as_str())
                }
                By::User => false,
            })
            .collect();
        let unit = match g.by {
            By::Cgroup if g.name.ends_with(".service") || g.name.ends_with(".scope") => {
                Some(g.name.clone())
            }
            By::Cgroup => None,
            By::Command => {
                let units: Vec<String> = members
                    .iter()
                    .filter_map(|p| p.cgroup.as_deref().map(unit_name))
                    .collect();
                units
                    .first()
                    .filter(|u| units.iter().all(|x| x == *u) && units.len() == members.len())
                    .filter(|u| u.ends_with(".service"))
                    .cloned()
            }
            By::User => g.uid.map(|u| format!("user-{u}.slice")).filter(|slice| {
                // On a systemd host the user's processes sit under their slice.
                procs
                    .iter()
                    .any(|p| p.cgroup.as_deref().and_then(user_slice).as_ref() == Some(slice))
            }),
        };
        if let Some(u) = unit {
            return Some((g, u));
        }
    }
    None
}

/// `systemctl set-property` for the group's unit or slice, sized from what the group holds.
pub fn fence(g: &Group, unit: &str, total: u64) -> GroupFence {
    let (high, max) = super::fence::sizes(g.rss, total, super::fence::Sizes::default());
    let runtime = if unit.ends_with(".scope") {
        " --runtime"
    } else {
        ""
    };
    GroupFence {
        by: g.by,
        name: g.name.clone(),
        count: g.count,
        rss: g.rss,
        ram_percent: g.ram_percent,
        unit: unit.to_string(),
        memory_high: high,
        memory_max: max,
        command: format!(
            "systemctl set-property{runtime} {unit} MemoryHigh={}M MemoryMax={}M",
            high >> 20,
            max >> 20
        ),
        undo: format!(
            "systemctl set-property{runtime} {unit} MemoryHigh=infinity MemoryMax=infinity"
        ),
        note: format!(
            "{} processes{} hold {} together, none of them half of it: a limit on {unit} covers \
             them all",
            g.count,
            match g.by {
                By::User => format!(" of user {}", g.name),
                By::Command => format!(" named {}", g.name),
                By::Cgroup => String::new(),
            },
            human_size(g.rss)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn p(pid: i32, comm: &str, rss: u64, uid: u32, cgroup: &str) -> ProcMem {
        ProcMem {
            pid,
            starttime: 1,
            comm: comm.into(),
            rss,
            anon: Some(rss - MIB),
            vsize: rss * 2,
            peak: rss,
            swap: MIB,
            major_faults: 0,
            uid: Some(uid),
            cgroup: Some(cgroup.into()),
        }
    }

    fn pool() -> Vec<ProcMem> {
        let mut v: Vec<ProcMem> = (0..40)
            .map(|i| {
                p(
                    2000 + i,
                    "php-fpm",
                    50 * MIB,
                    500,
                    "/system.slice/php-fpm.service",
                )
            })
            .collect();
        v.push(p(
            812,
            "mysqld",
            300 * MIB,
            27,
            "/system.slice/mysqld.service",
        ));
        v.push(p(
            3001,
            "bash",
            5 * MIB,
            500,
            "/user.slice/user-500.slice/session-3.scope",
        ));
        v.push(p(
            3002,
            "vim",
            20 * MIB,
            500,
            "/user.slice/user-500.slice/session-3.scope",
        ));
        v
    }

    #[test]
    fn forty_workers_are_one_two_gib_consumer() {
        let name = |u: u32| {
            if u == 500 {
                "admin12".to_string()
            } else {
                u.to_string()
            }
        };
        let g = groups(&pool(), 4096 * MIB, &name);
        let by = |k: By| g.iter().filter(|x| x.by == k).collect::<Vec<_>>();
        let cmd = by(By::Command);
        assert_eq!(
            (cmd[0].name.as_str(), cmd[0].count, cmd[0].rss),
            ("php-fpm", 40, 2000 * MIB)
        );
        assert_eq!(cmd[0].anon, 1960 * MIB);
        assert_eq!(cmd[0].swap, 40 * MIB);
        // mysqld alone is not a group.
        assert!(cmd.iter().all(|x| x.name != "mysqld"));
        let user = by(By::User);
        assert_eq!((user[0].name.as_str(), user[0].count), ("admin12", 42));
        let unit = by(By::Cgroup);
        assert_eq!(unit[0].name, "php-fpm.service");
        assert_eq!(unit[1].name, "session-3.scope");
        let (c, u) = culprit(&g, &pool()).unwrap();
        assert_eq!((c.by, u.as_str()), (By::Cgroup, "php-fpm.service"));
        let f = fence(c, &u, 4096 * MIB);
        assert_eq!(
            f.command,
            "systemctl set-property php-fpm.service MemoryHigh=2048M MemoryMax=2560M"
        );
    }

    #[test]
    fn a_user_spread_over_units_gets_the_users_slice() {
        let mut v: Vec<ProcMem> = (0..30)
            .map(|i| {
                p(
                    3000 + i,
                    &format!("job{}", i % 10),
                    60 * MIB,
                    501,
                    &format!("/user.slice/user-501.slice/session-{i}.scope"),
                )
            })
            .collect();
        v.push(p(
            812,
            "mysqld",
            300 * MIB,
            27,
            "/system.slice/mysqld.service",
        ));
        let g = groups(&v, 4096 * MIB, &|u| u.to_string());
        let (c, u) = culprit(&g, &v).unwrap();
        assert_eq!(
            (c.by, c.name.as_str(), u.as_str()),
            (By::User, "501", "user-501.slice")
        );
        // One big process is not a group culprit: it is fenced on its own.
        let one = vec![
            p(1, "java", 3000 * MIB, 1, "/system.slice/java.service"),
            p(2, "java", 10 * MIB, 1, "/system.slice/java.service"),
        ];
        let g = groups(&one, 4096 * MIB, &|u| u.to_string());
        assert_eq!(culprit(&g, &one), None);
    }
}
