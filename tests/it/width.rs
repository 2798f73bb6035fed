//! 80 columns, counted in display width (unicode-width), for every text command on every bundled
//! fixture with long names planted: a 60-character domain, a long fake-root path, 15-character
//! process names (the kernel's longest comm) with long command lines, and long unit names.
//!
//! The one exception is a command line: a line whose trimmed text starts with one of
//! [`COMMAND_WORDS`] and a space, and has no prose on it (no `# ` comment, no `(`, no `: ` after the
//! command word). Such a line is never broken, so it can be copied and pasted whole. Nor is a line
//! that is one word alone (its trimmed text has no space: a path or an address longer than a line).

use crate::common::{copy_tree, manifest_dir, Scenario, Template};
use std::path::{Path, PathBuf};
use std::process::Command;
use unicode_width::UnicodeWidthStr;

const COMMAND_WORDS: &[&str] = &[
    "toolkit",
    "systemctl",
    "systemd-run",
    "kill",
    "echo",
    "docker",
    "podman",
    "service",
    "cat",
    "mkdir",
    "chown",
    "chmod",
    "m4",
    "prlimit",
    "*",
];

const DOMAIN: &str = "a-very-long-subdomain-name.of-a-customer-of-the-host.example";

fn is_command_line(line: &str) -> bool {
    let t = line.trim();
    if !t.contains(' ') {
        return true;
    }
    COMMAND_WORDS.iter().any(|w| {
        t.strip_prefix(w)
            .and_then(|rest| rest.strip_prefix(' '))
            .is_some_and(|rest| !rest.contains("# ") && !rest.contains('(') && !rest.contains(": "))
    })
}

/// A directory with a long path, for the fake root: paths under the root are shown in details.
fn long_dir(base: &Path) -> PathBuf {
    let p = base.join("srv-fake-roots-of-the-web-hosting-cluster/web1.hosting.example.net-root");
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn replace_in(path: &Path, from: &str, to: &str) {
    let old = std::fs::read_to_string(path).unwrap();
    assert!(old.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, old.replacen(from, to, 1)).unwrap();
}

/// Long process names, command lines and unit names for every process of a fake root's proc/.
fn plant_processes(root: &Path) {
    let Ok(dir) = std::fs::read_dir(root.join("proc")) else {
        return;
    };
    for e in dir.flatten() {
        let p = e.path();
        if !e
            .file_name()
            .to_string_lossy()
            .chars()
            .all(|c| c.is_ascii_digit())
        {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(p.join("stat")) else {
            continue;
        };
        let (Some(a), Some(b)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[a + 1..b];
        if comm == "systemd" || comm == "init" {
            continue;
        }
        let long: String = format!("{comm}-pool-worker-x").chars().take(15).collect();
        std::fs::write(
            p.join("stat"),
            format!("{}({long}){}", &stat[..a], &stat[b + 1..]),
        )
        .unwrap();
        if let Ok(status) = std::fs::read_to_string(p.join("status")) {
            let status =
                status.replacen(&format!("Name:\t{comm}\n"), &format!("Name:\t{long}\n"), 1);
            std::fs::write(p.join("status"), status).unwrap();
        }
        let cmdline = format!(
            "/opt/vendor/{long}/bin/{long}\0--config=/etc/{long}/{long}-production.conf\0--listen=127.0.0.1:8080\0--workers=16\0"
        );
        std::fs::write(p.join("cmdline"), cmdline).unwrap();
        if let Ok(cg) = std::fs::read_to_string(p.join("cgroup")) {
            let cg = cg.replace(".service", "-of-the-customer-portal-backend.service");
            std::fs::write(p.join("cgroup"), cg).unwrap();
        }
    }
}

fn run(root: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_toolkit"))
        .arg("--root")
        .arg(root)
        .args(args)
        .env_remove("TOOLKIT_ROOT")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run toolkit");
    let text = String::from_utf8(out.stdout).expect("text output is UTF-8");
    (out.status.code().unwrap_or(-1), text)
}

#[derive(Default)]
struct Widest {
    failures: Vec<String>,
    widest: Vec<(String, usize, String)>,
}

impl Widest {
    fn check(&mut self, what: &str, root: &Path, args: &[&str]) -> String {
        let (status, text) = run(root, args);
        assert!(
            (0..=3).contains(&status),
            "{what}: toolkit {}: status {status}",
            args.join(" ")
        );
        // A usage error prints nothing on stdout, which would fit any width: not a pass.
        assert!(
            !text.trim().is_empty(),
            "{what}: toolkit {}: no output (status {status})",
            args.join(" ")
        );
        let label = format!("{what}: toolkit {}", args.join(" "));
        let mut widest = (0, String::new());
        for line in text.lines() {
            let w = UnicodeWidthStr::width(line);
            if w > 80 && !is_command_line(line) {
                self.failures.push(format!("{label}: {w} columns:\n{line}"));
            }
            if w > widest.0 && !is_command_line(line) {
                widest = (w, line.to_string());
            }
        }
        self.widest.push((label, widest.0, widest.1));
        text
    }
}

fn host() -> (tempfile::TempDir, PathBuf) {
    let base = tempfile::tempdir().unwrap();
    let root = long_dir(base.path());
    Template::FakeRoot.copy_to(&root);
    // A 60-character domain for site1, and a hard link that fix must refuse.
    assert_eq!(DOMAIN.len(), 60);
    replace_in(
        &root.join("etc/virtualhosting/mappings/domainmap"),
        "example.com = site1",
        &format!("{DOMAIN} = site1"),
    );
    replace_in(
        &root.join("home/virtual/site1/info/current/siteinfo"),
        "domain = example.com",
        &format!("domain = {DOMAIN}"),
    );
    // site1's aliases hard-linked from outside the site: fix refuses it, with its reason.
    std::fs::create_dir_all(root.join("var/lib")).unwrap();
    std::fs::hard_link(
        root.join("home/virtual/site1/fst/etc/aliases"),
        root.join("var/lib/a-hard-link-to-site1-aliases"),
    )
    .unwrap();
    plant_processes(&root);
    (base, root)
}

#[test]
fn every_text_line_fits_80_columns_except_whole_commands() {
    let mut w = Widest::default();
    let (_base, root) = host();
    let mut outputs = Vec::new();
    for args in [
        &["check"][..],
        &["zombies"],
        &["zombies", "--all"],
        &["zombies", "--reap", "--dry-run"],
        &["zombies", "--restart", "--dry-run"],
        &["zombies", "--reap", "--yes"],
        &["zombies", "--restart", "--yes"],
        &["mqueue", "scan"],
        &["mqueue", "scan", "--min", "1"],
        &["mqueue", "fix", "--all", "--dry-run"],
        &["mqueue", "fix", "--site", "site1", "--m4", "--dry-run"],
        &[
            "mqueue",
            "purge",
            "--site",
            "site1",
            "--min",
            "20M",
            "--dry-run",
        ],
        &[
            "mqueue",
            "purge",
            "--site",
            "site2",
            "--min",
            "1",
            "--dry-run",
        ],
        &[
            "mqueue",
            "fix",
            "--site",
            "site1",
            "--yes",
            "--chgrp-queued",
        ],
        &["mqueue", "fix", "--site", "site2", "--yes"],
        &["mqueue", "fix", "--site", "site1", "--undo", "--yes"],
        &[
            "mqueue", "purge", "--site", "site1", "--min", "20M", "--yes",
        ],
    ] {
        outputs.push(w.check("fake host", &root, args));
    }
    // The planted names reached the output: a test that plants nothing proves nothing.
    let all = outputs.concat();
    for want in [
        DOMAIN,
        "-of-the-customer-portal-backend.service",
        "crond-pool-work",
        "has 2 hard links",
        "m4 is not run",
    ] {
        assert!(all.contains(want), "no command showed {want:?}:\n{all}");
    }
    let mut roots = Vec::new();
    for base in ["fixtures/mem", "fixtures/mem/fence", "fixtures/mem-history"] {
        for e in std::fs::read_dir(manifest_dir().join(base))
            .unwrap()
            .flatten()
        {
            if e.path().join("proc/meminfo").is_file() {
                roots.push(e.path());
            }
        }
    }
    roots.sort();
    assert!(roots.len() >= 8, "{roots:?}");
    for fixture in &roots {
        let base = tempfile::tempdir().unwrap();
        let root = long_dir(base.path());
        copy_tree(fixture, &root);
        plant_processes(&root);
        let what = fixture
            .strip_prefix(manifest_dir())
            .unwrap()
            .display()
            .to_string();
        w.check(&what, &root, &["mem", "verdict"]);
        w.check(&what, &root, &["mem", "verdict", "--top", "50"]);
        if root.join("proc/4242/stat").is_file() {
            w.check(&what, &root, &["mem", "fence", "4242", "--dry-run"]);
        }
        if root.join("var/lib/toolkit/mem-history.jsonl").is_file() {
            w.check(&what, &root, &["mem", "report"]);
        }
    }
    let empty = Scenario::empty();
    w.check(
        "no history",
        empty.path(),
        &[
            "mem",
            "report",
            "--history",
            &format!(
                "{}/{}",
                long_dir(empty.path()).display(),
                "mem-history.jsonl"
            ),
        ],
    );
    let report: Vec<String> = w
        .widest
        .iter()
        .map(|(l, n, s)| format!("{n:3}  {l}\n     {s}"))
        .collect();
    eprintln!("widest line of each command:\n{}", report.join("\n"));
    assert!(
        w.failures.is_empty(),
        "{} line(s) over 80 columns:\n\n{}",
        w.failures.len(),
        w.failures.join("\n\n")
    );
}

#[test]
fn command_lines_are_recognised_precisely() {
    assert!(is_command_line(
        "    systemctl set-property a.service MemoryHigh=1G"
    ));
    assert!(is_command_line("  toolkit mqueue fix --site example.com"));
    assert!(!is_command_line(
        "  systemctl restart a.service # crond 612 (12 zombies)"
    ));
    assert!(!is_command_line(
        "  would change var/spool/mqueue owner root:mail"
    ));
    assert!(!is_command_line("  killer: a long sentence"));
    assert!(!is_command_line("  kill it: because"));
    assert!(is_command_line("  /a/very/long/path/alone/on/its/line"));
    assert!(!is_command_line("  quarantine: /a/very/long/path"));
}
