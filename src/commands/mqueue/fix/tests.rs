//! The fix planner over plain values: what was read goes in, the plan comes out; nothing is opened.

use super::plan::{Names, Step};
use super::read::{Listing, Snapshot};
use super::site::{Admin, FixOptions, Part, Planner, QUEUE};
use crate::act::Outcome;
use crate::safeops::{Kind, Meta, SafeError};
use std::ffi::OsString;

struct Ids;

impl Names for Ids {
    fn user(&self, uid: u32) -> String {
        match uid {
            0 => "root".into(),
            501 => "admin1".into(),
            n => n.to_string(),
        }
    }
    fn group(&self, gid: u32) -> String {
        match gid {
            0 => "root".into(),
            12 => "mail".into(),
            501 => "admin1".into(),
            n => n.to_string(),
        }
    }
}

fn meta(kind: Kind, uid: u32, gid: u32, mode: u32, nlink: u64) -> Meta {
    Meta {
        kind,
        uid,
        gid,
        mode,
        nlink,
        size: 100,
        dev: 1,
        ino: 1000 + u64::from(mode) + u64::from(gid),
    }
}

fn opts(chgrp_queued: bool) -> FixOptions {
    FixOptions {
        owner_root: true,
        mode: 0o2770,
        m4: false,
        chgrp_queued,
        live: false,
        root: "/nonexistent".into(),
        // 2026-12-01 12:00:00 UTC
        now: 1_796_126_400,
    }
}

const MC: &str = "divert(0)dnl\ndefine(`confDEF_USER_ID', `mail:mail')dnl\nMAILER(smtp)dnl\n";
const CF: &str = "V10/Berkeley\nO DefaultUser=mail:mail\n";

/// A site as `Snapshot::read` would have seen it: a root:mail 0700 queue, an smrsh with a symlink
/// and a program with another hard link, no aliases, the mc and the cf (whose first backup exists).
fn site() -> Snapshot {
    let file = |uid, gid, mode| Ok(Some(meta(Kind::File, uid, gid, mode, 1)));
    let missing = |p: &str| SafeError::Missing { path: p.into() };
    let mut s = Snapshot::default()
        .with_entry(QUEUE, Ok(Some(meta(Kind::Dir, 0, 12, 0o700, 2))))
        .with_entry("etc/smrsh", Ok(Some(meta(Kind::Dir, 0, 0, 0o755, 2))))
        .with_listing(
            "etc/smrsh",
            Listing::Names(vec![
                (
                    OsString::from("prog"),
                    Ok(Some(meta(Kind::File, 0, 0, 0o755, 2))),
                ),
                (
                    OsString::from("vacation"),
                    Ok(Some(meta(Kind::Symlink, 0, 0, 0o777, 1))),
                ),
            ]),
        )
        .with_entry("etc/aliases", Ok(None))
        .with_entry("etc/aliases.db", Err(missing("etc")))
        .with_text("etc/mail/sendmail.mc", MC)
        .with_entry("etc/mail/sendmail.mc", file(0, 0, 0o644))
        .with_entry("etc/mail/sendmail.mc.zorig", Ok(None))
        .with_text("etc/sendmail.cf", CF)
        .with_entry("etc/sendmail.cf", file(0, 0, 0o644))
        .with_entry("etc/sendmail.cf.zorig", file(0, 0, 0o644));
    for sub in ["qf", "df", "xf"] {
        s = s.with_entry(&format!("{QUEUE}/{sub}"), Ok(None));
    }
    s
}

fn plan(snap: &Snapshot, chgrp_queued: bool) -> (Vec<Step>, Vec<Part>) {
    let opts = opts(chgrp_queued);
    let planner = Planner {
        snap,
        admin: Admin { uid: 501, gid: 501 },
        opts: &opts,
        names: &Ids,
    };
    let plan = planner.plan();
    (plan.steps(), plan.parts)
}

fn line(s: &Step) -> String {
    format!(
        "{} {} {:?} [{}] {}",
        s.step, s.path, s.outcome, s.change, s.note
    )
}

#[test]
fn the_plan_is_decided_over_what_was_read() {
    let (steps, parts) = plan(&site(), false);
    let lines: Vec<String> = steps.iter().map(line).collect();
    assert_eq!(
        lines,
        [
            "1 var/spool/mqueue WouldChange [owner root:mail -> root:admin1, mode 0700 -> 2770] ",
            "2 etc/smrsh WouldChange [owner root:root -> admin1:admin1] ",
            "2 etc/smrsh/prog Refused [owner root:root -> admin1:admin1] has 2 hard links \
             (shared with files elsewhere; changing it would change them too)",
            "2 etc/smrsh/vacation Ok [] symlink, not followed",
            "2 etc/aliases Ok [] absent: nothing to do",
            "2 etc/aliases.db Ok [] absent: nothing to do",
            "3 etc/mail/sendmail.mc.zorig WouldChange [back up etc/mail/sendmail.mc] ",
            "4 etc/mail/sendmail.mc WouldChange [confDEF_USER_ID -> 501:501] ",
            "3 etc/sendmail.cf.zorig-20261201-120000 WouldChange [back up etc/sendmail.cf] ",
            "4 etc/sendmail.cf WouldChange [O DefaultUser=501:501] ",
        ]
    );
    // Only what would change carries a change to apply: the refused program and the symlink do not.
    let to_apply = parts
        .iter()
        .filter(|p| !matches!(p, Part::Fixed(_)))
        .count();
    assert_eq!(
        to_apply, 3,
        "queue directory, smrsh, and the DefaultUser pair"
    );
}

#[test]
fn a_blocked_half_holds_the_pair_back_in_the_plan() {
    let snap = site().with_entry(
        "etc/sendmail.cf",
        Ok(Some(meta(Kind::File, 0, 0, 0o644, 3))),
    );
    let (steps, _) = plan(&snap, false);
    let mc = steps
        .iter()
        .find(|s| s.path == "etc/mail/sendmail.mc")
        .unwrap();
    assert_eq!(mc.outcome, Outcome::Refused, "{}", line(mc));
    assert!(
        mc.note.contains("change together or not at all") && mc.note.contains("3 hard links"),
        "{}",
        mc.note
    );
    assert!(steps.iter().all(|s| !s.path.ends_with(".zorig")));
}

#[test]
fn queued_files_are_planned_per_outcome_with_their_first_paths() {
    let q = |name: &str, kind, gid, nlink| {
        (
            OsString::from(name),
            Ok(Some(meta(kind, 0, gid, 0o600, nlink))),
        )
    };
    let snap = site()
        .with_listing(
            QUEUE,
            Listing::Names(vec![
                q("dfA", Kind::File, 12, 1),
                q("dfB", Kind::File, 501, 1),
                q("dfC", Kind::File, 12, 2),
                q("qfD", Kind::Symlink, 12, 1),
                q("junk", Kind::Dir, 12, 2),
            ]),
        )
        .with_listing(
            &format!("{QUEUE}/qf"),
            Listing::Unopened(SafeError::Missing { path: "qf".into() }),
        )
        .with_listing(
            &format!("{QUEUE}/df"),
            Listing::Unopened(SafeError::Missing { path: "df".into() }),
        )
        .with_listing(
            &format!("{QUEUE}/xf"),
            Listing::Unopened(SafeError::Missing { path: "xf".into() }),
        );
    let (steps, _) = plan(&snap, true);
    let step5: Vec<String> = steps.iter().filter(|s| s.step == 5).map(line).collect();
    assert_eq!(
        step5,
        [
            "5 var/spool/mqueue WouldChange [group of 1 queue file(s) -> admin1] var/spool/mqueue/dfA",
            "5 var/spool/mqueue Ok [1 queue file(s) already in group admin1] ",
            "5 var/spool/mqueue Refused [group of 2 queue file(s) not changed] var/spool/mqueue/dfC: \
             has 2 hard links (shared with files elsewhere; changing it would change them too); \
             var/spool/mqueue/qfD: is a symlink (not followed)",
            "5 var/spool/mqueue Ok [1 skipped] var/spool/mqueue/junk: a directory, not a queue file",
        ]
    );
}
