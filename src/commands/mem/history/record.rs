//! `toolkit mem record`: one sample appended to the history, or a loop of them. Silent on success
//! unless stderr is a terminal, so that cron mails nothing when all is well.

use super::{file, sample};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::status::Status;
use crate::units::human_size;
use std::path::Path;
use std::time::{Duration, Instant};

/// How often and how long to sample: `every: None` is one sample (the cron form); `until: None`
/// with `every` loops until killed.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub every: Option<u64>,
    pub until: Option<u64>,
}

pub fn run(ctx: &Context, path: &Path, schedule: Schedule) -> Result<Status> {
    let every = match (schedule.every, schedule.until) {
        (None, None) => return once(ctx, path),
        (Some(0), _) => return Err(Error::Usage("--every must be at least 1s".into())),
        // `--for` alone samples at the documented default pace.
        (e, _) => Duration::from_secs(e.unwrap_or(10)),
    };
    let start = Instant::now();
    let until = schedule.until.map(Duration::from_secs);
    // Ticks on a fixed schedule from the start, so a slow sample does not shift the later ones.
    let mut tick = 0u32;
    loop {
        once(ctx, path)?;
        tick += 1;
        let next = every * tick;
        if until.is_some_and(|u| next > u) {
            return Ok(Status::Ok);
        }
        std::thread::sleep(next.saturating_sub(start.elapsed()));
    }
}

fn once(ctx: &Context, path: &Path) -> Result<Status> {
    let s = sample::read(&ctx.root)?;
    let size = file::append(path, &s)?;
    if ctx.show_progress {
        eprintln!(
            "recorded {} processes to {} ({})",
            s.procs.len(),
            path.display(),
            human_size(size)
        );
    }
    Ok(Status::Ok)
}
