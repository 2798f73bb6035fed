//! The committed man pages (`man/`) and shell completions (`completions/`) must match what the clap
//! definitions generate. `UPDATE_MAN=1 cargo test --test it man` rewrites them.

use crate::common::{diff, manifest_dir};
use clap::CommandFactory;
use std::path::Path;

fn pages() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let cmd = toolkit::cli::Cli::command();
    collect(&cmd, "toolkit", &mut out);
    out
}

fn collect(cmd: &clap::Command, name: &str, out: &mut Vec<(String, Vec<u8>)>) {
    let mut buf = Vec::new();
    let page = cmd.clone().name(name.to_string());
    clap_mangen::Man::new(page)
        .render(&mut buf)
        .expect("render man page");
    out.push((format!("{name}.1"), buf));
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        collect(sub, &format!("{name}-{}", sub.get_name()), out);
    }
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
    let cmd = toolkit::cli::Cli::command();
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let help = sub.clone().render_long_help().to_string();
        assert!(
            help.contains("Examples:"),
            "{} --help has no example",
            sub.get_name()
        );
        assert!(manifest_dir()
            .join("man")
            .join(format!("toolkit-{}.1", sub.get_name()))
            .is_file());
    }
}
