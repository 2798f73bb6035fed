//! Readers: files under the root turned into plain data. Every reader takes the root; none reads `/proc`
//! or `/etc` directly.

pub mod capped;
pub mod guard;
pub mod memory;
pub mod mqueue;
pub mod nofollow;
pub mod procmem;
pub mod procs;
pub mod sendmail_cf;
pub mod sites;
pub mod skips;
pub mod users;
