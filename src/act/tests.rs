//! Plain-value tests of the shared layer: outcomes to status, plan rendering, the re-check.

use super::*;
use crate::render::Style;
use crate::safeops::{Kind, Meta};
use crate::status::Status;

fn meta(kind: Kind, uid: u32, gid: u32, mode: u32) -> Meta {
    Meta {
        kind,
        uid,
        gid,
        mode,
        nlink: 1,
        size: 10,
        dev: 1,
        ino: 42,
    }
}

#[test]
fn outcomes_to_exit_status() {
    assert_eq!(status_of([]), Status::Ok, "nothing to do is OK");
    assert_eq!(
        status_of([Outcome::Ok, Outcome::Changed, Outcome::WouldChange]),
        Status::Ok
    );
    for o in [Outcome::Declined, Outcome::Refused, Outcome::NoEffect] {
        assert_eq!(status_of([Outcome::Changed, o]), Status::Warning, "{o:?}");
    }
    assert_eq!(
        status_of([Outcome::Refused, Outcome::Failed, Outcome::Declined]),
        Status::Critical
    );
    assert_eq!(Status::Critical.exit_code(), 2);
    let failed = crate::safeops::SafeError::Failed {
        path: "x".into(),
        errno: nix::errno::Errno::EIO,
    };
    let refused = crate::safeops::SafeError::Refused {
        path: "x".into(),
        reason: "is a symlink".into(),
    };
    assert_eq!(Outcome::of(&failed), Outcome::Failed);
    assert_eq!(Outcome::of(&refused), Outcome::Refused);
    assert!(Outcome::WouldChange.pending() && !Outcome::Declined.pending());
}

#[test]
fn outcome_json_words_are_snake_case() {
    let words: Vec<String> = [Outcome::WouldChange, Outcome::NoEffect, Outcome::Ok]
        .iter()
        .map(|o| serde_json::to_string(o).unwrap())
        .collect();
    assert_eq!(words, ["\"would_change\"", "\"no_effect\"", "\"ok\""]);
}

#[test]
fn a_plan_is_a_title_and_its_step_lines() {
    let mut out = Vec::new();
    let lines = vec![
        "would change var/spool/mqueue  owner root:mail -> root:admin1".to_string(),
        "would change etc/aliases  owner root:root -> admin1:admin1".to_string(),
    ];
    show_plan(
        &mut out,
        &Style { color: false },
        "Plan for site1 \x1b[2J:",
        &lines,
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "Plan for site1 \\x1b[2J:\n  would change var/spool/mqueue  owner root:mail -> root:admin1\n  \
         would change etc/aliases  owner root:root -> admin1:admin1\n"
    );
    let mut bold = Vec::new();
    show_plan(&mut bold, &Style { color: true }, "Step 1", &[]).unwrap();
    assert_eq!(String::from_utf8(bold).unwrap(), "\x1b[1mStep 1\x1b[0m\n");
}

#[test]
fn a_target_changed_between_plan_and_apply_is_refused_and_says_what_changed() {
    let planned = meta(Kind::File, 0, 12, 0o644);
    assert_eq!(recheck(&planned, Some(&planned)), Ok(()));
    let chowned = Meta {
        uid: 501,
        ..planned
    };
    let why = recheck(&planned, Some(&chowned)).unwrap_err();
    assert!(why.contains("changed since the plan was made"), "{why}");
    assert!(why.contains("owner 0:12 -> 501:12"), "{why}");
    let swapped = Meta { ino: 43, ..planned };
    assert!(recheck(&planned, Some(&swapped))
        .unwrap_err()
        .contains("replaced by another file"));
    let linked = Meta {
        nlink: 2,
        ..planned
    };
    assert!(recheck(&planned, Some(&linked))
        .unwrap_err()
        .contains("links 1 -> 2"));
    let grown = Meta {
        size: 11,
        ..planned
    };
    assert!(recheck(&planned, Some(&grown))
        .unwrap_err()
        .contains("size 10 -> 11"));
    assert!(recheck(&planned, None).unwrap_err().contains("vanished"));
    // Mail arriving in a queue directory changes its size and link count, not what was planned.
    let dir = meta(Kind::Dir, 0, 12, 0o2770);
    let busy = Meta {
        size: 4096 * 3,
        nlink: 5,
        ..dir
    };
    assert_eq!(unchanged(&dir, &busy), None);
    let symlinked = Meta {
        kind: Kind::Symlink,
        ..dir
    };
    assert!(unchanged(&dir, &symlinked).is_some());
}
