//! One queued message as the queue walker found it (`queue::scan_messages`): its files where sendmail
//! keeps them, each as it was when read (never followed), and what its qf says of it. Only made when
//! a caller asks for messages (`mqueue purge`); `mqueue scan` keeps totals and groups alone.

use crate::safeops::Meta;
use std::ffi::OsString;
use std::path::PathBuf;

/// One file of a message.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueFile {
    /// The directory sendmail keeps files of its kind in, relative to the queue directory: "" or its
    /// `qf/`, `df/`, `xf/` subdirectory (each split on its own, as sendmail's `queuename()` does), or
    /// the same below a `q*` sub-queue.
    pub dir: PathBuf,
    /// Its name as the directory holds it (kind and id bytes, never decoded).
    pub name: OsString,
    /// What it was when read, not followed (a symlink is a symlink); `None` when there is no such
    /// file, and for the data file when it is not a regular file.
    pub meta: Option<Meta>,
}

/// A message whose size is at least the scan's `min` (with `min` 0, also a qf without data file).
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedMessage {
    /// The queue id as the file names carry it.
    pub id: Vec<u8>,
    /// Size of the data file (0 without a regular one), as mailq shows it.
    pub size: u64,
    /// The control file; its `meta` is `None` for a data file without one (or only a quarantined `hf`).
    pub qf: QueueFile,
    pub df: QueueFile,
    /// The transcript, when a name for it exists (of whatever type: the purge checks it when it acts).
    pub xf: Option<QueueFile>,
    /// From the qf (`T`, `S`, `Subject:`), when it could be read; never from an `hf`.
    pub created: Option<u64>,
    pub sender: Option<String>,
    pub subject: Option<String>,
}
