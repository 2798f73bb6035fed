//! What the host is, as far as zombie advice depends on it: whether systemd is its init (so that
//! `systemctl` may be suggested) and which container runtime, if any, the root itself runs under.

use crate::root::Root;
use serde::Serialize;

/// A container runtime whose commands may be suggested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Runtime {
    Docker,
    Podman,
}

impl Runtime {
    /// Its command's name, as the suggestions spell it.
    pub fn command(self) -> &'static str {
        match self {
            Runtime::Docker => "docker",
            Runtime::Podman => "podman",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Host {
    /// systemd is the init of this PID namespace: `run/systemd/system` exists and PID 1 is systemd.
    pub systemd: bool,
    /// What `systemd` was decided from.
    pub init_evidence: String,
    /// The container runtime the root itself runs under (`docker` from `/.dockerenv`, `podman` from
    /// `run/.containerenv`): the one whose commands may be suggested for a PID 1 that does not reap.
    pub runtime: Option<Runtime>,
}

/// The files under the root that say what the host is (read by `read`, judged by `judge`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostFiles {
    pub run_systemd_system: bool,
    pub dockerenv: bool,
    pub containerenv: bool,
}

impl HostFiles {
    pub fn read(root: &Root) -> HostFiles {
        HostFiles {
            run_systemd_system: crate::readers::service::systemd_host(root),
            dockerenv: root.join(".dockerenv").exists(),
            containerenv: root.join("run/.containerenv").exists(),
        }
    }
}

/// Judges the host from its files and PID 1's name (None: PID 1 could not be read). systemd names
/// itself `systemd` even when started as `/sbin/init`.
pub fn judge(files: &HostFiles, pid1: Option<&str>) -> Host {
    let runtime = if files.dockerenv {
        Some(Runtime::Docker)
    } else if files.containerenv {
        Some(Runtime::Podman)
    } else {
        None
    };
    let (systemd, init_evidence) = match (files.run_systemd_system, pid1) {
        (true, Some("systemd")) => (
            true,
            "run/systemd/system exists and PID 1 is systemd".to_string(),
        ),
        (true, Some(comm)) => (
            false,
            format!("PID 1 is '{comm}', not systemd (run/systemd/system exists, but systemd is not this host's init)"),
        ),
        (true, None) => (
            true,
            "run/systemd/system exists (PID 1 could not be read)".to_string(),
        ),
        (false, Some(comm)) => (
            false,
            format!("no run/systemd/system: systemd is not the init (PID 1 is '{comm}')"),
        ),
        (false, None) => (
            false,
            "no run/systemd/system: systemd is not the init".to_string(),
        ),
    };
    Host {
        systemd,
        init_evidence,
        runtime,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systemd_needs_both_the_directory_and_pid1() {
        let files = HostFiles {
            run_systemd_system: true,
            ..HostFiles::default()
        };
        assert!(judge(&files, Some("systemd")).systemd);
        let h = judge(&files, Some("node"));
        assert!(!h.systemd, "a container that bind-mounts run/systemd");
        assert!(h.init_evidence.contains("PID 1 is 'node'"), "{h:?}");
        let no_dir = judge(&HostFiles::default(), Some("systemd"));
        assert!(!no_dir.systemd);
        assert!(
            judge(&files, None).systemd,
            "sd_booted() alone when PID 1 is hidden"
        );
    }

    #[test]
    fn runtime_from_its_marker_files() {
        let docker = HostFiles {
            dockerenv: true,
            ..HostFiles::default()
        };
        assert_eq!(judge(&docker, None).runtime, Some(Runtime::Docker));
        let podman = HostFiles {
            containerenv: true,
            ..HostFiles::default()
        };
        assert_eq!(judge(&podman, None).runtime, Some(Runtime::Podman));
        assert_eq!(judge(&HostFiles::default(), None).runtime, None);
    }
}
