//! Which service owns a process, and how to restart it: the systemd unit from its cgroup (with the
//! unit's KillMode from the unit files under the root), or a SysV init script on a host without systemd.

use crate::readers::procs::{parse_cgroup, read_file, Proc, ProcTable};
use crate::root::Root;
use serde::Serialize;
use std::path::Path;

/// What manages a service, as the JSON `manager` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Manager {
    Systemd,
    /// A user's service manager (`user@UID.service`).
    #[serde(rename = "systemd-user")]
    SystemdUser,
    Sysv,
    Docker,
    Podman,
}

impl Manager {
    /// A container engine, whose restart restarts the container (and its PID namespace).
    pub fn is_container(self) -> bool {
        matches!(self, Manager::Docker | Manager::Podman)
    }

    /// As the JSON spells it (a container engine: its command's name).
    pub fn as_str(self) -> &'static str {
        match self {
            Manager::Systemd => "systemd",
            Manager::SystemdUser => "systemd-user",
            Manager::Sysv => "sysv",
            Manager::Docker => "docker",
            Manager::Podman => "podman",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    pub manager: Manager,
    /// Unit name (`crond.service`) or init script name (`crond`).
    pub name: String,
    /// The command that restarts it, as shown.
    pub restart: String,
    /// The same command as an argument vector, for `--restart` on the live system.
    #[serde(skip)]
    pub restart_argv: Vec<String>,
    /// The unit's main process as seen from /proc (topmost ancestor in the same cgroup).
    pub main_pid: Option<i32>,
    /// `KillMode=` from the unit files (systemd's default is control-group).
    pub kill_mode: Option<String>,
    /// False when restarting would leave the parent running (KillMode=process/none and the parent is
    /// not the main process): the zombies would stay.
    pub restart_removes_parent: bool,
}

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

/// A container engine and container id, from a scope such as `docker-<id>.scope`.
pub fn container_of(cgroup: &str) -> Option<(Manager, String)> {
    for part in cgroup.split('/').rev() {
        for (prefix, engine) in [("docker-", Manager::Docker), ("libpod-", Manager::Podman)] {
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
        .map(|id| (Manager::Docker, id[..12].to_string()))
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
                facts.main_pid = Some(main_pid(root, table, proc, cg));
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
fn main_pid(root: &Root, table: &ProcTable, proc: &Proc, cgroup: &str) -> i32 {
    let mut current = proc;
    for _ in 0..64 {
        let Some(parent) = table.get(current.ppid) else {
            break;
        };
        if parent.pid <= 1 {
            break;
        }
        let path = root.proc().join(parent.pid.to_string()).join("cgroup");
        match read_file(&path).ok().and_then(|b| parse_cgroup(&b)) {
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

/// The service that owns a process, with its restart command, from the gathered facts.
pub fn judge(facts: &ServiceFacts, pid: i32) -> Option<Service> {
    if let Some((engine, id)) = facts.cgroup.as_deref().and_then(container_of) {
        let argv = vec![engine.as_str().to_string(), "restart".into(), id.clone()];
        return Some(Service {
            manager: engine,
            name: format!("{} container {id}", engine.as_str()),
            restart: argv.join(" "),
            restart_argv: argv,
            main_pid: None,
            kill_mode: None,
            restart_removes_parent: true,
        });
    }
    if facts.systemd_host {
        let unit = unit_of(facts.cgroup.as_deref()?)?;
        let kill_only_main = matches!(facts.kill_mode.as_deref(), Some("process") | Some("none"));
        let is_main = facts.main_pid == Some(pid);
        let restart_argv: Vec<String> = match &facts.user {
            Some(user) => vec![
                "systemctl".into(),
                "--user".into(),
                format!("--machine={user}@"),
                "restart".into(),
                unit.clone(),
            ],
            None => vec!["systemctl".into(), "restart".into(), unit.clone()],
        };
        Some(Service {
            manager: if facts.user.is_some() {
                Manager::SystemdUser
            } else {
                Manager::Systemd
            },
            name: unit,
            restart: restart_argv.join(" "),
            restart_argv,
            main_pid: facts.main_pid,
            kill_mode: facts.kill_mode.clone(),
            restart_removes_parent: is_main || !kill_only_main,
        })
    } else {
        let script = facts.init_script.clone()?;
        let name = script.rsplit('/').next().unwrap_or(&script).to_string();
        Some(Service {
            manager: Manager::Sysv,
            name,
            restart: format!("{script} restart"),
            restart_argv: vec![script.clone(), "restart".into()],
            main_pid: None,
            kill_mode: None,
            restart_removes_parent: true,
        })
    }
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
    fn restart_caveat_when_unit_kills_only_its_main_process() {
        let facts = ServiceFacts {
            systemd_host: true,
            cgroup: Some("/system.slice/httpd.service".into()),
            main_pid: Some(900),
            kill_mode: Some("process".into()),
            ..ServiceFacts::default()
        };
        let worker = judge(&facts, 950).unwrap();
        assert!(!worker.restart_removes_parent);
        assert_eq!(worker.restart, "systemctl restart httpd.service");
        assert!(judge(&facts, 900).unwrap().restart_removes_parent);
        let default_mode = ServiceFacts {
            kill_mode: None,
            ..facts
        };
        assert!(judge(&default_mode, 950).unwrap().restart_removes_parent);
    }

    #[test]
    fn containers_from_scopes() {
        let id = "3f2a9b8c7d6e5f4a3b2c1d0e";
        assert_eq!(
            container_of(&format!("/system.slice/docker-{id}.scope")),
            Some((Manager::Docker, "3f2a9b8c7d6e".into()))
        );
        assert_eq!(
            container_of(&format!("/machine.slice/libpod-{id}.scope/container")),
            Some((Manager::Podman, "3f2a9b8c7d6e".into()))
        );
        assert_eq!(
            container_of(&format!("/docker/{id}")),
            Some((Manager::Docker, "3f2a9b8c7d6e".into()))
        );
        assert_eq!(container_of("/system.slice/docker.service"), None);
        assert_eq!(container_of("/system.slice/docker-.scope"), None);
        let facts = ServiceFacts {
            systemd_host: true,
            cgroup: Some(format!("/system.slice/docker-{id}.scope")),
            ..ServiceFacts::default()
        };
        assert_eq!(
            judge(&facts, 4010).unwrap().restart,
            "docker restart 3f2a9b8c7d6e"
        );
    }

    #[test]
    fn sysv_script() {
        let facts = ServiceFacts {
            init_script: Some("/etc/rc.d/init.d/crond".into()),
            ..ServiceFacts::default()
        };
        let s = judge(&facts, 5).unwrap();
        assert_eq!(
            (s.manager, s.restart.as_str()),
            (Manager::Sysv, "/etc/rc.d/init.d/crond restart")
        );
        assert_eq!(judge(&ServiceFacts::default(), 5), None);
    }

    #[test]
    fn each_manager_is_spelt_as_its_json_name() {
        use Manager::*;
        for m in [Systemd, SystemdUser, Sysv, Docker, Podman] {
            assert_eq!(serde_json::to_value(m).unwrap(), m.as_str(), "{m:?}");
        }
    }
}
