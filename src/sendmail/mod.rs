//! Sendmail's own file formats: the `DefaultUser` setting in `sendmail.mc` and `sendmail.cf`.

pub mod defaultuser;
