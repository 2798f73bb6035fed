//! The integration tests: one crate, one harness (`common`), one module per command.

mod check;
mod cli;
mod common;
mod man;
mod mem;
mod mem_history;
mod mqueue;
mod mqueue_fix;
mod mqueue_fix_reports;
mod mqueue_m4;
mod mqueue_purge;
mod mqueue_purge_safety;
mod sendmail_m4;
mod zombies;
