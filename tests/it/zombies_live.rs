//! `toolkit zombies` against real processes under a child subreaper that the test starts: the tool
//! must name the subreaper as the adopter, say whether it reaps, and the zombies must then go exactly
//! as it said when the test ends their parent. Every process started here is ended by its pid.

use crate::common::toolkit;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// `parent N`: a parent whose SIGCHLD handler does nothing, with N children that exit at once (they
/// stay zombies). `late-reaper N`: a parent that installs a handler looping on waitpid only after its
/// N children are zombies (so they stay until a SIGCHLD arrives). `reaping N` / `not-reaping N`: a child subreaper (prctl PR_SET_CHILD_SUBREAPER) that
/// first starts a daemon the classic way (fork, setsid, fork, exit: the grandchild is reparented to
/// it, the trace a subreaper leaves), then such a parent; the reaping one loops on waitpid in its
/// SIGCHLD handler, the other never waits. Prints "PARENT DAEMON MIDDLE", ends them all and reaps
/// when its stdin closes.
const HELPER: &str = r#"
import ctypes, os, signal, sys, time
mode, n = sys.argv[1], int(sys.argv[2])

def zombie_parent():
    signal.signal(signal.SIGCHLD, lambda s, f: None)
    for _ in range(n):
        if os.fork() == 0:
            os._exit(0)
    print(os.getpid(), flush=True)
    while True:
        time.sleep(60)

if mode == "parent":
    zombie_parent()
if mode == "late-reaper":
    kids = [os.fork() for _ in range(n)]
    if 0 in kids:
        os._exit(0)
    while len(kids) > 0:
        state = open("/proc/%d/stat" % kids[-1]).read().rsplit(")", 1)[1].split()[0]
        if state != "Z":
            time.sleep(0.01)
            continue
        kids.pop()
    def reap(signum, frame):
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    return
            except ChildProcessError:
                return
    signal.signal(signal.SIGCHLD, reap)
    print(os.getpid(), flush=True)
    while True:
        time.sleep(60)
if ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) != 0:
    sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
if mode == "reaping":
    def reap(signum, frame):
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    return
            except ChildProcessError:
                return
    signal.signal(signal.SIGCHLD, reap)
r, w = os.pipe()
middle = os.fork()
if middle == 0:
    os.setsid()
    daemon = os.fork()
    if daemon == 0:
        os.execvp("sleep", ["sleep", "300"])
    os.write(w, b"%d\n" % daemon)
    os._exit(0)
daemon = int(os.read(r, 32))
parent = os.fork()
if parent == 0:
    sys.stdout = open(os.devnull, "w")
    zombie_parent()
print(parent, daemon, middle, flush=True)
sys.stdin.read()
for pid in (parent, daemon):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
signal.signal(signal.SIGCHLD, signal.SIG_DFL)
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
"#;

/// The helper process; dropping it closes its stdin (it then ends what it started) and waits for it.
struct Helper {
    child: Child,
    stdin: Option<ChildStdin>,
    pids: Vec<i32>,
}

impl Helper {
    fn start(mode: &str, zombies: usize) -> Helper {
        let mut child = Command::new("python3")
            .args(["-c", HELPER, mode, &zombies.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let pids = line
            .split_whitespace()
            .map(|p| p.parse().unwrap())
            .collect();
        let stdin = child.stdin.take();
        Helper { child, stdin, pids }
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if self.pids.len() == 1 {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// (pid, ppid) of every zombie, by `ps`.
fn ps_zombies() -> Vec<(i32, i32)> {
    let out = Command::new("ps")
        .args(["-eo", "pid=,ppid=,stat="])
        .output()
        .expect("ps");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 3 && f[2].starts_with('Z'))
                .then(|| (f[0].parse().unwrap(), f[1].parse().unwrap()))
        })
        .collect()
}

fn zombies_of(ppid: i32) -> Vec<i32> {
    let mut v: Vec<i32> = ps_zombies()
        .into_iter()
        .filter(|z| z.1 == ppid)
        .map(|z| z.0)
        .collect();
    v.sort();
    v
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{what}: not within 20 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn judged(parent: i32) -> Value {
    let out = toolkit(&[
        "zombies",
        "--min-age",
        "0",
        "--parent",
        &parent.to_string(),
        "--format",
        "json",
    ]);
    let r = out.json();
    assert_eq!(r["parents"].as_array().map(Vec::len), Some(1), "{r:#}");
    r["parents"][0].clone()
}

fn suggestion<'a>(p: &'a Value, kind: &str) -> &'a Value {
    p["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {p:#}"))
}

fn end(pid: i32) {
    let status = Command::new("kill")
        .arg(pid.to_string())
        .status()
        .expect("kill");
    assert!(status.success());
}

#[test]
fn live_reaping_subreaper_is_named_and_reaps_as_said() {
    let helper = Helper::start("reaping", 3);
    let (parent, daemon) = (helper.pids[0], helper.pids[1]);
    wait_for("3 zombies under the parent", || {
        zombies_of(parent).len() == 3
    });
    let zombies = zombies_of(parent);
    let p = judged(parent);
    assert_eq!(p["diagnosis"][0]["code"], "handler_not_reaping", "{p:#}");
    let a = &p["adopter"];
    assert_eq!(a["pid"], helper.pid(), "the subreaper, not PID 1: {a:#}");
    assert_eq!(a["role"], "subreaper");
    assert!(
        a["why"]
            .as_str()
            .unwrap()
            .contains(&format!("{daemon} (sleep) was reparented to it")),
        "{a:#}"
    );
    assert_eq!(a["reaps"], "likely", "it handles SIGCHLD, holds no zombie");
    let kill = suggestion(&p, "kill");
    assert_eq!(kill["clears"], "likely");
    assert!(kill["note"].as_str().unwrap().contains(&format!(
        "pass to subreaper python3 {}, which likely reaps them",
        helper.pid()
    )));

    end(parent);
    wait_for("the subreaper reaps them, as the tool said", || {
        let now = ps_zombies();
        !zombies.iter().any(|z| now.iter().any(|n| n.0 == *z))
    });
}

#[test]
fn live_non_reaping_subreaper_is_named_and_no_reaping_is_promised() {
    let helper = Helper::start("not-reaping", 3);
    let (parent, daemon, middle) = (helper.pids[0], helper.pids[1], helper.pids[2]);
    wait_for("3 zombies under the parent", || {
        zombies_of(parent).len() == 3
    });
    wait_for(
        "the daemon's first parent is a zombie of the subreaper",
        || zombies_of(helper.pid()) == vec![middle],
    );
    let zombies = zombies_of(parent);
    let p = judged(parent);
    let a = &p["adopter"];
    assert_eq!(a["pid"], helper.pid(), "{a:#}");
    assert_eq!(a["role"], "subreaper");
    assert!(a["why"]
        .as_str()
        .unwrap()
        .contains(&format!("{daemon} (sleep) was reparented")));
    assert_eq!(a["reaps"], "no", "{a:#}");
    assert!(a["evidence"]
        .as_str()
        .unwrap()
        .contains("1 zombie already waits under it"));
    let kill = suggestion(&p, "kill");
    assert_eq!(kill["clears"], "no");
    let note = kill["note"].as_str().unwrap();
    assert!(
        note.contains(&format!(
            "would only pass to subreaper python3 {}",
            helper.pid()
        )) && !note.contains("reaps the"),
        "{note}"
    );
    // --restart has nothing to run for it (no service, and killing it would not help).
    let out = toolkit(&[
        "zombies",
        "--min-age",
        "0",
        "--parent",
        &parent.to_string(),
        "--restart",
        "--yes",
    ]);
    // The parent is not ended by --restart: its zombies would only pass to a subreaper that
    // does not reap (the word alone would match any skipped step, or a vanished process).
    out.status(1)
        .stdout_has(&format!("skipped   (parent python3 {parent})"));

    end(parent);
    wait_for("the zombies pass to the subreaper", || {
        let under = zombies_of(helper.pid());
        zombies.iter().all(|z| under.contains(z))
    });
    std::thread::sleep(Duration::from_millis(500));
    let under = zombies_of(helper.pid());
    assert!(
        zombies.iter().all(|z| under.contains(z)),
        "still there, under the subreaper, as the tool said: {under:?}"
    );
}

#[test]
fn live_nudge_of_a_handler_that_does_not_reap_has_no_effect() {
    let helper = Helper::start("parent", 2);
    let parent = helper.pids[0];
    assert_eq!(parent, helper.pid());
    wait_for("2 zombies", || zombies_of(parent).len() == 2);
    let out = toolkit(&[
        "zombies",
        "--min-age",
        "0",
        "--parent",
        &parent.to_string(),
        "--reap",
        "--yes",
    ]);
    out.status(1)
        .stdout_has(&format!("kill -CHLD {parent}"))
        .stdout_has("no effect")
        .stdout_has("0 of 2 zombies cleared; 2 still under it");
    assert_eq!(zombies_of(parent).len(), 2);
}

fn state_of(pid: i32) -> String {
    let out = Command::new("ps")
        .args(["-o", "stat=", "-p", &pid.to_string()])
        .output()
        .expect("ps");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn live_reap_resumes_a_stopped_parent_then_nudges_it_rereading_between() {
    let helper = Helper::start("late-reaper", 4);
    let parent = helper.pid();
    assert_eq!(zombies_of(parent).len(), 4);
    let stop = Command::new("kill")
        .args(["-STOP", &parent.to_string()])
        .status()
        .unwrap();
    assert!(stop.success());
    wait_for("the parent is stopped", || {
        state_of(parent).starts_with('T')
    });
    let out = toolkit(&[
        "zombies",
        "--min-age",
        "0",
        "--parent",
        &parent.to_string(),
        "--reap",
        "--yes",
        "--format",
        "json",
    ]);
    out.status(0);
    let r = out.json();
    let p = &r["before"]["parents"][0];
    assert_eq!(p["diagnosis"][0]["code"], "stopped");
    let actions = r["actions"].as_array().unwrap();
    let steps: Vec<(&str, &str, i64)> = actions
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap(),
                a["outcome"].as_str().unwrap(),
                a["zombies_cleared"].as_i64().unwrap(),
            )
        })
        .collect();
    // Resuming does not make it reap (no SIGCHLD is pending); the re-read after it finds the parent
    // running with its handler, and only then is the nudge offered, which clears all four.
    assert_eq!(
        steps,
        vec![("continue", "no_effect", 0), ("nudge", "done", 4)],
        "{r:#}"
    );
    assert_eq!(actions[0]["remaining"][0]["pid"], parent);
    assert_eq!(actions[0]["remaining"][0]["zombies"], 4);
    assert_eq!(r["after"]["zombies"], 0);
    assert!(zombies_of(parent).is_empty());
}
