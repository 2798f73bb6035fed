//! `toolkit zombies`: fake-root scenarios for each diagnosis and suggestion in every format, bad input,
//! and live tests on the real /proc compared with `ps`.

use crate::common::{parse_nagios, promtool_check, toolkit, Scenario};
use crate::exact::Test;
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn parent(report: &Value, pid: i64) -> &Value {
    report["parents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"] == pid)
        .unwrap_or_else(|| panic!("no parent {pid} in {report:#}"))
}

fn codes(v: &Value, key: &str, field: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d[field].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn fakeroot_text_report_is_exactly_as_expected() {
    let out = Test::new()
        .fixture("fakeroot")
        .args(["zombies", "--all"])
        .stdout_file("zombies-fakeroot.txt")
        .status(1)
        .run();
    assert!(
        out.stdout.lines().all(|l| l.chars().count() <= 80),
        "a line is wider than 80 columns"
    );
}

#[test]
fn fakeroot_json_groups_diagnoses_and_orders() {
    let out = Scenario::fixture("fakeroot").run(&["zombies", "--format", "json"]);
    out.status(1);
    let r = out.json();
    assert_eq!(r["status"], "WARNING");
    assert_eq!(r["zombies"], 20);
    assert_eq!(
        r["transient"], 1,
        "the 5 s old zombie of crond is transient"
    );
    assert_eq!(r["oldest_age"], 290000);
    let order: Vec<i64> = r["parents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pid"].as_i64().unwrap())
        .collect();
    assert_eq!(order, vec![612, 4010, 881, 950], "most zombies first");

    let crond = parent(&r, 612);
    assert_eq!(crond["zombie_count"], 12);
    assert_eq!(crond["oldest_age"], 259200);
    assert_eq!(crond["zombies"][0]["started"], 1794948800 + 400000 - 259200);
    assert_eq!(
        codes(crond, "diagnosis", "code"),
        vec!["handler_not_reaping"]
    );
    assert_eq!(crond["diagnosis"][0]["likely"], true);
    assert_eq!(crond["adopter"]["pid"], 1);
    assert_eq!(crond["adopter"]["reaps"], "yes");
    assert_eq!(
        codes(crond, "suggestions", "kind"),
        vec!["nudge", "restart", "kill"]
    );
    assert_eq!(
        crond["service"]["restart"],
        "systemctl restart crond.service"
    );
    assert_eq!(crond["service"]["restart_removes_parent"], true);

    let worker = parent(&r, 881);
    assert_eq!(codes(worker, "diagnosis", "code"), vec!["never_waits"]);
    assert_eq!(worker["service"]["kill_mode"], "process");
    assert_eq!(worker["service"]["main_pid"], 880);
    assert_eq!(worker["service"]["restart_removes_parent"], false);
    assert_eq!(
        codes(worker, "suggestions", "kind"),
        vec!["kill"],
        "no nudge without a handler, no restart that leaves 881 running"
    );
    let kill = &worker["suggestions"][0];
    assert!(
        kill["note"]
            .as_str()
            .unwrap()
            .contains("KillMode=process stops only its main process 880"),
        "{kill}"
    );

    let node = parent(&r, 4010);
    assert_eq!(codes(node, "diagnosis", "code"), vec!["pid1_not_init"]);
    assert_eq!(codes(node, "suggestions", "kind"), vec!["restart", "init"]);
    assert!(node["suggestions"][0]["command"]
        .as_str()
        .unwrap()
        .starts_with("docker restart 3f2a9b8c7d6e"));

    let stopped = parent(&r, 950);
    assert_eq!(codes(stopped, "diagnosis", "code"), vec!["stopped"]);
    assert_eq!(stopped["suggestions"][0]["command"], "kill -CONT 950");
    assert_eq!(
        codes(stopped, "suggestions", "kind"),
        vec!["continue", "nudge", "restart", "kill"]
    );
    assert_eq!(r["host"]["systemd"], true);

    // The java leader showing Z with live threads is not a zombie.
    assert!(!out.stdout.contains("\"java\""));
    assert_eq!(r["dstate"][0]["pid"], 2300);
    assert_eq!(r["dstate"][0]["wchan"], "nfs_wait_bit_killable");
    assert_eq!(r["traced"][0]["pid"], 3300);
    assert_eq!(r["traced"][0]["tracer"], 3299);
    assert_eq!(r["traced"][0]["tracer_comm"], "gdb");
}

#[test]
fn thresholds_and_min_age_decide_the_status() {
    let s = Scenario::fixture("fakeroot");
    s.run(&["zombies", "-w", "30", "-c", "40"]).status(0);
    s.run(&["zombies", "-w", "5", "-c", "10"])
        .status(2)
        .stdout_has("CRITICAL");
    let r = s
        .run(&["zombies", "--min-age", "2d", "--format", "json"])
        .json();
    assert_eq!(
        (r["zombies"].as_i64(), r["transient"].as_i64()),
        (Some(6), Some(15))
    );
    let none = s.run(&["zombies", "--min-age", "5d"]);
    none.status(0)
        .stdout_has("OK no zombies at least 5d old (21 younger, transient)");
}

#[test]
fn parent_filter_shows_one_parent() {
    let r = Scenario::fixture("fakeroot")
        .run(&["zombies", "--parent", "881", "--format", "json"])
        .json();
    assert_eq!(r["parents"].as_array().unwrap().len(), 1);
    assert_eq!(r["parents"][0]["pid"], 881, "the parent asked for");
    assert_eq!(r["zombies"], 3);
}

#[test]
fn nagios_output_parses_back() {
    let out = Scenario::fixture("fakeroot").run(&["zombies", "--format", "nagios"]);
    out.status(1);
    let (label, status, summary, perf) = parse_nagios(&out.stdout);
    assert_eq!((label.as_str(), status.as_str()), ("ZOMBIES", "WARNING"));
    assert!(
        summary.starts_with("20 zombies under 4 parents"),
        "{summary}"
    );
    assert_eq!(perf[0], ("zombies".to_string(), "20;0;49;0".to_string()));
    assert!(
        perf.iter()
            .any(|(l, v)| l == "zombies_oldest" && v == "290000s;;;0"),
        "{perf:?}"
    );
    assert!(out
        .stdout
        .lines()
        .nth(1)
        .unwrap()
        .contains("12 zombies under crond 612"));
}

#[test]
fn prometheus_output_passes_promtool() {
    let out = Scenario::fixture("fakeroot").run(&["zombies", "--format", "prometheus"]);
    out.status(1);
    promtool_check(&out.stdout);
    out.stdout_has("toolkit_zombies 20\n")
        .stdout_has(
            "toolkit_zombies_by_parent{ppid=\"612\",comm=\"crond\",service=\"crond.service\"} 12\n",
        )
        .stdout_has("toolkit_zombies_dstate 1\n")
        .stdout_has("toolkit_zombies_oldest_seconds 290000\n")
        .stdout_has("toolkit_zombies_skipped 0\n")
        .stdout_has("toolkit_status{check=\"zombies\"} 1\n");
}

#[test]
fn sysv_host_suggests_the_init_script() {
    let s = Scenario::fixture("fakeroot");
    s.remove("run/systemd/system");
    s.write("etc/rc.d/init.d/crond", "#!/bin/sh\n");
    let r = s.run(&["zombies", "--format", "json"]).json();
    assert_eq!(
        parent(&r, 612)["service"]["restart"],
        "/etc/rc.d/init.d/crond restart"
    );
    assert_eq!(
        parent(&r, 881)["service"],
        Value::Null,
        "no httpd script: no service"
    );
}

#[test]
fn host_pid1_that_is_not_an_init_is_never_killed() {
    let s = Scenario::fixture("fakeroot");
    // Turn the host into a container: PID 1 is node, and the sh zombies are its children.
    let stat = std::fs::read_to_string(s.join("proc/1/stat"))
        .unwrap()
        .replace("(systemd)", "(node)");
    s.write("proc/1/stat", stat);
    let status = std::fs::read_to_string(s.join("proc/1/status"))
        .unwrap()
        .replace("Name:\tsystemd", "Name:\tnode");
    s.write("proc/1/status", status);
    s.write("proc/1/cmdline", "node\0/app/server.js\0");
    for pid in 4101..=4104 {
        let path = format!("proc/{pid}/stat");
        let stat = std::fs::read_to_string(s.join(&path))
            .unwrap()
            .replacen(" Z 4010 ", " Z 1 ", 1);
        s.write(&path, stat);
    }
    let r = s.run(&["zombies", "--format", "json"]).json();
    let init = parent(&r, 1);
    assert_eq!(codes(init, "diagnosis", "code"), vec!["pid1_not_init"]);
    let commands = codes(init, "suggestions", "command");
    assert!(
        !commands
            .iter()
            .any(|c| c.starts_with("kill 1") || c.contains("-KILL 1")),
        "{commands:?}"
    );
    // No runtime is identified (no .dockerenv), and systemd is not PID 1 although run/systemd/system
    // exists: neither docker nor systemctl may be suggested anywhere.
    assert!(commands.iter().any(|c| c == "tini -- node /app/server.js"));
    let all: Vec<String> = r["parents"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| codes(p, "suggestions", "command"))
        .collect();
    assert!(
        !all.iter()
            .any(|c| c.contains("systemctl") || c.contains("docker")),
        "{all:?}"
    );
    assert_eq!(r["host"]["systemd"], false);
    // PID 1 holds zombies at least --min-age old: killing crond would only move its zombies there.
    let crond = parent(&r, 612);
    assert_eq!(crond["adopter"]["reaps"], "no");
    let kill = crond["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "kill")
        .unwrap();
    assert_eq!(kill["clears"], "no");
    assert!(
        !kill["note"].as_str().unwrap().contains("reaps the"),
        "{kill}"
    );
    s.write(".dockerenv", "");
    let r = s.run(&["zombies", "--format", "json"]).json();
    let commands = codes(parent(&r, 1), "suggestions", "command");
    assert!(
        commands.iter().any(|c| c.starts_with("docker run --init")),
        "{commands:?}"
    );
}

#[test]
fn nagios_long_output_carries_the_text_suggestions() {
    let s = Scenario::fixture("fakeroot");
    let r = s.run(&["zombies", "--format", "json"]).json();
    let nagios = s.run(&["zombies", "--format", "nagios"]);
    let details: Vec<&str> = nagios.stdout.lines().skip(1).collect();
    let parents = r["parents"].as_array().unwrap();
    assert_eq!(details.len(), parents.len(), "{}", nagios.stdout);
    for (line, p) in details.iter().zip(parents) {
        let listed: Vec<String> = codes(p, "suggestions", "command")
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{}. {c}", i + 1))
            .collect();
        assert!(line.ends_with(&listed.join("; ")), "{line}\n{listed:?}");
    }
    assert!(
        !nagios.stdout.contains("kill -CHLD 881"),
        "881 has no handler"
    );
    assert!(
        !nagios.stdout.contains("kill -CHLD 4010"),
        "4010 has no handler"
    );
    let text = s.run(&["zombies"]);
    for p in parents {
        for c in codes(p, "suggestions", "command") {
            text.stdout_has(&c);
        }
    }
}

#[test]
fn reap_under_a_fake_root_signals_nothing() {
    let s = Scenario::fixture("fakeroot");
    let out = s.run(&["zombies", "--reap", "--yes", "--format", "json"]);
    out.status(1);
    let r = out.json();
    // Gentle steps only, gentlest first: resume the stopped backupd, then nudge the two parents that
    // handle SIGCHLD; node and httpd have no handler: no nudge, a counted skip.
    let steps: Vec<String> = codes(&r, "actions", "command");
    assert_eq!(
        steps,
        vec![
            "kill -CONT 950",
            "kill -CHLD 612",
            "kill -CHLD 950",
            "(parent node 4010)",
            "(parent httpd 881)"
        ]
    );
    let outcomes = codes(&r, "actions", "outcome");
    assert_eq!(
        outcomes,
        vec!["would_do", "would_do", "would_do", "skipped", "skipped"]
    );
    assert!(r["actions"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("fake root"));
    let out = s.run(&["zombies", "--restart", "--yes"]);
    out.status(0)
        .stdout_has("would do  systemctl restart crond.service")
        .stdout_has("would do  docker restart 3f2a9b8c7d6e")
        .stdout_has("would do  kill 881")
        .stdout_lacks("systemctl restart httpd.service");
}

#[test]
fn restart_never_runs_a_restart_that_leaves_the_parent() {
    // httpd.service has KillMode=process and 881 is not its main process: restarting it would be a web
    // outage for nothing. --restart offers ending 881 alone, in its own stage after the gentle ones.
    let s = Scenario::fixture("fakeroot");
    let r = s
        .run(&["zombies", "--restart", "--yes", "--format", "json"])
        .json();
    let steps: Vec<(String, String)> = r["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap().to_string(),
                a["command"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let order: Vec<(&str, &str)> = steps
        .iter()
        .map(|(a, c)| (a.as_str(), c.as_str()))
        .collect();
    assert_eq!(
        order,
        vec![
            ("continue", "kill -CONT 950"),
            ("nudge", "kill -CHLD 612"),
            ("nudge", "kill -CHLD 950"),
            ("restart", "systemctl restart crond.service"),
            ("restart", "docker restart 3f2a9b8c7d6e"),
            ("restart", "systemctl restart backupd.service"),
            ("end_parent", "kill 881"),
        ]
    );
    // The same plan in a dry run, nothing confirmed or done.
    s.run(&["zombies", "--restart", "--dry-run"])
        .status(0)
        .stdout_has("Step 4: end the parent alone")
        .stdout_has("would do  kill 881 (dry run")
        .stdout_lacks("httpd.service (dry run");
}

#[test]
fn reap_without_terminal_or_yes_refuses() {
    let s = Scenario::fixture("fakeroot");
    let out = s.run(&["zombies", "--reap"]);
    out.status(3).stderr_has("refusing").stderr_has("--yes");
    assert!(out.stdout.is_empty());
    s.run(&["zombies", "--reap", "--dry-run"])
        .status(1)
        .stdout_has("would do  kill -CHLD 612")
        .stdout_has("dry run");
}

#[test]
fn malformed_proc_files_are_counted_not_fatal() {
    let s = Scenario::fixture("fakeroot");
    s.write("proc/612/stat", "garbage");
    s.write("proc/950/status", "Name:\tbackupd\n");
    s.write("proc/700/stat", "700 (sshd)");
    s.write("proc/881/cgroup", "\u{0}\u{1}not a cgroup\n");
    s.write("proc/5200/stat", "");
    let out = s.run(&["zombies", "--format", "json"]);
    out.status(1);
    let r = out.json();
    assert_eq!(r["skipped"]["count"], 3);
    assert_eq!(
        r["skipped"]["vanished"], 1,
        "an empty stat is a process being torn down"
    );
    assert_eq!(
        codes(parent(&r, 612), "diagnosis", "code"),
        vec!["parent_unreadable"]
    );
    assert_eq!(parent(&r, 881)["service"], Value::Null);
    let text = s.run(&["zombies"]);
    text.stdout_has("could not be read")
        .stdout_has("proc/612/stat: not a valid stat line");
}

#[test]
fn empty_process_table_is_unknown() {
    let s = Scenario::fixture("fakeroot");
    for e in std::fs::read_dir(s.join("proc")).unwrap() {
        let e = e.unwrap();
        if e.file_name().to_string_lossy().parse::<u32>().is_ok() {
            std::fs::remove_dir_all(e.path()).unwrap();
        }
    }
    let out = s.run(&["zombies"]);
    out.status(3).stderr_has("no process directories");
    assert_eq!(out.stderr.lines().count(), 1);
}

#[test]
fn random_bytes_in_proc_files_never_panic() {
    let s = Scenario::fixture("fakeroot");
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    // Read once: every round overwrites it.
    let valid = std::fs::read(s.join("proc/881/stat")).unwrap();
    for round in 0..40 {
        let len = (next() % 300) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if round % 2 == 0 {
            // A real line cut short, so the parser gets further (a truncated stat is what made
            // procfs-core panic).
            bytes = valid[..(next() as usize % valid.len())].to_vec();
        }
        for file in ["stat", "status", "cgroup", "wchan", "cmdline"] {
            s.write(&format!("proc/881/{file}"), &bytes);
        }
        let out = s.run(&["zombies", "--format", "json"]);
        assert!(
            (0..=2).contains(&out.status),
            "round {round}: status {} {}",
            out.status,
            out.stderr
        );
        assert!(
            !out.stderr.contains("panicked"),
            "round {round}: {}",
            out.stderr
        );
        out.json();
    }
}

/// A process that forks `n` children which exit at once, and never reaps them: `sh` backgrounds the
/// children and then execs `sleep`, which never calls wait().
struct Unreaped {
    child: std::process::Child,
}

impl Unreaped {
    fn start(n: usize) -> Unreaped {
        let script = format!("for i in $(seq {n}); do /bin/true & done; exec sleep 120");
        let child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn sh");
        Unreaped { child }
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }
}

impl Drop for Unreaped {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Zombie children of `ppid` according to `ps -eo pid,ppid,stat`.
fn ps_zombies_of(ppid: i32) -> Vec<i64> {
    let out = Command::new("ps")
        .args(["-eo", "pid=,ppid=,stat="])
        .output()
        .expect("ps");
    let mut pids: Vec<i64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 3 && f[1] == ppid.to_string() && f[2].starts_with('Z'))
                .then(|| f[0].parse().unwrap())
        })
        .collect();
    pids.sort();
    pids
}

fn wait_for(mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "condition not met within 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn live_zombies_match_ps() {
    let parent = Unreaped::start(5);
    wait_for(|| ps_zombies_of(parent.pid()).len() == 5);
    let expected = ps_zombies_of(parent.pid());
    let pid = parent.pid().to_string();
    let out = toolkit(&[
        "zombies",
        "--min-age",
        "0",
        "--parent",
        &pid,
        "--format",
        "json",
    ]);
    out.status(1);
    let r = out.json();
    let p = &r["parents"][0];
    assert_eq!(p["pid"].as_i64(), Some(parent.pid() as i64));
    assert_eq!(p["comm"], "sleep");
    let mut got: Vec<i64> = p["zombies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z["pid"].as_i64().unwrap())
        .collect();
    got.sort();
    assert_eq!(
        got, expected,
        "toolkit and ps disagree on the zombies of {pid}"
    );
    assert_eq!(
        codes(p, "diagnosis", "code"),
        vec!["never_waits"],
        "sleep does not handle SIGCHLD"
    );
    assert!(
        !codes(p, "suggestions", "kind").contains(&"nudge".to_string()),
        "no kill -CHLD for a parent without a handler"
    );
}

#[test]
fn live_reap_clears_zombies_of_a_parent_that_reaps_on_sigchld() {
    // The children exit before the handler is installed, so they stay zombies until a SIGCHLD arrives.
    let script = r#"
import os, signal, sys, time
kids = [os.fork() for _ in range(4)]
if 0 in kids:
    os._exit(0)
time.sleep(0.3)
def reap(signum, frame):
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                return
        except ChildProcessError:
            return
signal.signal(signal.SIGCHLD, reap)
print("ready", flush=True)
time.sleep(120)
"#;
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "ready");
    let ppid = child.id() as i32;
    assert_eq!(ps_zombies_of(ppid).len(), 4, "four zombies before the reap");
    let pid = ppid.to_string();
    let out = toolkit(&[
        "zombies",
        "--min-age",
        "0",
        "--parent",
        &pid,
        "--reap",
        "--yes",
        "--format",
        "json",
    ]);
    let _ = child.kill();
    let _ = child.wait();
    out.status(0);
    let r = out.json();
    assert_eq!(r["actions"][0]["outcome"], "done");
    assert_eq!(r["actions"][0]["zombies_cleared"], 4);
    assert_eq!(r["after"]["zombies"], 0);
}

#[test]
fn live_reap_sends_nothing_to_a_parent_without_a_handler() {
    // sleep never handles SIGCHLD: a nudge cannot help, so --reap does not send one and says why.
    let parent = Unreaped::start(2);
    wait_for(|| ps_zombies_of(parent.pid()).len() == 2);
    let pid = parent.pid().to_string();
    let out = toolkit(&[
        "zombies",
        "--min-age",
        "0",
        "--parent",
        &pid,
        "--reap",
        "--yes",
        "--format",
        "json",
    ]);
    out.status(1);
    let r = out.json();
    assert_eq!(r["actions"].as_array().unwrap().len(), 1, "{r:#}");
    assert_eq!(r["actions"][0]["outcome"], "skipped");
    assert!(r["actions"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("no gentle step applies"));
    assert_eq!(
        ps_zombies_of(parent.pid()).len(),
        2,
        "sleep still holds them"
    );
}
