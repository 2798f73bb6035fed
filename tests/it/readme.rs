//! The output samples of README.md, run against the real program, so the README cannot drift.
//!
//! The convention (also stated in README.md, "Development"):
//! - A sample is a fenced block opened by a bare ```` ``` ```` (no language) whose first line starts
//!   with `$ `. Blocks with a language (```` ```sh ````) are instructions, not samples.
//! - Each `$ ` line is a command, run by `bash` from the repository root with the freshly built
//!   `toolkit` first on `PATH`, stderr merged into stdout (in the order written). A line ending in
//!   `\` continues on the next. `$d` is a fake root built for the block by
//!   `fixtures/build-fakeroot.sh --runaway` (the one the README starts with); the commands of a block
//!   run in order on the same `$d`, so fixing commands change what the next one sees.
//! - The lines after a command, up to the next `$ ` line or the end of the block, are its expected
//!   output. A line that is exactly `...` is a cut: any lines (none included) may stand there.
//!   Everything else must match exactly, line by line, with the fake root's path shown as `$d`.
//! - HTML comments on the lines just before the fence set up the block, unseen in the rendered page:
//!   `<!-- readme-test: fakeroot -->` builds `$d` without `--runaway`; `<!-- readme-test: run: CMD -->`
//!   runs CMD (bash, `$d` set) before the first command, to plant what the text describes;
//!   `<!-- readme-test: skip: WHY -->` leaves the block unchecked (live processes, daemons), WHY
//!   saying what checks it instead.
//!
//! `UPDATE_README=1 cargo test --test it readme` rewrites every expected output from the program,
//! keeping the cuts: each piece between cuts keeps its number of lines and is found again by its first
//! line (exactly, else the output line sharing the longest prefix with it); the first piece stays at
//! the start and the last at the end unless a cut stands there. Review the diff.

use crate::common::{manifest_dir, Template};
use std::path::Path;
use std::process::Command;

const CUT: &str = "...";

#[derive(Debug, Default)]
struct Setup {
    runaway: bool,
    run: Vec<String>,
    skip: Option<String>,
}

#[derive(Debug)]
struct Sample {
    /// The command as written, without `$ ` (continuation lines joined with a newline).
    command: String,
    /// Line numbers (0-based) in README.md of the expected output.
    first: usize,
    end: usize,
}

#[derive(Debug)]
struct Block {
    line: usize,
    setup: Setup,
    samples: Vec<Sample>,
}

fn parse(lines: &[&str]) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let fence = lines[i].trim_end();
        if !fence.starts_with("```") {
            i += 1;
            continue;
        }
        let close = (i + 1..lines.len())
            .find(|&j| lines[j].trim_end() == "```")
            .unwrap_or_else(|| panic!("README.md:{}: fence never closed", i + 1));
        let bare = fence == "```";
        if bare && lines.get(i + 1).is_some_and(|l| l.starts_with("$ ")) {
            blocks.push(Block {
                line: i + 1,
                setup: setup_before(lines, i),
                samples: samples(lines, i + 1, close),
            });
        }
        i = close + 1;
    }
    blocks
}

fn setup_before(lines: &[&str], fence: usize) -> Setup {
    let mut setup = Setup {
        runaway: true,
        ..Setup::default()
    };
    let mut j = fence;
    let mut found = Vec::new();
    while j > 0 {
        let l = lines[j - 1].trim();
        let Some(body) = l
            .strip_prefix("<!-- readme-test:")
            .and_then(|b| b.strip_suffix("-->"))
        else {
            break;
        };
        found.push(body.trim().to_string());
        j -= 1;
    }
    found.reverse();
    for m in found {
        if m == "fakeroot" {
            setup.runaway = false;
        } else if let Some(cmd) = m.strip_prefix("run:") {
            setup.run.push(cmd.trim().to_string());
        } else if let Some(why) = m.strip_prefix("skip:") {
            setup.skip = Some(why.trim().to_string());
        } else {
            panic!("README.md:{fence}: unknown readme-test marker {m:?}");
        }
    }
    setup
}

fn samples(lines: &[&str], from: usize, close: usize) -> Vec<Sample> {
    let mut out: Vec<Sample> = Vec::new();
    let mut i = from;
    while i < close {
        let l = lines[i];
        if let Some(cmd) = l.strip_prefix("$ ") {
            let mut command = cmd.to_string();
            while command.ends_with('\\') && i + 1 < close {
                i += 1;
                command.push('\n');
                command.push_str(lines[i]);
            }
            out.push(Sample {
                command,
                first: i + 1,
                end: i + 1,
            });
        } else if let Some(s) = out.last_mut() {
            s.end = i + 1;
        }
        i += 1;
    }
    out
}

/// Fake roots built once per run (the runaway one takes half a minute) and copied for each block.
#[derive(Default)]
struct Masters {
    runaway: Option<tempfile::TempDir>,
    plain: Option<tempfile::TempDir>,
}

impl Masters {
    fn fake_root(&mut self, runaway: bool) -> tempfile::TempDir {
        let slot = if runaway {
            &mut self.runaway
        } else {
            &mut self.plain
        };
        let master = slot.get_or_insert_with(|| build(runaway));
        let dir = new_dir();
        let out = Command::new("cp")
            .arg("-a")
            .arg(master.path().join("."))
            .arg(dir.path())
            .output()
            .expect("run cp");
        assert!(
            out.status.success(),
            "cp -a failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    }
}

fn new_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("readme-")
        .tempdir()
        .expect("tempdir");
    // Readable by the unprivileged user of the `setpriv` sample, as `mktemp -d` under /tmp would not
    // be either: the sample shows what that user cannot open inside the sites.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    dir
}

fn build(runaway: bool) -> tempfile::TempDir {
    let dir = new_dir();
    let template = if runaway {
        Template::Runaway
    } else {
        Template::FakeRoot
    };
    template.copy_to(dir.path());
    dir
}

fn shell(script: &str, d: &Path) -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_toolkit")).parent().unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin.to_path_buf()];
    paths.extend(std::env::split_paths(&path));
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("exec 2>&1\n{script}"))
        .current_dir(manifest_dir())
        .env("PATH", std::env::join_paths(paths).unwrap())
        .env("d", d)
        .env_remove("TOOLKIT_ROOT")
        .env_remove("NO_COLOR")
        .env("TERM", "dumb")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run bash");
    let text = String::from_utf8_lossy(&out.stdout).replace(d.to_str().unwrap(), "$d");
    text.strip_suffix('\n').unwrap_or(&text).to_string()
}

/// Whether `actual` is `expected` with any lines standing where `expected` has a `...` line.
fn matches(expected: &[&str], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((&CUT, rest)) => (0..=actual.len()).any(|k| matches(rest, &actual[k..])),
        Some((line, rest)) => actual
            .split_first()
            .is_some_and(|(a, more)| a == line && matches(rest, more)),
    }
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

/// The expected output rewritten from `actual`, keeping the cuts of `expected` (see the module doc).
fn bless(expected: &[&str], actual: &[&str]) -> Result<Vec<String>, String> {
    if !expected.contains(&CUT) {
        return Ok(actual.iter().map(|s| s.to_string()).collect());
    }
    let pieces: Vec<&[&str]> = expected.split(|l| *l == CUT).collect();
    let last = pieces.len() - 1;
    let mut out = Vec::new();
    let mut cursor = 0;
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            out.push(CUT.to_string());
        }
        if piece.is_empty() {
            continue;
        }
        let start = if i == 0 {
            0
        } else if i == last {
            actual.len().saturating_sub(piece.len()).max(cursor)
        } else {
            let rest = &actual[cursor.min(actual.len())..];
            let at = rest.iter().position(|a| *a == piece[0]).or_else(|| {
                rest.iter()
                    .enumerate()
                    .map(|(k, a)| (common_prefix(a, piece[0]), k))
                    .filter(|(n, _)| *n >= 8)
                    .max_by_key(|(n, k)| (*n, std::cmp::Reverse(*k)))
                    .map(|(_, k)| k)
            });
            match at {
                Some(k) => cursor + k,
                None => {
                    return Err(format!(
                        "cannot find again the piece starting {:?}",
                        piece[0]
                    ))
                }
            }
        };
        let end = (start + piece.len()).min(actual.len());
        out.extend(actual[start..end].iter().map(|s| s.to_string()));
        cursor = end;
    }
    Ok(out)
}

#[test]
fn readme_samples_match_the_program() {
    let readme_path = manifest_dir().join("README.md");
    let text = std::fs::read_to_string(&readme_path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let blocks = parse(&lines);
    assert!(
        blocks.iter().filter(|b| b.setup.skip.is_none()).count() >= 10,
        "README.md: too few checked samples found: {blocks:#?}"
    );
    let update = std::env::var_os("UPDATE_README").is_some();
    let mut replaced: Vec<(usize, usize, Vec<String>)> = Vec::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut masters = Masters::default();
    for block in &blocks {
        if block.setup.skip.is_some() {
            continue;
        }
        let uses_root = block.setup.run.iter().any(|c| c.contains("$d"))
            || block.samples.iter().any(|s| s.command.contains("$d"));
        let root = if uses_root {
            masters.fake_root(block.setup.runaway)
        } else {
            new_dir()
        };
        for cmd in &block.setup.run {
            shell(cmd, root.path());
        }
        for s in &block.samples {
            checked += 1;
            let actual = shell(&s.command, root.path());
            let actual: Vec<&str> = if actual.is_empty() {
                Vec::new()
            } else {
                actual.split('\n').collect()
            };
            let expected = &lines[s.first..s.end];
            if matches(expected, &actual) {
                continue;
            }
            if update {
                match bless(expected, &actual) {
                    Ok(new) => replaced.push((s.first, s.end, new)),
                    Err(e) => failures.push(format!(
                        "README.md:{}: $ {}: {e}: edit it by hand",
                        s.first, s.command
                    )),
                }
            } else {
                failures.push(format!(
                    "README.md:{} (block at line {}): $ {}\n{}",
                    s.first,
                    block.line,
                    s.command,
                    crate::common::diff(&expected.join("\n"), &actual.join("\n"))
                ));
            }
        }
    }
    if update && !replaced.is_empty() {
        let mut out: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        for (first, end, new) in replaced.into_iter().rev() {
            out.splice(first..end, new);
        }
        let mut new_text = out.join("\n");
        new_text.push('\n');
        std::fs::write(&readme_path, new_text).unwrap();
    }
    assert!(checked >= 15, "only {checked} README commands checked");
    assert!(
        failures.is_empty(),
        "{} README sample(s) differ from the program (UPDATE_README=1 cargo test --test it readme \
         rewrites them; review the diff):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn cuts_match_any_lines_and_nothing_else() {
    let a = ["one", "two", "three", "four"];
    assert!(matches(&["one", "two", "three", "four"], &a));
    assert!(matches(&["one", CUT, "four"], &a));
    assert!(matches(&[CUT, "three", "four"], &a));
    assert!(matches(&["one", CUT], &a));
    assert!(matches(&["one", "two", CUT, "three", "four"], &a));
    assert!(!matches(&["one", "two"], &a), "no cut: the rest must match");
    assert!(!matches(&["one", CUT, "two", "one"], &a), "order counts");
    assert!(!matches(&["one", "tw", CUT], &a), "lines match whole");
    assert!(!matches(&[], &a));
}

#[test]
fn bless_keeps_the_cuts() {
    let actual = ["head 2", "a", "b", "mark x", "c 2", "d", "tail 2"];
    let expected = ["head", CUT, "mark x", "c", CUT, "tail"];
    let new = bless(&expected, &actual).unwrap();
    assert_eq!(new, ["head 2", CUT, "mark x", "c 2", CUT, "tail 2"]);
    assert!(matches(
        &new.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        &actual
    ));
}
