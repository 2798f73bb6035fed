//! Hostile or broken input: damaged qf files, odd file names, unreadable directories, symlink loops,
//! queues that are symlinks out of their site, half-deleted sites. Each is counted and reported; the
//! scan never panics and never follows a symlink inside a site.

use super::{fakeroot, queue, sparse, MIB, SITE1_QUEUE};
use crate::common::run_cmd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, PermissionsExt};

const SITE3_QUEUE: &str = "home/virtual/site3/fst/var/spool/mqueue";

fn genuine_qf(s: &crate::common::Scenario) -> Vec<u8> {
    std::fs::read(s.join(SITE1_QUEUE).join("qf6AM2aXUG006021")).unwrap()
}

#[test]
fn random_and_truncated_qf_are_reported() {
    let s = fakeroot();
    let q = s.join(SITE3_QUEUE);
    let mut x: u32 = 12345;
    let random: Vec<u8> = (0..700)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) as u8
        })
        .collect();
    std::fs::write(q.join("qf6AMrandom00001"), random).unwrap();
    sparse(&q.join("df6AMrandom00001"), 30 * MIB);
    std::fs::write(q.join("qf6AMtrunc000002"), &genuine_qf(&s)[..200]).unwrap();
    sparse(&q.join("df6AMtrunc000002"), 31 * MIB);
    let out = s.run(&["mqueue", "scan"]);
    out.status(0)
        .stdout_has("Could not read or parse 2 items:")
        .stdout_has("qf6AMtrunc000002:")
        .stdout_has("malformed qf:")
        .stdout_has("truncated");
    let j = s.run(&["mqueue", "scan", "--json"]).status(0).json();
    assert_eq!(j["skipped"]["count"], 2);
    let site3 = queue(&j, "site3");
    assert_eq!(site3["messages"], 2);
    assert_eq!(site3["oversized"], 2);
    let damaged: Vec<&serde_json::Value> = j["oversized"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["queue"] == "site3")
        .collect();
    assert_eq!(damaged.len(), 2);
    assert!(damaged.iter().all(|g| g["damaged"] == 1));
    // What the truncated file still says is used.
    assert!(damaged.iter().any(|g| g["sender"] == "jdoe@example.com"));
}

#[test]
fn odd_file_names_stay_on_one_line() {
    let s = fakeroot();
    let q = s.join(SITE3_QUEUE);
    let id: &[u8] = b"6AM sp ace\nnl\xff";
    let name = |prefix: &[u8]| q.join(std::ffi::OsStr::from_bytes(&[prefix, id].concat()));
    std::fs::write(name(b"qf"), genuine_qf(&s)).unwrap();
    sparse(&name(b"df"), 40 * MIB);
    std::fs::write(q.join("notes about the queue.txt"), "left by someone\n").unwrap();
    let out = s.run(&["mqueue", "scan", "--min", "39M"]);
    out.status(0)
        .stdout_has("40.0 MiB message 6AM sp ace\\nnl\\xff from jdoe@example.com")
        .stdout_has("anomalies: 1 not queue files");
    let j = s
        .run(&["mqueue", "scan", "--json", "--min", "39M"])
        .status(0)
        .json();
    // JSON keeps the exact name (the byte that is not UTF-8 as the text `\xff`).
    assert_eq!(j["oversized"][0]["ids"][0], "6AM sp ace\nnl\\xff");
}

#[test]
fn unreadable_directories_are_counted() {
    let s = fakeroot();
    // Root reads everything: drop to nobody, for whom the 0700 root:mail queues are closed.
    std::fs::set_permissions(s.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let host = s.join("var/spool/mqueue");
    std::fs::set_permissions(&host, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir(host.join("qf")).unwrap();
    std::fs::set_permissions(host.join("qf"), std::fs::Permissions::from_mode(0o700)).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_toolkit"));
    std::os::unix::process::CommandExt::uid(&mut cmd, 65534);
    std::os::unix::process::CommandExt::gid(&mut cmd, 65534);
    cmd.arg("--root")
        .arg(s.path())
        .args(["mqueue", "scan", "--json"]);
    let out = run_cmd(&mut cmd);
    // Blind to queues it could not open: UNKNOWN, never OK (issue 11).
    out.status(3);
    let j = out.json();
    assert_eq!(j["status"], "UNKNOWN");
    assert!(
        j["skipped"]["unreadable"].as_u64().unwrap() >= 1,
        "{}",
        j["skipped"]
    );
    let site1 = queue(&j, "site1");
    assert_eq!(site1["state"], "unreadable");
    assert!(
        site1["problem"]
            .as_str()
            .unwrap()
            .contains("Permission denied"),
        "{site1}"
    );
    let skipped = j["skipped"]["first"].to_string();
    assert!(skipped.contains("var/spool/mqueue/qf"), "{skipped}");
    // The readable part of the host queue is still scanned.
    let host_q = j["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "host /var/spool/mqueue")
        .unwrap();
    assert_eq!(host_q["messages"], 1);
}

#[test]
fn symlinks_out_of_the_site_and_loops_are_not_followed() {
    let s = fakeroot();
    // site3's queue is a symlink to a directory outside the site, full of mail.
    let outside = s.join("outside/mqueue");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("qf6AMoutside0001"), genuine_qf(&s)).unwrap();
    sparse(&outside.join("df6AMoutside0001"), 500 * MIB);
    std::fs::remove_dir(s.join(SITE3_QUEUE)).unwrap();
    symlink(&outside, s.join(SITE3_QUEUE)).unwrap();
    // site4's queue holds a symlink loop and a link back to its parent.
    let q4 = s.join("home/virtual/site4/fst/var/spool/mqueue");
    symlink("q2", q4.join("q1")).unwrap();
    symlink("q1", q4.join("q2")).unwrap();
    symlink("..", q4.join("up")).unwrap();
    // site2's var is a symlink to itself; a "site" that is a symlink to / is no site.
    let var2 = s.join("home/virtual/site2/fst/var");
    std::fs::rename(&var2, s.join("site2-var")).unwrap();
    symlink("var", &var2).unwrap();
    symlink("/", s.join("home/virtual/site6")).unwrap();
    let j = s.run(&["mqueue", "scan", "--json"]).status(0).json();
    let site3 = queue(&j, "site3");
    assert_eq!(site3["state"], "symlink");
    assert!(
        site3["problem"]
            .as_str()
            .unwrap()
            .contains("is a symlink to"),
        "{site3}"
    );
    assert_eq!(site3["bytes"], 0);
    assert!(
        j["totals"]["bytes"].as_u64().unwrap() < 200 * MIB,
        "the outside mail was counted"
    );
    let site4 = queue(&j, "site4");
    assert_eq!(site4["symlinks"].as_array().unwrap().len(), 3);
    assert_eq!(site4["messages"], 1);
    let site2 = queue(&j, "site2");
    assert_eq!(site2["state"], "symlink");
    assert!(j["queues"]
        .as_array()
        .unwrap()
        .iter()
        .all(|q| q["label"] != "site6"));
    let out = s.run(&["mqueue", "scan"]);
    out.status(0)
        .stdout_has("SYMLINK")
        .stdout_has("symlink not followed:");
}

#[test]
fn missing_sites_are_reported() {
    let s = fakeroot();
    let map = s.join("etc/virtualhosting/mappings/domainmap");
    let mut text = std::fs::read_to_string(&map).unwrap();
    text.push_str("gone.example.com = site9\n");
    std::fs::write(&map, text).unwrap();
    symlink("site9/fst", s.join("home/virtual/gone.example.com")).unwrap();
    std::fs::create_dir(s.join("home/virtual/site7")).unwrap();
    let j = s.run(&["mqueue", "scan", "--json"]).status(0).json();
    let skipped = j["skipped"]["first"].to_string();
    assert!(
        skipped.contains("maps gone.example.com to site9, which does not exist"),
        "{skipped}"
    );
    assert!(
        skipped.contains("symlink to site9/fst, which does not exist"),
        "{skipped}"
    );
    let site7 = queue(&j, "site7");
    assert_eq!(site7["state"], "missing");
    assert!(site7["site"]["notes"]
        .to_string()
        .contains("no fst directory"));
    s.run(&["mqueue", "scan", "--site", "gone.example.com"])
        .status(3);
}

#[test]
fn lost_and_quarantined_control_files() {
    let s = fakeroot();
    let q = s.join(SITE3_QUEUE);
    // sendmail renames a qf it cannot use to Qf, and a quarantined one to hf.
    std::fs::write(q.join("Qf6AMlost0000001"), b"garbage\n").unwrap();
    std::fs::write(q.join("df6AMlost0000001"), b"body\n").unwrap();
    let mut held = genuine_qf(&s);
    let at = held.iter().position(|&b| b == b'H').unwrap();
    held.splice(at..at, b"qsuspected spam\n".iter().copied());
    std::fs::write(q.join("hf6AMheld0000002"), held).unwrap();
    sparse(&q.join("df6AMheld0000002"), 22 * MIB);
    let j = s.run(&["mqueue", "scan", "--json"]).status(0).json();
    let site3 = queue(&j, "site3");
    assert_eq!(site3["anomalies"]["lost_qf"], 1);
    assert_eq!(site3["anomalies"]["quarantined"], 1);
    // The data file of the lost Qf has no usable control file.
    assert_eq!(site3["anomalies"]["df_without_qf"], 1);
    assert_eq!(site3["messages"], 0, "mailq does not count them either");
    let held = j["oversized"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["queue"] == "site3")
        .unwrap();
    assert_eq!(held["sender"], "jdoe@example.com");
    assert_eq!(held["damaged"], 0);
    assert_eq!(held["quarantine"], "suspected spam");
    s.run(&["mqueue", "scan"])
        .status(0)
        .stdout_has("anomalies: 1 df without qf (5 B), 1 lost Qf, 1 quarantined hf")
        .stdout_has("quarantined by sendmail: suspected spam");
}

/// An NIS compat line (`+`, `+@netgroup`, `-user`) in etc/passwd used to reject the whole file: every
/// site lost its admin and the scan went UNKNOWN. Now compat lines are passed over and a malformed
/// line is one counted, named, non-blinding skip; the sites keep their admins and the fix stays
/// possible.
#[test]
fn nis_compat_and_malformed_passwd_lines_do_not_reject_the_file() {
    let s = fakeroot();
    let passwd = std::fs::read_to_string(s.join("etc/passwd")).unwrap();
    let lines = passwd.lines().count();
    let odd = format!("{passwd}+@sysadmins\n-baduser\nbroken line without colons\n+::::::\n");
    s.write("etc/passwd", odd);
    let group = std::fs::read_to_string(s.join("etc/group")).unwrap();
    s.write("etc/group", format!("# local groups\n{group}+:::\n"));
    let j = s.run(&["mqueue", "scan", "--json"]).status(0).json();
    assert_eq!(j["status"], "OK");
    assert_eq!(j["skipped"]["count"], 1);
    assert_eq!(j["skipped"]["unreadable"], 0);
    let bad = j["skipped"]["first"][0]["path"].as_str().unwrap();
    assert!(
        bad.ends_with(&format!("/etc/passwd:{}", lines + 3)),
        "{bad}"
    );
    let site1 = queue(&j, "site1");
    assert_eq!(site1["site"]["admin"], "admin1");
    assert_eq!(site1["site"]["uid"], 501);
    assert!(site1["site"]["refused"].is_null(), "{site1}");
    s.run(&["mqueue", "fix", "--site", "site1", "--dry-run"])
        .status(0)
        .stdout_has("would change");
}
