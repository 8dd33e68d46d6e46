//! The projects Lambda: builds its state once per cold start, then serves its router.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let state = dispatch_shared::state::init().await;
    let router = dispatch_projects::router(state)?;
    dispatch_shared::state::cold_start::mark("router built");
    lambda_http::run(router).await
}
