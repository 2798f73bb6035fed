//! Against the real Postfix (Debian's postfix 3.7): a test instance (`postfix -c DIR start`, its
//! queue_directory in the fake root, loopback only) receives messages through its own `sendmail`,
//! defers them to a relay on a closed port of 127.0.0.1; the scan must agree with `postqueue -j`, and
//! `purge --hold` must leave them on hold in Postfix's own listing. The master is stopped by pid.

use super::{account, cpanel_root, mta_peer, purge_all, scanned, JDOE_UID};
use crate::common::Scenario;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MASTER_CF: &str = "\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
";

struct Postfix {
    conf: PathBuf,
    queue: PathBuf,
    _dir: tempfile::TempDir,
}

fn pf(rel: &str) -> PathBuf {
    mta_peer("postfix", rel)
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Postfix {
    fn start(queue: &Path) -> Postfix {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("etc");
        let data = dir.path().join("data");
        std::fs::create_dir_all(&conf).unwrap();
        std::fs::create_dir_all(&data).unwrap();
        std::fs::create_dir_all(queue).unwrap();
        let owner = nix::unistd::User::from_name("postfix")
            .unwrap()
            .expect("user postfix (.ci/peers.sh)");
        std::os::unix::fs::chown(&data, Some(owner.uid.as_raw()), None).unwrap();
        let peers = pf("usr/sbin/postfix")
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .to_path_buf();
        let main = format!(
            "compatibility_level = 3.6\nqueue_directory = {q}\ndata_directory = {data}\n\
             command_directory = {p}/usr/sbin\ndaemon_directory = {p}/usr/lib/postfix/sbin\n\
             meta_directory = {p}/etc/postfix\nshlib_directory = {p}/usr/lib/postfix\n\
             mail_owner = postfix\nsetgid_group = postdrop\nmyhostname = mail.example.com\n\
             mydomain = example.com\nmyorigin = example.com\nmydestination =\n\
             inet_interfaces = loopback-only\ninet_protocols = ipv4\nrelayhost = [127.0.0.1]:{port}\n\
             maillog_file = {log}/maillog\nmaillog_file_prefixes = {log}\nalias_maps =\n\
             alias_database =\nsmtputf8_enable = no\n",
            q = queue.display(),
            data = data.display(),
            p = peers.display(),
            port = closed_port(),
            log = dir.path().display(),
        );
        std::fs::write(conf.join("main.cf"), main).unwrap();
        std::fs::write(conf.join("master.cf"), MASTER_CF).unwrap();
        let out = Command::new(pf("usr/sbin/postfix"))
            .arg("-c")
            .arg(&conf)
            .arg("start")
            .output()
            .unwrap();
        let p = Postfix {
            conf,
            queue: queue.to_path_buf(),
            _dir: dir,
        };
        assert!(
            out.status.success() && p.master_pid().is_some(),
            "postfix start: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        p
    }

    fn master_pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.queue.join("pid/master.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Postfix's own `sendmail`, as root or as the live user standing for jdoe (in group postdrop,
    /// which Postfix's setgid postdrop would give it). Postfix lets a user name another
    /// configuration only when /etc/postfix/main.cf lists it in alternate_config_directories: that
    /// file is written in a private mount namespace over an overlay of /etc, so the live /etc is never
    /// touched.
    fn submit(&self, as_jdoe: bool, sender: &str, rcpts: &[&str], body: &[u8]) {
        let mut c = if as_jdoe {
            let postdrop = nix::unistd::Group::from_name("postdrop")
                .unwrap()
                .unwrap()
                .gid;
            let ov = self._dir.path().join("overlay");
            for d in ["upper", "work"] {
                std::fs::create_dir_all(ov.join(d)).unwrap();
            }
            let script = format!(
                "mount -t overlay overlay -o lowerdir=/etc,upperdir={ov}/upper,workdir={ov}/work /etc \
                 && mkdir -p /etc/postfix \
                 && echo 'alternate_config_directories = {conf}' > /etc/postfix/main.cf \
                 && exec setpriv --reuid={JDOE_UID} --regid={JDOE_UID} --groups={postdrop} \"$0\" \"$@\"",
                ov = ov.display(),
                conf = self.conf.display(),
            );
            let mut c = Command::new("unshare");
            c.args(["-m", "--propagation", "private", "sh", "-c", &script])
                .arg(pf("usr/sbin/sendmail"));
            c
        } else {
            Command::new(pf("usr/sbin/sendmail"))
        };
        let mut child = c
            .arg("-C")
            .arg(&self.conf)
            .arg("-f")
            .arg(sender)
            .args(rcpts)
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(body).unwrap();
        assert!(child.wait().unwrap().success(), "postfix sendmail failed");
    }

    fn queue_json(&self) -> Vec<serde_json::Value> {
        let out = Command::new(pf("usr/sbin/postqueue"))
            .arg("-c")
            .arg(&self.conf)
            .arg("-j")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Waits until `n` messages sit in `queue` with a reason for every recipient.
    fn settle(&self, n: usize, queue: &str) -> Vec<serde_json::Value> {
        let start = Instant::now();
        loop {
            let q = self.queue_json();
            let ready = q.iter().filter(|m| {
                m["queue_name"] == queue
                    && m["recipients"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .all(|r| r["delay_reason"].is_string())
            });
            if ready.count() == n && q.len() == n {
                return q;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "queue never settled: {q:#?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let Some(pid) = self.master_pid() else { return };
        let pid = nix::unistd::Pid::from_raw(pid);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let start = Instant::now();
        while nix::sys::signal::kill(pid, None).is_ok() && start.elapsed() < Duration::from_secs(10)
        {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn by_id(q: &[serde_json::Value]) -> BTreeMap<String, &serde_json::Value> {
    q.iter()
        .map(|m| (m["queue_id"].as_str().unwrap().to_string(), m))
        .collect()
}

/// Three messages by jdoe's own uid (its scripts), two from amy's domain (one with seven
/// recipients), one from nowhere.
fn queue_messages(p: &Postfix) {
    for i in 0..3 {
        let body = format!(
            "Subject: newsletter {i}\n\n{}\n",
            "x".repeat(3000 * (i + 1))
        );
        p.submit(
            true,
            "jdoe@example.com",
            &["a@remote.example", "b@remote.example"],
            body.as_bytes(),
        );
    }
    p.submit(
        false,
        "amy@shop.example.org",
        &["c@remote.example"],
        b"Subject: order\n\nbig\n",
    );
    p.submit(
        false,
        "ghost@nowhere.test",
        &["d@remote.example"],
        b"Subject: ?\n\n?\n",
    );
    let many: Vec<String> = (0..7).map(|i| format!("r{i}@remote.example")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    p.submit(
        false,
        "amy@shop.example.org",
        &many,
        b"Subject: many\n\nhi\n",
    );
}

#[test]
fn scan_agrees_with_postqueue_and_purge_hold_holds() {
    let s: Scenario = cpanel_root();
    let p = Postfix::start(&s.join("var/spool/postfix"));
    queue_messages(&p);
    let theirs = p.settle(6, "deferred");
    let j = s
        .run(&["mqueue", "scan", "--json", "--min", "0", "--top", "1000"])
        .json();
    let ours = scanned(&j);
    let theirs = by_id(&theirs);
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>()
    );
    for (id, t) in &theirs {
        let o = &ours[id];
        assert_eq!(o["size"], t["message_size"], "size of {id}");
        assert_eq!(o["sender"], t["sender"], "sender of {id}");
        let rcpts = t["recipients"].as_array().unwrap();
        assert_eq!(
            o["recipient_count"].as_u64().unwrap() as usize,
            rcpts.len(),
            "{id}"
        );
        for (mine, theirs) in o["recipients"].as_array().unwrap().iter().zip(rcpts) {
            assert_eq!(mine, &theirs["address"], "recipient of {id}");
        }
        assert_eq!(
            o["status"], rcpts[0]["delay_reason"],
            "delay reason of {id}"
        );
        assert_eq!(o["status_class"], "refused_or_timeout", "{id}");
        assert_eq!(o["created"], t["arrival_time"], "arrival of {id}");
    }
    let jdoe = account(&j, "jdoe");
    assert_eq!(jdoe["messages"], 3);
    assert_eq!(
        jdoe["by_scripts"], 3,
        "pickup's Received: (Postfix, from userid N)"
    );
    assert_eq!(account(&j, "amy")["messages"], 2);
    assert_eq!(account(&j, "(unattributed)")["messages"], 1);
    assert_eq!(j["mta"]["spools"][0]["mta"], "postfix");

    // purge --hold: Postfix's own listing then shows jdoe's messages in the hold queue.
    s.run(&purge_all("jdoe", &["--hold", "--yes"]))
        .status(0)
        .stdout_has("3 frozen or held");
    let after = p.queue_json();
    assert_eq!(after.len(), 6);
    for m in &after {
        let id = m["queue_id"].as_str().unwrap();
        let want = if ours[id]["queue"] == "jdoe" {
            "hold"
        } else {
            "deferred"
        };
        assert_eq!(m["queue_name"], want, "{id}");
    }
    // And the scan sees them held; a second run has nothing left to hold.
    let j = s.run(&["mqueue", "scan", "--json", "--min", "0"]).json();
    assert_eq!(account(&j, "jdoe")["held"], 3);
    s.run(&purge_all("jdoe", &["--hold", "--yes"]))
        .status(0)
        .stdout_has("no message at or over 0 B matches");
    // Quarantine amy's mail: Postfix no longer lists it; queue file and defer log kept together.
    s.run(&["mqueue", "purge", "--account", "amy", "--min", "0", "--yes"])
        .status(0)
        .stdout_has("2 quarantined");
    let left = p.queue_json();
    assert_eq!(left.len(), 4);
    let q = s.join("var/lib/toolkit/quarantine/amy");
    let stamp = q.read_dir().unwrap().next().unwrap().unwrap().path();
    assert_eq!(
        stamp.read_dir().unwrap().count(),
        2,
        "one directory per message"
    );
    for d in stamp.read_dir().unwrap() {
        let d = d.unwrap();
        assert!(d.file_name().to_string_lossy().starts_with("postfix-"));
        let id = d
            .file_name()
            .to_string_lossy()
            .trim_start_matches("postfix-")
            .to_string();
        let m = d.path();
        assert!(m.join("deferred").join(&id).is_file(), "queue file of {id}");
        assert!(m.join("defer").join(&id).is_file(), "defer log of {id}");
    }
}

/// On the live root, purge drives Postfix's own postsuper on the real queue: `--hold` runs
/// `postsuper -h` and the real `postqueue -j` then shows exactly jdoe's messages in the hold queue;
/// removing amy's runs `postsuper -d`, after which Postfix no longer lists them and their queue
/// files and defer logs are gone, nothing moved to a quarantine behind its back. The live host is
/// the test's through a private mount namespace (see `run_live`); `postsuper` on its PATH is the
/// real one with the test instance's configuration.
#[test]
fn live_root_purge_runs_postsuper_h_and_d() {
    let s: Scenario = cpanel_root();
    let queue = s.join("var/spool/postfix");
    let p = Postfix::start(&queue);
    queue_messages(&p);
    let before = p.settle(6, "deferred");
    let sender_of: BTreeMap<String, String> = before
        .iter()
        .map(|m| {
            let id = m["queue_id"].as_str().unwrap().to_string();
            (id, m["sender"].as_str().unwrap().to_string())
        })
        .collect();
    let bin = super::wrappers(&[(
        "postsuper",
        pf("usr/sbin/postsuper"),
        vec!["-c".into(), p.conf.display().to_string()],
    )]);
    let real = super::LiveHost::snapshot();
    let live = |args: &[&str]| super::run_live(&s, "var/spool/postfix", bin.path(), args);
    let queues = || -> BTreeMap<String, String> {
        p.queue_json()
            .iter()
            .map(|m| {
                let id = m["queue_id"].as_str().unwrap().to_string();
                (id, m["queue_name"].as_str().unwrap().to_string())
            })
            .collect()
    };
    let was = queues();

    live(&purge_all("jdoe", &["--hold", "--dry-run"]))
        .status(0)
        .stdout_has("3 would be frozen or held")
        .stdout_has("the MTA's own command would do it");
    assert_eq!(queues(), was, "a dry run changes nothing");

    let held = live(&purge_all("jdoe", &["--json", "--hold", "--yes"]));
    held.status(0);
    let held = super::purged(&held.json());
    assert_eq!(held.len(), 3, "{held:?}");
    for (id, (outcome, detail)) in &held {
        assert_eq!(outcome, "held", "{id}");
        assert!(detail.starts_with("postsuper -h -"), "{id}: {detail}");
        assert_eq!(sender_of[id], "jdoe@example.com", "{id} is jdoe's");
    }
    let after = queues();
    assert_eq!(after.len(), 6, "holding removes nothing");
    for (id, q) in &after {
        let want = if held.contains_key(id) {
            "hold"
        } else {
            "deferred"
        };
        assert_eq!(q, want, "{id} in postqueue -j");
    }

    let gone = live(&purge_all("amy", &["--json", "--yes"]));
    gone.status(0);
    let gone = super::purged(&gone.json());
    assert_eq!(gone.len(), 2, "{gone:?}");
    for (id, (outcome, detail)) in &gone {
        assert_eq!(outcome, "deleted", "{id}");
        assert!(detail.starts_with("postsuper -d -"), "{id}: {detail}");
        assert_eq!(sender_of[id], "amy@shop.example.org", "{id} is amy's");
    }
    let left = queues();
    assert_eq!(left.len(), 4);
    for id in gone.keys() {
        assert!(!left.contains_key(id), "{id} still listed");
        let files: Vec<_> = walkdir::WalkDir::new(&queue)
            .into_iter()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy() == *id)
            .map(|e| e.path().to_path_buf())
            .collect();
        assert!(files.is_empty(), "left behind: {files:?}");
    }
    for (id, q) in &left {
        assert_eq!(q, &after[id], "{id} untouched");
    }
    assert!(
        !s.join("var/lib/toolkit").exists(),
        "no quarantine on the live root"
    );
    real.unchanged();
}

/// The undo a live `purge --hold` prints for each held message, run exactly as printed
/// (`postsuper -H ID`, Postfix's own release from hold): `postqueue -j` then lists every message
/// back in the deferred queue, and the messages the purge did not select never left it.
#[test]
fn live_root_hold_undo_as_printed_releases() {
    let s: Scenario = cpanel_root();
    let queue = s.join("var/spool/postfix");
    let p = Postfix::start(&queue);
    queue_messages(&p);
    p.settle(6, "deferred");
    let bin = super::wrappers(&[(
        "postsuper",
        pf("usr/sbin/postsuper"),
        vec!["-c".into(), p.conf.display().to_string()],
    )]);
    let queues = || -> BTreeMap<String, String> {
        p.queue_json()
            .iter()
            .map(|m| {
                let id = m["queue_id"].as_str().unwrap().to_string();
                (id, m["queue_name"].as_str().unwrap().to_string())
            })
            .collect()
    };
    let was = queues();
    assert!(was.values().all(|q| q == "deferred"), "{was:?}");
    let real = super::LiveHost::snapshot();
    let held = super::run_live(
        &s,
        "var/spool/postfix",
        bin.path(),
        &purge_all("jdoe", &["--json", "--hold", "--yes"]),
    );
    held.status(0);
    let undo = super::printed_undo(&super::purged(&held.json()));
    assert_eq!(undo.len(), 3, "{undo:?}");
    let on_hold = queues();
    for (id, q) in &on_hold {
        let want = if undo.contains_key(id) {
            "hold"
        } else {
            "deferred"
        };
        assert_eq!(q, want, "{id} before the undo");
    }
    for (id, command) in &undo {
        assert_eq!(command, &format!("postsuper -H {id}"), "{id}");
        super::run_as_printed(command, bin.path());
    }
    assert_eq!(queues(), was, "every message back in the deferred queue");
    real.unchanged();
}
