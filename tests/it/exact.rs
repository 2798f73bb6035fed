//! `Test`: one run of the binary against a copy of a fixture, asserting its exact stdout, stderr and
//! exit status, in the style of just's `Test` builder. Nothing set means nothing expected: stdout and
//! stderr empty, status 0.
//!
//! ```ignore
//! Test::new().fixture("fakeroot").args(["zombies"]).stdout_file("zombies-fakeroot.txt").status(1).run();
//! ```
//!
//! `UPDATE_EXPECTED=1 cargo test --test it` rewrites every `tests/it/expected/*` file a test names from
//! what the program printed (the status and inline texts are still asserted); review the diff before
//! committing it.
//!
//! What is normalised, and why: only the path of the temporary root, which the reports show (queue
//! directories, cgroup paths), is replaced by `ROOT`. The root sits at a path of fixed length
//! (`/tmp/toolkit-exact.XXXXXX`, whatever `TMPDIR` says) because the text is wrapped at 80 columns
//! and a longer path would move the breaks. Nothing else is: the fixtures carry their own clock (a
//! fake root's "now" is its `proc/stat` boot time plus `proc/uptime`, a spool without `proc/` takes
//! its newest queue file, mem history its samples' times), so ages and dates are the same whenever
//! the test runs; the Postfix queue ids, which are inode numbers, are made stable where the spool is
//! built (`common::Template::Postfix`).

use crate::common::{diff, manifest_dir, run_cmd, Output, Template};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The bless variable: set, the expected files are rewritten instead of compared.
pub const BLESS: &str = "UPDATE_EXPECTED";

enum Expected {
    Text(String),
    File(String),
}

enum Fixture {
    None,
    Template(Template),
    Dir(String),
}

#[must_use = "a Test does nothing until .run()"]
pub struct Test {
    fixture: Fixture,
    args: Vec<String>,
    stdout: Expected,
    stderr: Expected,
    status: i32,
}

impl Test {
    pub fn new() -> Test {
        Test {
            fixture: Fixture::None,
            args: Vec::new(),
            stdout: Expected::Text(String::new()),
            stderr: Expected::Text(String::new()),
            status: 0,
        }
    }

    /// The root the binary runs on (`--root`), a fresh copy for this test: `fakeroot` and `runaway`
    /// are `fixtures/build-fakeroot.sh [--runaway]`'s fake host (owners, setgid bits, sparse files);
    /// `exim` and `postfix` the spools of `fixtures/mta/gen-runaway.py` (see `Template`); any other
    /// NAME is `fixtures/NAME` as git holds it (`mem/leak`, `mem-history/flat`, `mem/fence/v1`...).
    pub fn fixture(mut self, name: &str) -> Test {
        self.fixture = match name {
            "fakeroot" => Fixture::Template(Template::FakeRoot),
            "runaway" => Fixture::Template(Template::Runaway),
            "exim" => Fixture::Template(Template::Exim),
            "postfix" => Fixture::Template(Template::Postfix),
            dir => {
                assert!(
                    manifest_dir().join("fixtures").join(dir).is_dir(),
                    "no fixtures/{dir}"
                );
                Fixture::Dir(dir.to_string())
            }
        };
        self
    }

    pub fn args<S: AsRef<str>>(mut self, args: impl IntoIterator<Item = S>) -> Test {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_string()));
        self
    }

    /// Exactly this on stdout.
    pub fn stdout(mut self, text: &str) -> Test {
        self.stdout = Expected::Text(text.to_string());
        self
    }

    /// Exactly the content of `tests/it/expected/NAME` on stdout.
    pub fn stdout_file(mut self, name: &str) -> Test {
        self.stdout = Expected::File(name.to_string());
        self
    }

    /// Exactly this on stderr.
    pub fn stderr(mut self, text: &str) -> Test {
        self.stderr = Expected::Text(text.to_string());
        self
    }

    pub fn status(mut self, status: i32) -> Test {
        self.status = status;
        self
    }

    /// Runs `toolkit [--root COPY] ARGS...` without a terminal and asserts all three; returns the
    /// output (normalised) for further checks.
    #[track_caller]
    pub fn run(self) -> Output {
        let dir = tempfile::Builder::new()
            .prefix("toolkit-exact.")
            .tempdir_in("/tmp")
            .expect("tempdir in /tmp");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_toolkit"));
        match &self.fixture {
            Fixture::None => {}
            Fixture::Template(t) => t.copy_to(dir.path()),
            Fixture::Dir(name) => {
                crate::common::cp_a(&manifest_dir().join("fixtures").join(name), dir.path())
            }
        }
        if !matches!(self.fixture, Fixture::None) {
            cmd.arg("--root").arg(dir.path());
        }
        let raw = run_cmd(cmd.args(&self.args));
        let root = dir.path().to_str().expect("a UTF-8 temp path");
        let out = Output {
            status: raw.status,
            stdout: raw.stdout.replace(root, "ROOT"),
            stderr: raw.stderr.replace(root, "ROOT"),
        };
        let what = format!("toolkit {}", self.args.join(" "));
        let mut failures = Vec::new();
        if out.status != self.status {
            failures.push(format!(
                "exit status {} (expected {})",
                out.status, self.status
            ));
        }
        for (stream, expected, actual) in [
            ("stdout", &self.stdout, &out.stdout),
            ("stderr", &self.stderr, &out.stderr),
        ] {
            if let Some(f) = compare(stream, expected, actual) {
                failures.push(f);
            }
        }
        assert!(
            failures.is_empty(),
            "{what}: {}\n--- stdout\n{}\n--- stderr\n{}",
            failures.join("\n"),
            out.stdout,
            out.stderr
        );
        out
    }
}

impl Default for Test {
    fn default() -> Test {
        Test::new()
    }
}

/// The expected files' directory.
pub fn expected_dir() -> PathBuf {
    manifest_dir().join("tests/it/expected")
}

fn blessing() -> bool {
    std::env::var_os(BLESS).is_some_and(|v| !v.is_empty())
}

/// `None` when `actual` is as expected (or was blessed into its file), else what differs.
fn compare(stream: &str, expected: &Expected, actual: &str) -> Option<String> {
    let (want, file) = match expected {
        Expected::Text(t) => (t.clone(), None),
        Expected::File(name) => {
            let path = expected_dir().join(name);
            if blessing() {
                write_if_changed(&path, actual);
                return None;
            }
            let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!(
                    "{}: {e} (create it with {BLESS}=1 cargo test --test it)",
                    path.display()
                )
            });
            (want, Some(name.as_str()))
        }
    };
    if want == actual {
        return None;
    }
    let mut shown = diff(&want, actual);
    if !shown
        .lines()
        .any(|l| l.starts_with("- ") || l.starts_with("+ "))
    {
        shown.push_str("(the lines are the same: the difference is in the line endings)\n");
    }
    let source = file.map_or(String::new(), |f| {
        format!(" from tests/it/expected/{f} ({BLESS}=1 cargo test --test it rewrites it)")
    });
    Some(format!("{stream} differs{source}\n{shown}"))
}

fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return;
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}
