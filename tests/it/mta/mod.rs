//! `mqueue scan` and `purge` on Exim and Postfix hosts, against the real MTAs unpacked by
//! .ci/peers.sh (target/peers/exim, target/peers/postfix): each test runs its own instance with its
//! spool in the test's fake root, on the loopback, and stops what it started by pid.

mod exim;
mod panels;
mod postfix;
mod runaway;

use crate::common::{manifest_dir, Scenario};
use std::io::BufRead;
use std::path::{Path, PathBuf};
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

/// The arguments of `mqueue purge --account ACCOUNT --min 0` (every message of the account), then
/// `flags` (`--hold`, `--yes`, `--dry-run`, `--json`...).
pub fn purge_all<'a>(account: &'a str, flags: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["mqueue", "purge", "--account", account, "--min", "0"];
    args.extend_from_slice(flags);
    args
}

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

/// A directory of wrapper scripts standing for the MTA's commands on the live host's PATH: each
/// `(name, program, config args)` runs the real program of target/peers with the test instance's
/// configuration, as the installed command would run with the host's own.
pub fn wrappers(cmds: &[(&str, PathBuf, Vec<String>)]) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    for (name, program, args) in cmds {
        let p = dir.path().join(name);
        let quoted: Vec<String> = std::iter::once(program.display().to_string())
            .chain(args.iter().cloned())
            .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
            .collect();
        std::fs::write(&p, format!("#!/bin/sh\nexec {} \"$@\"\n", quoted.join(" "))).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    dir
}

/// What a `mqueue purge --json` run did to each message: id -> (outcome, detail), over every site.
pub fn purged(j: &serde_json::Value) -> std::collections::BTreeMap<String, (String, String)> {
    j["sites"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["messages"].as_array().unwrap())
        .map(|m| {
            let id = m["id"].as_str().unwrap().to_string();
            let o = m["outcome"].as_str().unwrap().to_string();
            (id, (o, m["detail"].as_str().unwrap().to_string()))
        })
        .collect()
}

/// Runs `toolkit ARGS` on the live root (no --root) in a private mount namespace that makes the live
/// host look like the test's: an overlay over /etc (its upper layer on a scratch tmpfs) gains the
/// fake root's panel maps, /var/spool is a tmpfs holding only the fake root's `spool_rel` (bound, so
/// the test's MTA instance outside sees every change), and PATH starts with `bin`. The real /etc and
/// /var/spool never change: the mounts end with the namespace.
pub fn run_live(s: &Scenario, spool_rel: &str, bin: &Path, args: &[&str]) -> crate::common::Output {
    const SETUP: &str = r#"set -eu
fake=$1 spool=$2 scratch=$3
shift 3
mount -t tmpfs tmpfs "$scratch"
mkdir "$scratch/upper" "$scratch/work"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$scratch/upper,workdir=$scratch/work" /etc
for f in userdomains trueuserdomains; do cp "$fake/etc/$f" "/etc/$f"; done
mount -t tmpfs tmpfs /var/spool
mkdir -p "/$spool"
mount --bind "$fake/$spool" "/$spool"
exec "$@"
"#;
    let scratch = tempfile::tempdir().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--mount",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        SETUP,
        "sh",
    ])
    .arg(s.path())
    .arg(spool_rel)
    .arg(scratch.path())
    .arg(env!("CARGO_BIN_EXE_toolkit"))
    .args(args)
    .env("PATH", path);
    crate::common::run_cmd(&mut cmd)
}

/// What `run_live` must leave as it was on the real host: the places it mounts over or adds to
/// (the MTAs' spools under /var/spool, the panel maps in /etc), absent or with every file the same.
pub struct LiveHost(
    Vec<(
        &'static str,
        Option<std::collections::BTreeMap<PathBuf, crate::common::Node>>,
    )>,
);

const LIVE_PLACES: [&str; 5] = [
    "/var/spool/exim4",
    "/var/spool/exim",
    "/var/spool/postfix",
    "/etc/userdomains",
    "/etc/trueuserdomains",
];

impl LiveHost {
    pub fn snapshot() -> LiveHost {
        LiveHost(
            LIVE_PLACES
                .iter()
                .map(|&p| {
                    let path = Path::new(p);
                    let tree = path.symlink_metadata().is_ok();
                    (p, tree.then(|| crate::common::snapshot_tree(path)))
                })
                .collect(),
        )
    }

    pub fn unchanged(&self) {
        let now = LiveHost::snapshot();
        for ((path, was), (_, is)) in self.0.iter().zip(&now.0) {
            match (was, is) {
                (Some(a), Some(b)) => crate::common::assert_same_tree(a, b, path),
                (a, b) => assert_eq!(a.is_some(), b.is_some(), "{path} appeared or vanished"),
            }
        }
    }
}

/// The undo command a purge printed for each held message (`...; undo: CMD` in its detail), exactly
/// as printed: id -> command line.
pub fn printed_undo(
    purged: &std::collections::BTreeMap<String, (String, String)>,
) -> std::collections::BTreeMap<String, String> {
    purged
        .iter()
        .map(|(id, (_, detail))| {
            let (_, undo) = detail
                .split_once("undo: ")
                .unwrap_or_else(|| panic!("{id}: no undo printed in {detail:?}"));
            (id.clone(), undo.to_string())
        })
        .collect()
}

/// Runs a command line as the administrator would paste it into a shell, with `bin` (the wrappers
/// standing for the MTA's commands) first on PATH.
pub fn run_as_printed(command: &str, bin: &Path) {
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .args(["-c", command])
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
