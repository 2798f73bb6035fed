//! Global behaviour: help, usage errors (exit 3, one line naming the bad value), --root handling.

use crate::common::{toolkit, Scenario};

#[test]
fn help_shows_examples_and_exits_zero() {
    let out = toolkit(&["--help"]);
    out.status(0).stdout_has("Examples:").stdout_has("--root");
    for sub in ["zombies", "check"] {
        toolkit(&[sub, "--help"]).status(0).stdout_has("Examples:");
    }
}

#[test]
fn usage_errors_are_one_line_and_exit_3() {
    for (args, needle) in [
        (&["zombies", "--min-age", "5x"][..], "'5x'"),
        (&["zombies", "-w", "20:10"][..], "'20:10'"),
        (&["zombies", "--parent", "abc"][..], "abc"),
        (&["--format", "xml", "check"][..], "xml"),
        (&["frobnicate"][..], "frobnicate"),
        (&["mqueue", "purge", "--site", "x"][..], "--min <SIZE>"),
        (
            &["mqueue", "fix", "--site", "x", "--mode", "99"][..],
            "'99'",
        ),
        (&[][..], "command"),
    ] {
        let out = toolkit(args);
        out.status(3).stderr_has("toolkit: ").stderr_has(needle);
        assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn missing_root_names_the_path() {
    let out = toolkit(&["--root", "/nonexistent/fake-root", "zombies"]);
    out.status(3).stderr_has("/nonexistent/fake-root");
    assert_eq!(out.stderr.lines().count(), 1);
}

#[test]
fn root_without_proc_is_unknown_naming_the_file() {
    let s = Scenario::empty();
    s.write("etc/passwd", "root:x:0:0::/root:/bin/sh\n");
    let out = s.run(&["zombies"]);
    out.status(3).stderr_has("proc/stat");
}

#[test]
fn root_from_environment() {
    let s = Scenario::empty();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_toolkit"));
    let out = cmd
        .arg("zombies")
        .env("TOOLKIT_ROOT", s.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    // An empty directory as root: proc/stat is missing under it, and the message names it.
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}/proc/stat",
            s.path().canonicalize().unwrap().display()
        )),
        "{stderr}"
    );
}
