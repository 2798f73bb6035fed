//! Against the real Exim 4 (Debian's exim4-daemon-light): messages queued with `exim -odq` into the
//! fake root's spool through a test configuration, one delivery attempt against a fake SMTP server
//! answering `452 mailbox full`; the scan must agree with `exim -bp`, attribute every message, and
//! `purge --hold` must leave them frozen in Exim's own listing.

use super::{account, cpanel_root, mta_peer, purge_all, scanned, FakeSmtp, JDOE_UID};
use crate::common::Scenario;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

struct Exim {
    conf: PathBuf,
    _dir: tempfile::TempDir,
}

impl Exim {
    /// A configuration whose spool is `spool` (owned by the live uid standing for jdoe, who is also
    /// Exim's user: a non-root caller of `-C` runs as itself), routing full.example.net to `port`.
    fn new(spool: &Path, split: bool, port: u16) -> Exim {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        std::fs::create_dir_all(&log).unwrap();
        std::fs::create_dir_all(spool).unwrap();
        for p in [&log, &spool.to_path_buf()] {
            std::os::unix::fs::chown(p, Some(JDOE_UID), Some(JDOE_UID)).unwrap();
        }
        let user = nix::unistd::User::from_uid(JDOE_UID.into())
            .unwrap()
            .unwrap()
            .name;
        let conf = dir.path().join("exim.conf");
        std::fs::write(
            &conf,
            format!(
                "keep_environment =\nspool_directory = {}\nexim_user = {user}\nexim_group = {user}\n\
                 never_users =\nprimary_hostname = mail.example.com\nlog_file_path = {}/%slog\n\
                 split_spool_directory = {split}\n\
                 begin routers\nfull:\n  driver = manualroute\n  domains = full.example.net\n\
                 \x20 route_list = * 127.0.0.1 byname\n  transport = remote_smtp\n  self = send\n\
                 begin transports\nremote_smtp:\n  driver = smtp\n  port = {port}\n\
                 \x20 allow_localhost\n  hosts_avoid_tls = *\n\
                 begin retry\n* * F,1d,1m\n",
                spool.display(),
                log.display()
            ),
        )
        .unwrap();
        Exim { conf, _dir: dir }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(mta_peer("exim", "usr/sbin/exim4"));
        c.arg("-C").arg(&self.conf);
        c
    }

    /// `exim -odq -f SENDER RCPTS`, as root or as the live user standing for jdoe.
    fn submit(&self, as_jdoe: bool, sender: &str, rcpts: &[&str], body: &[u8]) {
        let mut c = if as_jdoe {
            let mut c = Command::new("setpriv");
            c.arg(format!("--reuid={JDOE_UID}"))
                .arg(format!("--regid={JDOE_UID}"))
                .arg("--clear-groups")
                .arg(mta_peer("exim", "usr/sbin/exim4"))
                .arg("-C")
                .arg(&self.conf);
            c
        } else {
            self.cmd()
        };
        let mut child = c
            .args(["-odq", "-f", sender])
            .args(rcpts)
            .stdin(Stdio::piped())
            .spawn()
            .expect("run exim");
        child.stdin.take().unwrap().write_all(body).unwrap();
        assert!(child.wait().unwrap().success(), "exim -odq failed");
    }

    fn bp(&self) -> String {
        let out = self.cmd().arg("-bp").output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

#[derive(Debug, PartialEq)]
struct Listed {
    size: String,
    sender: String,
    recipients: Vec<String>,
    frozen: bool,
}

/// `exim -bp`: `AGE SIZE ID <SENDER> [*** frozen ***]`, then the recipients (`D` before the
/// delivered ones), a blank line between messages.
fn parse_bp(text: &str) -> BTreeMap<String, Listed> {
    let mut out = BTreeMap::new();
    let mut current = None;
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.is_empty() {
            current = None;
        } else if !line.starts_with("   ") && f.len() >= 4 {
            out.insert(
                f[2].to_string(),
                Listed {
                    size: f[1].to_string(),
                    sender: f[3]
                        .trim_start_matches('<')
                        .trim_end_matches('>')
                        .to_string(),
                    recipients: Vec::new(),
                    frozen: line.contains("*** frozen ***"),
                },
            );
            current = Some(f[2].to_string());
        } else if let Some(id) = &current {
            if f[0] != "D" {
                out.get_mut(id).unwrap().recipients.push(f[0].to_string());
            }
        }
    }
    out
}

/// Exim's own rendering of a size in its listing (string_format_size).
fn exim_size(n: u64) -> String {
    let s = if n < 1024 {
        format!("{n:>5}")
    } else if n < 10 * 1024 {
        format!("{:>4.1}K", n as f64 / 1024.0)
    } else if n < 1024 * 1024 {
        format!("{:>4}K", (n + 512) / 1024)
    } else if n < 10 * 1024 * 1024 {
        format!("{:>4.1}M", n as f64 / (1024.0 * 1024.0))
    } else {
        format!("{:>4}M", (n + 512 * 1024) / (1024 * 1024))
    };
    s.trim().to_string()
}

/// Queues the test's messages: three by jdoe's own uid (its scripts), one from amy's domain that
/// the fake server defers as over quota, one from nowhere, one with seven recipients.
fn queue_messages(e: &Exim) {
    for i in 0..3 {
        let body = format!(
            "Subject: newsletter {i}\n\n{}\n",
            "x".repeat(3000 * (i + 1))
        );
        e.submit(
            true,
            "jdoe@example.com",
            &["a@remote.example", "b@remote.example"],
            body.as_bytes(),
        );
    }
    e.submit(
        false,
        "amy@shop.example.org",
        &["full1@full.example.net", "full2@full.example.net"],
        b"Subject: order\n\nbig order\n",
    );
    e.submit(
        false,
        "ghost@nowhere.test",
        &["x@remote.example"],
        b"Subject: ?\n\n?\n",
    );
    let many: Vec<String> = (0..7).map(|i| format!("r{i}@remote.example")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    e.submit(
        false,
        "amy@shop.example.org",
        &many,
        b"Subject: many\n\nhi\n",
    );
}

fn agree(s: &Scenario, e: &Exim) -> serde_json::Value {
    let theirs = parse_bp(&e.bp());
    let j = s
        .run(&["mqueue", "scan", "--json", "--min", "0", "--top", "1000"])
        .json();
    let ours = scanned(&j);
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>(),
        "the same ids as exim -bp"
    );
    for (id, t) in &theirs {
        let o = &ours[id];
        assert_eq!(
            exim_size(o["size"].as_u64().unwrap()),
            t.size,
            "size of {id}"
        );
        assert_eq!(o["sender"], t.sender.as_str(), "sender of {id}");
        let n = o["recipient_count"].as_u64().unwrap() as usize;
        assert_eq!(n, t.recipients.len(), "recipients of {id}");
        let kept: Vec<&str> = o["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        let want: Vec<&str> = t
            .recipients
            .iter()
            .take(kept.len())
            .map(String::as_str)
            .collect();
        assert_eq!(kept, want, "recipients of {id}");
        assert_eq!(o["quarantine"].is_string(), t.frozen, "frozen flag of {id}");
    }
    j
}

fn case(split: bool, spool_rel: &str) {
    let s = cpanel_root();
    let smtp = FakeSmtp::start();
    let spool = s.join(spool_rel);
    let e = Exim::new(&spool, split, smtp.port);
    queue_messages(&e);
    // One delivery attempt of amy's order: the fake server answers 452 for each recipient.
    let order = parse_bp(&e.bp())
        .into_iter()
        .find(|(_, l)| l.recipients.iter().any(|r| r.starts_with("full1@")))
        .map(|(id, _)| id)
        .unwrap();
    let out = e.cmd().arg("-M").arg(&order).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(smtp);
    if split {
        let entries: Vec<_> = spool
            .join("input")
            .read_dir()
            .unwrap()
            .map(|d| d.unwrap())
            .collect();
        assert!(!entries.is_empty(), "a split spool holds subdirectories");
        assert!(entries.iter().all(|d| d.file_type().unwrap().is_dir()));
    }
    let j = agree(&s, &e);
    let ours = scanned(&j);
    assert_eq!(ours.len(), 6);
    assert_eq!(
        ours[&order]["status_class"], "over_quota",
        "{:#}",
        ours[&order]
    );
    assert!(ours[&order]["status"]
        .as_str()
        .unwrap()
        .contains("452 mailbox full"));
    let jdoe = account(&j, "jdoe");
    assert_eq!(jdoe["messages"], 3);
    assert_eq!(jdoe["by_scripts"], 3);
    assert!(jdoe["reasons"][0]["reason"]
        .as_str()
        .unwrap()
        .contains(&format!("submitted by uid {JDOE_UID} (jdoe)")));
    let amy = account(&j, "amy");
    assert_eq!(amy["messages"], 2);
    assert_eq!(amy["by_scripts"], 0);
    assert_eq!(amy["classes"]["over_quota"], 1);
    assert!(amy["reasons"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("sender domain shop.example.org is amy's in etc/trueuserdomains"));
    let none = account(&j, "(unattributed)");
    assert_eq!(none["messages"], 1);
    assert_eq!(j["mta"]["spools"][0]["mta"], "exim");
    assert_eq!(j["mta"]["panels"][0], "cPanel");

    // purge --hold: Exim's own listing then shows jdoe's messages frozen, the others not; a dry run
    // first changes nothing.
    let before = parse_bp(&e.bp());
    s.run(&purge_all("jdoe", &["--hold", "--dry-run"]))
        .status(0)
        .stdout_has("3 would be frozen or held");
    assert_eq!(parse_bp(&e.bp()), before);
    s.run(&purge_all("jdoe", &["--hold", "--yes"]))
        .status(0)
        .stdout_has("3 frozen or held");
    let after = parse_bp(&e.bp());
    for (id, l) in &after {
        let is_jdoe = ours[id]["queue"] == "jdoe";
        assert_eq!(l.frozen, is_jdoe, "{id} frozen");
        assert_eq!(l.recipients, before[id].recipients);
    }
    // Quarantine amy's mail: Exim no longer lists it, and its files are whole in the quarantine.
    s.run(&["mqueue", "purge", "--account", "amy", "--min", "0", "--yes"])
        .status(0)
        .stdout_has("2 quarantined");
    let amys: Vec<&String> = before
        .iter()
        .filter(|(_, l)| l.sender == "amy@shop.example.org")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(amys.len(), 2, "amy's two messages: {before:?}");
    assert!(amys.contains(&&order));
    let left = parse_bp(&e.bp());
    assert_eq!(left.len(), 4);
    let q = s.join("var/lib/toolkit/quarantine/amy");
    let stamp = q.read_dir().unwrap().next().unwrap().unwrap().path();
    assert_eq!(
        stamp.read_dir().unwrap().count(),
        2,
        "one directory per message"
    );
    for id in amys {
        assert!(!left.contains_key(id), "{id} still listed by exim -bp");
        let m = stamp.join(format!("exim-{id}"));
        for f in [format!("input/{id}-H"), format!("input/{id}-D")] {
            assert!(m.join(&f).is_file(), "{f} in the quarantine");
        }
    }
    // The delivery attempt wrote the order's msglog: it went with the message.
    assert!(stamp.join(format!("exim-{order}/msglog/{order}")).is_file());
}

#[test]
fn scan_agrees_with_exim_bp_and_purge_hold_freezes() {
    case(false, "var/spool/exim4");
}

#[test]
fn split_spool_on_cpanel_layout() {
    case(true, "var/spool/exim");
}

/// A cPanel root with the test's six messages queued by the real Exim into its spool, and a PATH
/// directory whose `exim` is the real exim4 with the test configuration; what `exim -bp` lists.
fn live_setup() -> (Scenario, Exim, tempfile::TempDir, BTreeMap<String, Listed>) {
    let s = cpanel_root();
    let spool = s.join("var/spool/exim4");
    // Nothing delivers here (no -M run): any port will do.
    let e = Exim::new(&spool, false, 9);
    queue_messages(&e);
    let bin = super::wrappers(&[(
        "exim",
        mta_peer("exim", "usr/sbin/exim4"),
        vec!["-C".into(), e.conf.display().to_string()],
    )]);
    let before = parse_bp(&e.bp());
    assert_eq!(before.len(), 6);
    (s, e, bin, before)
}

/// On the live root, purge drives Exim's own commands on the real queue: `--hold` runs `exim -Mf`
/// and the real `exim -bp` then lists exactly jdoe's messages frozen; removing amy's runs `exim -Mrm`
/// and Exim no longer lists them, its own files gone, with nothing moved to a quarantine behind its
/// back. The live host is the test's through a private mount namespace (see `run_live`); `exim` on
/// its PATH is the real exim4 with the test configuration.
#[test]
fn live_root_purge_runs_exim_mf_and_mrm() {
    let (s, e, bin, before) = live_setup();
    let real = super::LiveHost::snapshot();
    let live = |args: &[&str]| super::run_live(&s, "var/spool/exim4", bin.path(), args);

    // The dry run names the MTA's command and changes nothing.
    let dry = live(&purge_all("jdoe", &["--hold", "--dry-run"]));
    dry.status(0)
        .stdout_has("3 would be frozen or held")
        .stdout_has("the MTA's own command would do it");
    assert_eq!(parse_bp(&e.bp()), before);

    let held = live(&purge_all("jdoe", &["--json", "--hold", "--yes"]));
    held.status(0);
    let frozen = super::purged(&held.json());
    assert_eq!(frozen.len(), 3, "{frozen:?}");
    for (id, (outcome, detail)) in &frozen {
        assert_eq!(outcome, "held", "{id}");
        assert!(detail.starts_with("exim -Mf"), "{id}: {detail}");
    }
    let after = parse_bp(&e.bp());
    assert_eq!(after.len(), 6, "freezing removes nothing");
    for (id, l) in &after {
        assert_eq!(l.frozen, frozen.contains_key(id), "{id} frozen in exim -bp");
        assert_eq!(l.recipients, before[id].recipients, "{id}");
        if frozen.contains_key(id) {
            assert!(
                before[id].sender.ends_with("@example.com"),
                "{id} is jdoe's"
            );
        }
    }

    // Removing amy's two: Exim's -Mrm does it; its listing and its spool no longer hold them.
    let gone = live(&purge_all("amy", &["--json", "--yes"]));
    gone.status(0);
    let removed = super::purged(&gone.json());
    assert_eq!(removed.len(), 2, "{removed:?}");
    for (id, (outcome, detail)) in &removed {
        assert_eq!(outcome, "deleted", "{id}");
        assert!(detail.starts_with("exim -Mrm"), "{id}: {detail}");
    }
    let left = parse_bp(&e.bp());
    assert_eq!(left.len(), 4);
    for id in removed.keys() {
        assert_eq!(before[id].sender, "amy@shop.example.org");
        assert!(!left.contains_key(id), "{id} still listed");
        for f in [
            format!("input/{id}-H"),
            format!("input/{id}-D"),
            format!("msglog/{id}"),
        ] {
            assert!(
                !s.join("var/spool/exim4").join(&f).exists(),
                "{f} left behind"
            );
        }
    }
    for (id, l) in &left {
        assert_eq!(l, &after[id], "{id} untouched");
    }
    assert!(
        !s.join("var/lib/toolkit").exists(),
        "no quarantine on the live root"
    );
    real.unchanged();
}

/// The undo a live `purge --hold` prints for each frozen message, run exactly as printed (`exim -Mt
/// ID`, Exim's own thaw): the real `exim -bp` then lists no message frozen, every one with its
/// recipients, and the messages the purge did not select are as they were throughout.
#[test]
fn live_root_hold_undo_as_printed_thaws() {
    let (s, e, bin, before) = live_setup();
    assert!(before.values().all(|l| !l.frozen));
    let real = super::LiveHost::snapshot();
    let held = super::run_live(
        &s,
        "var/spool/exim4",
        bin.path(),
        &purge_all("jdoe", &["--json", "--hold", "--yes"]),
    );
    held.status(0);
    let undo = super::printed_undo(&super::purged(&held.json()));
    assert_eq!(undo.len(), 3, "{undo:?}");
    let frozen = parse_bp(&e.bp());
    for (id, l) in &frozen {
        assert_eq!(
            l.frozen,
            undo.contains_key(id),
            "{id} frozen before the undo"
        );
    }
    for (id, command) in &undo {
        assert_eq!(command, &format!("exim -Mt {id}"), "{id}");
        super::run_as_printed(command, bin.path());
    }
    let thawed = parse_bp(&e.bp());
    assert_eq!(thawed, before, "every message as before the hold");
    for (id, l) in &frozen {
        if !undo.contains_key(id) {
            assert_eq!(l, &before[id], "{id} untouched by the hold");
        }
    }
    real.unchanged();
}
