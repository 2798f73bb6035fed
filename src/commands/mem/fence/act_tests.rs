//! The decisions of `mem fence` and `--undo` with plain values: when to ask, what is recorded for
//! the undo, the order steps run in and what a failure stops, what is left for a vanished process.

use super::act::{
    apply_in_order, asked_sizes, gate, only_shown, planned, refuse_init, same_process, Gate,
};
use super::inspect::Inspect;
use super::record::Record;
use super::render::Outcome;
use super::undo::{for_the_same_process_only, replay};
use super::*;
use crate::cli::MemFenceArgs;
use crate::error::Error;
use crate::ui::Approval;
use crate::units::Size;

const MOUNT: &str = "/sys/fs/cgroup";

/// The steps of a bare v2 fence: each needed, with its inverse, but `memory.high`, already right.
fn inspected() -> Vec<(Step, Inspect)> {
    let needed = |inverse: Step| Inspect {
        needed: true,
        note: String::new(),
        inverse: Some(inverse),
    };
    vec![
        (
            Step::Mkdir {
                dir: "toolkit-fence-7".into(),
            },
            needed(Step::Rmdir {
                dir: "toolkit-fence-7".into(),
            }),
        ),
        (
            Step::Write {
                file: "toolkit-fence-7/memory.high".into(),
                value: "4096".into(),
            },
            Inspect {
                needed: false,
                note: String::new(),
                inverse: None,
            },
        ),
        (
            Step::Write {
                file: "toolkit-fence-7/memory.max".into(),
                value: "8192".into(),
            },
            // A file that did not exist before: nothing to put back.
            Inspect {
                needed: true,
                note: String::new(),
                inverse: None,
            },
        ),
        (
            Step::Move {
                pid: 7,
                from: "site".into(),
                to: "toolkit-fence-7".into(),
                file: ProcsFile::CgroupProcs,
            },
            needed(Step::Move {
                pid: 7,
                from: "toolkit-fence-7".into(),
                to: "site".into(),
                file: ProcsFile::CgroupProcs,
            }),
        ),
    ]
}

fn outcomes(d: &[render::Done]) -> Vec<Outcome> {
    d.iter().map(|d| d.outcome).collect()
}

#[test]
fn the_plan_is_shown_asked_or_applied() {
    use Approval::*;
    assert_eq!(gate(true, DryRun), Gate::Show);
    assert_eq!(gate(true, Ask), Gate::Ask);
    assert_eq!(gate(true, Granted), Gate::Apply);
    // Nothing to change: nothing is asked, even on a terminal.
    for a in [DryRun, Ask, Granted] {
        assert_eq!(gate(false, a), Gate::Show, "{a:?}");
    }
}

#[test]
fn a_pid_is_the_same_process_only_with_the_start_time_planned_for() {
    assert!(same_process(25000000, Some(25000000)));
    assert!(!same_process(25000000, Some(26000000)), "pid reused");
    assert!(!same_process(25000000, None), "gone");
}

#[test]
fn only_a_prlimit_under_a_fake_root_is_shown_without_being_applied() {
    assert!(only_shown(false, Method::Prlimit));
    assert!(!only_shown(true, Method::Prlimit));
    for m in [
        Method::SystemdUnit,
        Method::SystemdScope,
        Method::CgroupV2,
        Method::CgroupV1,
    ] {
        assert!(!only_shown(false, m), "{m}");
    }
}

#[test]
fn sizes_asked_for_and_init() {
    let args = |high: Option<u64>, max: Option<u64>| MemFenceArgs {
        pid: 7,
        high: high.map(Size),
        max: max.map(Size),
        undo: false,
    };
    let s = asked_sizes(&args(Some(1 << 30), Some(2 << 30))).unwrap();
    assert_eq!((s.high, s.max), (Some(1 << 30), Some(2 << 30)));
    assert_eq!(asked_sizes(&args(None, None)).unwrap(), Sizes::default());
    // Equal is allowed; only a soft limit above the hard one is refused.
    assert!(asked_sizes(&args(Some(5), Some(5))).is_ok());
    let e = asked_sizes(&args(Some(2 << 30), Some(1 << 30))).unwrap_err();
    assert!(
        matches!(&e, Error::Usage(m) if m.contains("--high 2147483648 is above --max 1073741824")),
        "{e:?}"
    );
    assert!(matches!(refuse_init(1), Err(Error::Usage(m)) if m.starts_with("pid 1 is init")));
    assert!(refuse_init(2).is_ok());
}

#[test]
fn the_record_holds_the_inverses_of_the_changing_steps_last_first() {
    let target = Target {
        pid: 7,
        start: 99,
        comm: "leaky".into(),
        rss: 1 << 30,
        swap: 0,
        vsize: 2 << 30,
        cmdline: Vec::new(),
        cgroup: Some("/site".into()),
        usage: None,
    };
    let host = Host {
        systemd: false,
        memory: Ok(Controller {
            version: Version::V2,
            mount: MOUNT.into(),
            swap_accounting: false,
            procs_file: ProcsFile::CgroupProcs,
            subtree_memory: true,
        }),
    };
    let fence = plan(&target, 16 << 30, &host, Sizes::default());
    let r = Record::of(&target, &fence, &inspected(), 1767484800);
    assert_eq!((r.pid, r.start, r.at), (7, 99, 1767484800));
    assert_eq!((r.method, r.version), (Method::CgroupV2, Some(Version::V2)));
    assert_eq!(r.mount, MOUNT);
    // The move back first, the cgroup removed last; the step already right and the new file
    // have nothing to put back.
    let cmds: Vec<String> = r.undo.iter().map(|s| s.command(&r.mount)).collect();
    assert_eq!(
        cmds,
        [
            "echo 7 > /sys/fs/cgroup/site/cgroup.procs",
            "rmdir /sys/fs/cgroup/toolkit-fence-7",
        ]
    );
}

#[test]
fn steps_run_in_order_and_none_after_a_failure() {
    let inspected = inspected();
    let mut ran = Vec::new();
    let done = apply_in_order(MOUNT, &inspected, |s| {
        ran.push(s.command(MOUNT));
        if ran.len() == 2 {
            Err("memory.max: Device or resource busy".into())
        } else {
            Ok(Outcome::Changed)
        }
    });
    // The step already right is not run; the move after the failed limit is not tried.
    assert_eq!(
        ran,
        [
            "mkdir /sys/fs/cgroup/toolkit-fence-7",
            "echo 8192 > /sys/fs/cgroup/toolkit-fence-7/memory.max",
        ]
    );
    assert_eq!(
        outcomes(&done),
        [
            Outcome::Changed,
            Outcome::Ok,
            Outcome::Failed,
            Outcome::Refused
        ]
    );
    assert_eq!(done[2].note, "memory.max: Device or resource busy");
    assert_eq!(done[3].note, "not tried: an earlier step failed");
    assert_eq!(
        done[3].command,
        "echo 7 > /sys/fs/cgroup/toolkit-fence-7/cgroup.procs"
    );
    // Nothing failing: every needed step runs, with the outcome the backend gives.
    let done = apply_in_order(MOUNT, &inspected, |_| Ok(Outcome::Simulated));
    assert_eq!(
        outcomes(&done),
        [
            Outcome::Simulated,
            Outcome::Ok,
            Outcome::Simulated,
            Outcome::Simulated
        ]
    );
    // As shown before anything runs.
    assert_eq!(
        outcomes(&planned(MOUNT, &inspected)),
        [
            Outcome::WouldChange,
            Outcome::Ok,
            Outcome::WouldChange,
            Outcome::WouldChange
        ]
    );
}

fn record(method: Method, undo: Vec<Step>) -> Record {
    Record {
        pid: 7,
        start: 99,
        comm: "leaky".into(),
        method,
        mount: MOUNT.into(),
        version: Some(Version::V2),
        at: 1,
        undo,
    }
}

fn needed(yes: bool, note: &str) -> Inspect {
    Inspect {
        needed: yes,
        note: note.into(),
        inverse: None,
    }
}

#[test]
fn only_moves_and_prlimits_wait_for_the_same_process() {
    let mv = Step::Move {
        pid: 7,
        from: "a".into(),
        to: "b".into(),
        file: ProcsFile::Tasks,
    };
    let rm = Step::Rmdir { dir: "a".into() };
    let run = Step::Run {
        argv: vec!["prlimit".into()],
        sets: Vec::new(),
    };
    assert!(for_the_same_process_only(&mv, Method::CgroupV1));
    assert!(!for_the_same_process_only(&rm, Method::CgroupV1));
    assert!(for_the_same_process_only(&run, Method::Prlimit));
    assert!(!for_the_same_process_only(&run, Method::SystemdUnit));
}

#[test]
fn undo_of_a_gone_process_moves_nothing_back_and_goes_on_after_a_failure() {
    let r = record(
        Method::CgroupV2,
        vec![
            Step::Move {
                pid: 7,
                from: "toolkit-fence-7".into(),
                to: "site".into(),
                file: ProcsFile::CgroupProcs,
            },
            Step::Write {
                file: "toolkit-fence-7/memory.max".into(),
                value: "max".into(),
            },
            Step::Write {
                file: "cgroup.subtree_control".into(),
                value: "-memory".into(),
            },
            Step::Rmdir {
                dir: "toolkit-fence-7".into(),
            },
        ],
    );
    let mut ran = Vec::new();
    let (done, clean) = replay(
        &r,
        false,
        |s| match s {
            // Already as it was before the fence.
            Step::Write { file, .. } if file.ends_with("memory.max") => needed(false, "max"),
            _ => needed(true, ""),
        },
        |s| {
            ran.push(s.command(MOUNT));
            match s {
                Step::Write { .. } => Err("busy".to_string()),
                _ => Ok(Outcome::Changed),
            }
        },
    );
    assert_eq!(
        ran,
        [
            "echo -memory > /sys/fs/cgroup/cgroup.subtree_control",
            "rmdir /sys/fs/cgroup/toolkit-fence-7",
        ]
    );
    assert_eq!(
        outcomes(&done),
        [Outcome::Ok, Outcome::Ok, Outcome::Failed, Outcome::Changed]
    );
    assert!(done[0].note.contains("gone"), "{:?}", done[0]);
    assert_eq!(done[1].note, "max");
    assert!(!clean, "a failed step keeps the record for another --undo");
    // The same process, nothing failing: the record is done with.
    let (done, clean) = replay(&r, true, |_| needed(true, ""), |_| Ok(Outcome::Changed));
    assert!(clean);
    assert_eq!(outcomes(&done), [Outcome::Changed; 4]);
    // A prlimit of a pid now reused: nothing run, and nothing left to replay.
    let r = record(
        Method::Prlimit,
        vec![Step::Run {
            argv: vec!["prlimit".into(), "--as=unlimited".into()],
            sets: Vec::new(),
        }],
    );
    let (done, clean) = replay(
        &r,
        false,
        |_| needed(true, ""),
        |_| panic!("a reused pid's rlimit is not raised"),
    );
    assert_eq!(outcomes(&done), [Outcome::Ok]);
    assert!(clean);
}
