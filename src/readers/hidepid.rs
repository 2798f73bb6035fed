//! Whether `/proc` hides other users' processes from this reader: the `hidepid=` option of the proc
//! mount (`ROOT/proc/mounts`). With `hidepid=invisible` (2) their directories are not listed at all,
//! so nothing else reveals what is missing; with `noaccess` (1) or `ptraceable` (4) their files are
//! unreadable (and also counted one by one). Root, and members of the mount's `gid=` group, see all.

use crate::root::Root;

/// Why processes of other users are hidden from this reader, or None when it sees them all. The
/// reader's identity is said by the skip this becomes (`Skips::blind_reason`).
pub fn hidden_from_reader(root: &Root) -> Option<String> {
    let mounts = std::fs::read_to_string(root.proc().join("mounts")).ok()?;
    let euid = nix::unistd::geteuid().as_raw();
    let groups: Vec<u32> = nix::unistd::getgroups()
        .unwrap_or_default()
        .into_iter()
        .map(|g| g.as_raw())
        .chain([nix::unistd::getegid().as_raw()])
        .collect();
    hidden(&mounts, euid, &groups)
}

/// The judgement on the mounts text, for tests: the last `/proc` mount of type proc is the one seen.
fn hidden(mounts: &str, euid: u32, groups: &[u32]) -> Option<String> {
    let options = mounts
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 4 && f[1] == "/proc" && f[2] == "proc").then(|| f[3].to_string())
        })
        .next_back()?;
    let opt = |name: &str| {
        options
            .split(',')
            .find_map(|o| o.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
    };
    let mode = match opt("hidepid")? {
        "1" | "noaccess" => "noaccess",
        "2" | "invisible" => "invisible",
        "4" | "ptraceable" => "ptraceable",
        _ => return None,
    };
    let exempt_gid = opt("gid").and_then(|g| g.parse::<u32>().ok());
    if euid == 0 || exempt_gid.is_some_and(|g| groups.contains(&g)) {
        return None;
    }
    Some(format!("hidepid={mode}: other users' processes hidden"))
}

#[cfg(test)]
mod tests {
    use super::hidden;

    const MOUNTS: &str = "sysfs /sys sysfs rw 0 0\nproc /proc proc rw,nosuid,relatime,hidepid=invisible,gid=110 0 0\n";

    #[test]
    fn hidepid_hides_from_others_but_not_root_or_the_gid_group() {
        let r = hidden(MOUNTS, 65534, &[65534]).unwrap();
        assert_eq!(r, "hidepid=invisible: other users' processes hidden");
        assert_eq!(hidden(MOUNTS, 0, &[0]), None);
        assert_eq!(hidden(MOUNTS, 110, &[65534, 110]), None);
        assert!(hidden("proc /proc proc rw,hidepid=2 0 0\n", 5, &[5]).is_some());
        assert_eq!(hidden("proc /proc proc rw,hidepid=0 0 0\n", 5, &[5]), None);
        assert_eq!(hidden("proc /proc proc rw,relatime 0 0\n", 5, &[5]), None);
        // A later mount over /proc is the one that counts.
        assert_eq!(
            hidden(
                "proc /proc proc rw,hidepid=2 0 0\nproc /proc proc rw 0 0\n",
                5,
                &[5]
            ),
            None
        );
        assert_eq!(hidden("", 5, &[5]), None);
    }
}
