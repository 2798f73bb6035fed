//! Which service owns a process, and how to restart it: judged from the facts the service reader
//! (`readers::service`) gathered from the root.

use crate::readers::service::{container_of, Engine};
pub use crate::readers::service::{gather, unit_of, ServiceFacts};
use serde::Serialize;

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

/// The service that owns a process, with its restart command, from the gathered facts.
pub fn judge(facts: &ServiceFacts, pid: i32) -> Option<Service> {
    if let Some((engine, id)) = facts.cgroup.as_deref().and_then(container_of) {
        let engine = match engine {
            Engine::Docker => Manager::Docker,
            Engine::Podman => Manager::Podman,
        };
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
    fn containers_restart_through_their_engine() {
        let id = "3f2a9b8c7d6e5f4a3b2c1d0e";
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
