//! `proc/PID/cgroup`: which cgroup names the service a process belongs to.

use crate::render::sanitize::decode;

/// Picks the systemd cgroup path from `proc/PID/cgroup`: the v2 line `0::PATH`, else the v1
/// `N:name=systemd:PATH` line. Malformed lines are ignored (the file is advisory here).
pub fn parse(bytes: &[u8]) -> Option<String> {
    let text = decode(bytes);
    let mut v1 = None;
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
            return Some(path.to_string());
        }
        if controllers == "name=systemd" {
            v1 = Some(path.to_string());
        }
    }
    v1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_v2_and_v1() {
        assert_eq!(
            parse(b"0::/system.slice/crond.service\n").as_deref(),
            Some("/system.slice/crond.service")
        );
        let v1 =
            b"12:pids:/system.slice/httpd.service\n1:name=systemd:/system.slice/httpd.service\n";
        assert_eq!(parse(v1).as_deref(), Some("/system.slice/httpd.service"));
        assert_eq!(parse(b"garbage\n\xff\xfe:x\n"), None);
    }
}
