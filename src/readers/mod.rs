//! Readers: files under the root turned into plain data. Every reader takes the root; none reads `/proc`
//! or `/etc` directly.

pub mod accounts;
pub mod capped;
pub mod guard;
pub mod hidepid;
pub mod memory;
pub mod mqueue;
pub mod mta;
pub mod procmem;
pub mod procs;
pub mod sendmail_cf;
pub mod site_identity;
pub mod sites;
pub mod skips;
pub mod users;
