//! The committed man pages (`man/`) and shell completions (`completions/`) must match what the clap
//! definitions generate (pages by `manpage.rs`). `UPDATE_MAN=1 cargo test --test it man` rewrites
//! them. Every page passes `mandoc -Tlint` and keeps every JSON field name whole when rendered.

use crate::common::{diff, manifest_dir, peer};
use clap::CommandFactory;
use std::path::Path;

fn pages() -> Vec<(String, Vec<u8>)> {
    crate::manpage::pages(&toolkit::cli::Cli::command())
        .into_iter()
        .map(|(name, roff)| (name, roff.into_bytes()))
        .collect()
}

fn completions() -> Vec<(String, Vec<u8>)> {
    use clap_complete::{generate, Shell};
    [
        (Shell::Bash, "toolkit.bash"),
        (Shell::Zsh, "_toolkit"),
        (Shell::Fish, "toolkit.fish"),
    ]
    .into_iter()
    .map(|(shell, file)| {
        let mut buf = Vec::new();
        generate(
            shell,
            &mut toolkit::cli::Cli::command(),
            "toolkit",
            &mut buf,
        );
        (file.to_string(), buf)
    })
    .collect()
}

fn check_dir(dir: &Path, files: Vec<(String, Vec<u8>)>) {
    let update = std::env::var_os("UPDATE_MAN").is_some();
    let mut stale = Vec::new();
    for (name, content) in files {
        let path = dir.join(&name);
        if update {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(&path, &content).unwrap();
            continue;
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        if committed != content {
            stale.push(format!(
                "{}\n{}",
                path.display(),
                diff(
                    &String::from_utf8_lossy(&committed),
                    &String::from_utf8_lossy(&content)
                )
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files (run UPDATE_MAN=1 cargo test --test it man):\n{}",
        stale.join("\n")
    );
}

#[test]
fn man_pages_are_current() {
    check_dir(&manifest_dir().join("man"), pages());
}

#[test]
fn completions_are_current() {
    check_dir(&manifest_dir().join("completions"), completions());
}

#[test]
fn every_subcommand_has_a_page_and_an_example() {
    // Every level: `mqueue scan` and `mem fence` as well as `mqueue` and `mem`.
    let cmd = toolkit::cli::Cli::command();
    let mut stack: Vec<(String, clap::Command)> = cmd
        .get_subcommands()
        .map(|s| (format!("toolkit-{}", s.get_name()), s.clone()))
        .collect();
    let mut seen = Vec::new();
    while let Some((name, sub)) = stack.pop() {
        if sub.get_name() == "help" {
            continue;
        }
        let help = sub.clone().render_long_help().to_string();
        assert!(help.contains("Examples:"), "{name} --help has no example");
        assert!(
            manifest_dir()
                .join("man")
                .join(format!("{name}.1"))
                .is_file(),
            "no man/{name}.1"
        );
        for s in sub.get_subcommands() {
            stack.push((format!("{name}-{}", s.get_name()), s.clone()));
        }
        seen.push(name);
    }
    seen.sort();
    assert!(
        seen.iter().any(|n| n == "toolkit-mqueue-scan") && seen.len() >= 10,
        "{seen:?}"
    );
}

#[test]
fn man_pages_pass_mandoc_lint() {
    let mandoc = peer("mandoc");
    for (name, _) in pages() {
        let path = manifest_dir().join("man").join(&name);
        let out = std::process::Command::new(&mandoc)
            .args(["-Tlint", "-W", "style"])
            .arg(&path)
            .output()
            .expect("run mandoc");
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success() && said.trim().is_empty(),
            "mandoc -Tlint {name}:\n{said}"
        );
    }
}

/// The two formatters a page is read with: mandoc, and groff as `man -l` runs it (groff is the one
/// that hyphenated `zom- bie_count`).
#[derive(Clone, Copy, Debug)]
enum Formatter {
    Mandoc,
    Groff,
}

fn formatter(f: Formatter) -> std::process::Command {
    match f {
        Formatter::Mandoc => {
            let mut cmd = std::process::Command::new(peer("mandoc"));
            cmd.args(["-Tutf8", "-O", "width=80"]);
            cmd
        }
        Formatter::Groff => {
            let groff = peer("groff");
            let mut cmd = std::process::Command::new(&groff);
            // groff unpacked into target/peers looks for its macros and fonts where it was built
            // to live: point it at the unpacked ones, and at its own troff and grotty.
            let bin = groff.parent().unwrap().to_path_buf();
            let share = bin.parent().unwrap().join("share/groff");
            if share.join("current/tmac").is_dir() {
                let path = std::env::var("PATH").unwrap_or_default();
                cmd.env("PATH", format!("{}:{path}", bin.display()))
                    .env("GROFF_FONT_PATH", share.join("current/font"))
                    .env(
                        "GROFF_TMAC_PATH",
                        format!(
                            "{}:{}",
                            share.join("current/tmac").display(),
                            share.join("site-tmac").display()
                        ),
                    );
            }
            cmd.args(["-man", "-Tutf8", "-rLL=80n", "-P-c"]);
            cmd
        }
    }
}

/// The page as a person reads it, overstrike (bold, underline) removed.
fn rendered_by(f: Formatter, name: &str) -> String {
    let out = formatter(f)
        .arg(manifest_dir().join("man").join(name))
        .env("LC_ALL", "C.UTF-8")
        .output()
        .unwrap_or_else(|e| panic!("run {f:?}: {e}"));
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{f:?} {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut clean = String::new();
    for c in text.chars() {
        if c == '\u{8}' {
            clean.pop();
        } else {
            clean.push(c);
        }
    }
    clean
}

fn rendered(name: &str) -> String {
    rendered_by(Formatter::Mandoc, name)
}

/// Names with an underscore (`zombie_count`, `oldest_age`): the stable JSON field names.
fn field_names(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.contains('_') && !w.starts_with('_') && !w.ends_with('_'))
        .filter(|w| {
            w.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
        .map(str::to_string)
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn rendered_pages_keep_every_json_field_name_whole_and_examples_in_columns() {
    let cmd = toolkit::cli::Cli::command();
    let mut checked = 0;
    let mut check = |name: &str, sub: &clap::Command| {
        let source = format!(
            "{}\n{}",
            sub.get_long_about()
                .map(|s| s.to_string())
                .unwrap_or_default(),
            sub.get_after_long_help()
                .or(sub.get_after_help())
                .map(|s| s.to_string())
                .unwrap_or_default()
        );
        for f in [Formatter::Mandoc, Formatter::Groff] {
            let page = rendered_by(f, name);
            let shown = field_names(&page);
            for field in field_names(&source) {
                assert!(
                    shown.contains(&field),
                    "{name} ({f:?}): the field name {field} is not whole:\n{page}"
                );
                checked += 1;
            }
            // Example lines keep their columns: command and comment on one line, as written.
            for l in source.lines().filter(|l| l.starts_with("  toolkit ")) {
                let words: Vec<&str> = l.split_whitespace().collect();
                assert!(
                    page.lines()
                        .any(|p| p.split_whitespace().eq(words.iter().copied())),
                    "{name} ({f:?}): the example line {l:?} is not shown whole:\n{page}"
                );
            }
            assert!(page.contains("GLOBAL OPTIONS"), "{name}: no global options");
        }
    };
    check("toolkit.1", &cmd);
    let mut stack: Vec<(String, clap::Command)> = cmd
        .get_subcommands()
        .map(|s| (format!("toolkit-{}", s.get_name()), s.clone()))
        .collect();
    while let Some((name, sub)) = stack.pop() {
        check(&format!("{name}.1"), &sub);
        for s in sub.get_subcommands() {
            stack.push((format!("{name}-{}", s.get_name()), s.clone()));
        }
    }
    assert!(checked > 150, "only {checked} field names checked");
}

#[test]
fn synopsis_names_the_command_and_its_value_names() {
    let page = rendered("toolkit-zombies.1");
    let synopsis: String = page
        .split("SYNOPSIS")
        .nth(1)
        .and_then(|s| s.split("DESCRIPTION").next())
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        synopsis
            .starts_with("toolkit zombies [GLOBAL OPTIONS] [--min-age DURATION] [--parent PID]"),
        "{synopsis}"
    );
    assert!(!page.contains("toolkit-zombies ["), "{page}");
    let page = rendered("toolkit-mqueue-purge.1");
    assert!(page.contains("--site SITE"), "{page}");
    assert!(
        page.contains("--root DIR"),
        "global options with value names:\n{page}"
    );
}
