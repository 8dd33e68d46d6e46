//! Secrets come from Secrets Manager (moto here), once, and their values never leak into
//! errors; after a rotation what the previous key signed still verifies (that version read on
//! demand).

use dispatch_domain::config::Config;
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
async fn after_a_rotation_what_the_previous_keys_signed_and_sealed_still_verifies_and_opens() {
    use dispatch_domain::auth::token;
    use dispatch_domain::list::cursor::{self, Position};

    let client = aws_sdk_secretsmanager::Client::new(sdk_config().await);
    let (old, new) = ("o".repeat(40), "n".repeat(40));
    let signing = create(&client, &old).await;
    let sealing = create(&client, &"e".repeat(40)).await;
    let config = Config::from_lookup(|name| match name {
        "DISPATCH_TABLE_NAME" => Some("unused".into()),
        "DISPATCH_JWT_SECRET_ID" | "DISPATCH_CURSOR_SECRET_ID" => Some(signing.clone()),
        _ => None,
    })
    .unwrap();
    let before = Secrets::load_all(&client, &signing, &signing, Some(&sealing))
        .await
        .unwrap();
    assert_eq!(before.jwt.current().expose(), old.as_bytes());
    assert!(
        before.jwt.previous().await.unwrap().is_none(),
        "never rotated"
    );
    // A real account, as the API creates it.
    let app = crate::helpers::spawn_app().await;
    app.register("alice@example.com", "correct horse battery")
        .await;
    let user = dispatch_domain::users::find_by_email(&app.store, "alice@example.com")
        .await
        .unwrap()
        .expect("registered");
    let old_token = token::issue(&before.jwt, &user, &config).unwrap();
    let old_cursor = cursor::encode(&before.cursor, "scope", "query", Position::Offset(25));
    let sealed = before
        .configuration
        .as_ref()
        .unwrap()
        .seal(&serde_json::json!({"k": 1}), "item");

    for (id, value) in [(&signing, &new), (&sealing, &"f".repeat(40))] {
        client
            .put_secret_value()
            .secret_id(id)
            .secret_string(value)
            .send()
            .await
            .unwrap();
    }
    // A process started after the rotation signs with the new key and reads the previous one
    // from Secrets Manager when something does not verify with the new one.
    let after = Secrets::load_all(&client, &signing, &signing, Some(&sealing))
        .await
        .unwrap();
    assert_eq!(after.jwt.current().expose(), new.as_bytes());
    let claims = token::verify(&after.jwt, &config, &old_token)
        .await
        .unwrap();
    assert_eq!(claims.sub, user.id.to_string());
    assert_eq!(
        cursor::decode(&after.cursor, "scope", "query", &old_cursor)
            .await
            .unwrap(),
        Position::Offset(25)
    );
    let opened = after
        .configuration
        .as_ref()
        .unwrap()
        .open(&sealed, "item")
        .await;
    assert_eq!(opened.unwrap(), Some(serde_json::json!({"k": 1})));
    assert_eq!(
        after.jwt.previous().await.unwrap().map(|k| k.expose()),
        Some(old.as_bytes())
    );

    // What neither version signed is still refused.
    let stranger = Secrets::load(&client, &create(&client, &"x".repeat(40)).await, &signing)
        .await
        .unwrap();
    let forged = token::issue(&stranger.jwt, &user, &config).unwrap();
    assert!(token::verify(&after.jwt, &config, &forged).await.is_err());
}
