//! `toolkit mqueue purge`: whole messages only, never a locked one, quarantine outside the site by
//! default, filters, and the sendmail split layout.

use crate::common::Scenario;
use std::os::fd::AsRawFd;
use std::path::Path;

const Q: &str = "home/virtual/site1/fst/var/spool/mqueue";

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn oversized_ids(s: &Scenario) -> Vec<String> {
    let mut ids: Vec<String> = names(&s.join(Q))
        .into_iter()
        .filter(|n| {
            n.starts_with("df") && s.join(&format!("{Q}/{n}")).metadata().unwrap().len() >= 20 << 20
        })
        .map(|n| n[2..].to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn quarantine_moves_whole_messages_out_of_the_site() {
    let s = Scenario::built_fakeroot();
    let ids = oversized_ids(&s);
    assert_eq!(ids.len(), 3);
    let before = names(&s.join(Q));
    let dry = s.run(&[
        "mqueue",
        "purge",
        "--site",
        "example.com",
        "--min",
        "20M",
        "--dry-run",
        "--format",
        "json",
    ]);
    dry.status(0);
    assert_eq!(names(&s.join(Q)), before, "dry run moved something");
    let out = s.run(&[
        "mqueue",
        "purge",
        "--site",
        "example.com",
        "--min",
        "20M",
        "--yes",
        "--format",
        "json",
    ]);
    out.status(0);
    let r = out.json();
    let q = r["sites"][0]["quarantine"].as_str().unwrap().to_string();
    assert!(
        q.starts_with(
            &s.path()
                .canonicalize()
                .unwrap()
                .join("var/lib/toolkit/quarantine/site1")
                .display()
                .to_string()
        ),
        "{q}"
    );
    let left = names(&s.join(Q));
    for id in &ids {
        assert!(
            !left.contains(&format!("qf{id}")) && !left.contains(&format!("df{id}")),
            "{id} left behind: {left:?}"
        );
        assert!(
            Path::new(&q).join(format!("qf{id}")).is_file()
                && Path::new(&q).join(format!("df{id}")).is_file()
        );
    }
    assert_eq!(
        left.len(),
        before.len() - 2 * ids.len(),
        "the small message stays"
    );
    assert_eq!(
        std::fs::metadata(Path::new(&q).join(format!("df{}", ids[0])))
            .unwrap()
            .len(),
        38 << 20,
        "size kept"
    );
}

#[test]
fn a_message_sendmail_holds_locked_is_skipped() {
    let s = Scenario::built_fakeroot();
    let ids = oversized_ids(&s);
    let qf = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(s.join(&format!("{Q}/qf{}", ids[0])))
        .unwrap();
    // sendmail on Linux locks queue files with flock(2).
    assert_eq!(
        unsafe { libc::flock(qf.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) },
        0
    );
    let out = s.run(&[
        "mqueue", "purge", "--site", "site1", "--min", "20M", "--yes", "--format", "json",
    ]);
    out.status(1);
    let r = out.json();
    let m = r["sites"][0]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == ids[0].as_str())
        .unwrap()
        .clone();
    assert_eq!(m["outcome"], "skipped");
    assert_eq!(m["detail"], "locked: sendmail is working on it", "{m}");
    let left = names(&s.join(Q));
    assert!(
        left.contains(&format!("qf{}", ids[0])) && left.contains(&format!("df{}", ids[0])),
        "the locked message is whole"
    );
    assert_eq!(
        r["sites"][0]["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["outcome"] == "quarantined")
            .count(),
        2
    );
    drop(qf);
}

#[test]
fn delete_and_filters() {
    let s = Scenario::built_fakeroot();
    s.run(&[
        "mqueue",
        "purge",
        "--site",
        "site1",
        "--min",
        "20M",
        "--sender",
        "nobody@nowhere.example",
        "--yes",
    ])
    .status(0)
    .stdout_has("no message at or over 20.0 MiB matches");
    s.run(&[
        "mqueue", "purge", "--site", "site1", "--min", "20M", "--older", "3650d", "--yes",
    ])
    .status(0)
    .stdout_has("no message at or over 20.0 MiB matches");
    let before = names(&s.join(Q)).len();
    let out = s.run(&[
        "mqueue",
        "purge",
        "--site",
        "site1",
        "--min",
        "20M",
        "--sender",
        "@example.com",
        "--delete",
        "--yes",
    ]);
    out.status(0).stdout_has("3 deleted");
    assert_eq!(names(&s.join(Q)).len(), before - 6);
    assert!(
        !s.join("var/lib/toolkit/quarantine").exists(),
        "--delete quarantines nothing"
    );
}

#[test]
fn refusals() {
    let s = Scenario::built_fakeroot();
    s.run(&["mqueue", "purge", "--site", "site1", "--min", "20M"])
        .status(3)
        .stderr_has("--yes");
    s.run(&[
        "mqueue",
        "purge",
        "--site",
        "site1",
        "--min",
        "20M",
        "--quarantine",
        "home/virtual/site1/fst/tmp",
        "--yes",
    ])
    .status(3)
    .stderr_has("outside the site");
    s.run(&["mqueue", "purge", "--site", "site1"])
        .status(3)
        .stderr_has("--min");
    s.run(&[
        "mqueue", "purge", "--site", "nosuch", "--min", "1M", "--yes",
    ])
    .status(3)
    .stderr_has("nosuch");
}

#[test]
fn a_df_that_is_a_symlink_leaves_the_message_alone() {
    let s = Scenario::built_fakeroot();
    let ids = oversized_ids(&s);
    let df = s.join(&format!("{Q}/df{}", ids[0]));
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    std::fs::write(&victim, vec![0u8; 100]).unwrap();
    std::fs::remove_file(&df).unwrap();
    // Large enough to be a candidate only through the link: the size check does not follow it either.
    std::os::unix::fs::symlink(&victim, &df).unwrap();
    let r = s
        .run(&[
            "mqueue", "purge", "--site", "site1", "--min", "0", "--yes", "--format", "json",
        ])
        .json();
    let m = r["sites"][0]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == ids[0].as_str())
        .unwrap()
        .clone();
    assert_eq!(m["outcome"], "skipped", "{m}");
    // Alone: its qf stays in the queue and the link's target is as it was.
    assert!(s.join(&format!("{Q}/qf{}", ids[0])).is_file());
    assert_eq!(std::fs::read(&victim).unwrap(), vec![0u8; 100]);
    assert!(
        victim.is_file()
            && std::fs::symlink_metadata(&df)
                .unwrap()
                .file_type()
                .is_symlink()
    );
}

#[test]
fn split_qf_df_layout() {
    let s = Scenario::built_fakeroot();
    let q = s.join(Q);
    for sub in ["qf", "df", "xf"] {
        std::fs::create_dir(q.join(sub)).unwrap();
    }
    for n in names(&q) {
        if let Some(sub) = ["qf", "df"]
            .iter()
            .find(|p| n.starts_with(**p) && n.len() > 2)
        {
            std::fs::rename(q.join(&n), q.join(sub).join(&n)).unwrap();
        }
    }
    let ids = oversized_ids_in(&q.join("df"));
    std::fs::write(q.join("xf").join(format!("xf{}", ids[0])), "transcript\n").unwrap();
    let out = s.run(&[
        "mqueue", "purge", "--site", "site1", "--min", "20M", "--yes", "--format", "json",
    ]);
    out.status(0);
    let r = out.json();
    let quarantine = Path::new(r["sites"][0]["quarantine"].as_str().unwrap()).to_path_buf();
    assert!(
        quarantine.join(format!("xf{}", ids[0])).is_file(),
        "the xf goes with its message"
    );
    assert!(
        names(&q.join("qf")).len() == 1 && names(&q.join("df")).len() == 1,
        "only the small message stays"
    );
}

fn oversized_ids_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = names(dir)
        .into_iter()
        .filter(|n| dir.join(n).metadata().unwrap().len() >= 20 << 20)
        .map(|n| n[2..].to_string())
        .collect();
    v.sort();
    v
}

/// sendmail splits each kind of file on its own (a `df/` without `qf/` keeps the qf files at the
/// top), and a `q*` sub-queue is another queue: the purge takes the messages where sendmail keeps
/// them and leaves the sub-queue's alone.
#[test]
fn a_half_split_queue_is_purged_whole_and_a_sub_queue_left_alone() {
    let s = Scenario::built_fakeroot();
    let q = s.join(Q);
    let ids = oversized_ids(&s);
    std::fs::create_dir(q.join("df")).unwrap();
    for n in names(&q)
        .into_iter()
        .filter(|n| n.starts_with("df") && n.len() > 2)
    {
        std::fs::rename(q.join(&n), q.join("df").join(&n)).unwrap();
    }
    let sub = q.join("q1");
    std::fs::create_dir(&sub).unwrap();
    std::fs::copy(q.join(format!("qf{}", ids[0])), sub.join("qfSUB")).unwrap();
    std::fs::copy(q.join(format!("df/df{}", ids[0])), sub.join("dfSUB")).unwrap();
    let out = s.run(&[
        "mqueue", "purge", "--site", "site1", "--min", "20M", "--yes", "--format", "json",
    ]);
    out.status(0);
    let r = out.json();
    let messages = r["sites"][0]["messages"].as_array().unwrap();
    let mut purged: Vec<String> = messages
        .iter()
        .map(|m| {
            assert_eq!(m["outcome"], "quarantined", "{m}");
            let id = m["id"].as_str().unwrap();
            assert_eq!(
                m["files"],
                serde_json::json!([format!("qf{id}"), format!("df/df{id}")])
            );
            id.to_string()
        })
        .collect();
    purged.sort();
    assert_eq!(purged, ids);
    let quarantine = Path::new(r["sites"][0]["quarantine"].as_str().unwrap()).to_path_buf();
    for id in &ids {
        assert!(quarantine.join(format!("qf{id}")).is_file());
        assert!(quarantine.join(format!("df{id}")).is_file());
    }
    assert_eq!(
        names(&sub),
        ["dfSUB", "qfSUB"],
        "the sub-queue is not this queue"
    );
    assert_eq!(
        names(&q.join("df")).len(),
        1,
        "only the small message stays"
    );
}
