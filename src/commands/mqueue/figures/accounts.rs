//! The Exim/Postfix section's figures (`super::Figure`): per hosting account, and the section's own.
//! Metric names are `toolkit_mqueue_account_<stem>` with the unit's suffix; a perfdata label is
//! prefixed with the account's name.

use super::{Figure, Unit};
use crate::commands::mqueue::accounts::{AccountReport, MtaSection};

/// The largest account's queued bytes (`accounts` is sorted largest first): what the Exim/Postfix
/// section's status is judged on.
pub fn largest_account(accounts: &[AccountReport]) -> u64 {
    accounts.first().map_or(0, |a| a.bytes)
}

/// An Exim/Postfix hosting account's figure: its metric stem starts with `account`, its perfdata
/// label is prefixed with the account's name.
const fn account(
    field: &'static str,
    unit: Unit,
    help: &'static str,
    metric: &'static str,
    value: fn(&AccountReport) -> Option<f64>,
) -> Figure<AccountReport> {
    Figure {
        field: Some(field),
        unit,
        help,
        metric: Some(metric),
        perf: None,
        column: None,
        judged: false,
        value,
        absent: None,
    }
}

pub const ACCOUNT_MESSAGES: Figure<AccountReport> = Figure {
    column: Some("MSGS"),
    ..account(
        "messages",
        Unit::Count,
        "Messages queued by Exim or Postfix for the hosting account.",
        "account_messages",
        |a| Some(a.messages as f64),
    )
};

pub const ACCOUNT_BYTES: Figure<AccountReport> = Figure {
    perf: Some("bytes"),
    column: Some("LISTED"),
    ..account(
        "bytes",
        Unit::Bytes,
        "Size of the account's queued messages as the MTA lists them, in bytes.",
        "account",
        |a| Some(a.bytes as f64),
    )
};

pub const ACCOUNT_DISK_BYTES: Figure<AccountReport> = Figure {
    column: Some("ON DISK"),
    ..account(
        "disk_bytes",
        Unit::Bytes,
        "Disk space used by the account's queued messages, in bytes.",
        "account_disk",
        |a| Some(a.disk_bytes as f64),
    )
};

/// Its column head is completed with the size (`>=20M`), as the queues' is.
pub const ACCOUNT_OVERSIZED: Figure<AccountReport> = Figure {
    perf: Some("oversized"),
    column: Some(">="),
    ..account(
        "oversized",
        Unit::Count,
        "The account's queued messages at least --min bytes.",
        "account_oversized_messages",
        |a| Some(a.oversized as f64),
    )
};

pub const ACCOUNT_OVERSIZED_BYTES: Figure<AccountReport> = account(
    "oversized_bytes",
    Unit::Bytes,
    "Bytes of the account's queued messages at least --min bytes.",
    "account_oversized",
    |a| Some(a.oversized_bytes as f64),
);

pub const ACCOUNT_HELD: Figure<AccountReport> = Figure {
    column: Some("HELD"),
    ..account(
        "held",
        Unit::Count,
        "The account's messages frozen (Exim) or on hold (Postfix).",
        "account_held_messages",
        |a| Some(a.held as f64),
    )
};

pub const ACCOUNT_SCRIPTS: Figure<AccountReport> = Figure {
    perf: Some("scripts"),
    column: Some("SCRIPTS"),
    ..account(
        "by_scripts",
        Unit::Count,
        "Messages queued by the account's own scripts (its uid submitted them).",
        "account_script_messages",
        |a| Some(a.by_scripts as f64),
    )
};

/// `-` in the text table and 0 in Prometheus for an account none of whose messages has an arrival
/// time.
pub const ACCOUNT_OLDEST_AGE: Figure<AccountReport> = Figure {
    column: Some("OLDEST"),
    absent: Some(0.0),
    ..account(
        "oldest_age",
        Unit::Seconds,
        "Age of the account's oldest queued message.",
        "account_oldest_age",
        |a| a.oldest_age.map(|v| v as f64),
    )
};

/// Every account figure, in the order the metrics and the per-account perfdata are written.
pub const ACCOUNT_FIGURES: [&Figure<AccountReport>; 8] = [
    &ACCOUNT_MESSAGES,
    &ACCOUNT_BYTES,
    &ACCOUNT_DISK_BYTES,
    &ACCOUNT_OVERSIZED,
    &ACCOUNT_OVERSIZED_BYTES,
    &ACCOUNT_HELD,
    &ACCOUNT_SCRIPTS,
    &ACCOUNT_OLDEST_AGE,
];

/// The figure `-w/-c` judge in the Exim/Postfix section; its perfdata carries the thresholds.
pub const LARGEST_ACCOUNT: Figure<MtaSection> = Figure {
    field: None,
    unit: Unit::Bytes,
    help: "Size of the largest account's queued messages, in bytes: what -w/-c judge.",
    metric: None,
    perf: Some("largest_account"),
    column: None,
    judged: true,
    value: |m| Some(largest_account(&m.accounts) as f64),
    absent: None,
};

pub const MTA_MESSAGES: Figure<MtaSection> = Figure {
    field: Some("totals.messages"),
    unit: Unit::Count,
    help: "Messages in the Exim and Postfix spools.",
    metric: None,
    perf: Some("mta_messages"),
    column: None,
    judged: false,
    value: |m| Some(m.totals.messages as f64),
    absent: None,
};

/// The Exim/Postfix section's own figures, in perfdata order (the accounts' follow).
pub const MTA_FIGURES: [&Figure<MtaSection>; 2] = [&LARGEST_ACCOUNT, &MTA_MESSAGES];
