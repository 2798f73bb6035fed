//! The integration tests: one crate, one harness (`common`), one module per command.

mod cli;
mod common;
mod man;
mod mqueue;
