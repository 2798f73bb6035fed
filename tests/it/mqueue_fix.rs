//! `toolkit mqueue fix`: every step dry-run and applied, idempotence, the attacks (symlinks, hard
//! links, pre-created backup names), an interrupted run, undo to the exact previous state, and no
//! terminal. Runs as root on real files: owners and modes are checked for real.

use crate::common::Scenario;
use serde_json::Value;
use std::collections::BTreeMap;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::Path;

/// Everything about every object under `dir` that a fix may change: owner, group, mode, content.
pub fn snapshot(dir: &Path) -> BTreeMap<String, (u32, u32, u32, Vec<u8>)> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
    {
        let e = e.unwrap();
        let m = e.path().symlink_metadata().unwrap();
        let content = if m.file_type().is_symlink() {
            std::fs::read_link(e.path())
                .unwrap()
                .into_os_string()
                .into_encoded_bytes()
        } else if m.is_file() && m.len() < 1 << 20 {
            std::fs::read(e.path()).unwrap()
        } else {
            m.len().to_le_bytes().to_vec()
        };
        let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
        out.insert(rel, (m.uid(), m.gid(), m.mode() & 0o7777, content));
    }
    out
}

pub type Snapshot = BTreeMap<String, (u32, u32, u32, Vec<u8>)>;

/// Compares snapshots, naming only the paths that differ.
#[track_caller]
pub fn assert_same(expected: &Snapshot, actual: &Snapshot, what: &str) {
    let mut diffs = Vec::new();
    for k in expected.keys().chain(actual.keys()) {
        match (expected.get(k), actual.get(k)) {
            (Some(a), Some(b)) if a == b => {}
            (Some(a), Some(b)) => diffs.push(format!(
                "{k}: {:?} -> {:?}{}",
                (a.0, a.1, format!("{:o}", a.2)),
                (b.0, b.1, format!("{:o}", b.2)),
                if a.3 != b.3 { " (content)" } else { "" }
            )),
            (a, b) => diffs.push(format!(
                "{k}: {} -> {}",
                if a.is_some() { "present" } else { "absent" },
                if b.is_some() { "present" } else { "absent" }
            )),
        }
    }
    diffs.dedup();
    assert!(diffs.is_empty(), "{what}:\n{}", diffs.join("\n"));
}

pub fn steps(r: &Value) -> Vec<(String, String)> {
    r["sites"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["path"].as_str().unwrap().to_string(),
                s["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub fn outcome(r: &Value, path: &str) -> String {
    steps(r)
        .into_iter()
        .find(|(p, _)| p == path)
        .unwrap_or_else(|| panic!("no step for {path}: {r:#}"))
        .1
}

const FST: &str = "home/virtual/site1/fst";

fn meta(s: &Scenario, rel: &str) -> (u32, u32, u32) {
    let m = s.join(&format!("{FST}/{rel}")).symlink_metadata().unwrap();
    (m.uid(), m.gid(), m.mode() & 0o7777)
}

#[test]
fn dry_run_changes_nothing_then_apply_then_second_run_is_all_ok() {
    let s = Scenario::built_fakeroot();
    let before = snapshot(s.path());
    let out = s.run(&[
        "mqueue",
        "fix",
        "--site",
        "example.com",
        "--dry-run",
        "--format",
        "json",
    ]);
    let r = out.json();
    assert_eq!(snapshot(s.path()), before, "dry run changed something");
    assert_eq!(outcome(&r, "var/spool/mqueue"), "would_change");
    assert_eq!(outcome(&r, "etc/sendmail.cf"), "would_change");
    assert_eq!(outcome(&r, "etc/sendmail.cf.zorig"), "would_change");

    let out = s.run(&[
        "mqueue",
        "fix",
        "--site",
        "example.com",
        "--yes",
        "--format",
        "json",
    ]);
    let r = out.json();
    assert_eq!(outcome(&r, "var/spool/mqueue"), "changed");
    // root:admin1, setgid, 2770: what a root-run sendmail can still queue in (mqueue_fix_sendmail).
    assert_eq!(meta(&s, "var/spool/mqueue"), (0, 501, 0o2770));
    assert_eq!(meta(&s, "etc/smrsh"), (501, 501, 0o755));
    assert_eq!(meta(&s, "etc/aliases"), (501, 501, 0o644));
    let cf = std::fs::read_to_string(s.join(&format!("{FST}/etc/sendmail.cf"))).unwrap();
    assert!(cf.contains("\nO DefaultUser=501:501\n"));
    let mc = std::fs::read_to_string(s.join(&format!("{FST}/etc/mail/sendmail.mc"))).unwrap();
    assert!(
        mc.contains("define(`confDEF_USER_ID', `501:501')dnl"),
        "{mc}"
    );
    let zorig = std::fs::read_to_string(s.join(&format!("{FST}/etc/sendmail.cf.zorig"))).unwrap();
    assert!(
        zorig.contains("\nO DefaultUser=mail:mail\n"),
        "the backup holds the old cf"
    );

    let applied = snapshot(s.path());
    let again = s.run(&[
        "mqueue",
        "fix",
        "--site",
        "example.com",
        "--yes",
        "--format",
        "json",
    ]);
    again.status(0);
    let again = again.json();
    assert!(steps(&again).len() >= 5, "{again:#}");
    for (path, o) in steps(&again) {
        assert_eq!(o, "ok", "{path} on the second run");
    }
    assert_eq!(
        snapshot(s.path()),
        applied,
        "the second run changed something"
    );

    let scan = s.run(&[
        "mqueue",
        "scan",
        "--site",
        "example.com",
        "--format",
        "json",
    ]);
    assert!(
        scan.stdout.contains("\"bound\": true"),
        "scan does not see the queue bound:\n{}",
        scan.stdout
    );
}

#[test]
fn no_terminal_and_no_yes_refuses_and_changes_nothing() {
    let s = Scenario::built_fakeroot();
    let before = snapshot(s.path());
    let out = s.run(&["mqueue", "fix", "--site", "site1"]);
    out.status(3).stderr_has("--yes");
    assert_eq!(snapshot(s.path()), before);
}

/// Stock Ensim smrsh holds links to programs (vacation, procmail); one planted to a root file outside
/// is treated the same way: left alone, never followed, reported ok, and its target keeps its owner.
#[test]
fn smrsh_symlink_to_a_root_file_outside_is_left_alone_not_followed() {
    let s = Scenario::built_fakeroot();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("shadow");
    std::fs::write(&victim, "root:*:19000::::::\n").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
    symlink(&victim, s.join(&format!("{FST}/etc/smrsh/evil"))).unwrap();
    let before = snapshot(outside.path());
    let r = s
        .run(&[
            "mqueue", "fix", "--site", "site1", "--yes", "--format", "json",
        ])
        .json();
    for link in ["etc/smrsh/evil", "etc/smrsh/vacation", "etc/smrsh/procmail"] {
        assert_eq!(outcome(&r, link), "ok", "{link}");
        let m = s.join(&format!("{FST}/{link}")).symlink_metadata().unwrap();
        assert!(m.file_type().is_symlink(), "{link} is still a symlink");
    }
    let note = r["sites"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["path"] == "etc/smrsh/evil")
        .unwrap()["note"]
        .clone();
    assert_eq!(note, "symlink, not followed");
    assert_eq!(
        snapshot(outside.path()),
        before,
        "the file outside the site changed"
    );
    assert_eq!(
        meta(&s, "etc/smrsh"),
        (501, 501, 0o755),
        "the rest of the step still happened"
    );
}

#[test]
fn aliases_symlink_and_hard_link_are_refused() {
    for attack in ["symlink", "hardlink"] {
        let s = Scenario::built_fakeroot();
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("aliases-template");
        std::fs::write(&victim, "postmaster: root\n").unwrap();
        let aliases = s.join(&format!("{FST}/etc/aliases"));
        std::fs::remove_file(&aliases).unwrap();
        if attack == "symlink" {
            symlink(&victim, &aliases).unwrap();
        } else {
            std::fs::hard_link(&victim, &aliases).unwrap();
        }
        let before = snapshot(outside.path());
        let r = s
            .run(&[
                "mqueue", "fix", "--site", "site1", "--yes", "--format", "json",
            ])
            .json();
        assert_eq!(outcome(&r, "etc/aliases"), "refused", "{attack}");
        let note = r["sites"][0]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["path"] == "etc/aliases")
            .unwrap()["note"]
            .clone();
        assert!(
            note.as_str().unwrap().contains(if attack == "symlink" {
                "symlink"
            } else {
                "hard links"
            }),
            "{note}"
        );
        assert_eq!(
            snapshot(outside.path()),
            before,
            "{attack}: the file outside the site changed"
        );
    }
}

#[test]
fn queue_directory_replaced_by_a_symlink_is_refused() {
    let s = Scenario::built_fakeroot();
    let outside = tempfile::tempdir().unwrap();
    std::fs::set_permissions(outside.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let q = s.join(&format!("{FST}/var/spool/mqueue"));
    std::fs::remove_dir_all(&q).unwrap();
    symlink(outside.path(), &q).unwrap();
    let before = snapshot(outside.path());
    let out = s.run(&[
        "mqueue",
        "fix",
        "--site",
        "site1",
        "--yes",
        "--chgrp-queued",
        "--format",
        "json",
    ]);
    out.status(1);
    let r = out.json();
    assert_eq!(outcome(&r, "var/spool/mqueue"), "refused");
    assert_eq!(snapshot(outside.path()), before);
    let m = outside.path().metadata().unwrap();
    assert_eq!((m.uid(), m.mode() & 0o7777), (0, 0o700));
}

#[test]
fn a_symlink_at_the_backup_name_is_refused_and_the_file_not_edited() {
    let s = Scenario::built_fakeroot();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("cf-target");
    std::fs::write(&victim, "precious\n").unwrap();
    symlink(&victim, s.join(&format!("{FST}/etc/sendmail.cf.zorig"))).unwrap();
    let cf_before = std::fs::read(s.join(&format!("{FST}/etc/sendmail.cf"))).unwrap();
    let mc_before = std::fs::read(s.join(&format!("{FST}/etc/mail/sendmail.mc"))).unwrap();
    let r = s
        .run(&[
            "mqueue", "fix", "--site", "site1", "--yes", "--format", "json",
        ])
        .json();
    assert_eq!(outcome(&r, "etc/sendmail.cf"), "refused");
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious\n");
    assert_eq!(
        std::fs::read(s.join(&format!("{FST}/etc/sendmail.cf"))).unwrap(),
        cf_before,
        "no backup, no edit"
    );
    assert_eq!(
        std::fs::read(s.join(&format!("{FST}/etc/mail/sendmail.mc"))).unwrap(),
        mc_before,
        "the mc is not edited alone: the DefaultUser pair changes together"
    );
}

#[test]
fn interrupted_runs_leave_old_or_new_and_a_rerun_completes_and_undo_restores_exactly() {
    let pristine = snapshot(Scenario::built_fakeroot().path());
    for fail_at in [1, 2, 3, 5, 8, 13] {
        let s = Scenario::built_fakeroot();
        let before = snapshot(s.path());
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_toolkit"));
        cmd.args(["--root"]).arg(s.path()).args([
            "mqueue",
            "fix",
            "--site",
            "site1",
            "--yes",
            "--chgrp-queued",
            "--format",
            "json",
        ]);
        cmd.env("TOOLKIT_INJECT_FAILURE", fail_at.to_string());
        let out = crate::common::run_cmd(&mut cmd);
        assert_eq!(
            out.status, 2,
            "fail_at {fail_at}: a failed step is exit 2\n{}",
            out.stdout
        );
        // Every file is either as it was or as the fix makes it: no temporary file, no partial content.
        let cf = std::fs::read_to_string(s.join(&format!("{FST}/etc/sendmail.cf"))).unwrap();
        assert!(
            cf.contains("\nO DefaultUser=mail:mail\n") || cf.contains("\nO DefaultUser=501:501\n")
        );
        let leftovers: Vec<String> = snapshot(s.path())
            .into_keys()
            .filter(|k| k.contains(".toolkit-new."))
            .collect();
        assert!(leftovers.is_empty(), "fail_at {fail_at}: {leftovers:?}");
        // A rerun completes the fix.
        let r = s
            .run(&[
                "mqueue",
                "fix",
                "--site",
                "site1",
                "--yes",
                "--chgrp-queued",
                "--format",
                "json",
            ])
            .json();
        assert!(
            steps(&r)
                .iter()
                .all(|(_, o)| o != "failed" && o != "refused"),
            "fail_at {fail_at}: {r:#}"
        );
        assert_eq!(meta(&s, "var/spool/mqueue"), (0, 501, 0o2770));
        // Undo returns the site to exactly its previous state (the backups it made stay).
        s.run(&["mqueue", "fix", "--site", "site1", "--undo", "--yes"])
            .status(0);
        let mut after = snapshot(s.path());
        // The backups the fix made stay, and so does its journal (marked undone).
        after.retain(|k, _| {
            !(k.starts_with("var/lib") || (k.starts_with(FST) && k.contains(".zorig")))
        });
        let mut expected = before.clone();
        expected.retain(|k, _| !k.starts_with("var/lib"));
        assert_same(
            &expected,
            &after,
            &format!("fail_at {fail_at}: undo did not restore the exact previous state"),
        );
        assert_eq!(before, pristine);
    }
}

#[test]
fn all_selects_sites_with_local_host_names_and_options_apply() {
    let s = Scenario::built_fakeroot();
    std::fs::write(
        s.join("home/virtual/site3/fst/etc/mail/local-host-names"),
        "\n  \n",
    )
    .unwrap();
    let r = s
        .run(&["mqueue", "fix", "--all", "--dry-run", "--format", "json"])
        .json();
    let sites: Vec<&str> = r["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["site"].as_str().unwrap())
        .collect();
    assert!(
        !sites.contains(&"site3"),
        "blank local-host-names is empty: {sites:?}"
    );
    assert!(sites.contains(&"site1"));
    let out = s.run(&[
        "mqueue", "fix", "--site", "site1", "--owner", "root", "--mode", "2777", "--yes",
    ]);
    out.stdout_has("world-writable");
    assert_eq!(meta(&s, "var/spool/mqueue"), (0, 501, 0o2777));
    let m4 = s.run(&["mqueue", "fix", "--site", "site4", "--m4", "--yes"]);
    m4.stdout_has("fake root: m4 is not run");
    s.run(&["mqueue", "fix", "--site", "nosuch.example"])
        .status(3)
        .stderr_has("nosuch.example");
    s.run(&["mqueue", "fix", "--site", "site1", "--mode", "4770"])
        .status(3)
        .stderr_has("setuid");
}
