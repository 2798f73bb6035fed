//! Oversized messages folded into groups of identical ones (same sender, subject and size), so that
//! 2,074 retries of one attachment are one line and memory stays bounded by the number of distinct
//! messages, not of copies.

use super::delivery::{self, Class};
use super::qf::{ControlFile, KEPT_RECIPIENTS};
use serde::Serialize;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hasher;

/// Ids kept per group (the others are only counted).
const KEPT_IDS: usize = 3;

/// One oversized message as the walker found it.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: String,
    /// Data file size, as mailq shows it.
    pub size: u64,
    pub mtime: i64,
    /// Owner and group of the control file (of the data file when there is none).
    pub owner: (u32, u32),
    pub control: Option<ControlFile>,
    /// Why the control file could not be used.
    pub problem: Option<String>,
}

/// Identical messages: one sample described, the copies counted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub count: u64,
    pub size: u64,
    pub sender: Option<String>,
    pub subject: Option<String>,
    /// The first few queue ids (oldest first).
    pub ids: Vec<String>,
    /// Creation time of the oldest copy (qf `T`, else the data file's mtime), Unix seconds.
    pub created: i64,
    /// Owners seen (uid, gid), at most three.
    pub owners: Vec<(u32, u32)>,
    /// Distinct recipients over all the copies (three copies to user1, user2 and user3 are 3), at
    /// least the largest count of any one copy.
    pub recipient_count: usize,
    /// The first few distinct recipients, in the order met.
    pub recipients: Vec<String>,
    /// Most delivery attempts among the copies (qf `N`).
    pub attempts: Option<u32>,
    pub status_class: Class,
    pub status: Option<String>,
    /// Quarantine reason (qf `q` line) of the first copy, when sendmail holds it.
    pub quarantine: Option<String>,
    /// How many copies fall in each status class.
    pub classes: BTreeMap<Class, u64>,
    /// Copies whose control file is missing, unreadable or damaged, and the first reason.
    pub damaged: u64,
    pub problem: Option<String>,
    /// Hashes of the distinct recipients seen, for the count (bounded: see `MAX_DISTINCT`).
    #[serde(skip)]
    seen: HashSet<u64>,
}

/// Distinct recipients counted per group; past this the count stops growing (memory stays bounded
/// by the number of groups however many copies and addresses there are).
const MAX_DISTINCT: usize = 10_000;

/// The hash of the address in lower case, as `a.to_ascii_lowercase().hash()` makes it (a `str`
/// hashes as its bytes then 0xff, and the hasher is fed in pieces), without the copy.
fn address_hash(a: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut buf = [0u8; 64];
    for piece in a.as_bytes().chunks(buf.len()) {
        let lower = &mut buf[..piece.len()];
        lower.copy_from_slice(piece);
        lower.make_ascii_lowercase();
        h.write(lower);
    }
    h.write_u8(0xff);
    h.finish()
}

type Key = (Option<String>, Option<String>, u64);

#[derive(Debug, Default)]
pub struct Groups {
    map: HashMap<Key, Group>,
}

impl Groups {
    pub fn add(&mut self, m: Message) {
        let status = m.control.as_ref().map(delivery::last_status);
        self.add_classified(m, status.unwrap_or((Class::None, None)));
    }

    /// As [`Groups::add`], given what `delivery::last_status` says of the message's control file
    /// (`(Class::None, None)` without one): for a caller that needs it too and classified it already.
    pub fn add_classified(&mut self, mut m: Message, (class, status): (Class, Option<String>)) {
        let c = m.control.as_mut();
        // The group key is made of the copy's own texts (moved, not copied): this runs per copy.
        let (sender, subject) = c.map_or((None, None), |c| (c.sender.take(), c.subject.take()));
        let c = m.control.as_ref();
        let created = c
            .and_then(|c| c.created)
            .and_then(|t| i64::try_from(t).ok())
            .unwrap_or(m.mtime);
        let damaged = m.problem.is_some() || c.is_some_and(|c| c.is_damaged());
        let g = match self.map.entry((sender, subject, m.size)) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => {
                let (sender, subject, size) = v.key().clone();
                v.insert(Group {
                    count: 0,
                    size,
                    sender,
                    subject,
                    ids: Vec::new(),
                    created,
                    owners: Vec::new(),
                    recipient_count: 0,
                    recipients: Vec::new(),
                    attempts: None,
                    status_class: class,
                    status: status.clone(),
                    quarantine: c.and_then(|c| c.quarantine.clone()),
                    classes: BTreeMap::new(),
                    damaged: 0,
                    problem: None,
                    seen: HashSet::new(),
                })
            }
        };
        g.count += 1;
        if let Some(c) = c {
            for r in &c.recipients {
                if g.seen.len() < MAX_DISTINCT
                    && g.seen.insert(address_hash(&r.address))
                    && g.recipients.len() < KEPT_RECIPIENTS
                {
                    g.recipients.push(r.address.clone());
                }
            }
            g.recipient_count = g.seen.len().max(c.recipient_count).max(g.recipient_count);
        }
        *g.classes.entry(class).or_default() += 1;
        if created < g.created {
            g.created = created;
        }
        // Sendmail ids start with the encoded date and time: the smallest are the oldest copies.
        g.ids.push(m.id);
        if g.ids.len() > KEPT_IDS {
            g.ids.sort();
            g.ids.truncate(KEPT_IDS);
        }
        if !g.owners.contains(&m.owner) && g.owners.len() < 3 {
            g.owners.push(m.owner);
        }
        if let Some(n) = c.and_then(|c| c.attempts) {
            g.attempts = Some(g.attempts.map_or(n, |a| a.max(n)));
        }
        if damaged {
            g.damaged += 1;
            if g.problem.is_none() {
                g.problem = m
                    .problem
                    .take()
                    .or_else(|| c.and_then(|c| c.problems.first().cloned()));
            }
        }
        // The group's status is that of its most common class.
        if let Some((&top, _)) = g.classes.iter().max_by_key(|(_, n)| **n) {
            if top != g.status_class && class == top {
                g.status_class = top;
                g.status = status;
            }
        }
    }

    /// As `into_sorted`, keeping these.
    pub fn sorted(&self) -> Vec<Group> {
        Groups {
            map: self.map.clone(),
        }
        .into_sorted()
    }

    /// Groups largest message first, then most copies.
    pub fn into_sorted(self) -> Vec<Group> {
        let mut v: Vec<Group> = self.map.into_values().collect();
        for g in &mut v {
            g.ids.sort();
        }
        v.sort_by(|a, b| {
            b.size
                .cmp(&a.size)
                .then(b.count.cmp(&a.count))
                .then(a.ids.cmp(&b.ids))
        });
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readers::mqueue::qf;
    use std::hash::Hash;

    fn copy(id: &str, to: &[&str]) -> Message {
        let mut f = b"V8\nT1795314996\nSjdoe@example.com\n".to_vec();
        for r in to {
            f.extend_from_slice(format!("RPFD:{r}\n").as_bytes());
        }
        f.extend_from_slice(b"H??Subject: Catalogue\n.\n");
        Message {
            id: id.into(),
            size: 40 << 20,
            mtime: 0,
            owner: (0, 12),
            control: Some(qf::parse(&f)),
            problem: None,
        }
    }

    #[test]
    fn address_hashes_are_those_of_the_lower_case_copy() {
        let long = format!("{}@Example.COM", "Ab".repeat(100));
        for a in [
            "",
            "user1@x",
            "USER1@X",
            "Ünïcode@Bücher.example",
            long.as_str(),
        ] {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            a.to_ascii_lowercase().hash(&mut h);
            assert_eq!(address_hash(a), h.finish(), "{a}");
        }
    }

    #[test]
    fn a_group_shows_the_distinct_recipients_of_all_its_copies() {
        let mut g = Groups::default();
        g.add(copy("A1", &["user1@x"]));
        g.add(copy("A2", &["user2@x"]));
        g.add(copy("A3", &["user3@x", "USER1@x"]));
        let v = g.into_sorted();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].count, 3);
        assert_eq!(v[0].recipient_count, 3);
        assert_eq!(v[0].recipients, ["user1@x", "user2@x", "user3@x"]);
    }
}
