//! Which service owns a process, read from files under the root: the systemd unit from its cgroup
//! (with the unit's KillMode from the unit files and drop-ins), the unit's main process from the
//! process table, a container from its scope, or a SysV init script on a host without systemd.

use crate::readers::proc::table::{Proc, ProcTable};
use crate::root::Root;
use std::path::Path;

/// The facts about a process's service, gathered from files under the root.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceFacts {
    pub systemd_host: bool,
    pub cgroup: Option<String>,
    pub main_pid: Option<i32>,
    pub kill_mode: Option<String>,
    pub init_script: Option<String>,
    /// Name of the user owning a `user@UID.service` manager the unit runs under.
    pub user: Option<String>,
}

/// The container engine a cgroup path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Docker,
    Podman,
}

/// A container engine and container id, from a scope such as `docker-<id>.scope`.
pub fn container_of(cgroup: &str) -> Option<(Engine, String)> {
    for part in cgroup.split('/').rev() {
        for (prefix, engine) in [("docker-", Engine::Docker), ("libpod-", Engine::Podman)] {
            if let Some(id) = part
                .strip_prefix(prefix)
                .and_then(|r| r.strip_suffix(".scope"))
            {
                if !id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Some((engine, id.chars().take(12).collect()));
                }
            }
        }
    }
    // cgroup v1 without systemd: /docker/<id>
    let mut it = cgroup.split('/').skip_while(|p| *p != "docker").skip(1);
    it.next()
        .filter(|id| id.len() >= 12 && id.chars().all(|c| c.is_ascii_hexdigit()))
        .map(|id| (Engine::Docker, id[..12].to_string()))
}

/// sd_booted(): systemd is the init when `run/systemd/system` exists.
pub fn systemd_host(root: &Root) -> bool {
    root.join("run/systemd/system").is_dir()
}

pub fn gather(
    root: &Root,
    table: &ProcTable,
    proc: &Proc,
    cgroup: Option<&str>,
    systemd: bool,
    user: impl Fn(u32) -> String,
) -> ServiceFacts {
    let mut facts = ServiceFacts {
        systemd_host: systemd,
        cgroup: cgroup.map(str::to_string),
        ..ServiceFacts::default()
    };
    if systemd {
        if let Some(cg) = cgroup {
            if let Some(unit) = unit_of(cg) {
                facts.kill_mode = kill_mode(root, &unit);
                facts.main_pid = Some(main_pid(table, proc, cg));
                if let Some(uid) = user_manager_uid(cg) {
                    facts.user = Some(user(uid));
                }
            }
        }
    } else {
        facts.init_script = init_script(root, &proc.comm);
    }
    facts
}

/// The restartable unit a cgroup path belongs to: its innermost `.service` component.
pub fn unit_of(cgroup: &str) -> Option<String> {
    cgroup
        .split('/')
        .rev()
        .find(|c| c.ends_with(".service") && !c.starts_with("user@"))
        .map(str::to_string)
}

fn user_manager_uid(cgroup: &str) -> Option<u32> {
    cgroup.split('/').find_map(|c| {
        c.strip_prefix("user@")?
            .strip_suffix(".service")?
            .parse()
            .ok()
    })
}

/// The topmost ancestor of `proc` still in the same cgroup: the process the unit started.
fn main_pid(table: &ProcTable, proc: &Proc, cgroup: &str) -> i32 {
    let mut current = proc;
    for _ in 0..64 {
        let Some(parent) = table.get(current.ppid) else {
            break;
        };
        if parent.pid <= 1 {
            break;
        }
        match table.cgroup(parent.pid) {
            Some(cg) if cg == cgroup => current = parent,
            _ => break,
        }
    }
    current.pid
}

/// `KillMode=` of a unit from its unit file and drop-ins under the root (last setting wins).
fn kill_mode(root: &Root, unit: &str) -> Option<String> {
    let dirs = [
        "etc/systemd/system",
        "run/systemd/system",
        "usr/lib/systemd/system",
        "lib/systemd/system",
    ];
    let mut mode = None;
    if let Some(file) = dirs
        .iter()
        .map(|d| root.join(d).join(unit))
        .find(|p| p.is_file())
    {
        mode = scan_kill_mode(&file).or(mode);
    }
    for d in dirs.iter().rev() {
        let dropins = root.join(d).join(format!("{unit}.d"));
        let Ok(entries) = std::fs::read_dir(&dropins) else {
            continue;
        };
        let mut confs: Vec<_> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "conf"))
            .collect();
        confs.sort();
        for c in confs {
            mode = scan_kill_mode(&c).or(mode);
        }
    }
    mode
}

fn scan_kill_mode(path: &Path) -> Option<String> {
    let text =
        crate::readers::capped::read_to_string(path, crate::readers::capped::UNIT_CAP).ok()?;
    text.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("KillMode="))
        .map(|v| v.trim().to_string())
}

/// A SysV init script for a daemon, as Red Hat (`etc/rc.d/init.d`) or Debian (`etc/init.d`) lays them out.
fn init_script(root: &Root, comm: &str) -> Option<String> {
    let base = comm.trim_end_matches('d');
    let mut names = vec![comm.to_string(), format!("{base}d"), base.to_string()];
    names.dedup();
    for dir in ["etc/rc.d/init.d", "etc/init.d"] {
        for name in &names {
            if name.is_empty() || name.contains('/') {
                continue;
            }
            let p = root.join(dir).join(name);
            if p.is_file() {
                return Some(format!("/{dir}/{name}"));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_from_cgroup_paths() {
        assert_eq!(
            unit_of("/system.slice/crond.service").as_deref(),
            Some("crond.service")
        );
        assert_eq!(
            unit_of("/system.slice/httpd.service/worker").as_deref(),
            Some("httpd.service")
        );
        assert_eq!(unit_of("/user.slice/user-1000.slice/session-3.scope"), None);
        assert_eq!(
            unit_of("/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service")
                .as_deref(),
            Some("foo.service")
        );
        assert_eq!(
            unit_of("/user.slice/user-1000.slice/user@1000.service/init.scope"),
            None
        );
        assert_eq!(
            user_manager_uid("/user.slice/user-1000.slice/user@1000.service/app.slice/x.service"),
            Some(1000)
        );
    }

    #[test]
    fn containers_from_scopes() {
        let id = "3f2a9b8c7d6e5f4a3b2c1d0e";
        assert_eq!(
            container_of(&format!("/system.slice/docker-{id}.scope")),
            Some((Engine::Docker, "3f2a9b8c7d6e".into()))
        );
        assert_eq!(
            container_of(&format!("/machine.slice/libpod-{id}.scope/container")),
            Some((Engine::Podman, "3f2a9b8c7d6e".into()))
        );
        assert_eq!(
            container_of(&format!("/docker/{id}")),
            Some((Engine::Docker, "3f2a9b8c7d6e".into()))
        );
        assert_eq!(container_of("/system.slice/docker.service"), None);
        assert_eq!(container_of("/system.slice/docker-.scope"), None);
    }
}
