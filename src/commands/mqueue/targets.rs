//! Which queue directories a scan looks at: each site's `fst/var/spool/mqueue`, the host's
//! `var/spool/mqueue` and `var/spool/clientmqueue`, and `--spool` paths or globs (added, or alone with
//! `--spool-only`). A queue inside a site is opened from the site directory without following symlinks.

use crate::error::{Error, Result};
use crate::readers::sites::SiteDb;
use crate::root::Root;
use std::path::{Component, Path, PathBuf};

/// One queue directory to scan.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Index in the site list, for a site's queue.
    pub site: Option<usize>,
    /// Opened as given (trusted: the site directory or an administrator's --spool path)...
    pub base: PathBuf,
    /// ...then these components below it, none of them followed if a symlink.
    pub rel: PathBuf,
    /// A default host queue that may simply not exist on this host (not worth a line).
    pub optional: bool,
}

impl Target {
    pub fn path(&self) -> PathBuf {
        self.base.join(&self.rel)
    }
}

pub const SITE_QUEUE: &str = "fst/var/spool/mqueue";
const HOST_QUEUES: [&str; 2] = ["var/spool/mqueue", "var/spool/clientmqueue"];

/// The queues to scan, in a stable order (sites by number, then host queues, then --spool ones).
pub fn targets(
    root: &Root,
    sites: &SiteDb,
    only: &[usize],
    spools: &[String],
    spool_only: bool,
) -> Result<Vec<Target>> {
    let mut out = Vec::new();
    if !spool_only {
        for (i, _) in sites.sites.iter().enumerate() {
            if only.is_empty() || only.contains(&i) {
                out.push(site_target(sites, i, PathBuf::from(SITE_QUEUE)));
            }
        }
        if only.is_empty() {
            for q in HOST_QUEUES {
                out.push(Target {
                    site: None,
                    base: root.path().to_path_buf(),
                    rel: PathBuf::from(q),
                    optional: true,
                });
            }
        }
    }
    for spec in spools {
        let found = expand(root, spec);
        if found.is_empty() {
            return Err(Error::Usage(format!(
                "--spool {spec}: no such directory under {}",
                root.path().display()
            )));
        }
        for path in found {
            let t = match sites.sites.iter().position(|s| path.starts_with(&s.dir)) {
                Some(i) => {
                    let rel = path.strip_prefix(&sites.sites[i].dir).unwrap_or(&path);
                    site_target(sites, i, rel.to_path_buf())
                }
                None => Target {
                    site: None,
                    base: path,
                    rel: PathBuf::new(),
                    optional: false,
                },
            };
            if !out.iter().any(|o| o.path() == t.path()) {
                out.push(t);
            }
        }
    }
    Ok(out)
}

fn site_target(sites: &SiteDb, i: usize, rel: PathBuf) -> Target {
    Target {
        site: Some(i),
        base: sites.sites[i].dir.clone(),
        rel,
        optional: false,
    }
}

/// A --spool value resolved under the root: a plain path as is (if it exists, symlink or not), a glob
/// by listing each directory level (`*` and `?` within one component).
fn expand(root: &Root, spec: &str) -> Vec<PathBuf> {
    let rel = Path::new(spec.trim_start_matches('/'));
    // `..` would leave the root: not a queue of this root.
    if rel.components().any(|c| matches!(c, Component::ParentDir)) {
        return Vec::new();
    }
    let mut paths = vec![root.path().to_path_buf()];
    for comp in rel.components() {
        let pat = comp.as_os_str().to_string_lossy();
        let mut next = Vec::new();
        for p in &paths {
            if !pat.contains(['*', '?']) {
                let q = p.join(comp.as_os_str());
                if q.symlink_metadata().is_ok() {
                    next.push(q);
                }
                continue;
            }
            let Ok(entries) = std::fs::read_dir(p) else {
                continue;
            };
            let mut names: Vec<PathBuf> = entries
                .flatten()
                .filter(|e| glob_match(pat.as_bytes(), e.file_name().as_encoded_bytes()))
                .map(|e| e.path())
                .collect();
            names.sort();
            next.extend(names);
        }
        paths = next;
    }
    paths
}

/// Shell-style match of one component: `*` any run, `?` one byte; a leading dot must be matched
/// explicitly, as in the shell.
fn glob_match(pat: &[u8], name: &[u8]) -> bool {
    if name.first() == Some(&b'.') && pat.first() != Some(&b'.') {
        return false;
    }
    let (mut p, mut n) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while n < name.len() {
        if p < pat.len() && (pat[p] == b'?' || pat[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pat.len() && pat[p] == b'*' {
            star = Some(p);
            mark = n;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            n = mark;
        } else {
            return false;
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match(b"mqueue*", b"mqueue"));
        assert!(glob_match(b"mqueue*", b"mqueue.2"));
        assert!(glob_match(b"q?", b"q1"));
        assert!(!glob_match(b"q?", b"q12"));
        assert!(glob_match(b"*queue", b"clientmqueue"));
        assert!(!glob_match(b"*", b".hidden"));
        assert!(glob_match(b"a*b*c", b"aXXbYYc"));
        assert!(!glob_match(b"a*b*c", b"aXXbYY"));
    }
}
