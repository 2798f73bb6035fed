//! Typed errors. Each names the file or argument at fault; the top level prints one line and exits 3.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad command-line value (size, duration, range, site name...).
    #[error("{0}")]
    Usage(String),
    /// A file or directory that could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file whose content is not what the kernel or sendmail writes.
    #[error("{}{}: {msg}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Malformed {
        path: PathBuf,
        line: Option<usize>,
        msg: String,
    },
    /// The command would change the system but cannot ask for confirmation.
    #[error("{0}")]
    Refused(String),
    /// Writing the report failed (closed pipe excepted, which is not an error).
    #[error("writing output: {0}")]
    Output(#[source] std::io::Error),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    pub fn malformed(path: impl AsRef<Path>, line: Option<usize>, msg: impl Into<String>) -> Error {
        Error::Malformed {
            path: path.as_ref().to_path_buf(),
            line,
            msg: msg.into(),
        }
    }
}
