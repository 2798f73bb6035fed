//! End to end with the real sendmail (Debian sendmail-bin 8.17 and sendmail-cf, unpacked by
//! .ci/peers.sh; the tests fail without them): after `mqueue fix`, a root-run sendmail still queues
//! mail in the site's queue, the queued files are charged to the site's group, `mailq` lists them, and a
//! queue run delivers them to an SMTP server on 127.0.0.1. And what a root-run sendmail does with each
//! queue directory owner and mode, measured, so the default binding rests on what sendmail does.

use crate::common::{manifest_dir, peer, Scenario};
use crate::mqueue::mailq::parse_mailq;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// site3 (blog.example.net, admin3 = 503) has an empty queue in the fixture.
const SITE: &str = "blog.example.net";
const FST: &str = "home/virtual/site3/fst";
const QUEUE: &str = "home/virtual/site3/fst/var/spool/mqueue";
const GID: u32 = 503;
const RCPTS: [&str; 2] = ["anna@partner.example.net", "ben@partner.example.net"];

/// A test SMTP server on 127.0.0.1 (fixtures/sendmail/accept_smtp.py), stopped by its pid on drop.
struct Smtp {
    child: Child,
    port: u16,
    received: PathBuf,
    _dir: tempfile::TempDir,
}

impl Smtp {
    fn start(mode: &str) -> Smtp {
        let dir = tempfile::tempdir().unwrap();
        let received = dir.path().join("received.jsonl");
        let mut child = Command::new("python3")
            .arg(manifest_dir().join("fixtures/sendmail/accept_smtp.py"))
            .arg(&received)
            .arg(mode)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start python3 accept_smtp.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().expect("the server prints its port");
        Smtp {
            child,
            port,
            received,
            _dir: dir,
        }
    }

    /// The messages it accepted, as JSON lines.
    fn received(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.received)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        // Stopped by the pid this test started (std's kill signals exactly that pid), nothing else.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A sendmail.cf for the site's queue, generated with the real m4 and sendmail-cf from
/// fixtures/sendmail/site.mc: QUEUE_DIR is the site's queue, DefaultUser the one in the site's cf,
/// mail is relayed to the test SMTP server.
struct Sendmail {
    cf: PathBuf,
    _run: tempfile::TempDir,
}

impl Sendmail {
    fn new(s: &Scenario, port: u16) -> Sendmail {
        let run = tempfile::tempdir().unwrap();
        std::fs::write(run.path().join("aliases"), "").unwrap();
        let site_cf = std::fs::read_to_string(s.join(&format!("{FST}/etc/sendmail.cf"))).unwrap();
        let default_user = site_cf
            .lines()
            .find_map(|l| l.strip_prefix("O DefaultUser="))
            .expect("the site's cf has a DefaultUser")
            .to_string();
        let cfdir = manifest_dir().join("target/peers/usr/share/sendmail/cf");
        let out = Command::new(peer("m4"))
            .arg(format!("-D_CF_DIR_={}/", cfdir.display()))
            .arg(format!("-DQUEUE_DIR={}", s.join(QUEUE).display()))
            .arg(format!("-D_RUN_DIR_={}", run.path().display()))
            .arg(format!("-DDEF_USER={default_user}"))
            .arg("-DSMART_HOST=[127.0.0.1]")
            .arg(format!("-DSMTP_PORT={port}"))
            .arg(cfdir.join("m4/cf.m4"))
            .arg(manifest_dir().join("fixtures/sendmail/site.mc"))
            .output()
            .expect("run m4");
        assert!(
            out.status.success(),
            "m4: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let cf = run.path().join("site.cf");
        std::fs::write(&cf, &out.stdout).unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(&format!("\nO DefaultUser={default_user}\n")));
        Sendmail { cf, _run: run }
    }

    /// Runs the real sendmail as root (as on Ensim) with this cf: (exit status, stderr).
    fn run(&self, args: &str, stdin: &str) -> (i32, String) {
        // A qualified host name spares sendmail's minute-long wait at start (unshare -u needs root).
        let script = format!(
            "hostname mail.{SITE} && exec {} -C {} {args}",
            peer("sendmail").display(),
            self.cf.display()
        );
        let mut child = Command::new("unshare")
            .args(["-u", "sh", "-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run sendmail");
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stdout));
        (out.status.code().unwrap_or(-1), text)
    }

    /// Queues one message as root with -odq (no delivery attempt).
    fn queue(&self, subject: &str) -> (i32, String) {
        let msg = format!(
            "From: jdoe@{SITE}\nTo: {}\nSubject: {subject}\n\nThe quarterly figures.\n",
            RCPTS.join(", ")
        );
        self.run(&format!("-odq -f jdoe@{SITE} {}", RCPTS.join(" ")), &msg)
    }

    fn mailq(&self) -> String {
        let (status, out) = self.run("-bp", "");
        assert_eq!(status, 0, "sendmail -bp: {out}");
        out
    }
}

/// Queue files: name -> (uid, gid, size).
fn queue_files(s: &Scenario) -> Vec<(String, u32, u32, u64)> {
    let mut out: Vec<_> = std::fs::read_dir(s.join(QUEUE))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                m.uid(),
                m.gid(),
                m.len(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Queue ids with both a qf and a df.
fn ids(files: &[(String, u32, u32, u64)]) -> Vec<String> {
    files
        .iter()
        .filter_map(|(n, ..)| n.strip_prefix("qf"))
        .filter(|id| files.iter().any(|(n, ..)| n == &format!("df{id}")))
        .map(String::from)
        .collect()
}

fn set_queue(s: &Scenario, uid: u32, gid: u32, mode: u32) {
    let q = s.join(QUEUE);
    std::os::unix::fs::chown(&q, Some(uid), Some(gid)).unwrap();
    std::fs::set_permissions(&q, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn after_the_fix_a_root_run_sendmail_queues_charges_the_site_and_delivers() {
    let s = Scenario::built_fakeroot();
    let smtp = Smtp::start("accept");
    // Before the fix (Ensim's root:mail 0700): sendmail queues, but as root, not charged to the site.
    let before = Sendmail::new(&s, smtp.port);
    let (status, err) = before.queue("before the fix");
    assert_eq!(status, 0, "{err}");
    let files = queue_files(&s);
    assert_eq!(ids(&files).len(), 1, "{files:?}");
    for (name, uid, gid, _) in &files {
        assert_eq!(uid, &0, "{name}");
        assert_ne!(gid, &GID, "{name} is charged to the site before the fix");
    }
    let old_id = ids(&files)[0].clone();

    let out = s.run(&["mqueue", "fix", "--site", SITE, "--yes", "--format", "json"]);
    out.status(0);
    let q = s.join(QUEUE).metadata().unwrap();
    assert_eq!((q.uid(), q.gid(), q.mode() & 0o7777), (0, GID, 0o2770));

    // After it: the cf carries the DefaultUser the fix wrote; root-run sendmail still queues.
    let after = Sendmail::new(&s, smtp.port);
    let (status, err) = after.queue("after the fix");
    assert_eq!(status, 0, "sendmail -odq after the fix: {err}");
    let files = queue_files(&s);
    let new_id = ids(&files)
        .into_iter()
        .find(|id| *id != old_id)
        .unwrap_or_else(|| panic!("no new message queued: {files:?}"));
    let new_files: Vec<_> = files.iter().filter(|f| f.0.ends_with(&new_id)).collect();
    assert_eq!(new_files.len(), 2, "qf and df: {new_files:?}");
    for (name, uid, gid, _) in &new_files {
        assert_eq!((uid, gid), (&0, &GID), "{name} is charged to admin3");
    }
    let df_size = new_files.iter().find(|f| f.0.starts_with("df")).unwrap().3;

    // mailq for that queue lists it with its size and recipients.
    let listed = parse_mailq(&after.mailq());
    let entry = listed
        .get(&new_id)
        .unwrap_or_else(|| panic!("{new_id} not in mailq: {listed:?}"));
    assert_eq!(entry.size, df_size);
    assert_eq!(entry.sender, format!("jdoe@{SITE}"));
    let mut rcpts = entry.recipients.clone();
    rcpts.sort();
    assert_eq!(rcpts, RCPTS);
    assert!(listed.contains_key(&old_id), "{listed:?}");

    // The scan sees it bound, and the old root-owned files as not charged.
    let scan = s
        .run(&["mqueue", "scan", "--site", SITE, "--format", "json"])
        .json();
    let binding = &scan["queues"][0]["binding"];
    assert_eq!(binding["bound"], true, "{scan:#}");
    assert_eq!(scan["queues"][0]["foreign_files"], 2);

    // A queue run (in the foreground: -v) delivers both to the SMTP server on the loopback and empties the queue.
    let (status, out) = after.run("-q -v", "");
    assert_eq!(status, 0, "sendmail -q: {out}");
    assert_eq!(queue_files(&s), Vec::new(), "the queue is empty");
    let got = smtp.received();
    assert_eq!(got.len(), 2, "{got:?}");
    for m in &got {
        let mut r: Vec<String> = m["rcpt"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect();
        r.sort();
        assert_eq!(r, RCPTS);
    }
    assert!(got.iter().any(|m| m["data"]
        .as_str()
        .unwrap()
        .contains("Subject: after the fix")));
}

/// What a root-run sendmail 8.17 does with each queue directory owner and mode (`-odq`). The outcomes
/// are what SPEC 5 step 1 rests on: safefile() uses the owner bits only when the owner is root.
#[test]
fn what_a_root_run_sendmail_does_with_each_queue_owner_and_mode() {
    let s = Scenario::built_fakeroot();
    let smtp = Smtp::start("defer");
    // The fix first, so the cf's DefaultUser is the site's; then the directory is set by hand.
    s.run(&["mqueue", "fix", "--site", SITE, "--yes"]).status(0);
    let sm = Sendmail::new(&s, smtp.port);
    let cases: [(u32, u32, u32, bool); 6] = [
        (GID, GID, 0o2770, false),
        (GID, GID, 0o0770, false),
        (GID, GID, 0o2700, false),
        (GID, GID, 0o0700, false),
        (0, GID, 0o2770, true),
        (GID, GID, 0o2777, true),
    ];
    let mut seen = Vec::new();
    for (uid, gid, mode, works) in cases {
        for (name, ..) in queue_files(&s) {
            std::fs::remove_file(s.join(QUEUE).join(name)).unwrap();
        }
        set_queue(&s, uid, gid, mode);
        let (status, err) = sm.queue("measured");
        let files = queue_files(&s);
        let case = format!("{uid}:{gid} {mode:04o}: exit {status}, {files:?}, {err}");
        if works {
            assert_eq!(status, 0, "{case}");
            assert_eq!(ids(&files).len(), 1, "{case}");
            assert!(files.iter().all(|f| f.2 == GID), "group admin3: {case}");
        } else {
            // EX_IOERR, and a body-less qf left behind.
            assert_eq!(status, 74, "{case}");
            assert!(err.contains("Cannot write ./df"), "{case}");
            assert!(err.contains("Permission denied"), "{case}");
            assert!(ids(&files).is_empty(), "{case}");
        }
        seen.push(case);
    }
    // The measured outcomes, for the record (cargo test -- --nocapture).
    eprintln!("{}", seen.join("\n"));
    // With root:admin3 2770 a queue run that is deferred rewrites the qf normally (same group).
    for (name, ..) in queue_files(&s) {
        std::fs::remove_file(s.join(QUEUE).join(name)).unwrap();
    }
    set_queue(&s, 0, GID, 0o2770);
    assert_eq!(sm.queue("deferred").0, 0);
    let (status, out) = sm.run("-q -v", "");
    assert_eq!(status, 0, "{out}");
    let files = queue_files(&s);
    let id = ids(&files).pop().expect("still queued after a deferral");
    let qf =
        String::from_utf8_lossy(&std::fs::read(s.join(QUEUE).join(format!("qf{id}"))).unwrap())
            .into_owned();
    assert!(qf.contains("\nN1\n"), "one attempt recorded:\n{qf}");
    assert!(qf.contains("451 4.3.0"), "the deferral is recorded:\n{qf}");
    assert!(files.iter().all(|f| (f.1, f.2) == (0, GID)), "{files:?}");
    assert!(smtp.received().is_empty());
}

/// `--owner admin` keeps adminN:adminN with a warning, and the real sendmail then refuses to queue:
/// scan flags it with the command that fixes it; `--owner admin --mode 2777` works but warns.
#[test]
fn owner_admin_warns_and_the_real_sendmail_confirms_it() {
    let s = Scenario::built_fakeroot();
    let smtp = Smtp::start("defer");
    let out = s.run(&["mqueue", "fix", "--site", SITE, "--owner", "admin", "--yes"]);
    out.status(0)
        .stdout_has("--owner admin: a root-run sendmail cannot queue");
    let q = s.join(QUEUE).metadata().unwrap();
    assert_eq!((q.uid(), q.gid(), q.mode() & 0o7777), (GID, GID, 0o2770));
    let sm = Sendmail::new(&s, smtp.port);
    let (status, err) = sm.queue("owner admin");
    assert_eq!(status, 74, "{err}");
    let scan = s.run(&["mqueue", "scan", "--site", SITE]);
    scan.stdout_has("owned by admin3, not root: a root-run sendmail cannot queue in it")
        .stdout_has(&format!("fix: toolkit mqueue fix --site {SITE}"));
    // The fix it names (the default) makes sendmail queue again.
    s.run(&["mqueue", "fix", "--site", SITE, "--yes"]).status(0);
    for (name, ..) in queue_files(&s) {
        std::fs::remove_file(s.join(QUEUE).join(name)).unwrap();
    }
    assert_eq!(sm.queue("default again").0, 0);

    let out = s.run(&[
        "mqueue", "fix", "--site", SITE, "--owner", "admin", "--mode", "2777", "--yes",
    ]);
    out.status(0)
        .stdout_has("world-writable")
        .stdout_lacks("--owner admin: a root-run sendmail cannot queue");
    assert_eq!(sm.queue("world-writable").0, 0);
    // The mode must keep what the binding needs.
    for (mode, missing) in [
        ("0770", "setgid"),
        ("2750", "group rwx"),
        ("0700", "setgid"),
    ] {
        s.run(&["mqueue", "fix", "--site", SITE, "--mode", mode, "--yes"])
            .status(3)
            .stderr_has(missing);
    }
    s.run(&["mqueue", "fix", "--site", SITE, "--mode", "0700", "--yes"])
        .stderr_has("group rwx");
}
