//! Whose site is it? The identity cases end to end, `fix` and `scan` saying the same thing: a
//! consistent Ensim site (siteinfo admin_user is the site's login, adminN everywhere else), siteinfo
//! naming another site's admin, no siteinfo, the admin group missing from etc/group. A refused site
//! changes nothing, and the run goes on with the other sites (also when a site's journal cannot be
//! written). `--all` says which sites it left out and why; on a healthy host it is quiet.

use crate::common::Scenario;
use crate::mqueue_fix::{outcome, snapshot, steps};
use serde_json::Value;
use std::os::unix::fs::MetadataExt;

fn site<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["site"] == name)
        .unwrap_or_else(|| panic!("no {name} in {r:#}"))
}

fn scan_site(s: &Scenario, name: &str) -> Value {
    let r = s
        .run(&["mqueue", "scan", "--site", name, "--format", "json"])
        .json();
    r["queues"][0]["site"].clone()
}

fn queue_meta(s: &Scenario, n: u32) -> (u32, u32, u32) {
    let m = s
        .join(&format!("home/virtual/site{n}/fst/var/spool/mqueue"))
        .metadata()
        .unwrap();
    (m.uid(), m.gid(), m.mode() & 0o7777)
}

#[test]
fn consistent_site_binds_to_admin_n_and_shows_the_login() {
    let s = Scenario::built_fakeroot();
    let out = s.run(&[
        "mqueue",
        "fix",
        "--site",
        "example.com",
        "--yes",
        "--format",
        "json",
    ]);
    out.status(0);
    let r = out.json();
    let s1 = site(&r, "site1");
    assert_eq!(s1["admin"], "admin1");
    assert_eq!(s1["login"], "exampleadm");
    assert_eq!(
        s1["admin_sources"],
        serde_json::json!([
            "siteinfo wp_user = admin1",
            "home/virtual/admin1 -> site1/fst",
            "fst owned by group admin1"
        ])
    );
    assert_eq!(queue_meta(&s, 1), (0, 501, 0o2770));
    let cf = std::fs::read_to_string(s.join("home/virtual/site1/fst/etc/sendmail.cf")).unwrap();
    assert!(cf.contains("\nO DefaultUser=501:501\n"));
    let scanned = scan_site(&s, "site1");
    assert_eq!(
        (&scanned["admin"], &scanned["login"], &scanned["refused"]),
        (&"admin1".into(), &"exampleadm".into(), &Value::Null)
    );
    // The login is not a host user: it names no site.
    s.run(&["mqueue", "fix", "--site", "exampleadm", "--dry-run"])
        .status(3)
        .stderr_has("--site exampleadm: no such site");
    // Text shows the login for what it is.
    s.run(&["mqueue", "fix", "--site", "site1", "--dry-run"])
        .stdout_has("site login exampleadm (siteinfo admin_user)");
}

#[test]
fn siteinfo_naming_another_sites_admin_is_refused_by_fix_and_scan_alike() {
    for line in ["admin_user = admin2", "wp_user = admin2"] {
        let s = Scenario::built_fakeroot();
        s.write(
            "home/virtual/site1/info/current/siteinfo",
            format!("[siteinfo]\nenabled = 1\ndomain = example.com\n{line}\n"),
        );
        let before = snapshot(&s.join("home/virtual"));
        let out = s.run(&[
            "mqueue", "fix", "--site", "site1", "--yes", "--format", "json",
        ]);
        out.status(1);
        let r = out.json();
        let step = &site(&r, "site1")["steps"][0];
        assert_eq!(step["outcome"], "refused", "{line}");
        let note = step["note"].as_str().unwrap();
        assert!(note.contains("admin2 is site2's admin"), "{line}: {note}");
        assert_eq!(
            snapshot(&s.join("home/virtual")),
            before,
            "{line}: a refused site is not touched, nor is site2"
        );
        // scan says the same, and offers no fix command for it.
        let scanned = scan_site(&s, "site1");
        assert_eq!(
            scanned["refused"].as_str().unwrap(),
            note.trim_start_matches("admin not settled: "),
            "{line}"
        );
        s.run(&["mqueue", "scan", "--site", "site1", "--format", "nagios"])
            .stdout_has("site1 example.com: 114 MiB not bound to quota; identity refused: ");
        let text = s.run(&["mqueue", "scan", "--site", "site1"]);
        text.stdout_has("identity refused: ")
            .stdout_has("site2's admin")
            .stdout_lacks("fix: toolkit mqueue fix --site example.com");
    }
}

#[test]
fn no_siteinfo_takes_the_link_and_the_fst_group() {
    let s = Scenario::built_fakeroot();
    s.remove("home/virtual/site3/info/current/siteinfo");
    let r = s
        .run(&[
            "mqueue", "fix", "--site", "site3", "--yes", "--format", "json",
        ])
        .json();
    let s3 = site(&r, "site3");
    assert_eq!(
        (&s3["admin"], &s3["login"]),
        (&"admin3".into(), &Value::Null)
    );
    assert_eq!(outcome(&r, "var/spool/mqueue"), "changed");
    assert_eq!(queue_meta(&s, 3), (0, 503, 0o2770));
    // The domain still comes from the domain map and the symlinks.
    s.run(&["mqueue", "fix", "--site", "blog.example.net", "--dry-run"])
        .status(0);
    // What scan notes about a site, fix shows too: here fst owned by root, the link still agreeing.
    std::os::unix::fs::chown(s.join("home/virtual/site3/fst"), None, Some(0)).unwrap();
    let note = "fst is owned by group root, not the admin group admin3";
    s.run(&["mqueue", "fix", "--site", "site3", "--dry-run"])
        .status(0)
        .stdout_has(&format!("note: {note}"));
    assert_eq!(scan_site(&s, "site3")["notes"], serde_json::json!([note]));
}

#[test]
fn admin_group_missing_from_etc_group_is_refused() {
    let s = Scenario::built_fakeroot();
    let group = std::fs::read_to_string(s.join("etc/group")).unwrap();
    s.write("etc/group", group.replace("admin4:x:504:\n", ""));
    let before = queue_meta(&s, 4);
    let out = s.run(&[
        "mqueue", "fix", "--site", "site4", "--yes", "--format", "json",
    ]);
    out.status(1);
    let r = out.json();
    assert_eq!(
        site(&r, "site4")["steps"][0]["note"],
        "admin not settled: group admin4 is not in etc/group (fst is owned by gid 504)"
    );
    assert_eq!(queue_meta(&s, 4), before);
    assert_eq!(
        scan_site(&s, "site4")["refused"],
        "group admin4 is not in etc/group (fst is owned by gid 504)"
    );
}

#[test]
fn one_site_that_cannot_be_fixed_does_not_stop_the_others() {
    let s = Scenario::built_fakeroot();
    // site1: refused identity; site3: its journal cannot be written; site4: fine.
    s.write(
        "home/virtual/site1/info/current/siteinfo",
        "[siteinfo]\nadmin = admin2\n",
    );
    s.write("var/lib/toolkit/mqueue-fix/site3", "not a directory\n");
    let site3_before = snapshot(&s.join("home/virtual/site3"));
    let out = s.run(&["mqueue", "fix", "--all", "--yes", "--format", "json"]);
    out.status(1);
    let r = out.json();
    assert_eq!(site(&r, "site1")["steps"][0]["outcome"], "refused");
    let j = &site(&r, "site3")["steps"][0];
    assert_eq!(j["outcome"], "refused");
    assert!(
        j["note"]
            .as_str()
            .unwrap()
            .starts_with("cannot journal, so nothing was changed"),
        "{j}"
    );
    assert_eq!(snapshot(&s.join("home/virtual/site3")), site3_before);
    assert!(site(&r, "site4")["steps"]
        .as_array()
        .unwrap()
        .iter()
        .any(|st| st["outcome"] == "changed"));
    assert_eq!(queue_meta(&s, 4), (0, 504, 0o2770));

    // site2's tree swapped for a symlink (not followed): reported, and the next site is still fixed.
    let s = Scenario::built_fakeroot();
    let elsewhere = tempfile::tempdir().unwrap();
    let fst = s.join("home/virtual/site2/fst");
    std::fs::rename(&fst, elsewhere.path().join("fst")).unwrap();
    std::os::unix::fs::symlink(elsewhere.path().join("fst"), &fst).unwrap();
    let moved = snapshot(elsewhere.path());
    let out = s.run(&[
        "mqueue", "fix", "--site", "site2", "--site", "site3", "--yes", "--format", "json",
    ]);
    out.status(1);
    let r = out.json();
    let st = &site(&r, "site2")["steps"][0];
    assert_eq!(st["outcome"], "refused", "{r:#}");
    assert_eq!(snapshot(elsewhere.path()), moved, "nothing followed");
    assert_eq!(queue_meta(&s, 3), (0, 503, 0o2770));
}

#[test]
fn all_lists_the_sites_it_left_out_and_is_quiet_on_a_healthy_host() {
    let s = Scenario::built_fakeroot();
    s.write("home/virtual/site3/fst/etc/mail/local-host-names", " \n");
    s.remove("home/virtual/site4/fst/etc/mail/local-host-names");
    let lhn = s.join("home/virtual/site2/fst/etc/mail/local-host-names");
    std::fs::remove_file(&lhn).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", &lhn).unwrap();
    let out = s.run(&["mqueue", "fix", "--all", "--yes", "--format", "json"]);
    // A local-host-names that is a symlink cannot be judged: a warning.
    out.status(1);
    let r = out.json();
    let left: Vec<(String, String)> = r["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["site"].as_str().unwrap().to_string(),
                l["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        left,
        [
            (
                "site2".to_string(),
                "etc/mail/local-host-names: is a symlink (not followed)".to_string()
            ),
            (
                "site3".to_string(),
                "etc/mail/local-host-names is empty".to_string()
            ),
            (
                "site4".to_string(),
                "no etc/mail/local-host-names".to_string()
            ),
        ]
    );
    let text = s.run(&["mqueue", "fix", "--all", "--dry-run"]);
    text.stdout_has("Left out by --all:")
        .stdout_has("site3 blog.example.net admin3: etc/mail/local-host-names is empty");

    // A healthy host: every site with mail fixed, the others without local-host-names.
    let s = Scenario::built_fakeroot();
    s.remove("home/virtual/site4/fst/etc/mail/local-host-names");
    s.run(&["mqueue", "fix", "--all", "--yes"]).status(0);
    let again = s.run(&["mqueue", "fix", "--all", "--yes", "--format", "json"]);
    again.status(0);
    let sites = again.json()["sites"].as_array().unwrap().clone();
    assert!(sites.len() >= 3, "{sites:?}");
    for st in &sites {
        let steps = steps(&serde_json::json!({ "sites": [st] }));
        assert!(!steps.is_empty(), "{st}");
        for (path, o) in steps {
            assert_eq!(o, "ok", "{} {path}", st["site"]);
        }
    }
    // From cron: -q prints nothing when everything is already right.
    s.run(&["-q", "mqueue", "fix", "--all", "--yes"])
        .status(0)
        .stdout_is("");
    // But it still reports a change.
    std::os::unix::fs::chown(
        s.join("home/virtual/site1/fst/var/spool/mqueue"),
        Some(501),
        None,
    )
    .unwrap();
    s.run(&["-q", "mqueue", "fix", "--all", "--yes"])
        .status(0)
        .stdout_has("changed      var/spool/mqueue  owner admin1:admin1 -> root:admin1");
}
