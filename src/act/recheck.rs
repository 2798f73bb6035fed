//! The re-check just before a change: the object found now must be the object planned (same device
//! and inode, same owner, group, mode, link count, and for a regular file the same size). Anything
//! else means someone changed the target since the plan was shown, and the step is refused.

use crate::safeops::{Kind, Meta};

/// What differs between the planned and the current metadata of a target, in the words of a report
/// (`owner 0:12 -> 501:501`); `None` when it is the same object in the same state. A directory's
/// size and link count follow its entries (mail arriving in a queue), so they are not compared.
pub fn unchanged(planned: &Meta, now: &Meta) -> Option<String> {
    let mut diffs = Vec::new();
    if (planned.dev, planned.ino) != (now.dev, now.ino) || planned.kind != now.kind {
        diffs.push("replaced by another file".to_string());
    }
    if (planned.uid, planned.gid) != (now.uid, now.gid) {
        diffs.push(format!(
            "owner {}:{} -> {}:{}",
            planned.uid, planned.gid, now.uid, now.gid
        ));
    }
    if planned.mode != now.mode {
        diffs.push(format!("mode {:04o} -> {:04o}", planned.mode, now.mode));
    }
    if planned.kind != Kind::Dir && planned.nlink != now.nlink {
        diffs.push(format!("links {} -> {}", planned.nlink, now.nlink));
    }
    if planned.kind == Kind::File && planned.size != now.size {
        diffs.push(format!("size {} -> {}", planned.size, now.size));
    }
    (!diffs.is_empty()).then(|| diffs.join(", "))
}

/// The refusal of a step whose target changed since it was planned (or `Ok` when it did not).
pub fn recheck(planned: &Meta, now: Option<&Meta>) -> Result<(), String> {
    match now {
        None => Err("vanished since the plan was made: left alone".into()),
        Some(now) => match unchanged(planned, now) {
            None => Ok(()),
            Some(what) => Err(format!(
                "changed since the plan was made ({what}): left alone; run again for a new plan"
            )),
        },
    }
}
