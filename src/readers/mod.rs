//! Readers: files under the root turned into plain data. Every reader takes the root; none reads `/proc`
//! or `/etc` directly.

pub mod accounts;
pub mod capped;
pub mod hidepid;
pub mod memory;
pub mod mqueue;
pub mod mta;
pub mod proc;
pub mod sendmail_cf;
pub mod service;
pub mod site_identity;
pub mod sites;
pub mod skips;
pub mod users;

// The two views of the process records under their old names, so that callers keep their imports.
pub use proc::mem as procmem;
pub use proc::table as procs;
