//! contrib/: the fleet pieces, each run by the real tool against the fake host. node_exporter is
//! started on the loopback and stopped by its pid; icinga2 validates in its own temp dirs; every
//! NRPE line runs as written; ansible-playbook runs the playbook on localhost. A missing tool fails.

use crate::common::{manifest_dir, parse_nagios, peer, Output};
use crate::monitoring::fake_host;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const BIN: &str = "/usr/local/bin/toolkit";
const TEXTFILE_DIR: &str = "/var/lib/prometheus/node-exporter";

fn contrib(rel: &str) -> PathBuf {
    manifest_dir().join("contrib").join(rel)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(contrib(rel)).unwrap()
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    Output {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A shell command line as written in contrib/, with the binary and directories of the test.
fn as_written(line: &str, textfile_dir: &Path) -> String {
    line.replace(BIN, env!("CARGO_BIN_EXE_toolkit"))
        .replace(TEXTFILE_DIR, textfile_dir.to_str().unwrap())
}

/// A daemon started by a test, stopped by its pid however the test ends.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Plain HTTP/1.0 GET on the loopback, retried while the daemon is starting.
fn http_get(port: u16, path: &str, daemon: &mut Daemon) -> String {
    for _ in 0..300 {
        if let Some(status) = daemon.0.try_wait().unwrap() {
            panic!("the daemon exited early: {status}");
        }
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(mut s) => {
                write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
                let mut body = String::new();
                s.read_to_string(&mut body).unwrap();
                assert!(body.starts_with("HTTP/1.0 200") || body.starts_with("HTTP/1.1 200"));
                return body;
            }
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    }
    panic!("nothing listening on 127.0.0.1:{port}");
}

/// The value of the first sample of `name` whose labels include every one of `labels`.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .find(|l| labels.iter().all(|lb| l.contains(lb)))
        .and_then(|l| l.rsplit(' ').next())
        .map(|v| v.parse().unwrap())
}

#[test]
fn systemd_units_verify_and_name_the_textfile() {
    let service = read("systemd/toolkit-textfile.service");
    let exec = service
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap();
    assert_eq!(
        exec,
        format!("{BIN} check --format prometheus --output {TEXTFILE_DIR}/toolkit.prom")
    );
    let timer = read("systemd/toolkit-textfile.timer");
    assert!(
        timer.contains("\nOnCalendar=minutely\n")
            && timer.contains("\nUnit=toolkit-textfile.service\n")
    );
    // systemd-analyze verify wants the binary to exist: the test's own, in a copy of the unit.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("toolkit-textfile.service"),
        as_written(&service, Path::new(TEXTFILE_DIR)),
    )
    .unwrap();
    std::fs::write(dir.path().join("toolkit-textfile.timer"), &timer).unwrap();
    let out = run(Command::new(peer("systemd-analyze"))
        .args(["verify", "--man=no"])
        .arg(dir.path().join("toolkit-textfile.service"))
        .arg(dir.path().join("toolkit-textfile.timer")));
    out.status(0);
    assert_eq!(out.stderr, "", "systemd-analyze verify complains");
}

#[test]
fn node_exporter_serves_what_the_unit_writes() {
    let s = fake_host();
    let textfile = tempfile::tempdir().unwrap();
    let service = read("systemd/toolkit-textfile.service");
    let exec = service
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap();
    // The unit's command, as written, against the fake host (TOOLKIT_ROOT stands for --root).
    let out = run(Command::new("sh")
        .arg("-c")
        .arg(as_written(exec, textfile.path()))
        .env("TOOLKIT_ROOT", s.path()));
    out.status(1);
    assert_eq!(out.stdout, "");
    let port = free_port();
    let mut daemon = Daemon(
        Command::new(peer("prometheus-node-exporter"))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .args(["--collector.disable-defaults", "--collector.textfile"])
            .arg(format!(
                "--collector.textfile.directory={}",
                textfile.path().display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus-node-exporter"),
    );
    let body = http_get(port, "/metrics", &mut daemon);
    drop(daemon);
    assert_eq!(sample(&body, "toolkit_up", &[]), Some(1.0), "{body}");
    assert_eq!(
        sample(&body, "toolkit_status", &["check=\"toolkit\""]),
        Some(1.0)
    );
    assert_eq!(
        sample(&body, "toolkit_status", &["check=\"zombies\""]),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &body,
            "toolkit_mqueue_bytes",
            &["queue=\"site1\"", "domain=\"example.com\""]
        ),
        Some(119_541_237.0)
    );
    assert_eq!(
        sample(&body, "toolkit_mqueue_bytes", &["queue=\"site4\""]),
        Some(29_363_867.0)
    );
    assert_eq!(
        sample(&body, "node_textfile_scrape_error", &[]),
        Some(0.0),
        "{body}"
    );
    assert!(!body.lines().any(|l| l == "node_textfile_scrape_error 1"));
}

#[test]
fn alerting_rules_pass_promtool_check_and_test() {
    let out = run(Command::new(peer("promtool"))
        .args(["check", "rules"])
        .arg(contrib("prometheus/toolkit-rules.yml")));
    out.status(0);
    assert!(
        out.stdout.contains("SUCCESS: 7 rules found"),
        "{}",
        out.stdout
    );
    let out = run(Command::new(peer("promtool"))
        .args(["test", "rules"])
        .arg(contrib("prometheus/toolkit-rules.test.yml")));
    assert!(
        out.status == 0 && out.stdout.contains("SUCCESS"),
        "{}{}",
        out.stdout,
        out.stderr
    );
    // The rules are about the metrics toolkit writes: each name an `expr:` of the rules file uses,
    // and the `toolkit_<check>_skipped` its description points to, is a sample of a real check.
    let s = fake_host();
    let metrics = crate::common::toolkit(&[
        "--root",
        s.path().to_str().unwrap(),
        "check",
        "--format",
        "prometheus",
    ])
    .stdout;
    let written: std::collections::BTreeSet<&str> = metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();
    let rules = read("prometheus/toolkit-rules.yml");
    let mut used: std::collections::BTreeSet<String> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("expr:"))
        .flat_map(|e| {
            e.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with("toolkit_"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    // (the extraction found the rules' metrics: an empty set would check nothing)
    assert!(used.len() >= 3 && used.contains("toolkit_up"), "{used:?}");
    for check in ["zombies", "mem", "mqueue"] {
        used.insert(format!("toolkit_{check}_skipped"));
    }
    for name in &used {
        assert!(written.contains(name.as_str()), "{name} not in\n{metrics}");
    }
}

/// Runs `icinga2 daemon -C` on `config` with every path of its own under `dir`.
fn icinga_validate(dir: &Path, config: &str) -> Output {
    let conf = dir.join("icinga2.conf");
    std::fs::write(&conf, config).unwrap();
    let mut cmd = Command::new(peer("icinga2"));
    cmd.args(["daemon", "-C", "-c"]).arg(&conf);
    for (name, sub) in [
        ("CacheDir", "cache"),
        ("DataDir", "lib"),
        ("LogDir", "log"),
        ("SpoolDir", "spool"),
        ("InitRunDir", "run"),
    ] {
        let d = dir.join(sub);
        std::fs::create_dir_all(&d).unwrap();
        cmd.arg(format!("-D{name}={}", d.display()));
    }
    cmd.args(["-DRunAsUser=root", "-DRunAsGroup=root"]);
    run(&mut cmd)
}

#[test]
fn icinga2_validates_the_check_commands_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let commands = contrib("icinga2/toolkit.conf");
    let config = format!(
        r#"include "{}"
object Host "web1" {{
  check_command = "toolkit-check"
  vars.toolkit_mqueue_critical = "20G"
  vars.toolkit_zombies_warning = "5"
  vars.toolkit_mem_available_warning = "15:"
}}
apply Service "zombies" {{
  check_command = "toolkit-zombies"
  vars.toolkit_zombies_critical = "99"
  vars.toolkit_zombies_min_age = "5m"
  assign where host.name == "web1"
}}
apply Service "mqueue" {{
  check_command = "toolkit-mqueue"
  vars.toolkit_mqueue_warning = "2G"
  vars.toolkit_mqueue_sites = [ "site1", "example.org" ]
  assign where host.name == "web1"
}}
apply Service "mem" {{
  check_command = "toolkit-mem"
  vars.toolkit_mem_interval = "5s"
  assign where host.name == "web1"
}}
"#,
        commands.display()
    );
    let out = icinga_validate(dir.path(), &config);
    assert!(
        out.status == 0 && out.stdout.contains("Instantiated 4 CheckCommands."),
        "{}{}",
        out.stdout,
        out.stderr
    );
    assert!(
        out.stdout.contains("Instantiated 3 Services."),
        "{}",
        out.stdout
    );
    // The validation can fail: a service naming a command that is not defined.
    let broken = format!("{config}object Service \"x\" {{ host_name = \"web1\"\n check_command = \"toolkit-nope\" }}\n");
    let out = icinga_validate(dir.path(), &broken);
    assert_ne!(out.status, 0, "{}", out.stdout);
    assert!(out.stdout.contains("toolkit-nope"), "{}", out.stdout);
}

/// Each `command[name]=line` of the NRPE file.
fn nrpe_commands() -> Vec<(String, String)> {
    read("nrpe/toolkit.cfg")
        .lines()
        .filter_map(|l| l.strip_prefix("command["))
        .map(|l| {
            let (name, line) = l.split_once("]=").unwrap();
            (name.to_string(), line.to_string())
        })
        .collect()
}

#[test]
fn nrpe_lines_print_a_plugin_status_line_matching_their_exit_status() {
    let s = fake_host();
    let commands = nrpe_commands();
    let names: Vec<&str> = commands.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "toolkit_check",
            "toolkit_zombies",
            "toolkit_mqueue",
            "toolkit_mem"
        ]
    );
    let words = ["OK", "WARNING", "CRITICAL", "UNKNOWN"];
    let mut seen = BTreeMap::new();
    for (name, line) in &commands {
        // NRPE runs the line through /bin/sh, as root here (via sudo) and as an unprivileged user.
        for user in ["root", "nobody"] {
            let mut cmd = if user == "root" {
                Command::new("sh")
            } else {
                let mut c = Command::new(peer("setpriv"));
                c.args([
                    "--reuid",
                    "65534",
                    "--regid",
                    "65534",
                    "--clear-groups",
                    "sh",
                ]);
                c
            };
            let out = run(cmd
                .arg("-c")
                .arg(as_written(line, Path::new(TEXTFILE_DIR)))
                .env("TOOLKIT_ROOT", s.path()));
            let (_, status, summary, _) = parse_nagios(&out.stdout);
            assert!(
                (0..=3).contains(&out.status),
                "{name} as {user}: {}",
                out.stderr
            );
            assert_eq!(
                status, words[out.status as usize],
                "{name} as {user}: {}",
                out.stdout
            );
            assert!(!summary.is_empty());
            seen.insert((name.clone(), user), status);
        }
    }
    let st = |n: &str, u: &'static str| seen[&(n.to_string(), u)].as_str();
    assert_eq!(
        (st("toolkit_check", "root"), st("toolkit_check", "nobody")),
        ("WARNING", "UNKNOWN")
    );
    assert_eq!(
        (st("toolkit_mqueue", "root"), st("toolkit_mqueue", "nobody")),
        ("OK", "UNKNOWN")
    );
    assert_eq!(
        (
            st("toolkit_zombies", "root"),
            st("toolkit_zombies", "nobody")
        ),
        ("WARNING", "UNKNOWN")
    );
    assert_eq!(
        (st("toolkit_mem", "root"), st("toolkit_mem", "nobody")),
        ("OK", "OK")
    );
}

type Snapshot = BTreeMap<String, (u32, u32, u32, u64)>;

/// Owner, group, mode and a content hash (symlink target for links) of everything under `dir`.
fn snapshot(dir: &Path) -> Snapshot {
    use std::hash::{Hash, Hasher};
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).follow_links(false) {
        let e = e.unwrap();
        let m = e.path().symlink_metadata().unwrap();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        if m.file_type().is_symlink() {
            std::fs::read_link(e.path()).unwrap().hash(&mut h);
        } else if m.is_file() {
            std::fs::read(e.path()).unwrap().hash(&mut h);
        }
        let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
        out.insert(rel, (m.uid(), m.gid(), m.mode() & 0o7777, h.finish()));
    }
    out
}

fn changed_paths(a: &Snapshot, b: &Snapshot) -> Vec<String> {
    a.keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}

/// `ansible-playbook -c local -i localhost,` on the playbook; returns (changed, failed) of the recap.
fn playbook(root: &Path, home: &Path, extra: &[&str]) -> (u32, u32) {
    let venv = manifest_dir().join("target/peers/venv/bin");
    let ansible = venv.join("ansible-playbook");
    assert!(
        ansible.is_file(),
        "ansible-playbook not found in {}: run .ci/peers.sh",
        venv.display()
    );
    let out = run(Command::new(&ansible)
        .args(["-c", "local", "-i", "localhost,"])
        .arg("-e")
        .arg(format!("toolkit={}", env!("CARGO_BIN_EXE_toolkit")))
        .arg("-e")
        .arg(format!("toolkit_root={}", root.display()))
        .arg("-e")
        .arg(format!(
            "ansible_python_interpreter={}",
            venv.join("python").display()
        ))
        .args(extra)
        .arg(contrib("ansible/toolkit.yml"))
        .env("ANSIBLE_HOME", home)
        .env("ANSIBLE_LOCAL_TEMP", home.join("tmp"))
        .env("ANSIBLE_REMOTE_TEMP", home.join("tmp"))
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
        .env_remove("ANSIBLE_CONFIG")
        .current_dir(home));
    let recap = out
        .stdout
        .lines()
        .find(|l| l.starts_with("localhost") && l.contains("changed="))
        .unwrap_or_else(|| panic!("no recap:\n{}\n{}", out.stdout, out.stderr));
    let field = |k: &str| -> u32 {
        recap
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{k}=")))
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(
        out.stdout
            .contains("\"msg\": \"worst: WARNING (localhost WARNING)\""),
        "{}",
        out.stdout
    );
    (field("changed"), field("failed"))
}

#[test]
fn ansible_playbook_fixes_once_reports_ok_after_and_check_mode_changes_nothing() {
    let s = fake_host();
    let home = tempfile::tempdir().unwrap();
    let before = snapshot(s.path());
    // --check: the fix runs with --dry-run, what would change is reported, nothing is touched.
    assert_eq!(playbook(s.path(), home.path(), &["--check"]), (1, 0));
    assert_eq!(
        changed_paths(&before, &snapshot(s.path())),
        Vec::<String>::new()
    );
    assert_eq!(playbook(s.path(), home.path(), &[]), (1, 0));
    let after = snapshot(s.path());
    let changed = changed_paths(&before, &after);
    assert!(
        changed
            .iter()
            .any(|p| p == "home/virtual/site1/fst/var/spool/mqueue"),
        "{changed:?}"
    );
    let q = s.join("home/virtual/site1/fst/var/spool/mqueue");
    let m = std::fs::metadata(&q).unwrap();
    assert_eq!((m.gid(), m.mode() & 0o7777), (501, 0o2770));
    // A second run has nothing left to do.
    assert_eq!(playbook(s.path(), home.path(), &[]), (0, 0));
    let journal_only: Vec<String> = changed_paths(&after, &snapshot(s.path()))
        .into_iter()
        .filter(|p| !p.starts_with("var/lib/toolkit"))
        .collect();
    assert_eq!(journal_only, Vec::<String>::new());
}
