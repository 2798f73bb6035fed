//! `mqueue fix` and `--undo` against a hostile site admin and a killed run (issue 10): huge files,
//! content edited after the fix, torn journal entries, a run killed while writing a backup, names that
//! are not UTF-8, setuid/setgid programs, and batched journaling of a big queue. Every test reproduces
//! the attack or the interruption, then compares before/after snapshots of the whole fake root
//! (owner, group, mode, content hash of every object) and checks that a rerun and an undo complete.

use crate::common::{assert_same_tree, run_cmd, snapshot_tree, Node, Output, Scenario};
use serde_json::Value;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

const FST: &str = "home/virtual/site1/fst";
const MC: &str = "home/virtual/site1/fst/etc/mail/sendmail.mc";
const QUEUE: &str = "home/virtual/site1/fst/var/spool/mqueue";

type Tree = BTreeMap<PathBuf, Node>;

fn fix_cmd(s: &Scenario, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_toolkit"));
    cmd.arg("--root").arg(s.path()).args(["mqueue", "fix"]);
    cmd.args(args).args(["--format", "json"]);
    cmd
}

fn fix(s: &Scenario, args: &[&str]) -> Output {
    run_cmd(&mut fix_cmd(s, args))
}

/// What a fix leaves on purpose once undone: its journal (var/lib/toolkit; the fixture has no var/lib) and the copies it keeps
/// beside files (`.zorig*` backups, `.zundo-*` copies) are left out; everything else must be back.
fn restorable(t: &Tree) -> Tree {
    t.iter()
        .filter(|(k, _)| {
            let name = k.as_os_str().as_bytes();
            !k.starts_with("var/lib") && !contains(name, b".zorig") && !contains(name, b".zundo-")
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Every path in the tree with a temporary name of the safe operations.
fn temporaries(t: &Tree) -> Vec<PathBuf> {
    t.keys()
        .filter(|k| contains(k.as_os_str().as_bytes(), b".toolkit-new."))
        .cloned()
        .collect()
}

fn steps(r: &Value, site: usize) -> Vec<Value> {
    r["sites"][site]["steps"].as_array().unwrap().clone()
}

fn step<'a>(steps: &'a [Value], path_end: &str) -> &'a Value {
    steps
        .iter()
        .find(|s| s["path"].as_str().unwrap().ends_with(path_end))
        .unwrap_or_else(|| panic!("no step for {path_end}: {steps:#?}"))
}

/// The kill points (`TOOLKIT_INJECT_KILL_TRACE`) of a run on a copy of `template`.
fn kill_points(template: &Scenario, args: &[&str]) -> Vec<(usize, String)> {
    let s = template.clone_tree();
    let out = run_cmd(fix_cmd(&s, args).env("TOOLKIT_INJECT_KILL_TRACE", "1"));
    out.stderr
        .lines()
        .filter_map(|l| l.strip_prefix("kill point "))
        .map(|l| {
            let (n, what) = l.split_once(": ").unwrap();
            (n.parse().unwrap(), what.to_string())
        })
        .collect()
}

/// The data limit a fix runs under in the memory tests: a few MiB are all it needs.
const DATA_LIMIT: u64 = 100 << 20;

/// Runs the command with its data segment (heap and private writable mappings, `RLIMIT_DATA`)
/// limited to [`DATA_LIMIT`]: a run that tries to hold more in memory fails to allocate and aborts,
/// so a test shows memory stays small without timing anything. (The peak RSS that `wait4` reports
/// cannot show it: Linux counts the test process's own peak into a child's `ru_maxrss` at its exec.)
fn run_limited(cmd: &mut Command) -> Output {
    use std::os::unix::process::CommandExt;
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::resource::setrlimit(
                nix::sys::resource::Resource::RLIMIT_DATA,
                DATA_LIMIT,
                DATA_LIMIT,
            )
            .map_err(std::io::Error::from)
        });
    }
    run_cmd(cmd)
}

#[test]
fn a_sparse_2_tib_sendmail_mc_is_refused_with_its_size_and_the_other_sites_are_fixed() {
    let s = Scenario::built_fakeroot();
    // The attack: site1's admin makes sendmail.mc a 2 TiB sparse file (no disk used).
    std::fs::OpenOptions::new()
        .write(true)
        .open(s.join(MC))
        .unwrap()
        .set_len(2 << 40)
        .unwrap();
    let before = snapshot_tree(s.path());
    // The limit bites: a program that reads 1 GiB of the file at once cannot run under it.
    let control = run_limited(
        Command::new("dd")
            .arg(format!("if={}", s.join(MC).display()))
            .args(["of=/dev/null", "bs=1G", "count=1"]),
    );
    assert_ne!(
        control.status, 0,
        "dd ran under the limit: {}",
        control.stderr
    );
    for mode in ["--dry-run", "--yes"] {
        // Under the limit, a run that read the file would abort (no exit status 1, no report).
        let out = run_limited(&mut fix_cmd(&s, &["--all", mode]));
        // A refused step makes the run WARNING (exit 1), as every refusal does: no abort, no failure.
        assert_eq!(out.status, 1, "{mode}\n{}\n{}", out.stdout, out.stderr);
        let r: Value = serde_json::from_str(&out.stdout).unwrap();
        let site1 = steps(&r, 0);
        let mc = step(&site1, "etc/mail/sendmail.mc");
        assert_eq!(mc["outcome"], "refused", "{mc:#}");
        let note = mc["note"].as_str().unwrap();
        assert!(
            note.contains("2.0 TiB (2199023255552 bytes)") && note.contains("512 KiB"),
            "{note}"
        );
        let sites = r["sites"].as_array().unwrap();
        assert_eq!(sites.len(), 4, "every site with local-host-names is fixed");
        // site2 is fixed already; site3 and site4 go on.
        for site in &sites[2..] {
            let cf = step(site["steps"].as_array().unwrap(), "etc/sendmail.cf").clone();
            let want = if mode == "--yes" {
                "changed"
            } else {
                "would_change"
            };
            assert_eq!(cf["outcome"], want, "{site:#}");
        }
        if mode == "--dry-run" {
            assert_same_tree(
                &before,
                &snapshot_tree(s.path()),
                "a dry run changes nothing",
            );
        }
    }
    let after = snapshot_tree(s.path());
    assert_eq!(
        after[Path::new(MC)],
        before[Path::new(MC)],
        "the mc is untouched"
    );
    assert!(
        !s.join(&format!("{MC}.zorig")).exists(),
        "no backup of a file that was refused"
    );
    for (k, v) in &after {
        if before.get(k) != Some(v) {
            assert!(
                k.starts_with("home/virtual/") || k.starts_with("var/lib"),
                "changed outside the sites and the journal: {k:?}"
            );
        }
    }
    // A rerun changes nothing more; undo of every site restores everything but the backups.
    let again = fix(&s, &["--all", "--yes"]);
    assert_eq!(again.status, 1, "{}", again.stdout);
    assert_same_tree(&after, &snapshot_tree(s.path()), "a rerun changes nothing");
    let undo = fix(
        &s,
        &[
            "--site", "site1", "--site", "site2", "--site", "site3", "--site", "site4", "--undo",
            "--yes",
        ],
    );
    assert_eq!(undo.status, 0, "{}", undo.stdout);
    assert_same_tree(
        &restorable(&before),
        &restorable(&snapshot_tree(s.path())),
        "undo restores every site",
    );
}

#[test]
fn undo_refuses_content_edited_since_the_fix_and_force_keeps_the_edit_as_a_copy() {
    let s = Scenario::built_fakeroot();
    let before = snapshot_tree(s.path());
    let original = std::fs::read(s.join(MC)).unwrap();
    assert_eq!(fix(&s, &["--site", "site1", "--yes"]).status, 0);
    // The site admin edits the mc after the fix (appending keeps owner and mode).
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(s.join(MC))
            .unwrap();
        f.write_all(b"dnl the admin's own change after the fix\n")
            .unwrap();
    }
    let edited = std::fs::read(s.join(MC)).unwrap();
    let out = fix(&s, &["--site", "site1", "--undo", "--yes"]);
    assert_eq!(
        out.status, 1,
        "a refused restore is a WARNING\n{}",
        out.stdout
    );
    let r: Value = serde_json::from_str(&out.stdout).unwrap();
    let mc = step(&steps(&r, 0), "etc/mail/sendmail.mc").clone();
    assert_eq!(mc["outcome"], "refused", "{mc:#}");
    assert!(
        mc["note"]
            .as_str()
            .unwrap()
            .contains("content changed since the fix"),
        "{mc:#}"
    );
    assert_eq!(
        std::fs::read(s.join(MC)).unwrap(),
        edited,
        "the edit is kept"
    );
    let cf = s.join(&format!("{FST}/etc/sendmail.cf"));
    assert_eq!(
        std::fs::read(&cf).unwrap(),
        std::fs::read(s.join(&format!("{FST}/etc/sendmail.cf.zorig"))).unwrap(),
        "everything else was undone"
    );
    // --force restores, after keeping the edited content, complete, with the file's owner and mode.
    let out = fix(&s, &["--site", "site1", "--undo", "--yes", "--force"]);
    assert_eq!(out.status, 0, "{}", out.stdout);
    assert_eq!(std::fs::read(s.join(MC)).unwrap(), original);
    let kept: Vec<PathBuf> = std::fs::read_dir(s.join(&format!("{FST}/etc/mail")))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("sendmail.mc.zundo-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(std::fs::read(&kept[0]).unwrap(), edited);
    let (k, m) = (
        std::fs::metadata(&kept[0]).unwrap(),
        std::fs::metadata(s.join(MC)).unwrap(),
    );
    assert_eq!((k.uid(), k.gid(), k.mode()), (m.uid(), m.gid(), m.mode()));
    assert_same_tree(
        &restorable(&before),
        &restorable(&snapshot_tree(s.path())),
        "force undo restores the exact previous state",
    );
    // Nothing is left to undo, and a rerun of the fix still works.
    let none = fix(&s, &["--site", "site1", "--undo", "--yes"]);
    assert_eq!(none.status, 0, "{}", none.stdout);
    assert_eq!(fix(&s, &["--site", "site1", "--yes"]).status, 0);
}

#[test]
fn a_torn_journal_entry_is_reported_and_skipped_and_everything_else_is_undone() {
    let s = Scenario::built_fakeroot();
    let before = snapshot_tree(s.path());
    assert_eq!(fix(&s, &["--site", "site1", "--yes"]).status, 0);
    // A run of site3 killed while it writes its first journal entry, halfway through the content.
    let args = ["--site", "site3", "--yes"];
    let at = kill_points(&s, &args)
        .into_iter()
        .find(|(_, w)| w.starts_with("half written") && w.ends_with("/0001.json"))
        .expect("a kill point in the first journal entry")
        .0;
    let killed = run_cmd(fix_cmd(&s, &args).env("TOOLKIT_INJECT_KILL", at.to_string()));
    assert_eq!(killed.status, -1, "killed by SIGKILL: {}", killed.stderr);
    let site3_journal = s.join("var/lib/toolkit/mqueue-fix/site3");
    let runs: Vec<PathBuf> = std::fs::read_dir(&site3_journal)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1);
    let names: Vec<String> = std::fs::read_dir(&runs[0])
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| n.starts_with(".0001.json.toolkit-new.")),
        "the entry name holds a complete entry or does not exist: {names:?}"
    );
    // Entries torn as an older version or a damaged disk leaves them: empty, and cut in the middle.
    let site1_runs: Vec<PathBuf> = std::fs::read_dir(s.join("var/lib/toolkit/mqueue-fix/site1"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(site1_runs.len(), 1);
    let run = &site1_runs[0];
    std::fs::write(run.join("0098.json"), b"").unwrap();
    let whole = std::fs::read(run.join("0001.json")).unwrap();
    std::fs::write(run.join("0099.json"), &whole[..whole.len() / 2]).unwrap();
    let out = fix(&s, &["--site", "site1", "--undo", "--yes"]);
    assert_eq!(
        out.status, 1,
        "what was not undone makes a WARNING\n{}",
        out.stdout
    );
    let r: Value = serde_json::from_str(&out.stdout).unwrap();
    let st = steps(&r, 0);
    for (entry, why) in [("0098.json", "(empty)"), ("0099.json", "EOF")] {
        let torn = step(&st, entry);
        assert_eq!(torn["outcome"], "refused", "{torn:#}");
        let note = torn["note"].as_str().unwrap();
        assert!(
            note.contains("skipped, not undone") && note.contains(why),
            "{note}"
        );
    }
    let restored = st.iter().filter(|s| s["outcome"] == "changed").count();
    assert!(restored >= 5, "the readable entries are undone: {st:#?}");
    // site3's killed run changed nothing (the journal comes first): its undo has nothing to do and
    // removes the temporary file; a rerun of site3 and its undo complete.
    assert_eq!(fix(&s, &["--site", "site3", "--undo", "--yes"]).status, 0);
    assert_eq!(fix(&s, &["--site", "site3", "--yes"]).status, 0);
    assert_eq!(fix(&s, &["--site", "site3", "--undo", "--yes"]).status, 0);
    let after = snapshot_tree(s.path());
    assert_eq!(temporaries(&after), Vec::<PathBuf>::new());
    assert_same_tree(
        &restorable(&before),
        &restorable(&after),
        "everything but the torn entries is undone",
    );
    // The torn entries stay reported; the rest is already as before.
    let again = fix(&s, &["--site", "site1", "--undo", "--yes"]);
    assert_eq!(again.status, 1);
    assert_same_tree(
        &after,
        &snapshot_tree(s.path()),
        "a second undo changes nothing",
    );
}

#[test]
fn killed_while_writing_the_first_backup_the_zorig_is_complete_or_absent_and_rerun_and_undo_complete(
) {
    let args = ["--site", "site1", "--yes", "--chgrp-queued"];
    let template = Scenario::built_fakeroot();
    let points = kill_points(&template, &args);
    // Both backups are written before either file is edited (the DefaultUser pair is one step), then
    // each edit is journaled and written: every point from the first byte of the mc's backup to the
    // cf's replacement, that is writing each backup, each journal entry once complete (synced not
    // linked, linked) and the edit of the mc.
    let first_backup: Vec<(usize, &str)> = points
        .iter()
        .skip_while(|(_, w)| !w.contains("sendmail.mc.zorig"))
        .take_while(|(_, w)| !w.contains("etc/.sendmail.cf.toolkit-new."))
        .filter(|(_, w)| {
            w.contains("sendmail.mc")
                || w.contains("sendmail.cf.zorig")
                || (w.ends_with(".json") && !w.starts_with("temporary") && !w.starts_with("half"))
        })
        .map(|(n, w)| (*n, w.as_str()))
        .collect();
    let count = |is: &dyn Fn(&str) -> bool| first_backup.iter().filter(|(_, w)| is(w)).count();
    // 5 points of each backup (before it, temporary created, half written, synced, linked), 3 of
    // the mc's edit (before it, temporary created, replacement written), 3 of each of the two journal
    // entries, the mc's and the cf's (before it, synced, linked).
    assert_eq!(
        (
            count(&|w| w.contains("sendmail.mc.zorig")),
            count(&|w| w.contains("sendmail.cf.zorig")),
            count(&|w| w.contains("sendmail.mc") && !w.contains(".zorig")),
            count(&|w| w.ends_with(".json")),
        ),
        (5, 5, 3, 6),
        "{points:?}"
    );
    let first_backup: Vec<usize> = first_backup.iter().map(|(n, _)| *n).collect();
    let original_cf = std::fs::read(template.join(&format!("{FST}/etc/sendmail.cf"))).unwrap();
    let original = std::fs::read(template.join(MC)).unwrap();
    // Both cases are met: some kill points leave the mc's backup complete, some leave none.
    let (mut complete, mut absent) = (0, 0);
    for at in first_backup {
        let s = template.clone_tree();
        let before = snapshot_tree(s.path());
        let killed = run_cmd(fix_cmd(&s, &args).env("TOOLKIT_INJECT_KILL", at.to_string()));
        assert_eq!(killed.status, -1, "point {at}: {}", killed.stderr);
        let zorig = s.join(&format!("{MC}.zorig"));
        if !zorig.exists() {
            absent += 1;
        } else {
            complete += 1;
            assert_eq!(
                std::fs::read(&zorig).unwrap(),
                original,
                "point {at}: complete"
            );
            let (z, m) = (zorig.metadata().unwrap(), before[Path::new(MC)].clone());
            assert_eq!(
                (z.uid(), z.gid(), z.mode() & 0o7777),
                (m.uid, m.gid, m.mode)
            );
        }
        let cf_zorig = s.join(&format!("{FST}/etc/sendmail.cf.zorig"));
        if cf_zorig.exists() {
            assert_eq!(
                std::fs::read(&cf_zorig).unwrap(),
                original_cf,
                "point {at}: the cf's backup is complete"
            );
        }
        let mc = std::fs::read_to_string(s.join(MC)).unwrap();
        assert!(
            mc.as_bytes() == original || mc.contains("`501:501'"),
            "point {at}: old or new: {mc}"
        );
        assert_eq!(
            std::fs::read(s.join(&format!("{FST}/etc/sendmail.cf"))).unwrap(),
            original_cf,
            "point {at}: the cf is not written before the kill points here"
        );
        // The rerun completes and removes what the killed run left.
        let rerun = fix(&s, &args);
        assert_eq!(
            rerun.status, 0,
            "point {at}: every step is done or ok (the stock smrsh symlinks are ok)\n{}",
            rerun.stdout
        );
        let tree = snapshot_tree(s.path());
        let left: Vec<PathBuf> = temporaries(&tree)
            .into_iter()
            .filter(|p| p.starts_with(FST))
            .collect();
        assert!(left.is_empty(), "point {at}: {left:?}");
        assert_eq!(std::fs::read(&zorig).unwrap(), original, "point {at}");
        assert_eq!(std::fs::read(&cf_zorig).unwrap(), original_cf, "point {at}");
        let undo = fix(&s, &["--site", "site1", "--undo", "--yes"]);
        assert_eq!(undo.status, 0, "point {at}: {}", undo.stdout);
        let after = snapshot_tree(s.path());
        assert_eq!(temporaries(&after), Vec::<PathBuf>::new(), "point {at}");
        assert_same_tree(
            &restorable(&before),
            &restorable(&after),
            &format!("point {at}: undo restores the exact previous state"),
        );
    }
    assert!(
        complete > 0 && absent > 0,
        "complete {complete}, absent {absent}"
    );
}

#[test]
fn a_queue_file_named_with_invalid_utf8_is_undone_exactly_and_its_lossy_twin_is_never_touched() {
    let s = Scenario::built_fakeroot();
    let q = s.join(QUEUE);
    let real = q.join(OsStr::from_bytes(b"qf\xff8B6J00000001"));
    std::fs::write(&real, b"V8\nT1700000000\n").unwrap();
    std::os::unix::fs::chown(&real, Some(501), Some(12)).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
    let before = snapshot_tree(s.path());
    assert_eq!(
        fix(&s, &["--site", "site1", "--yes", "--chgrp-queued"]).status,
        0
    );
    assert_eq!(real.metadata().unwrap().gid(), 501);
    // The attack: the site admin makes a file named with the lossy spelling of that name, with the
    // owner and group the fix gave the real one.
    let decoy = q.join("qf\u{FFFD}8B6J00000001");
    std::fs::write(&decoy, b"decoy").unwrap();
    std::os::unix::fs::chown(&decoy, Some(501), Some(501)).unwrap();
    std::fs::set_permissions(&decoy, std::fs::Permissions::from_mode(0o600)).unwrap();
    let decoy_rel = decoy.strip_prefix(s.path()).unwrap().to_path_buf();
    let decoy_before = snapshot_tree(s.path())[&decoy_rel].clone();
    let undo = fix(&s, &["--site", "site1", "--undo", "--yes"]);
    assert_eq!(undo.status, 0, "{}", undo.stdout);
    let m = real.metadata().unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (501, 12, 0o600));
    let mut after = snapshot_tree(s.path());
    assert_eq!(
        after.remove(&decoy_rel),
        Some(decoy_before),
        "the decoy is untouched"
    );
    assert_same_tree(
        &restorable(&before),
        &restorable(&after),
        "undo restores exactly, the non-UTF-8 name included",
    );
    // The journal holds the exact bytes.
    let journal = walkdir::WalkDir::new(s.join("var/lib/toolkit"))
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect::<String>();
    assert!(journal.contains("\"path_hex\""), "{journal}");
}

#[test]
fn undo_restores_setuid_and_setgid_programs_in_smrsh_exactly() {
    let s = Scenario::built_fakeroot();
    for (name, gid, mode) in [("procmail", 12, 0o2755), ("suidwrap", 0, 0o4755)] {
        let p = s.join(&format!("{FST}/etc/smrsh/{name}"));
        // The stock etc/smrsh/procmail is a symlink to /usr/bin/procmail: replace the link itself
        // (never write through it, which would change the host's file), then create the program.
        if p.symlink_metadata().is_ok() {
            std::fs::remove_file(&p).unwrap();
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&p)
            .and_then(|mut f| std::io::Write::write_all(&mut f, b"#!/bin/sh\nexit 0\n"))
            .unwrap();
        std::os::unix::fs::chown(&p, Some(0), Some(gid)).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let before = snapshot_tree(s.path());
    assert_eq!(fix(&s, &["--site", "site1", "--yes"]).status, 0);
    let m = |n: &str| {
        let m = s.join(&format!("{FST}/etc/smrsh/{n}")).metadata().unwrap();
        (m.uid(), m.gid(), m.mode() & 0o7777)
    };
    // chown clears setuid/setgid: the fix puts the mode back after the owner...
    assert_eq!(m("procmail"), (501, 501, 0o2755));
    assert_eq!(m("suidwrap"), (501, 501, 0o4755));
    // ...and so does undo.
    let undo = fix(&s, &["--site", "site1", "--undo", "--yes"]);
    assert_eq!(undo.status, 0, "{}", undo.stdout);
    assert_eq!(m("procmail"), (0, 12, 0o2755));
    assert_eq!(m("suidwrap"), (0, 0, 0o4755));
    assert_same_tree(
        &restorable(&before),
        &restorable(&snapshot_tree(s.path())),
        "undo restores the exact modes",
    );
    // A rerun and a second undo complete.
    assert_eq!(fix(&s, &["--site", "site1", "--yes"]).status, 0);
    assert_eq!(fix(&s, &["--site", "site1", "--undo", "--yes"]).status, 0);
    assert_same_tree(
        &restorable(&before),
        &restorable(&snapshot_tree(s.path())),
        "the second undo too",
    );
}

/// 700 queued files beside the fixture's: three batches of the journal.
fn add_queue_files(s: &Scenario) {
    for i in 0..700 {
        let p = s.join(&format!("{QUEUE}/qf8B7X{i:08}"));
        std::fs::write(&p, b"V8\n").unwrap();
        std::os::unix::fs::chown(&p, Some(0), Some(12)).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// Every path the journal of site1 records, from every entry file (single or batch).
fn journaled(s: &Scenario) -> Vec<String> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(s.join("var/lib/toolkit/mqueue-fix/site1")) {
        let e = e.unwrap();
        if !e.file_name().to_string_lossy().ends_with(".json") {
            continue;
        }
        let v: Value = serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap();
        let entries = match v {
            Value::Array(a) => a,
            one => vec![one],
        };
        out.extend(
            entries
                .iter()
                .map(|e| e["path"].as_str().unwrap().to_string()),
        );
    }
    out
}

#[test]
fn queued_files_are_journaled_in_batches_before_they_change_even_when_killed() {
    let args = ["--site", "site1", "--yes", "--chgrp-queued"];
    let template = Scenario::built_fakeroot();
    add_queue_files(&template);
    let points = kill_points(&template, &args);
    // Kill while the second batch is written, and just after it is linked (nothing of it applied).
    let batch_points: Vec<usize> = points
        .iter()
        .filter(|(_, w)| {
            (w.starts_with("written and synced") || w.starts_with("linked"))
                && w.contains("/mqueue-fix/")
        })
        .map(|(n, _)| *n)
        .collect();
    let s = template.clone_tree();
    let before = snapshot_tree(s.path());
    assert_eq!(fix(&s, &args).status, 0);
    let files: Vec<PathBuf> = walkdir::WalkDir::new(s.join("var/lib/toolkit"))
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    let queued = journaled(&s)
        .iter()
        .filter(|p| p.starts_with("var/spool/mqueue/"))
        .count();
    assert!(queued >= 700, "{queued}");
    assert!(
        files.len() < 20,
        "{} journal files for {queued} queued files: not batched",
        files.len()
    );
    assert_eq!(fix(&s, &["--site", "site1", "--undo", "--yes"]).status, 0);
    assert_same_tree(
        &restorable(&before),
        &restorable(&snapshot_tree(s.path())),
        "undo restores every queued file",
    );
    // Killed around the batches: every file whose group changed is in a complete journal entry
    // (and some did change before a kill: the check is not over an empty set).
    let mut changed_before_kill = 0;
    let n = batch_points.len();
    for at in [
        batch_points[n - 4],
        batch_points[n - 3],
        batch_points[n - 6],
    ] {
        let s = template.clone_tree();
        let before = snapshot_tree(s.path());
        let killed = run_cmd(fix_cmd(&s, &args).env("TOOLKIT_INJECT_KILL", at.to_string()));
        assert_eq!(killed.status, -1, "point {at}");
        let recorded = journaled(&s);
        for e in walkdir::WalkDir::new(s.join(QUEUE)).min_depth(1) {
            let e = e.unwrap();
            if e.metadata().unwrap().gid() == 501 && e.file_type().is_file() {
                changed_before_kill += 1;
                let rel = e.path().strip_prefix(s.join(FST)).unwrap();
                assert!(
                    recorded.iter().any(|r| Path::new(r) == rel),
                    "point {at}: {rel:?} changed without a journal entry"
                );
            }
        }
        assert_eq!(fix(&s, &args).status, 0, "point {at}: the rerun completes");
        assert_eq!(fix(&s, &["--site", "site1", "--undo", "--yes"]).status, 0);
        let after = snapshot_tree(s.path());
        assert_eq!(temporaries(&after), Vec::<PathBuf>::new());
        assert_same_tree(
            &restorable(&before),
            &restorable(&after),
            &format!("point {at}: undo restores every queued file"),
        );
    }
    assert!(
        changed_before_kill > 0,
        "no queued file changed before any kill"
    );
}
