//! Which queue directories a scan looks at: each site's `fst/var/spool/mqueue`, the host's
//! `var/spool/mqueue` and `var/spool/clientmqueue`, and `--spool` paths or globs (added, or alone with
//! `--spool-only`). A queue inside a site is opened from the site directory without following symlinks.
//! Exim's and Postfix's spools (`mta_targets`) are found here too and read by their own readers.

use crate::error::{Error, Result};
use crate::readers::mqueue::spools::expand;
use crate::readers::mta::Mta;
use crate::readers::sites::SiteDb;
use crate::readers::skips::Skips;
use crate::root::Root;
use crate::sendmail::layout;
use std::path::{Path, PathBuf};

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

/// The queues to scan, in a stable order (sites by number, then host queues, then --spool ones).
pub fn targets(
    root: &Root,
    sites: &SiteDb,
    only: &[usize],
    spools: &[String],
    spool_only: bool,
    skips: &mut Skips,
) -> Result<Vec<Target>> {
    let mut out = Vec::new();
    if !spool_only {
        for (i, _) in sites.sites.iter().enumerate() {
            if only.is_empty() || only.contains(&i) {
                out.push(site_target(sites, i, layout::site_queue()));
            }
        }
        if only.is_empty() {
            for q in layout::HOST_QUEUES {
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
            // Exim and Postfix spools are read by their own readers (see `mta_targets`).
            if mta_kind(&path).is_some() {
                continue;
            }
            let t = match locate(root, sites, &path) {
                Located::Site(i, rel) => site_target(sites, i, rel),
                Located::Host => Target {
                    site: None,
                    base: path,
                    rel: PathBuf::new(),
                    optional: false,
                },
                Located::NotASite => {
                    let why = "under home/virtual but in no site: not followed";
                    skips.add(root, &path, why);
                    continue;
                }
            };
            if !out.iter().any(|o| o.path() == t.path()) {
                out.push(t);
            }
        }
    }
    Ok(out)
}

/// An Exim or Postfix spool directory to scan, below the root.
#[derive(Debug, Clone, PartialEq)]
pub struct MtaTarget {
    pub mta: Mta,
    /// Below the root, no component followed if a symlink.
    pub rel: PathBuf,
    /// A default location that may simply not exist on this host.
    pub optional: bool,
}

impl MtaTarget {
    pub fn path(&self, root: &Root) -> PathBuf {
        root.join(&self.rel)
    }
}

/// Where the MTAs keep their spools: Debian's Exim, cPanel's and DirectAdmin's Exim, Postfix.
pub const MTA_SPOOLS: [(Mta, &str); 3] = [
    (Mta::Exim, "var/spool/exim4"),
    (Mta::Exim, "var/spool/exim"),
    (Mta::Postfix, "var/spool/postfix"),
];

/// What a directory looks like: an Exim spool holds `input/`, a Postfix queue `maildrop/` or
/// `deferred/` (symlinks not followed).
pub fn mta_kind(path: &Path) -> Option<Mta> {
    let dir = |n: &str| {
        path.join(n)
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_dir())
    };
    if dir("input") && !dir("qf") {
        Some(Mta::Exim)
    } else if dir("maildrop") || dir("deferred") {
        Some(Mta::Postfix)
    } else {
        None
    }
}

/// The MTA spools to scan: the usual locations (unless `--spool-only`), and `--spool` paths that are
/// Exim or Postfix spools.
pub fn mta_targets(root: &Root, spools: &[String], spool_only: bool) -> Vec<MtaTarget> {
    let mut out = Vec::new();
    if !spool_only {
        for (mta, rel) in MTA_SPOOLS {
            out.push(MtaTarget {
                mta,
                rel: PathBuf::from(rel),
                optional: true,
            });
        }
    }
    for spec in spools {
        for path in expand(root, spec) {
            let (Some(mta), Ok(rel)) = (mta_kind(&path), path.strip_prefix(root.path())) else {
                continue;
            };
            if !out.iter().any(|o| o.rel == rel) {
                out.push(MtaTarget {
                    mta,
                    rel: rel.to_path_buf(),
                    optional: false,
                });
            }
        }
    }
    out
}

enum Located {
    /// In site `i`, at `rel` below its directory.
    Site(usize, PathBuf),
    /// Outside home/virtual: an administrator's path, opened as given.
    Host,
    /// Under home/virtual, but not through a site or one of its names.
    NotASite,
}

/// Which site a --spool path belongs to. A path through a site's name (`home/virtual/example.com/...`,
/// a symlink to `site1/fst`) is rewritten to the site directory, so that the queue is opened without
/// following that symlink, attributed to its site, and never scanned twice.
fn locate(root: &Root, sites: &SiteDb, path: &Path) -> Located {
    let Ok(rest) = path.strip_prefix(root.join(layout::SITES_DIR)) else {
        return Located::Host;
    };
    let mut comps = rest.components();
    let Some(first) = comps.next() else {
        return Located::NotASite;
    };
    let name = first.as_os_str().to_string_lossy();
    let below = comps.as_path();
    if let Some(i) = sites.sites.iter().position(|s| s.name == name) {
        return Located::Site(i, below.to_path_buf());
    }
    match sites.find(&name) {
        Some(site) => {
            let i = sites.sites.iter().position(|s| s.name == site.name);
            i.map_or(Located::NotASite, |i| {
                Located::Site(i, Path::new(layout::SITE_TREE).join(below))
            })
        }
        None => Located::NotASite,
    }
}

fn site_target(sites: &SiteDb, i: usize, rel: PathBuf) -> Target {
    Target {
        site: Some(i),
        base: sites.sites[i].dir.clone(),
        rel,
        optional: false,
    }
}
