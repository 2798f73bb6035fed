//! Runs third-party parsers that may panic on malformed input (procfs-core does, for a truncated `stat`)
//! and turns a panic into an error, without the panic message reaching the terminal.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    static GUARDED: Cell<bool> = const { Cell::new(false) };
}

static HOOK: Once = Once::new();

/// Installs a panic hook that stays silent inside `guarded` and defers to the default hook elsewhere.
fn install_hook() {
    HOOK.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !GUARDED.with(|g| g.get()) {
                default(info);
            }
        }));
    });
}

/// Calls `f`; a panic inside it becomes `Err` with the panic message.
pub fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_hook();
    let was = GUARDED.with(|g| g.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(was));
    result.map_err(|payload| {
        if let Some(s) = payload.downcast_ref::<&str>() {
            format!("parser failed: {s}")
        } else if let Some(s) = payload.downcast_ref::<String>() {
            format!("parser failed: {s}")
        } else {
            "parser failed".to_string()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_becomes_error() {
        let r: Result<(), String> = guarded(|| panic!("boom"));
        assert_eq!(r.unwrap_err(), "parser failed: boom");
        assert_eq!(guarded(|| 5), Ok(5));
    }

    #[test]
    fn procfs_core_truncated_stat_does_not_escape() {
        use procfs_core::{process::Stat, FromRead};
        // ')' as the last byte makes procfs-core slice past the end. Unguarded it panics (else this
        // input no longer tests the guard and another must be found)...
        let unguarded = std::panic::catch_unwind(|| Stat::from_read(&b"(x)"[..]));
        assert!(
            unguarded.is_err(),
            "procfs-core no longer panics on this input"
        );
        // ...and guarded, the panic comes back as an error carrying its message.
        let e = guarded(|| Stat::from_read(&b"(x)"[..])).expect_err("the guard caught the panic");
        assert!(e.starts_with("parser failed: "), "{e}");
    }
}
