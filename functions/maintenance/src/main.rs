//! The maintenance Lambda: builds its store once per cold start, then runs one job per
//! EventBridge Scheduler event.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    // The TLS connector is built on another thread while start-up reads its configuration.
    dispatch_domain::aws_sdk::prepare_connector(dispatch_domain::aws_sdk::CallBounds::API);
    let maintenance = dispatch_maintenance::init().await;
    let maintenance = &maintenance;
    lambda_runtime::run(lambda_runtime::service_fn(move |event| async move {
        dispatch_maintenance::handle(maintenance, event).await
    }))
    .await
}
