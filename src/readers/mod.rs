//! Readers: files under the root turned into plain data. Every reader takes the root; none reads `/proc`
//! or `/etc` directly.

pub mod guard;
pub mod memory;
pub mod procmem;
pub mod procs;
pub mod users;
