//! The smaller things users hit (issue 12): messages that name the variable at fault, usage errors
//! that were silent, one rule for size units, empty kernel files, the empty history, plurals, the
//! toolkit among its own consumers, colour on a dumb terminal, purge's and scan's grouped copies.

use crate::common::{manifest_dir, toolkit, Output, Scenario};
use std::process::Command;

fn with_env(env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_toolkit"));
    cmd.env_remove("TOOLKIT_ROOT").env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    Output {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn a_bad_toolkit_root_names_the_variable_and_what_it_must_be() {
    let out = with_env(&[("TOOLKIT_ROOT", "")], &["zombies"]);
    out.status(3).stderr_has("TOOLKIT_ROOT is set but empty");
    assert!(
        !out.stderr.contains("a value is required"),
        "{}",
        out.stderr
    );
    with_env(&[("TOOLKIT_ROOT", "/nonexistent")], &["zombies"])
        .status(3)
        .stderr_has("TOOLKIT_ROOT=/nonexistent: no such directory; set it to the directory");
    with_env(&[("TOOLKIT_ROOT", "/etc/passwd")], &["zombies"])
        .status(3)
        .stderr_has("TOOLKIT_ROOT=/etc/passwd: not a directory");
    // The same mistake on the command line names the option.
    let out = toolkit(&["--root", "/nonexistent", "zombies"]);
    out.status(3)
        .stderr_has("--root /nonexistent: no such directory");
    assert!(!out.stderr.contains("TOOLKIT_ROOT"), "{}", out.stderr);
    // And a good TOOLKIT_ROOT is used.
    let root = manifest_dir().join("fixtures/fakeroot");
    with_env(&[("TOOLKIT_ROOT", root.to_str().unwrap())], &["zombies"])
        .status(1)
        .stdout_has("under crond 612");
}

#[test]
fn zombies_of_a_parent_that_does_not_exist_is_an_error_not_ok() {
    let root = manifest_dir().join("fixtures/fakeroot");
    let r = root.to_str().unwrap();
    let out = toolkit(&["--root", r, "zombies", "--parent", "99999"]);
    out.status(3).stderr_has("--parent 99999: no such process");
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    toolkit(&["--root", r, "zombies", "--parent", "612"])
        .status(1)
        .stdout_has("12 zombies under 1 parent");
}

#[test]
fn json_with_another_format_is_a_usage_error() {
    let root = manifest_dir().join("fixtures/fakeroot");
    let r = root.to_str().unwrap();
    toolkit(&["--root", r, "--json", "--format", "text", "zombies"])
        .status(3)
        .stderr_has("'--json' cannot be used with '--format <FORMAT>'");
    toolkit(&["--root", r, "--json", "zombies"])
        .status(1)
        .json();
}

#[test]
fn size_units_are_case_insensitive_and_a_negative_size_is_an_invalid_size() {
    let root = manifest_dir().join("fixtures/fakeroot");
    let r = root.to_str().unwrap();
    let min = |v: &str| {
        toolkit(&["--root", r, "mqueue", "scan", "--json", "--min", v]).json()["min_bytes"].clone()
    };
    assert_eq!(min("20k"), min("20K"));
    assert_eq!(min("20m"), min("20M"));
    assert_eq!(min("20m"), 20 << 20);
    assert_eq!(min("20g"), min("20G"));
    assert_eq!(min("20mb"), 20_000_000);
    let out = toolkit(&["--root", r, "mqueue", "scan", "--min", "-5"]);
    out.status(3).stderr_has("invalid size '-5'");
    assert!(
        !out.stderr.contains("unexpected argument"),
        "{}",
        out.stderr
    );
    toolkit(&["--root", r, "zombies", "--min-age", "-5"])
        .status(3)
        .stderr_has("invalid duration '-5'");
}

#[test]
fn an_empty_pressure_or_vmstat_file_is_a_note_like_a_missing_one() {
    for file in ["proc/pressure/memory", "proc/vmstat"] {
        let s = Scenario::fixture("mem/leak");
        s.write(file, "");
        let out = s.run(&["mem", "verdict", "--json"]);
        assert_ne!(out.status, 3, "{file}: {}", out.stderr);
        let j = out.json();
        let notes = j["not_judged"].to_string();
        assert!(
            notes.contains(&format!("{file} is empty (treated as missing)")),
            "{file}: {notes}"
        );
        assert_eq!(j["status"], "CRITICAL", "{file}: the rest is still judged");
        // A missing one reads the same way: a note naming it, and the rest still judged.
        s.remove(file);
        let out = s.run(&["mem", "verdict", "--json"]);
        assert_ne!(out.status, 3, "{file} missing: {}", out.stderr);
        let j = out.json();
        let notes = j["not_judged"].to_string();
        assert!(
            notes.contains(file.trim_start_matches("proc/")),
            "{file} missing: {notes}"
        );
        assert_eq!(
            j["status"], "CRITICAL",
            "{file} missing: the rest is still judged"
        );
    }
}

#[test]
fn mem_report_without_history_says_how_to_start_recording() {
    let s = Scenario::fixture("mem/leak");
    let out = s.run(&["mem", "report"]);
    out.status(3)
        .stdout_has("no samples recorded yet")
        .stdout_has("* * * * * root toolkit mem record --history ")
        .stdout_has(
            "systemd-run --unit=toolkit-mem-record --on-calendar=minutely toolkit mem record",
        )
        .stdout_lacks("(no samples)");
}

#[test]
fn report_header_without_hostname_has_no_stray_comma() {
    let s = Scenario::fixture("mem-history/leak");
    let h = s.join("var/lib/toolkit/mem-history.jsonl");
    let text = std::fs::read_to_string(&h)
        .unwrap()
        .replace("\"hostname\":\"web1\"", "\"hostname\":\"\"");
    std::fs::write(&h, text).unwrap();
    let out = s.run(&["mem", "report"]);
    // (the headline wraps: the span is the first line after it that names one)
    let second = out
        .stdout
        .lines()
        .find(|l| l.ends_with(" UTC"))
        .unwrap_or("")
        .to_string();
    assert!(
        second.starts_with("  ") && !second.trim_start().starts_with(','),
        "{second:?}\n{}",
        out.stdout
    );
    assert!(
        second.contains(" to ") && second.ends_with("UTC"),
        "{second:?}"
    );
}

#[test]
fn svg_dash_writes_the_svg_to_stdout() {
    let s = Scenario::fixture("mem-history/leak");
    let cwd = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_toolkit"))
        .current_dir(cwd.path())
        .arg("--root")
        .arg(s.path())
        .args(["mem", "report", "--svg", "-"])
        .env_remove("TOOLKIT_ROOT")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("<?xml"), "{stdout}");
    assert!(
        stdout.trim_end().ends_with("</svg>"),
        "only the SVG on stdout"
    );
    assert!(
        !cwd.path().join("-").exists(),
        "a file named '-' was written"
    );
}

#[test]
fn one_queue_is_singular() {
    let root = manifest_dir().join("fixtures/fakeroot");
    let r = root.to_str().unwrap();
    let one = ["--spool-only", "--spool", "var/spool/mqueue"];
    let mut args = vec!["--root", r, "mqueue", "scan"];
    args.extend(one);
    toolkit(&args)
        .stdout_has("1 queue, 1 message,")
        .stdout_lacks("1 queues");
    let mut args = vec!["--root", r, "mqueue", "scan", "--top", "1"];
    args.extend(["--spool-only", "--spool", "var/spool/mqueue"]);
    args.extend(["--spool", "home/virtual/site2/fst/var/spool/mqueue"]);
    toolkit(&args)
        .stdout_has("... 1 more queue holding")
        .stdout_lacks("1 more queues");
}

#[test]
fn mem_verdict_does_not_list_the_toolkit_itself() {
    // Every process is listed (--top is larger than the process table), so the toolkit would be
    // among them if it were not left out.
    let child = Command::new(env!("CARGO_BIN_EXE_toolkit"))
        .args([
            "mem",
            "verdict",
            "--interval",
            "0",
            "--top",
            "100000",
            "--json",
        ])
        .env_remove("TOOLKIT_ROOT")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as u64;
    let out = child.wait_with_output().unwrap();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let top = j["top"].as_array().unwrap();
    // This test's own process is certainly in the table: it is listed, so the table was read
    // (however few processes the PID namespace holds) and only the toolkit was left out.
    let me = std::process::id() as u64;
    assert!(
        top.iter().any(|c| c["pid"].as_u64() == Some(me)),
        "the test's own pid {me} is not listed: {top:?}"
    );
    assert!(
        top.iter().all(|c| c["pid"].as_u64() != Some(pid)),
        "pid {pid} (the toolkit) is among the consumers"
    );
}

/// Runs the toolkit with stdout on a pty (colour is only ever automatic on a terminal).
fn on_pty(term: &str, args: &[&str]) -> Vec<u8> {
    let script = r#"
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.environ.pop("NO_COLOR", None)
    os.environ.pop("TOOLKIT_ROOT", None)
    os.environ["TERM"] = sys.argv[1]
    os.execv(sys.argv[2], sys.argv[2:])
out = b""
while True:
    try:
        b = os.read(fd, 65536)
    except OSError:
        break
    if not b:
        break
    out += b
os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
"#;
    let out = Command::new("python3")
        .args(["-c", script, term, env!("CARGO_BIN_EXE_toolkit")])
        .args(args)
        .output()
        .expect("python3 for the pty");
    out.stdout
}

#[test]
fn no_colour_on_a_dumb_terminal() {
    let root = manifest_dir().join("fixtures/fakeroot");
    let args = ["--root", root.to_str().unwrap(), "zombies"];
    let xterm = on_pty("xterm", &args);
    assert!(
        xterm.contains(&0x1b),
        "colour on a capable terminal (the test can fail)"
    );
    let dumb = on_pty("dumb", &args);
    assert!(
        !dumb.is_empty() && !dumb.contains(&0x1b),
        "{}",
        String::from_utf8_lossy(&dumb)
    );
}

#[test]
fn purge_dry_run_groups_identical_copies_as_scan_does() {
    let s = Scenario::built_fakeroot();
    let out = s.run(&[
        "mqueue",
        "purge",
        "--site",
        "site1",
        "--min",
        "20M",
        "--dry-run",
    ]);
    out.status(0)
        .stdout_has("would purge  3 copies of one 38.0 MiB message from jdoe@example.com (114")
        .stdout_has("ids 6AM2aXUG006021 6AM2aYhp006085 6AM2aZW8006145")
        .stdout_lacks("would purge  6AM2aYhp006085");
    assert_eq!(out.stdout.matches("dry run").count(), 1, "{}", out.stdout);
    // As scan does: the same group, in the same words.
    let group = "3 copies of one 38.0 MiB message from jdoe@example.com (114 MiB)\n";
    out.stdout_has(group);
    s.run(&["mqueue", "scan", "--site", "site1"])
        .status(0)
        .stdout_has(&format!("\n  {group}"));
    // JSON still lists every message.
    let j = s
        .run(&[
            "mqueue",
            "purge",
            "--site",
            "site1",
            "--min",
            "20M",
            "--dry-run",
            "--json",
        ])
        .json();
    assert_eq!(j["sites"][0]["messages"].as_array().unwrap().len(), 3);
}

#[test]
fn grouped_copies_show_the_distinct_recipients_of_the_group() {
    let s = Scenario::built_fakeroot();
    let q = "home/virtual/site1/fst/var/spool/mqueue";
    for (i, id) in ["6AM2aXUG006021", "6AM2aYhp006085", "6AM2aZW8006145"]
        .iter()
        .enumerate()
    {
        let p = s.join(&format!("{q}/qf{id}"));
        let user = format!("user{}@partner.example.net", i + 1);
        let mut qf = std::fs::read(&p).unwrap();
        for from in ["ben@partner.example.net", "anna@partner.example.net"] {
            // (bytes, not text: a genuine qf holds bytes that are not UTF-8)
            while let Some(at) = qf.windows(from.len()).position(|w| w == from.as_bytes()) {
                qf.splice(at..at + from.len(), user.bytes());
            }
        }
        std::fs::write(&p, qf).unwrap();
    }
    let out = s.run(&["mqueue", "scan", "--site", "site1"]);
    out.stdout_has("3 copies of one 38.0 MiB message")
        .stdout_has("to 3 recipients: user1@partner.example.net, user2@partner.example.net,");
    let j = s
        .run(&["mqueue", "scan", "--site", "site1", "--json"])
        .json();
    let g = &j["oversized"][0];
    assert_eq!(g["recipient_count"], 3);
    assert_eq!(g["recipients"].as_array().unwrap().len(), 3);
}
