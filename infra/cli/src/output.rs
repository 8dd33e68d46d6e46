//! How much the CLI says, as AWS tools do: `--quiet` leaves only the data a command was asked
//! for (its JSON or table) and errors; `-v` adds our own debug log, `-vv` everything's (every
//! AWS request included). `RUST_LOG`, when set, decides the log instead.
//!
//! Status lines ("Success.", "User successfully created.", progress) go through [`say!`], which
//! `--quiet` silences; data goes to standard output with `println!` whatever the level, so
//! scripts can rely on it.

use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Whether `--quiet` was given.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Sets the level from the global flags, before any command runs.
pub fn configure(quiet: bool, verbose: u8) {
    QUIET.store(quiet, Ordering::Relaxed);
    dispatch_domain::telemetry::init_with_default(log_filter(quiet, verbose));
}

/// The log filter for the flags (`RUST_LOG` overrides it).
pub fn log_filter(quiet: bool, verbose: u8) -> &'static str {
    match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "info",
        (false, 1) => {
            "info,dispatch=debug,dispatch_cli=debug,dispatch_domain=debug,dispatch_store=debug"
        }
        (false, _) => "debug",
    }
}

/// `println!` unless `--quiet`: a status line, not data.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        if !$crate::output::quiet() {
            println!($($arg)*);
        }
    };
}
