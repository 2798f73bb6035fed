//! `toolkit check`: one line per check, worst first, worst exit status; every format.

use crate::common::{parse_nagios, promtool_check, Scenario};

#[test]
fn fakeroot_check_lists_each_check_worst_first() {
    let s = Scenario::fixture("fakeroot");
    let out = s.run(&["check"]);
    out.status(1)
        .stdout_has("WARNING  zombies")
        .stdout_has("Details: toolkit zombies");
    let r = s.run(&["check", "--json"]).json();
    assert_eq!(r["status"], "WARNING");
    assert_eq!(r["checks"][0]["name"], "zombies");
    assert_eq!(r["checks"][0]["report"]["zombies"], 20);
    let listed: Vec<(&str, &str)> = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        listed,
        [("zombies", "WARNING"), ("mem", "OK"), ("mqueue", "OK")]
    );
    // Zombies come first above whether sorted or not (they run first); thresholds that make the
    // order the reverse of the running order show the list is sorted by status.
    let out = s.run(&[
        "check",
        "--mem-interval",
        "0",
        "--mem-available-critical",
        "90:",
        "--mqueue-warning",
        "1K",
        "--zombies-warning",
        "100",
        "--zombies-critical",
        "200",
    ]);
    out.status(2);
    let firsts: Vec<String> = out
        .stdout
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.is_empty() && !l.starts_with("Details"))
        .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        firsts,
        ["CRITICAL mem", "WARNING mqueue", "OK zombies"],
        "{}",
        out.stdout
    );
}

#[test]
fn check_formats_for_monitoring() {
    let s = Scenario::fixture("fakeroot");
    let out = s.run(&["check", "--format", "nagios"]);
    let (label, status, _, perf) = parse_nagios(&out.stdout);
    assert_eq!((label.as_str(), status.as_str()), ("TOOLKIT", "WARNING"));
    assert!(perf.iter().any(|(l, _)| l == "zombies"));
    let out = s.run(&["check", "--format", "prometheus"]);
    promtool_check(&out.stdout);
    out.stdout_has("toolkit_status{check=\"zombies\"} 1");
}

#[test]
fn a_check_that_cannot_read_is_unknown_and_the_rest_still_run() {
    let s = Scenario::fixture("fakeroot");
    s.remove("proc/uptime");
    let out = s.run(&["check", "--json"]);
    out.status(3);
    let r = out.json();
    let checks = r["checks"].as_array().unwrap();
    let names: Vec<&str> = checks.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["zombies", "mem", "mqueue"], "every check ran");
    // The two that need proc/uptime are UNKNOWN and name it.
    for c in &checks[..2] {
        assert_eq!(c["status"], "UNKNOWN", "{c:#}");
        assert!(
            c["summary"].as_str().unwrap().contains("proc/uptime"),
            "{c:#}"
        );
    }
    // The rest still ran: the mail queues need no proc/uptime, and the check scanned and judged them
    // exactly as `mqueue scan` does on the same root.
    let mq = &checks[2];
    assert_eq!(mq["status"], "OK", "{mq:#}");
    let scan = s.run(&["mqueue", "scan", "--json"]);
    scan.status(0);
    let scan = scan.json();
    assert_eq!(mq["report"]["queues"], scan["queues"]);
    assert_eq!(mq["report"]["totals"], scan["totals"]);
    assert_eq!(scan["queues"].as_array().unwrap().len(), 5);
    s.run(&["check"])
        .status(3)
        .stdout_has("OK       mqueue    site1 example.com: 11.6 KiB in 4 messages");
}
