//! `mqueue scan` and `purge` on Exim and Postfix hosts, against the real MTAs unpacked by
//! .ci/peers.sh (target/peers/exim, target/peers/postfix): each test runs its own instance with its
//! spool in the test's fake root, on the loopback, and stops what it started by pid.

mod exim;
mod panels;
mod postfix;
mod runaway;

use crate::common::{manifest_dir, Scenario};
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A program of an MTA's prefix in target/peers; missing, the test fails (never skips).
pub fn mta_peer(prefix: &str, rel: &str) -> PathBuf {
    let p = manifest_dir().join("target/peers").join(prefix).join(rel);
    assert!(
        p.is_file(),
        "{} not found: run .ci/peers.sh (it unpacks Exim and Postfix into target/peers)",
        p.display()
    );
    p
}

/// The live uid that stands for the hosting account `jdoe` in the tests: an existing system user
/// (so that the MTA can name it), mapped to `jdoe` by the fake root's own etc/passwd, which is what
/// the scan reads.
pub const JDOE_UID: u32 = 1;

/// A fake cPanel-style root: passwd, group and the panel's domain maps.
pub fn cpanel_root() -> Scenario {
    let s = Scenario::empty();
    s.write(
        "etc/passwd",
        format!(
            "root:x:0:0:root:/root:/bin/bash\njdoe:x:{JDOE_UID}:{JDOE_UID}::/home/jdoe:/bin/bash\n\
             mail:x:8:8:mail:/var/mail:/usr/sbin/nologin\namy:x:1002:1002::/home/amy:/bin/bash\n\
             nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        ),
    );
    s.write(
        "etc/group",
        format!("root:x:0:\njdoe:x:{JDOE_UID}:\nmail:x:8:\namy:x:1002:\nnogroup:x:65534:\n"),
    );
    s.write(
        "etc/userdomains",
        "example.com: jdoe\nshop.example.org: amy\n*: nobody\n",
    );
    s.write(
        "etc/trueuserdomains",
        "example.com: jdoe\nshop.example.org: amy\n",
    );
    s
}

/// The fake SMTP server (fixtures/mta/fake_smtp.py) on 127.0.0.1, stopped by pid on drop.
pub struct FakeSmtp {
    child: Child,
    pub port: u16,
}

impl FakeSmtp {
    pub fn start() -> FakeSmtp {
        let mut child = Command::new("python3")
            .arg(manifest_dir().join("fixtures/mta/fake_smtp.py"))
            .stdout(Stdio::piped())
            .spawn()
            .expect("start fake_smtp.py");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().expect("fake_smtp.py prints its port");
        FakeSmtp { child, port }
    }
}

impl Drop for FakeSmtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every message of a scan's MTA section (`--min 0 --top N` lists them all as oversized groups of
/// distinct messages) as id -> (size, sender, recipients, status class, account).
pub fn scanned(json: &serde_json::Value) -> std::collections::BTreeMap<String, serde_json::Value> {
    let mut out = std::collections::BTreeMap::new();
    for g in json["mta"]["oversized"].as_array().expect("an mta section") {
        assert_eq!(g["count"], 1, "distinct messages expected: {g:#}");
        out.insert(g["ids"][0].as_str().unwrap().to_string(), g.clone());
    }
    out
}

/// The account entry named `name`.
pub fn account<'a>(json: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    json["mta"]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"] == name)
        .unwrap_or_else(|| panic!("no account {name} in {:#}", json["mta"]))
}
