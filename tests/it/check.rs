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
    assert_eq!(r["checks"][0]["status"], "UNKNOWN");
    assert!(r["checks"][0]["summary"]
        .as_str()
        .unwrap()
        .contains("proc/uptime"));
}
