//! `toolkit mem verdict`: each fixture scenario in every format, malformed inputs, and the live
//! system against `free -b` and a process the test makes allocate 500 MiB.

use crate::common::{parse_nagios, peer, promtool_check, toolkit, Scenario};
use serde_json::Value;

const SCENARIOS: &[(&str, i32, &str)] = &[
    ("mem/healthy-cache", 0, "memory healthy"),
    ("mem/leak", 2, "lekker (pid 31048)"),
    ("mem/slab-leak", 1, "unreclaimable slab 21.6% of RAM"),
    ("mem/no-swap", 2, "available memory 6.0% of RAM"),
    ("mem/no-psi", 1, "swap 86% used"),
    (
        "mem/php-pool",
        2,
        "php-fpm.service (41 processes) holds 49%",
    ),
];

fn codes(j: &Value) -> Vec<String> {
    j["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                r["code"].as_str().unwrap(),
                r["status"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn every_scenario_in_every_format() {
    for &(name, status, headline) in SCENARIOS {
        let s = Scenario::fixture(name);
        let text = s.run(&["mem", "verdict", "--interval", "0"]);
        text.status(status).stdout_has(headline);
        let word = ["OK", "WARNING", "CRITICAL"][status as usize];
        assert!(text.stdout.starts_with(word), "{name}: {}", text.stdout);
        for line in text.stdout.lines() {
            // Commands are printed whole to be copied; everything else fits 80 columns.
            let command = ["systemd-run ", "systemctl ", "echo ", "mkdir "]
                .iter()
                .any(|c| line.trim_start().starts_with(c));
            assert!(
                command || line.chars().count() <= 80,
                "{name}: too wide: {line}"
            );
        }
        let json = s.run(&["mem", "verdict", "--interval", "0", "--json"]);
        let j = json.status(status).json();
        assert_eq!(j["status"], word, "{name}");
        assert!(j["headline"].as_str().unwrap().contains(headline), "{name}");
        let nagios = s.run(&["mem", "verdict", "--interval", "0", "--format", "nagios"]);
        nagios.status(status);
        let (label, st, summary, perf) = parse_nagios(&nagios.stdout);
        assert_eq!((label.as_str(), st.as_str()), ("MEM", word), "{name}");
        assert!(summary.contains(headline), "{name}: {summary}");
        let labels: Vec<&str> = perf.iter().map(|(l, _)| l.as_str()).collect();
        assert!(
            labels.contains(&"mem_available") && labels.contains(&"swap_used"),
            "{labels:?}"
        );
        let prom = s.run(&[
            "mem",
            "verdict",
            "--interval",
            "0",
            "--format",
            "prometheus",
        ]);
        prom.status(status)
            .stdout_has(&format!("toolkit_status{{check=\"mem\"}} {status}"))
            .stdout_has("toolkit_mem_available_bytes ");
        promtool_check(&prom.stdout);
    }
}

#[test]
fn healthy_cache_is_ok_and_figures_follow_free() {
    let s = Scenario::fixture("mem/healthy-cache");
    let j = s
        .run(&["mem", "verdict", "--interval", "0", "--json"])
        .status(0)
        .json();
    let m = &j["memory"];
    // MemTotal 16303500 kB, MemAvailable 13602112 kB, Cached 11210440 + SReclaimable 690300 kB.
    assert_eq!(m["total"], 16303500u64 * 1024);
    assert_eq!(m["used"], (16303500u64 - 13602112) * 1024);
    assert_eq!(m["cache"], (11210440u64 + 690300) * 1024);
    assert_eq!(m["available_source"], "MemAvailable");
    assert!(codes(&j).is_empty());
    // Kernel threads and the zombie hold no memory and are not listed; mysqld is the largest.
    assert_eq!(j["processes"], 8);
    assert_eq!(j["top"][0]["comm"], "mysqld");
    assert!(j["fence"].is_null());
}

#[test]
fn leak_case_study_is_critical_names_the_leaker_and_fences_it() {
    let s = Scenario::fixture("mem/leak");
    // Default interval: the fake root's earlier snapshot (proc.before, 20s earlier) gives the rates.
    let out = s.run(&["mem", "verdict"]);
    out.status(2)
        .stdout_has("swap-out 1,607/s")
        .stdout_has("systemctl set-property lekker.service MemoryHigh=2048M MemoryMax=2560M");
    let j = s.run(&["mem", "verdict", "--json"]).status(2).json();
    assert_eq!(
        codes(&j),
        vec![
            "available:CRITICAL",
            "swap_out:CRITICAL",
            "psi_full:CRITICAL"
        ]
    );
    assert_eq!(j["rates"]["seconds"], 20.0);
    assert_eq!(j["rates"]["swap_out"], 32135.0 / 20.0);
    assert_eq!(j["top"][0]["pid"], 31048);
    // atop showed RGROW 34212K for lekker over the same 20 seconds.
    assert_eq!(j["top"][0]["growth"], 34212 * 1024);
    assert_eq!(j["fence"]["method"], "systemd-unit");
    assert_eq!(j["swapping"][0]["comm"], "lekker");
    // One reading: swap-out is not judged, PSI stands in, still critical.
    let j = s
        .run(&["mem", "verdict", "--interval", "0", "--json"])
        .json();
    assert_eq!(codes(&j), vec!["available:CRITICAL", "psi_full:CRITICAL"]);
    assert!(j["rates"].is_null());
    assert!(j["top"][0]["growth"].is_null());
}

#[test]
fn thresholds_are_overridable() {
    let s = Scenario::fixture("mem/leak");
    let out = s.run(&[
        "mem",
        "verdict",
        "-w",
        "1:",
        "-c",
        "0.5:",
        "--swap-out-warning",
        "5000",
        "--swap-out-critical",
        "9000",
        "--psi-warning",
        "90",
        "--psi-critical",
        "95",
    ]);
    out.status(0).stdout_has("OK ");
    let out = s.run(&["mem", "verdict", "--interval", "0", "-w", "x"]);
    out.status(3).stderr_has("'x'");
}

#[test]
fn slab_leak_lists_the_largest_caches() {
    let s = Scenario::fixture("mem/slab-leak");
    let out = s.run(&["mem", "verdict", "--interval", "0"]);
    out.status(1)
        .stdout_has("Largest slab caches")
        .stdout_has("kmalloc-256");
    let j = s
        .run(&["mem", "verdict", "--interval", "0", "--json"])
        .json();
    assert_eq!(codes(&j), vec!["slab_unreclaimable:WARNING"]);
    assert_eq!(j["slab_caches"][0]["name"], "kmalloc-256");
}

#[test]
fn no_swap_is_not_an_error_and_a_session_is_fenced_by_its_scope() {
    let s = Scenario::fixture("mem/no-swap");
    let j = s
        .run(&["mem", "verdict", "--interval", "0", "--json"])
        .status(2)
        .json();
    assert_eq!(
        codes(&j),
        vec!["available:CRITICAL", "psi_full:WARNING", "commit:WARNING"]
    );
    assert_eq!(j["memory"]["swap_used_percent"], Value::Null);
    assert!(j["not_judged"]
        .to_string()
        .contains("swap: none configured"));
    // php runs in a login session: its scope takes the limit, at runtime only.
    assert_eq!(j["fence"]["method"], "systemd-scope");
    assert_eq!(
        j["fence"]["commands"][0],
        "systemctl set-property --runtime session-12.scope MemoryHigh=1152M MemoryMax=1472M"
    );
    assert_eq!(
        j["fence"]["undo"][0],
        "systemctl set-property --runtime session-12.scope MemoryHigh=infinity MemoryMax=infinity"
    );
    assert!(j["fence"]["next_run"]
        .as_str()
        .unwrap()
        .starts_with("systemd-run --scope -p MemoryHigh=1152M -p MemoryMax=1472M -- /usr/bin/php"));
}

#[test]
fn old_kernel_without_psi_or_memavailable() {
    let s = Scenario::fixture("mem/no-psi");
    let j = s
        .run(&["mem", "verdict", "--interval", "0", "--json"])
        .status(1)
        .json();
    assert_eq!(codes(&j), vec!["swap_used:WARNING"]);
    assert!(j["psi"].is_null());
    assert!(j["oom_kills_since_boot"].is_null());
    assert_eq!(j["memory"]["available_source"], "MemFree (no MemAvailable)");
    assert_eq!(j["memory"]["available"], 1210400u64 * 1024);
    assert!(j["top"][0]["anon"].is_null());
    assert!(j["not_judged"].to_string().contains("no PSI"));
    let nagios = s.run(&["mem", "verdict", "--interval", "0", "--format", "nagios"]);
    let (_, _, _, perf) = parse_nagios(&nagios.stdout);
    assert!(!perf.iter().any(|(l, _)| l.starts_with("psi")));
}

#[test]
fn fake_root_without_earlier_snapshot_does_not_invent_rates() {
    let s = Scenario::fixture("mem/healthy-cache");
    let j = s
        .run(&["mem", "verdict", "--interval", "5s", "--json"])
        .status(0)
        .json();
    assert!(j["rates"].is_null());
    assert!(j["not_judged"].to_string().contains("proc.before"));
}

#[test]
fn check_includes_the_mem_verdict() {
    let s = Scenario::fixture("mem/leak");
    let out = s.run(&["check"]);
    out.status(2)
        .stdout_has("CRITICAL mem       available memory 1.6% of RAM")
        .stdout_has("Details: toolkit mem verdict");
    let j = s.run(&["check", "--json"]).json();
    let mem = j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "mem")
        .unwrap();
    assert_eq!(mem["status"], "CRITICAL");
    assert_eq!(mem["report"]["top"][0]["comm"], "lekker");
}

#[test]
fn malformed_system_files_are_errors_naming_the_file() {
    for (file, content) in [
        ("proc/meminfo", "MemTotal:  3984588 kB\nMemFree: lots kB\n"),
        ("proc/meminfo", "MemTotal:  3984588 kB\nMemFr"),
        ("proc/meminfo", ""),
        ("proc/vmstat", "pswpin 5\npswpout"),
        ("proc/vmstat", "pswpin five\n"),
        ("proc/pressure/memory", "some avg10=1.00 avg60="),
        ("proc/pressure/memory", "\u{0}\u{0}\u{0}"),
        ("proc/stat", "cpu 1 2 3\n"),
        ("proc.before/uptime", "999999999.0 1.0\n"),
    ] {
        let s = Scenario::fixture("mem/leak");
        s.write(file, content);
        let out = s.run(&["mem", "verdict"]);
        out.status(3).stderr_has(file);
        assert_eq!(out.stderr.lines().count(), 1, "{file}: {}", out.stderr);
        assert!(out.stdout.is_empty());
    }
    let s = Scenario::fixture("mem/leak");
    s.remove("proc/meminfo");
    s.run(&["mem", "verdict", "--interval", "0"])
        .status(3)
        .stderr_has("proc/meminfo");
}

#[test]
fn malformed_process_files_are_counted_skips() {
    let s = Scenario::fixture("mem/healthy-cache");
    s.write("proc/1305/stat", "1305 (httpd) S 1201");
    s.write(
        "proc/1306/status",
        "Name:\thttpd\nVmSize:\t 640000 kB\nVmRSS:\t 1x kB\n",
    );
    s.write(
        "proc/1410/status",
        "Name:\tphp-fpm\nVmSize:\t 520000 kB\nVmHW",
    );
    s.write("proc/2210/stat", "");
    s.remove("proc/3001/status");
    let j = s
        .run(&["mem", "verdict", "--interval", "0", "--json"])
        .status(0)
        .json();
    assert_eq!(j["processes"], 3);
    assert_eq!(j["skipped"]["count"], 3);
    assert_eq!(j["skipped"]["vanished"], 2);
    let paths = j["skipped"]["first"].to_string();
    for p in ["proc/1305/stat", "proc/1306/status", "proc/1410/status"] {
        assert!(paths.contains(p), "{p}: {paths}");
    }
    s.run(&["mem", "verdict", "--interval", "0"])
        .status(0)
        .stdout_has("Skipped: 2 exited during the reading, 3 could not be read");
}

/// `free -b` figures, by row and column name.
fn free_b() -> (Vec<u64>, Vec<u64>) {
    let out = std::process::Command::new(peer("free"))
        .arg("-b")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let row = |name: &str| -> Vec<u64> {
        let line = text.lines().find(|l| l.starts_with(name)).expect("row");
        line.split_whitespace()
            .skip(1)
            .map(|v| v.parse().unwrap())
            .collect()
    };
    (row("Mem:"), row("Swap:"))
}

#[test]
fn live_figures_agree_with_free() {
    let (mem, swap) = free_b();
    let j = toolkit(&["mem", "verdict", "--interval", "0", "--json"]).json();
    let m = &j["memory"];
    let get = |k: &str| m[k].as_u64().unwrap();
    // free: total used free shared buff/cache available. Total never changes; the rest may move
    // between the two reads by what the machine does meanwhile.
    assert_eq!(get("total"), mem[0]);
    let close = |a: u64, b: u64, what: &str| {
        let tol = (b / 50).max(64 << 20);
        assert!(a.abs_diff(b) <= tol, "{what}: toolkit {a}, free {b}");
    };
    close(get("used"), mem[1], "used");
    close(get("free"), mem[2], "free");
    close(get("shared"), mem[3], "shared");
    close(get("buffers") + get("cache"), mem[4], "buff/cache");
    close(get("available"), mem[5], "available");
    assert_eq!(get("swap_total"), swap[0]);
    close(get("swap_used"), swap[1], "swap used");
}

#[test]
fn live_process_allocating_500_mib_is_a_top_consumer() {
    use std::io::BufRead;
    let mut child = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys,time\nb = bytearray(b'x') * (500 << 20)\nprint('ready', flush=True)\ntime.sleep(60)",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    let out = toolkit(&["mem", "verdict", "--interval", "0", "--top", "50", "--json"]);
    let _ = child.kill();
    let _ = child.wait();
    let j = out.json();
    let pid = child.id() as u64;
    let me = j["top"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["pid"].as_u64() == Some(pid))
        .unwrap_or_else(|| panic!("pid {pid} not among the top consumers: {}", j["top"]));
    let mib = |k: &str| me[k].as_u64().unwrap() >> 20;
    assert!((500..540).contains(&mib("rss")), "rss {} MiB", mib("rss"));
    assert!(
        (500..540).contains(&mib("anon")),
        "anon {} MiB",
        mib("anon")
    );
    assert!(mib("vsize") >= 500 && mib("peak") >= 500);
}

#[test]
fn live_growth_over_the_interval() {
    use std::io::BufRead;
    // Grows by 8 MiB every 50 ms (about 160 MiB/s) for at most 4 s, touching what it allocates.
    let script = "import time\nchunks = []\nprint('ready', flush=True)\n\
                  for _ in range(80):\n    chunks.append(bytearray(b'y') * (8 << 20))\n    time.sleep(0.05)\n";
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let out = toolkit(&["mem", "verdict", "--interval", "1", "--top", "50", "--json"]);
    let _ = child.kill();
    let _ = child.wait();
    let j = out.json();
    let seconds = j["rates"]["seconds"].as_f64().unwrap();
    // At least the interval asked for; how much longer depends on the machine's load, so no
    // upper bound (no timed assertions).
    assert!(seconds >= 1.0, "{seconds}");
    let pid = child.id() as u64;
    let me = j["top"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["pid"].as_u64() == Some(pid))
        .unwrap_or_else(|| panic!("pid {pid} not among the top consumers: {}", j["top"]));
    let growth = me["growth"].as_i64().unwrap();
    assert!(growth >= 64 << 20, "growth {growth}");
}

#[test]
fn leak_text_layout() {
    // The whole screen for the case study, as the README shows it.
    let s = Scenario::fixture("mem/leak");
    s.run(&["mem", "verdict"]).status(2).stdout_is(LEAK_TEXT);
}

const LEAK_TEXT: &str = r#"CRITICAL available memory 1.6% of RAM; swapping out 1607 pages/s; lekker (pid
  31048) holds 53% of RAM
  CRITICAL available memory 1.6% of RAM (61.6 MiB of 3.8 GiB), critical below
           10%
  CRITICAL swapping out 1607 pages/s, critical above 10: the box is thrashing
  CRITICAL all tasks stalled on memory 52.7% of the last 10s (PSI full),
           critical above 40%

Memory   total 3.8 GiB  used 3.7 GiB  free 29.6 MiB  buff/cache 42.6 MiB
         available 61.6 MiB (1.6%)  shared 5.0 MiB
         programs 3.7 GiB = 99% of non-free memory (over 75%: a leak or too
           little RAM)
Swap     total 8.0 GiB  used 1.5 GiB (19%)
Activity swap-in 422/s  swap-out 1,607/s  scanned 6,065/s  faults 67/s
         pages per second over 20.0s; major faults per second
Pressure some 78.4% / 61.2%  full 52.7% / 40.0%  (avg10 / avg60)
Kernel   slab 95.6 MiB, unreclaimable 83.7 MiB (2.2% of RAM)
         committed 5.9 GiB of 9.9 GiB limit (60%)
         OOM kills since boot: 0

Top consumers (of 12 processes)
    PID      RSS     ANON     SWAP      VSZ     PEAK %RAM    GROWTH  COMMAND
  31048  2.0 GiB  2.0 GiB  782 MiB  2.8 GiB  2.0 GiB  53% +33.4 MiB  lekker
  30457  253 MiB  252 MiB  3.2 MiB  260 MiB  256 MiB   7% +24.0 KiB  upload
  30456  247 MiB  246 MiB  8.9 MiB  260 MiB  256 MiB   6%  +3.1 MiB  upload
  30455  244 MiB  242 MiB 12.5 MiB  260 MiB  256 MiB   6%  -120 KiB  upload
  30925  185 MiB  183 MiB 71.5 MiB  260 MiB  256 MiB   5%  -3.7 MiB  upload
  30425  138 MiB  137 MiB  118 MiB  260 MiB  256 MiB   4%  +6.8 MiB  upload
  30926 90.3 MiB 88.9 MiB  166 MiB  260 MiB  256 MiB   2% -18.9 MiB  upload
  29272 84.5 MiB 58.6 MiB 18.6 MiB  1.0 GiB  104 MiB   2%         0  chrome
   3343 38.0 MiB 35.2 MiB      0 B 49.9 MiB 38.0 MiB   1%         0  atop
   4680 35.6 MiB 29.3 MiB 33.1 MiB  640 MiB 68.8 MiB   1%         0  firefox

Top consumers by group
  BY      GROUP                       COUNT      RSS     ANON     SWAP %RAM
  command upload                          6  1.1 GiB  1.1 GiB  380 MiB  30%
  user    500                            10  3.3 GiB  3.2 GiB  1.2 GiB  86%
  user    0                               2 50.1 MiB 39.3 MiB      0 B   1%
  cgroup  session-4.scope                 9  1.3 GiB  1.2 GiB  492 MiB  34%

What to do
  lekker (pid 31048) holds 2.0 GiB resident and 782 MiB swapped out: fence it
    in, reclaiming from it above 2.0 GiB with a hard limit of 2.5 GiB:
    systemctl set-property lekker.service MemoryHigh=2048M MemoryMax=2560M
    applies at once to every process of lekker.service and persists across
    restarts
  or let toolkit do it (plan, confirmation, undo): toolkit mem fence 31048
  to lift it again:
    systemctl set-property lekker.service MemoryHigh=infinity MemoryMax=infinity

Thrashing: most swapped out, then most major faults
    PID     SWAP       MAJFLT  COMMAND
  31048  782 MiB            0  lekker
  30926  166 MiB          254  upload
  30425  118 MiB          411  upload
  30925 71.5 MiB          231  upload
   3456 60.5 MiB          102  simpres.sbin
"#;

#[test]
fn forty_php_fpm_workers_are_one_consumer_fenced_by_their_unit() {
    let s = Scenario::fixture("mem/php-pool");
    let j = s
        .run(&["mem", "verdict", "--interval", "0", "--json"])
        .status(2)
        .json();
    // No process is above 10% of RAM: there is no single process to fence.
    assert!(j["fence"].is_null(), "{}", j["fence"]);
    let groups = j["groups"].as_array().unwrap();
    let find = |by: &str, name: &str| {
        groups
            .iter()
            .find(|g| g["by"] == by && g["name"] == name)
            .unwrap_or_else(|| panic!("{by} {name} in {groups:?}"))
    };
    let cmd = find("command", "php-fpm");
    assert_eq!(
        (cmd["count"].as_u64(), cmd["rss"].as_u64()),
        (Some(41), Some(2020 << 20))
    );
    assert_eq!(cmd["swap"].as_u64(), Some(41 << 20));
    assert_eq!(find("user", "admin12")["count"].as_u64(), Some(40));
    assert_eq!(
        find("cgroup", "php-fpm.service")["count"].as_u64(),
        Some(41)
    );
    // mysqld, the largest single process, is alone in its groups: not listed as a group.
    assert!(groups.iter().all(|g| g["name"] != "mysqld"));
    let f = &j["group_fence"];
    assert_eq!(f["unit"], "php-fpm.service");
    assert_eq!(
        f["command"],
        "systemctl set-property php-fpm.service MemoryHigh=2048M MemoryMax=2560M"
    );
    s.run(&["mem", "verdict", "--interval", "0"])
        .stdout_has("Top consumers by group")
        .stdout_has("systemctl set-property php-fpm.service MemoryHigh=2048M MemoryMax=2560M")
        .stdout_has("MemoryHigh=infinity MemoryMax=infinity");
    let prom = s.run(&[
        "mem",
        "verdict",
        "--interval",
        "0",
        "--format",
        "prometheus",
    ]);
    prom.stdout_has(
        "toolkit_mem_group_resident_bytes{by=\"cgroup\",group=\"php-fpm.service\"} 2118123520",
    );
}
