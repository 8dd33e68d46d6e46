//! The plugins Lambda: builds its state once per cold start, then serves its router. It alone
//! reads and writes plugin configurations, so it refuses to start without their key.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    // The catalogue's data files are parsed on another thread while start-up waits for AWS,
    // rather than by the first request that needs them.
    drop(tokio::task::spawn_blocking(
        dispatch_domain::catalogue::plugins,
    ));
    // The catalogue rows its instances pages show are read beside the secrets, too.
    let state =
        dispatch_shared::state::init_preloading(dispatch_shared::state::Preload::PluginRows).await;
    if state.secrets().configuration.is_none() {
        eprintln!("configuration error: DISPATCH_ENCRYPTION_SECRET_ID is not set");
        std::process::exit(1);
    }
    let router = dispatch_plugins::router(state)?;
    dispatch_shared::state::cold_start::mark("router built");
    lambda_http::run(router).await
}
