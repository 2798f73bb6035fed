//! Sendmail queues: the control-file parser, the status classifier, the queue walker and the
//! grouping of identical oversized messages.

pub mod delivery;
pub mod groups;
pub mod qf;
pub mod queue;
