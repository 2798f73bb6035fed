//! How each step of a fence stands before anything is changed: already done, or what it would
//! change and the step that would put it back (the inverse recorded for `--undo`). An existing
//! limit is kept unless sizes were asked for: a second run on a process that grew since does not
//! move its limits.

use super::backend::Cgroupfs;
use super::render::{Done, Outcome};
use super::Step;

/// How one step stands before anything is changed.
pub struct Inspect {
    pub needed: bool,
    pub note: String,
    /// The step that puts back what this one changes (none when nothing was there before).
    pub inverse: Option<Step>,
}

impl Inspect {
    /// The step as shown before it runs (controller mounted at `mount`): already done, or what
    /// it would change.
    pub fn done(&self, mount: &str, s: &Step) -> Done {
        Done {
            command: s.command(mount),
            outcome: if self.needed {
                Outcome::WouldChange
            } else {
                Outcome::Ok
            },
            note: self.note.clone(),
        }
    }
}

/// A limit file's value that means "no limit" (v2 `max`, v1 the page-rounded i64 maximum).
fn unlimited(v: &str) -> bool {
    v == "max" || v == "infinity" || v == "-1" || v.parse::<u64>().is_ok_and(|n| n >= 1 << 62)
}

fn same(cur: &str, want: &str) -> bool {
    cur == want || (unlimited(cur) && unlimited(want))
}

/// `max` as systemd spells it in a property.
fn property(prev: &str) -> String {
    if unlimited(prev) {
        "infinity".into()
    } else {
        prev.to_string()
    }
}

pub fn inspect(fs: &Cgroupfs, s: &Step, explicit: bool) -> Inspect {
    let ok = |note: &str| Inspect {
        needed: false,
        note: note.into(),
        inverse: None,
    };
    match s {
        Step::Mkdir { dir } => {
            if fs.is_dir(dir) {
                ok("exists")
            } else {
                Inspect {
                    needed: true,
                    note: String::new(),
                    inverse: Some(Step::Rmdir { dir: dir.clone() }),
                }
            }
        }
        Step::Rmdir { dir } => Inspect {
            needed: fs.is_dir(dir),
            note: String::new(),
            inverse: None,
        },
        Step::Write { file, value } if file.ends_with("cgroup.subtree_control") => {
            let word = value.trim_start_matches('+');
            let cur = fs.read(file).unwrap_or_default();
            if cur.split_whitespace().any(|w| w == word) {
                ok("enabled")
            } else {
                Inspect {
                    needed: true,
                    note: String::new(),
                    inverse: Some(Step::Write {
                        file: file.clone(),
                        value: format!("-{word}"),
                    }),
                }
            }
        }
        Step::Write { file, value } => match fs.read(file) {
            Some(cur) if same(&cur, value) => ok(""),
            Some(cur) if !explicit && !unlimited(&cur) => ok(&format!(
                "already limited to {cur} (--high/--max change it)"
            )),
            prev => Inspect {
                needed: true,
                note: String::new(),
                inverse: prev.map(|p| Step::Write {
                    file: file.clone(),
                    value: p,
                }),
            },
        },
        Step::Move {
            pid,
            from,
            to,
            file,
        } => {
            let listed = fs
                .read(&super::join(to, file.name()))
                .is_some_and(|t| t.lines().any(|l| l.trim() == pid.to_string()));
            if listed {
                ok("already there")
            } else {
                Inspect {
                    needed: true,
                    note: String::new(),
                    inverse: Some(Step::Move {
                        pid: *pid,
                        from: to.clone(),
                        to: from.clone(),
                        file: *file,
                    }),
                }
            }
        }
        Step::Run { argv, sets } => run(fs, argv, sets, explicit),
    }
}

/// A `systemctl set-property` (the cgroup files it sets are read back) or a `prlimit`.
fn run(fs: &Cgroupfs, argv: &[String], sets: &[(String, String)], explicit: bool) -> Inspect {
    let ok = |note: &str| Inspect {
        needed: false,
        note: note.into(),
        inverse: None,
    };
    if sets.is_empty() {
        // prlimit: nothing to read back; it is applied every time (it is idempotent).
        let mut inverse_argv = argv.to_vec();
        if let Some(last) = inverse_argv.last_mut() {
            *last = "--as=unlimited".into();
        }
        return Inspect {
            needed: true,
            note: String::new(),
            inverse: Some(Step::Run {
                argv: inverse_argv,
                sets: Vec::new(),
            }),
        };
    }
    let cur: Vec<Option<String>> = sets.iter().map(|(f, _)| fs.read(f)).collect();
    let all_same = sets
        .iter()
        .zip(&cur)
        .all(|((_, want), c)| c.as_deref().is_some_and(|c| same(c, want)));
    if all_same {
        return ok("");
    }
    if !explicit
        && cur
            .iter()
            .all(|c| c.as_deref().is_some_and(|c| !unlimited(c)))
    {
        let shown: Vec<String> = cur.iter().flatten().cloned().collect();
        return ok(&format!(
            "already limited to {} (--high/--max change it)",
            shown.join(" / ")
        ));
    }
    // The same command with the values there were before (`max` is `infinity`).
    let keep = argv
        .iter()
        .take_while(|a| !a.contains('='))
        .cloned()
        .collect::<Vec<_>>();
    let mut inverse_argv = keep;
    let mut inverse_sets = Vec::new();
    for (((file, _), prev), arg) in sets
        .iter()
        .zip(&cur)
        .zip(argv.iter().filter(|a| a.contains('=')))
    {
        let prev = prev.clone().unwrap_or_else(|| "max".into());
        let key = arg.split('=').next().unwrap_or_default();
        inverse_argv.push(format!("{key}={}", property(&prev)));
        inverse_sets.push((file.clone(), prev));
    }
    Inspect {
        needed: true,
        note: String::new(),
        inverse: Some(Step::Run {
            argv: inverse_argv,
            sets: inverse_sets,
        }),
    }
}
