//! One module per subcommand. Each builds its report (read, judge), hands it to the renderer, and
//! for fixing commands turns it into a plan and acts on it.

pub mod check;
pub mod mem;
pub mod mqueue;
pub mod zombies;

use crate::cli::Command;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::render::sanitize::Guard;
use crate::render::{emit, Report};
use crate::status::Status;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

pub fn dispatch(ctx: &Context, command: &Command) -> Result<Status> {
    if let (Some(_), Command::Zombies(z)) = (&ctx.output, command) {
        if z.reap || z.restart {
            return Err(Error::Usage(
                "--output is for read-only commands; --reap and --restart report on stdout".into(),
            ));
        }
    }
    match command {
        Command::Zombies(args) => zombies::run(ctx, args),
        Command::Mem(args) => mem::run(ctx, args),
        Command::Mqueue(args) => mqueue::run(ctx, args),
        Command::Check(args) => check::run(ctx, args),
    }
}

/// Renders a finished report on stdout, or atomically into `--output FILE`, and returns its status.
pub fn output<R: Report>(ctx: &Context, report: &R) -> Result<Status> {
    let mut doc = Vec::new();
    {
        let mut out = Guard::for_format(&mut doc, ctx.format, &ctx.style);
        emit(report, ctx.format, &ctx.style, &mut out).map_err(Error::Output)?;
        std::io::Write::flush(&mut out).map_err(Error::Output)?;
    }
    write_document(ctx.output.as_deref(), &doc)?;
    Ok(report.status())
}

/// Set once a document has been written: a failure after that must not add a second one.
static WRITTEN: AtomicBool = AtomicBool::new(false);

pub fn document_written() -> bool {
    WRITTEN.load(Ordering::SeqCst)
}

/// Writes one finished document to stdout, or to FILE through a temp file beside it renamed over it
/// (the node_exporter textfile convention: a reader sees the old file or the new one, never half).
pub fn write_document(file: Option<&Path>, doc: &[u8]) -> Result<()> {
    WRITTEN.store(true, Ordering::SeqCst);
    match file {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(doc).map_err(Error::Output)?;
            out.flush().map_err(Error::Output)?;
            Ok(())
        }
        Some(path) => replace_file(path, doc).map_err(|e| Error::io(path, e)),
    }
}

fn replace_file(path: &Path, doc: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("--output needs a file name"))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // A dot name that does not end in `.prom`: the textfile collector ignores it while it is written.
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = dir.join(tmp_name);
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&tmp)?;
        f.write_all(doc)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}
