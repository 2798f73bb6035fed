//! Issue 10 item 11: the plan shown is the plan applied. `mqueue fix` and `mqueue purge` read once,
//! plan once, show that plan and apply it; a target changed between the confirmation and the apply
//! is refused (or skipped) and reported, and nothing the plan did not name is touched or lost.

use crate::common::{assert_same_tree, snapshot_tree, Scenario};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FST: &str = "home/virtual/site1/fst";

/// (step, path, change, outcome, note) of every step of the first site, in a stable order.
fn steps(r: &Value) -> Vec<(u64, String, String, String, String)> {
    let mut v: Vec<_> = r["sites"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["step"].as_u64().unwrap(),
                s["path"].as_str().unwrap().to_string(),
                s["change"].as_str().unwrap().to_string(),
                s["outcome"].as_str().unwrap().to_string(),
                s["note"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn the_dry_run_plan_is_exactly_what_the_applied_run_does() {
    let s = Scenario::built_fakeroot();
    let args = ["mqueue", "fix", "--site", "example.com", "--chgrp-queued"];
    let dry = s.run(&[&args[..], &["--dry-run", "--json"]].concat());
    dry.status(0);
    let planned = steps(&dry.json());
    assert!(
        planned.iter().filter(|s| s.3 == "would_change").count() >= 5,
        "the fixture has changes to plan: {planned:#?}"
    );
    let applied = s.run(&[&args[..], &["--yes", "--json"]].concat());
    applied.status(0);
    let applied = steps(&applied.json());
    // Every step the dry run showed, and no other, was applied as shown: what would change changed,
    // what was already right stayed so, with the same paths, changes and notes.
    let expected: Vec<_> = planned
        .into_iter()
        .map(|(n, p, c, o, note)| {
            let o = if o == "would_change" {
                "changed".into()
            } else {
                o
            };
            (n, p, c, o, note)
        })
        .collect();
    assert_eq!(applied, expected);
}

/// Runs the fix with `--yes`, pausing after the confirmation (the debug-build hook
/// `TOOLKIT_PLAN_PAUSE`) to let `between` change the tree, and returns its exit status and JSON.
fn fix_with_change_between(s: &Scenario, between: impl FnOnce()) -> (i32, Value) {
    let args = ["mqueue", "fix", "--site", "example.com", "--yes", "--json"];
    run_with_change_between(s, &args, between)
}

fn run_with_change_between(s: &Scenario, args: &[&str], between: impl FnOnce()) -> (i32, Value) {
    let flag: PathBuf = s.path().with_extension("plan-pause");
    let _ = std::fs::remove_file(&flag);
    let child = Command::new(env!("CARGO_BIN_EXE_toolkit"))
        .arg("--root")
        .arg(s.path())
        .args(args)
        .env("TOOLKIT_PLAN_PAUSE", &flag)
        .env_remove("TOOLKIT_ROOT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run toolkit");
    let start = Instant::now();
    while !flag.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the fix never reached its apply"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    between();
    std::fs::remove_file(&flag).unwrap();
    let out = child.wait_with_output().unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

fn step<'a>(r: &'a Value, path: &str) -> &'a Value {
    r["sites"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"] == path)
        .unwrap_or_else(|| panic!("no step for {path}: {r:#}"))
}

#[test]
fn a_target_changed_between_confirmation_and_apply_is_refused_and_reported() {
    let s = Scenario::built_fakeroot();
    let fst = s.join(FST);
    let dry = s.run(&[
        "mqueue",
        "fix",
        "--site",
        "example.com",
        "--dry-run",
        "--json",
    ]);
    let dry = dry.json();
    for p in ["etc/aliases", "etc/mail/sendmail.mc", "var/spool/mqueue"] {
        assert_eq!(step(&dry, p)["outcome"], "would_change", "{p} is planned");
    }
    // The site admin (or an accident) between the confirmation and the apply: etc/aliases gets another
    // mode, and sendmail.mc is edited.
    let mut mid = Default::default();
    let (status, r) = fix_with_change_between(&s, || {
        std::fs::set_permissions(
            fst.join("etc/aliases"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        let mc = fst.join("etc/mail/sendmail.mc");
        let mut text = std::fs::read(&mc).unwrap();
        text.extend_from_slice(b"dnl edited by the site admin after the plan\n");
        std::fs::write(&mc, text).unwrap();
        mid = snapshot_tree(&fst);
    });
    assert_eq!(status, 1, "a refused step is a warning: {r:#}");
    let aliases = step(&r, "etc/aliases");
    assert_eq!(aliases["outcome"], "refused", "{aliases:#}");
    let note = aliases["note"].as_str().unwrap();
    assert!(
        note.contains("changed since the plan was made") && note.contains("mode 0644 -> 0600"),
        "{note}"
    );
    for p in ["etc/mail/sendmail.mc", "etc/sendmail.cf"] {
        let st = step(&r, p);
        assert_eq!(st["outcome"], "refused", "{p}: {st:#}");
        let note = st["note"].as_str().unwrap();
        assert!(
            note.contains("etc/mail/sendmail.mc: changed since the plan was made"),
            "{p}: {note}"
        );
    }
    assert_eq!(r["status"], "WARNING");
    assert_eq!(step(&r, "var/spool/mqueue")["outcome"], "changed");
    // Nothing the refused steps name was touched (no backup either), the changes made between stay,
    // and only what the plan named and applied changed.
    let after = snapshot_tree(&fst);
    let rel = |p: &str| Path::new(p).to_path_buf();
    for p in ["etc/aliases", "etc/mail/sendmail.mc", "etc/sendmail.cf"] {
        assert_eq!(
            after[&rel(p)],
            mid[&rel(p)],
            "{p} was changed after the refusal"
        );
    }
    assert!(!after.contains_key(&rel("etc/sendmail.cf.zorig")));
    assert!(!after.contains_key(&rel("etc/mail/sendmail.mc.zorig")));
    let changed: Vec<String> = r["sites"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["outcome"] == "changed")
        .map(|s| s["path"].as_str().unwrap().to_string())
        .collect();
    let mut expected_after = mid.clone();
    for (p, node) in &after {
        if changed.iter().any(|c| Path::new(c) == p) {
            expected_after.insert(p.clone(), node.clone());
        }
    }
    assert_same_tree(
        &expected_after,
        &after,
        "only the applied steps changed the site",
    );
    // A rerun plans again from what is there now and completes; the one after it finds all done.
    let rerun = s.run(&["mqueue", "fix", "--site", "example.com", "--yes", "--json"]);
    rerun.status(0);
    let again = s.run(&["mqueue", "fix", "--site", "example.com", "--yes", "--json"]);
    again.status(0);
    let again = again.json()["sites"][0]["steps"]
        .as_array()
        .unwrap()
        .clone();
    assert!(again.len() >= 5, "{again:#?}");
    for st in &again {
        assert_eq!(st["outcome"], "ok", "{st:#}");
    }
}

#[test]
fn a_queued_message_rewritten_after_the_purge_plan_is_left_whole_in_the_queue() {
    let s = Scenario::built_fakeroot();
    let q = s.join(&format!("{FST}/var/spool/mqueue"));
    let args = ["mqueue", "purge", "--site", "example.com", "--min", "20M"];
    let dry = s.run(&[&args[..], &["--dry-run", "--json"]].concat());
    dry.status(0);
    let dry = dry.json();
    let planned: Vec<String> = dry["sites"][0]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(planned.len(), 3, "{dry:#}");
    let victim = planned[0].clone();
    let before = snapshot_tree(s.path());
    let mut mid = Default::default();
    let yes = [&args[..], &["--yes", "--json"]].concat();
    // Between the confirmation and the apply, sendmail runs the message and rewrites its qf the way
    // it does (a new tf file renamed over the qf): the message is no longer the one planned.
    let (status, r) = run_with_change_between(&s, &yes, || {
        let qf = q.join(format!("qf{victim}"));
        let mut text = std::fs::read(&qf).unwrap();
        text.extend_from_slice(b"MDeferred: Connection refused\n");
        let tf = q.join(format!("tf{victim}"));
        std::fs::write(&tf, &text).unwrap();
        std::fs::rename(&tf, &qf).unwrap();
        mid = snapshot_tree(s.path());
    });
    assert_eq!(status, 1, "a skipped message is a warning: {r:#}");
    let messages = r["sites"][0]["messages"].as_array().unwrap();
    let ids: Vec<&str> = messages.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids, planned,
        "the messages applied are the messages planned"
    );
    for m in messages {
        if m["id"] == victim.as_str() {
            assert_eq!(m["outcome"], "skipped", "{m:#}");
            let detail = m["detail"].as_str().unwrap();
            assert!(
                detail.contains("changed since the plan was made"),
                "{detail}"
            );
        } else {
            assert_eq!(m["outcome"], "quarantined", "{m:#}");
        }
    }
    // The rewritten message is whole in the queue, as sendmail left it; nothing of any message was
    // lost: every queued file of the others is in the quarantine with its content.
    let after = snapshot_tree(s.path());
    let queue_rel = PathBuf::from(FST).join("var/spool/mqueue");
    for kind in ["qf", "df"] {
        let p = queue_rel.join(format!("{kind}{victim}"));
        assert_eq!(
            after.get(&p),
            mid.get(&p),
            "{p:?} changed after it was skipped"
        );
    }
    let quarantined: Vec<_> = after
        .iter()
        .filter(|(p, _)| p.starts_with("var/lib/toolkit/quarantine"))
        .collect();
    for (p, node) in &before {
        if !p.starts_with(&queue_rel) || p == &queue_rel {
            continue;
        }
        let name = p.file_name().unwrap();
        if after.contains_key(p) {
            continue;
        }
        assert!(
            quarantined
                .iter()
                .any(|(q, n)| q.file_name() == Some(name) && n.hash == node.hash),
            "{p:?} is neither in the queue nor, whole, in the quarantine"
        );
    }
}

#[test]
fn a_planned_name_that_is_not_utf8_is_applied_to_that_very_file() {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    let s = Scenario::built_fakeroot();
    let smrsh = s.join(&format!("{FST}/etc/smrsh"));
    let odd = smrsh.join(std::ffi::OsStr::from_bytes(b"prog\xff"));
    // Its lossy spelling names another file (planned too): a lookup by that spelling would find the
    // wrong file, and the step would be refused or change the other one.
    let lossy = smrsh.join("prog\u{fffd}");
    std::fs::write(&odd, "#!/bin/sh\n").unwrap();
    std::fs::write(&lossy, "#!/bin/sh\n").unwrap();
    std::os::unix::fs::lchown(&lossy, Some(0), Some(0)).unwrap();
    let out = s.run(&["mqueue", "fix", "--site", "example.com", "--yes", "--json"]);
    out.status(0);
    let m = odd.symlink_metadata().unwrap();
    assert_eq!((m.uid(), m.gid()), (501, 501), "{}", out.stdout);
}
