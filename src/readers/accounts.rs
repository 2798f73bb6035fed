//! Hosting accounts of a cPanel, DirectAdmin or Plesk host, from the panel's own maps under the root:
//! cPanel `etc/userdomains` and `etc/trueuserdomains`, DirectAdmin `etc/virtual/domainowners`
//! (`domain: user` lines), Plesk's `var/www/vhosts/DOMAIN` directories (owned by the subscription's
//! system user). A queued message is attributed to an account by the uid that submitted it, else by
//! its sender's domain, and the reason is kept.

use crate::readers::mta::MtaMessage;
use crate::readers::skips::Skips;
use crate::readers::users::UserDb;
use crate::root::Root;
use crate::safeops::read::{is, open_dir_beneath, stat_at};
use nix::sys::stat::SFlag;
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The maps read as `domain: user`.
pub const DOMAIN_MAPS: [&str; 3] = [
    "etc/trueuserdomains",
    "etc/userdomains",
    "etc/virtual/domainowners",
];
const PLESK_VHOSTS: &str = "var/www/vhosts";
/// Plesk's own directories beside the domains.
const PLESK_SPECIAL: [&str; 6] = [
    "system",
    "default",
    "chroot",
    "fs",
    "fs-passwd",
    "lost+found",
];
/// Map files larger than this are not read (a real one holds a line per domain).
const MAP_CAP: usize = 64 << 20;

/// Who owns which domain, and which Unix users are accounts.
#[derive(Debug, Default)]
pub struct AccountDb {
    /// Domain (lower case) -> (account, the map that says so).
    domains: BTreeMap<String, (String, &'static str)>,
    accounts: BTreeSet<String>,
    /// The panels whose maps were found.
    pub sources: Vec<&'static str>,
    /// The first uid of ordinary users (`UID_MIN` in etc/login.defs, else 1000).
    uid_min: u32,
}

/// Which account a message is charged to, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribution {
    pub account: Option<String>,
    pub reason: String,
    /// Submitted by the account's own Unix user: its scripts (or its mail client on the host).
    pub by_uid: bool,
}

/// `domain: user` lines; `*: nobody` and comments ignored.
fn parse_map(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let (d, u) = l.split_once(':')?;
            let (d, u) = (d.trim().to_ascii_lowercase(), u.trim());
            let ok = !d.is_empty() && d != "*" && !d.starts_with('#') && !u.is_empty();
            ok.then(|| (d, u.split_whitespace().next().unwrap_or(u).to_string()))
        })
        .collect()
}

impl AccountDb {
    pub fn read(root: &Root, users: &UserDb, skips: &mut Skips) -> AccountDb {
        let mut db = AccountDb {
            uid_min: uid_min(root),
            ..Default::default()
        };
        for map in DOMAIN_MAPS {
            let path = root.join(map);
            let (dir, name) = (
                Path::new(map).parent().unwrap(),
                Path::new(map).file_name().unwrap(),
            );
            let fd = match open_dir_beneath(root.path(), dir) {
                Ok(fd) => fd,
                Err(_) => continue,
            };
            match crate::safeops::read::read_file_at(&fd, name, MAP_CAP) {
                Ok((bytes, _, _)) => {
                    let source = if map.contains("virtual") {
                        "DirectAdmin"
                    } else {
                        "cPanel"
                    };
                    if !db.sources.contains(&source) {
                        db.sources.push(source);
                    }
                    for (d, u) in parse_map(&String::from_utf8_lossy(&bytes)) {
                        if u == "nobody" {
                            continue;
                        }
                        db.accounts.insert(u.clone());
                        db.domains.entry(d).or_insert((u, map));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => skips.add(root, &path, &e.to_string()),
            }
        }
        db.read_plesk(root, users, skips);
        db
    }

    fn read_plesk(&mut self, root: &Root, users: &UserDb, skips: &mut Skips) {
        let fd = match open_dir_beneath(root.path(), Path::new(PLESK_VHOSTS)) {
            Ok(fd) => fd,
            Err(_) => return,
        };
        let Ok(dir) = nix::dir::Dir::from_fd(match fd.try_clone() {
            Ok(f) => f,
            Err(_) => return,
        }) else {
            return;
        };
        let mut found = false;
        for e in dir.into_iter().flatten() {
            let name = std::ffi::OsStr::from_bytes(e.file_name().to_bytes());
            let text = name.to_string_lossy().to_ascii_lowercase();
            if text.starts_with('.')
                || PLESK_SPECIAL.contains(&text.as_str())
                || !text.contains('.')
            {
                continue;
            }
            match stat_at(&fd, name) {
                // A symlinked domain is another's alias: its target's owner is not checked here.
                Ok(st) if is(st, SFlag::S_IFDIR) => {
                    let Some(user) = users.user_by_uid(st.st_uid) else {
                        continue;
                    };
                    let user = user.name().to_string_lossy().into_owned();
                    if st.st_uid == 0 {
                        continue;
                    }
                    found = true;
                    self.accounts.insert(user.clone());
                    self.domains.entry(text).or_insert((user, PLESK_VHOSTS));
                }
                Ok(_) => {}
                Err(e) => skips.add(root, &root.join(PLESK_VHOSTS).join(name), e.desc()),
            }
        }
        if found {
            self.sources.push("Plesk");
        }
    }

    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }

    /// The account owning `domain` or its closest parent domain, with the map that says so.
    pub fn owner_of<'a>(&'a self, domain: &'a str) -> Option<(&'a str, &'static str, &'a str)> {
        let mut d = domain.trim_end_matches('.');
        loop {
            if let Some((a, src)) = self.domains.get(d) {
                return Some((a.as_str(), src, d));
            }
            match d.split_once('.') {
                Some((_, rest)) if rest.contains('.') => d = rest,
                _ => return None,
            }
        }
    }

    /// Is this Unix user a hosting account (in a panel map, or an ordinary user by uid)?
    fn account_user(&self, uid: u32, users: &UserDb) -> Option<(String, bool)> {
        let name = users
            .user_by_uid(uid)?
            .name()
            .to_string_lossy()
            .into_owned();
        if self.accounts.contains(&name) {
            return Some((name, true));
        }
        (uid >= self.uid_min && uid != 65534).then_some((name, false))
    }

    pub fn attribute(&self, m: &MtaMessage, users: &UserDb) -> Attribution {
        let mut why_not = Vec::new();
        if let Some(uid) = m.uid {
            if let Some((name, in_map)) = self.account_user(uid, users) {
                let reason = if in_map {
                    format!("submitted by uid {uid} ({name}), the account's user")
                } else {
                    format!("submitted by uid {uid} ({name}), an ordinary user in no panel map")
                };
                return Attribution {
                    account: Some(name),
                    reason,
                    by_uid: true,
                };
            }
            why_not.push(format!(
                "uid {uid} ({}) is no account",
                users.user_name(uid)
            ));
        }
        match m.sender_domain() {
            Some(d) => match self.owner_of(&d) {
                Some((a, src, matched)) => {
                    let of = if matched == d {
                        format!("sender domain {d}")
                    } else {
                        format!("sender domain {d} (under {matched})")
                    };
                    return Attribution {
                        account: Some(a.to_string()),
                        reason: format!("{of} is {a}'s in {src}"),
                        by_uid: false,
                    };
                }
                None => why_not.push(format!("sender domain {d} is in no panel map")),
            },
            None => why_not.push("no sender domain".into()),
        }
        Attribution {
            account: None,
            reason: why_not.join("; "),
            by_uid: false,
        }
    }
}

fn uid_min(root: &Root) -> u32 {
    std::fs::read_to_string(root.join("etc/login.defs"))
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                let mut w = l.split_whitespace();
                (w.next() == Some("UID_MIN")).then(|| w.next()?.parse().ok())?
            })
        })
        .unwrap_or(1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readers::users::User;

    fn db() -> (AccountDb, UserDb) {
        let mut u = UserDb::empty();
        u.add_user(User::new(0, "root", 0));
        u.add_user(User::new(101, "Debian-exim", 101));
        u.add_user(User::new(600, "jdoe", 600));
        u.add_user(User::new(1500, "shell", 1500));
        let mut db = AccountDb {
            uid_min: 1000,
            ..Default::default()
        };
        for (d, a) in
            parse_map("example.com: jdoe\nshop.example.com: jdoe\n*: nobody\nother.org: amy\n")
        {
            db.accounts.insert(a.clone());
            db.domains.insert(d, (a, "etc/userdomains"));
        }
        (db, u)
    }

    fn msg(uid: Option<u32>, sender: &str) -> MtaMessage {
        MtaMessage {
            uid,
            sender: Some(sender.into()),
            ..Default::default()
        }
    }

    #[test]
    fn by_uid_then_by_domain() {
        let (db, users) = db();
        let a = db.attribute(&msg(Some(600), "x@elsewhere.net"), &users);
        assert_eq!(a.account.as_deref(), Some("jdoe"));
        assert!(a.by_uid && a.reason.contains("uid 600 (jdoe)"), "{a:?}");
        let a = db.attribute(&msg(Some(101), "bob@Mail.Example.com"), &users);
        assert_eq!(a.account.as_deref(), Some("jdoe"));
        assert!(!a.by_uid);
        assert!(a.reason.contains("under example.com"), "{}", a.reason);
        let a = db.attribute(&msg(Some(0), "x@other.org"), &users);
        assert_eq!(a.account.as_deref(), Some("amy"));
        let a = db.attribute(&msg(Some(1500), "x@nowhere.net"), &users);
        assert_eq!(a.account.as_deref(), Some("shell"));
        let a = db.attribute(&msg(Some(101), "x@nowhere.net"), &users);
        assert_eq!(a.account, None);
        assert!(a.reason.contains("Debian-exim") && a.reason.contains("nowhere.net"));
        // A lookalike is not a subdomain.
        assert_eq!(db.owner_of("evilexample.com"), None);
        assert_eq!(db.owner_of("com"), None);
    }
}
