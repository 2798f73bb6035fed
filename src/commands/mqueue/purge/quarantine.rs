//! Where purged messages go: a directory under the root, outside every site tree, opened from the root
//! one component at a time without following a link, like every other path the toolkit changes.
//!
//! `--quarantine DIR` is a path under the root (`/var/q` and `var/q` are both `ROOT/var/q`). It is
//! refused when it leaves the root (`..` past it), resolves under `home/virtual` (where the site
//! admins' trees and their domain and adminN links are), goes through a symlink, or reaches a directory
//! that someone other than root owns or may write to (a sticky, root-owned directory such as `/tmp` is
//! fine on the way): whoever can write there could read or swap quarantined mail.

use crate::safeops::{Dir, Kind, SafeError};
use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};

/// The default quarantine under the root.
pub const DEFAULT: &str = "var/lib/toolkit/quarantine";
/// Site trees and the links to them.
const SITES: &str = "home/virtual";

/// The quarantine base as a plain path relative to the root: `..` resolved (no link is ever followed
/// on the way, so that is where it leads), refused outside the root or under home/virtual.
pub fn relative(arg: &Path) -> Result<PathBuf, String> {
    let mut parts: Vec<&OsStr> = Vec::new();
    for comp in arg.components() {
        match comp {
            Component::RootDir | Component::CurDir => {}
            Component::Prefix(_) => return Err("not a Unix path".into()),
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err("leaves the root ('..' goes above it)".into());
                }
            }
            Component::Normal(p) => parts.push(p),
        }
    }
    let rel: PathBuf = parts.iter().collect();
    if rel.as_os_str().is_empty() {
        return Err("is the root itself".into());
    }
    if rel.starts_with(SITES) || Path::new(SITES).starts_with(&rel) {
        let place = if rel.starts_with(SITES) {
            "under"
        } else {
            "above"
        };
        return Err(format!(
            "resolves to {} {place} {SITES}, where the site admins control the trees (and the domain and adminN links); choose a directory outside the sites",
            rel.display()
        ));
    }
    Ok(rel)
}

/// Opens `rel` under the root without following links, checking every directory on the way; with
/// `create`, missing directories are made (mode 0700, root's). `Ok(None)` when a directory is missing
/// and `create` is false (a dry run: nothing is made).
pub fn open(root: &Path, rel: &Path, create: bool) -> Result<Option<Dir>, SafeError> {
    let mut dir = Dir::open_trusted(root)?;
    let parts: Vec<&OsStr> = rel.iter().collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        match dir.entry(part)? {
            None if !create => return Ok(None),
            None => {}
            Some(e) => {
                let m = e.meta;
                let path = e.path();
                if m.kind != Kind::Dir {
                    let what = if m.kind == Kind::Symlink {
                        "is a symlink (not followed)"
                    } else {
                        "is not a directory"
                    };
                    return Err(SafeError::Refused {
                        path,
                        reason: what.into(),
                    });
                }
                let shared = m.mode & 0o022 != 0;
                let sticky_root = m.mode & 0o1000 != 0 && m.uid == 0 && !last;
                if m.uid != 0 || (shared && !sticky_root) {
                    return Err(SafeError::Refused {
                        path,
                        reason: format!(
                            "owned by uid {} with mode {:04o}: someone other than root could read or swap quarantined mail",
                            m.uid, m.mode
                        ),
                    });
                }
            }
        }
        dir = dir.ensure_dir(part, 0o700)?;
    }
    Ok(Some(dir))
}

/// The run's own directory `BASE/SITE/STAMP`, made as needed.
pub fn run_dir(base: &Dir, site: &str, stamp: &str) -> Result<Dir, SafeError> {
    base.ensure_dir(OsStr::new(site), 0o700)?
        .ensure_dir(OsStr::new(stamp), 0o700)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_dot_and_site_trees_are_refused() {
        assert_eq!(relative(Path::new("/var/q")).unwrap(), Path::new("var/q"));
        assert_eq!(
            relative(Path::new("var/./x/../q")).unwrap(),
            Path::new("var/q")
        );
        assert!(relative(Path::new("../outside"))
            .unwrap_err()
            .contains("leaves the root"));
        assert!(relative(Path::new("/var/../../x"))
            .unwrap_err()
            .contains("leaves the root"));
        for p in [
            "home/virtual/example.com/tmp/q",
            "home/virtual/admin1/tmp/q",
            "home/virtual/site2/fst/q",
            "var/../home/virtual/site1/fst/tmp",
            "home/virtual",
            "home",
        ] {
            assert!(
                relative(Path::new(p)).unwrap_err().contains("home/virtual"),
                "{p}"
            );
        }
        assert!(relative(Path::new("/")).is_err());
    }
}
