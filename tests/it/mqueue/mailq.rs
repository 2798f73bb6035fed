//! The scan must agree with sendmail's own `mailq` (`sendmail -bp`) on the same queue: ids, sizes,
//! senders and recipients. Runs the real sendmail unpacked by .ci/peers.sh (the test fails without it).

use super::fakeroot;
use crate::common::{manifest_dir, peer};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

#[derive(Debug, Default, PartialEq)]
pub struct Entry {
    pub size: u64,
    pub sender: String,
    pub recipients: Vec<String>,
}

/// Parses mailq output: an entry line `ID SIZE Day Mon DD HH:MM SENDER`, an optional `(status)`
/// line, then one TAB-indented line per recipient.
pub fn parse_mailq(text: &str) -> BTreeMap<String, Entry> {
    let mut out: BTreeMap<String, Entry> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        // The id is followed by one mark character ('*' locked, 'X' held back because the load
        // average is over QueueLA, '-' too young, '?' lost) and the size right-aligned in 8 columns:
        // an 8-digit size touches the mark, `6AM2aXUG006021X39845888`. Split it off so the fields do
        // not depend on the load.
        let mut spaced = line.to_string();
        let first = line.split_whitespace().next().unwrap_or("");
        if line.starts_with(first) && line.split_whitespace().count() == 6 && first.len() > 9 {
            let (head, size) = first.split_at(first.len() - 8);
            let id = head.trim_end_matches(['*', 'X', '-', '?']);
            spaced = format!("{id} {size}{}", &line[first.len()..]);
        }
        let fields: Vec<&str> = spaced.split_whitespace().collect();
        if line.starts_with('\t') && !line.trim().starts_with("Total requests") {
            if let (Some(id), Some(r)) = (&current, fields.first()) {
                if let Some(e) = out.get_mut(id) {
                    e.recipients.push(r.to_string());
                }
            }
        } else if line.starts_with(|c: char| c.is_ascii_alphanumeric()) && fields.len() >= 7 {
            let id = fields[0].trim_end_matches(['*', 'X', '-', '?']).to_string();
            let Ok(size) = fields[1].parse() else {
                continue;
            };
            out.insert(
                id.clone(),
                Entry {
                    size,
                    sender: fields[6].to_string(),
                    recipients: Vec::new(),
                },
            );
            current = Some(id);
        }
    }
    out
}

fn mailq(queue: &Path) -> String {
    let peers = manifest_dir().join("target/peers/usr/share/sendmail/cf");
    let run = tempfile::tempdir().unwrap();
    let cf = run.path().join("q.cf");
    let m4 = Command::new(peer("m4"))
        .arg(format!("-D_CF_DIR_={}/", peers.display()))
        .arg(format!("-DQUEUE_DIR={}", queue.display()))
        .arg(format!("-D_RUN_DIR_={}", run.path().display()))
        .arg(peers.join("m4/cf.m4"))
        .arg(manifest_dir().join("fixtures/sendmail/queue.mc"))
        .output()
        .expect("run m4");
    assert!(
        m4.status.success(),
        "m4: {}",
        String::from_utf8_lossy(&m4.stderr)
    );
    std::fs::write(&cf, m4.stdout).unwrap();
    // A qualified host name spares sendmail's minute-long wait at start (needs root, as tests run).
    let script = format!(
        "hostname mail.example.com && exec {} -C {} -bp",
        peer("sendmail").display(),
        cf.display()
    );
    let out = Command::new("unshare")
        .args(["-u", "sh", "-c", &script])
        .output()
        .expect("run sendmail -bp");
    assert!(
        out.status.success(),
        "sendmail -bp: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every message of the scan (--min 0 lists them all) as id -> entry.
fn scanned(json: &serde_json::Value, queue_name: &str) -> BTreeMap<String, Entry> {
    let mut out = BTreeMap::new();
    for g in json["oversized"].as_array().unwrap() {
        // A data file without its qf is not a message to sendmail: mailq does not list it.
        if g["queue"] != queue_name || g["sender"].is_null() {
            continue;
        }
        let n = g["recipient_count"].as_u64().unwrap() as usize;
        let recipients: Vec<String> = g["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap().to_string())
            .collect();
        assert!(g["ids"].as_array().unwrap().len() as u64 == g["count"].as_u64().unwrap());
        for id in g["ids"].as_array().unwrap() {
            let mut r = recipients.clone();
            r.resize(n.max(r.len()), String::new());
            out.insert(
                id.as_str().unwrap().to_string(),
                Entry {
                    size: g["size"].as_u64().unwrap(),
                    sender: g["sender"].as_str().unwrap().to_string(),
                    recipients: r,
                },
            );
        }
    }
    out
}

#[test]
fn scan_agrees_with_sendmail_mailq() {
    let s = fakeroot();
    let j = s
        .run(&["mqueue", "scan", "--json", "--min", "0", "--top", "1000"])
        .status(0)
        .json();
    for (label, dir) in [
        ("site1", "home/virtual/site1/fst/var/spool/mqueue"),
        ("site2", "home/virtual/site2/fst/var/spool/mqueue"),
        ("site4", "home/virtual/site4/fst/var/spool/mqueue"),
        ("host", "var/spool/mqueue"),
    ] {
        let theirs = parse_mailq(&mailq(&s.join(dir)));
        let mut ours = scanned(&j, label);
        assert!(!theirs.is_empty(), "mailq saw nothing in {dir}");
        // The scan keeps the first few recipients and the count; compare those.
        for (id, e) in ours.iter_mut() {
            let full = &theirs
                .get(id)
                .unwrap_or_else(|| panic!("{id} not in mailq for {dir}"))
                .recipients;
            for (i, r) in e.recipients.iter_mut().enumerate() {
                if r.is_empty() {
                    *r = full.get(i).cloned().unwrap_or_default();
                }
            }
        }
        assert_eq!(ours, theirs, "{dir}");
    }
}
