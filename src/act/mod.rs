//! The action layer the fixing commands share (`mqueue fix`, `mqueue purge`, `zombies --reap` and
//! `--restart`): one outcome type, one rule from outcomes to the exit status, one way of showing a
//! plan, and the re-check that refuses a step whose target changed between planning and applying.
//!
//! Each command reads, plans once over what it read (no I/O in the planner), shows that plan, asks,
//! and applies that same plan. The applier looks at each target again just before changing it and
//! refuses the step when the target is no longer what was planned: the plan shown is the plan applied.

mod outcome;
mod recheck;
mod show;

pub use outcome::{status_of, Outcome};
pub use recheck::{recheck, unchanged};
pub use show::show_plan;

/// A test hook between confirmation and apply (debug builds only): with `TOOLKIT_PLAN_PAUSE=FILE`, the
/// command creates FILE once the plan is confirmed and waits (at most two minutes) until FILE is
/// removed, so that a test can change a target between the plan and its application.
pub fn pause_after_confirm() {
    #[cfg(debug_assertions)]
    if let Some(flag) = std::env::var_os("TOOLKIT_PLAN_PAUSE") {
        let flag = std::path::PathBuf::from(flag);
        if std::fs::write(&flag, b"confirmed\n").is_ok() {
            let start = std::time::Instant::now();
            while flag.exists() && start.elapsed() < std::time::Duration::from_secs(120) {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    }
}

#[cfg(test)]
mod tests;
