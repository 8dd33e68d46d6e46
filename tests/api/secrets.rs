//! Secrets come from Secrets Manager (moto here), once, and their values never leak into
//! errors; after a rotation the previous key still verifies.

use dispatch_domain::secrets::Secrets;

use crate::helpers::sdk_config;

async fn create(client: &aws_sdk_secretsmanager::Client, value: &str) -> String {
    let id = format!("test/{}", uuid::Uuid::new_v4().simple());
    client
        .create_secret()
        .name(&id)
        .secret_string(value)
        .send()
        .await
        .expect("moto");
    id
}

#[tokio::test]
async fn a_short_secret_stops_start_up_naming_the_id_not_the_value() {
    let client = aws_sdk_secretsmanager::Client::new(sdk_config().await);
    let short = create(&client, "hunter2-short").await;
    let good = create(&client, &"k".repeat(48)).await;
    let error = Secrets::load(&client, &short, &good)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains(&short), "{error}");
    assert!(!error.contains("hunter2"), "{error}");

    let missing = Secrets::load(&client, "test/does-not-exist", &good)
        .await
        .unwrap_err()
        .to_string();
    assert!(missing.contains("test/does-not-exist"), "{missing}");
}

#[tokio::test]
async fn after_a_rotation_the_previous_key_still_verifies() {
    let client = aws_sdk_secretsmanager::Client::new(sdk_config().await);
    let old = "o".repeat(40);
    let new = "n".repeat(40);
    let id = create(&client, &old).await;
    let before = Secrets::load(&client, &id, &id).await.unwrap();
    assert_eq!(before.jwt.current.expose(), old.as_bytes());
    assert!(before.jwt.previous.is_none());

    client
        .put_secret_value()
        .secret_id(&id)
        .secret_string(&new)
        .send()
        .await
        .unwrap();
    let after = Secrets::load(&client, &id, &id).await.unwrap();
    assert_eq!(after.jwt.current.expose(), new.as_bytes());
    assert_eq!(
        after.jwt.previous.as_ref().map(|k| k.expose()),
        Some(old.as_bytes())
    );
    assert_eq!(after.jwt.verification_keys().count(), 2);
}
