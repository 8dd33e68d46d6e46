//! Logging: JSON lines inside Lambda (CloudWatch parses them), readable lines elsewhere.
//! `RUST_LOG` sets the filter (default `info`).

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls do nothing.
pub fn init() {
    init_with_default("info");
}

/// [`init`] with another filter when `RUST_LOG` is not set (the CLI's `--quiet`/`--verbose`).
pub fn init_with_default(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if in_lambda {
        builder.json().with_ansi(false).without_time().try_init()
    } else {
        builder.try_init()
    };
}
