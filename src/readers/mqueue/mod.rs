//! Sendmail queues: the control-file parser, the status classifier, the queue walker (and the
//! per-message records it yields for the purge), the grouping of identical oversized messages and
//! the `--spool` glob.

pub mod delivery;
pub mod groups;
pub mod qf;
pub mod queue;
pub mod queued;
pub mod spools;
