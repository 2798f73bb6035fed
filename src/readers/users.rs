//! User and group names from the root's `etc/passwd` and `etc/group` (never the live system's NSS when
//! the root is fake), served through `uzers`' traits so callers do not care which.

use crate::error::{Error, Result};
use crate::root::Root;
use std::sync::Arc;
use uzers::mock::MockUsers;
use uzers::{Group, Groups, User, Users, UsersCache};

/// A user/group database for the chosen root.
pub enum UserDb {
    Live(UsersCache),
    Files(MockUsers),
}

impl UserDb {
    pub fn open(root: &Root) -> Result<UserDb> {
        if root.is_live() {
            return Ok(UserDb::Live(UsersCache::new()));
        }
        let mut db = MockUsers::with_current_uid(0);
        let passwd = root.join("etc/passwd");
        for (lineno, fields) in read_colon_file(&passwd)? {
            let uid = fields.get(2).and_then(|s| s.parse().ok());
            let gid = fields.get(3).and_then(|s| s.parse().ok());
            match (uid, gid) {
                (Some(uid), Some(gid)) if !fields[0].is_empty() => {
                    db.add_user(User::new(uid, fields[0].as_str(), gid));
                }
                _ => {
                    return Err(Error::malformed(
                        &passwd,
                        Some(lineno),
                        "expected name:x:uid:gid:...",
                    ))
                }
            }
        }
        let group = root.join("etc/group");
        for (lineno, fields) in read_colon_file(&group)? {
            match fields.get(2).and_then(|s| s.parse().ok()) {
                Some(gid) if !fields[0].is_empty() => {
                    db.add_group(Group::new(gid, fields[0].as_str()));
                }
                _ => {
                    return Err(Error::malformed(
                        &group,
                        Some(lineno),
                        "expected name:x:gid:members",
                    ))
                }
            }
        }
        Ok(UserDb::Files(db))
    }

    pub fn user_by_name(&self, name: &str) -> Option<Arc<User>> {
        match self {
            UserDb::Live(c) => c.get_user_by_name(name),
            UserDb::Files(m) => m.get_user_by_name(name),
        }
    }

    pub fn user_by_uid(&self, uid: u32) -> Option<Arc<User>> {
        match self {
            UserDb::Live(c) => c.get_user_by_uid(uid),
            UserDb::Files(m) => m.get_user_by_uid(uid),
        }
    }

    pub fn group_by_name(&self, name: &str) -> Option<Arc<Group>> {
        match self {
            UserDb::Live(c) => c.get_group_by_name(name),
            UserDb::Files(m) => m.get_group_by_name(name),
        }
    }

    pub fn group_by_gid(&self, gid: u32) -> Option<Arc<Group>> {
        match self {
            UserDb::Live(c) => c.get_group_by_gid(gid),
            UserDb::Files(m) => m.get_group_by_gid(gid),
        }
    }

    /// `name` for a known uid, the number otherwise (as `ls -l` shows it).
    pub fn user_name(&self, uid: u32) -> String {
        self.user_by_uid(uid)
            .map(|u| u.name().to_string_lossy().into_owned())
            .unwrap_or_else(|| uid.to_string())
    }

    pub fn group_name(&self, gid: u32) -> String {
        self.group_by_gid(gid)
            .map(|g| g.name().to_string_lossy().into_owned())
            .unwrap_or_else(|| gid.to_string())
    }
}

/// Non-comment lines of a colon-separated file, with line numbers.
fn read_colon_file(path: &std::path::Path) -> Result<Vec<(usize, Vec<String>)>> {
    let bytes =
        super::capped::read(path, super::capped::TABLE_CAP).map_err(|e| Error::io(path, e))?;
    Ok(String::from_utf8_lossy(&bytes)
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| (i + 1, l.split(':').map(str::to_string).collect()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_root_uses_its_own_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\nadmin11:x:511:511::/home:/bin/false\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("etc/group"),
            "root:x:0:\nmail:x:12:\nadmin11:x:511:\n",
        )
        .unwrap();
        let db = UserDb::open(&Root::new(dir.path()).unwrap()).unwrap();
        assert_eq!(db.user_by_name("admin11").unwrap().uid(), 511);
        assert_eq!(db.group_name(12), "mail");
        assert_eq!(db.user_name(4242), "4242");
        assert!(db.user_by_name("nobody-here").is_none());
    }

    #[test]
    fn malformed_passwd_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\nbroken-line\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("etc/group"), "").unwrap();
        let err = UserDb::open(&Root::new(dir.path()).unwrap())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("etc/passwd:2"), "{err}");
    }
}
