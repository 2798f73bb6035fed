//! The two DefaultUser edits are one step: sendmail.mc is never left edited while sendmail.cf is
//! refused, unchanged or failed, nor the reverse. Checked with a failure injected at every safe
//! operation of the step (TOOLKIT_INJECT_FAILURE), including between the two writes, then a rerun and
//! an undo; and with either file refused by a safety rule.

use crate::common::{run_cmd, Scenario};
use crate::mqueue_fix::{outcome, snapshot};
use std::process::Command;

const FST: &str = "home/virtual/site1/fst";
const MC: &str = "home/virtual/site1/fst/etc/mail/sendmail.mc";
const CF: &str = "home/virtual/site1/fst/etc/sendmail.cf";

/// (mc's confDEF_USER_ID, cf's DefaultUser).
fn pair(s: &Scenario) -> (String, String) {
    let mc = std::fs::read_to_string(s.join(MC)).unwrap();
    let cf = std::fs::read_to_string(s.join(CF)).unwrap();
    let mc_value = mc
        .lines()
        .find_map(|l| l.strip_prefix("define(`confDEF_USER_ID', `"))
        .and_then(|v| v.strip_suffix("')dnl"))
        .unwrap_or_else(|| panic!("no confDEF_USER_ID in\n{mc}"))
        .to_string();
    let cf_value = cf
        .lines()
        .find_map(|l| l.strip_prefix("O DefaultUser="))
        .unwrap()
        .to_string();
    (mc_value, cf_value)
}

/// site1 with everything but the DefaultUser already right, so the step's operations are the only
/// ones: two backups, two journal entries of two files each, two replacements.
fn only_default_user_pending() -> Scenario {
    let s = Scenario::built_fakeroot();
    let own = |rel: &str, uid: u32, gid: u32| {
        std::os::unix::fs::chown(s.join(&format!("{FST}/{rel}")), Some(uid), Some(gid)).unwrap()
    };
    own("var/spool/mqueue", 0, 501);
    std::fs::set_permissions(
        s.join(&format!("{FST}/var/spool/mqueue")),
        std::os::unix::fs::PermissionsExt::from_mode(0o2770),
    )
    .unwrap();
    own("etc/smrsh", 501, 501);
    own("etc/aliases", 501, 501);
    s
}

fn fix(s: &Scenario, inject: Option<usize>) -> crate::common::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_toolkit"));
    cmd.arg("--root").arg(s.path()).args([
        "mqueue", "fix", "--site", "site1", "--yes", "--format", "json",
    ]);
    if let Some(n) = inject {
        cmd.env("TOOLKIT_INJECT_FAILURE", n.to_string());
    }
    run_cmd(&mut cmd)
}

#[test]
fn a_failure_anywhere_in_the_step_leaves_both_old_or_both_new() {
    let mut failed_between = false;
    for n in 1..=12 {
        let s = only_default_user_pending();
        let (mc0, cf0) = (
            std::fs::read(s.join(MC)).unwrap(),
            std::fs::read(s.join(CF)).unwrap(),
        );
        let out = fix(&s, Some(n));
        if out.status == 0 {
            assert!(n > 6, "the step has more operations than {n}");
            break;
        }
        assert_eq!(
            out.status, 2,
            "inject {n}: a failed step is exit 2\n{}",
            out.stdout
        );
        let r = out.json();
        let (mc, cf) = pair(&s);
        assert_eq!(mc, cf, "inject {n}: the pair is split\n{r:#}");
        if outcome(&r, "etc/mail/sendmail.mc") == "failed"
            && r.to_string()
                .contains("etc/mail/sendmail.mc put back as it was")
        {
            // The mc had been written when the cf failed: it was put back.
            failed_between = true;
            assert_eq!(std::fs::read(s.join(MC)).unwrap(), mc0, "inject {n}");
        }
        // A rerun completes the pair.
        fix(&s, None).status(0);
        assert_eq!(pair(&s), ("501:501".into(), "501:501".into()), "inject {n}");
        // Undo restores both, byte for byte.
        s.run(&["mqueue", "fix", "--site", "site1", "--undo", "--yes"])
            .status(0);
        assert_eq!(
            std::fs::read(s.join(MC)).unwrap(),
            mc0,
            "inject {n}: undo mc"
        );
        assert_eq!(
            std::fs::read(s.join(CF)).unwrap(),
            cf0,
            "inject {n}: undo cf"
        );
    }
    assert!(
        failed_between,
        "no injected failure fell between the two writes"
    );
}

#[test]
fn if_either_file_is_refused_neither_is_changed() {
    // The cf shares its inode with a template (Ensim hard-links site files): the cf is refused, so the
    // mc must stay as it is.
    let s = only_default_user_pending();
    let outside = tempfile::tempdir().unwrap();
    std::fs::hard_link(s.join(CF), outside.path().join("sendmail.cf-template")).unwrap();
    let mc0 = std::fs::read(s.join(MC)).unwrap();
    let template_before = snapshot(outside.path());
    let out = fix(&s, None);
    out.status(1);
    let r = out.json();
    assert_eq!(outcome(&r, "etc/sendmail.cf"), "refused");
    assert_eq!(outcome(&r, "etc/mail/sendmail.mc"), "refused");
    let text = r.to_string();
    assert!(
        text.contains("not changed: etc/sendmail.cf: has 2 hard links"),
        "{r:#}"
    );
    assert!(text.contains("change together or not at all"), "{r:#}");
    assert_eq!(std::fs::read(s.join(MC)).unwrap(), mc0, "the mc was edited");
    assert!(!s.join(&format!("{MC}.zorig")).exists(), "no backup either");
    assert_eq!(pair(&s), ("mail:mail".into(), "mail:mail".into()));
    assert_eq!(
        snapshot(outside.path()),
        template_before,
        "the template changed"
    );

    // The reverse: the mc is a symlink (not followed), so the cf stays as it is.
    let s = only_default_user_pending();
    let real = outside.path().join("sendmail.mc");
    std::fs::copy(s.join(MC), &real).unwrap();
    std::fs::remove_file(s.join(MC)).unwrap();
    std::os::unix::fs::symlink(&real, s.join(MC)).unwrap();
    let cf0 = std::fs::read(s.join(CF)).unwrap();
    let outside_before = snapshot(outside.path());
    let out = fix(&s, None);
    out.status(1);
    let r = out.json();
    assert_eq!(outcome(&r, "etc/mail/sendmail.mc"), "refused");
    assert_eq!(outcome(&r, "etc/sendmail.cf"), "refused");
    assert_eq!(std::fs::read(s.join(CF)).unwrap(), cf0, "the cf was edited");
    let real_mc = std::fs::read_to_string(&real).unwrap();
    assert!(real_mc.contains("`mail:mail'"), "the symlink was followed");
    assert_eq!(
        snapshot(outside.path()),
        outside_before,
        "nothing outside the site changed (owner, group, mode, content)"
    );
}
