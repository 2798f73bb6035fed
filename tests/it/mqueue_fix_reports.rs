//! `mqueue fix` reports everything it did and did not do: step 5 counts changed, refused and skipped
//! queue files with the first paths (never "refused" alone when files were changed, never "ok" for a
//! queue it could not open), a cf that cannot be read holds the DefaultUser pair back and is named
//! with the cf left alone, the smrsh walk's depth limit is reported,
//! and an undo with nothing recorded says so. Each with a before/after snapshot.

use crate::common::{
    assert_same_tree, purge_snapshot, purge_snapshot_diff, snapshot_tree, Scenario,
};
use serde_json::Value;
use std::os::unix::fs::{symlink, MetadataExt};

const FST: &str = "home/virtual/site1/fst";
const Q: &str = "home/virtual/site1/fst/var/spool/mqueue";

fn fix(s: &Scenario, extra: &[&str]) -> (i32, Value) {
    let mut args = vec![
        "mqueue", "fix", "--site", "site1", "--yes", "--format", "json",
    ];
    args.extend_from_slice(extra);
    let out = s.run(&args);
    (out.status, out.json())
}

fn step5(r: &Value) -> Vec<Value> {
    r["sites"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["step"] == 5)
        .cloned()
        .collect()
}

fn with_outcome(steps: &[Value], outcome: &str) -> Value {
    steps
        .iter()
        .find(|s| s["outcome"] == outcome)
        .unwrap_or_else(|| panic!("no {outcome} step: {steps:#?}"))
        .clone()
}

#[test]
fn step5_counts_the_changed_and_the_refused_files_with_their_paths() {
    let s = Scenario::built_fakeroot();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("template");
    std::fs::write(&victim, "shared\n").unwrap();
    std::fs::hard_link(&victim, s.join(&format!("{Q}/qfHARDLINKED"))).unwrap();
    symlink(&victim, s.join(&format!("{Q}/dfSYMLINKED"))).unwrap();
    let queued = std::fs::read_dir(s.join(Q)).unwrap().count() - 2;
    let before_outside = purge_snapshot(outside.path());
    let (status, r) = fix(&s, &["--chgrp-queued"]);
    assert_eq!(status, 1, "refused files make it a warning: {r:#}");
    let steps = step5(&r);
    let changed = with_outcome(&steps, "changed");
    assert_eq!(
        changed["change"],
        format!("group of {queued} queue file(s) -> admin1"),
        "{steps:#?}"
    );
    let refused = with_outcome(&steps, "refused");
    assert_eq!(refused["change"], "group of 2 queue file(s) not changed");
    let note = refused["note"].as_str().unwrap();
    assert!(
        note.contains("dfSYMLINKED: is a symlink")
            && note.contains("qfHARDLINKED: has 2 hard links"),
        "{note}"
    );
    assert_eq!(
        purge_snapshot_diff(&before_outside, &purge_snapshot(outside.path())),
        Vec::<String>::new()
    );
    for e in std::fs::read_dir(s.join(Q)).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        let m = e.path().symlink_metadata().unwrap();
        if name.ends_with("LINKED") {
            assert_ne!(m.gid(), 501, "{name} was changed");
        } else {
            assert_eq!(m.gid(), 501, "{name} not changed");
        }
    }
}

#[test]
fn step5_on_a_symlinked_or_missing_queue_is_refused_not_ok() {
    for attack in ["symlink", "missing"] {
        let s = Scenario::built_fakeroot();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("qfELSEWHERE"), "V8\n").unwrap();
        std::fs::remove_dir_all(s.join(Q)).unwrap();
        if attack == "symlink" {
            symlink(outside.path(), s.join(Q)).unwrap();
        }
        let before = purge_snapshot(outside.path());
        let (status, r) = fix(&s, &["--chgrp-queued"]);
        assert_eq!(status, 1, "{attack}: {r:#}");
        let steps = step5(&r);
        let refused = with_outcome(&steps, "refused");
        let note = refused["note"].as_str().unwrap();
        assert!(
            note.contains(if attack == "symlink" {
                "symlink"
            } else {
                "does not exist"
            }),
            "{attack}: {note}"
        );
        assert!(
            steps.iter().all(|s| s["outcome"] != "ok"),
            "{attack}: {steps:#?}"
        );
        assert_eq!(
            purge_snapshot_diff(&before, &purge_snapshot(outside.path())),
            Vec::<String>::new(),
            "{attack}"
        );
    }
}

/// The site admin makes etc/sendmail.cf (the cf the site's sendmail reads) a symlink out of the site,
/// beside a copy in etc/mail/. Editing etc/mail/sendmail.cf instead would report a change sendmail
/// never sees: the DefaultUser pair is refused, and the report names the symlink, the cf left alone
/// and the mc held back with it.
#[test]
fn a_cf_symlink_refuses_the_default_user_pair_and_etc_mail_sendmail_cf_is_not_edited_instead() {
    let s = Scenario::built_fakeroot();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("sendmail.cf");
    let cf = s.join(&format!("{FST}/etc/sendmail.cf"));
    std::fs::copy(&cf, &victim).unwrap();
    std::fs::copy(&cf, s.join(&format!("{FST}/etc/mail/sendmail.cf"))).unwrap();
    std::fs::remove_file(&cf).unwrap();
    symlink(&victim, &cf).unwrap();
    let before = purge_snapshot(outside.path());
    let site_before = snapshot_tree(&s.join(&format!("{FST}/etc/mail")));
    let (status, r) = fix(&s, &[]);
    assert_eq!(status, 1, "a refused step is a WARNING: {r:#}");
    let steps = r["sites"][0]["steps"].as_array().unwrap();
    let step = |p: &str| {
        steps
            .iter()
            .find(|s| s["path"] == p && s["step"] == 4)
            .unwrap_or_else(|| panic!("no step 4 for {p}: {steps:#?}"))
            .clone()
    };
    let link = step("etc/sendmail.cf");
    assert_eq!(link["outcome"], "refused", "{link:#}");
    let note = link["note"].as_str().unwrap();
    assert!(
        note.contains("symlink")
            && note.contains("etc/mail/sendmail.cf is not edited in its place"),
        "{note}"
    );
    let mc = step("etc/mail/sendmail.mc");
    assert_eq!(mc["outcome"], "refused", "{mc:#}");
    let note = mc["note"].as_str().unwrap();
    assert!(
        note.contains("etc/sendmail.cf: is a symlink")
            && note.contains("sendmail.mc and sendmail.cf change together or not at all"),
        "{note}"
    );
    assert!(
        steps
            .iter()
            .all(|s| s["path"] != "etc/mail/sendmail.cf" || s["outcome"] != "changed"),
        "{steps:#?}"
    );
    // Neither file of the pair, nor the other cf, nor anything outside the site changed; no backup.
    assert_same_tree(
        &site_before,
        &snapshot_tree(&s.join(&format!("{FST}/etc/mail"))),
        "etc/mail is untouched",
    );
    assert!(!s.join(&format!("{FST}/etc/sendmail.cf.zorig")).exists());
    assert!(std::fs::symlink_metadata(&cf)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        purge_snapshot_diff(&before, &purge_snapshot(outside.path())),
        Vec::<String>::new()
    );
}

#[test]
fn smrsh_entries_deeper_than_the_walk_are_reported_not_skipped_silently() {
    let s = Scenario::built_fakeroot();
    let mut rel = format!("{FST}/etc/smrsh");
    for i in 1..=18 {
        rel.push_str(&format!("/d{i}"));
    }
    s.write(&format!("{rel}/deep-program"), "#!/bin/sh\n");
    let deep_top = s.join(&format!(
        "{FST}/etc/smrsh/d1/d2/d3/d4/d5/d6/d7/d8/d9/d10/d11/d12/d13/d14/d15/d16/d17"
    ));
    let before = purge_snapshot(&deep_top);
    let (status, r) = fix(&s, &[]);
    assert_eq!(status, 1, "{r:#}");
    let steps = r["sites"][0]["steps"].as_array().unwrap();
    let limit = steps
        .iter()
        .find(|s| {
            s["outcome"] == "refused"
                && s["note"]
                    .as_str()
                    .unwrap()
                    .contains("more than 16 directories deep")
        })
        .unwrap_or_else(|| panic!("the depth limit is not reported: {steps:#?}"));
    assert!(limit["path"].as_str().unwrap().ends_with("/d17"), "{limit}");
    // The directory at the limit is the last one changed; nothing inside it is.
    let inside = |snap: std::collections::BTreeMap<String, crate::common::PurgeMeta>| {
        snap.into_iter()
            .filter(|(k, _)| !k.is_empty())
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    assert_eq!(
        purge_snapshot_diff(&inside(before), &inside(purge_snapshot(&deep_top))),
        Vec::<String>::new(),
        "below the limit nothing changes"
    );
}

#[test]
fn undo_with_nothing_recorded_says_so() {
    let s = Scenario::built_fakeroot();
    let before = purge_snapshot(s.path());
    let out = s.run(&["mqueue", "fix", "--site", "site1", "--undo", "--yes"]);
    out.status(0)
        .stdout_has("undo of 1 site(s): nothing to undo")
        .stdout_has("no fix of site1 is recorded");
    let mut after = purge_snapshot(s.path());
    after.retain(|k, _| !k.starts_with("var/lib"));
    let mut before = before;
    before.retain(|k, _| !k.starts_with("var/lib"));
    assert_eq!(purge_snapshot_diff(&before, &after), Vec::<String>::new());
}
