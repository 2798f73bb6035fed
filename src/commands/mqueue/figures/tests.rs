//! Each figure against the JSON field it names, and its names in every format.

use super::*;
use crate::commands::mqueue::accounts::{AccountReport, MtaSection};
use crate::commands::mqueue::binding::Binding;
use crate::readers::mqueue::queue::QueueScan;

fn queue() -> QueueReport {
    QueueReport {
        label: "site1".into(),
        name: "site1 example.com".into(),
        site: None,
        path: "/home/virtual/site1/fst/var/spool/mqueue".into(),
        state: crate::commands::mqueue::report::QueueState::Ok,
        problem: None,
        scan: QueueScan {
            messages: 3,
            files: 7,
            bytes: 5001,
            disk_bytes: 8192,
            oversized: 2,
            oversized_bytes: 4000,
            foreign_files: 1,
            foreign_bytes: 17,
            ..Default::default()
        },
        oldest_age: Some(7200),
        stale_tf: 0,
        binding: Some(Binding {
            bound: true,
            owner: "root:admin1".into(),
            mode: "2770".into(),
            setgid: true,
            world_writable: false,
            default_user: None,
            default_user_file: None,
            reasons: Vec::new(),
            fix: None,
        }),
    }
}

fn at<'v>(v: &'v serde_json::Value, path: &str) -> &'v serde_json::Value {
    path.split('.').fold(v, |v, k| &v[k])
}

fn account(oldest_age: Option<u64>) -> AccountReport {
    AccountReport {
        account: "alice".into(),
        attributed: true,
        mtas: vec![crate::readers::mta::Mta::Exim],
        messages: 3,
        bytes: 5001,
        file_bytes: 5100,
        disk_bytes: 8192,
        oversized: 2,
        oversized_bytes: 4000,
        oldest: oldest_age.map(|a| 1_800_000_000 - a as i64),
        oldest_age,
        held: 1,
        by_scripts: 4,
        by_scripts_bytes: 300,
        classes: Default::default(),
        reasons: Vec::new(),
        damaged: 0,
    }
}

fn section() -> MtaSection {
    MtaSection {
        status: crate::status::Status::Ok,
        findings: Vec::new(),
        panels: Vec::new(),
        spools: Vec::new(),
        totals: crate::commands::mqueue::accounts::Totals {
            messages: 5,
            ..Default::default()
        },
        accounts: vec![account(Some(60)), account(None)],
        oversized: Vec::new(),
        oversized_not_listed: 0,
        unreadable: 0,
    }
}

/// Each figure naming a JSON field has the value found there (a flag as 0/1, null as None),
/// distinct figures naming distinct fields.
fn are_their_json_fields<T: serde::Serialize>(figs: &[&Figure<T>], of: &T) {
    let json = serde_json::to_value(of).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for f in figs {
        let Some(field) = f.field else { continue };
        assert!(seen.insert(field), "{field} twice");
        let j = at(&json, field);
        assert!(
            !j.is_null() || (f.value)(of).is_none(),
            "{field} not in JSON"
        );
        let j = j.as_f64().or(j.as_bool().map(|b| f64::from(u8::from(b))));
        assert_eq!(j, (f.value)(of), "{field}");
    }
}

#[test]
fn every_queue_figure_is_the_json_field_it_names() {
    assert!(QUEUE_FIGURES.iter().all(|f| f.field.is_some()));
    are_their_json_fields(&QUEUE_FIGURES, &queue());
    let mut empty = queue();
    empty.oldest_age = None;
    are_their_json_fields(&QUEUE_FIGURES, &empty);
    assert_eq!(OLDEST_AGE.sample(&empty), Some(0.0), "0 in Prometheus");
}

#[test]
fn every_account_figure_is_the_json_field_it_names() {
    assert!(ACCOUNT_FIGURES.iter().all(|f| f.field.is_some()));
    let s = section();
    for a in &s.accounts {
        are_their_json_fields(&ACCOUNT_FIGURES, a);
    }
    are_their_json_fields(&MTA_FIGURES, &s);
    assert_eq!((LARGEST_ACCOUNT.value)(&s), Some(5001.0));
}

#[test]
fn account_metrics_perfdata_and_columns_take_the_figures_names_and_units() {
    let names: Vec<String> = ACCOUNT_FIGURES
        .iter()
        .filter_map(|f| f.metric_name())
        .collect();
    assert_eq!(
        names,
        [
            "toolkit_mqueue_account_messages",
            "toolkit_mqueue_account_bytes",
            "toolkit_mqueue_account_disk_bytes",
            "toolkit_mqueue_account_oversized_messages",
            "toolkit_mqueue_account_oversized_bytes",
            "toolkit_mqueue_account_held_messages",
            "toolkit_mqueue_account_script_messages",
            "toolkit_mqueue_account_oldest_age_seconds",
        ]
    );
    assert!(MTA_FIGURES.iter().all(|f| f.metric.is_none()));
    let s = section();
    let fams = families(&ACCOUNT_FIGURES, &s.accounts, |a| {
        vec![("account", a.account.clone())]
    });
    let oldest = fams.last().unwrap();
    let samples: Vec<f64> = oldest.samples.iter().map(|s| s.value).collect();
    assert_eq!(samples, [60.0, 0.0], "an account without an age exports 0");
    let (w, c): (Range, Range) = ("10".parse().unwrap(), "20".parse().unwrap());
    let perf: Vec<String> = ACCOUNT_FIGURES
        .iter()
        .filter_map(|f| f.perf(&s.accounts[0], Some("alice"), &w, &c))
        .map(|p| p.to_string())
        .collect();
    assert_eq!(
        perf,
        [
            "'alice bytes'=5001B;;;0",
            "'alice oversized'=2;;;0",
            "'alice scripts'=4;;;0"
        ]
    );
    let section: Vec<String> = MTA_FIGURES
        .iter()
        .filter_map(|f| f.perf(&s, None, &w, &c))
        .map(|p| p.to_string())
        .collect();
    assert_eq!(
        section,
        ["'largest_account'=5001B;10;20;0", "'mta_messages'=5;;;0"]
    );
    assert_eq!(ACCOUNT_OLDEST_AGE.human(&s.accounts[0]), "1m");
    assert_eq!(ACCOUNT_OLDEST_AGE.human(&s.accounts[1]), "-");
    assert_eq!(ACCOUNT_BYTES.human(&s.accounts[0]), "4.9 KiB");
    assert_eq!(ACCOUNT_SCRIPTS.human(&s.accounts[0]), "4");
}

#[test]
fn metric_names_have_one_prefix_and_their_unit() {
    let names: Vec<String> = QUEUE_FIGURES
        .iter()
        .filter_map(|f| f.metric_name())
        .collect();
    assert_eq!(
        names,
        [
            "toolkit_mqueue_bytes",
            "toolkit_mqueue_disk_bytes",
            "toolkit_mqueue_messages",
            "toolkit_mqueue_oversized_messages",
            "toolkit_mqueue_oversized_bytes",
            "toolkit_mqueue_uncharged_bytes",
            "toolkit_mqueue_oldest_age_seconds",
            "toolkit_mqueue_bound",
        ]
    );
    for f in QUEUE_FIGURES {
        let n = f.metric_name().unwrap();
        match f.unit {
            Unit::Bytes => assert!(n.ends_with("_bytes"), "{n}"),
            Unit::Seconds => assert!(n.ends_with("_seconds"), "{n}"),
            _ => {
                assert!(!n.ends_with("_bytes") && !n.ends_with("_seconds"), "{n}")
            }
        }
    }
    assert!(REPORT_FIGURES.iter().all(|f| f.metric.is_none()));
}

#[test]
fn perfdata_and_text_take_the_figures_names_and_units() {
    let q = queue();
    let (w, c): (Range, Range) = ("10".parse().unwrap(), "20".parse().unwrap());
    let perf: Vec<String> = QUEUE_FIGURES
        .iter()
        .filter_map(|f| f.perf(&q, Some("site1"), &w, &c))
        .map(|p| p.to_string())
        .collect();
    assert_eq!(perf, ["'site1 bytes'=5001B;;;0", "'site1 oversized'=2;;;0"]);
    let judged: Vec<&str> = REPORT_FIGURES
        .iter()
        .filter(|f| f.judged)
        .filter_map(|f| f.perf)
        .collect();
    assert_eq!(judged, ["largest_queue"]);
    assert!(QUEUE_FIGURES.iter().all(|f| !f.judged));
    assert_eq!(BYTES.human(&q), "4.9 KiB");
    assert_eq!(MESSAGES.human(&q), "3");
    let mut unbound = queue();
    unbound.binding = None;
    assert_eq!((BOUND.value)(&unbound), None, "no sample for a host queue");
}
