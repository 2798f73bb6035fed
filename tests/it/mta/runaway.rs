//! The real case on each MTA at full scale: 2,074 copies of one 38 MiB message queued by one
//! account's script, sparse (fixtures/mta/gen-runaway.py lays the spool out as the MTA writes it).

use super::account;
use crate::common::{manifest_dir, Scenario};
use std::process::Command;

fn runaway(mta: &str) -> Scenario {
    let s = Scenario::empty();
    s.write(
        "etc/passwd",
        "root:x:0:0::/root:/bin/sh\njdoe:x:1001:1001::/home/jdoe:/bin/sh\n",
    )
    .write("etc/group", "root:x:0:\njdoe:x:1001:\n")
    .write("etc/userdomains", "example.com: jdoe\n");
    let out = Command::new("python3")
        .arg(manifest_dir().join("fixtures/mta/gen-runaway.py"))
        .arg(s.path())
        .arg(mta)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    s
}

fn check(mta: &str) {
    let s = runaway(mta);
    s.run(&["mqueue", "scan"])
        .status(2)
        .stdout_has("CRITICAL account jdoe: 77.0 GiB in 2,074 messages, 2,074 >= 20.0 MiB")
        .stdout_has("2,074 copies of one 38.0 MiB message from jdoe@example.com (77.0 GiB)")
        .stdout_has("mail queued by this account's scripts: 2,074 messages (77.0 GiB)")
        .stdout_has("delivery: over quota 2,074");
    let j = s.run(&["mqueue", "scan", "--json"]).json();
    let m = &j["mta"];
    assert_eq!(m["oversized"].as_array().unwrap().len(), 1, "one group");
    assert_eq!(m["oversized"][0]["count"], 2074);
    assert_eq!(m["oversized"][0]["queue"], "jdoe");
    assert_eq!(m["oversized"][0]["status_class"], "over_quota");
    let jdoe = account(&j, "jdoe");
    assert_eq!(jdoe["by_scripts"], 2074);
    assert_eq!(jdoe["oversized"], 2074);
    // Sparse: the disk holds the spool files' heads, not 77 GiB.
    assert!(
        jdoe["disk_bytes"].as_u64().unwrap() < 64 << 20,
        "{}",
        jdoe["disk_bytes"]
    );
    assert_eq!(m["unreadable"], 0);
    assert_eq!(j["skipped"]["count"], 0, "{:#}", j["skipped"]);
}

#[test]
fn exim_runaway_is_one_group_of_one_account() {
    check("exim");
}

#[test]
fn postfix_runaway_is_one_group_of_one_account() {
    check("postfix");
}
