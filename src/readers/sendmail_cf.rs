//! The `DefaultUser` a site's sendmail runs deliveries and queue files as, from its `sendmail.cf`
//! (`O DefaultUser=mail:mail`, or the old one-letter `Ou`/`Og` options), read without following
//! symlinks inside the site.

use crate::readers::users::UserDb;
use crate::safeops::read::{open_dir_beneath, read_file_at};
use crate::sendmail::layout::CF_FILES;
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DefaultUser {
    /// As written: `mail:mail`, `501:501`, `admin11`.
    pub value: String,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// The cf file it was read from, relative to the site's fst (`etc/sendmail.cf`).
    pub file: String,
}

/// The DefaultUser setting in the sendmail.cf under `fst` (with the cf's path relative to fst),
/// resolved to ids. `None` when there is no cf or no setting.
pub fn read(fst: &Path, users: &UserDb) -> Option<DefaultUser> {
    for rel in CF_FILES {
        let rel = Path::new(rel);
        let (dir, name) = (rel.parent()?, rel.file_name()?);
        let Ok(fd) = open_dir_beneath(fst, dir) else {
            continue;
        };
        let Ok((bytes, _, _)) = read_file_at(&fd, name, 4 << 20) else {
            continue;
        };
        let file = rel.display().to_string();
        return parse(&bytes).map(|value| resolve(value, file, users));
    }
    None
}

/// The DefaultUser value of a cf file's text (one parser for the scan and the fix).
pub fn parse(cf: &[u8]) -> Option<String> {
    crate::sendmail::defaultuser::cf_get(cf)
}

/// The uid and gid a DefaultUser value stands for.
pub fn resolve(value: String, file: String, users: &UserDb) -> DefaultUser {
    let (u, g) = match value.split_once(':') {
        Some((u, g)) => (u.to_string(), Some(g.to_string())),
        None => (value.clone(), None),
    };
    let uid = u
        .parse()
        .ok()
        .or_else(|| users.user_by_name(&u).map(|x| x.uid()));
    let gid = match g {
        Some(g) => g
            .parse()
            .ok()
            .or_else(|| users.group_by_name(&g).map(|x| x.gid())),
        // A user alone means its primary group.
        None => users.user_by_name(&u).map(|x| x.primary_group_id()),
    };
    DefaultUser {
        value,
        uid,
        gid,
        file,
    }
}
