//! Ensim-style virtual sites under `ROOT/home/virtual`: each real `siteN` directory is one site, named by
//! its domains and admin user from the domain map (`etc/virtualhosting/mappings/domainmap`), the
//! `home/virtual/<domain>` and `home/virtual/adminN` symlinks and `siteN/info/current/siteinfo`,
//! cross-checked with the group that owns `siteN/fst` (the admin is decided in `site_identity`).
//! Symlinks only name sites: a site is never counted twice, and nothing is read through them.

use crate::readers::site_identity::{self, is_admin_name, Evidence, SiteinfoKey, Source};
use crate::readers::skips::Skips;
use crate::readers::users::UserDb;
use crate::render::sanitize::decode;
use crate::root::Root;
use crate::safeops::read::{self as nofollow, open_dir_beneath};
use crate::sendmail::layout::{SITES_DIR, SITE_TREE};
use serde::Serialize;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Site {
    /// `site11`.
    pub name: String,
    #[serde(skip)]
    pub dir: PathBuf,
    /// Domains, the primary one (siteinfo's) first.
    pub domains: Vec<String>,
    /// The host's Unix admin user and group name (`admin11`).
    pub admin: Option<String>,
    /// Set only when the identity is decided and not refused.
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// siteinfo's `admin_user`: the site administrator's own login (shown, never the Unix identity).
    pub login: Option<String>,
    /// Where the admin was found: `siteinfo wp_user = admin11`, `home/virtual/admin11 -> site11/fst`, ...
    pub admin_sources: Vec<String>,
    /// Why `mqueue fix` refuses this site: the sources disagree, name another site's admin or a user
    /// or group the root does not have.
    pub refused: Option<String>,
    /// Group owning `siteN/fst` (the quota group).
    pub fst_gid: Option<u32>,
    /// Where the sources disagree or something is missing.
    pub notes: Vec<String>,
}

impl Site {
    /// The site's tree, where its `var/spool/mqueue` and `etc/` are.
    pub fn fst(&self) -> PathBuf {
        self.dir.join(SITE_TREE)
    }

    /// How to name the site on a command line: its primary domain when it is a plain host name (a
    /// site admin could put anything in siteinfo; a suggested command must stay copyable), else siteN.
    pub fn handle(&self) -> &str {
        match self.domains.first() {
            Some(d)
                if !d.is_empty()
                    && d.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-') =>
            {
                d
            }
            _ => &self.name,
        }
    }

    /// `site11 example.com admin11`, for a person.
    pub fn label(&self) -> String {
        [
            Some(self.name.as_str()),
            self.domains.first().map(String::as_str),
            self.admin.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
    }

    /// The gid the site's quota is on: the admin group, else the group owning fst.
    pub fn quota_gid(&self) -> Option<u32> {
        self.gid.or(self.fst_gid)
    }
}

#[derive(Debug, Default)]
pub struct SiteDb {
    /// Sorted by site number.
    pub sites: Vec<Site>,
    pub skips: Skips,
}

impl SiteDb {
    /// The sites named on a command line (`--site`, repeatable), each once, in the order given; an
    /// unknown name is an error message naming it. The one site selector of `mqueue scan`, `fix` and
    /// `purge`.
    pub fn named(&self, names: &[String]) -> Result<Vec<&Site>, String> {
        Ok(self
            .select(names)?
            .into_iter()
            .map(|i| &self.sites[i])
            .collect())
    }

    /// As `named`, as indices in `sites`.
    pub fn select(&self, names: &[String]) -> Result<Vec<usize>, String> {
        let mut out: Vec<usize> = Vec::new();
        for name in names {
            let i = self
                .find(name)
                .and_then(|site| self.sites.iter().position(|s| s.name == site.name))
                .ok_or_else(|| {
                    format!(
                        "--site {name}: no such site (give siteN, one of its domains or adminN)"
                    )
                })?;
            if !out.contains(&i) {
                out.push(i);
            }
        }
        Ok(out)
    }

    /// The site named by `siteN`, one of its domains or its admin user.
    pub fn find(&self, name: &str) -> Option<&Site> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.sites.iter().find(|s| {
            s.name == name
                || s.domains.iter().any(|d| d.eq_ignore_ascii_case(&name))
                || s.admin.as_deref() == Some(name.as_str())
        })
    }
}

fn site_number(name: &str) -> Option<u64> {
    name.strip_prefix("site")?.parse().ok()
}

/// `siteN` from a symlink target such as `site11/fst`, `/home/virtual/site11/fst/` or `./site11/fst`.
fn target_site(target: &Path) -> Option<String> {
    let comps: Vec<&OsStr> = target.components().map(|c| c.as_os_str()).collect();
    comps.windows(2).find_map(|w| {
        let name = w[0].to_str()?;
        (site_number(name).is_some() && w[1] == SITE_TREE).then(|| name.to_string())
    })
}

/// Reads every site under the root. A host without `home/virtual` has no sites (not an error).
pub fn discover(root: &Root, users: &UserDb) -> SiteDb {
    let mut db = SiteDb::default();
    let base = root.join(SITES_DIR);
    let entries = match std::fs::read_dir(&base) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return db,
        Err(e) => {
            db.skips.add_unreadable(root, &base, &e.to_string());
            return db;
        }
    };
    let mut sites: BTreeMap<u64, Site> = BTreeMap::new();
    let mut aliases: Vec<(String, String)> = Vec::new();
    for entry in entries.flatten() {
        let name = decode(entry.file_name().as_bytes());
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_dir() {
            if let Some(n) = site_number(&name) {
                let dir = entry.path();
                sites.insert(
                    n,
                    Site {
                        name,
                        dir,
                        ..Default::default()
                    },
                );
            }
        } else if ft.is_symlink() {
            if let Some(site) = std::fs::read_link(entry.path())
                .ok()
                .as_deref()
                .and_then(target_site)
            {
                aliases.push((name, site));
            }
        }
    }
    let domainmap = read_domainmap(root, &mut db.skips);
    // Names that point to a site that is not there: a half-deleted site, worth saying.
    let known = |site: &str| sites.values().any(|s| s.name == site);
    for (name, site) in &aliases {
        if !known(site) {
            let reason = format!("symlink to {site}/fst, which does not exist");
            db.skips.add(root, &base.join(name), &reason);
        }
    }
    for (domain, site) in &domainmap {
        if !known(site) {
            let path = root.join("etc/virtualhosting/mappings/domainmap");
            let reason = format!("maps {domain} to {site}, which does not exist");
            db.skips.add(root, &path, &reason);
        }
    }
    let evidence: Vec<Evidence> = sites
        .values_mut()
        .map(|site| evidence(root, users, site, &aliases, &domainmap, &mut db.skips))
        .collect();
    let identities = site_identity::decide_all(&evidence, users);
    for (site, id) in sites.values_mut().zip(identities) {
        site.admin = id.admin;
        site.uid = id.uid;
        site.gid = id.gid;
        site.admin_sources = id.sources;
        site.notes.extend(id.notes);
        site.refused = id.refused;
    }
    db.sites = sites.into_values().collect();
    db
}

/// What the site's own records say about its admin (siteinfo, the adminN links, the fst group); the
/// decision across all sites is `site_identity::decide_all`.
fn evidence(
    root: &Root,
    users: &UserDb,
    site: &mut Site,
    aliases: &[(String, String)],
    domainmap: &[(String, String)],
    skips: &mut Skips,
) -> Evidence {
    let info = read_siteinfo(root, &site.dir, skips);
    let mut domains: Vec<String> = Vec::new();
    let mut claims: Vec<(String, Source)> = Vec::new();
    for key in SiteinfoKey::ALL {
        if let Some(v) = info.get(key.key()).filter(|v| !v.is_empty()) {
            claims.push((v.clone(), Source::Siteinfo(key)));
        }
    }
    for (alias, _) in aliases.iter().filter(|(_, t)| *t == site.name) {
        if is_admin_name(alias) {
            claims.push((alias.clone(), Source::Link));
        } else {
            domains.push(alias.to_ascii_lowercase());
        }
    }
    domains.extend(
        domainmap
            .iter()
            .filter(|(_, s)| *s == site.name)
            .map(|(d, _)| d.clone()),
    );
    domains.sort();
    domains.dedup();
    if let Some(primary) = info.get("domain").map(|d| d.to_ascii_lowercase()) {
        domains.retain(|d| *d != primary);
        domains.insert(0, primary);
    }
    site.domains = domains;
    match std::fs::symlink_metadata(site.fst()) {
        Ok(m) if m.is_dir() => site.fst_gid = Some(m.gid()),
        Ok(_) => site
            .notes
            .push("fst is not a directory (symlink or file): not read".into()),
        Err(_) => site.notes.push("no fst directory".into()),
    }
    claims.extend(site_identity::fst_claim(site.fst_gid, users));
    site.login = info.get("admin_user").filter(|v| !v.is_empty()).cloned();
    Evidence {
        site: site.name.clone(),
        claims,
        login: site.login.clone(),
        fst_gid: site.fst_gid,
    }
}

/// `key = value` lines of `siteN/info/current/siteinfo` (sections and comments ignored).
fn read_siteinfo(root: &Root, site_dir: &Path, skips: &mut Skips) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    let Ok(dir) = open_dir_beneath(site_dir, Path::new("info/current")) else {
        return map;
    };
    match nofollow::read_file_at(&dir, OsStr::new("siteinfo"), 1 << 20) {
        Ok((bytes, _, _)) => {
            for line in decode(&bytes).lines() {
                if let Some((k, v)) = line.split_once('=') {
                    map.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => skips.add_unreadable(
            root,
            &site_dir.join("info/current/siteinfo"),
            &e.to_string(),
        ),
    }
    map
}

/// (domain, siteN) pairs of the domain map: `domain = siteN` (also `domain: siteN`, `domain siteN`).
fn read_domainmap(root: &Root, skips: &mut Skips) -> Vec<(String, String)> {
    let path = root.join("etc/virtualhosting/mappings/domainmap");
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            skips.add_unreadable(root, &path, &e.to_string());
            return Vec::new();
        }
    };
    decode(&bytes)
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let mut parts = l
                .split(|c: char| c == '=' || c == ':' || c.is_whitespace())
                .filter(|p| !p.is_empty());
            let (d, s) = (parts.next()?, parts.next()?);
            site_number(s).map(|_| (d.to_ascii_lowercase(), s.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> (tempfile::TempDir, Root) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        let w = |rel: &str, text: &str| {
            let f = p.join(rel);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, text).unwrap();
        };
        w(
            "etc/passwd",
            "root:x:0:0::/:/bin/sh\nadmin1:x:501:501::/:/bin/sh\nadmin2:x:502:502::/:/bin/sh\n",
        );
        w(
            "etc/group",
            "root:x:0:\nadmin1:x:501:\nadmin2:x:502:\nadmin3:x:503:\n",
        );
        w(
            "etc/virtualhosting/mappings/domainmap",
            "# map\nexample.com = site1\nshop.example.org:site2\n",
        );
        w(
            "home/virtual/site1/info/current/siteinfo",
            "[siteinfo]\ndomain = Example.com\nadmin_user = exampleadm\nwp_user = admin1\n",
        );
        for n in 1..=3 {
            std::fs::create_dir_all(p.join(format!("home/virtual/site{n}/fst"))).unwrap();
            std::os::unix::fs::lchown(
                p.join(format!("home/virtual/site{n}/fst")),
                None,
                Some(500 + n),
            )
            .unwrap();
        }
        let hv = p.join("home/virtual");
        symlink("site1/fst", hv.join("example.com")).unwrap();
        symlink("/home/virtual/site1/fst/", hv.join("www.example.com")).unwrap();
        symlink("site1/fst", hv.join("admin1")).unwrap();
        symlink("site2/fst", hv.join("admin2")).unwrap();
        // A symlink that names a site directory is not a second site.
        symlink("site1", hv.join("site9")).unwrap();
        let root = Root::new(p).unwrap();
        (dir, root)
    }

    #[test]
    fn names_each_site_once_from_every_source() {
        let (_dir, root) = tree();
        let db = discover(&root, &UserDb::open(&root).unwrap());
        let names: Vec<&str> = db.sites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["site1", "site2", "site3"]);
        let s1 = &db.sites[0];
        assert_eq!(s1.domains, ["example.com", "www.example.com"]);
        assert_eq!(
            (s1.admin.as_deref(), s1.uid, s1.gid),
            (Some("admin1"), Some(501), Some(501))
        );
        assert_eq!(s1.login.as_deref(), Some("exampleadm"));
        assert_eq!(
            s1.admin_sources,
            [
                "siteinfo wp_user = admin1",
                "home/virtual/admin1 -> site1/fst",
                "fst owned by group admin1"
            ]
        );
        assert!(s1.notes.is_empty() && s1.refused.is_none(), "{s1:?}");
        // No siteinfo: the admin comes from the adminN symlink and the fst group, the domain from the map.
        let s2 = &db.sites[1];
        assert_eq!(s2.domains, ["shop.example.org"]);
        assert_eq!((s2.admin.as_deref(), s2.gid), (Some("admin2"), Some(502)));
        assert_eq!(s2.refused, None);
        // Nothing but the group owning fst, and no such user in etc/passwd: refused.
        let s3 = &db.sites[2];
        assert_eq!(s3.admin.as_deref(), Some("admin3"));
        assert_eq!(
            s3.refused.as_deref(),
            Some("user admin3 is not in etc/passwd")
        );
        assert_eq!((s3.uid, s3.gid), (None, None));
        for name in ["site1", "EXAMPLE.COM.", "www.example.com", "admin1"] {
            assert_eq!(
                db.find(name).map(|s| s.name.as_str()),
                Some("site1"),
                "{name}"
            );
        }
        assert!(db.find("site9").is_none());
        assert!(db.find("exampleadm").is_none(), "a login names no site");
    }

    #[test]
    fn one_selector_each_site_once_and_the_unknown_name_said() {
        let (_dir, root) = tree();
        let db = discover(&root, &UserDb::open(&root).unwrap());
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            db.select(&names(&["admin2", "example.com", "site1", "site2"])),
            Ok(vec![1, 0])
        );
        let named = db.named(&names(&["www.example.com"])).unwrap();
        assert_eq!(
            named.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            ["site1"]
        );
        assert_eq!(
            db.named(&names(&["site1", "nosuch.example"]))
                .err()
                .as_deref(),
            Some("--site nosuch.example: no such site (give siteN, one of its domains or adminN)")
        );
    }

    #[test]
    fn fst_owned_by_another_sites_group_is_refused() {
        let (dir, root) = tree();
        std::os::unix::fs::lchown(dir.path().join("home/virtual/site1/fst"), None, Some(502))
            .unwrap();
        let db = discover(&root, &UserDb::open(&root).unwrap());
        assert_eq!(
            db.sites[0].refused.as_deref(),
            Some(
                "sources disagree: siteinfo wp_user = admin1, home/virtual/admin1 -> site1/fst, fst \
                 owned by group admin2 (admin2 is site2's admin (home/virtual/admin2 -> site2/fst))"
            )
        );
        assert_eq!(db.sites[0].gid, None);
    }

    #[test]
    fn siteinfo_naming_another_sites_admin_is_refused() {
        for line in ["admin_user = admin2", "admin = admin2", "wp_user = admin2"] {
            let (dir, root) = tree();
            std::fs::write(
                dir.path().join("home/virtual/site1/info/current/siteinfo"),
                format!("[siteinfo]\ndomain = example.com\n{line}\n"),
            )
            .unwrap();
            let db = discover(&root, &UserDb::open(&root).unwrap());
            let s1 = &db.sites[0];
            let why = s1.refused.as_deref().unwrap_or_default();
            assert!(why.contains("admin2 is site2's admin"), "{line}: {why}");
            assert_eq!((s1.uid, s1.gid), (None, None), "{line}");
            assert_eq!(db.sites[1].refused, None, "{line}: site2 is still its own");
        }
    }

    #[test]
    fn no_siteinfo_and_group_missing_from_etc_group() {
        let (dir, root) = tree();
        std::fs::remove_file(dir.path().join("home/virtual/site1/info/current/siteinfo")).unwrap();
        std::fs::write(
            dir.path().join("etc/group"),
            "root:x:0:\nadmin2:x:502:\nadmin3:x:503:\n",
        )
        .unwrap();
        let db = discover(&root, &UserDb::open(&root).unwrap());
        let s1 = &db.sites[0];
        assert_eq!(s1.login, None);
        assert_eq!(s1.domains, ["example.com", "www.example.com"]);
        assert_eq!(s1.admin.as_deref(), Some("admin1"));
        assert_eq!(
            s1.refused.as_deref(),
            Some("group admin1 is not in etc/group (fst is owned by gid 501)")
        );
    }

    #[test]
    fn symlink_targets() {
        assert_eq!(
            target_site(Path::new("site11/fst")).as_deref(),
            Some("site11")
        );
        assert_eq!(
            target_site(Path::new("/home/virtual/site2/fst/")).as_deref(),
            Some("site2")
        );
        assert_eq!(target_site(Path::new("site2")), None);
        assert_eq!(target_site(Path::new("/etc")), None);
    }
}
