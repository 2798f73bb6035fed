//! User and group names from the root's `etc/passwd` and `etc/group`, read by a small parser of its own
//! for fake and live roots alike. On the live root (`/`), a name or id the files do not hold is then
//! looked up through NSS (`uzers`: LDAP, sssd, NIS behind a `+` line); under a fake root the live
//! system is never asked. Lines a parser would choke on (NIS `+`/`-` entries, comments, blank or
//! malformed lines) never reject the file: compat entries are passed over, malformed ones are counted
//! with their line number and reported. The database is `Sync`: scanning threads share one.

use crate::error::{Error, Result};
use crate::readers::skips::Skips;
use crate::root::Root;
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// One `etc/passwd` entry (or NSS answer): what the toolkit needs of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    name: OsString,
    uid: u32,
    gid: u32,
}

impl User {
    pub fn new(uid: u32, name: impl AsRef<OsStr>, gid: u32) -> User {
        User {
            name: name.as_ref().to_os_string(),
            uid,
            gid,
        }
    }

    /// The login name, as bytes (passwd is not required to be UTF-8).
    pub fn name(&self) -> &OsStr {
        &self.name
    }

    pub fn uid(&self) -> u32 {
        self.uid
    }

    pub fn primary_group_id(&self) -> u32 {
        self.gid
    }
}

/// One `etc/group` entry (or NSS answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    name: OsString,
    gid: u32,
}

impl Group {
    pub fn new(gid: u32, name: impl AsRef<OsStr>) -> Group {
        Group {
            name: name.as_ref().to_os_string(),
            gid,
        }
    }

    pub fn name(&self) -> &OsStr {
        &self.name
    }

    pub fn gid(&self) -> u32 {
        self.gid
    }
}

/// A line of `etc/passwd` or `etc/group` that was not understood: counted and reported, the rest of
/// the file is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub path: PathBuf,
    pub line: usize,
    pub reason: &'static str,
}

/// Entries by name and by id; the first entry for a name or id wins, as with glibc's files backend.
#[derive(Debug)]
struct Table<T> {
    by_name: HashMap<OsString, Arc<T>>,
    by_id: HashMap<u32, Arc<T>>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            by_name: HashMap::new(),
            by_id: HashMap::new(),
        }
    }
}

impl<T> Table<T> {
    fn insert(&mut self, name: &OsStr, id: u32, entry: T) {
        let entry = Arc::new(entry);
        self.by_name
            .entry(name.to_os_string())
            .or_insert_with(|| entry.clone());
        self.by_id.entry(id).or_insert(entry);
    }
}

/// NSS answers (including "no such name") remembered for the run: an LDAP lookup per queue file
/// would be slow, and the answer must not change in the middle of a report.
#[derive(Debug, Default)]
struct NssCache {
    user_by_name: HashMap<String, Option<Arc<User>>>,
    user_by_uid: HashMap<u32, Option<Arc<User>>>,
    group_by_name: HashMap<String, Option<Arc<Group>>>,
    group_by_gid: HashMap<u32, Option<Arc<Group>>>,
}

/// A user/group database for the chosen root.
#[derive(Debug, Default)]
pub struct UserDb {
    users: Table<User>,
    groups: Table<Group>,
    /// Present on the live root only: lookups the files cannot answer go to NSS.
    nss: Option<Mutex<NssCache>>,
    bad_lines: Vec<BadLine>,
}

impl UserDb {
    /// The root's `etc/passwd` and `etc/group`. Under a fake root both must be readable (there is
    /// nothing else to ask); on the live root an unreadable file leaves NSS to answer.
    pub fn open(root: &Root) -> Result<UserDb> {
        let mut db = UserDb::empty();
        let live = root.is_live();
        if live {
            db.nss = Some(Mutex::default());
        }
        let passwd = root.join("etc/passwd");
        match read_table(&passwd) {
            Ok(bytes) => db.load_passwd(&passwd, &bytes),
            Err(e) if !live => return Err(Error::io(&passwd, e)),
            Err(_) => {}
        }
        let group = root.join("etc/group");
        match read_table(&group) {
            Ok(bytes) => db.load_group(&group, &bytes),
            Err(e) if !live => return Err(Error::io(&group, e)),
            Err(_) => {}
        }
        Ok(db)
    }

    /// A database with no entries and no NSS (tests, or when the root's files cannot be read).
    pub fn empty() -> UserDb {
        UserDb::default()
    }

    pub fn add_user(&mut self, user: User) {
        let (name, uid) = (user.name.clone(), user.uid);
        self.users.insert(&name, uid, user);
    }

    pub fn add_group(&mut self, group: Group) {
        let (name, gid) = (group.name.clone(), group.gid);
        self.groups.insert(&name, gid, group);
    }

    /// Lines of the files that were not understood (NIS compat lines and comments are not counted).
    pub fn bad_lines(&self) -> &[BadLine] {
        &self.bad_lines
    }

    /// Reports the lines not understood as damaged input: named, counted, not blinding (every other
    /// entry was read).
    pub fn report_bad_lines(&self, root: &Root, skips: &mut Skips) {
        for b in &self.bad_lines {
            let shown = format!("{}:{}", root.display(&b.path), b.line);
            skips.add_shown(&shown, b.reason);
        }
    }

    fn load_passwd(&mut self, path: &Path, bytes: &[u8]) {
        for (lineno, fields) in entries(bytes) {
            match parse_passwd(&fields) {
                Some(user) => self.add_user(user),
                None => self.bad(path, lineno, "expected name:x:uid:gid:..."),
            }
        }
    }

    fn load_group(&mut self, path: &Path, bytes: &[u8]) {
        for (lineno, fields) in entries(bytes) {
            match parse_group(&fields) {
                Some(group) => self.add_group(group),
                None => self.bad(path, lineno, "expected name:x:gid:members"),
            }
        }
    }

    fn bad(&mut self, path: &Path, line: usize, reason: &'static str) {
        self.bad_lines.push(BadLine {
            path: path.to_path_buf(),
            line,
            reason,
        });
    }

    /// Asks NSS (live root only), once per key for the run.
    fn nss<K: std::hash::Hash + Eq + Clone, V>(
        &self,
        pick: impl FnOnce(&mut NssCache) -> &mut HashMap<K, Option<Arc<V>>>,
        key: &K,
        ask: impl FnOnce() -> Option<V>,
    ) -> Option<Arc<V>> {
        let cache = self.nss.as_ref()?;
        // A poisoned lock only means another thread panicked mid-insert of a complete value.
        let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
        pick(&mut cache)
            .entry(key.clone())
            .or_insert_with(|| ask().map(Arc::new))
            .clone()
    }

    pub fn user_by_name(&self, name: &str) -> Option<Arc<User>> {
        if let Some(u) = self.users.by_name.get(OsStr::new(name)) {
            return Some(u.clone());
        }
        self.nss(
            |c| &mut c.user_by_name,
            &name.to_string(),
            || uzers::get_user_by_name(name).map(from_uzers_user),
        )
    }

    pub fn user_by_uid(&self, uid: u32) -> Option<Arc<User>> {
        if let Some(u) = self.users.by_id.get(&uid) {
            return Some(u.clone());
        }
        self.nss(
            |c| &mut c.user_by_uid,
            &uid,
            || uzers::get_user_by_uid(uid).map(from_uzers_user),
        )
    }

    pub fn group_by_name(&self, name: &str) -> Option<Arc<Group>> {
        if let Some(g) = self.groups.by_name.get(OsStr::new(name)) {
            return Some(g.clone());
        }
        self.nss(
            |c| &mut c.group_by_name,
            &name.to_string(),
            || uzers::get_group_by_name(name).map(from_uzers_group),
        )
    }

    pub fn group_by_gid(&self, gid: u32) -> Option<Arc<Group>> {
        if let Some(g) = self.groups.by_id.get(&gid) {
            return Some(g.clone());
        }
        self.nss(
            |c| &mut c.group_by_gid,
            &gid,
            || uzers::get_group_by_gid(gid).map(from_uzers_group),
        )
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

fn from_uzers_user(u: uzers::User) -> User {
    User::new(u.uid(), u.name(), u.primary_group_id())
}

fn from_uzers_group(g: uzers::Group) -> Group {
    Group::new(g.gid(), g.name())
}

fn read_table(path: &Path) -> std::io::Result<Vec<u8>> {
    super::capped::read(path, super::capped::TABLE_CAP)
}

/// The entry lines of a colon-separated file with their line numbers, split into fields. Blank lines,
/// comments and NIS compat lines (`+`, `+name`, `-name`, `+@netgroup`: "ask NIS here", handled by
/// NSS on the live system and meaningless under a fake root) are not entries.
fn entries(bytes: &[u8]) -> impl Iterator<Item = (usize, Vec<&[u8]>)> {
    bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| (i + 1, line.strip_suffix(b"\r").unwrap_or(line)))
        .filter(|(_, line)| {
            let first = line.iter().find(|b| !b.is_ascii_whitespace());
            !matches!(first, None | Some(b'#' | b'+' | b'-'))
        })
        .map(|(n, line)| (n, line.split(|&b| b == b':').collect()))
}

fn name_field(field: &[u8]) -> Option<OsString> {
    let ok = !field.is_empty() && !field.iter().any(|b| b.is_ascii_whitespace());
    ok.then(|| OsString::from_vec(field.to_vec()))
}

fn id_field(field: Option<&&[u8]>) -> Option<u32> {
    std::str::from_utf8(field?).ok()?.parse().ok()
}

/// `name:passwd:uid:gid:gecos:home:shell` (seven fields; fewer are tolerated when the ids are there).
fn parse_passwd(fields: &[&[u8]]) -> Option<User> {
    let name = name_field(fields.first()?)?;
    let uid = id_field(fields.get(2))?;
    let gid = id_field(fields.get(3))?;
    Some(User::new(uid, name, gid))
}

/// `name:passwd:gid:members`.
fn parse_group(fields: &[&[u8]]) -> Option<Group> {
    let name = name_field(fields.first()?)?;
    let gid = id_field(fields.get(2))?;
    Some(Group::new(gid, name))
}

#[cfg(test)]
mod tests;
