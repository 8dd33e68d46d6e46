//! A table-level step (a global secondary index added to the live table, and removed), the
//! drift check, and the versions functions start with.

use aws_sdk_dynamodb::types::IndexStatus;
use dispatch_domain::migrations::{self, HEAD, SUPPORTED};
use dispatch_store::migrate::indexes::{add_index, drift, expected_indexes, remove_index};
use dispatch_store::migrate::{BoxFuture, Migration, MigrationError, Run};
use dispatch_store::schema::IndexSpec;
use dispatch_store::{Item, keys};

use super::patient_runner;
use crate::helpers::spawn_app;

const TEST_INDEX: IndexSpec = IndexSpec {
    name: "by_test",
    partition_key: "test_pk",
    sort_key: "test_sk",
    projects_all: false,
};

/// A migration after the shipped ones that removes the `list3` index (to show removal).
struct RemoveList3;

impl Migration for RemoveList3 {
    fn id(&self) -> u32 {
        HEAD + 1
    }
    fn description(&self) -> &'static str {
        "remove the list3 index"
    }
    fn checksum(&self) -> String {
        "test".into()
    }
    fn up<'a>(&'a self, run: &'a Run<'a>) -> BoxFuture<'a, Result<(), MigrationError>> {
        Box::pin(remove_index(run, "list3"))
    }
}

/// A migration after the shipped ones that adds an index.
struct AddTestIndex;

impl Migration for AddTestIndex {
    fn id(&self) -> u32 {
        HEAD + 1
    }
    fn description(&self) -> &'static str {
        "add the by_test index"
    }
    fn checksum(&self) -> String {
        "test".into()
    }
    fn up<'a>(&'a self, run: &'a Run<'a>) -> BoxFuture<'a, Result<(), MigrationError>> {
        Box::pin(add_index(run, TEST_INDEX))
    }
    fn reversible(&self) -> bool {
        true
    }
    fn down<'a>(&'a self, run: &'a Run<'a>) -> BoxFuture<'a, Result<(), MigrationError>> {
        Box::pin(remove_index(run, TEST_INDEX.name))
    }
}

#[tokio::test]
async fn an_index_is_added_to_the_live_table_and_removed_again_and_check_sees_the_drift() {
    let app = spawn_app().await;
    assert!(
        drift(app.store.client(), app.store.table(), expected_indexes())
            .await
            .unwrap()
            .is_empty()
    );
    app.store
        .put_batch(vec![
            Item::bare(&dispatch_store::Key::new("T#1", "T"), "Test")
                .with_str("test_pk", "group")
                .with_str("test_sk", "a"),
        ])
        .await
        .unwrap();

    let mut all = migrations::all();
    all.push(Box::new(AddTestIndex));
    patient_runner(&app.store, &all, "op")
        .migrate(HEAD + 1)
        .await
        .unwrap();
    let table = app
        .store
        .client()
        .describe_table()
        .table_name(app.store.table())
        .send()
        .await
        .unwrap();
    let index = table
        .table()
        .unwrap()
        .global_secondary_indexes()
        .iter()
        .find(|i| i.index_name() == Some("by_test"))
        .cloned();
    // DynamoDB Local leaves an index added to a live table CREATING (AWS makes it ACTIVE once
    // built), and cannot query it: the step stops waiting there (see `indexes::wait`).
    assert!(matches!(
        index.and_then(|i| i.index_status().cloned()),
        Some(IndexStatus::Active | IndexStatus::Creating)
    ));
    let problems = drift(app.store.client(), app.store.table(), expected_indexes())
        .await
        .unwrap();
    assert_eq!(
        problems,
        vec!["index by_test is not in this build's schema".to_owned()]
    );

    // DynamoDB Local refuses to remove an index it still calls CREATING (as AWS does while it
    // builds one), so removal is shown on an index it built with the table.
    let mut removing = migrations::all();
    removing.push(Box::new(RemoveList3));
    let other = spawn_app().await;
    patient_runner(&other.store, &removing, "op")
        .migrate(HEAD + 1)
        .await
        .unwrap();
    let problems = drift(
        other.store.client(),
        other.store.table(),
        expected_indexes(),
    )
    .await
    .unwrap();
    assert_eq!(problems, vec!["index list3 is missing".to_owned()]);
    other
        .store
        .client()
        .delete_table()
        .table_name(other.store.table())
        .send()
        .await
        .unwrap();
    // DynamoDB Local counts tables whose index it still calls CREATING against a limit of 5
    // per process: leave none behind.
    app.store
        .client()
        .delete_table()
        .table_name(app.store.table())
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn functions_start_on_any_supported_version_and_refuse_others_naming_both() {
    let app = spawn_app().await;
    for version in SUPPORTED {
        set_version(&app.store, version).await;
        dispatch_shared::state::check_schema(&app.store)
            .await
            .expect("supported");
    }
    set_version(&app.store, HEAD + 1).await;
    let refused = dispatch_shared::state::check_schema(&app.store)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains(&format!("schema version {}", HEAD + 1)),
        "{refused}"
    );
    assert!(
        refused.contains(&format!(
            "versions {} to {}",
            SUPPORTED.start(),
            SUPPORTED.end()
        )),
        "{refused}"
    );
    assert!(!refused.contains('\n'));
}

async fn set_version(store: &dispatch_store::Store, version: u32) {
    store
        .put_batch(vec![
            Item::bare(&keys::schema(), "Schema").with_number("schema_version", i64::from(version)),
        ])
        .await
        .unwrap();
}

/// A migration that changes table settings: time to live back on (with `check` seeing it
/// off before), deletion protection on and off.
struct TableSettings;

impl Migration for TableSettings {
    fn id(&self) -> u32 {
        HEAD + 1
    }
    fn description(&self) -> &'static str {
        "time to live on, deletion protection on"
    }
    fn checksum(&self) -> String {
        "test".into()
    }
    fn up<'a>(&'a self, run: &'a Run<'a>) -> BoxFuture<'a, Result<(), MigrationError>> {
        Box::pin(async move {
            dispatch_store::migrate::indexes::enable_ttl(run).await?;
            dispatch_store::migrate::indexes::set_deletion_protection(run, true).await
        })
    }
    fn reversible(&self) -> bool {
        true
    }
    fn down<'a>(&'a self, run: &'a Run<'a>) -> BoxFuture<'a, Result<(), MigrationError>> {
        Box::pin(dispatch_store::migrate::indexes::set_deletion_protection(
            run, false,
        ))
    }
}

#[tokio::test]
async fn a_migration_changes_table_settings_and_check_sees_them() {
    let app = spawn_app().await;
    let client = app.store.client();
    client
        .update_time_to_live()
        .table_name(app.store.table())
        .time_to_live_specification(
            aws_sdk_dynamodb::types::TimeToLiveSpecification::builder()
                .attribute_name("ttl")
                .enabled(false)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let problems = drift(client, app.store.table(), expected_indexes())
        .await
        .unwrap();
    assert_eq!(
        problems,
        vec!["time to live is not enabled on `ttl`".to_owned()]
    );

    let mut all = migrations::all();
    all.push(Box::new(TableSettings));
    patient_runner(&app.store, &all, "op")
        .migrate(HEAD + 1)
        .await
        .unwrap();
    assert!(
        drift(client, app.store.table(), expected_indexes())
            .await
            .unwrap()
            .is_empty()
    );
    let protected = |t: aws_sdk_dynamodb::operation::describe_table::DescribeTableOutput| {
        t.table().and_then(|t| t.deletion_protection_enabled())
    };
    let described = client
        .describe_table()
        .table_name(app.store.table())
        .send()
        .await
        .unwrap();
    assert_eq!(protected(described), Some(true));
    patient_runner(&app.store, &all, "op")
        .migrate(HEAD)
        .await
        .unwrap();
    let described = client
        .describe_table()
        .table_name(app.store.table())
        .send()
        .await
        .unwrap();
    assert_ne!(protected(described), Some(true));
}

/// The CLI's commands that write what the functions read refuse, like the functions, a table
/// at a version this build does not work with: an older or newer build's writes are what a
/// reader of this version would miss (a membership without its place in the members index).
#[tokio::test]
async fn the_cli_refuses_to_write_to_a_table_at_another_version() {
    use dispatch_cli::target::{GlobalArgs, Target};
    let app = spawn_app().await;
    let flags = GlobalArgs {
        table: Some(app.store.table().to_owned()),
        endpoint_url: Some(crate::resilience::dynamodb_endpoint().await),
        ..Default::default()
    };
    let target = Target::load(&flags).await.unwrap();
    target.checked_store().await.expect("head is supported");
    set_version(&app.store, HEAD + 1).await;
    let refused = target.checked_store().await.unwrap_err().to_string();
    assert!(
        refused.contains(&format!("schema version {}", HEAD + 1)),
        "{refused}"
    );
    let register = dispatch_cli::user::UserCommand::Register {
        email: "late@example.com".into(),
        organization: "default".into(),
        role: dispatch_cli::user::RoleArg::Member,
        password: Some("correct horse battery".into()),
        password_stdin: false,
    };
    assert!(dispatch_cli::user::run(register, &target).await.is_err());
    let guard = app
        .store
        .get_attributes(&dispatch_store::keys::email_guard("late@example.com"))
        .await
        .unwrap();
    assert!(guard.is_none(), "nothing was written");
}
