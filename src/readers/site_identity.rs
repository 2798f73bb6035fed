//! Who a site's Unix admin is, from the host's own records (Ensim): siteinfo's `admin`/`wp_user`, the
//! `home/virtual/adminN` link and the group owning `siteN/fst`, each checked against the root's
//! `etc/passwd` and `etc/group`. siteinfo's `admin_user` is the site administrator's own login (it
//! lives in `siteN/fst/etc/passwd`): it is shown, never taken as the Unix identity. Sources that
//! disagree, name another site's admin or a group that does not exist make the site refused, with the
//! disagreement spelled out: nothing is ever silently picked. Pure: every fact is passed in.

use crate::readers::users::UserDb;
use std::collections::BTreeMap;

/// The siteinfo keys that name a site's Unix admin (`admin_user` is the site's own login: never one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteinfoKey {
    Admin,
    WpUser,
}

impl SiteinfoKey {
    /// Every key that names the admin, in the order they are read.
    pub const ALL: [SiteinfoKey; 2] = [SiteinfoKey::Admin, SiteinfoKey::WpUser];

    /// The key as siteinfo spells it, and as it is shown.
    pub fn key(self) -> &'static str {
        match self {
            SiteinfoKey::Admin => "admin",
            SiteinfoKey::WpUser => "wp_user",
        }
    }
}

/// Where a candidate admin name was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `admin` or `wp_user` in `siteN/info/current/siteinfo`.
    Siteinfo(SiteinfoKey),
    /// `home/virtual/adminN -> siteN/fst`.
    Link,
    /// The group owning `siteN/fst`.
    FstGroup,
}

impl Source {
    fn describe(&self, name: &str, site: &str) -> String {
        match self {
            Source::Siteinfo(key) => format!("siteinfo {} = {name}", key.key()),
            Source::Link => format!("home/virtual/{name} -> {site}/fst"),
            Source::FstGroup => format!("fst owned by group {name}"),
        }
    }
}

/// What one site's records say, before deciding.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// `siteN`.
    pub site: String,
    /// Candidate admin names with where each was found.
    pub claims: Vec<(String, Source)>,
    /// siteinfo's `admin_user`: the site's own login.
    pub login: Option<String>,
    /// The gid owning fst, when fst was read.
    pub fst_gid: Option<u32>,
}

/// The decision for one site.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Identity {
    pub admin: Option<String>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// Where the admin was found, for a person: `siteinfo wp_user = admin1`, ...
    pub sources: Vec<String>,
    /// Why `fix` must not touch this site (the disagreement spelled out).
    pub refused: Option<String>,
    /// Worth saying, but not a reason to refuse.
    pub notes: Vec<String>,
}

pub fn is_admin_name(name: &str) -> bool {
    name.strip_prefix("admin")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The claims of the fst group: its name when it exists in etc/group and is an `adminN` group (a site
/// tree owned by `root` or `users` names nobody).
pub fn fst_claim(fst_gid: Option<u32>, users: &UserDb) -> Option<(String, Source)> {
    let g = users.group_by_gid(fst_gid?)?;
    let name = g.name().to_string_lossy().into_owned();
    is_admin_name(&name).then_some((name, Source::FstGroup))
}

/// Decides every site's identity; a name claimed by two sites is refused where it is not backed by
/// the site's own `home/virtual/adminN` link (a link can point to one site only).
pub fn decide_all(all: &[Evidence], users: &UserDb) -> Vec<Identity> {
    // name -> (site, source) for every claim of every site.
    let mut owners: BTreeMap<&str, Vec<(&str, &Source)>> = BTreeMap::new();
    for ev in all {
        for (name, source) in &ev.claims {
            owners
                .entry(name.as_str())
                .or_default()
                .push((ev.site.as_str(), source));
        }
    }
    all.iter()
        .map(|ev| {
            let others = |name: &str| -> Vec<(String, Source)> {
                owners
                    .get(name)
                    .into_iter()
                    .flatten()
                    .filter(|(s, _)| *s != ev.site)
                    .map(|(s, src)| (s.to_string(), (*src).clone()))
                    .collect()
            };
            decide(ev, &others, users)
        })
        .collect()
}

/// One site's identity. `others(name)` lists the other sites claiming `name` and how.
pub fn decide(
    ev: &Evidence,
    others: &dyn Fn(&str) -> Vec<(String, Source)>,
    users: &UserDb,
) -> Identity {
    let site = ev.site.as_str();
    let mut id = Identity {
        sources: ev.claims.iter().map(|(n, s)| s.describe(n, site)).collect(),
        ..Identity::default()
    };
    (id.admin, id.refused) = choose(ev, others, users, &id.sources);
    if id.refused.is_some() {
        return id;
    }
    let Some(admin) = id.admin.clone() else {
        return id;
    };
    match bind(ev, users, &admin, &id.sources) {
        Ok((uid, gid, notes)) => {
            (id.uid, id.gid, id.notes) = (Some(uid), Some(gid), notes);
        }
        Err(why) => id.refused = Some(why),
    }
    id
}

/// The admin the site's claims name, and why the site is refused when they do not name one admin
/// of its own (none, several, or one another site claims too).
fn choose(
    ev: &Evidence,
    others: &dyn Fn(&str) -> Vec<(String, Source)>,
    users: &UserDb,
    sources: &[String],
) -> (Option<String>, Option<String>) {
    let site = ev.site.as_str();
    let mut names: Vec<&str> = ev.claims.iter().map(|(n, _)| n.as_str()).collect();
    names.sort();
    names.dedup();
    let own_link = |name: &str| {
        ev.claims
            .iter()
            .any(|(n, s)| n == name && *s == Source::Link)
    };
    // Another site's claim on a name, spelled out: `admin2 is site2's admin (home/virtual/admin2 -> site2/fst)`.
    let foreign = |name: &str| -> Option<String> {
        let theirs = others(name);
        let (other, how) = theirs
            .iter()
            .find(|(_, s)| *s == Source::Link)
            .or_else(|| theirs.first())?;
        Some(format!(
            "{name} is {other}'s admin ({})",
            how.describe(name, other)
        ))
    };
    let login_clash = ev
        .login
        .as_deref()
        .filter(|l| !names.contains(l))
        .and_then(|l| foreign(l).map(|f| (l, f)));
    let (admin, refused) = match names.as_slice() {
        [] => (
            None,
            Some(format!(
                "no admin found: no siteinfo admin or wp_user, no home/virtual/adminN link to \
                 {site}/fst, and fst is not owned by an adminN group{}",
                ev.fst_gid
                    .map(|g| format!(" (its group is {})", users.group_name(g)))
                    .unwrap_or_default()
            )),
        ),
        [name] => (
            Some(name.to_string()),
            foreign(name)
                .filter(|_| !own_link(name))
                .map(|f| format!("{}; but {f}", sources.join(", "))),
        ),
        _ => {
            let clashes: Vec<String> = names.iter().filter_map(|n| foreign(n)).collect();
            let mut why = format!("sources disagree: {}", sources.join(", "));
            if !clashes.is_empty() {
                why.push_str(&format!(" ({})", clashes.join("; ")));
            }
            // The site's own link still names it (for --site adminN), but nothing is bound to it.
            let admin = names.iter().find(|n| own_link(n)).map(|n| n.to_string());
            (admin, Some(why))
        }
    };
    match (refused, login_clash) {
        (None, Some((login, f))) => (
            admin,
            Some(format!(
                "siteinfo admin_user = {login}, but {f}: admin_user is the site's own login, so \
                 siteinfo is not this site's"
            )),
        ),
        (refused, _) => (admin, refused),
    }
}

/// The admin's uid and gid from the root's user database, with what is worth noting; why not, when
/// the user or group is missing or is root's.
fn bind(
    ev: &Evidence,
    users: &UserDb,
    admin: &str,
    sources: &[String],
) -> Result<(u32, u32, Vec<String>), String> {
    let user = users.user_by_name(admin);
    let group = users.group_by_name(admin);
    let mut missing = Vec::new();
    if user.is_none() {
        missing.push(format!("user {admin} is not in etc/passwd"));
    }
    if group.is_none() {
        let fst = ev
            .fst_gid
            .map(|g| format!(" (fst is owned by gid {g})"))
            .unwrap_or_default();
        missing.push(format!("group {admin} is not in etc/group{fst}"));
    }
    let (Some(user), Some(group)) = (user, group) else {
        return Err(missing.join("; "));
    };
    let (uid, gid) = (user.uid(), group.gid());
    if uid == 0 || gid == 0 {
        // A site's quota is never root's: binding its queue to root would charge nothing to anyone.
        return Err(format!(
            "{admin} has uid or gid 0 ({}): root is never a site admin",
            sources.join(", ")
        ));
    }
    let mut notes = Vec::new();
    if let Some(fg) = ev.fst_gid.filter(|&fg| fg != gid) {
        notes.push(format!(
            "fst is owned by group {}, not the admin group {admin}",
            users.group_name(fg)
        ));
    }
    Ok((uid, gid, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users(groups: &[(u32, &str)]) -> UserDb {
        let mut m = UserDb::empty();
        for (n, name) in [(501, "admin1"), (502, "admin2"), (503, "admin3")] {
            m.add_user(crate::readers::users::User::new(n, name, n));
        }
        m.add_group(crate::readers::users::Group::new(0, "root"));
        for &(gid, name) in groups {
            m.add_group(crate::readers::users::Group::new(gid, name));
        }
        m
    }

    fn all_groups() -> UserDb {
        users(&[(501, "admin1"), (502, "admin2"), (503, "admin3")])
    }

    fn ev(site: &str, claims: &[(&str, Source)], login: Option<&str>, fst: u32) -> Evidence {
        Evidence {
            site: site.into(),
            claims: claims
                .iter()
                .map(|(n, s)| (n.to_string(), s.clone()))
                .collect(),
            login: login.map(Into::into),
            fst_gid: Some(fst),
        }
    }

    fn site2() -> Evidence {
        ev(
            "site2",
            &[("admin2", Source::Link), ("admin2", Source::FstGroup)],
            None,
            502,
        )
    }

    #[test]
    fn consistent_sources_give_the_admin_and_the_login_is_only_shown() {
        let s1 = ev(
            "site1",
            &[
                ("admin1", Source::Siteinfo(SiteinfoKey::WpUser)),
                ("admin1", Source::Link),
                ("admin1", Source::FstGroup),
            ],
            Some("exampleadm"),
            501,
        );
        let ids = decide_all(&[s1, site2()], &all_groups());
        let id = &ids[0];
        assert_eq!(
            (id.admin.as_deref(), id.uid, id.gid, &id.refused),
            (Some("admin1"), Some(501), Some(501), &None)
        );
        assert_eq!(
            id.sources,
            [
                "siteinfo wp_user = admin1",
                "home/virtual/admin1 -> site1/fst",
                "fst owned by group admin1"
            ]
        );
        assert!(id.notes.is_empty(), "{:?}", id.notes);
    }

    #[test]
    fn siteinfo_naming_another_sites_admin_is_refused_with_both_sides() {
        let s1 = ev(
            "site1",
            &[
                ("admin2", Source::Siteinfo(SiteinfoKey::Admin)),
                ("admin1", Source::Link),
                ("admin1", Source::FstGroup),
            ],
            None,
            501,
        );
        let ids = decide_all(&[s1, site2()], &all_groups());
        assert_eq!(
            ids[0].refused.as_deref(),
            Some(
                "sources disagree: siteinfo admin = admin2, home/virtual/admin1 -> site1/fst, fst \
                 owned by group admin1 (admin2 is site2's admin (home/virtual/admin2 -> site2/fst))"
            )
        );
        assert_eq!((ids[0].uid, ids[0].gid), (None, None));
        assert_eq!(ids[0].admin.as_deref(), Some("admin1"));
        // site2 keeps its own admin: its link backs it.
        assert_eq!(ids[1].refused, None);
        assert_eq!(ids[1].gid, Some(502));
    }

    #[test]
    fn admin_user_naming_another_sites_admin_is_refused() {
        let s1 = ev(
            "site1",
            &[("admin1", Source::Link), ("admin1", Source::FstGroup)],
            Some("admin2"),
            501,
        );
        let ids = decide_all(&[s1, site2()], &all_groups());
        let why = ids[0].refused.as_deref().unwrap();
        assert!(
            why.starts_with("siteinfo admin_user = admin2, but admin2 is site2's admin"),
            "{why}"
        );
        // Its own adminN as admin_user (older panels) is consistent.
        let s1 = ev("site1", &[("admin1", Source::Link)], Some("admin1"), 501);
        assert_eq!(decide_all(&[s1, site2()], &all_groups())[0].refused, None);
    }

    #[test]
    fn a_name_only_another_sites_link_backs_is_refused() {
        let s1 = ev(
            "site1",
            &[("admin2", Source::Siteinfo(SiteinfoKey::WpUser))],
            None,
            0,
        );
        let ids = decide_all(&[s1, site2()], &all_groups());
        assert_eq!(
            ids[0].refused.as_deref(),
            Some(
                "siteinfo wp_user = admin2; but admin2 is site2's admin (home/virtual/admin2 -> \
                 site2/fst)"
            )
        );
        assert_eq!(ids[1].refused, None);
    }

    #[test]
    fn missing_group_and_no_source_are_refused() {
        let s3 = ev("site3", &[("admin3", Source::Link)], Some("blogadm"), 503);
        let ids = decide_all(&[s3], &users(&[(501, "admin1")]));
        assert_eq!(
            ids[0].refused.as_deref(),
            Some("group admin3 is not in etc/group (fst is owned by gid 503)")
        );
        assert_eq!(ids[0].gid, None);
        let none = ev("site4", &[], Some("listadm"), 0);
        let ids = decide_all(&[none], &all_groups());
        assert_eq!(
            ids[0].refused.as_deref(),
            Some(
                "no admin found: no siteinfo admin or wp_user, no home/virtual/adminN link to \
                 site4/fst, and fst is not owned by an adminN group (its group is root)"
            )
        );
    }

    #[test]
    fn root_is_never_a_site_admin() {
        let mut m = UserDb::empty();
        m.add_user(crate::readers::users::User::new(0, "root", 0));
        m.add_group(crate::readers::users::Group::new(0, "root"));
        let s1 = ev(
            "site1",
            &[("root", Source::Siteinfo(SiteinfoKey::Admin))],
            None,
            0,
        );
        let id = &decide_all(&[s1], &m)[0];
        assert_eq!(
            id.refused.as_deref(),
            Some("root has uid or gid 0 (siteinfo admin = root): root is never a site admin")
        );
        assert_eq!((id.uid, id.gid), (None, None));
    }

    #[test]
    fn fst_group_only_counts_when_it_is_an_admin_group() {
        let u = all_groups();
        assert_eq!(
            fst_claim(Some(503), &u),
            Some(("admin3".into(), Source::FstGroup))
        );
        assert_eq!(fst_claim(Some(0), &u), None);
        assert_eq!(fst_claim(Some(777), &u), None);
        // A root-owned fst is a note, not a refusal, when the other sources agree.
        let s1 = ev("site1", &[("admin1", Source::Link)], None, 0);
        let id = &decide_all(&[s1], &u)[0];
        assert_eq!(id.refused, None);
        assert_eq!(
            id.notes,
            ["fst is owned by group root, not the admin group admin1"]
        );
    }
}
