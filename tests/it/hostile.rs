//! Terminal injection: one hostile string (ESC sequences, CR, LF, NUL, BEL, U+202E, invalid UTF-8,
//! `|`) planted in every source of external text in a fake root; every command in text and Nagios
//! format prints no raw control byte on stdout or stderr, JSON keeps the exact value, and the prompts
//! (run on a pty) are clean too.
//!
//! Sources: a process comm (proc/PID/stat, status Name) and cmdline, a unit name in proc/PID/cgroup,
//! a container id, a queue file name (so the queue id), a qf Subject, sender, recipient and delivery
//! status, a site domain (domainmap and siteinfo), a hostname and a comm in a mem history file.

use crate::common::{promtool_check, Scenario};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// The whole hostile string, for sources that can hold any byte (a comm, a cmdline argument).
const H: &[u8] = b"\x1b]0;OWNED\x07\x1b[41m\rX\nY\0Z\xe2\x80\xae|\xff";
/// For line-oriented files (qf, cgroup, domainmap, siteinfo): no newline.
const H_LINE: &[u8] = b"\x1b]0;OWNED\x07\x1b[41m\rXY\0Z\xe2\x80\xae|\xff";
/// For a file name: no NUL, no `/`.
const H_NAME: &[u8] = b"\x1b]0;OWNED\x07\x1b[41m\rX\nYZ\xe2\x80\xae|\xff";
/// In a JSON history file (valid UTF-8 only, so the invalid byte cannot be there).
const H_JSON: &str = "\u{1b}]0;OWNED\u{7}\u{1b}[41m\rX\nY\u{0}Z\u{202e}|";

/// How the data model holds a planted value: invalid bytes become the text `\xNN` at read time.
fn decoded(b: &[u8]) -> String {
    let mut out = String::new();
    for chunk in b.utf8_chunks() {
        out.push_str(chunk.valid());
        for x in chunk.invalid() {
            out.push_str(&format!("\\x{x:02x}"));
        }
    }
    out
}

fn replace(path: &Path, from: &[u8], to: &[u8]) {
    let old = std::fs::read(path).unwrap();
    let at = old
        .windows(from.len())
        .position(|w| w == from)
        .unwrap_or_else(|| panic!("{} lacks {:?}", path.display(), from));
    let mut new = old[..at].to_vec();
    new.extend_from_slice(to);
    new.extend_from_slice(&old[at + from.len()..]);
    std::fs::write(path, new).unwrap();
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// The built fake host with the hostile string in every source it reads.
fn hostile_fakeroot() -> Scenario {
    use std::os::unix::ffi::OsStrExt;
    let s = Scenario::built_fakeroot();
    // A non-reaping parent: its name, command line and unit.
    replace(&s.join("proc/612/stat"), b"(crond)", &cat(&[b"(", H, b")"]));
    replace(
        &s.join("proc/612/status"),
        b"Name:\tcrond",
        &cat(&[b"Name:\t", H_LINE]),
    );
    std::fs::write(
        s.join("proc/612/cmdline"),
        cat(&[H_LINE, b"\0-n\0", H, b"\0"]),
    )
    .unwrap();
    std::fs::write(
        s.join("proc/612/cgroup"),
        cat(&[b"0::/system.slice/", H_LINE, b".service\n"]),
    )
    .unwrap();
    // A container's PID 1 (its own diagnosis names it): a hostile name and container id.
    replace(&s.join("proc/4010/stat"), b"(node)", &cat(&[b"(", H, b")"]));
    std::fs::write(
        s.join("proc/4010/cgroup"),
        cat(&[b"0::/system.slice/docker-", H_LINE, b".scope\n"]),
    )
    .unwrap();
    // A site's domain, in the domain map and in its siteinfo.
    // (site1, whose queue is not bound yet, so that `fix` has something to ask about)
    let dom = cat(&[H_LINE, b".example.org"]);
    replace(
        &s.join("etc/virtualhosting/mappings/domainmap"),
        b"example.com = site1",
        &cat(&[&dom, b" = site1"]),
    );
    replace(
        &s.join("home/virtual/site1/info/current/siteinfo"),
        b"domain = example.com",
        &cat(&[b"domain = ", &dom]),
    );
    // A queued message whose file name, Subject, sender, recipient and status are hostile.
    let q = s.join("home/virtual/site2/fst/var/spool/mqueue");
    let mut qf = std::fs::read(q.join("qf6AM2aaPv006212")).unwrap();
    for (from, to) in [
        (
            &b"Subject: Your order 1042"[..],
            cat(&[b"Subject: ", H_LINE]),
        ),
        (
            b"Sorders@shop.example.org",
            cat(&[b"S", H_LINE, b"@shop.example.org"]),
        ),
        (
            b"RPFD:client@partner.example.net",
            cat(&[b"RPFD:", H_LINE, b"@partner.example.net"]),
        ),
        (b"MDeferred: 452", cat(&[b"M", H_LINE, b" 452"])),
    ] {
        let at = qf.windows(from.len()).position(|w| w == from).unwrap();
        qf.splice(at..at + from.len(), to);
    }
    let id = cat(&[b"6AM2", H_NAME]);
    let name = |p: &[u8]| q.join(std::ffi::OsStr::from_bytes(&cat(&[p, &id])));
    std::fs::write(name(b"qf"), &qf).unwrap();
    std::fs::copy(q.join("df6AM2aaPv006212"), name(b"df")).unwrap();
    s
}

/// The memory-history scenario with a hostile process name, command line, unit and hostname.
fn hostile_history() -> Scenario {
    let s = Scenario::fixture("mem-history/leak");
    replace(
        &s.join("proc/29272/stat"),
        b"(chrome)",
        &cat(&[b"(", H, b")"]),
    );
    std::fs::write(
        s.join("proc/29272/cmdline"),
        cat(&[H_LINE, b"\0--type=renderer\0"]),
    )
    .unwrap();
    std::fs::write(
        s.join("proc/29272/cgroup"),
        cat(&[b"0::/system.slice/", H_LINE, b".service\n"]),
    )
    .unwrap();
    let h = s.join("var/lib/toolkit/mem-history.jsonl");
    let quoted = serde_json::to_string(H_JSON).unwrap();
    let text = std::fs::read_to_string(&h)
        .unwrap()
        .replace("\"hostname\":\"web1\"", &format!("\"hostname\":{quoted}"))
        .replace("\"comm\":\"lekker\"", &format!("\"comm\":{quoted}"));
    std::fs::write(&h, text).unwrap();
    s
}

struct Raw {
    status: i32,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Runs the toolkit without a terminal, keeping the raw bytes (the harness's runner decodes lossily).
fn run(s: &Scenario, args: &[&str]) -> Raw {
    let out = Command::new(env!("CARGO_BIN_EXE_toolkit"))
        .arg("--root")
        .arg(s.path())
        .args(args)
        .env_remove("TOOLKIT_ROOT")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run toolkit");
    Raw {
        status: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: out.stderr,
    }
}

fn is_bidi(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// No byte a terminal would act on: valid UTF-8, no C0 but newline, no DEL, no C1, no bidi override,
/// and the planted newline did not split a line.
#[track_caller]
fn assert_clean(what: &str, bytes: &[u8]) {
    let text = std::str::from_utf8(bytes).unwrap_or_else(|e| {
        panic!(
            "{what}: not valid UTF-8 ({e}):\n{}",
            String::from_utf8_lossy(bytes)
        )
    });
    for (i, c) in text.char_indices() {
        let bad = (c < ' ' && c != '\n') || ('\u{7f}'..='\u{9f}').contains(&c) || is_bidi(c);
        assert!(!bad, "{what}: raw {c:?} at byte {i}:\n{text}");
    }
    assert!(
        !text.contains("X\nY"),
        "{what}: the planted newline broke a line:\n{text}"
    );
}

/// True when some string in the document equals `want` or has it inside.
fn json_has(v: &Value, want: &str) -> bool {
    match v {
        Value::String(s) => s.contains(want),
        Value::Array(a) => a.iter().any(|x| json_has(x, want)),
        Value::Object(o) => o.values().any(|x| json_has(x, want)),
        _ => false,
    }
}

/// Runs one command in text, nagios, prometheus and json: text and nagios clean, prometheus valid
/// for promtool, json valid with every `exact` value in it. Returns the text output for further checks.
fn check_formats(s: &Scenario, args: &[&str], exact: &[String]) -> String {
    let mut text = String::new();
    for format in ["text", "nagios"] {
        let mut a = args.to_vec();
        a.extend(["--format", format]);
        let out = run(s, &a);
        let what = format!("{} ({format})", args.join(" "));
        assert!(
            out.status >= 0 && out.status <= 3,
            "{what}: status {}",
            out.status
        );
        assert_clean(&format!("{what} stdout"), &out.stdout);
        assert_clean(&format!("{what} stderr"), &out.stderr);
        if format == "nagios" {
            let first = String::from_utf8(out.stdout.clone()).unwrap();
            let first = first.lines().next().unwrap_or("").to_string();
            assert!(
                first.matches('|').count() <= 1,
                "{what}: a planted '|' starts fake perfdata: {first}"
            );
        } else {
            text = String::from_utf8(out.stdout).unwrap();
        }
    }
    // Prometheus keeps the values too (escaped as its format says) and stays valid.
    let mut a = args.to_vec();
    a.extend(["--format", "prometheus"]);
    let out = run(s, &a);
    promtool_check(&String::from_utf8(out.stdout).expect("prometheus output is UTF-8"));
    let mut a = args.to_vec();
    a.push("--json");
    let out = run(s, &a);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: JSON ({e}): {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout)
        )
    });
    for want in exact {
        assert!(
            json_has(&doc, want),
            "{}: JSON lacks the exact {want:?}:\n{doc:#}",
            args.join(" ")
        );
    }
    text
}

#[test]
fn hostile_strings_in_process_and_queue_sources_never_reach_the_terminal_raw() {
    let s = hostile_fakeroot();
    let comm = decoded(H);
    let text = check_formats(&s, &["zombies", "--all"], &[comm.clone(), decoded(H_LINE)]);
    // A diagnosis used to print the parent's name raw ("a bug in ^[]0;OWNED^G"); the container's
    // PID 1 diagnosis still names it, escaped.
    let escaped = "\\x1b]0;OWNED\\x07\\x1b[41m\\rX\\nY\\x00Z\\u{202e}|\\xff";
    assert!(
        text.contains(&format!("'{escaped}', not a known init")),
        "{text}"
    );
    // The non-reaping parent (612) is named, escaped, in the headline (wrapped before
    // the name) and in its own block.
    assert!(text.contains(&format!("{escaped} 612 (12)")), "{text}");
    assert!(text.contains(&format!("{escaped}  pid 612 ")), "{text}");
    let subject = decoded(H_LINE);
    let text = check_formats(
        &s,
        &["mqueue", "scan", "--min", "1"],
        &[subject.clone(), decoded(H_NAME)],
    );
    assert!(
        text.contains("OWNED"),
        "scan shows the planted message:\n{text}"
    );
    // The command it suggests for the site with the hostile domain names it by siteN: copyable.
    assert!(
        text.contains("fix: toolkit mqueue fix --site site1\n"),
        "{text}"
    );
    let text = check_formats(
        &s,
        &[
            "mqueue",
            "purge",
            "--site",
            "site2",
            "--min",
            "1",
            "--dry-run",
        ],
        &[decoded(&cat(&[b"6AM2", H_NAME]))],
    );
    assert!(
        text.contains("OWNED"),
        "purge lists the planted queue id:\n{text}"
    );
    let text = check_formats(&s, &["mqueue", "fix", "--site", "site1", "--dry-run"], &[]);
    // (domains are compared and shown in lower case)
    assert!(
        text.contains("owned"),
        "fix names the site by its domain:\n{text}"
    );
    check_formats(&s, &["check"], &[]);
    // A raw run with colour on keeps only the toolkit's own colour sequences.
    let out = run(&s, &["--color", "always", "zombies"]);
    let shown = String::from_utf8(out.stdout).unwrap();
    assert!(
        !shown.contains("\x1b]") && !shown.contains("\x1b[41m") && !shown.contains('\r'),
        "{shown}"
    );
}

#[test]
fn hostile_strings_in_memory_sources_never_reach_the_terminal_raw() {
    let s = hostile_history();
    let text = check_formats(
        &s,
        &["mem", "verdict", "--interval", "0"],
        &[decoded(H), H_JSON.to_string()],
    );
    assert!(
        text.contains("OWNED"),
        "verdict shows the planted process:\n{text}"
    );
    let text = check_formats(&s, &["mem", "report"], &[H_JSON.to_string()]);
    assert!(
        text.contains("OWNED"),
        "report shows the planted hostname:\n{text}"
    );
}

/// Runs the toolkit on a pty (python3's pty module), answers "n" to every question, returns all bytes.
fn on_pty(s: &Scenario, args: &[&str]) -> Vec<u8> {
    let script = r#"
import os, pty, sys, select, time
pid, fd = pty.fork()
if pid == 0:
    os.environ.pop("TOOLKIT_ROOT", None)
    os.environ["NO_COLOR"] = "1"
    os.environ["TERM"] = "dumb"
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
deadline = time.time() + 60
answered = 0
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.5)
    if r:
        try:
            b = os.read(fd, 65536)
        except OSError:
            break
        if not b:
            break
        out += b
        if b"?" in b and answered < 8:
            os.write(fd, b"n")
            answered += 1
os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_toolkit"))
        .arg("--root")
        .arg(s.path())
        .args(args)
        .output()
        .expect("python3 for the pty");
    assert!(
        out.status.success(),
        "pty runner: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn prompts_on_a_terminal_escape_hostile_strings() {
    let s = hostile_fakeroot();
    for args in [
        &["mqueue", "purge", "--site", "site2", "--min", "1"][..],
        &["mqueue", "fix", "--site", "site1"],
        &["zombies", "--reap", "--restart"],
    ] {
        let bytes = on_pty(&s, args);
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains('?'),
            "{}: no question asked:\n{text}",
            args.join(" ")
        );
        assert!(
            text.to_lowercase().contains("owned"),
            "{}: the hostile name is not shown:\n{text}",
            args.join(" ")
        );
        // The pty turns "\n" into "\r\n" and dialoguer redraws its line with ESC[K-style sequences of
        // its own: what must not appear is what was planted.
        for planted in [
            "\x1b]0;OWNED",
            "\x1b[41m",
            "\u{202e}",
            "\x07",
            "X\r\nY",
            "\rX",
        ] {
            assert!(
                !text.contains(planted),
                "{}: raw {planted:?} on the terminal:\n{text:?}",
                args.join(" ")
            );
        }
        assert!(
            std::str::from_utf8(&bytes).is_ok(),
            "{}: invalid UTF-8 on the terminal",
            args.join(" ")
        );
        assert!(
            !bytes.contains(&0),
            "{}: raw NUL on the terminal",
            args.join(" ")
        );
    }
}
