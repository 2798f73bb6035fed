//! `--reap` and `--restart`: nudge each non-reaping parent with SIGCHLD, then (each confirmed) restart the
//! owning service of those that still hold zombies, and report what cleared.
//!
//! Before any signal the parent's identity (pid and start time) is re-read; PID 1 is never sent anything
//! but SIGCHLD; under a fake root nothing is signalled and nothing is run.

use super::judge::{plural, Options, Parent, ZombiesReport};
use crate::context::Context;
use crate::error::Result;
use crate::readers::procs::{parse_stat, read_file};
use crate::render::sanitize::{printable, Guard};
use crate::render::{emit, Family, Format, Perf, Report, Style};
use crate::status::Status;
use crate::ui::Approval;
use serde::Serialize;
use std::io::{self, Write};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Done,
    WouldDo,
    Declined,
    Skipped,
    NoEffect,
    Failed,
}

#[derive(Debug, Clone, Serialize)]
pub struct Action {
    pub pid: i32,
    pub comm: String,
    /// `sigchld` or `restart`.
    pub action: &'static str,
    pub command: String,
    pub outcome: Outcome,
    pub detail: String,
    pub zombies_before: usize,
    pub zombies_cleared: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActReport {
    pub status: Status,
    pub dry_run: bool,
    pub fake_root: bool,
    pub before: ZombiesReport,
    pub actions: Vec<Action>,
    pub after: Option<ZombiesReport>,
}

pub fn run(ctx: &Context, opts: &Options, before: ZombiesReport, restart: bool) -> Result<Status> {
    let approval = Approval::decide(ctx)?;
    let stdout = io::stdout();
    let mut out = Guard::for_format(io::BufWriter::new(stdout.lock()), ctx.format, &ctx.style);
    let text = ctx.format == Format::Text;
    let live = ctx.root.is_live();
    if text {
        before.text(&mut out, &ctx.style)?;
        writeln!(out)?;
    }
    let mut actions = Vec::new();
    if !before.parents.is_empty() {
        let plan: Vec<String> = before
            .parents
            .iter()
            .map(|p| {
                let cmd = format!("kill -CHLD {}", p.pid);
                format!(
                    "{cmd:<16} # {} ({})",
                    p.comm,
                    plural(p.zombie_count, "zombie")
                )
            })
            .collect();
        show_plan(
            &mut out,
            text,
            &ctx.style,
            "Plan: nudge each parent with SIGCHLD",
            &plan,
        )?;
        let go = approval.confirm(&format!("Send SIGCHLD to {} parent(s)?", plan.len()))?;
        for p in &before.parents {
            actions.push(nudge(ctx, p, approval, go, live));
        }
        if go && live {
            wait_cleared(ctx, &before.parents, Duration::from_secs(2));
        }
    }
    let mut after = if live && !ctx.dry_run {
        Some(super::scan(ctx, opts)?)
    } else {
        None
    };
    for (a, p) in actions.iter_mut().zip(&before.parents) {
        if let Some(after) = &after {
            a.zombies_cleared = cleared(p, after);
            if a.outcome == Outcome::Done && a.zombies_cleared == 0 {
                a.outcome = Outcome::NoEffect;
                a.detail = "no zombie was reaped: the parent does not reap on SIGCHLD".into();
            }
        }
    }
    if restart {
        let holding: Vec<&Parent> = before
            .parents
            .iter()
            .filter(|p| {
                after
                    .as_ref()
                    .is_none_or(|a| a.parents.iter().any(|q| q.pid == p.pid))
            })
            .collect();
        if !holding.is_empty() {
            let mut ran = false;
            for p in holding {
                let action = restart_one(ctx, &mut out, text, p, approval, live)?;
                ran |= action.outcome == Outcome::Done;
                actions.push(action);
            }
            if ran {
                wait_cleared(ctx, &before.parents, Duration::from_secs(5));
                after = Some(super::scan(ctx, opts)?);
                for a in actions
                    .iter_mut()
                    .filter(|a| a.action == "restart" && a.outcome == Outcome::Done)
                {
                    if let Some(p) = before.parents.iter().find(|p| p.pid == a.pid) {
                        a.zombies_cleared = cleared(p, after.as_ref().expect("after was just set"));
                    }
                }
            }
        }
    }
    let status = fix_status(&actions);
    let report = ActReport {
        status,
        dry_run: ctx.dry_run,
        fake_root: !live,
        before,
        actions,
        after,
    };
    if text {
        report.write_results(&mut out, &ctx.style)?;
    } else {
        emit(&report, ctx.format, &ctx.style, &mut out)?;
    }
    out.flush()?;
    Ok(status)
}

fn show_plan(
    out: &mut dyn Write,
    text: bool,
    style: &Style,
    title: &str,
    lines: &[String],
) -> io::Result<()> {
    if text {
        writeln!(out, "{}", style.bold(&printable(title)))?;
        for l in lines {
            writeln!(out, "  {}", printable(l))?;
        }
        out.flush()
    } else {
        eprintln!("{}", printable(title));
        for l in lines {
            eprintln!("  {}", printable(l));
        }
        Ok(())
    }
}

fn action(
    p: &Parent,
    kind: &'static str,
    command: String,
    outcome: Outcome,
    detail: &str,
) -> Action {
    Action {
        pid: p.pid,
        comm: p.comm.clone(),
        action: kind,
        command,
        outcome,
        detail: detail.to_string(),
        zombies_before: p.zombie_count,
        zombies_cleared: 0,
    }
}

fn nudge(ctx: &Context, p: &Parent, approval: Approval, go: bool, live: bool) -> Action {
    let cmd = format!("kill -CHLD {}", p.pid);
    if approval == Approval::DryRun {
        return action(p, "sigchld", cmd, Outcome::WouldDo, "dry run: nothing sent");
    }
    if !go {
        return action(p, "sigchld", cmd, Outcome::Declined, "not confirmed");
    }
    if !live {
        return action(
            p,
            "sigchld",
            cmd,
            Outcome::WouldDo,
            "fake root: nothing is signalled",
        );
    }
    match send(ctx, p, nix::sys::signal::Signal::SIGCHLD) {
        Ok(()) => action(p, "sigchld", cmd, Outcome::Done, "sent"),
        Err((outcome, why)) => action(p, "sigchld", cmd, outcome, &why),
    }
}

/// Signals a parent after checking it is still the same process (pid and start time).
fn send(
    ctx: &Context,
    p: &Parent,
    sig: nix::sys::signal::Signal,
) -> std::result::Result<(), (Outcome, String)> {
    if p.pid <= 1 && sig != nix::sys::signal::Signal::SIGCHLD {
        return Err((
            Outcome::Skipped,
            "PID 1 is never sent anything but SIGCHLD".into(),
        ));
    }
    let path = ctx.root.proc().join(p.pid.to_string()).join("stat");
    let now = read_file(&path).and_then(|b| parse_stat(&path, &b));
    match (now, p.starttime) {
        (Ok(stat), Some(start)) if stat.starttime == start => {}
        (Ok(_), _) => {
            return Err((
                Outcome::Skipped,
                "pid was reused by another process since the scan".into(),
            ))
        }
        (Err(_), _) => return Err((Outcome::Skipped, "the parent exited since the scan".into())),
    }
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(p.pid), sig)
        .map_err(|e| (Outcome::Failed, format!("kill: {e}")))
}

fn restart_one(
    ctx: &Context,
    out: &mut dyn Write,
    text: bool,
    p: &Parent,
    approval: Approval,
    live: bool,
) -> Result<Action> {
    let Some(svc) = &p.service else {
        return Ok(action(
            p,
            "restart",
            String::new(),
            Outcome::Skipped,
            &format!("no owning service found; to clear them: kill {}", p.pid),
        ));
    };
    if p.pid == 1 {
        return Ok(action(
            p,
            "restart",
            svc.restart.clone(),
            Outcome::Skipped,
            "PID 1 is never restarted",
        ));
    }
    let mut plan = vec![format!(
        "{}   # owns {} {} ({})",
        svc.restart,
        p.comm,
        p.pid,
        plural(p.zombie_count, "zombie")
    )];
    if !svc.restart_removes_parent {
        plan.push(format!(
            "note: KillMode={} stops only the main process; {} would survive",
            svc.kill_mode.as_deref().unwrap_or("?"),
            p.pid
        ));
    }
    show_plan(
        out,
        text,
        &ctx.style,
        "Plan: restart the owning service",
        &plan,
    )?;
    if approval == Approval::DryRun {
        return Ok(action(
            p,
            "restart",
            svc.restart.clone(),
            Outcome::WouldDo,
            "dry run: nothing run",
        ));
    }
    if !approval.confirm(&format!("Run '{}'?", svc.restart))? {
        return Ok(action(
            p,
            "restart",
            svc.restart.clone(),
            Outcome::Declined,
            "not confirmed",
        ));
    }
    if !live {
        return Ok(action(
            p,
            "restart",
            svc.restart.clone(),
            Outcome::WouldDo,
            "fake root: nothing is run",
        ));
    }
    let result = std::process::Command::new(&svc.restart_argv[0])
        .args(&svc.restart_argv[1..])
        .output();
    Ok(match result {
        Ok(o) if o.status.success() => action(
            p,
            "restart",
            svc.restart.clone(),
            Outcome::Done,
            "restarted",
        ),
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr);
            let why = format!("{} ({})", o.status, err.lines().next().unwrap_or("").trim());
            action(p, "restart", svc.restart.clone(), Outcome::Failed, &why)
        }
        Err(e) => action(
            p,
            "restart",
            svc.restart.clone(),
            Outcome::Failed,
            &format!("{}: {e}", svc.restart_argv[0]),
        ),
    })
}

/// Polls until the zombies of these parents are gone or the time is up.
fn wait_cleared(ctx: &Context, parents: &[Parent], limit: Duration) {
    let start = Instant::now();
    while start.elapsed() < limit {
        let remaining = parents.iter().flat_map(|p| &p.zombies).any(|z| {
            let path = ctx.root.proc().join(z.pid.to_string()).join("stat");
            matches!(read_file(&path).and_then(|b| parse_stat(&path, &b)), Ok(s) if s.starttime == z.starttime && s.state == 'Z')
        });
        if !remaining {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// How many of a parent's zombies are gone in the later report (same pid and start time no longer listed).
fn cleared(p: &Parent, after: &ZombiesReport) -> usize {
    p.zombies
        .iter()
        .filter(|z| {
            !after
                .parents
                .iter()
                .flat_map(|q| &q.zombies)
                .any(|y| y.pid == z.pid && y.started == z.started)
        })
        .count()
}

/// 0 all done (or nothing to do), 1 some steps declined, skipped or without effect, 2 a step failed.
fn fix_status(actions: &[Action]) -> Status {
    Status::worst_of(actions.iter().map(|a| match a.outcome {
        Outcome::Done | Outcome::WouldDo => Status::Ok,
        Outcome::Declined | Outcome::Skipped | Outcome::NoEffect => Status::Warning,
        Outcome::Failed => Status::Critical,
    }))
}

impl ActReport {
    fn write_results(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        if self.actions.is_empty() {
            return writeln!(out, "Nothing to do: no parent holds zombies.");
        }
        writeln!(out, "{}", style.bold("Results"))?;
        for a in &self.actions {
            let outcome = match a.outcome {
                Outcome::Done => "done",
                Outcome::WouldDo => "would do",
                Outcome::Declined => "declined",
                Outcome::Skipped => "skipped",
                Outcome::NoEffect => "no effect",
                Outcome::Failed => "FAILED",
            };
            let cleared = if a.outcome == Outcome::Done || a.outcome == Outcome::NoEffect {
                format!(
                    ", {} of {} zombies cleared",
                    a.zombies_cleared, a.zombies_before
                )
            } else {
                String::new()
            };
            writeln!(
                out,
                "  {:<9} {}  ({}{cleared})",
                outcome,
                printable(&a.command),
                printable(&a.detail)
            )?;
        }
        if let Some(after) = &self.after {
            writeln!(out, "Now: {}", after.summary())?;
        }
        Ok(())
    }
}

impl Report for ActReport {
    fn check_name(&self) -> &'static str {
        "zombies"
    }

    fn status(&self) -> Status {
        self.status
    }

    fn summary(&self) -> String {
        let done = self
            .actions
            .iter()
            .filter(|a| a.outcome == Outcome::Done)
            .count();
        let cleared: usize = self.actions.iter().map(|a| a.zombies_cleared).sum();
        let now = self
            .after
            .as_ref()
            .map(|a| format!("; now: {}", a.summary()))
            .unwrap_or_default();
        format!(
            "{done} of {} step(s) done, {cleared} zombie(s) cleared{now}",
            self.actions.len()
        )
    }

    fn text(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        self.before.text(out, style)?;
        writeln!(out)?;
        self.write_results(out, style)
    }

    fn perfdata(&self) -> Vec<Perf> {
        let cleared: usize = self.actions.iter().map(|a| a.zombies_cleared).sum();
        let remaining = self.after.as_ref().unwrap_or(&self.before).zombies;
        vec![
            Perf::new("zombies_cleared", cleared as f64, "").min(0.0),
            Perf::new("zombies", remaining as f64, "").min(0.0),
        ]
    }

    fn metrics(&self) -> Vec<Family> {
        self.after.as_ref().unwrap_or(&self.before).metrics()
    }
}
