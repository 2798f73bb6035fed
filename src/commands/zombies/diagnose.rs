//! Why a parent does not reap, and what to do about it, gentlest first.
//!
//! Diagnoses follow the kernel's rules: a parent that ignores SIGCHLD has its new children reaped by
//! the kernel, so that cannot explain a zombie; what can is a handler that does not reap, SIGCHLD
//! blocked, the parent stopped, in D state, traced, or never calling wait(). Facts read directly
//! (state, tracer) are stated as such; what is inferred (from signal masks and ages) says "likely"
//! with its evidence. Suggestions fit the host: a SIGCHLD nudge only for a parent with a handler,
//! systemctl only under systemd, container commands only for an identified runtime, and "kill the
//! parent" promises reaping only when its adopter reaps.
//!
//! SA_NOCLDWAIT does not show in /proc (a handler installed with it sets only the SigCgt bit); its
//! children are reaped by the kernel too, so a zombie under such a parent predates the flag.

use super::adopter::{is_known_init, Adopter, Reaps, View};
use super::host::{Host, Runtime};
use super::judge::{plural, Cause, Clears, Diagnosis, Parent, ProcInfo, Remedy, Suggestion, Why};
use super::service::Manager;
use crate::finding::Finding;
use crate::readers::procs::Proc;
use crate::render::nagios::Range;
use crate::status::Status;
use crate::units::human_duration;

/// What was seen of one parent.
pub struct Seen<'a> {
    pub proc: Option<&'a Proc>,
    pub info: Option<&'a ProcInfo>,
    pub view: &'a View<'a>,
    pub host: &'a Host,
    pub unreadable: bool,
    /// What its own zombies weigh against the thresholds: the severity of its diagnoses.
    pub weight: Weight,
}

/// A parent's zombie count judged alone against -w/-c, and the range it crossed.
#[derive(Debug, Clone, PartialEq)]
pub struct Weight {
    pub severity: Status,
    pub zombies: usize,
    pub threshold: Option<Range>,
}

impl Weight {
    pub fn of(zombies: usize, warning: &Range, critical: &Range) -> Weight {
        let severity = crate::render::nagios::judge(zombies as f64, warning, critical);
        let threshold = match severity {
            Status::Critical => Some(critical.clone()),
            Status::Warning => Some(warning.clone()),
            Status::Ok | Status::Unknown => None,
        };
        Weight {
            severity,
            zombies,
            threshold,
        }
    }
}

impl Seen<'_> {
    fn diagnosis(&self, cause: Cause, inferred: Option<String>, text: String) -> Diagnosis {
        Finding {
            code: Why { cause, inferred },
            severity: self.weight.severity,
            figure: Some(self.weight.zombies as f64),
            threshold: self.weight.threshold.clone(),
            text,
        }
    }

    /// What was read directly (a state, a tracer, a signal mask).
    fn fact(&self, cause: Cause, text: impl Into<String>) -> Diagnosis {
        self.diagnosis(cause, None, text.into())
    }

    /// What is inferred, with the evidence it rests on.
    fn likely(&self, cause: Cause, text: &str, evidence: impl Into<String>) -> Diagnosis {
        let evidence = evidence.into();
        let text = format!("likely: {text} ({evidence})");
        self.diagnosis(cause, Some(evidence), text)
    }
}

pub fn diagnose(p: &mut Parent, s: &Seen) {
    let (Some(proc), Some(info)) = (s.proc, s.info) else {
        return unread(p, s);
    };
    if p.pid == 1 || info.is_ns_init() {
        return init(p, proc, info, s);
    }
    findings(p, proc, info, s);
    suggestions(p, proc, info);
}

/// `12 zombies at least 1m old wait under it`.
fn old(p: &Parent, min_age: u64) -> String {
    let n = plural(p.zombie_count, "zombie");
    let verb = if p.zombie_count == 1 { "waits" } else { "wait" };
    if min_age == 0 {
        format!("{n} {verb} under it")
    } else {
        format!(
            "{n} at least {} old {verb} under it",
            human_duration(min_age)
        )
    }
}

fn suggest(p: &mut Parent, kind: Remedy, command: String, note: String, clears: Clears) {
    p.suggestions.push(Suggestion {
        kind,
        command,
        note,
        clears,
    });
}

/// What happens to the zombies once their parent is gone, by what its adopter is judged to do.
fn then(adopter: Option<&Adopter>, n: usize) -> (String, Clears) {
    let them = plural(n, "zombie");
    let Some(a) = adopter else {
        return (
            format!("; the {them} pass to its adopter, which could not be judged"),
            Clears::Maybe,
        );
    };
    let name = a.name();
    match a.reaps {
        Reaps::Yes => (format!("; {name} adopts and reaps the {them}"), Clears::Yes),
        Reaps::Likely => (
            format!("; the {them} pass to {name}, which likely reaps them"),
            Clears::Likely,
        ),
        Reaps::Unknown => (
            format!("; the {them} pass to {name}, which may not reap them: check again with toolkit zombies"),
            Clears::Maybe,
        ),
        Reaps::No => (
            format!("; but the {them} would only pass to {name}, which does not reap them: fix that one first"),
            Clears::No,
        ),
    }
}

fn kill(p: &mut Parent, prefix: &str) {
    let pid = p.pid;
    let (rest, clears) = then(p.adopter.as_ref(), p.zombie_count);
    let note = format!("{prefix}ends the parent (kill -KILL {pid} if it stays){rest}");
    suggest(p, Remedy::Kill, format!("kill {pid}"), note, clears);
}

fn unread(p: &mut Parent, s: &Seen) {
    let pid = p.pid;
    if !s.unreadable {
        p.diagnosis.push(s.fact(
            Cause::ParentGone,
            format!("parent {pid} exited while being read; its zombies pass to its adopter (the nearest subreaper ancestor, else PID 1)"),
        ));
        let note = "run again in a minute to see whether they were reaped".to_string();
        suggest(
            p,
            Remedy::Wait,
            "toolkit zombies".into(),
            note,
            Clears::Maybe,
        );
        return;
    }
    p.diagnosis.push(s.fact(
        Cause::ParentUnreadable,
        format!("the files of parent {pid} could not be read (see Skipped): why it does not reap is unknown, so no SIGCHLD nudge is suggested"),
    ));
    if pid > 1 {
        kill(p, "");
    }
}

/// Zombies under PID 1 or a container's init: never killed, and their remedy is an init that reaps.
fn init(p: &mut Parent, proc: &Proc, info: &ProcInfo, s: &Seen) {
    let container = p.pid != 1;
    let whose = if container {
        "the container's PID 1"
    } else {
        "PID 1"
    };
    let comm = &proc.comm;
    let known = is_known_init(comm);
    let ev = old(p, s.view.min_age);
    p.diagnosis.push(if known {
        s.likely(
            Cause::InitNotReaping,
            &format!("{whose} ({comm}) is an init, which reaps as soon as it runs: it is busy or hung"),
            ev,
        )
    } else {
        s.likely(
            Cause::Pid1NotInit,
            &format!("{whose} is '{comm}', not a known init: it inherits every orphan but reaps only when its own code calls wait(), and it is not doing so"),
            format!("{ev}; their age counts from their start, so some may have been adopted only recently"),
        )
    });
    if info.ignores() {
        p.diagnosis.push(ignored(s));
    }
    if info.handles() && !info.ignores() && !info.blocks() {
        nudge(p, false);
    }
    let runtime = match p.service.as_ref().map(|svc| svc.manager) {
        Some(Manager::Docker) => Some(Runtime::Docker),
        Some(Manager::Podman) => Some(Runtime::Podman),
        _ if !container => s.host.runtime,
        _ => None,
    };
    if container {
        if let Some(svc) = p.service.clone().filter(|_| runtime.is_some()) {
            let note = "restarts the container: the kernel reaps every zombie of a PID namespace whose init exits, and the container starts afresh".to_string();
            suggest(p, Remedy::Restart, svc.restart, note, Clears::Yes);
        }
    } else if s.host.systemd && comm == "systemd" {
        let note = "systemd re-executes itself in place (its services keep running) and then reaps what waits".to_string();
        suggest(
            p,
            Remedy::Reexec,
            "systemctl daemon-reexec".into(),
            note,
            Clears::Likely,
        );
    }
    if !known {
        let (command, note) = match runtime {
            Some(rt) => (
                format!(
                    "{} run --init ...  (or tini / dumb-init as the entrypoint)",
                    rt.command()
                ),
                "start the container with an init that reaps, so this does not come back",
            ),
            None => {
                let program = if p.cmdline.is_empty() {
                    comm.clone()
                } else {
                    p.cmdline.clone()
                };
                (
                    format!("tini -- {program}"),
                    "run the program under an init that reaps (tini or dumb-init as PID 1), so this does not come back",
                )
            }
        };
        suggest(p, Remedy::Init, command, note.into(), Clears::No);
    }
    if !container {
        let note = "PID 1 is never killed: check again in a few minutes (a busy init reaps later); if they stay, a reboot is the last resort".to_string();
        suggest(
            p,
            Remedy::Wait,
            "toolkit zombies --parent 1".into(),
            note,
            Clears::Maybe,
        );
    }
}

fn ignored(s: &Seen) -> Diagnosis {
    s.fact(
        Cause::SigchldIgnored,
        "ignores SIGCHLD now, and the kernel reaps every child that exits while it does: these exited before it began ignoring SIGCHLD (or its state changed while being read), so a SIGCHLD nudge cannot help; only a wait() call or the parent's end clears them",
    )
}

fn findings(p: &mut Parent, proc: &Proc, info: &ProcInfo, s: &Seen) {
    let old = old(p, s.view.min_age);
    let state = match proc.state {
        'T' => Some(s.fact(
            Cause::Stopped,
            "stopped (state T: SIGSTOP or job control): it cannot run, so it cannot reap",
        )),
        'D' => Some(s.fact(
            Cause::Uninterruptible,
            format!(
                "in uninterruptible sleep{}: it cannot reap until that I/O completes",
                info.wchan
                    .as_ref()
                    .map(|w| format!(" in {w}"))
                    .unwrap_or_default()
            ),
        )),
        'Z' if proc.threads > 1 => Some(s.fact(
            Cause::ParentZombie,
            format!(
                "its main thread has exited (state Z) while {} other threads run: one of them must reap",
                proc.threads - 1
            ),
        )),
        'Z' => Some(s.likely(
            Cause::ParentZombie,
            "it was exiting when read: its children pass to its adopter",
            "it shows state Z",
        )),
        _ => None,
    };
    let mut held = state.is_some();
    p.diagnosis.extend(state);
    if proc.tracer > 0 || proc.state == 't' {
        let by = match proc.tracer {
            0 => String::new(),
            t => format!(
                " by {t}{}",
                s.view
                    .table
                    .get(t)
                    .map(|t| format!(" ({})", t.comm))
                    .unwrap_or_default()
            ),
        };
        p.diagnosis.push(s.fact(
            Cause::Traced,
            format!("being traced{by}: it runs only when the tracer lets it"),
        ));
        held = true;
    }
    if info.ignores() {
        p.diagnosis.push(ignored(s));
    } else if info.blocks() && info.handles() {
        p.diagnosis.push(s.likely(
            Cause::SigchldBlocked,
            "it blocks SIGCHLD, so its handler cannot run and reap",
            format!("SIGCHLD is in its SigBlk mask, and {old}"),
        ));
    } else if info.blocks() {
        p.diagnosis.push(s.likely(
            Cause::SigchldBlocked,
            "it blocks SIGCHLD without a handler, as programs that collect children through signalfd or sigwaitinfo do, and is not collecting them",
            format!("SIGCHLD is in SigBlk, not in SigCgt, and {old}"),
        ));
    } else if !held && info.handles() {
        p.diagnosis.push(s.likely(
            Cause::HandlerNotReaping,
            "its SIGCHLD handler does not reap these children: a handler must loop on waitpid(-1, WNOHANG) until it returns 0, or children that exit together are missed; or its code lost track of them",
            format!("it handles SIGCHLD, is running, and {old}"),
        ));
    } else if !held {
        p.diagnosis.push(s.likely(
            Cause::NeverWaits,
            "it never calls wait() for them: without a SIGCHLD handler it reaps only when its own code calls wait(), and it is not doing so",
            format!("no SIGCHLD handler, and {old}"),
        ));
    }
    if let Some(ev) = s.view.subreaper_evidence(proc) {
        let text = "it is a child subreaper: orphans below it are adopted by it, so zombies gather under it while it does not reap";
        p.diagnosis.push(if ev.likely {
            s.likely(Cause::Subreaper, text, ev.text)
        } else {
            s.fact(Cause::Subreaper, format!("{text} ({})", ev.text))
        });
    }
}

fn nudge(p: &mut Parent, after_cont: bool) {
    let note = if after_cont {
        "after kill -CONT: runs its SIGCHLD handler again, which may reap them"
    } else {
        "runs its SIGCHLD handler again, which may reap them"
    };
    let command = format!("kill -CHLD {}", p.pid);
    suggest(p, Remedy::Nudge, command, note.into(), Clears::Maybe);
}

fn suggestions(p: &mut Parent, proc: &Proc, info: &ProcInfo) {
    let pid = p.pid;
    let stopped = proc.state == 'T' && proc.tracer == 0;
    if stopped {
        let note = "resume it: it can then reap".to_string();
        suggest(
            p,
            Remedy::Continue,
            format!("kill -CONT {pid}"),
            note,
            Clears::Maybe,
        );
    }
    if proc.tracer > 0 {
        let t = proc.tracer;
        let note = format!("ends the tracer {t}, which lets {pid} run again (or detach it from inside the debugger)");
        suggest(p, Remedy::Detach, format!("kill {t}"), note, Clears::Maybe);
    }
    if info.handles() && !info.ignores() && !info.blocks() {
        nudge(p, stopped);
    }
    let n = p.zombie_count;
    let mut prefix = String::new();
    if let Some(svc) = p.service.clone() {
        if svc.manager.is_container() {
            let note = format!(
                "restarts the container: the kernel reaps every zombie in it (the {}) as its PID namespace ends",
                plural(n, "zombie")
            );
            suggest(p, Remedy::Restart, svc.restart, note, Clears::Yes);
        } else if svc.restart_removes_parent {
            let (rest, clears) = then(p.adopter.as_ref(), n);
            let note = format!("restarts {}: its processes end{rest}", svc.name);
            suggest(p, Remedy::Restart, svc.restart, note, clears);
        } else {
            prefix = format!(
                "the step that works: restarting {} would leave {pid} running (KillMode={} stops only its main process {}); this ",
                svc.name,
                svc.kill_mode.as_deref().unwrap_or("?"),
                svc.main_pid.map(|m| m.to_string()).unwrap_or_else(|| "?".into())
            );
        }
    }
    kill(p, &prefix);
}
