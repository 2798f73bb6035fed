//! Plain-value tests of the judgement: one per diagnosis and per adopter case.

use super::adopter::{Reaps, Role};
use super::host::{Host, Runtime};
use super::judge::{
    self, Cause, Clears, Facts, Options, Parent, ProcInfo, Remedy, ZombiesReport, SIGCHLD_BIT,
};
use super::plan::{Step, StepKind};
use super::service::ServiceFacts;
use crate::readers::procs::{Proc, ProcTable, Skips};
use crate::root::SysInfo;
use std::collections::HashMap;

pub(super) const UPTIME: f64 = 100_000.0;

/// A process table built by hand: every process its own session leader unless told otherwise.
pub(super) struct World {
    pub(super) procs: Vec<Proc>,
    pub(super) info: HashMap<i32, ProcInfo>,
    services: HashMap<i32, ServiceFacts>,
    host: Host,
    /// Pids the reader could not read (counted in its skips).
    unreadable: Vec<i32>,
}

fn systemd_host() -> Host {
    Host {
        systemd: true,
        init_evidence: "run/systemd/system exists and PID 1 is systemd".into(),
        runtime: None,
    }
}

impl World {
    /// A host whose PID 1 is systemd (it handles SIGCHLD) and holds nothing.
    pub(super) fn systemd() -> World {
        let mut w = World {
            procs: Vec::new(),
            info: HashMap::new(),
            services: HashMap::new(),
            host: systemd_host(),
            unreadable: Vec::new(),
        };
        w.add(1, 0, "systemd", 'S', UPTIME).caught = SIGCHLD_BIT;
        w
    }

    pub(super) fn add(
        &mut self,
        pid: i32,
        ppid: i32,
        comm: &str,
        state: char,
        age: f64,
    ) -> &mut ProcInfo {
        self.procs.push(Proc {
            pid,
            ppid,
            state,
            comm: comm.into(),
            threads: 1,
            starttime: ((UPTIME - age) * 100.0) as u64,
            tracer: 0,
            uid: 0,
            session: pid,
        });
        self.info.entry(pid).or_insert(ProcInfo {
            nspid: vec![pid],
            cmdline: vec![comm.into()],
            ..ProcInfo::default()
        })
    }

    pub(super) fn proc_mut(&mut self, pid: i32) -> &mut Proc {
        self.procs.iter_mut().find(|p| p.pid == pid).unwrap()
    }

    pub(super) fn zombies(&mut self, ppid: i32, first: i32, n: i32, age: f64) {
        for pid in first..first + n {
            self.add(pid, ppid, "sh", 'Z', age);
            self.info.remove(&pid);
        }
    }

    pub(super) fn report(&self, min_age: u64) -> ZombiesReport {
        self.report_with(&Options {
            min_age,
            parent: None,
            all: false,
            warning: "0".parse().unwrap(),
            critical: "49".parse().unwrap(),
        })
    }

    pub(super) fn report_with(&self, opts: &Options) -> ZombiesReport {
        let mut procs = self.procs.clone();
        procs.sort_by_key(|p| p.pid);
        let table = ProcTable {
            procs,
            skips: Skips {
                unreadable_pids: self.unreadable.clone(),
                ..Skips::default()
            },
            records: Default::default(),
        };
        let facts = Facts {
            table: &table,
            sys: SysInfo {
                ticks_per_second: 100,
                page_size: 4096,
                boot_time: 1_700_000_000,
                uptime: UPTIME,
            },
            host: self.host.clone(),
            info: &self.info,
            services: &self.services,
            skips: Skips::default(),
        };
        judge::judge(&facts, opts)
    }
}

pub(super) fn parent(r: &ZombiesReport, pid: i32) -> &Parent {
    r.parents.iter().find(|p| p.pid == pid).unwrap()
}

fn codes(p: &Parent) -> Vec<Cause> {
    p.diagnosis.iter().map(|d| d.cause()).collect()
}

fn kinds(p: &Parent) -> Vec<Remedy> {
    p.suggestions.iter().map(|s| s.kind).collect()
}

fn suggestion(p: &Parent, kind: Remedy) -> &judge::Suggestion {
    p.suggestions
        .iter()
        .find(|s| s.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} suggestion in {:?}", p.suggestions))
}

fn all_commands(r: &ZombiesReport) -> String {
    r.parents
        .iter()
        .flat_map(|p| &p.suggestions)
        .map(|s| s.command.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

/// crond: a running parent with a SIGCHLD handler, under a systemd PID 1.
fn crond() -> World {
    let mut w = World::systemd();
    w.add(612, 1, "crond", 'S', 90_000.0).caught = SIGCHLD_BIT | 0x4a02;
    w.zombies(612, 7001, 3, 5000.0);
    w
}

#[test]
fn handler_that_does_not_reap_is_likely_and_nudged_first() {
    let r = crond().report(60);
    let p = parent(&r, 612);
    assert_eq!(codes(p), [Cause::HandlerNotReaping]);
    assert!(p.diagnosis[0].is_likely());
    assert!(p.diagnosis[0].text.starts_with("likely: "));
    assert!(p.diagnosis[0]
        .evidence()
        .contains("3 zombies at least 1m old"));
    assert_eq!(kinds(p), [Remedy::Nudge, Remedy::Kill]);
}

#[test]
fn pid1_that_reaps_is_promised_by_kill() {
    let r = crond().report(60);
    let a = parent(&r, 612).adopter.as_ref().unwrap();
    assert_eq!((a.pid, a.role, a.reaps), (1, Role::Init, Reaps::Yes));
    assert!(a.evidence.contains("systemd is an init"), "{a:?}");
    let kill = suggestion(parent(&r, 612), Remedy::Kill);
    assert_eq!(kill.clears, Clears::Yes);
    assert!(kill
        .note
        .contains("PID 1 (systemd) adopts and reaps the 3 zombies"));
}

#[test]
fn no_handler_means_never_waits_and_no_nudge() {
    let mut w = World::systemd();
    w.add(881, 1, "httpd", 'S', 90_000.0);
    w.zombies(881, 8101, 2, 5000.0);
    let r = w.report(60);
    let p = parent(&r, 881);
    assert_eq!(codes(p), [Cause::NeverWaits]);
    assert!(p.diagnosis[0].is_likely());
    assert!(
        !kinds(p).contains(&Remedy::Nudge),
        "kill -CHLD only where a handler exists"
    );
}

#[test]
fn sigchld_ignored_is_explained_as_the_kernel_rules() {
    let mut w = World::systemd();
    let i = w.add(700, 1, "daemon", 'S', 90_000.0);
    i.ignored = SIGCHLD_BIT;
    i.caught = 0;
    w.zombies(700, 7001, 1, 5000.0);
    let r = w.report(60);
    let p = parent(&r, 700);
    assert_eq!(codes(p), [Cause::SigchldIgnored]);
    let d = &p.diagnosis[0];
    assert!(!d.is_likely());
    assert!(
        d.text
            .contains("the kernel reaps every child that exits while it does")
            && d.text.contains("exited before it began ignoring SIGCHLD")
            && d.text.contains("or its state changed while being read"),
        "{}",
        d.text
    );
    assert!(!kinds(p).contains(&Remedy::Nudge));
}

#[test]
fn blocked_sigchld_with_a_handler_is_likely_and_not_nudged() {
    let mut w = World::systemd();
    let i = w.add(700, 1, "daemon", 'S', 90_000.0);
    i.caught = SIGCHLD_BIT;
    i.blocked = SIGCHLD_BIT;
    w.zombies(700, 7001, 1, 5000.0);
    let r = w.report(60);
    let p = parent(&r, 700);
    assert_eq!(codes(p), [Cause::SigchldBlocked]);
    assert!(p.diagnosis[0].text.contains("handler cannot run"));
    assert!(!kinds(p).contains(&Remedy::Nudge));
}

#[test]
fn stopped_parent_is_resumed_before_anything_else() {
    let mut w = World::systemd();
    w.add(950, 1, "backupd", 'T', 90_000.0).caught = SIGCHLD_BIT;
    w.zombies(950, 9501, 1, 5000.0);
    let r = w.report(60);
    let p = parent(&r, 950);
    assert_eq!(codes(p), [Cause::Stopped]);
    assert!(
        !p.diagnosis[0].is_likely(),
        "the state is read, not inferred"
    );
    assert_eq!(kinds(p), [Remedy::Continue, Remedy::Nudge, Remedy::Kill]);
    assert_eq!(p.suggestions[0].command, "kill -CONT 950");
}

#[test]
fn parent_in_d_state_names_its_wait_channel() {
    let mut w = World::systemd();
    w.add(960, 1, "rsync", 'D', 90_000.0).wchan = Some("nfs_wait_bit_killable".into());
    w.zombies(960, 9601, 1, 5000.0);
    let r = w.report(60);
    let p = parent(&r, 960);
    assert_eq!(codes(p), [Cause::Uninterruptible]);
    assert!(p.diagnosis[0].text.contains("nfs_wait_bit_killable"));
}

#[test]
fn traced_parent_names_its_tracer() {
    let mut w = World::systemd();
    w.add(3299, 1, "gdb", 'S', 900.0);
    w.add(3300, 1, "php-fpm", 't', 90_000.0).caught = SIGCHLD_BIT;
    w.proc_mut(3300).tracer = 3299;
    w.zombies(3300, 3301, 1, 600.0);
    let r = w.report(60);
    let p = parent(&r, 3300);
    assert_eq!(codes(p), [Cause::Traced]);
    assert!(p.diagnosis[0].text.contains("3299 (gdb)"));
    assert_eq!(kinds(p)[0], Remedy::Detach);
}

#[test]
fn zombie_leader_with_live_threads_must_reap_from_a_thread() {
    let mut w = World::systemd();
    w.add(6000, 1, "java", 'Z', 90_000.0).caught = SIGCHLD_BIT;
    w.proc_mut(6000).threads = 4;
    w.zombies(6000, 6001, 1, 5000.0);
    let r = w.report(60);
    assert_eq!(codes(parent(&r, 6000)), [Cause::ParentZombie]);
    assert!(parent(&r, 6000).diagnosis[0]
        .text
        .contains("3 other threads"));
}

#[test]
fn vanished_or_unreadable_parent_gets_no_nudge() {
    let mut w = crond();
    w.info.remove(&612);
    let r = w.report(60);
    assert_eq!(codes(parent(&r, 612)), [Cause::ParentGone]);
    w.unreadable.push(612);
    let r = w.report(60);
    let p = parent(&r, 612);
    assert_eq!(codes(p), [Cause::ParentUnreadable]);
    assert_eq!(kinds(p), [Remedy::Kill]);
}

/// PID 1 is `node` (a container seen from inside): it holds 4 old zombies of its own.
fn node_pid1() -> World {
    let mut w = World::systemd();
    w.procs.clear();
    w.info.clear();
    w.host = Host {
        systemd: false,
        init_evidence: "no run/systemd/system".into(),
        runtime: None,
    };
    w.add(1, 0, "node", 'S', UPTIME).cmdline = vec!["node".into(), "/app/server.js".into()];
    w.zombies(1, 4101, 4, 5000.0);
    w
}

#[test]
fn pid1_that_does_not_reap_is_never_killed_and_gets_no_foreign_commands() {
    let r = node_pid1().report(60);
    let p = parent(&r, 1);
    assert_eq!(codes(p), [Cause::Pid1NotInit]);
    assert!(p.diagnosis[0].is_likely(), "inferred from ages, not read");
    assert!(p.diagnosis[0].text.contains("adopted only recently"));
    assert_eq!(kinds(p), [Remedy::Init, Remedy::Wait]);
    assert_eq!(p.suggestions[0].command, "tini -- node /app/server.js");
    let all = all_commands(&r);
    assert!(!all.contains("kill"), "{all}");
    assert!(!all.contains("systemctl"), "no systemd here: {all}");
    assert!(!all.contains("docker"), "no runtime identified: {all}");
}

#[test]
fn kill_does_not_promise_reaping_when_pid1_does_not_reap() {
    let mut w = node_pid1();
    w.add(612, 1, "crond", 'S', 90_000.0).caught = SIGCHLD_BIT;
    w.zombies(612, 7001, 3, 5000.0);
    let r = w.report(60);
    let a = parent(&r, 612).adopter.as_ref().unwrap();
    assert_eq!((a.pid, a.reaps), (1, Reaps::No));
    assert!(a
        .evidence
        .contains("4 zombies at least 1m old already wait under it"));
    let kill = suggestion(parent(&r, 612), Remedy::Kill);
    assert_eq!(kill.clears, Clears::No);
    assert!(
        kill.note.contains("would only pass to PID 1 (node)"),
        "{}",
        kill.note
    );
    assert!(!kill.note.contains("adopts and reaps"));
    assert!(Step::for_parent(parent(&r, 612), StepKind::EndParent).is_none());
}

#[test]
fn pid1_of_unknown_reaping_is_not_promised() {
    let mut w = node_pid1();
    w.procs.retain(|p| p.pid == 1);
    w.add(612, 1, "crond", 'S', 90_000.0).caught = SIGCHLD_BIT;
    w.zombies(612, 7001, 3, 5000.0);
    let r = w.report(60);
    let a = parent(&r, 612).adopter.as_ref().unwrap();
    assert_eq!(a.reaps, Reaps::Unknown);
    let kill = suggestion(parent(&r, 612), Remedy::Kill);
    assert_eq!(kill.clears, Clears::Maybe);
    assert!(kill.note.contains("may not reap them"));
}

#[test]
fn docker_runtime_of_the_root_is_named_for_pid1() {
    let mut w = node_pid1();
    w.host.runtime = Some(Runtime::Docker);
    let r = w.report(60);
    assert!(suggestion(parent(&r, 1), Remedy::Init)
        .command
        .starts_with("docker run --init"));
}

#[test]
fn systemd_pid1_holding_zombies_is_likely_busy_and_reexecuted() {
    let mut w = World::systemd();
    w.zombies(1, 101, 2, 5000.0);
    let r = w.report(60);
    let p = parent(&r, 1);
    assert_eq!(codes(p), [Cause::InitNotReaping]);
    assert!(p.diagnosis[0].is_likely());
    assert_eq!(kinds(p), [Remedy::Nudge, Remedy::Reexec, Remedy::Wait]);
    w.host.systemd = false;
    let r = w.report(60);
    assert!(!all_commands(&r).contains("systemctl"));
}

#[test]
fn known_subreaper_ancestor_adopts() {
    let mut w = World::systemd();
    w.add(4000, 1, "containerd-shim", 'S', 90_000.0).caught = SIGCHLD_BIT;
    w.add(4500, 4000, "worker", 'S', 80_000.0);
    w.zombies(4500, 4501, 2, 5000.0);
    let r = w.report(60);
    let a = parent(&r, 4500).adopter.as_ref().unwrap();
    assert_eq!(
        (a.pid, a.role, a.reaps),
        (4000, Role::Subreaper, Reaps::Yes)
    );
    assert!(a.why.contains("containerd-shim"));
    assert!(suggestion(parent(&r, 4500), Remedy::Kill)
        .note
        .contains("subreaper containerd-shim 4000 adopts and reaps"));
}

#[test]
fn subreaper_seen_by_a_reparented_child() {
    let mut w = World::systemd();
    w.add(5000, 1, "python3", 'S', 90_000.0).caught = SIGCHLD_BIT;
    // 5002 was started in session 5001 by a parent that exited: now it is 5000's child.
    w.add(5002, 5000, "sleep", 'S', 80_000.0);
    w.proc_mut(5002).session = 5001;
    w.add(5010, 5000, "worker", 'S', 80_000.0).caught = SIGCHLD_BIT;
    w.zombies(5010, 5011, 3, 5000.0);
    let r = w.report(60);
    let a = parent(&r, 5010).adopter.as_ref().unwrap();
    assert_eq!(
        (a.pid, a.role, a.reaps),
        (5000, Role::Subreaper, Reaps::Likely)
    );
    assert!(
        a.why.contains("5002 (sleep) was reparented to it"),
        "{}",
        a.why
    );
    assert!(suggestion(parent(&r, 5010), Remedy::Kill)
        .note
        .contains("which likely reaps them"));
    // Without that trace, nothing says 5000 is a subreaper: PID 1 adopts.
    w.proc_mut(5002).session = 5000;
    let r = w.report(60);
    assert_eq!(parent(&r, 5010).adopter.as_ref().unwrap().pid, 1);
}

#[test]
fn subreaper_seen_inside_a_container_whose_session_leader_is_outside() {
    // In a container the shell that started the subreaper leads a session outside the PID namespace:
    // /proc shows session 0 for it and its own children; the daemon's session is led inside.
    let mut w = World::systemd();
    w.add(5000, 1, "python3", 'S', 90_000.0).caught = SIGCHLD_BIT;
    w.proc_mut(5000).session = 0;
    w.add(5002, 5000, "sleep", 'S', 80_000.0);
    w.proc_mut(5002).session = 5001;
    w.add(5010, 5000, "worker", 'S', 80_000.0).caught = SIGCHLD_BIT;
    w.proc_mut(5010).session = 0;
    w.zombies(5010, 5011, 3, 5000.0);
    let r = w.report(60);
    let a = parent(&r, 5010).adopter.as_ref().unwrap();
    assert_eq!(
        (a.pid, a.role, a.reaps),
        (5000, Role::Subreaper, Reaps::Likely)
    );
    assert!(
        a.why.contains("5002 (sleep) was reparented to it"),
        "{}",
        a.why
    );
    // Children that share the outside session (0 and 0) prove nothing.
    w.proc_mut(5002).session = 0;
    let r = w.report(60);
    assert_eq!(parent(&r, 5010).adopter.as_ref().unwrap().pid, 1);
}

#[test]
fn subreaper_holding_old_zombies_does_not_reap() {
    let mut w = World::systemd();
    w.add(5000, 1, "python3", 'S', 90_000.0);
    w.add(5002, 5000, "sleep", 'S', 80_000.0);
    w.proc_mut(5002).session = 5001;
    w.zombies(5000, 5001, 1, 80_000.0);
    w.add(5010, 5000, "worker", 'S', 80_000.0).caught = SIGCHLD_BIT;
    w.zombies(5010, 5011, 3, 5000.0);
    let r = w.report(60);
    let a = parent(&r, 5010).adopter.as_ref().unwrap();
    assert_eq!((a.pid, a.reaps), (5000, Reaps::No));
    assert_eq!(
        suggestion(parent(&r, 5010), Remedy::Kill).clears,
        Clears::No
    );
    assert!(codes(parent(&r, 5000)).contains(&Cause::Subreaper));
}

#[test]
fn adopter_ignoring_sigchld_reaps_through_the_kernel() {
    let mut w = World::systemd();
    w.add(4000, 1, "tini", 'S', 90_000.0).cmdline = vec!["tini".into(), "-s".into()];
    w.info.get_mut(&4000).unwrap().ignored = SIGCHLD_BIT;
    w.add(4500, 4000, "worker", 'S', 80_000.0);
    w.zombies(4500, 4501, 2, 5000.0);
    let r = w.report(60);
    let a = parent(&r, 4500).adopter.as_ref().unwrap();
    assert_eq!((a.pid, a.reaps), (4000, Reaps::Yes));
    assert!(a.evidence.contains("the kernel reaps"));
}

/// node as the PID 1 of a docker container, its shim a subreaper on a systemd host.
fn container(cgroup: &str) -> World {
    let mut w = World::systemd();
    w.add(4000, 1, "containerd-shim", 'S', 90_000.0).caught = SIGCHLD_BIT;
    let i = w.add(4010, 4000, "node", 'S', 80_000.0);
    i.nspid = vec![4010, 1];
    i.cgroup = Some(cgroup.into());
    w.zombies(4010, 4101, 2, 5000.0);
    w.services.insert(
        4010,
        ServiceFacts {
            systemd_host: true,
            cgroup: Some(cgroup.into()),
            ..ServiceFacts::default()
        },
    );
    w
}

#[test]
fn container_init_restarts_its_container_and_is_never_killed() {
    let r = container("/system.slice/docker-3f2a9b8c7d6e5f4a.scope").report(60);
    let p = parent(&r, 4010);
    assert_eq!(codes(p), [Cause::Pid1NotInit]);
    assert!(p.adopter.is_none(), "its zombies go with its namespace");
    assert_eq!(kinds(p), [Remedy::Restart, Remedy::Init]);
    assert_eq!(p.suggestions[0].command, "docker restart 3f2a9b8c7d6e");
    assert_eq!(p.suggestions[0].clears, Clears::Yes);
    assert!(p.suggestions[1].command.starts_with("docker run --init"));
}

#[test]
fn container_init_without_an_identified_runtime_gets_no_container_commands() {
    let r = container("/system.slice/mystery.service").report(60);
    let all = all_commands(&r);
    assert!(!all.contains("docker") && !all.contains("podman"), "{all}");
    assert!(all.contains("tini -- node"), "{all}");
}

#[test]
fn child_inside_a_container_is_adopted_by_the_container_init() {
    let mut w = container("/system.slice/docker-3f2a9b8c7d6e5f4a.scope");
    let i = w.add(4020, 4010, "worker", 'S', 70_000.0);
    i.nspid = vec![4020, 7];
    w.zombies(4020, 4201, 1, 5000.0);
    let r = w.report(60);
    let a = parent(&r, 4020).adopter.as_ref().unwrap();
    assert_eq!(
        (a.pid, a.role, a.reaps),
        (4010, Role::ContainerInit, Reaps::No)
    );
}

#[test]
fn killmode_process_unit_offers_ending_the_parent_not_the_restart() {
    let mut w = World::systemd();
    w.add(880, 1, "httpd", 'S', 90_000.0).caught = SIGCHLD_BIT;
    w.add(881, 880, "httpd", 'S', 90_000.0);
    w.zombies(881, 8101, 3, 5000.0);
    w.services.insert(
        881,
        ServiceFacts {
            systemd_host: true,
            cgroup: Some("/system.slice/httpd.service".into()),
            main_pid: Some(880),
            kill_mode: Some("process".into()),
            ..ServiceFacts::default()
        },
    );
    let r = w.report(60);
    let p = parent(&r, 881);
    assert_eq!(
        kinds(p),
        [Remedy::Kill],
        "no restart that leaves 881 running"
    );
    assert!(p.suggestions[0]
        .note
        .contains("KillMode=process stops only its main process 880"));
    assert!(Step::for_parent(p, StepKind::Restart).is_none());
    let end = Step::for_parent(p, StepKind::EndParent).expect("the step that works");
    assert_eq!(end.command, "kill 881");
}

#[test]
fn control_group_unit_is_restarted() {
    let mut w = crond();
    w.services.insert(
        612,
        ServiceFacts {
            systemd_host: true,
            cgroup: Some("/system.slice/crond.service".into()),
            main_pid: Some(612),
            ..ServiceFacts::default()
        },
    );
    let r = w.report(60);
    let p = parent(&r, 612);
    assert_eq!(kinds(p), [Remedy::Nudge, Remedy::Restart, Remedy::Kill]);
    assert_eq!(p.suggestions[1].command, "systemctl restart crond.service");
    assert_eq!(p.suggestions[1].clears, Clears::Yes);
    assert!(Step::for_parent(p, StepKind::Restart).is_some());
    assert!(
        Step::for_parent(p, StepKind::EndParent).is_none(),
        "the restart removes it: --restart does not kill it"
    );
}

#[test]
fn sysv_host_restarts_through_its_script() {
    let mut w = crond();
    w.host.systemd = false;
    w.services.insert(
        612,
        ServiceFacts {
            init_script: Some("/etc/rc.d/init.d/crond".into()),
            ..ServiceFacts::default()
        },
    );
    let r = w.report(60);
    assert_eq!(
        suggestion(parent(&r, 612), Remedy::Restart).command,
        "/etc/rc.d/init.d/crond restart"
    );
}

#[test]
fn host_without_systemd_never_suggests_systemctl() {
    let mut w = crond();
    w.host.systemd = false;
    w.services.insert(612, ServiceFacts::default());
    w.zombies(1, 101, 1, 5000.0);
    let r = w.report(60);
    let all = all_commands(&r);
    assert!(!all.contains("systemctl"), "{all}");
    assert_eq!(kinds(parent(&r, 612)), [Remedy::Nudge, Remedy::Kill]);
}

#[test]
fn blocked_sigchld_without_a_handler_is_the_signalfd_pattern() {
    let mut w = World::systemd();
    w.add(700, 1, "daemon", 'S', 90_000.0).blocked = SIGCHLD_BIT;
    w.zombies(700, 7001, 2, 5000.0);
    let r = w.report(60);
    let p = parent(&r, 700);
    assert_eq!(codes(p), [Cause::SigchldBlocked]);
    assert!(p.diagnosis[0].is_likely());
    assert!(p.diagnosis[0].text.contains("signalfd"));
    assert!(!kinds(p).contains(&Remedy::Nudge));
}

#[test]
fn parent_caught_exiting_is_likely_and_says_so() {
    let mut w = World::systemd();
    w.add(700, 1, "daemon", 'Z', 90_000.0);
    w.zombies(700, 7001, 1, 5000.0);
    let r = w.report(60);
    let p = parent(&r, 700);
    assert_eq!(codes(p), [Cause::ParentZombie]);
    assert!(p.diagnosis[0].is_likely() && p.diagnosis[0].text.contains("exiting"));
}

#[test]
fn broken_ancestry_falls_back_to_pid1_and_says_which_ancestor() {
    let mut w = World::systemd();
    // 612's parent 600 is missing from the table (vanished or unreadable).
    w.add(612, 600, "crond", 'S', 90_000.0).caught = SIGCHLD_BIT;
    w.zombies(612, 7001, 1, 5000.0);
    let r = w.report(60);
    let a = parent(&r, 612).adopter.as_ref().unwrap();
    assert_eq!(a.pid, 1);
    assert!(a.why.contains("ancestor 600"), "{}", a.why);
}

#[test]
fn stopped_subreaper_does_not_reap() {
    let mut w = World::systemd();
    w.add(4000, 1, "containerd-shim", 'T', 90_000.0).caught = SIGCHLD_BIT;
    w.add(4500, 4000, "worker", 'S', 80_000.0);
    w.zombies(4500, 4501, 1, 5000.0);
    let r = w.report(60);
    let a = parent(&r, 4500).adopter.as_ref().unwrap();
    assert_eq!((a.pid, a.reaps), (4000, Reaps::No));
    assert!(a.evidence.contains("stopped"));
}

#[test]
fn user_manager_is_a_known_subreaper_and_zombie_ancestors_are_passed_over() {
    let mut w = World::systemd();
    w.add(900, 1, "systemd", 'S', 90_000.0).cmdline =
        vec!["/usr/lib/systemd/systemd".into(), "--user".into()];
    w.info.get_mut(&900).unwrap().caught = SIGCHLD_BIT;
    // 910 is a subreaper by its trace but has just exited (no live thread): the kernel skips it.
    w.add(910, 900, "tini", 'Z', 30.0).cmdline = vec!["tini".into(), "-s".into()];
    w.add(920, 910, "app", 'S', 70_000.0);
    w.zombies(920, 921, 1, 5000.0);
    let r = w.report(60);
    let a = parent(&r, 920).adopter.as_ref().unwrap();
    assert_eq!((a.pid, a.role, a.reaps), (900, Role::Subreaper, Reaps::Yes));
    assert!(a.why.contains("systemd --user"), "{}", a.why);
}
