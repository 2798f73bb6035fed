//! Host-wide files under the root that more than one command reads: `proc/uptime`, the host name
//! and the boot id. Each is parsed here only.

use crate::error::{Error, Result};
use crate::readers::capped;
use crate::root::Root;
use std::path::Path;

/// Seconds since boot: the first field of an `uptime` file.
pub fn parse_uptime(s: &str) -> Option<f64> {
    let v: f64 = s.split_whitespace().next()?.parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v)
}

/// Seconds since boot from an `uptime` file (the root's `proc/uptime`, or a snapshot's).
pub fn read_uptime(path: &Path) -> Result<f64> {
    let text = capped::read_to_string(path, capped::PROC_CAP).map_err(|e| Error::io(path, e))?;
    parse_uptime(&text).ok_or_else(|| Error::malformed(path, Some(1), "expected 'SECONDS IDLE'"))
}

/// The host name from the root: `proc/sys/kernel/hostname`, else `etc/hostname`, else empty.
pub fn hostname(root: &Root) -> String {
    ["proc/sys/kernel/hostname", "etc/hostname"]
        .iter()
        .filter_map(|p| capped::read_to_string(&root.join(p), capped::PROC_CAP).ok())
        .map(|s| s.trim().to_string())
        .find(|s| !s.is_empty())
        .unwrap_or_default()
}

/// The kernel's random id of this boot (`proc/sys/kernel/random/boot_id`), when readable.
pub fn boot_id(root: &Root) -> Option<String> {
    capped::read_to_string(
        &root.join("proc/sys/kernel/random/boot_id"),
        capped::PROC_CAP,
    )
    .ok()
    .map(|s| s.trim().to_string())
    .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_first_field_finite_and_not_negative() {
        assert_eq!(parse_uptime("3600.50 100.00\n"), Some(3600.5));
        for bad in ["", "x 1", "-1 2", "inf 1", "NaN 0"] {
            assert_eq!(parse_uptime(bad), None, "{bad:?}");
        }
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("uptime");
        std::fs::write(&p, "soon\n").unwrap();
        let e = read_uptime(&p).unwrap_err().to_string();
        assert!(e.contains("uptime") && e.contains("SECONDS IDLE"), "{e}");
    }

    #[test]
    fn hostname_and_boot_id_from_the_root() {
        let d = tempfile::tempdir().unwrap();
        let root = Root::new(d.path()).unwrap();
        assert_eq!((hostname(&root), boot_id(&root)), (String::new(), None));
        std::fs::create_dir_all(d.path().join("etc")).unwrap();
        std::fs::write(d.path().join("etc/hostname"), "web1\n").unwrap();
        assert_eq!(hostname(&root), "web1");
        std::fs::create_dir_all(d.path().join("proc/sys/kernel/random")).unwrap();
        std::fs::write(d.path().join("proc/sys/kernel/hostname"), "web2\n").unwrap();
        std::fs::write(d.path().join("proc/sys/kernel/random/boot_id"), "ab-cd\n").unwrap();
        assert_eq!(
            (hostname(&root), boot_id(&root)),
            ("web2".into(), Some("ab-cd".into()))
        );
    }
}
