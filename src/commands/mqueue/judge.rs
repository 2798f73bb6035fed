//! Pure judgement: what the readers found becomes the report: per-queue ages and quota binding, the
//! oversized groups largest first, the totals, and the status from the largest queue against `-w/-c`
//! (UNKNOWN when something could not be read, unless already CRITICAL).

use super::accounts::MtaSection;
use super::binding::binding;
use super::findings;
use super::{Found, Scanned};
use crate::readers::mqueue::groups::Group;
use crate::readers::mqueue::queue::QueueScan;
use crate::readers::sites::{Site, SiteDb};
use crate::readers::skips::Skips;
use crate::readers::users::UserDb;
use crate::render::nagios::Range;
use crate::root::Root;
use crate::safeops::read::Blocked;

pub use super::report::{
    MqueueReport, Now, NowSource, OversizedGroup, QueueReport, QueueState, SiteRef, Totals,
};

/// A tf file older than this is left over from a crash, not being written.
pub const STALE_TF_SECS: i64 = 3600;

#[derive(Debug, Clone)]
pub struct Options {
    pub min: u64,
    pub top: usize,
    pub warning: Range,
    pub critical: Range,
}

pub struct Facts<'a> {
    pub root: &'a Root,
    pub users: &'a UserDb,
    pub sites: &'a SiteDb,
    pub scanned: Vec<Scanned>,
    pub now: Now,
    pub skips: Skips,
    /// The Exim/Postfix section, judged already (`accounts::scan`).
    pub mta: Option<MtaSection>,
}

fn age(now: Now, t: i64) -> u64 {
    now.unix.saturating_sub(t).max(0) as u64
}

/// Temporary control files older than `STALE_TF_SECS`.
fn stale_tf(tf_mtimes: &[i64], now: Now) -> u64 {
    tf_mtimes
        .iter()
        .filter(|&&t| now.unix.saturating_sub(t) > STALE_TF_SECS)
        .count() as u64
}

pub fn judge(facts: Facts, opts: &Options) -> MqueueReport {
    let Facts {
        root,
        users,
        sites,
        scanned,
        now,
        mut skips,
        mta,
    } = facts;
    let mut queues = Vec::new();
    let mut groups: Vec<OversizedGroup> = Vec::new();
    for s in scanned {
        skips.merge(s.skips);
        let site = s.target.site.map(|i| &sites.sites[i]);
        let mut q = queue(root, site, &s.target.path());
        match s.found {
            Found::Blocked(Blocked::Missing) if s.target.optional => continue,
            Found::Blocked(b) => blocked(&mut q, &b, root, &mut skips),
            Found::Queue(scan) => {
                let mut scan = *scan;
                let domain = site.and_then(|s| s.domains.first().cloned());
                for g in std::mem::take(&mut scan.groups).into_sorted() {
                    groups.push(oversized(g, &q.label, domain.clone(), users, now));
                }
                q.binding =
                    site.map(|site| binding(site, scan.dir, s.default_user.as_ref(), users));
                read(&mut q, scan, now);
            }
        }
        queues.push(q);
    }
    queues.sort_by(|a, b| b.scan.bytes.cmp(&a.scan.bytes).then(a.path.cmp(&b.path)));
    let not_listed = top_groups(&mut groups, opts.top);
    let findings = findings::queues(&queues, &skips, opts.min, &opts.warning, &opts.critical);
    let mut status = findings::status_of(&findings);
    if let Some(m) = &mta {
        status = status.worst(m.status);
    }
    MqueueReport {
        status,
        findings,
        now,
        min_bytes: opts.min,
        top: opts.top,
        warning_range: opts.warning.clone(),
        critical_range: opts.critical.clone(),
        totals: totals(&queues),
        queues,
        oversized: groups,
        oversized_not_listed: not_listed,
        skipped: skips,
        mta,
    }
}

/// A queue's entry before it is read: who it belongs to and where it is.
fn queue(root: &Root, site: Option<&Site>, path: &std::path::Path) -> QueueReport {
    let name = match site {
        Some(s) => match s.domains.first() {
            Some(d) => format!("{} {d}", s.name),
            None => s.name.clone(),
        },
        None => {
            let rel = path.strip_prefix(root.path()).unwrap_or(path);
            format!("host /{}", rel.display())
        }
    };
    QueueReport {
        label: site.map_or_else(|| "host".to_string(), |s| s.name.clone()),
        name,
        site: site.map(SiteRef::of),
        path: root.display(path),
        state: QueueState::Ok,
        problem: None,
        scan: QueueScan::default(),
        oldest_age: None,
        stale_tf: 0,
        binding: None,
    }
}

/// A queue that could not be opened: why, and (unless it is simply absent or a symlink, which the
/// entry says) counted as not read, since it may hold anything.
fn blocked(q: &mut QueueReport, b: &Blocked, root: &Root, skips: &mut Skips) {
    q.state = match b {
        Blocked::Missing => QueueState::Missing,
        Blocked::Symlink { .. } => QueueState::Symlink,
        Blocked::NotDir { .. } | Blocked::Error { .. } => QueueState::Unreadable,
    };
    q.problem = Some(b.describe(|p| root.display(p)));
    match b {
        Blocked::Error { at, errno } => skips.add_unreadable(root, at, errno.desc()),
        Blocked::NotDir { at } => skips.add(root, at, "not a directory"),
        Blocked::Missing | Blocked::Symlink { .. } => {}
    }
}

/// A queue that was walked: what was found, its ages judged against `now`.
fn read(q: &mut QueueReport, scan: QueueScan, now: Now) {
    q.oldest_age = scan.oldest.map(|t| age(now, t));
    q.stale_tf = stale_tf(&scan.anomalies.tf_mtimes, now);
    q.scan = scan;
}

/// The sums over every queue listed.
fn totals(queues: &[QueueReport]) -> Totals {
    let mut t = Totals {
        queues: queues.len(),
        ..Totals::default()
    };
    for q in queues {
        t.messages += q.scan.messages;
        t.bytes += q.scan.bytes;
        t.disk_bytes += q.scan.disk_bytes;
        t.oversized += q.scan.oversized;
        t.oversized_bytes += q.scan.oversized_bytes;
        t.unbound_sites += q.unbound() as usize;
    }
    t
}

/// Orders oversized groups largest first (then most copies, then by queue and ids, so the listing is
/// stable), keeps the first `top` and returns how many were left out.
pub(super) fn top_groups(groups: &mut Vec<OversizedGroup>, top: usize) -> usize {
    groups.sort_by(|a, b| {
        b.size
            .cmp(&a.size)
            .then(b.count.cmp(&a.count))
            .then(a.queue.cmp(&b.queue))
            .then(a.ids.cmp(&b.ids))
    });
    let not_listed = groups.len().saturating_sub(top);
    groups.truncate(top);
    not_listed
}

fn oversized(
    g: Group,
    queue: &str,
    domain: Option<String>,
    users: &UserDb,
    now: Now,
) -> OversizedGroup {
    let owners = g
        .owners
        .iter()
        .map(|&(u, gr)| format!("{}:{}", users.user_name(u), users.group_name(gr)))
        .collect();
    oversized_group(g, queue.to_string(), domain, now, owners)
}

/// One group of identical oversized messages as reported, for a sendmail queue or a hosting account.
pub(super) fn oversized_group(
    g: Group,
    queue: String,
    site_domain: Option<String>,
    now: Now,
    owners: Vec<String>,
) -> OversizedGroup {
    OversizedGroup {
        queue,
        site_domain,
        count: g.count,
        size: g.size,
        bytes: g.size.saturating_mul(g.count),
        sender: g.sender,
        subject: g.subject,
        ids: g.ids,
        created: g.created,
        age: age(now, g.created),
        owners,
        recipient_count: g.recipient_count,
        recipients: g.recipients,
        attempts: g.attempts,
        status_class: g.status_class,
        status: g.status,
        quarantine: g.quarantine,
        classes: g.classes,
        damaged: g.damaged,
        problem: g.problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mqueue::findings::Code;
    use crate::commands::mqueue::targets::Target;
    use crate::readers::mqueue::groups::Message;
    use crate::readers::mqueue::queue::Owner;
    use crate::status::Status;
    use std::path::PathBuf;

    const NOW: Now = Now {
        unix: 1_800_000_000,
        source: NowSource::Proc,
    };

    fn opts(top: usize) -> Options {
        Options {
            min: 100,
            top,
            warning: "1000".parse().unwrap(),
            critical: "10000".parse().unwrap(),
        }
    }

    fn users() -> UserDb {
        let mut m = UserDb::empty();
        m.add_user(crate::readers::users::User::new(0, "root", 0));
        m.add_group(crate::readers::users::Group::new(0, "root"));
        m.add_group(crate::readers::users::Group::new(12, "mail"));
        m.add_group(crate::readers::users::Group::new(501, "admin1"));
        m
    }

    fn sites(root: &Root) -> SiteDb {
        let site = |n: u32, domain: &str| Site {
            name: format!("site{n}"),
            dir: root.join(format!("home/virtual/site{n}")),
            domains: vec![domain.into()],
            admin: Some(format!("admin{n}")),
            uid: Some(500 + n),
            gid: Some(500 + n),
            fst_gid: Some(500 + n),
            ..Default::default()
        };
        SiteDb {
            sites: vec![site(1, "example.com"), site(2, "shop.example.org")],
            skips: Skips::default(),
        }
    }

    fn target(root: &Root, site: Option<usize>, optional: bool) -> Target {
        Target {
            site,
            base: match site {
                Some(i) => root.join(format!("home/virtual/site{}", i + 1)),
                None => root.path().to_path_buf(),
            },
            rel: PathBuf::from(match site {
                Some(_) => "fst/var/spool/mqueue",
                None if optional => "var/spool/clientmqueue",
                None => "var/spool/mqueue",
            }),
            optional,
        }
    }

    fn walked(t: Target, scan: QueueScan, default_user: Option<&str>) -> Scanned {
        Scanned {
            target: t,
            found: Found::Queue(Box::new(scan)),
            default_user: default_user.map(|v| {
                crate::readers::sendmail_cf::resolve(
                    v.to_string(),
                    "etc/sendmail.cf".into(),
                    &users(),
                )
            }),
            skips: Skips::default(),
        }
    }

    fn blocked_at(t: Target, b: Blocked) -> Scanned {
        Scanned {
            target: t,
            found: Found::Blocked(b),
            default_user: None,
            skips: Skips::default(),
        }
    }

    fn big(id: &str, size: u64, mtime: i64) -> Message {
        Message {
            id: id.into(),
            size,
            mtime,
            owner: (0, 12),
            control: None,
            problem: None,
        }
    }

    fn run(scanned: Vec<Scanned>, top: usize) -> (tempfile::TempDir, MqueueReport) {
        run_with(scanned, top, None)
    }

    fn run_with(
        scanned: Vec<Scanned>,
        top: usize,
        mta: Option<MtaSection>,
    ) -> (tempfile::TempDir, MqueueReport) {
        let dir = tempfile::tempdir().unwrap();
        let root = Root::new(dir.path()).unwrap();
        let (users, sites) = (users(), sites(&root));
        let scanned = scanned
            .into_iter()
            .map(|mut s| {
                // Targets are built against a placeholder root; rebase them on this one.
                s.target.base = root.path().join(s.target.base.strip_prefix("/").unwrap());
                s
            })
            .collect();
        let facts = Facts {
            root: &root,
            users: &users,
            sites: &sites,
            scanned,
            now: NOW,
            skips: Skips::default(),
            mta,
        };
        let report = judge(facts, &opts(top));
        (dir, report)
    }

    fn placeholder() -> Root {
        Root::new(std::path::Path::new("/")).unwrap()
    }

    #[test]
    fn ages_and_stale_temporary_files_against_now() {
        assert_eq!(age(NOW, NOW.unix - 90), 90);
        assert_eq!(
            age(NOW, NOW.unix + 90),
            0,
            "a file from the future is age 0"
        );
        assert_eq!(age(NOW, i64::MIN), i64::MAX as u64);
        let t = NOW.unix;
        assert_eq!(stale_tf(&[t - 3601, t - 3600, t - 10, t + 5], NOW), 1);
        assert_eq!(stale_tf(&[i64::MIN], NOW), 1);
    }

    #[test]
    fn queues_largest_first_with_totals_binding_and_groups() {
        let r = placeholder();
        let mut site1 = QueueScan {
            dir: Owner {
                uid: 0,
                gid: 12,
                mode: 0o700,
            },
            messages: 3,
            files: 6,
            bytes: 5000,
            disk_bytes: 8192,
            oversized: 3,
            oversized_bytes: 4500,
            oldest: Some(NOW.unix - 7200),
            ..Default::default()
        };
        site1.anomalies.tf_mtimes = vec![NOW.unix - 4000, NOW.unix - 60];
        for (id, size) in [("A1", 1500), ("A2", 1500), ("B1", 1500)] {
            site1.groups.add(big(id, size, NOW.unix - 100));
        }
        site1.groups.add(big("C1", 200, NOW.unix - 100));
        let site2 = QueueScan {
            dir: Owner {
                uid: 0,
                gid: 502,
                mode: 0o2770,
            },
            messages: 1,
            files: 2,
            bytes: 300,
            ..Default::default()
        };
        let host = QueueScan {
            bytes: 300,
            messages: 1,
            files: 1,
            ..Default::default()
        };
        let (_d, rep) = run(
            vec![
                walked(target(&r, Some(1), false), site2, Some("502:502")),
                walked(target(&r, None, false), host, None),
                // An optional default queue that is not there is not a line.
                blocked_at(target(&r, None, true), Blocked::Missing),
                walked(target(&r, Some(0), false), site1, Some("mail:mail")),
            ],
            1,
        );
        let order: Vec<&str> = rep.queues.iter().map(|q| q.name.as_str()).collect();
        // Largest first; equal sizes by path (ROOT/home/... before ROOT/var/...).
        assert_eq!(
            order,
            [
                "site1 example.com",
                "site2 shop.example.org",
                "host /var/spool/mqueue"
            ]
        );
        let t = &rep.totals;
        assert_eq!(
            (t.queues, t.messages, t.bytes, t.disk_bytes),
            (3, 5, 5600, 8192)
        );
        assert_eq!(
            (t.oversized, t.oversized_bytes, t.unbound_sites),
            (3, 4500, 1)
        );
        let q1 = &rep.queues[0];
        assert_eq!((q1.oldest_age, q1.stale_tf), (Some(7200), 1));
        let b1 = q1.binding.as_ref().unwrap();
        assert!(!b1.bound);
        assert_eq!(
            b1.fix.as_deref(),
            Some("toolkit mqueue fix --site example.com")
        );
        assert!(rep.queues[1].binding.as_ref().unwrap().bound);
        assert!(rep.queues[2].binding.is_none(), "a host queue has no quota");
        // The largest queue's 5,000 bytes > the 1,000 warning, under the 10,000 critical.
        assert_eq!(rep.status, Status::Warning);
        let f = &rep.findings[..];
        assert_eq!(f.len(), 1, "nothing unreadable: no not-read finding");
        assert_eq!(
            (f[0].code, f[0].severity, f[0].figure),
            (Code::LargestQueue, Status::Warning, Some(5000.0))
        );
        assert_eq!(
            f[0].threshold.as_ref().map(|r| r.to_string()),
            Some("1000".into())
        );
        assert_eq!(
            f[0].text,
            "site1 example.com: 4.9 KiB in 3 messages, 3 >= 100 B; not bound to quota"
        );
        // --top 1: the largest group (three identical copies of 1500; the 200-byte one left out).
        assert_eq!(rep.oversized.len(), 1);
        assert_eq!(rep.oversized_not_listed, 1);
        let g = &rep.oversized[0];
        assert_eq!((g.queue.as_str(), g.count, g.bytes), ("site1", 3, 4500));
        assert_eq!(g.site_domain.as_deref(), Some("example.com"));
        assert_eq!(g.owners, ["root:mail"]);
        assert_eq!(g.age, 100);
        assert!(rep.skipped.is_empty());
    }

    #[test]
    fn a_queue_that_cannot_be_opened_is_a_line_and_blinds_unless_simply_absent() {
        let r = placeholder();
        let at = PathBuf::from("/home/virtual/site1/fst/var/spool/mqueue");
        // (what blocked it, the state shown, skips counted, blind)
        let cases = [
            (Blocked::Missing, QueueState::Missing, 0, false),
            (
                Blocked::Symlink {
                    at: at.clone(),
                    target: "/etc".into(),
                },
                QueueState::Symlink,
                0,
                false,
            ),
            // A file where the queue should be: reported, but it holds no queue to be blind to.
            (
                Blocked::NotDir { at: at.clone() },
                QueueState::Unreadable,
                1,
                false,
            ),
            (
                Blocked::Error {
                    at: at.clone(),
                    errno: nix::Error::EACCES,
                },
                QueueState::Unreadable,
                1,
                true,
            ),
        ];
        for (b, state, count, blind) in cases {
            let (_d, rep) = run(vec![blocked_at(target(&r, Some(0), false), b)], 10);
            let q = &rep.queues[0];
            assert_eq!(q.state, state);
            assert!(q.problem.is_some() && q.binding.is_none());
            assert_eq!(rep.skipped.count, count, "{state:?}");
            assert_eq!(rep.skipped.blind(), blind, "{state:?}");
            let expected = if blind { Status::Unknown } else { Status::Ok };
            assert_eq!(rep.status, expected, "{state:?}");
            let codes: Vec<Code> = rep.findings.iter().map(|f| f.code).collect();
            let expected = if blind {
                vec![Code::LargestQueue, Code::NotRead]
            } else {
                vec![Code::LargestQueue]
            };
            assert_eq!(codes, expected, "{state:?}");
            assert_eq!(rep.findings[0].text, "no mail queue found");
            assert_eq!(rep.totals.queues, 1);
        }
    }

    /// An Exim/Postfix section holding one account of `bytes`, blind when `blind`.
    fn mta(bytes: u64, blind: bool) -> MtaSection {
        use crate::commands::mqueue::findings::tests::{account, spool};
        let accounts = vec![account("alice", bytes, 0)];
        let spools = vec![spool(if blind {
            QueueState::Unreadable
        } else {
            QueueState::Ok
        })];
        let o = opts(10);
        let findings = findings::accounts(
            &spools,
            &accounts,
            &Skips::default(),
            o.min,
            &o.warning,
            &o.critical,
        );
        MtaSection {
            status: findings::status_of(&findings),
            findings,
            panels: Vec::new(),
            spools,
            totals: Default::default(),
            accounts,
            oversized: Vec::new(),
            oversized_not_listed: 0,
            unreadable: 0,
        }
    }

    #[test]
    fn the_exim_postfix_section_joins_the_status_and_the_larger_section_heads() {
        use crate::render::Report;
        let r = placeholder();
        let host = |bytes| QueueScan {
            bytes,
            messages: 1,
            files: 2,
            ..Default::default()
        };
        // (sendmail bytes, account bytes, the section blind, status, headline)
        let cases = [
            (500, 5000, false, Status::Warning, "account alice"),
            (5000, 500, false, Status::Warning, "host /var/spool/mqueue"),
            (500, 20_000, false, Status::Critical, "account alice"),
            // Equal: the sendmail queue heads.
            (500, 500, false, Status::Ok, "host /var/spool/mqueue"),
            // A blind section is UNKNOWN; a WARNING found elsewhere outranks it.
            (500, 500, true, Status::Unknown, "host /var/spool/mqueue"),
            (5000, 500, true, Status::Warning, "host /var/spool/mqueue"),
        ];
        for (queue, account, blind, status, head) in cases {
            let scanned = vec![walked(target(&r, None, false), host(queue), None)];
            let (_d, rep) = run_with(scanned, 10, Some(mta(account, blind)));
            let what = format!("{queue} {account} {blind}");
            assert_eq!(rep.status, status, "{what}");
            let m = rep.mta.as_ref().unwrap();
            assert_eq!(
                rep.status,
                findings::status_of(&rep.findings).worst(m.status),
                "{what}"
            );
            assert!(rep.summary().starts_with(head), "{what}: {}", rep.summary());
        }
        // No sendmail queue at all: the accounts head, however small.
        let (_d, rep) = run_with(Vec::new(), 10, Some(mta(0, false)));
        assert_eq!(rep.summary(), "account alice: 0 B in 2 messages");
    }
}
