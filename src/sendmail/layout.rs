//! Where sendmail keeps things, on the host and in an Ensim site's tree: the queue directories, their
//! split subdirectories and the configuration files. Every command takes these paths from here, so
//! the scan reads the same files the fix edits and the purge empties. Paths are relative: to the root
//! for the host, to a site's `fst` for a site.

/// The sites' directory below the root (`home/virtual/siteN`).
pub const SITES_DIR: &str = "home/virtual";

/// A site's own tree below its `siteN` directory: its `etc/`, its `var/spool/mqueue`.
pub const SITE_TREE: &str = "fst";

/// The queue directory, below the root on the host and below `fst` in a site.
pub const QUEUE: &str = "var/spool/mqueue";

/// The submission queue of a host's `sendmail -Ac` (the MSP), below the root.
pub const CLIENT_QUEUE: &str = "var/spool/clientmqueue";

/// The host's default queues, below the root.
pub const HOST_QUEUES: [&str; 2] = [QUEUE, CLIENT_QUEUE];

/// Subdirectories splitting a queue by file type (`QueueFileModes`'s `qf/ df/ xf/` layout).
pub const QUEUE_SUBDIRS: [&str; 3] = ["qf", "df", "xf"];

/// Where sendmail.cf lives in a tree, in the order sendmail's builds look: the first one found is the
/// one in use.
pub const CF_FILES: [&str; 2] = ["etc/sendmail.cf", "etc/mail/sendmail.cf"];

/// The m4 source the cf is built from.
pub const MC_FILE: &str = "etc/mail/sendmail.mc";

/// A site's queue below its `siteN` directory: `fst/var/spool/mqueue`.
pub fn site_queue() -> std::path::PathBuf {
    std::path::Path::new(SITE_TREE).join(QUEUE)
}

/// For a person: where a scan looks by default.
pub fn default_queues_text() -> String {
    format!(
        "{SITES_DIR}/site*/{SITE_TREE}/{QUEUE}, {}",
        HOST_QUEUES.join(" and ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_queues_as_a_person_reads_them() {
        assert_eq!(
            default_queues_text(),
            "home/virtual/site*/fst/var/spool/mqueue, var/spool/mqueue and var/spool/clientmqueue"
        );
        assert_eq!(site_queue(), std::path::Path::new("fst/var/spool/mqueue"));
    }
}
