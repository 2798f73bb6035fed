//! Plain-value tests of `judge::judge` as a whole: a process table built by hand, and the exact
//! report it gives (totals, order, sections, severities, the JSON view and the figures).

use super::adopter::Reaps;
use super::figures::{self, Json, FIGURES};
use super::judge::{
    self, ancestors_of, is_zombie, parents_of_interest, stuck_of_interest, Cause, Options,
    ZombiesReport, SIGCHLD_BIT,
};
use super::tests::{parent, World, UPTIME};
use crate::readers::procs::{Proc, ProcTable};
use crate::render::Report;
use crate::root::SysInfo;
use crate::status::Status;

fn opts(warning: &str, critical: &str) -> Options {
    Options {
        min_age: 60,
        parent: None,
        all: false,
        warning: warning.parse().unwrap(),
        critical: critical.parse().unwrap(),
    }
}

/// Three parents (crond with a handler, httpd without, backupd stopped), a young zombie, a
/// process in D state old enough and one too young, and a traced process.
fn host() -> World {
    let mut w = World::systemd();
    w.add(612, 1, "crond", 'S', 90_000.0).caught = SIGCHLD_BIT;
    w.zombies(612, 7001, 3, 5000.0);
    w.zombies(612, 7010, 1, 10.0);
    w.add(881, 1, "httpd", 'S', 90_000.0);
    w.zombies(881, 7101, 1, 6000.0);
    w.zombies(881, 7102, 2, 8000.0);
    w.add(950, 1, "backupd", 'T', 90_000.0);
    w.zombies(950, 7201, 1, 200.0);
    w.add(777, 1, "nfsd", 'D', 3000.0).wchan = Some("rpc_wait_bit_killable".into());
    w.add(778, 1, "cp", 'D', 30.0);
    w.add(3299, 1, "gdb", 'S', 900.0);
    w.add(3300, 3299, "app", 'S', 900.0);
    w.proc_mut(3300).tracer = 3299;
    w
}

const STARTED: u64 = 1_700_000_000;

#[test]
fn totals_order_and_sections_are_exact() {
    let r = host().report_with(&opts("0", "49"));
    assert_eq!(
        (r.status, r.zombies, r.transient, r.oldest_age, r.processes),
        (Status::Warning, 7, 1, Some(8000), 16)
    );
    // Most zombies first, then the oldest, then the lower pid.
    let order: Vec<(i32, usize, u64)> = r
        .parents
        .iter()
        .map(|p| (p.pid, p.zombie_count, p.oldest_age))
        .collect();
    assert_eq!(order, [(881, 3, 8000), (612, 3, 5000), (950, 1, 200)]);
    // A parent's zombies: oldest first, then by pid; their start in Unix time.
    let httpd: Vec<(i32, u64, u64)> = parent(&r, 881)
        .zombies
        .iter()
        .map(|z| (z.pid, z.age, z.started))
        .collect();
    let start = |age: u64| STARTED + UPTIME as u64 - age;
    assert_eq!(
        httpd,
        [
            (7102, 8000, start(8000)),
            (7103, 8000, start(8000)),
            (7101, 6000, start(6000))
        ]
    );
    let p = parent(&r, 612);
    assert_eq!(
        (p.comm.as_str(), p.state, p.started, p.cmdline.as_str()),
        ("crond", 'S', Some(start(90_000)), "crond")
    );
    let dstate: Vec<_> = r
        .dstate
        .iter()
        .map(|d| {
            (
                d.pid,
                d.ppid,
                d.comm.as_str(),
                d.state,
                d.age,
                d.wchan.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        dstate,
        [(777, 1, "nfsd", 'D', 3000, Some("rpc_wait_bit_killable"))],
        "778 is in D state for 30s only: under --min-age"
    );
    let traced: Vec<_> = r
        .traced
        .iter()
        .map(|t| {
            (
                t.pid,
                t.comm.as_str(),
                t.state,
                t.tracer,
                t.tracer_comm.as_deref(),
            )
        })
        .collect();
    assert_eq!(traced, [(3300, "app", 'S', 3299, Some("gdb"))]);
    assert_eq!(
        r.summary(),
        "7 zombies under 3 parents, oldest 2h 13m; most under httpd 881 (3); 1 in D state; 1 traced"
    );
}

#[test]
fn the_thresholds_weigh_the_report_and_each_parents_diagnosis() {
    let r = host().report_with(&opts("0", "2"));
    assert_eq!(r.status, Status::Critical, "7 zombies is over -c 2");
    let mut weights = Vec::new();
    for p in &r.parents {
        for d in &p.diagnosis {
            let threshold = d.threshold.as_ref().map(|t| t.to_string());
            weights.push((p.pid, d.cause(), d.severity, d.figure, threshold));
        }
    }
    assert_eq!(
        weights,
        [
            (
                881,
                Cause::NeverWaits,
                Status::Critical,
                Some(3.0),
                Some("2".into())
            ),
            (
                612,
                Cause::HandlerNotReaping,
                Status::Critical,
                Some(3.0),
                Some("2".into())
            ),
            (
                950,
                Cause::Stopped,
                Status::Warning,
                Some(1.0),
                Some("0".into())
            ),
        ]
    );
    let calm = host().report_with(&opts("9", "19"));
    assert_eq!(calm.status, Status::Ok);
    let d = &parent(&calm, 612).diagnosis[0];
    assert_eq!((d.severity, d.threshold.clone()), (Status::Ok, None));
    assert_eq!(
        crate::finding::worst(&parent(&r, 950).diagnosis),
        Status::Warning
    );
}

#[test]
fn one_parent_is_shown_but_every_old_zombie_judges_the_adopters() {
    let mut w = World::systemd();
    w.add(5000, 1, "supervisor", 'S', 90_000.0).caught = SIGCHLD_BIT;
    w.zombies(5000, 8001, 2, 4000.0);
    w.add(5002, 5000, "sleep", 'S', 80_000.0);
    w.proc_mut(5002).session = 4999;
    w.add(5010, 5000, "worker", 'S', 80_000.0);
    w.zombies(5010, 8101, 1, 4000.0);
    w.zombies(5010, 8110, 2, 5.0);
    w.zombies(5000, 8120, 1, 5.0);
    let r = w.report_with(&Options {
        parent: Some(5010),
        ..opts("0", "49")
    });
    let shown: Vec<i32> = r.parents.iter().map(|p| p.pid).collect();
    assert_eq!(shown, [5010]);
    assert_eq!(
        (r.zombies, r.transient),
        (1, 2),
        "only 5010's, the young ones of 5000 are not counted"
    );
    let a = parent(&r, 5010).adopter.as_ref().unwrap();
    assert_eq!(
        (a.pid, a.reaps, a.evidence.as_str()),
        (
            5000,
            Reaps::No,
            "2 zombies at least 1m old already wait under it"
        ),
        "5000's own zombies count though --parent hides them"
    );
}

#[test]
fn the_json_keeps_its_shape() {
    let r = host().report_with(&opts("0", "49"));
    let doc = serde_json::to_value(&r).unwrap();
    assert_eq!(
        (&doc["warning"], &doc["critical"]),
        (&"0".into(), &"49".into())
    );
    let crond = doc["parents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"] == 612)
        .unwrap();
    let evidence = "it handles SIGCHLD, is running, and 3 zombies at least 1m old wait under it";
    assert_eq!(
        crond["diagnosis"],
        serde_json::json!([{
            "code": "handler_not_reaping",
            "likely": true,
            "evidence": evidence,
            "text": format!("likely: its SIGCHLD handler does not reap these children: a handler must \
                loop on waitpid(-1, WNOHANG) until it returns 0, or children that exit together are \
                missed; or its code lost track of them ({evidence})"),
        }])
    );
    let backupd = doc["parents"].as_array().unwrap().last().unwrap();
    assert_eq!(
        backupd["diagnosis"][0],
        serde_json::json!({
            "code": "stopped",
            "likely": false,
            "evidence": "",
            "text": "stopped (state T: SIGSTOP or job control): it cannot run, so it cannot reap",
        })
    );
    let kinds: Vec<&str> = backupd["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["continue", "kill"]);
    assert_eq!(crond["adopter"]["role"], "init");
}

/// Each figure's value is the one the JSON has where the table says.
#[test]
fn every_figure_is_the_json_field_it_names() {
    let r = host().report_with(&opts("0", "49"));
    let doc = serde_json::to_value(&r).unwrap();
    for f in FIGURES {
        let number =
            |v: &serde_json::Value| v.as_u64().unwrap_or_else(|| panic!("{}: {v}", f.name));
        match f.json {
            Json::Field(field) => assert_eq!(Some(number(&doc[field])), f.of(&r), "{}", f.name),
            Json::Len(field) => assert_eq!(
                Some(doc[field].as_array().unwrap().len() as u64),
                f.of(&r),
                "{}",
                f.name
            ),
            Json::Skipped(field) => {
                assert_eq!(Some(number(&doc["skipped"][field])), f.of(&r), "{}", f.name)
            }
            Json::ParentField(field) => {
                let family = figures::metrics(&r)
                    .into_iter()
                    .find(|m| m.name == f.metric_name())
                    .unwrap();
                let json: Vec<f64> = doc["parents"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| number(&p[field]) as f64)
                    .collect();
                let samples: Vec<f64> = family.samples.iter().map(|s| s.value).collect();
                assert_eq!(json, samples, "{}", f.name);
            }
        }
    }
    let perf: Vec<String> = figures::perfdata(&r)
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(
        perf,
        [
            "'zombies'=7;0;49;0",
            "'zombies_parents'=3;;;0",
            "'zombies_transient'=1;;;0",
            "'zombies_oldest'=8000s;;;0",
            "'zombies_dstate'=1;;;0",
            "'zombies_traced'=1;;;0",
        ]
    );
}

#[test]
fn a_leader_with_live_threads_is_not_a_zombie() {
    let mut p = Proc {
        pid: 10,
        ppid: 1,
        state: 'Z',
        comm: "java".into(),
        threads: 3,
        starttime: 0,
        tracer: 0,
        uid: 0,
        session: 10,
    };
    assert!(!is_zombie(&p));
    p.threads = 1;
    assert!(is_zombie(&p));
    p.state = 'S';
    assert!(!is_zombie(&p));
}

#[test]
fn what_is_read_in_detail_respects_min_age_and_the_parent_filter() {
    let w = host();
    let mut procs = w.procs.clone();
    procs.sort_by_key(|p| p.pid);
    let table = ProcTable {
        procs,
        skips: Default::default(),
        records: Default::default(),
    };
    let sys = SysInfo {
        ticks_per_second: 100,
        page_size: 4096,
        boot_time: STARTED,
        uptime: UPTIME,
    };
    let all = opts("0", "49");
    assert_eq!(parents_of_interest(&table, &sys, &all), [612, 881, 950]);
    let young = Options {
        min_age: 0,
        ..all.clone()
    };
    assert_eq!(parents_of_interest(&table, &sys, &young), [612, 881, 950]);
    let old = Options {
        min_age: 5500,
        ..all.clone()
    };
    assert_eq!(parents_of_interest(&table, &sys, &old), [881]);
    let one = Options {
        parent: Some(950),
        ..all.clone()
    };
    assert_eq!(parents_of_interest(&table, &sys, &one), [950]);
    assert_eq!(stuck_of_interest(&table, &sys, &all), [777]);
    assert_eq!(stuck_of_interest(&table, &sys, &young), [777, 778]);
}

#[test]
fn ancestors_stop_at_pid1_and_at_a_loop() {
    let mut w = World::systemd();
    w.add(600, 1, "crond", 'S', 90_000.0);
    w.add(612, 600, "crond", 'S', 90_000.0);
    // A table read while pids were reused can hold a loop.
    w.add(700, 701, "a", 'S', 90_000.0);
    w.add(701, 700, "b", 'S', 90_000.0);
    let table = ProcTable {
        procs: w.procs.clone(),
        skips: Default::default(),
        records: Default::default(),
    };
    assert_eq!(ancestors_of(&table, &[612, 700]), [600, 1, 701, 700]);
    assert_eq!(ancestors_of(&table, &[1, 99]), Vec::<i32>::new());
}

#[test]
fn plural_counts() {
    assert_eq!(judge::plural(1, "zombie"), "1 zombie");
    assert_eq!(judge::plural(0, "zombie"), "0 zombies");
    assert_eq!(judge::plural(12, "parent"), "12 parents");
}

/// An empty report: OK, no oldest age, and the figures say zero.
#[test]
fn no_zombies_is_ok_and_every_figure_is_zero() {
    let r: ZombiesReport = World::systemd().report_with(&opts("0", "49"));
    assert_eq!(
        (r.status, r.zombies, r.oldest_age, r.parents.len()),
        (Status::Ok, 0, None, 0)
    );
    for f in FIGURES {
        assert!(matches!(f.of(&r), Some(0) | None), "{}", f.name);
    }
    assert_eq!(r.summary(), "no zombies at least 1m old");
}
