//! The plugins Lambda: builds its state once per cold start, then serves its router. It alone
//! reads and writes plugin configurations, so it refuses to start without their key.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let state = dispatch_shared::state::init().await;
    if state.secrets().configuration.is_none() {
        eprintln!("configuration error: DISPATCH_ENCRYPTION_SECRET_ID is not set");
        std::process::exit(1);
    }
    lambda_http::run(dispatch_plugins::router(state)?).await
}
