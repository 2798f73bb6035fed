//! Test harness: copy a fake-root fixture into a temp dir, run the real binary against it, and compare
//! stdout, stderr and exit status with readable diffs.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A peer tool (promtool, m4, sendmail, check_procs...): from target/peers (see .ci/peers.sh), else PATH.
/// Missing peers fail the test: a comparison that silently does not run proves nothing.
pub fn peer(name: &str) -> PathBuf {
    let peers = manifest_dir().join("target/peers");
    for dir in [
        "usr/bin",
        "usr/sbin",
        "usr/libexec/sendmail",
        "usr/lib/nagios/plugins",
        "bin",
    ] {
        let p = peers.join(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let p = dir.join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!("peer tool '{name}' not found: run .ci/peers.sh (it unpacks the reference tools into target/peers)");
}

#[derive(Debug)]
pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    #[track_caller]
    pub fn status(&self, expected: i32) -> &Self {
        assert_eq!(
            self.status, expected,
            "exit status\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stdout_is(&self, expected: &str) -> &Self {
        if self.stdout != expected {
            panic!("stdout differs\n{}", diff(expected, &self.stdout));
        }
        self
    }

    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stdout_lacks(&self, needle: &str) -> &Self {
        assert!(
            !self.stdout.contains(needle),
            "stdout has {needle:?}\n--- stdout\n{}",
            self.stdout
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n--- stderr\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// Line diff, expected vs actual, marking changed lines.
pub fn diff(expected: &str, actual: &str) -> String {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let mut out = String::new();
    for i in 0..e.len().max(a.len()) {
        match (e.get(i), a.get(i)) {
            (Some(x), Some(y)) if x == y => out.push_str(&format!("  {x}\n")),
            (x, y) => {
                if let Some(x) = x {
                    out.push_str(&format!("- {x}\n"));
                }
                if let Some(y) = y {
                    out.push_str(&format!("+ {y}\n"));
                }
            }
        }
    }
    out
}

/// Runs the binary with these arguments (no --root added), without a terminal.
pub fn toolkit(args: &[&str]) -> Output {
    run_cmd(Command::new(env!("CARGO_BIN_EXE_toolkit")).args(args))
}

pub fn run_cmd(cmd: &mut Command) -> Output {
    let out = cmd
        .env_remove("TOOLKIT_ROOT")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run toolkit");
    Output {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A fake root in a temporary directory.
pub struct Scenario {
    dir: tempfile::TempDir,
}

impl Scenario {
    /// A copy of `fixtures/NAME` (symlinks kept as symlinks).
    pub fn fixture(name: &str) -> Scenario {
        let s = Scenario::empty();
        copy_tree(&manifest_dir().join("fixtures").join(name), s.path());
        s
    }

    /// `fixtures/fakeroot` as `fixtures/build-fakeroot.sh` lays it out: with the owners, setgid bits,
    /// sparse sizes and times of `fixtures/fakeroot.manifest` that git cannot hold (run as root).
    /// The script runs once per test binary (`Template::FakeRoot`); each test gets a `cp -a` copy.
    pub fn built_fakeroot() -> Scenario {
        Scenario::from_template(Template::FakeRoot)
    }

    /// `fixtures/build-fakeroot.sh --runaway`: site1's queue grown to the real case (2,074 copies of
    /// one 38 MiB message, sparse), built once per test binary and copied.
    pub fn built_runaway() -> Scenario {
        Scenario::from_template(Template::Runaway)
    }

    /// A `cp -a` copy of a fake root built once per test binary.
    pub fn from_template(t: Template) -> Scenario {
        let s = Scenario::empty();
        t.copy_to(s.path());
        s
    }

    /// An exact copy of this fake root (`cp -a`: owners, modes, sparse files and times kept), cheaper
    /// than building another one.
    pub fn clone_tree(&self) -> Scenario {
        let s = Scenario::empty();
        cp_a(self.path(), s.path());
        s
    }

    pub fn empty() -> Scenario {
        Scenario {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> &Self {
        let p = self.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        self
    }

    pub fn remove(&self, rel: &str) -> &Self {
        let p = self.join(rel);
        if p.is_dir() {
            std::fs::remove_dir_all(p).unwrap();
        } else {
            std::fs::remove_file(p).unwrap();
        }
        self
    }

    /// Runs `toolkit --root DIR ARGS...`.
    pub fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_toolkit"));
        cmd.arg("--root").arg(self.path()).args(args);
        run_cmd(&mut cmd)
    }
}

/// `cp -a FROM/. TO`: owners, modes (setgid), sparse files, symlinks and times kept, and TO itself
/// given FROM's mode, owner and times.
pub fn cp_a(from: &Path, to: &Path) {
    let out = Command::new("cp")
        .arg("-a")
        .arg(from.join("."))
        .arg(to)
        .output()
        .expect("run cp -a");
    assert!(
        out.status.success(),
        "cp -a {} {} failed: {}",
        from.display(),
        to.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fake root that a script builds: built once per test binary into a template directory (the first
/// test that asks builds it; the others wait for it), then copied for each test with `cp -a`, which
/// keeps what the build gave it (owners, setgid bits, sparse files, times, and the Postfix queue ids
/// that are inode numbers). Building the runaway queue costs seconds; a copy a fraction of that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// `fixtures/build-fakeroot.sh DEST`.
    FakeRoot,
    /// `fixtures/build-fakeroot.sh --runaway DEST`.
    Runaway,
    /// `fixtures/mta/gen-runaway.py DEST exim 300` beside a cPanel-style user map (jdoe, uid 1001,
    /// owns example.com): 300 copies of one 38 MiB message in Exim's spool.
    Exim,
    /// The same for Postfix, with the inode part of each queue id made stable (see `stable_postfix_ids`).
    Postfix,
}

const TEMPLATES: [Template; 4] = [
    Template::FakeRoot,
    Template::Runaway,
    Template::Exim,
    Template::Postfix,
];

impl Template {
    fn name(self) -> &'static str {
        match self {
            Template::FakeRoot => "fakeroot",
            Template::Runaway => "runaway",
            Template::Exim => "exim",
            Template::Postfix => "postfix",
        }
    }

    /// The built template (built on first use). Never handed to a test: tests get copies.
    fn path(self) -> &'static Path {
        static BUILT: [OnceLock<PathBuf>; 4] = [const { OnceLock::new() }; 4];
        let i = TEMPLATES.iter().position(|&t| t == self).unwrap();
        BUILT[i].get_or_init(|| {
            let dir = templates_dir().join(self.name());
            self.build(&dir);
            dir
        })
    }

    /// Copies the template into `dest` (an existing, empty directory).
    pub fn copy_to(self, dest: &Path) {
        cp_a(self.path(), dest);
    }

    fn build(self, dir: &Path) {
        match self {
            Template::FakeRoot | Template::Runaway => {
                let mut cmd = Command::new("bash");
                cmd.arg(manifest_dir().join("fixtures/build-fakeroot.sh"));
                if self == Template::Runaway {
                    cmd.arg("--runaway");
                }
                must_succeed(cmd.arg(dir), "build-fakeroot.sh");
            }
            Template::Exim | Template::Postfix => {
                std::fs::create_dir_all(dir.join("etc")).unwrap();
                std::fs::write(
                    dir.join("etc/passwd"),
                    "root:x:0:0::/root:/bin/sh\njdoe:x:1001:1001::/home/jdoe:/bin/sh\n",
                )
                .unwrap();
                std::fs::write(dir.join("etc/group"), "root:x:0:\njdoe:x:1001:\n").unwrap();
                std::fs::write(dir.join("etc/userdomains"), "example.com: jdoe\n").unwrap();
                let mut cmd = Command::new("python3");
                cmd.arg(manifest_dir().join("fixtures/mta/gen-runaway.py"))
                    .arg(dir)
                    .args([self.name(), "300"]);
                must_succeed(&mut cmd, "gen-runaway.py");
                if self == Template::Postfix {
                    stable_postfix_ids(&dir.join("var/spool/postfix"));
                }
            }
        }
    }
}

/// Postfix names a queue file by its arrival's microseconds (5 hex digits) and its inode number, and
/// gen-runaway.py does the same, so the ids (which the reports list) change with every build. Here
/// each queue file (and its defer log) is renamed to the id it would have had with inode
/// 0x5B4000 + N, N its rank by the microseconds part: the ids stay as long and as Postfix-like as the
/// real ones and are the same on every machine. The reader takes the id from the name only.
fn stable_postfix_ids(spool: &Path) {
    let mut ids: Vec<(String, PathBuf)> = Vec::new();
    for sub in std::fs::read_dir(spool.join("deferred")).unwrap() {
        let sub = sub.unwrap().path();
        for f in std::fs::read_dir(&sub).unwrap() {
            let f = f.unwrap();
            ids.push((f.file_name().into_string().unwrap(), sub.clone()));
        }
    }
    ids.sort();
    for (n, (id, sub)) in ids.iter().enumerate() {
        let stable = format!("{}{:X}", &id[..5], 0x5B4000 + n);
        let hash = &stable[..1];
        assert_eq!(&id[..1], hash, "the hashed subdirectory stays the same");
        std::fs::rename(sub.join(id), sub.join(&stable)).unwrap();
        let log = spool.join("defer").join(hash);
        std::fs::rename(log.join(id), log.join(&stable)).unwrap();
    }
}

#[track_caller]
fn must_succeed(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// This test binary's directory of templates: `target/tmp/templates/PID-START` (START: the process's
/// start time in clock ticks after boot, so a reused pid, or the same pid in another PID namespace,
/// is not taken for this process). Removed when the binary exits (an `atexit` handler: libtest ends
/// with `exit`, whether tests passed or failed); those of binaries that were killed are removed by
/// the next run.
fn templates_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("templates");
        std::fs::create_dir_all(&base).unwrap();
        for e in std::fs::read_dir(&base).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let alive = name
                .split_once('-')
                .and_then(|(pid, start)| Some((pid.parse::<u32>().ok()?, start.to_string())))
                .is_some_and(|(pid, start)| start_ticks(pid).is_some_and(|s| s == start));
            if !alive {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        let me = std::process::id();
        let dir = base.join(format!("{me}-{}", start_ticks(me).expect("own /proc stat")));
        std::fs::create_dir_all(&dir).unwrap();
        extern "C" fn remove_templates() {
            if let Some(dir) = DIR.get() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
        // SAFETY: registers a function without arguments that only removes a directory.
        unsafe { libc::atexit(remove_templates) };
        dir
    })
}

/// Field 22 of `/proc/PID/stat` (start time, clock ticks after boot), `None` when PID is not running.
fn start_ticks(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = &stat[stat.rfind(')')? + 1..];
    after_comm.split_whitespace().nth(19).map(str::to_string)
}

pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from).follow_links(false) {
        let entry = entry.expect("walk fixture");
        let rel = entry.path().strip_prefix(from).unwrap();
        let dest = to.join(rel);
        let ft = entry.file_type();
        if ft.is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else if ft.is_symlink() {
            let target = std::fs::read_link(entry.path()).unwrap();
            std::os::unix::fs::symlink(target, &dest).unwrap();
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// Checks Prometheus exposition text with the real promtool.
pub fn promtool_check(text: &str) {
    use std::io::Write;
    let mut child = Command::new(peer("promtool"))
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn promtool");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\n--- input\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Parses a monitoring-plugins output line back: (label, status word, summary, perfdata items).
pub fn parse_nagios(stdout: &str) -> (String, String, String, Vec<(String, String)>) {
    let first = stdout.lines().next().expect("a status line");
    let (head, perf) = first.split_once(" | ").unwrap_or((first, ""));
    let (label_status, summary) = head.split_once(" - ").expect("'LABEL STATUS - summary'");
    let (label, status) = label_status.rsplit_once(' ').expect("label and status");
    assert!(
        ["OK", "WARNING", "CRITICAL", "UNKNOWN"].contains(&status),
        "status word {status:?}"
    );
    let mut items = Vec::new();
    let mut rest = perf.trim();
    while !rest.is_empty() {
        assert!(rest.starts_with('\''), "perf label must be quoted: {rest}");
        let end = rest[1..].find("'=").expect("closing quote") + 1;
        let label = rest[1..end].to_string();
        let after = &rest[end + 2..];
        let (value, tail) = after.split_once(' ').unwrap_or((after, ""));
        let re_ok = value
            .split(';')
            .next()
            .unwrap()
            .trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == '%');
        re_ok
            .parse::<f64>()
            .unwrap_or_else(|_| panic!("perf value {value:?} is not numeric"));
        assert!(
            value.split(';').count() <= 5,
            "at most value;warn;crit;min;max: {value}"
        );
        items.push((label, value.to_string()));
        rest = tail.trim();
    }
    (
        label.to_string(),
        status.to_string(),
        summary.to_string(),
        items,
    )
}

/// The state of one object for `snapshot_tree`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub uid: u32,
    pub gid: u32,
    /// `st_mode & 07777` (setuid, setgid and sticky included).
    pub mode: u32,
    /// `f` file, `d` directory, `l` symlink, `o` other.
    pub kind: char,
    /// SHA-256 of a symlink's target, or of a file's `content_hash` (its size and every data extent,
    /// so a sparse queue file or a 2 TiB attack file costs only the data it holds).
    pub hash: String,
}

/// Owner, group, mode and content hash of every object under `dir`, keyed by the exact path (names
/// that are not UTF-8 stay distinct). Never follows a symlink.
pub fn snapshot_tree(dir: &Path) -> std::collections::BTreeMap<PathBuf, Node> {
    use sha2::{Digest, Sha256};
    use std::os::unix::fs::MetadataExt;
    let mut out = std::collections::BTreeMap::new();
    for e in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
    {
        let e = e.expect("walk");
        let m = e.path().symlink_metadata().expect("lstat");
        let mut h = Sha256::new();
        let kind = if m.file_type().is_symlink() {
            h.update(
                std::fs::read_link(e.path())
                    .unwrap()
                    .as_os_str()
                    .as_encoded_bytes(),
            );
            'l'
        } else if m.is_file() {
            // Every data extent, so a sparse 38 MiB df or a 2 TiB attack file costs only its data.
            h.update(content_hash(e.path()).to_le_bytes());
            'f'
        } else if m.is_dir() {
            'd'
        } else {
            'o'
        };
        let rel = e.path().strip_prefix(dir).unwrap().to_path_buf();
        let hash = h
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        out.insert(
            rel,
            Node {
                uid: m.uid(),
                gid: m.gid(),
                mode: m.mode() & 0o7777,
                kind,
                hash,
            },
        );
    }
    out
}

/// Compares two `snapshot_tree`s, naming every path that differs.
#[track_caller]
pub fn assert_same_tree(
    expected: &std::collections::BTreeMap<PathBuf, Node>,
    actual: &std::collections::BTreeMap<PathBuf, Node>,
    what: &str,
) {
    let mut diffs = Vec::new();
    let keys: std::collections::BTreeSet<&PathBuf> = expected.keys().chain(actual.keys()).collect();
    for k in keys {
        match (expected.get(k), actual.get(k)) {
            (Some(a), Some(b)) if a == b => {}
            (a, b) => diffs.push(format!("{k:?}: {a:?} -> {b:?}")),
        }
    }
    assert!(diffs.is_empty(), "{what}:\n{}", diffs.join("\n"));
}

/// Owner, group, mode and content hash of one object (a symlink's hash is of its target).
pub type PurgeMeta = (u32, u32, u32, u64);

/// A hash of a regular file's content, whatever its layout: the size, then every 64 KiB chunk that is
/// not all zeros with its offset. Only the data extents are read (`SEEK_DATA`/`SEEK_HOLE`), so the
/// runaway queue's 2,074 sparse 38 MiB dfs cost next to nothing, and a hole hashes as the zeros it
/// reads as.
pub fn content_hash(path: &Path) -> u64 {
    use std::hash::{Hash, Hasher};
    use std::io::{Read, Seek, SeekFrom};
    use std::os::fd::AsRawFd;
    let mut f = std::fs::File::open(path).expect("open");
    let size = f.metadata().unwrap().len();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    size.hash(&mut h);
    let fd = f.as_raw_fd();
    let mut pos: i64 = 0;
    let mut chunk = vec![0u8; 64 << 10];
    while (pos as u64) < size {
        // SAFETY: lseek on an open descriptor.
        let data = unsafe { libc::lseek(fd, pos, libc::SEEK_DATA) };
        if data < 0 {
            break; // only a hole is left
        }
        let hole = unsafe { libc::lseek(fd, data, libc::SEEK_HOLE) };
        let end = if hole < 0 { size as i64 } else { hole };
        // Chunks aligned to 64 KiB, so the hash does not depend on where the extents start.
        let mut off = data - data % (64 << 10);
        while off < end {
            f.seek(SeekFrom::Start(off as u64)).unwrap();
            let want = ((size as i64 - off).min(64 << 10)) as usize;
            let n = f
                .by_ref()
                .take(want as u64)
                .read(&mut chunk[..want])
                .unwrap();
            let got = &chunk[..n];
            if got.iter().any(|&b| b != 0) {
                off.hash(&mut h);
                got.hash(&mut h);
            }
            if n == 0 {
                break;
            }
            off += n as i64;
        }
        pos = end.max(off);
    }
    h.finish()
}

/// A before/after snapshot of every object under `dir` (symlinks not followed): owner, group, mode
/// and a hash of the content: `snapshot_tree` in the shape the purge tests compare.
pub fn purge_snapshot(dir: &Path) -> std::collections::BTreeMap<String, PurgeMeta> {
    snapshot_tree(dir)
        .into_iter()
        .map(|(path, n)| {
            let hash = u64::from_str_radix(&n.hash[..16], 16).expect("hex");
            (path.display().to_string(), (n.uid, n.gid, n.mode, hash))
        })
        .collect()
}

/// The paths whose entry differs between two snapshots (present in one only, or changed), sorted.
pub fn purge_snapshot_diff(
    before: &std::collections::BTreeMap<String, PurgeMeta>,
    after: &std::collections::BTreeMap<String, PurgeMeta>,
) -> Vec<String> {
    let mut out: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    out
}
