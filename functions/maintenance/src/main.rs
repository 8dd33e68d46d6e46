//! The maintenance Lambda: builds its store once per cold start, then runs one job per
//! EventBridge Scheduler event.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let maintenance = dispatch_maintenance::init().await;
    let maintenance = &maintenance;
    lambda_runtime::run(lambda_runtime::service_fn(move |event| async move {
        dispatch_maintenance::handle(maintenance, event).await
    }))
    .await
}
