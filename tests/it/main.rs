//! The integration tests: one crate, one harness (`common`), one module per command.

mod check;
mod cli;
mod common;
mod man;
mod mem;
mod mem_history;
mod mqueue;
mod mqueue_fix;
mod mqueue_purge;
mod mta;
mod sendmail_m4;
mod zombies;
