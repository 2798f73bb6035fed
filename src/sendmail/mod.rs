//! Sendmail's own layout and file formats: where its queues and configuration files are
//! (`layout`), and the `DefaultUser` setting in `sendmail.mc` and `sendmail.cf` (`defaultuser`).

pub mod defaultuser;
pub mod layout;
