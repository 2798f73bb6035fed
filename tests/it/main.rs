//! The integration tests: one crate, one harness (`common`), one module per command.

mod check;
mod cli;
mod common;
mod contrib;
mod hostile;
mod man;
mod manpage;
mod mem;
mod mem_fence;
mod mem_history;
mod monitoring;
mod mqueue;
mod mqueue_fix;
mod mqueue_fix_identity;
mod mqueue_fix_sendmail;
mod mqueue_m4;
mod mqueue_purge;
mod mqueue_purge_safety;
mod readme;
mod sendmail_m4;
mod usability;
mod width;

mod zombies;
mod zombies_live;
