//! `proc/PID/cgroup`: which cgroup names the service a process belongs to.

use crate::render::sanitize::decode;

/// A process's paths in the cgroup hierarchies, from its `cgroup` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cgroups {
    /// The v2 (unified) line `0::PATH`.
    pub v2: Option<String>,
    /// The v1 `N:name=systemd:PATH` line.
    pub v1_systemd: Option<String>,
    /// The v1 line whose controllers include `memory`.
    pub v1_memory: Option<String>,
}

impl Cgroups {
    /// The path that names its service: the v2 one, else the v1 systemd one.
    pub fn systemd(&self) -> Option<&str> {
        self.v2.as_deref().or(self.v1_systemd.as_deref())
    }
}

/// Parses `proc/PID/cgroup` (`ID:CONTROLLERS:PATH` lines). Malformed lines, and paths that are not
/// absolute, are ignored: the file is advisory.
pub fn parse(bytes: &[u8]) -> Cgroups {
    let text = decode(bytes);
    let mut c = Cgroups::default();
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if !path.starts_with('/') {
            continue;
        }
        if id == "0" && controllers.is_empty() {
            c.v2.get_or_insert_with(|| path.to_string());
        } else {
            if controllers == "name=systemd" {
                c.v1_systemd = Some(path.to_string());
            }
            if controllers.split(',').any(|x| x == "memory") {
                c.v1_memory = Some(path.to_string());
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn systemd(bytes: &[u8]) -> Option<String> {
        parse(bytes).systemd().map(String::from)
    }

    #[test]
    fn cgroup_v2_and_v1() {
        assert_eq!(
            systemd(b"0::/system.slice/crond.service\n").as_deref(),
            Some("/system.slice/crond.service")
        );
        let v1 =
            b"12:pids:/system.slice/httpd.service\n1:name=systemd:/system.slice/httpd.service\n";
        assert_eq!(systemd(v1).as_deref(), Some("/system.slice/httpd.service"));
        assert_eq!(systemd(b"garbage\n\xff\xfe:x\n"), None);
    }

    #[test]
    fn memory_controller_lines() {
        let v1 = b"11:memory:/user.slice\n10:cpu,cpuacct:/\n1:name=systemd:/user.slice/session-3.scope\n";
        let c = parse(v1);
        assert_eq!((c.v2, c.v1_memory.as_deref()), (None, Some("/user.slice")));
        assert_eq!(c.v1_systemd.as_deref(), Some("/user.slice/session-3.scope"));
        let c = parse(b"0::/user.slice/user-500.slice/session-3.scope\n");
        assert_eq!(
            c.v2.as_deref(),
            Some("/user.slice/user-500.slice/session-3.scope")
        );
        assert_eq!(parse(b"x\n3:memory:relative\n"), Cgroups::default());
    }
}
