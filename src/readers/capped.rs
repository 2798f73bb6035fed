//! Whole-file reads with a cap that fits the kind of file, so that no file (a process's command line
//! named by a local user, a table grown by accident, a fake root's stand-ins) makes the toolkit
//! allocate without bound. Files in site trees are read with `safeops::read::read_file_at` or
//! `safeops::Dir::read_capped` instead, which also refuse symlinks.

use std::io::{Error, ErrorKind, Read};
use std::path::Path;

/// A file under `/proc` (a command line is the largest: ARG_MAX, normally 2 MiB).
pub const PROC_CAP: u64 = 4 << 20;
/// `etc/passwd`, `etc/group`: tens of thousands of accounts fit in a few MiB.
pub const TABLE_CAP: u64 = 64 << 20;
/// A systemd unit or drop-in file.
pub const UNIT_CAP: u64 = 1 << 20;

/// Reads the whole file, or fails with its size when it is bigger than `cap` (checked before
/// anything is allocated, and again while reading: `/proc` files report size 0).
pub fn read(path: &Path, cap: u64) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    if size > cap {
        return Err(too_big(size, cap));
    }
    let mut buf = Vec::with_capacity(size as usize);
    file.take(cap + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > cap {
        return Err(too_big(buf.len() as u64, cap));
    }
    Ok(buf)
}

/// `read` as text (lossy is up to the caller: invalid UTF-8 is an error here).
pub fn read_to_string(path: &Path, cap: u64) -> std::io::Result<String> {
    String::from_utf8(read(path, cap)?).map_err(|_| Error::new(ErrorKind::InvalidData, "not UTF-8"))
}

fn too_big(size: u64, cap: u64) -> Error {
    Error::new(
        ErrorKind::InvalidData,
        format!(
            "is {} ({size} bytes), more than the {} this kind of file may be: not read",
            crate::units::human_size(size),
            crate::units::human_size(cap)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparse_huge_file_is_refused_with_its_size_without_reading_it() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("passwd");
        std::fs::File::create(&p).unwrap().set_len(1 << 40).unwrap();
        let err = read(&p, TABLE_CAP).unwrap_err();
        assert!(
            err.to_string().contains("1.0 TiB (1099511627776 bytes)"),
            "{err}"
        );
        std::fs::write(&p, "root:x:0:0::/root:/bin/sh\n").unwrap();
        assert_eq!(read(&p, TABLE_CAP).unwrap().len(), 26);
        assert!(read(&p, 10).is_err());
    }
}
