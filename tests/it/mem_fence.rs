//! `toolkit mem fence`: on a fake root of every kind of host (fixtures/mem/fence: cgroup v1, v2
//! bare, v2 unit, v2 scope, none mounted) the plan, the refusal without a terminal, the apply, a
//! second run that changes nothing, and the undo back to the exact previous files; the verdict
//! printing the same commands.

use crate::common::Scenario;
use serde_json::Value;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

type Snapshot = BTreeMap<String, (u32, u32, u32, Vec<u8>)>;

/// Owner, group, mode and content of everything under the root but the toolkit's own state.
fn snapshot(dir: &Path) -> Snapshot {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
    {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
        if rel.starts_with("var") {
            continue;
        }
        let m = e.path().symlink_metadata().unwrap();
        let content = if m.is_file() {
            std::fs::read(e.path()).unwrap()
        } else {
            Vec::new()
        };
        out.insert(rel, (m.uid(), m.gid(), m.mode() & 0o7777, content));
    }
    out
}

#[track_caller]
fn assert_same(expected: &Snapshot, actual: &Snapshot, what: &str) {
    let differ: Vec<&String> = expected
        .keys()
        .chain(actual.keys())
        .filter(|k| expected.get(*k) != actual.get(*k))
        .collect();
    assert!(differ.is_empty(), "{what}: differ: {differ:?}");
}

fn commands(j: &Value) -> Vec<String> {
    j["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["command"].as_str().unwrap().to_string())
        .collect()
}

fn outcomes(j: &Value) -> Vec<String> {
    j["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["outcome"].as_str().unwrap().to_string())
        .collect()
}

fn read(s: &Scenario, rel: &str) -> String {
    std::fs::read_to_string(s.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Plan, refusal, apply, second run and undo on one kind; returns the applied scenario's checks
/// to the caller through `check` (run between apply and undo).
fn cycle(kind: &str, method: &str, expected: &[&str], check: impl Fn(&Scenario)) {
    let s = Scenario::fixture(&format!("mem/fence/{kind}"));
    let before = snapshot(s.path());
    // The verdict prints the same commands for this host.
    let v = s
        .run(&["mem", "verdict", "--interval", "0", "--json"])
        .json();
    assert_eq!(v["fence"]["method"], method, "{kind}");
    assert_eq!(
        v["fence"]["commands"],
        Value::from(expected.to_vec()),
        "{kind}"
    );
    // The plan changes nothing.
    let plan = s.run(&["mem", "fence", "4242", "--dry-run", "--json"]);
    let j = plan.status(0).json();
    assert_eq!(commands(&j), expected, "{kind}");
    assert!(
        outcomes(&j).iter().all(|o| o == "would_change"),
        "{kind}: {j}"
    );
    assert_same(&before, &snapshot(s.path()), "dry run");
    // Without a terminal and without --yes: refused, nothing changed.
    s.run(&["mem", "fence", "4242"])
        .status(3)
        .stderr_has("without a terminal");
    assert_same(&before, &snapshot(s.path()), "refused");
    // Applied.
    let applied = s.run(&["mem", "fence", "4242", "--yes", "--json"]);
    let j = applied.status(0).json();
    assert_eq!(commands(&j), expected, "{kind}");
    assert!(
        outcomes(&j)
            .iter()
            .all(|o| ["changed", "written", "not_run"].contains(&o.as_str())),
        "{kind}: {j}"
    );
    check(&s);
    let after = snapshot(s.path());
    // A second run finds everything done and changes nothing.
    let again = s.run(&["mem", "fence", "4242", "--yes", "--json"]);
    let j = again.status(0).json();
    if method != "prlimit" {
        assert!(outcomes(&j).iter().all(|o| o == "ok"), "{kind}: {j}");
    }
    assert_same(&after, &snapshot(s.path()), "second run");
    // Undo: the exact previous files, and a second undo has nothing left to do.
    s.run(&["mem", "fence", "4242", "--undo", "--yes"])
        .status(0);
    assert_same(&before, &snapshot(s.path()), "undo");
    let j = s
        .run(&["mem", "fence", "4242", "--undo", "--yes", "--json"])
        .status(0)
        .json();
    assert!(
        j["note"].as_str().unwrap().contains("nothing to undo"),
        "{j}"
    );
}

#[test]
fn v2_unit_gets_set_property_and_its_cgroup_files_under_a_fake_root() {
    cycle(
        "v2-unit",
        "systemd-unit",
        &["systemctl set-property php-fpm.service MemoryHigh=1024M MemoryMax=1280M"],
        |s| {
            // Sized from the whole unit (memory.current 1000 MiB), not the one process (900 MiB).
            let d = "sys/fs/cgroup/system.slice/php-fpm.service";
            assert_eq!(read(s, &format!("{d}/memory.high")), "1073741824\n");
            assert_eq!(read(s, &format!("{d}/memory.max")), "1342177280\n");
        },
    );
}

#[test]
fn v2_scope_gets_a_runtime_property() {
    cycle(
        "v2-scope",
        "systemd-scope",
        &["systemctl set-property --runtime session-3.scope MemoryHigh=1024M MemoryMax=1280M"],
        |s| {
            let d = "sys/fs/cgroup/user.slice/user-500.slice/session-3.scope";
            assert_eq!(read(s, &format!("{d}/memory.max")), "1342177280\n");
        },
    );
}

#[test]
fn v2_bare_cgroup_gets_a_child_of_its_own() {
    cycle(
        "v2-bare",
        "cgroup-v2",
        &[
            "echo +memory > /sys/fs/cgroup/cgroup.subtree_control",
            "mkdir /sys/fs/cgroup/toolkit-fence-4242",
            "echo 1006632960 > /sys/fs/cgroup/toolkit-fence-4242/memory.high",
            "echo 1275068416 > /sys/fs/cgroup/toolkit-fence-4242/memory.max",
            "echo 4242 > /sys/fs/cgroup/toolkit-fence-4242/cgroup.procs",
        ],
        |s| {
            let d = "sys/fs/cgroup";
            assert_eq!(
                read(s, &format!("{d}/cgroup.subtree_control")),
                "cpu io memory\n"
            );
            assert_eq!(
                read(s, &format!("{d}/toolkit-fence-4242/cgroup.procs")),
                "4242\n"
            );
            assert_eq!(
                read(s, &format!("{d}/toolkit-fence-4242/memory.max")),
                "1275068416\n"
            );
            // The pid left its old cgroup, as the kernel moves it.
            assert_eq!(
                read(s, &format!("{d}/hosting/site12/cgroup.procs")),
                "4300\n"
            );
        },
    );
}

#[test]
fn v1_gets_a_memory_child_with_memsw() {
    cycle(
        "v1",
        "cgroup-v1",
        &[
            "mkdir /cgroup/memory/toolkit-fence-4242",
            "echo 1006632960 > /cgroup/memory/toolkit-fence-4242/memory.soft_limit_in_bytes",
            "echo 1275068416 > /cgroup/memory/toolkit-fence-4242/memory.limit_in_bytes",
            "echo 1409286144 > /cgroup/memory/toolkit-fence-4242/memory.memsw.limit_in_bytes",
            "echo 4242 > /cgroup/memory/toolkit-fence-4242/cgroup.procs",
        ],
        |s| {
            let d = "cgroup/memory";
            assert_eq!(read(s, &format!("{d}/cgroup.procs")), "1\n4300\n");
            assert_eq!(
                read(s, &format!("{d}/toolkit-fence-4242/cgroup.procs")),
                "4242\n"
            );
            assert_eq!(
                read(s, &format!("{d}/toolkit-fence-4242/memory.limit_in_bytes")),
                "1275068416\n"
            );
        },
    );
}

#[test]
fn no_controller_mounted_caps_the_address_space_and_runs_nothing_under_a_fake_root() {
    cycle(
        "none",
        "prlimit",
        &["prlimit --pid 4242 --as=2013265920"],
        |_| {},
    );
    let s = Scenario::fixture("mem/fence/none");
    s.run(&["mem", "verdict", "--interval", "0"])
        .stdout_has("no cgroup memory controller is mounted")
        .stdout_has("session-3.scope")
        .stdout_has("prlimit --pid 4242 --as=2013265920")
        .stdout_has("prlimit --pid 4242 --as=unlimited");
}

#[test]
fn explicit_sizes_and_bad_ones() {
    let s = Scenario::fixture("mem/fence/v2-unit");
    let j = s
        .run(&[
            "mem",
            "fence",
            "4242",
            "--high",
            "1G",
            "--max",
            "1.5G",
            "--dry-run",
            "--json",
        ])
        .status(0)
        .json();
    assert_eq!(
        commands(&j),
        ["systemctl set-property php-fpm.service MemoryHigh=1024M MemoryMax=1536M"]
    );
    s.run(&[
        "mem",
        "fence",
        "4242",
        "--high",
        "2G",
        "--max",
        "1G",
        "--dry-run",
    ])
    .status(3)
    .stderr_has("--high");
    s.run(&["mem", "fence", "4242", "--max", "lots", "--dry-run"])
        .status(3)
        .stderr_has("'lots'");
    s.run(&["mem", "fence", "9999", "--dry-run"])
        .status(3)
        .stderr_has("no process 9999");
    // An existing limit is kept unless sizes are asked for.
    s.write(
        "sys/fs/cgroup/system.slice/php-fpm.service/memory.max",
        "4294967296\n",
    );
    let j = s
        .run(&["mem", "fence", "4242", "--dry-run", "--json"])
        .json();
    assert_eq!(outcomes(&j), ["would_change"], "memory.high is still max");
    s.write(
        "sys/fs/cgroup/system.slice/php-fpm.service/memory.high",
        "3221225472\n",
    );
    let j = s
        .run(&["mem", "fence", "4242", "--dry-run", "--json"])
        .json();
    assert_eq!(outcomes(&j), ["ok"]);
    assert!(j["steps"][0]["note"]
        .as_str()
        .unwrap()
        .contains("already limited"));
}

#[test]
fn undo_of_a_process_gone_since_restores_limits_but_moves_nothing() {
    let s = Scenario::fixture("mem/fence/v2-bare");
    let subtree = read(&s, "sys/fs/cgroup/cgroup.subtree_control");
    s.run(&["mem", "fence", "4242", "--yes"]).status(0);
    // The leaker exits and its pid is reused by another program (another start time).
    let stat = read(&s, "proc/4242/stat").replace(" 25000000 ", " 26000000 ");
    s.write("proc/4242/stat", stat);
    let j = s
        .run(&["mem", "fence", "4242", "--undo", "--yes", "--json"])
        .json();
    let first = &j["steps"][0];
    assert!(first["command"]
        .as_str()
        .unwrap()
        .starts_with("echo 4242 > "));
    assert!(
        first["note"]
            .as_str()
            .unwrap()
            .contains("the process is gone (or its pid reused): nothing to move back"),
        "{j}"
    );
    assert_eq!(
        read(&s, "sys/fs/cgroup/hosting/site12/cgroup.procs"),
        "4300\n"
    );
    // The limits are undone all the same: the fence's cgroup removed, the controller as it was.
    assert_eq!(outcomes(&j), ["ok", "changed", "changed"], "{j}");
    assert!(!s.join("sys/fs/cgroup/toolkit-fence-4242").exists());
    assert_eq!(read(&s, "sys/fs/cgroup/cgroup.subtree_control"), subtree);
}

#[test]
fn a_symlink_planted_as_the_fence_cgroup_is_not_followed() {
    let s = Scenario::fixture("mem/fence/v2-bare");
    let victim = tempfile::tempdir().unwrap();
    std::fs::write(victim.path().join("memory.max"), "precious\n").unwrap();
    // The attack: the fence's cgroup name already exists, as a link to a directory elsewhere.
    std::os::unix::fs::symlink(victim.path(), s.join("sys/fs/cgroup/toolkit-fence-4242")).unwrap();
    assert!(s
        .join("sys/fs/cgroup/toolkit-fence-4242/memory.max")
        .exists());
    let outside = snapshot(victim.path());
    let j = s
        .run(&["mem", "fence", "4242", "--yes", "--json"])
        .status(2)
        .json();
    let mkdir = j["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|st| st["command"].as_str().unwrap().starts_with("mkdir"))
        .unwrap();
    assert_eq!(mkdir["outcome"], "failed", "{j}");
    // Opened without following (O_NOFOLLOW | O_DIRECTORY): a link is "not a directory".
    let note = mkdir["note"].as_str().unwrap();
    assert!(
        note.contains("not a directory") || note.contains("symlink"),
        "{mkdir}"
    );
    assert_same(&outside, &snapshot(victim.path()), "outside the root");
    assert_eq!(
        read(&s, "sys/fs/cgroup/hosting/site12/cgroup.procs"),
        "4242\n4300\n"
    );
}

#[test]
fn a_process_named_with_terminal_escapes_is_shown_escaped() {
    let s = Scenario::fixture("mem/fence/v2-scope");
    // The attack: a local user names the process and its arguments with terminal controls.
    let stat = read(&s, "proc/4242/stat").replace("(leaky-php)", "(x\u{1b}]0;pwn\u{7})");
    s.write("proc/4242/stat", stat);
    s.write("proc/4242/cmdline", "/usr/bin/php\0\u{1b}[2Jhidden\0");
    let before = snapshot(s.path());
    for args in [
        &["mem", "verdict", "--interval", "0"][..],
        &["mem", "fence", "4242", "--dry-run"],
    ] {
        let out = s.run(args);
        assert!(!out.stdout.contains('\u{1b}'), "{args:?}: {}", out.stdout);
        assert!(!out.stdout.contains('\u{7}'), "{args:?}");
        // Shown, escaped: not dropped.
        assert!(
            out.stdout.contains("x\\x1b]0;pwn\\x07 (pid 4242)"),
            "{args:?}: {}",
            out.stdout
        );
    }
    s.run(&["mem", "verdict", "--interval", "0"])
        .stdout_has("-- /usr/bin/php '\\x1b[2Jhidden'");
    // JSON keeps the exact value.
    let j = s
        .run(&["mem", "verdict", "--interval", "0", "--json"])
        .json();
    assert!(j["fence"]["next_run"]
        .as_str()
        .unwrap()
        .contains("\u{1b}[2Jhidden"));
    assert_same(&before, &snapshot(s.path()), "read-only commands");
}

/// The memory controller's mount point on the live machine, read independently of the toolkit:
/// a v1 `memory` hierarchy first, else the v2 one.
fn live_memory_mount() -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mut v2 = None;
    for line in text.lines() {
        let (left, right) = line.split_once(" - ")?;
        let point = left.split_whitespace().nth(4)?.to_string();
        let mut r = right.split_whitespace();
        match (r.next(), r.nth(1)) {
            (Some("cgroup"), Some(opts)) if opts.split(',').any(|o| o == "memory") => {
                return Some(point)
            }
            (Some("cgroup2"), _) => v2 = Some(point),
            _ => {}
        }
    }
    v2
}

#[test]
fn live_dry_run_plans_for_this_host_and_changes_nothing() {
    let mut child = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .expect("sleep");
    let pid = child.id().to_string();
    let cgroup = || std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let before = cgroup();
    let out = crate::common::toolkit(&["mem", "fence", &pid, "--dry-run", "--json"]);
    // The process was not moved to another cgroup.
    assert_eq!(cgroup(), before);
    let _ = child.kill();
    let _ = child.wait();
    let j = out.status(0).json();
    let method = j["fence"]["method"].as_str().unwrap().to_string();
    match live_memory_mount() {
        Some(mount) => {
            assert!(
                ["systemd-unit", "systemd-scope", "cgroup-v1", "cgroup-v2"]
                    .contains(&method.as_str()),
                "{j}"
            );
            if method.starts_with("cgroup") {
                for c in commands(&j) {
                    assert!(c.contains(&format!("{mount}/toolkit-fence-{pid}")), "{c}");
                }
                assert!(!Path::new(&format!("{mount}/toolkit-fence-{pid}")).exists());
            }
        }
        None => assert_eq!(method, "prlimit", "{j}"),
    }
    assert!(
        outcomes(&j)
            .iter()
            .all(|o| o == "would_change" || o == "ok"),
        "{j}"
    );
    // Init is never fenced in.
    crate::common::toolkit(&["mem", "fence", "1", "--dry-run"])
        .status(3)
        .stderr_has("pid 1 is init");
}

/// A record as `mem fence` wrote it before its labels were typed (issue 15): the cgroup v1 kind on
/// an old kernel, whose pids go to `tasks`.
const RECORD_V1_TASKS: &str = include_str!("../../fixtures/mem/fence/records/v1-tasks.json");

/// The same for a systemd unit on cgroup v2.
const RECORD_V2_UNIT: &str = r#"{
  "pid": 4242,
  "start": 25000000,
  "comm": "leaky-php",
  "method": "systemd-unit",
  "mount": "/sys/fs/cgroup",
  "version": "v2",
  "at": 1767484800,
  "undo": [
    {
      "op": "run",
      "argv": [
        "systemctl",
        "set-property",
        "php-fpm.service",
        "MemoryHigh=infinity",
        "MemoryMax=infinity"
      ],
      "sets": [
        [
          "system.slice/php-fpm.service/memory.high",
          "max"
        ],
        [
          "system.slice/php-fpm.service/memory.max",
          "max"
        ]
      ]
    }
  ]
}"#;

const RECORDS: &str = "var/lib/toolkit/mem-fence/records";

/// The one record a fence left under the root: its name and text.
fn the_record(s: &Scenario) -> (String, String) {
    let names: Vec<String> = std::fs::read_dir(s.join(RECORDS))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    let text = read(s, &format!("{RECORDS}/{}", names[0]));
    (names[0].clone(), text)
}

/// The record format is a contract with fences applied by earlier versions: the new code writes
/// it byte for byte as before, and a record in that format (put in place of the new one) is read
/// and undone back to the exact previous files.
#[test]
fn a_record_in_the_format_of_earlier_versions_is_written_the_same_and_undone() {
    let old_kernel = |s: &Scenario| {
        // No cgroup.procs in the v1 hierarchy: pids are moved through `tasks`.
        std::fs::remove_file(s.join("cgroup/memory/cgroup.procs")).unwrap();
    };
    for (kind, literal, prepare) in [
        ("v1", RECORD_V1_TASKS, &old_kernel as &dyn Fn(&Scenario)),
        ("v2-unit", RECORD_V2_UNIT, &|_: &Scenario| {}),
    ] {
        let s = Scenario::fixture(&format!("mem/fence/{kind}"));
        prepare(&s);
        let before = snapshot(s.path());
        s.run(&["mem", "fence", "4242", "--yes"]).status(0);
        let (name, written) = the_record(&s);
        assert_eq!(written, literal, "{kind}: the record format changed");
        assert!(name.starts_with("4242-25000000-1767484800-"), "{name}");
        std::fs::remove_file(s.join(&format!("{RECORDS}/{name}"))).unwrap();
        s.write(
            &format!("{RECORDS}/4242-25000000-1767484800-1.json"),
            literal,
        );
        let j = s
            .run(&["mem", "fence", "4242", "--undo", "--yes", "--json"])
            .status(0)
            .json();
        assert!(
            outcomes(&j)
                .iter()
                .all(|o| o == "changed" || o == "written"),
            "{kind}: {j}"
        );
        assert_same(&before, &snapshot(s.path()), kind);
        assert!(s
            .join(&format!("{RECORDS}/4242-25000000-1767484800-1.json.undone"))
            .exists());
    }
}

/// Runs toolkit on a pseudo-terminal (python3's pty module, as `hostile.rs` does) and types
/// `answer` once its question is on the screen; returns its exit status and what the terminal
/// showed.
fn on_a_terminal(s: &Scenario, args: &[&str], answer: &str) -> (i32, String) {
    let driver = r#"
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.environ.pop("TOOLKIT_ROOT", None)
    os.environ["NO_COLOR"] = "1"
    os.environ["TERM"] = "dumb"
    os.execv(sys.argv[2], sys.argv[2:])
out, answered = b"", False
while True:
    try:
        b = os.read(fd, 65536)
    except OSError:
        break
    if not b:
        break
    out += b
    if not answered and b"[y/N]" in out:
        os.write(fd, sys.argv[1].encode())
        answered = True
_, st = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(st))
"#;
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            driver,
            answer,
            env!("CARGO_BIN_EXE_toolkit"),
            "--root",
        ])
        .arg(s.path())
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("python3");
    let shown = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    (out.status.code().unwrap_or(-1), shown)
}

/// On a terminal the plan is shown and asked about, for the fence and for its undo: "no" changes
/// nothing (exit 1, declined), "yes" applies, and the undo put back the exact previous files.
#[test]
fn on_a_terminal_the_fence_and_its_undo_are_asked_for() {
    let s = Scenario::fixture("mem/fence/v2-bare");
    let before = snapshot(s.path());
    let (status, shown) = on_a_terminal(&s, &["mem", "fence", "4242"], "n");
    assert_eq!(status, 1, "{shown}");
    assert!(shown.contains("Plan for pid 4242:"), "{shown}");
    assert!(shown.contains("Fence in leaky-php (pid 4242)?"), "{shown}");
    assert!(shown.contains("5 would change (declined)"), "{shown}");
    assert_same(&before, &snapshot(s.path()), "declined");
    assert!(!s.join(RECORDS).exists(), "declined: nothing recorded");
    let (status, shown) = on_a_terminal(&s, &["mem", "fence", "4242"], "y");
    assert_eq!(status, 0, "{shown}");
    assert!(
        shown.contains("5 written") || shown.contains("5 changed"),
        "{shown}"
    );
    assert_eq!(
        read(&s, "sys/fs/cgroup/toolkit-fence-4242/cgroup.procs"),
        "4242\n"
    );
    let applied = snapshot(s.path());
    let (status, shown) = on_a_terminal(&s, &["mem", "fence", "4242", "--undo"], "n");
    assert_eq!(status, 1, "{shown}");
    assert!(shown.contains("Lift the fence of pid 4242?"), "{shown}");
    assert!(shown.contains("(declined)"), "{shown}");
    assert_same(&applied, &snapshot(s.path()), "undo declined");
    let (status, shown) = on_a_terminal(&s, &["mem", "fence", "4242", "--undo"], "y");
    assert_eq!(status, 0, "{shown}");
    assert_same(&before, &snapshot(s.path()), "undo");
}
