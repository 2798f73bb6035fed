//! Reading and writing cgroup files: on the live root, cgroupfs files written in place (they
//! cannot be replaced by a rename) and programs run; under a fake root, plain files written through
//! the safe operations with the kernel's semantics, and no program run.

use super::render::Outcome;
use super::{Controller, Step, Version};
use crate::root::Root;
use crate::safeops::journal::{Change, Journal};
use crate::safeops::Dir;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The interface files the kernel gives a new memory cgroup, with their initial values, as a fake
/// root makes them.
fn interface(version: Version, swap: bool) -> Vec<(&'static str, &'static str)> {
    const V1_MAX: &str = "9223372036854771712";
    match version {
        Version::V2 => vec![
            ("cgroup.procs", ""),
            ("memory.current", "0"),
            ("memory.high", "max"),
            ("memory.max", "max"),
        ],
        Version::V1 => {
            let mut v = vec![
                ("cgroup.procs", ""),
                ("tasks", ""),
                ("memory.usage_in_bytes", "0"),
                ("memory.limit_in_bytes", V1_MAX),
                ("memory.soft_limit_in_bytes", V1_MAX),
            ];
            if swap {
                v.push(("memory.memsw.limit_in_bytes", V1_MAX));
            }
            v
        }
    }
}

pub struct Cgroupfs {
    live: bool,
    /// The controller's mount point under the root.
    base: Option<PathBuf>,
    version: Version,
    swap: bool,
}

fn split(rel: &str) -> (&str, &str) {
    rel.rsplit_once('/').unwrap_or(("", rel))
}

impl Cgroupfs {
    pub fn new(root: &Root, c: Option<&Controller>) -> Cgroupfs {
        Cgroupfs {
            live: root.is_live(),
            base: c.map(|c| root.join(&c.mount)),
            version: c.map_or(Version::V2, |c| c.version),
            swap: c.is_some_and(|c| c.swap_accounting),
        }
    }

    /// The controller an undo record names (`None`: there was none, as for `prlimit`). Undo makes
    /// no cgroup, so which interface files a new one would get (swap accounting) does not matter.
    pub fn for_record(root: &Root, version: Option<Version>, mount: &str) -> Cgroupfs {
        Cgroupfs {
            live: root.is_live(),
            base: version.map(|_| root.join(mount)),
            version: version.unwrap_or(Version::V2),
            swap: false,
        }
    }

    fn path(&self, rel: &str) -> Option<PathBuf> {
        // Paths come from the process's cgroup file: only plain names below the mount point.
        if rel.split('/').any(|c| c == ".." || c == ".") {
            return None;
        }
        self.base.as_ref().map(|b| {
            if rel.is_empty() {
                b.clone()
            } else {
                b.join(rel)
            }
        })
    }

    pub fn is_dir(&self, rel: &str) -> bool {
        self.path(rel)
            .and_then(|p| std::fs::symlink_metadata(p).ok())
            .is_some_and(|m| m.is_dir())
    }

    /// A cgroup file's content, trimmed; `None` when it cannot be read.
    pub fn read(&self, rel: &str) -> Option<String> {
        let (dir, name) = self.parent(rel).ok()?;
        dir.read(OsStr::new(name))
            .ok()
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
    }

    /// The directory holding `rel`, opened without following symlinks below the mount point.
    fn parent<'a>(&self, rel: &'a str) -> Result<(Dir, &'a str), String> {
        let base = self.base.as_ref().ok_or("no memory controller")?;
        let top = Dir::open_trusted(base).map_err(|e| e.to_string())?;
        let (dir, name) = split(rel);
        let d = if dir.is_empty() {
            top
        } else {
            top.subdir(Path::new(dir)).map_err(|e| e.to_string())?
        };
        Ok((d, name))
    }

    /// Journals a file's content before it changes (nothing when it does not exist yet).
    fn journal(&self, j: &mut Journal, rel: &str) -> Result<(), String> {
        let (dir, name) = self.parent(rel)?;
        let name = OsStr::new(name);
        let Some(e) = dir.entry(name).map_err(|e| e.to_string())? else {
            return Ok(());
        };
        let old = dir.read(name).map_err(|e| e.to_string())?;
        j.record(rel, e.meta, Change::Content, Some(&old))
            .map_err(|e| format!("journal: {e}"))
    }

    pub fn apply(&self, step: &Step, j: &mut Journal) -> Result<Outcome, String> {
        match step {
            Step::Mkdir { dir } => self.mkdir(dir).map(|_| Outcome::Changed),
            Step::Rmdir { dir } => self.rmdir(dir).map(|_| Outcome::Changed),
            Step::Write { file, value } => {
                self.journal(j, file)?;
                self.write(file, value).map(|_| Outcome::Changed)
            }
            Step::Move {
                pid,
                from,
                to,
                file,
            } => {
                let (from, to) = (super::join(from, file.name()), super::join(to, file.name()));
                self.journal(j, &to)?;
                if self.live {
                    return self.write(&to, &pid.to_string()).map(|_| Outcome::Changed);
                }
                self.journal(j, &from)?;
                self.fake_pids(&to, *pid, true)?;
                self.fake_pids(&from, *pid, false)?;
                Ok(Outcome::Changed)
            }
            Step::Run { argv, sets } => {
                for (file, _) in sets {
                    self.journal(j, file)?;
                }
                if self.live {
                    return run(argv).map(|_| Outcome::Changed);
                }
                if sets.is_empty() {
                    return Ok(Outcome::NotRun);
                }
                for (file, value) in sets {
                    self.write(file, value)?;
                }
                Ok(Outcome::Simulated)
            }
        }
    }

    fn write(&self, rel: &str, value: &str) -> Result<(), String> {
        if self.live {
            // Below the mount point, every directory is opened without following links.
            let (dir, name) = self.parent(rel)?;
            return dir
                .write_in_place(OsStr::new(name), value.as_bytes())
                .map_err(|e| e.to_string());
        }
        let content = if rel.ends_with("cgroup.subtree_control") {
            // `+memory` adds the word, `-memory` removes it, as the kernel does.
            let cur = self.read(rel).unwrap_or_default();
            let mut words: Vec<&str> = cur.split_whitespace().collect();
            let (sign, word) = value.split_at(1.min(value.len()));
            words.retain(|w| *w != word);
            if sign == "+" {
                words.push(word);
            }
            words.join(" ")
        } else {
            value.to_string()
        };
        self.fake_put(rel, &content)
    }

    /// A fake root's `cgroup.procs`: one pid a line, in numeric order, as the kernel lists them.
    fn fake_pids(&self, rel: &str, pid: i32, add: bool) -> Result<(), String> {
        let Some(cur) = self.read(rel) else {
            return if add {
                self.fake_put(rel, &pid.to_string())
            } else {
                Ok(())
            };
        };
        let mut pids: Vec<i64> = cur.lines().filter_map(|l| l.trim().parse().ok()).collect();
        pids.retain(|p| *p != pid as i64);
        if add {
            pids.push(pid as i64);
        }
        pids.sort_unstable();
        let text: Vec<String> = pids.iter().map(|p| p.to_string()).collect();
        self.fake_put(rel, &text.join("\n"))
    }

    fn fake_put(&self, rel: &str, content: &str) -> Result<(), String> {
        let (dir, name) = self.parent(rel)?;
        let name = OsStr::new(name);
        let mut bytes = content.as_bytes().to_vec();
        if !bytes.is_empty() {
            bytes.push(b'\n');
        }
        let exists = dir.entry(name).map_err(|e| e.to_string())?.is_some();
        if exists {
            dir.replace(name, &bytes)
        } else {
            dir.create_exclusive(name, &bytes, 0, 0, 0o644)
        }
        .map_err(|e| e.to_string())
    }

    fn mkdir(&self, rel: &str) -> Result<(), String> {
        if self.live {
            let path = self.path(rel).ok_or("no memory controller")?;
            return std::fs::create_dir(&path).map_err(|e| format!("{}: {e}", path.display()));
        }
        let (parent, name) = self.parent(rel)?;
        let dir = parent
            .ensure_dir(OsStr::new(name), 0o755)
            .map_err(|e| e.to_string())?;
        for (file, value) in interface(self.version, self.swap) {
            if dir
                .entry(OsStr::new(file))
                .map_err(|e| e.to_string())?
                .is_none()
            {
                let mut b = value.as_bytes().to_vec();
                if !b.is_empty() {
                    b.push(b'\n');
                }
                dir.create_exclusive(OsStr::new(file), &b, 0, 0, 0o644)
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    fn rmdir(&self, rel: &str) -> Result<(), String> {
        let path = self.path(rel).ok_or("no memory controller")?;
        if !self.live {
            // Only the interface files a new cgroup has; anything else makes the removal fail.
            for (file, _) in interface(self.version, true) {
                let p = path.join(file);
                if std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_file()) {
                    std::fs::remove_file(&p).map_err(|e| format!("{}: {e}", p.display()))?;
                }
            }
        }
        std::fs::remove_dir(&path).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// Runs a program on the live system; its failure (with its message) is the step's failure.
fn run(argv: &[String]) -> Result<(), String> {
    let (prog, args) = argv.split_first().ok_or("empty command")?;
    let out = std::process::Command::new(prog)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("{prog}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let msg = String::from_utf8_lossy(&out.stderr);
        Err(format!(
            "{prog} failed ({}): {}",
            out.status,
            msg.lines().next().unwrap_or("").trim()
        ))
    }
}
