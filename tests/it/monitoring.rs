//! Monitoring must never say OK when it cannot see (issue 11): the bundled fake host read as root and
//! as an unprivileged user (`setpriv --reuid 65534`), the status compared in every format; one
//! well-formed document on every failure; max_state_alt ordering; `check`'s thresholds and
//! `--timeout`; `--output`; `mem record`'s report.

use crate::common::{parse_nagios, peer, promtool_check, run_cmd, Output, Scenario};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

const FORMATS: [&str; 4] = ["text", "json", "nagios", "prometheus"];

/// The fake host as build-fakeroot.sh lays it out, in a temp dir that `nobody` may traverse (the
/// modes inside are the manifest's: root:mail 0700 queues, 0750 site trees).
pub fn fake_host() -> Scenario {
    let s = Scenario::built_fakeroot();
    std::fs::set_permissions(s.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    s
}

/// `toolkit --root DIR ARGS` as uid/gid 65534 with no supplementary groups.
pub fn as_nobody(s: &Scenario, args: &[&str]) -> Output {
    let mut cmd = Command::new(peer("setpriv"));
    cmd.args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_toolkit"))
        .arg("--root")
        .arg(s.path())
        .args(args);
    run_cmd(&mut cmd)
}

/// The status word each format gives, checked against the exit status; the skip count each gives.
fn statuses(out: &[Output]) -> Vec<(String, u64)> {
    let word = |code: i32| ["OK", "WARNING", "CRITICAL", "UNKNOWN"][code as usize].to_string();
    out.iter()
        .zip(FORMATS)
        .map(|(o, f)| match f {
            "text" => (o.stdout.lines().find_map(status_word).unwrap(), u64::MAX),
            "json" => {
                let j = o.json();
                let skipped = j["skipped"]["count"].as_u64().unwrap();
                (j["status"].as_str().unwrap().to_string(), skipped)
            }
            "nagios" => {
                let (_, st, _, perf) = parse_nagios(&o.stdout);
                let skipped = perf
                    .iter()
                    .find(|(l, _)| l.ends_with("_skipped"))
                    .map(|(_, v)| v.split(';').next().unwrap().parse().unwrap())
                    .unwrap();
                (st, skipped)
            }
            _ => {
                promtool_check(&o.stdout);
                assert!(o.stdout.contains("\ntoolkit_up 1\n"), "{}", o.stdout);
                let metric = |prefix: &str| {
                    o.stdout
                        .lines()
                        .find(|l| l.starts_with(prefix))
                        .and_then(|l| l.rsplit(' ').next())
                        .unwrap()
                        .parse::<u64>()
                        .unwrap()
                };
                let code = metric("toolkit_status{");
                let skipped = o
                    .stdout
                    .lines()
                    .find(|l| l.starts_with("toolkit_") && l.contains("_skipped "))
                    .and_then(|l| l.rsplit(' ').next())
                    .unwrap()
                    .parse()
                    .unwrap();
                assert_eq!(code as i32, o.status, "toolkit_status and exit status");
                (word(code as i32), skipped)
            }
        })
        .inspect(|(w, _)| {
            assert_eq!(
                *w,
                word(out[0].status),
                "every format says what the exit status says"
            )
        })
        .collect()
}

fn status_word(line: &str) -> Option<String> {
    line.split_whitespace()
        .next()
        .filter(|w| ["OK", "WARNING", "CRITICAL", "UNKNOWN"].contains(w))
        .map(str::to_string)
}

fn every_format(run: impl Fn(&[&str]) -> Output, args: &[&str]) -> Vec<Output> {
    FORMATS
        .iter()
        .map(|f| {
            let mut a = args.to_vec();
            a.extend(["--format", f]);
            run(&a)
        })
        .collect()
}

#[test]
fn mqueue_as_nobody_is_unknown_in_every_format_and_names_what_and_as_whom() {
    let s = fake_host();
    // Reproduce: as root the six queues are read; as nobody they are closed (0700 root:mail, 0750
    // site trees) and the scan used to say OK, "no mail queue found".
    let root = every_format(|a| s.run(a), &["mqueue", "scan"]);
    assert!(root.iter().all(|o| o.status == 0));
    assert_eq!(statuses(&root)[1], ("OK".into(), 0));
    let nobody = every_format(|a| as_nobody(&s, a), &["mqueue", "scan"]);
    assert!(nobody.iter().all(|o| o.status == 3), "{:?}", nobody[2]);
    let st = statuses(&nobody);
    assert!(
        st[1..].iter().all(|x| *x == ("UNKNOWN".into(), 6)),
        "{st:?}"
    );
    let j = nobody[1].json();
    assert_eq!(j["skipped"]["unreadable"], 6);
    assert_eq!(j["skipped"]["reader"], "uid 65534 (nobody)");
    let (_, _, summary, _) = parse_nagios(&nobody[2].stdout);
    assert!(
        summary.starts_with("could not read 6 paths as uid 65534 (nobody): "),
        "{summary}"
    );
    assert!(summary.contains("/home/virtual/site1/fst (Permission denied)"));
    nobody[0].stdout_has("Blind: could not read 6 paths as uid 65534 (nobody)");
    nobody[3].stdout_has("toolkit_mqueue_skipped 6\n");
}

#[test]
fn what_is_seen_critical_stays_critical_when_blind() {
    let s = fake_host();
    // site1's queue (114 MiB) opened to everyone; the other five stay closed to nobody.
    let q = s.join("home/virtual/site1/fst/var/spool/mqueue");
    for p in [s.join("home/virtual/site1/fst"), q.clone()] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    for e in std::fs::read_dir(&q).unwrap() {
        std::fs::set_permissions(e.unwrap().path(), std::fs::Permissions::from_mode(0o644))
            .unwrap();
    }
    let out = as_nobody(&s, &["mqueue", "scan", "--json", "-c", "100M"]);
    out.status(2);
    let j = out.json();
    assert_eq!(
        (j["status"].as_str(), j["skipped"]["unreadable"].as_u64()),
        (Some("CRITICAL"), Some(5))
    );
    let out = as_nobody(&s, &["mqueue", "scan", "--format", "nagios", "-c", "100M"]);
    let (_, st, summary, _) = parse_nagios(&out.stdout);
    assert_eq!(st, "CRITICAL");
    assert!(
        summary.starts_with("site1 example.com: 114 MiB"),
        "{summary}"
    );
    assert!(summary.contains("; could not read 5 paths as uid 65534 (nobody)"));
    // Without the critical threshold, what was seen is only OK: blind makes it UNKNOWN.
    as_nobody(&s, &["mqueue", "scan"]).status(3);
}

#[test]
fn zombies_behind_hidepid_are_unknown_for_nobody_and_seen_by_root() {
    let s = fake_host();
    let root = every_format(|a| s.run(a), &["zombies"]);
    let st = statuses(&root);
    assert!(st.iter().all(|(w, _)| w == "WARNING"), "{st:?}");
    assert_eq!(st[1], ("WARNING".into(), 0));
    let nobody = every_format(|a| as_nobody(&s, a), &["zombies"]);
    let st = statuses(&nobody);
    assert!(
        st[1..].iter().all(|x| *x == ("UNKNOWN".into(), 1)),
        "{st:?}"
    );
    let (_, _, summary, _) = parse_nagios(&nobody[2].stdout);
    assert!(
        summary.starts_with(
            "could not read 1 path as uid 65534 (nobody): /proc (hidepid=invisible: other \
             users' processes hidden); 20 zombies"
        ),
        "{summary}"
    );
    // Without hidepid the fake host's processes are all readable: nobody sees what root sees.
    s.remove("proc/mounts");
    as_nobody(&s, &["zombies"]).status(1);
}

#[test]
fn mem_as_nobody_is_judged_and_root_only_slabinfo_is_a_note() {
    let s = fake_host();
    // The kernel makes slabinfo 0400 root: normal for an unprivileged reader, not blindness.
    std::fs::set_permissions(
        s.join("proc/slabinfo"),
        std::fs::Permissions::from_mode(0o400),
    )
    .unwrap();
    let root = every_format(|a| s.run(a), &["mem", "verdict"]);
    let nobody = every_format(|a| as_nobody(&s, a), &["mem", "verdict"]);
    assert_eq!(statuses(&root)[1], ("OK".into(), 0));
    assert_eq!(statuses(&nobody)[1], ("OK".into(), 0));
    let j = nobody[1].json();
    assert!(j["slab_caches_unreadable"]
        .as_str()
        .unwrap()
        .contains("Permission denied"));
    assert_eq!(root[1].json()["slab_caches_unreadable"], Value::Null);
}

#[test]
fn check_as_root_and_as_nobody_in_every_format() {
    let s = fake_host();
    let root = every_format(|a| s.run(a), &["check"]);
    root[0].status(1);
    let j = root[1].json();
    let names: Vec<(&str, &str)> = j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        names,
        [("zombies", "WARNING"), ("mem", "OK"), ("mqueue", "OK")]
    );
    let nobody = every_format(|a| as_nobody(&s, a), &["check"]);
    for o in &nobody {
        o.status(3);
    }
    let j = nobody[1].json();
    let names: Vec<(&str, &str)> = j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        names,
        [("zombies", "UNKNOWN"), ("mqueue", "UNKNOWN"), ("mem", "OK")]
    );
    nobody[0].stdout_has("UNKNOWN  mqueue    could not read 6 paths as uid 65534 (nobody)");
    let (label, st, _, perf) = parse_nagios(&nobody[2].stdout);
    assert_eq!((label.as_str(), st.as_str()), ("TOOLKIT", "UNKNOWN"));
    assert!(perf
        .iter()
        .any(|(l, v)| l == "mqueue_skipped" && v.starts_with("6;")));
    assert!(perf
        .iter()
        .any(|(l, v)| l == "zombies_skipped" && v.starts_with("1;")));
    promtool_check(&nobody[3].stdout);
    for line in [
        "toolkit_status{check=\"mqueue\"} 3",
        "toolkit_status{check=\"toolkit\"} 3",
        "toolkit_mqueue_skipped 6",
        "toolkit_zombies_skipped 1",
        "toolkit_mem_skipped 0",
        "toolkit_up 1",
    ] {
        nobody[3].stdout_has(&format!("{line}\n"));
    }
}

#[test]
fn warning_outranks_unknown_in_check_listing_and_exit_status() {
    // Reproduce issue 11: without proc/meminfo mem is UNKNOWN, zombies WARNING.
    let s = Scenario::fixture("fakeroot");
    s.remove("proc/meminfo");
    let out = s.run(&["check"]);
    out.status(1);
    let lines: Vec<&str> = out.stdout.lines().take(3).collect();
    assert!(lines[0].starts_with("WARNING  zombies"), "{}", out.stdout);
    assert!(out.stdout.contains("UNKNOWN  mem       "), "{}", out.stdout);
    let worst_first =
        out.stdout.find("WARNING  zombies").unwrap() < out.stdout.find("UNKNOWN  mem").unwrap();
    assert!(worst_first);
    let (_, st, _, _) = parse_nagios(&s.run(&["check", "--format", "nagios"]).stdout);
    assert_eq!(st, "WARNING");
    // An unreadable meminfo (not missing): the reason says as whom.
    let s = fake_host();
    std::fs::set_permissions(
        s.join("proc/meminfo"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let j = as_nobody(&s, &["check", "--json"]).json();
    let mem = j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "mem")
        .unwrap()
        .clone();
    assert_eq!(mem["status"], "UNKNOWN");
    let summary = mem["summary"].as_str().unwrap();
    assert!(
        summary.contains("proc/meminfo: Permission denied"),
        "{summary}"
    );
    assert!(summary.ends_with(" (as uid 65534 (nobody))"), "{summary}");
}

#[test]
fn failures_write_one_document_in_every_format() {
    let s = Scenario::fixture("fakeroot");
    // Usage error, format before or after the subcommand, and `--format=x`/`--json` forms.
    let cases: [&[&str]; 4] = [
        &["--format", "nagios", "zombies", "--bogus"],
        &["zombies", "--warning", "x", "--format=nagios"],
        &["--root", "/nonexistent/root", "check", "--format", "nagios"],
        &["mem", "verdict", "--format", "nagios"],
    ];
    s.remove("proc/meminfo");
    for args in cases {
        let out = s.run(args);
        out.status(3);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(out.stderr.starts_with("toolkit: "));
        let error = out.stderr.trim_end().trim_start_matches("toolkit: ");
        assert_eq!(
            out.stdout,
            format!("TOOLKIT UNKNOWN - {error}\n"),
            "{args:?}"
        );
    }
    for args in [
        &["--json", "zombies", "--bogus"][..],
        &["mem", "verdict", "--format=json"],
    ] {
        let out = s.run(args);
        out.status(3);
        let j = out.json();
        assert_eq!(j["status"], "UNKNOWN");
        let error = out.stderr.trim_end().trim_start_matches("toolkit: ");
        assert_eq!(j["error"], error);
    }
    for args in [
        &["zombies", "--bogus", "--format", "prometheus"][..],
        &["mem", "verdict", "--format", "prometheus"],
    ] {
        let out = s.run(args);
        out.status(3);
        promtool_check(&out.stdout);
        out.stdout_has("# TYPE toolkit_up gauge\ntoolkit_up 0\n");
    }
    // A person gets the one stderr line and nothing on stdout.
    let out = s.run(&["mem", "verdict"]);
    out.status(3);
    assert_eq!(out.stdout, "");
    out.stderr_has("proc/meminfo");
}

#[test]
fn check_takes_each_checks_thresholds() {
    let s = fake_host();
    let status_of = |out: &Output, name: &str| -> String {
        let j = out.json();
        let c = j["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()
            .clone();
        c["status"].as_str().unwrap().to_string()
    };
    let out = s.run(&[
        "check",
        "--json",
        "--zombies-warning",
        "30",
        "--zombies-critical",
        "40",
    ]);
    assert_eq!(status_of(&out, "zombies"), "OK");
    let out = s.run(&["check", "--json", "--zombies-critical", "10"]);
    assert_eq!(status_of(&out, "zombies"), "CRITICAL");
    out.status(2);
    // Same size-range syntax as mqueue scan: site1 holds 114 MiB.
    let out = s.run(&[
        "check",
        "--json",
        "--mqueue-warning",
        "50M",
        "--mqueue-critical",
        "100M",
    ]);
    assert_eq!(status_of(&out, "mqueue"), "CRITICAL");
    let out = s.run(&[
        "check",
        "--json",
        "--mqueue-warning",
        "100M",
        "--mqueue-critical",
        "1G",
    ]);
    assert_eq!(status_of(&out, "mqueue"), "WARNING");
    // 83% available on the fake host.
    let out = s.run(&["check", "--json", "--mem-available-warning", "90:"]);
    assert_eq!(status_of(&out, "mem"), "WARNING");
    let out = s.run(&["check", "--json", "--mem-available-critical", "85:"]);
    assert_eq!(status_of(&out, "mem"), "CRITICAL");
    // The perfdata carries the thresholds given.
    let out = s.run(&["check", "--format", "nagios", "--zombies-warning", "30"]);
    let (_, _, _, perf) = parse_nagios(&out.stdout);
    assert!(
        perf.iter()
            .any(|(l, v)| l == "zombies" && v == "20;30;49;0"),
        "{perf:?}"
    );
    let out = s.run(&["check", "--mqueue-critical", "lots", "--format", "nagios"]);
    out.status(3).stderr_has("'lots'");
    out.stdout_has("TOOLKIT UNKNOWN - ");
    s.run(&["check", "--timeout", "0"])
        .status(3)
        .stderr_has("'0'");
}

#[test]
fn check_abandons_a_check_that_overruns_its_timeout() {
    let s = Scenario::fixture("fakeroot");
    // A meminfo that never answers (a FIFO nobody writes, like a hung filesystem): mem blocks.
    s.remove("proc/meminfo");
    nix::unistd::mkfifo(
        &s.join("proc/meminfo"),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_toolkit"));
    cmd.arg("--root")
        .arg(s.path())
        .args(["check", "--json", "--timeout", "3s"]);
    // The process must exit by itself, not wait for the blocked thread.
    let out = run_cmd(&mut cmd);
    out.status(1);
    let j = out.json();
    let mem = j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "mem")
        .unwrap()
        .clone();
    assert_eq!(mem["status"], "UNKNOWN");
    assert_eq!(
        mem["summary"],
        "mem check did not finish within 3s (--timeout): abandoned"
    );
    assert_eq!(j["checks"][0]["name"], "zombies");
    assert_eq!(j["timeout"], 3);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_toolkit"));
    cmd.arg("--root")
        .arg(s.path())
        .args(["check", "--format", "nagios", "--timeout", "3s"]);
    let out = run_cmd(&mut cmd);
    out.stdout_has("\nmem UNKNOWN: mem check did not finish within 3s (--timeout): abandoned\n");
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn output_replaces_the_file_atomically_and_failures_land_too() {
    use std::os::unix::fs::MetadataExt;
    let s = Scenario::fixture("fakeroot");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("toolkit.prom");
    std::fs::write(&file, "old\n").unwrap();
    let before = std::fs::metadata(&file).unwrap().ino();
    let f = file.to_str().unwrap();
    let out = s.run(&["check", "--format", "prometheus", "--output", f]);
    out.status(1);
    assert_eq!(out.stdout, "", "the document goes to the file only");
    let text = std::fs::read_to_string(&file).unwrap();
    promtool_check(&text);
    assert!(text.contains("toolkit_up 1\n"));
    assert_eq!(text, s.run(&["check", "--format", "prometheus"]).stdout);
    assert_ne!(
        std::fs::metadata(&file).unwrap().ino(),
        before,
        "renamed over, not rewritten"
    );
    assert_eq!(std::fs::metadata(&file).unwrap().mode() & 0o777, 0o644);
    assert_eq!(entries(dir.path()), ["toolkit.prom"], "no temp file left");
    // Every read-only command takes it: each writes its own document (the file is reset first, so
    // one command's document is not taken for the next one's).
    for (args, key) in [
        (&["zombies"][..], "zombies"),
        (&["mqueue", "scan"], "queues"),
        (&["mem", "verdict"], "memory"),
    ] {
        std::fs::write(&file, "old\n").unwrap();
        let mut a = args.to_vec();
        a.extend(["--json", "--output", f]);
        let out = s.run(&a);
        assert_eq!(
            out.stdout, "",
            "{args:?}: the document goes to the file only"
        );
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        assert!(!doc[key].is_null(), "{args:?}: {doc}");
    }
    // A failure: the failure document is what lands.
    s.remove("proc/meminfo");
    let out = s.run(&["mem", "verdict", "--format", "prometheus", "--output", f]);
    out.status(3).stderr_has("proc/meminfo");
    assert_eq!(out.stdout, "");
    let text = std::fs::read_to_string(&file).unwrap();
    promtool_check(&text);
    assert!(text.ends_with("toolkit_up 0\n"), "{text}");
    let out = s.run(&["zombies", "--bogus", "--format", "nagios", "--output", f]);
    out.status(3);
    assert!(std::fs::read_to_string(&file)
        .unwrap()
        .starts_with("TOOLKIT UNKNOWN - unexpected argument"));
    // A directory that does not exist: one line naming it.
    let out = s.run(&["zombies", "--output", "/nonexistent/dir/x.prom"]);
    out.status(3).stderr_has("/nonexistent/dir/x.prom");
    assert_eq!(entries(dir.path()), ["toolkit.prom"]);
}

#[test]
fn mem_record_reports_what_it_recorded_in_every_format() {
    let s = Scenario::fixture("fakeroot");
    let hist = s.join("var/lib/toolkit/mem-history.jsonl");
    let out = s.run(&["mem", "record"]);
    out.status(0);
    let expected = format!(
        "recorded 1 sample ({} processes) to {} (",
        procs_in_last(&hist),
        hist.display()
    );
    assert!(out.stdout.starts_with(&expected), "{}", out.stdout);
    assert!(out.stdout.ends_with("B)\n") && out.stdout.lines().count() == 1);
    let j = s.run(&["mem", "record", "--json"]).status(0).json();
    assert_eq!(j["samples"], 1);
    assert_eq!(j["path"], hist.to_str().unwrap());
    assert_eq!(j["bytes"], std::fs::metadata(&hist).unwrap().len());
    assert_eq!(j["processes"], procs_in_last(&hist));
    let out = s.run(&["mem", "record", "--format", "nagios"]);
    let (label, st, summary, perf) = parse_nagios(&out.stdout);
    assert_eq!((label.as_str(), st.as_str()), ("MEM_RECORD", "OK"));
    assert!(summary.starts_with("recorded 1 sample ("), "{summary}");
    assert!(perf.iter().any(|(l, v)| l == "history_bytes"
        && v.starts_with(&std::fs::metadata(&hist).unwrap().len().to_string())));
    let out = s.run(&["mem", "record", "--format", "prometheus"]);
    promtool_check(&out.stdout);
    out.stdout_has("toolkit_mem_record_samples 1\n")
        .stdout_has("toolkit_up 1\n");
    // The cron form: --quiet text prints nothing.
    assert_eq!(s.run(&["mem", "record", "--quiet"]).status(0).stdout, "");
    assert_eq!(std::fs::read_to_string(&hist).unwrap().lines().count(), 5);
}

fn procs_in_last(hist: &Path) -> usize {
    let text = std::fs::read_to_string(hist).unwrap();
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    last["procs"].as_array().unwrap().len()
}

#[test]
fn a_site_admin_naming_an_unreadable_directory_cannot_inject_into_the_output() {
    use std::os::unix::ffi::OsStrExt;
    let s = fake_host();
    // The attack: site3's admin opens the site tree and queue to all, and leaves a closed queue
    // subdirectory whose name carries terminal escapes and a newline with a fake status line.
    let fst = s.join("home/virtual/site3/fst");
    let q = fst.join("var/spool/mqueue");
    for p in [&fst, &q] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let name = std::ffi::OsStr::from_bytes(b"qf\x1b]0;owned\x07\nMQUEUE OK - all fine");
    std::fs::create_dir(q.join(name)).unwrap();
    std::fs::set_permissions(q.join(name), std::fs::Permissions::from_mode(0o700)).unwrap();
    let before = std::fs::read_dir(&q).unwrap().count();
    let out = as_nobody(&s, &["mqueue", "scan", "--format", "nagios"]);
    out.status(3);
    let first = out.stdout.lines().next().unwrap();
    assert!(
        first.starts_with("MQUEUE UNKNOWN - could not read 6 paths"),
        "{first}"
    );
    assert!(!out.stdout.contains('\x1b') && !out.stdout.contains('\x07'));
    assert!(
        !out.stdout.lines().any(|l| l.starts_with("MQUEUE OK")),
        "{}",
        out.stdout
    );
    let text = as_nobody(&s, &["mqueue", "scan"]);
    assert!(!text.stdout.contains('\x1b') && !text.stdout.contains('\x07'));
    let check = as_nobody(&s, &["check"]);
    assert!(!check.stdout.contains('\x1b'));
    // JSON keeps the exact name.
    let j = as_nobody(&s, &["mqueue", "scan", "--json"]).json();
    let first = j["skipped"]["first"].to_string();
    assert!(
        first.contains("\\u001b]0;owned\\u0007\\nMQUEUE OK"),
        "{first}"
    );
    // Read-only: the queue is as it was.
    assert_eq!(std::fs::read_dir(&q).unwrap().count(), before);
}
