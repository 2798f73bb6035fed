//! `--spool` values resolved under the root: a plain path as it is (when it exists, symlink or not),
//! a glob by listing one directory level at a time with `globset` (`*`, `?`, `[...]`, `{a,b}` within
//! one component; a leading dot matched only explicitly, as in the shell). Nothing here opens a queue:
//! the callers open what it names without following symlinks.

use crate::root::Root;
use globset::{GlobBuilder, GlobMatcher};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// The paths under `root` that `spec` names, sorted within each globbed level. `..` would leave the
/// root: such a spec names nothing.
pub fn expand(root: &Root, spec: &str) -> Vec<PathBuf> {
    let rel = Path::new(spec.trim_start_matches('/'));
    if rel.components().any(|c| matches!(c, Component::ParentDir)) {
        return Vec::new();
    }
    let mut paths = vec![root.path().to_path_buf()];
    for comp in rel.components() {
        let name = comp.as_os_str();
        let glob = component_glob(name);
        let mut next = Vec::new();
        for p in &paths {
            match &glob {
                None => {
                    let q = p.join(name);
                    if q.symlink_metadata().is_ok() {
                        next.push(q);
                    }
                }
                Some(g) => next.extend(list(p, g)),
            }
        }
        paths = next;
    }
    paths
}

/// One path component as a glob, or None when it is a plain name (no `*?[{`) or not a valid glob
/// (then it is taken literally).
fn component_glob(name: &OsStr) -> Option<Component1> {
    let bytes = name.as_bytes();
    if !bytes.iter().any(|b| b"*?[{".contains(b)) {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let matcher = GlobBuilder::new(text)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .ok()?
        .compile_matcher();
    Some(Component1 {
        matcher,
        dot: bytes.first() == Some(&b'.'),
    })
}

/// A compiled glob for one component.
struct Component1 {
    matcher: GlobMatcher,
    /// The pattern starts with a dot: it may match hidden names.
    dot: bool,
}

impl Component1 {
    fn matches(&self, name: &OsStr) -> bool {
        if name.as_bytes().first() == Some(&b'.') && !self.dot {
            return false;
        }
        self.matcher.is_match(Path::new(name))
    }
}

/// The entries of `dir` whose names match, sorted (an unreadable directory matches nothing).
fn list(dir: &Path, glob: &Component1) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| glob.matches(&e.file_name()))
        .map(|e| e.path())
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pat: &str, name: &[u8]) -> bool {
        component_glob(OsStr::new(pat))
            .expect("a glob")
            .matches(OsStr::from_bytes(name))
    }

    #[test]
    fn globs_match_one_component_as_the_shell_does() {
        assert!(m("mqueue*", b"mqueue"));
        assert!(m("mqueue*", b"mqueue.2"));
        assert!(m("q?", b"q1"));
        assert!(!m("q?", b"q12"));
        assert!(m("*queue", b"clientmqueue"));
        assert!(!m("*", b".hidden"));
        assert!(m(".*", b".hidden"));
        assert!(m("a*b*c", b"aXXbYYc"));
        assert!(!m("a*b*c", b"aXXbYY"));
        assert!(m("q[12]", b"q2") && !m("q[12]", b"q3"));
        assert!(m("{mqueue,clientmqueue}", b"clientmqueue"));
        // Names that are not UTF-8 (a site admin names its directories) are matched as bytes.
        assert!(m("q*", b"q\xff\xfe"));
        assert!(!m("a*", b"q\xff"));
    }

    #[test]
    fn plain_names_and_broken_globs_are_literal() {
        assert!(component_glob(OsStr::new("mqueue")).is_none());
        assert!(component_glob(OsStr::new("q[1")).is_none());
        assert!(component_glob(OsStr::from_bytes(b"q*\xff")).is_none());
    }

    #[test]
    fn expands_under_the_root_without_leaving_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        for d in [
            "var/spool/mqueue",
            "var/spool/mqueue.2",
            "var/spool/.mqueue",
            "etc",
        ] {
            std::fs::create_dir_all(p.join(d)).unwrap();
        }
        std::os::unix::fs::symlink("/etc", p.join("var/spool/mqueue-link")).unwrap();
        let root = Root::new(p).unwrap();
        let rel = |v: Vec<PathBuf>| -> Vec<String> {
            v.iter()
                .map(|x| x.strip_prefix(p).unwrap().display().to_string())
                .collect()
        };
        assert_eq!(
            rel(expand(&root, "/var/spool/mqueue*")),
            [
                "var/spool/mqueue",
                "var/spool/mqueue-link",
                "var/spool/mqueue.2"
            ]
        );
        // A plain path is returned when it exists, a symlink as such (the caller does not follow it).
        assert_eq!(
            rel(expand(&root, "var/spool/mqueue-link")),
            ["var/spool/mqueue-link"]
        );
        assert!(expand(&root, "/var/spool/nothing*").is_empty());
        assert!(expand(&root, "/var/spool/../../etc").is_empty());
        assert!(expand(&root, "/var/*/../../etc").is_empty());
    }
}
