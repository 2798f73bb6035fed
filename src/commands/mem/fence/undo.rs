//! `toolkit mem fence PID --undo`: the records of the fences applied to PID replayed, newest
//! first. Each inverse step is checked against what is there now before it runs (already as it
//! was before the fence: left alone), a pid is moved back (or its rlimit raised) only while it is
//! still the process that was fenced, every file's content is journaled before it is replaced,
//! and a record replayed without a failure is renamed `.undone`.

use super::act::{gate, same_process, start_now, Gate};
use super::backend::Cgroupfs;
use super::inspect::{inspect, Inspect};
use super::record::{begin_journal, Record, Records};
use super::render::{Done, FenceReport, Outcome};
use super::{Method, Step};
use crate::commands::output;
use crate::context::Context;
use crate::error::Result;
use crate::status::Status;
use crate::ui::Approval;

pub fn undo(ctx: &Context, pid: i32) -> Result<Status> {
    let root = &ctx.root;
    let records = Records::open(root)?;
    let mine = records.of_pid(pid)?;
    let approval = Approval::decide(ctx)?;
    let mut report = FenceReport::undo(ctx, pid);
    if mine.is_empty() {
        report.note = format!("no fence of pid {pid} recorded (nothing to undo)");
        return output(ctx, &report.finish());
    }
    let plan = planned(mine.iter().map(|(_, r)| r));
    // A record is replayed even when it holds no step: it is then only marked undone.
    match gate(true, approval) {
        Gate::Show => {
            report.steps = plan;
            return output(ctx, &report.finish());
        }
        Gate::Ask => {
            report.print_plan(&ctx.style, &plan);
            if !approval.confirm(&format!("Lift the fence of pid {pid}?"))? {
                report.declined = true;
                report.steps = plan;
                return output(ctx, &report.finish());
            }
        }
        Gate::Apply => {}
    }
    let now = root.now_unix().unwrap_or(0);
    let mut journal = begin_journal(root, &format!("pid-{pid}-undo"), now)?;
    for (name, r) in &mine {
        let fs = Cgroupfs::for_record(root, r.version, &r.mount);
        let alive = same_process(r.start, start_now(root, r.pid));
        let (steps, clean) = replay(
            r,
            alive,
            |s| inspect(&fs, s, true),
            |s| fs.apply(s, &mut journal),
        );
        report.steps.extend(steps);
        if clean {
            records.mark_undone(name)?;
        }
    }
    output(ctx, &report.finish())
}

/// Every inverse step of the records, in the order they would run.
pub(super) fn planned<'a>(records: impl Iterator<Item = &'a Record>) -> Vec<Done> {
    records
        .flat_map(|r| {
            r.undo.iter().map(move |s| Done {
                command: s.command(&r.mount),
                outcome: Outcome::WouldChange,
                note: String::new(),
            })
        })
        .collect()
}

/// Moving a pid back, or raising its rlimit, is for the process that was fenced only: under a
/// reused pid it would act on another program.
pub(super) fn for_the_same_process_only(s: &Step, method: Method) -> bool {
    matches!(s, Step::Move { .. }) || method == Method::Prlimit
}

/// One record's steps in order: each checked as it stands now by `check` (nothing needed: left as
/// it is), then run by `apply`. A failure does not stop the others (each puts back something of
/// its own); it only keeps the record for another `--undo`. Returns the steps and whether the
/// record is fully replayed.
pub(super) fn replay(
    r: &Record,
    alive: bool,
    check: impl Fn(&Step) -> Inspect,
    mut apply: impl FnMut(&Step) -> std::result::Result<Outcome, String>,
) -> (Vec<Done>, bool) {
    let mut clean = true;
    let mut steps = Vec::with_capacity(r.undo.len());
    for s in &r.undo {
        let mut d = Done {
            command: s.command(&r.mount),
            outcome: Outcome::Ok,
            note: String::new(),
        };
        if for_the_same_process_only(s, r.method) && !alive {
            d.note = "the process is gone (or its pid reused): nothing to move back".into();
            steps.push(d);
            continue;
        }
        let i = check(s);
        if !i.needed {
            d.note = i.note;
            steps.push(d);
            continue;
        }
        match apply(s) {
            Ok(o) => d.outcome = o,
            Err(e) => {
                d.outcome = Outcome::Failed;
                d.note = e;
                clean = false;
            }
        }
        steps.push(d);
    }
    (steps, clean)
}
