//! One module per subcommand. Each builds its report (read, judge), hands it to the renderer, and
//! for fixing commands turns it into a plan and acts on it.

pub mod check;
pub mod mem;
pub mod mqueue;
pub mod zombies;

use crate::cli::Command;
use crate::context::Context;
use crate::error::Result;
use crate::render::sanitize::Guard;
use crate::render::{emit, Report};
use crate::status::Status;

pub fn dispatch(ctx: &Context, command: &Command) -> Result<Status> {
    match command {
        Command::Zombies(args) => zombies::run(ctx, args),
        Command::Mem(args) => mem::run(ctx, args),
        Command::Mqueue(args) => mqueue::run(ctx, args),
        Command::Check(args) => check::run(ctx, args),
    }
}

/// Renders a finished report on stdout and returns its status.
pub fn output<R: Report>(ctx: &Context, report: &R) -> Result<Status> {
    let stdout = std::io::stdout();
    let mut out = Guard::for_format(
        std::io::BufWriter::new(stdout.lock()),
        ctx.format,
        &ctx.style,
    );
    emit(report, ctx.format, &ctx.style, &mut out)?;
    std::io::Write::flush(&mut out)?;
    Ok(report.status())
}
