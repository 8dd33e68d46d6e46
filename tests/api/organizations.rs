//! Organization creation (shared by `database init` and, later, `POST /organizations`): one
//! transaction, Dispatch's 409s in Dispatch's order, and exactly one default organization.

use dispatch_domain::model::{NameStr, Organization};
use dispatch_domain::organizations::{NewOrganization, create};
use dispatch_shared::ApiError;
use dispatch_store::keys;

use crate::helpers::spawn_app;

fn new_org(name: &str) -> NewOrganization {
    NewOrganization {
        name: NameStr::parse(name).unwrap(),
        description: None,
        default: false,
        banner_enabled: false,
        banner_color: None,
        banner_text: None,
    }
}

fn conflict_message(result: Result<Organization, ApiError>) -> String {
    match result {
        Err(ApiError::Conflict(msg)) => msg.into_owned(),
        other => panic!("expected a 409, got {other:?}"),
    }
}

#[tokio::test]
async fn a_taken_name_or_slug_is_a_409_and_writes_nothing() {
    let app = spawn_app().await;
    let first = create(&app.store, new_org("My Org"), None).await.unwrap();
    assert_eq!(first.slug, "my_org");
    let before = app.scan_all().await;

    let same_name = conflict_message(
        create(&app.store, new_org("My Org"), None)
            .await
            .map_err(ApiError::from),
    );
    assert_eq!(same_name, "An organization with this name already exists.");

    let same_slug = conflict_message(
        create(&app.store, new_org("my org!"), None)
            .await
            .map_err(ApiError::from),
    );
    assert_eq!(same_slug, "An organization with this slug already exists.");

    // Id counters may have moved (ids are never reused); nothing else did.
    let after: Vec<_> = app
        .scan_all()
        .await
        .into_iter()
        .filter(|i| !i["pk"].as_s().unwrap().starts_with("COUNTER#"))
        .collect();
    let before: Vec<_> = before
        .into_iter()
        .filter(|i| !i["pk"].as_s().unwrap().starts_with("COUNTER#"))
        .collect();
    assert_eq!(after, before);
}

#[tokio::test]
async fn a_name_whose_slug_is_too_short_is_a_422() {
    let app = spawn_app().await;
    match create(&app.store, new_org("ab!"), None)
        .await
        .map_err(ApiError::from)
    {
        Err(ApiError::Validation(details)) => {
            assert_eq!(details[0].loc, dispatch_shared::loc!["body", "name"])
        }
        other => panic!("expected a 422, got {other:?}"),
    }
}

#[tokio::test]
async fn a_new_default_organization_takes_the_flag_from_the_old_one() {
    let app = spawn_app().await;
    let mut second = new_org("Second Org");
    second.default = true;
    create(&app.store, second, None).await.unwrap();

    let old: Organization = app
        .store
        .get(&keys::organization("default"))
        .await
        .unwrap()
        .unwrap();
    let new: Organization = app
        .store
        .get(&keys::organization("second_org"))
        .await
        .unwrap()
        .unwrap();
    assert!(!old.default && new.default);
    assert_eq!(old.version, 2, "clearing the flag is a versioned change");
    let marker = app
        .store
        .get_attributes(&keys::default_organization())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(marker["slug"].as_s().unwrap(), "second_org");
}

/// Fails the `fail_at`-th DynamoDB request a client sends (before it leaves the process).
#[derive(Debug, Clone)]
struct FailRequest {
    sent: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    fail_at: usize,
}

impl aws_sdk_dynamodb::config::Intercept for FailRequest {
    fn name(&self) -> &'static str {
        "FailRequest"
    }

    fn read_before_transmit(
        &self,
        _: &aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_dynamodb::config::RuntimeComponents,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let n = self.sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        if n == self.fail_at {
            return Err("injected fault".into());
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_creation_that_fails_at_any_request_leaves_nothing_behind() {
    let app = spawn_app().await;
    let without_counters =
        |items: Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>| {
            items
                .into_iter()
                .filter(|i| !i["pk"].as_s().unwrap().starts_with("COUNTER#"))
                .collect::<Vec<_>>()
        };
    let before = without_counters(app.scan_all().await);
    let sdk = crate::helpers::sdk_config().await;
    let mut failed_stages = 0;
    for fail_at in 1.. {
        // A fresh store per attempt, so that every attempt allocates its ids again.
        let client = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(sdk)
                .interceptor(FailRequest {
                    sent: Default::default(),
                    fail_at,
                })
                .build(),
        );
        let store = dispatch_store::Store::new(client, app.store.table());
        match create(&store, new_org("Staged Org"), None).await {
            Err(_) => {
                failed_stages += 1;
                assert_eq!(
                    without_counters(app.scan_all().await),
                    before,
                    "request {fail_at} failed: nothing may be written"
                );
                assert!(
                    dispatch_domain::users::organization(&app.store, "staged_org")
                        .await
                        .unwrap()
                        .is_none()
                );
            }
            Ok(org) => {
                assert_eq!(org.slug, "staged_org");
                break;
            }
        }
    }
    // Each of the 7 requests failed once: the organization, project, instance and init-data id
    // blocks, the catalogue's query and batch read, and the transaction.
    assert_eq!(failed_stages, 7);
    let project = dispatch_domain::users::organization(&app.store, "staged_org")
        .await
        .unwrap()
        .unwrap()
        .default_project_id
        .unwrap();
    assert!(
        app.store
            .get_attributes(&keys::project("staged_org", project))
            .await
            .unwrap()
            .is_some()
    );
}
