//! The shared fixture in all four formats, and the options that select queues.

use super::{fakeroot, queue, MIB};
use crate::common::{parse_nagios, promtool_check, Scenario};

#[test]
fn text_names_the_runaway_site_and_the_fix() {
    let s = fakeroot();
    let out = s.run(&["mqueue", "scan"]);
    out.status(0)
        .stdout_has(
            "OK site1 example.com: 114 MiB in 4 messages, 3 >= 20.0 MiB; not bound to quota\n",
        )
        .stdout_has("site1 example.com (admin1): NOT bound to its quota")
        .stdout_has("directory group is mail, not admin1; directory is not setgid;")
        .stdout_has("DefaultUser=mail:mail in etc/sendmail.cf")
        .stdout_has("fix: toolkit mqueue fix --site example.com")
        .stdout_has("site2 shop.example.org (admin2): bound to its quota")
        .stdout_has("3 copies of one 38.0 MiB message from jdoe@example.com (114 MiB)")
        .stdout_has("over quota: Deferred: 452 4.2.2")
        .stdout_has("refused/timeout: Deferred: Connection refused by [127.0.0.2]")
        .stdout_has("to 40 recipients:")
        .stdout_has("anomalies: 1 df without qf (3.0 MiB), 1 stale tf")
        .stdout_has("Not bound to their quota (empty for now): site3 blog.example.net")
        // The message below --min is counted, not listed.
        .stdout_lacks("invoice");
    for line in out.stdout.lines() {
        assert!(line.chars().count() <= 80, "wider than 80: {line:?}");
    }
}

#[test]
fn json_has_the_figures() {
    let s = fakeroot();
    let j = s.run(&["mqueue", "scan", "--json"]).status(0).json();
    let site1 = queue(&j, "site1");
    assert_eq!(site1["messages"], 4);
    assert_eq!(site1["oversized"], 3);
    assert_eq!(site1["oversized_bytes"], 3 * 38 * MIB);
    assert_eq!(
        site1["site"]["domains"],
        serde_json::json!(["example.com", "www.example.com"])
    );
    assert_eq!(site1["site"]["admin"], "admin1");
    assert_eq!(site1["site"]["uid"], 501);
    assert_eq!(site1["binding"]["bound"], false);
    assert_eq!(site1["binding"]["owner"], "root:mail");
    assert_eq!(site1["binding"]["mode"], "0700");
    assert_eq!(site1["foreign_files"], 8);
    // Sparse: 114 MiB apparent, a few blocks on disk.
    assert!(site1["disk_bytes"].as_u64().unwrap() < MIB);
    let site2 = queue(&j, "site2");
    assert_eq!(site2["binding"]["bound"], true);
    assert_eq!(site2["binding"]["default_user"], "502:502");
    assert_eq!(site2["foreign_files"], 0);
    let site4 = queue(&j, "site4");
    assert_eq!(site4["subdirs"], 3, "qf/ df/ xf/ layout");
    assert_eq!(site4["anomalies"]["df_without_qf"], 1);
    assert_eq!(site4["stale_tf"], 1);
    let g = &j["oversized"][0];
    assert_eq!(g["count"], 3);
    assert_eq!(g["sender"], "jdoe@example.com");
    assert_eq!(g["subject"], "Catalogue 2026 (high resolution)");
    assert_eq!(g["status_class"], "over_quota");
    assert_eq!(g["attempts"], 11);
    assert_eq!(g["owners"], serde_json::json!(["root:mail"]));
    assert_eq!(j["oversized"][1]["recipient_count"], 40);
    // Nothing read through the domain and admin symlinks: four sites, each once.
    let sites = j["queues"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["site"].is_object())
        .count();
    assert_eq!(sites, 4);
    // Ages are "now" minus the oldest file's time, whatever the root's "now" comes from.
    let now = j["now"]["unix"].as_i64().unwrap();
    let oldest = site1["oldest"].as_i64().unwrap();
    assert_eq!(site1["oldest_age"].as_i64().unwrap(), (now - oldest).max(0));
}

#[test]
fn nagios_thresholds_on_the_largest_queue() {
    let s = fakeroot();
    let out = s.run(&[
        "mqueue", "scan", "--format", "nagios", "-w", "100M", "-c", "1G",
    ]);
    out.status(1);
    let (label, status, summary, perf) = parse_nagios(&out.stdout);
    assert_eq!((label.as_str(), status.as_str()), ("MQUEUE", "WARNING"));
    assert!(
        summary.starts_with("site1 example.com: 114 MiB in 4 messages"),
        "{summary}"
    );
    let largest = perf.iter().find(|(l, _)| l == "largest_queue").unwrap();
    assert!(
        largest
            .1
            .ends_with(&format!("B;{};{};0", 100 * MIB, 1u64 << 30)),
        "{largest:?}"
    );
    assert!(perf
        .iter()
        .any(|(l, v)| l == "site1 oversized" && v.starts_with("3;")));
    assert!(out
        .stdout
        .contains("run: toolkit mqueue fix --site example.com"));
    s.run(&["mqueue", "scan", "--format", "nagios", "-c", "100M"])
        .status(2);
    s.run(&["mqueue", "scan", "--format", "nagios"]).status(0);
}

#[test]
fn prometheus_is_valid_and_per_site() {
    let s = fakeroot();
    let out = s.run(&["mqueue", "scan", "--format", "prometheus"]);
    out.status(0)
        .stdout_has("toolkit_mqueue_oversized_messages{queue=\"site1\",domain=\"example.com\"")
        .stdout_has("toolkit_mqueue_bound{queue=\"site2\",domain=\"shop.example.org\"");
    promtool_check(&out.stdout);
}

#[test]
fn site_selects_by_number_domain_or_admin() {
    let s = fakeroot();
    for name in ["site4", "lists.example.info", "admin4"] {
        let j = s
            .run(&["mqueue", "scan", "--json", "--site", name])
            .status(0)
            .json();
        let labels: Vec<&str> = j["queues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["label"].as_str().unwrap())
            .collect();
        assert_eq!(labels, ["site4"], "--site {name}");
    }
    let out = s.run(&["mqueue", "scan", "--site", "nosuch.example"]);
    out.status(3)
        .stderr_has("--site nosuch.example: no such site");
    assert_eq!(out.stderr.lines().count(), 1);
}

#[test]
fn spool_adds_or_replaces() {
    let s = fakeroot();
    let j = s
        .run(&[
            "mqueue",
            "scan",
            "--json",
            "--spool",
            "/var/spool/mqueue",
            "--spool-only",
        ])
        .status(0)
        .json();
    assert_eq!(j["queues"].as_array().unwrap().len(), 1);
    assert_eq!(j["queues"][0]["name"], "host /var/spool/mqueue");
    // A glob over the sites: each queue is still attributed to its site.
    let j = s
        .run(&[
            "mqueue",
            "scan",
            "--json",
            "--spool-only",
            "--spool",
            "/home/virtual/site*/fst/var/spool/mqueue",
        ])
        .status(0)
        .json();
    assert_eq!(j["queues"].as_array().unwrap().len(), 4);
    assert_eq!(queue(&j, "site1")["binding"]["bound"], false);
    // Through the sites' names (symlinks): the same four queues, each once, attributed to its site.
    let j = s
        .run(&[
            "mqueue",
            "scan",
            "--json",
            "--spool-only",
            "--spool",
            "/home/virtual/*/var/spool/mqueue",
        ])
        .status(0)
        .json();
    let labels: Vec<&str> = j["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels.len(), 4, "{labels:?}");
    assert!(labels.iter().all(|l| l.starts_with("site")));
    s.write("srv/extra/mqueue/qfX", "V8\nSa@b\n.\n");
    let j = s
        .run(&["mqueue", "scan", "--json", "--spool", "srv/extra/mqueue"])
        .status(0)
        .json();
    assert_eq!(j["queues"].as_array().unwrap().len(), 7);
    let out = s.run(&["mqueue", "scan", "--spool", "/nowhere/*"]);
    out.status(3).stderr_has("--spool /nowhere/*");
    s.run(&["mqueue", "scan", "--spool-only"]).status(3);
    s.run(&["mqueue", "scan", "-w", "1X"])
        .status(3)
        .stderr_has("'1X'");
}

#[test]
fn check_includes_the_scan() {
    let s = fakeroot();
    let out = s.run(&["check"]);
    out.stdout_has("\nOK       mqueue    site1 example.com: 114 MiB in 4 messages, 3 >= 20.0 MiB");
}

#[test]
fn host_without_virtual_sites() {
    let s = Scenario::empty();
    s.write("etc/passwd", "root:x:0:0::/root:/bin/sh\n");
    s.write("etc/group", "root:x:0:\n");
    let out = s.run(&["mqueue", "scan"]);
    out.status(0)
        .stdout_has("OK no mail queue found\nLooked in home/virtual/site*/fst/var/spool/mqueue")
        .stdout_lacks("QUEUE");
    promtool_check(&s.run(&["mqueue", "scan", "--format", "prometheus"]).stdout);
}

#[test]
fn multiple_queue_directories() {
    // QueueDirectory=/var/spool/mqueue/q*: each sub-queue, itself split in qf/ df/, is walked.
    let s = fakeroot();
    let host = s.join("var/spool/mqueue");
    for (q, id) in [("q1", "6AM2afXI006272"), ("q2", "6AM2afXI006273")] {
        let qf = std::fs::read(host.join("qf6AM2afXI006272")).unwrap();
        s.write(&format!("var/spool/mqueue/{q}/qf/qf{id}"), qf);
        super::sparse(&host.join(format!("{q}/df/df{id}")), 21 * MIB);
    }
    let j = s.run(&["mqueue", "scan", "--json"]).status(0).json();
    let q = j["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "host /var/spool/mqueue")
        .unwrap();
    assert_eq!(q["messages"], 3);
    assert_eq!(q["oversized"], 2);
    assert_eq!(q["subdirs"], 6);
    assert_eq!(q["anomalies"]["df_without_qf"], 0);
    let g = j["oversized"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["queue"] == "host")
        .unwrap();
    assert_eq!(g["count"], 2);
    assert_eq!(g["sender"], "root@mail.example.com");
}

#[test]
fn many_sites_are_summarised() {
    let s = Scenario::empty();
    s.write("etc/passwd", "root:x:0:0::/root:/bin/sh\n");
    s.write("etc/group", "root:x:0:\nmail:x:12:\n");
    for n in 1..=30 {
        let q = format!("home/virtual/site{n}/fst/var/spool/mqueue");
        s.write(
            &format!("{q}/qfid{n:04}"),
            "V8\nSa@example.com\nRPFD:b@example.net\n.\n",
        );
        s.write(&format!("{q}/dfid{n:04}"), vec![b'x'; 100 * n]);
    }
    let out = s.run(&["mqueue", "scan", "--top", "5"]);
    out.status(0)
        .stdout_has("OK site30: 3.0 KiB in 1 message; not bound to quota")
        .stdout_has("... 25 more queues holding ")
        .stdout_has("... details of 25 more queues in --json")
        .stdout_has("30 sites not bound to their quota; bind them all: toolkit mqueue fix --all");
    assert!(
        out.stdout.lines().all(|l| l.chars().count() <= 80),
        "{}",
        out.stdout
    );
    let nagios = s.run(&["mqueue", "scan", "--format", "nagios"]).stdout;
    assert!(nagios.contains("20 more queues not bound; run: toolkit mqueue fix --all"));
    let j = s.run(&["mqueue", "scan", "--json", "--top", "5"]).json();
    assert_eq!(
        j["queues"].as_array().unwrap().len(),
        30,
        "JSON has every queue"
    );
}
