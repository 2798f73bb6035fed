//! The memory history of SPEC 6: `mem record` appends samples to a JSON-lines file, `mem report`
//! draws them, and `mem verdict` looks in them for steady growth (a leak) and OOM kills since the
//! last record. `sample` and `file` are the data and its storage; `trend` and `findings` judge
//! (pure); `chart`, `svg` and `view` draw.

pub mod chart;
pub mod consolidate;
pub mod file;
pub mod findings;
pub mod record;
pub mod sample;
pub mod scan;
pub mod svg;
mod theilsen;
pub mod trend;
pub mod view;

use crate::context::Context;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The history file: the one given, else the default under the root.
pub fn path(ctx: &Context, given: Option<&Path>) -> PathBuf {
    given
        .map(Path::to_path_buf)
        .unwrap_or_else(|| ctx.root.join(file::DEFAULT))
}

/// `mem report`: loads, draws, and writes the SVG when asked (`-`: the caller writes it to stdout).
pub fn report(history: &Path, svg: Option<&Path>) -> Result<view::HistoryReport> {
    let h = file::load(history)?;
    let mut r = view::build(&history.display().to_string(), h.as_ref());
    match svg {
        // `--svg -`: the document goes to stdout, instead of the report.
        Some(p) if p == Path::new("-") => r.svg = Some("-".into()),
        Some(p) => {
            std::fs::write(p, svg::document(&r.charts)).map_err(|e| Error::io(p, e))?;
            r.svg = Some(p.display().to_string());
        }
        None => {}
    }
    Ok(r)
}
