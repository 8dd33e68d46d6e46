//! The projects Lambda: builds its state once per cold start, then serves its router.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let state = dispatch_shared::state::init().await;
    lambda_http::run(dispatch_projects::router(state)?).await
}
