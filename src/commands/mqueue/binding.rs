//! Is a site's queue charged to its quota, and can the site's sendmail still queue in it? The
//! directory's group and setgid bit make new queue files the site's; the `DefaultUser` in its
//! sendmail.cf decides what sendmail runs as. sendmail, run as root as on Ensim, creates its df files
//! through its own safefile() check, which uses the directory's owner bits only when the owner is
//! root: an `adminN`-owned 2770 queue makes it fail ("Cannot write ./df...: Permission denied"). So the
//! rule, the same one `mqueue fix` applies: `root:adminN`, setgid, group rwx (2770), or a world-writable
//! mode (accepted, with a warning). Pure: every fact is passed in.

use crate::finding::Finding;
use crate::readers::mqueue::queue::Owner;
use crate::readers::sendmail_cf::DefaultUser;
use crate::readers::sites::Site;
use crate::readers::users::UserDb;
use crate::status::Status;
use serde::{Serialize, Serializer};

/// Why a queue is not bound to its site's quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unbound {
    /// The directory's group is not the site's: new queue files are not charged to it.
    Group,
    NotSetgid,
    /// The group has no rwx: the site's sendmail cannot queue.
    GroupMode,
    /// A root-run sendmail cannot create files in it (safefile()).
    RootCannotWrite,
    /// The site's admin is not settled: `mqueue fix` refuses the site.
    IdentityRefused,
    /// DefaultUser is not the site's admin group.
    DefaultUser,
    NoDefaultUser,
}

/// One reason a queue is not bound. An unbound queue is a warning on its own; the `mqueue` status
/// rests on queue sizes (SPEC 4), so these are shown and named in the fix, never counted into it.
pub type Reason = Finding<Unbound>;

fn reason(code: Unbound, text: impl Into<String>) -> Reason {
    Finding::plain(code, Status::Warning, text)
}

#[derive(Debug, Serialize)]
pub struct Binding {
    pub bound: bool,
    /// `root:mail`.
    pub owner: String,
    /// `0700`, `2770`.
    pub mode: String,
    pub setgid: bool,
    pub world_writable: bool,
    pub default_user: Option<String>,
    pub default_user_file: Option<String>,
    /// Why it is not bound (empty when bound), shown in JSON as their sentences.
    #[serde(serialize_with = "texts")]
    pub reasons: Vec<Reason>,
    /// The command that binds it.
    pub fix: Option<String>,
}

fn texts<S: Serializer>(reasons: &[Reason], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(reasons.iter().map(|r| r.text.as_str()))
}

impl Binding {
    /// The reasons' sentences, in order.
    pub fn reason_texts(&self) -> Vec<&str> {
        self.reasons.iter().map(|r| r.text.as_str()).collect()
    }
}

/// The binding state of `site`'s queue directory, with the reasons it is not bound.
pub fn binding(
    site: &Site,
    dir: Owner,
    default_user: Option<&DefaultUser>,
    users: &UserDb,
) -> Binding {
    let gid = site.quota_gid();
    let group_name = |g: u32| users.group_name(g);
    let admin = site.admin.clone().unwrap_or_else(|| site.name.clone());
    let mut reasons = Vec::new();
    if gid != Some(dir.gid) {
        reasons.push(reason(
            Unbound::Group,
            format!("directory group is {}, not {admin}", group_name(dir.gid)),
        ));
    }
    let setgid = dir.mode & 0o2000 != 0;
    if !setgid {
        reasons.push(reason(Unbound::NotSetgid, "directory is not setgid"));
    }
    if dir.mode & 0o070 != 0o070 {
        reasons.push(reason(
            Unbound::GroupMode,
            format!("mode {:04o} does not give the group rwx", dir.mode),
        ));
    }
    if let Some(why) = root_cannot_write(dir, users) {
        reasons.push(reason(Unbound::RootCannotWrite, why));
    }
    if site.refused.is_some() {
        reasons.push(reason(
            Unbound::IdentityRefused,
            "its admin is not settled (identity refused): mqueue fix refuses it",
        ));
    }
    match default_user {
        Some(du) if du.gid.is_some() && du.gid == gid => {}
        Some(du) => reasons.push(reason(
            Unbound::DefaultUser,
            format!("DefaultUser={} in {}", du.value, du.file),
        )),
        None => reasons.push(reason(
            Unbound::NoDefaultUser,
            "no DefaultUser in the site's sendmail.cf",
        )),
    }
    let bound = reasons.is_empty();
    Binding {
        bound,
        owner: format!("{}:{}", users.user_name(dir.uid), group_name(dir.gid)),
        mode: format!("{:04o}", dir.mode),
        setgid,
        world_writable: dir.mode & 0o002 != 0,
        default_user: default_user.map(|d| d.value.clone()),
        default_user_file: default_user.map(|d| d.file.clone()),
        reasons,
        fix: (!bound && site.refused.is_none())
            .then(|| format!("toolkit mqueue fix --site {}", site.handle())),
    }
}

/// Why sendmail running as root cannot create files in the directory, if it cannot: safefile() takes
/// the owner bits when the directory's owner is root, else the group bits when its group is root's
/// (gid 0), else the "other" bits (measured with sendmail 8.17 in tests/it/mqueue_fix_sendmail.rs).
pub fn root_cannot_write(dir: Owner, users: &UserDb) -> Option<String> {
    let bits = if dir.uid == 0 {
        dir.mode >> 6
    } else if dir.gid == 0 {
        dir.mode >> 3
    } else {
        dir.mode
    } & 0o3;
    if bits == 0o3 {
        return None;
    }
    let mode = format!("{:04o}", dir.mode);
    Some(if dir.uid == 0 {
        format!("mode {mode} does not let its owner root write")
    } else {
        format!(
            "owned by {}, not root: a root-run sendmail cannot queue in it (mode {mode}; its \
             safefile() check uses the owner bits only for root)",
            users.user_name(dir.uid)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Site {
        Site {
            name: "site11".into(),
            domains: vec!["example.com".into()],
            admin: Some("admin11".into()),
            uid: Some(511),
            gid: Some(511),
            fst_gid: Some(511),
            ..Default::default()
        }
    }

    fn du(value: &str, gid: u32) -> DefaultUser {
        DefaultUser {
            value: value.into(),
            uid: Some(gid),
            gid: Some(gid),
            file: "etc/sendmail.cf".into(),
        }
    }

    fn users() -> UserDb {
        let mut m = UserDb::empty();
        m.add_group(crate::readers::users::Group::new(12, "mail"));
        m.add_group(crate::readers::users::Group::new(511, "admin11"));
        m.add_user(crate::readers::users::User::new(0, "root", 0));
        m
    }

    #[test]
    fn bound_needs_group_setgid_and_default_user() {
        let ok = Owner {
            uid: 0,
            gid: 511,
            mode: 0o2770,
        };
        let b = binding(&site(), ok, Some(&du("511:511", 511)), &users());
        assert!(b.bound && b.reasons.is_empty() && b.fix.is_none());
        assert_eq!(
            serde_json::to_value(&b).unwrap()["reasons"],
            serde_json::json!([])
        );
        assert_eq!(
            (b.owner.as_str(), b.mode.as_str()),
            ("root:admin11", "2770")
        );
        let ensim = Owner {
            uid: 0,
            gid: 12,
            mode: 0o700,
        };
        let b = binding(&site(), ensim, Some(&du("mail:mail", 12)), &users());
        assert!(!b.bound);
        let codes: Vec<Unbound> = b.reasons.iter().map(|r| r.code).collect();
        assert_eq!(
            codes,
            [
                Unbound::Group,
                Unbound::NotSetgid,
                Unbound::GroupMode,
                Unbound::DefaultUser
            ]
        );
        // JSON shows the sentences, as it always has.
        assert_eq!(
            serde_json::to_value(&b).unwrap()["reasons"][0],
            "directory group is mail, not admin11"
        );
        assert_eq!(
            b.reason_texts(),
            [
                "directory group is mail, not admin11",
                "directory is not setgid",
                "mode 0700 does not give the group rwx",
                "DefaultUser=mail:mail in etc/sendmail.cf"
            ]
        );
        assert_eq!(
            b.fix.as_deref(),
            Some("toolkit mqueue fix --site example.com")
        );
        // The old recipe's 2777 binds, but lets anyone delete queued mail.
        let open = Owner {
            uid: 511,
            gid: 511,
            mode: 0o2777,
        };
        let b = binding(&site(), open, Some(&du("511:511", 511)), &users());
        assert!(b.bound && b.world_writable);
        let b = binding(&site(), ok, None, &users());
        assert_eq!(
            b.reason_texts(),
            ["no DefaultUser in the site's sendmail.cf"]
        );
    }

    #[test]
    fn an_admin_owned_queue_a_root_run_sendmail_cannot_write_is_not_bound() {
        let mut u = users();
        u.add_user(crate::readers::users::User::new(511, "admin11", 511));
        for mode in [0o2770, 0o0770, 0o2700] {
            let dir = Owner {
                uid: 511,
                gid: 511,
                mode,
            };
            let b = binding(&site(), dir, Some(&du("511:511", 511)), &u);
            assert!(!b.bound, "{mode:o}");
            assert!(
                b.reason_texts().iter().any(|r| r.starts_with(
                    "owned by admin11, not root: a root-run sendmail cannot queue in it"
                )),
                "{mode:o}: {:?}",
                b.reasons
            );
            assert_eq!(
                b.fix.as_deref(),
                Some("toolkit mqueue fix --site example.com")
            );
        }
        let no_group_write = Owner {
            uid: 0,
            gid: 511,
            mode: 0o2750,
        };
        let b = binding(&site(), no_group_write, Some(&du("511:511", 511)), &u);
        assert_eq!(b.reason_texts(), ["mode 2750 does not give the group rwx"]);
    }

    #[test]
    fn a_refused_site_is_not_offered_a_fix_command() {
        let s = Site {
            refused: Some("sources disagree: siteinfo admin = admin2, ...".into()),
            ..site()
        };
        let ok = Owner {
            uid: 0,
            gid: 511,
            mode: 0o2770,
        };
        let b = binding(&s, ok, Some(&du("511:511", 511)), &users());
        assert!(!b.bound && b.fix.is_none());
        assert_eq!(
            b.reason_texts(),
            ["its admin is not settled (identity refused): mqueue fix refuses it"]
        );
    }
}
