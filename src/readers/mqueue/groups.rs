//! Oversized messages folded into groups of identical ones (same sender, subject and size), so that
//! 2,074 retries of one attachment are one line and memory stays bounded by the number of distinct
//! messages, not of copies.

use super::delivery::{self, Class};
use super::qf::ControlFile;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

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
    pub recipient_count: usize,
    pub recipients: Vec<String>,
    /// Most delivery attempts among the copies (qf `N`).
    pub attempts: Option<u32>,
    pub status_class: Class,
    pub status: Option<String>,
    /// How many copies fall in each status class.
    pub classes: BTreeMap<Class, u64>,
    /// Copies whose control file is missing, unreadable or damaged, and the first reason.
    pub damaged: u64,
    pub problem: Option<String>,
}

type Key = (Option<String>, Option<String>, u64);

#[derive(Debug, Default)]
pub struct Groups {
    map: HashMap<Key, Group>,
}

impl Groups {
    pub fn add(&mut self, m: Message) {
        let c = m.control.as_ref();
        let sender = c.and_then(|c| c.sender.clone());
        let subject = c.and_then(|c| c.subject.clone());
        let created = c
            .and_then(|c| c.created)
            .and_then(|t| i64::try_from(t).ok())
            .unwrap_or(m.mtime);
        let (class, status) = c.map(delivery::last_status).unwrap_or((Class::None, None));
        let damaged = m.problem.is_some() || c.is_some_and(|c| c.is_damaged());
        let problem = m
            .problem
            .clone()
            .or_else(|| c.and_then(|c| c.problems.first().cloned()));
        let key = (sender.clone(), subject.clone(), m.size);
        let g = self.map.entry(key).or_insert_with(|| Group {
            count: 0,
            size: m.size,
            sender,
            subject,
            ids: Vec::new(),
            created,
            owners: Vec::new(),
            recipient_count: c.map_or(0, |c| c.recipient_count),
            recipients: c.map_or(Vec::new(), |c| {
                c.recipients.iter().map(|r| r.address.clone()).collect()
            }),
            attempts: None,
            status_class: class,
            status: status.clone(),
            classes: BTreeMap::new(),
            damaged: 0,
            problem: None,
        });
        g.count += 1;
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
                g.problem = problem;
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

    /// Groups largest message first, then most copies.
    pub fn sorted(&self) -> Vec<Group> {
        let mut v: Vec<Group> = self.map.values().cloned().collect();
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

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}
