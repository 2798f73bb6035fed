//! Attribution through each panel's maps; every format per account; hostile spools: what cannot be
//! read is reported, the scan goes on, and purge never follows a symlink out of the spool.

use super::{account, purge_all};
use crate::common::{manifest_dir, parse_nagios, promtool_check, Scenario};
use std::os::unix::fs::MetadataExt;
use std::process::Command;

/// COUNT small messages from jdoe@example.com submitted by `uid`, laid out as the MTA writes them.
fn spool(s: &Scenario, mta: &str, count: u32, uid: u32) {
    let out = Command::new("python3")
        .arg(manifest_dir().join("fixtures/mta/gen-runaway.py"))
        .arg(s.path())
        .args([mta, &count.to_string(), "5000", &uid.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn host() -> Scenario {
    let s = Scenario::empty();
    s.write(
        "etc/passwd",
        "root:x:0:0::/root:/bin/sh\nDebian-exim:x:101:101::/var/spool/exim4:/bin/false\n\
         www-data:x:33:33::/var/www:/bin/false\njdoe:x:10001:10001::/var/www/vhosts/example.com:/bin/false\n",
    )
    .write("etc/group", "root:x:0:\nDebian-exim:x:101:\nwww-data:x:33:\njdoe:x:10001:\n");
    s
}

#[test]
fn directadmin_domainowners_attribute_by_sender_domain() {
    let s = host();
    s.write("etc/virtual/domainowners", "example.com: jdoe\n");
    // Received over SMTP: the submitting uid is Exim's own, not an account.
    spool(&s, "exim", 3, 101);
    let j = s.run(&["mqueue", "scan", "--json"]).json();
    let jdoe = account(&j, "jdoe");
    assert_eq!(jdoe["messages"], 3);
    assert_eq!(jdoe["by_scripts"], 0);
    let why = jdoe["reasons"][0]["reason"].as_str().unwrap();
    assert!(
        why.contains("sender domain example.com is jdoe's in etc/virtual/domainowners"),
        "{why}"
    );
    assert_eq!(j["mta"]["panels"][0], "DirectAdmin");
}

#[test]
fn plesk_vhosts_owner_attributes_by_sender_domain() {
    let s = host();
    std::fs::create_dir_all(s.join("var/www/vhosts/example.com")).unwrap();
    std::fs::create_dir_all(s.join("var/www/vhosts/system/example.com")).unwrap();
    std::os::unix::fs::lchown(
        s.join("var/www/vhosts/example.com"),
        Some(10001),
        Some(10001),
    )
    .unwrap();
    // PHP's mail() under the web server's uid: not an account, so the domain decides.
    spool(&s, "postfix", 2, 33);
    // A queue file cleanup is still writing (no owner execute bit yet): not a message, not damage.
    s.write("var/spool/postfix/incoming/4/4F2A13C0B1", b"C\x05 half");
    let j = s.run(&["mqueue", "scan", "--json"]).json();
    assert_eq!(j["mta"]["spools"][0]["being_written"], 1);
    assert_eq!(j["skipped"]["count"], 0, "{:#}", j["skipped"]);
    let jdoe = account(&j, "jdoe");
    assert_eq!(jdoe["messages"], 2);
    let why = jdoe["reasons"][0]["reason"].as_str().unwrap();
    assert!(why.contains("is jdoe's in var/www/vhosts"), "{why}");
    assert_eq!(j["mta"]["panels"][0], "Plesk");
    // Without any map, an ordinary uid is still an account: its own Unix user.
    let s = host();
    spool(&s, "exim", 1, 10001);
    let j = s.run(&["mqueue", "scan", "--json"]).json();
    assert_eq!(account(&j, "jdoe")["by_scripts"], 1);
}

#[test]
fn every_format_per_account() {
    let s = host();
    s.write("etc/userdomains", "example.com: jdoe\n");
    spool(&s, "exim", 2, 10001);
    spool(&s, "postfix", 2, 10001);
    let out = s.run(&[
        "mqueue", "scan", "--min", "1K", "--format", "nagios", "-w", "1K", "-c", "1G",
    ]);
    out.status(1);
    let (label, status, summary, perf) = parse_nagios(&out.stdout);
    assert_eq!((label.as_str(), status.as_str()), ("MQUEUE", "WARNING"));
    assert!(summary.starts_with("account jdoe:"), "{summary}");
    for want in [
        "largest_account",
        "jdoe bytes",
        "jdoe oversized",
        "jdoe scripts",
    ] {
        assert!(perf.iter().any(|(l, _)| l == want), "{want} in {perf:?}");
    }
    out.stdout_has("account jdoe: ");
    let out = s.run(&["mqueue", "scan", "--format", "prometheus"]);
    promtool_check(&out.stdout);
    out.stdout_has("toolkit_mqueue_account_messages{account=\"jdoe\",mta=\"exim,postfix\"} 4")
        .stdout_has(
            "toolkit_mqueue_account_script_messages{account=\"jdoe\",mta=\"exim,postfix\"} 4",
        );
    s.run(&["mqueue", "scan"])
        .stdout_has("ACCOUNT")
        .stdout_has("mail queued by this account's scripts: 4 messages");
    let out = s.run(&["check"]);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.contains("mqueue") && l.contains("account jdoe")),
        "{}",
        out.stdout
    );
}

/// (owner, group, mode, content) of every file under `dir`, symlinks as their target.
fn snapshot(dir: &std::path::Path) -> Vec<(String, u32, u32, u32, Vec<u8>)> {
    let mut v = Vec::new();
    for e in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
    {
        let e = e.unwrap();
        let m = e.path().symlink_metadata().unwrap();
        let content = if m.file_type().is_symlink() {
            std::fs::read_link(e.path())
                .unwrap()
                .into_os_string()
                .into_encoded_bytes()
        } else if m.is_file() {
            std::fs::read(e.path()).unwrap()
        } else {
            Vec::new()
        };
        v.push((
            e.path().display().to_string(),
            m.uid(),
            m.gid(),
            m.mode(),
            content,
        ));
    }
    v
}

#[test]
fn hostile_spool_files_are_reported_and_never_followed() {
    let s = host();
    s.write("etc/userdomains", "example.com: jdoe\n");
    spool(&s, "exim", 3, 10001);
    let input = s.join("var/spool/exim4/input");
    let mut names: Vec<String> = std::fs::read_dir(&input)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("-H"))
        .collect();
    names.sort();
    // Outside the spool, a file a symlink points at.
    let outside = s.join("etc/secret");
    std::fs::write(&outside, "not mail\n").unwrap();
    // The attack: one message's data file replaced by a symlink out of the spool, one -H truncated,
    // one stray file of random bytes with a message's name.
    let d = input.join(names[0].replace("-H", "-D"));
    std::fs::remove_file(&d).unwrap();
    std::os::unix::fs::symlink(&outside, &d).unwrap();
    let h = input.join(&names[1]);
    let bytes = std::fs::read(&h).unwrap();
    std::fs::write(&h, &bytes[..bytes.len() / 2]).unwrap();
    std::fs::write(input.join("1zzzzz-zzzzzz-zz-H"), b"\xff\x00\x01random\n").unwrap();
    let before = snapshot(&s.join("etc"));
    let out = s.run(&["mqueue", "scan", "--json"]);
    out.status(3);
    let j = out.json();
    assert_eq!(j["status"], "UNKNOWN", "blind is never OK");
    assert!(
        j["skipped"]["count"].as_u64().unwrap() >= 3,
        "{:#}",
        j["skipped"]
    );
    assert_eq!(j["mta"]["spools"][0]["messages"], 4);
    let text = s.run(&["mqueue", "scan"]).stdout;
    assert!(text.contains("malformed -H"), "{text}");
    // Purging the account moves only whole messages, never through the symlink.
    let purge = s.run(&purge_all("jdoe", &["--yes", "--json"]));
    purge.status(1);
    let p = purge.json();
    let messages = p["sites"][0]["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3, "{p:#}");
    let id_of = |n: &String| n.trim_end_matches("-H").to_string();
    let quarantine = std::path::PathBuf::from(p["sites"][0]["quarantine"].as_str().unwrap());
    for m in messages {
        let id = m["id"].as_str().unwrap();
        if id == id_of(&names[0]) {
            // Its data file is the symlink: the message is left alone, whole, where it was.
            assert_eq!(m["outcome"], "skipped", "{m:#}");
            assert_eq!(m["detail"], "no data file: left alone");
            assert!(input.join(&names[0]).is_file());
        } else {
            // The others (the truncated -H too) go whole: -H, -D and msglog, nothing left behind.
            assert_eq!(m["outcome"], "quarantined", "{m:#}");
            let dir = quarantine.join(format!("exim-{id}"));
            for f in [
                format!("input/{id}-H"),
                format!("input/{id}-D"),
                format!("msglog/{id}"),
            ] {
                assert!(dir.join(&f).is_file(), "{f} of {id} in the quarantine");
            }
            assert!(!input.join(format!("{id}-H")).exists());
            assert!(!input.join(format!("{id}-D")).exists());
        }
    }
    // The stray file of random bytes is nobody's message: it stays.
    assert!(input.join("1zzzzz-zzzzzz-zz-H").is_file());
    assert_eq!(
        snapshot(&s.join("etc")),
        before,
        "nothing outside the spool changed"
    );
    assert!(d.symlink_metadata().unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read(&outside).unwrap(), b"not mail\n");
}

/// The attack: a queue file copied under a name that is a shell command (only Postfix's own user can
/// write there, but the name is still not the toolkit's to trust). It is no message: counted among
/// the files that are not messages, never planned, and its name reaches no output, no command and no
/// undo line; the real messages are purged as ever.
#[test]
fn a_postfix_file_named_as_a_command_is_no_message() {
    let s = host();
    s.write("etc/userdomains", "example.com: jdoe\n");
    spool(&s, "postfix", 3, 10001);
    let dir = s.join("var/spool/postfix/deferred/0");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let hostile = dir.join("0000098C2D1;touch pwned");
    std::fs::copy(&names[0], &hostile).unwrap();
    let j = s.run(&["mqueue", "scan", "--json"]).json();
    let sp = &j["mta"]["spools"][0];
    assert_eq!(sp["messages"], 3, "{sp:#}");
    assert_eq!(sp["other_files"], 1, "{sp:#}");
    let text = s.run(&["mqueue", "scan"]).stdout;
    assert!(!text.contains("pwned"), "{text}");
    let purge = s.run(&purge_all("jdoe", &["--hold", "--yes", "--json"]));
    purge.status(0);
    assert!(!purge.stdout.contains("pwned"), "{}", purge.stdout);
    let p = purge.json();
    let messages = p["sites"][0]["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3);
    assert!(messages.iter().all(|m| m["outcome"] == "held"));
    assert!(hostile.is_file(), "the odd file is left where it was");
}
