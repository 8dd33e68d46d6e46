//! `dispatch database init` and the other admin commands against the local stack.

use dispatch_shared::model::{Organization, Project};
use dispatch_shared::store::keys;

use crate::helpers::{empty_store, scan_all};

#[tokio::test]
async fn init_creates_the_table_and_the_default_organization_with_its_project() {
    let store = empty_store().await;
    let report = dispatch_cli::database::init(&store).await.unwrap();
    assert!(report.table_created && report.schema_recorded);
    let (org_id, slug) = report
        .default_organization_created
        .clone()
        .expect("created now");
    assert_eq!(slug, "default");

    let org: Organization = store
        .get(&keys::organization("default"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(org.id, org_id);
    assert_eq!(org.name, "default");
    assert_eq!(
        org.description.as_deref(),
        Some("Default Dispatch organization.")
    );
    assert!(org.default);
    assert_eq!(org.project_count, 1);

    let guard = store
        .get_attributes(&keys::project_name_guard("default", "default"))
        .await
        .unwrap()
        .unwrap();
    let project_id: i32 = guard["project_id"].as_n().unwrap().parse().unwrap();
    let project: Project = store
        .get(&keys::project("default", project_id))
        .await
        .unwrap()
        .unwrap();
    assert!(project.default);
    assert_eq!(
        project.description.as_deref(),
        Some("Default Dispatch project.")
    );
    assert_eq!(project.annual_employee_cost, Some(50_000));
    assert_eq!(project.organization_id, org.id);
}

#[tokio::test]
async fn init_run_twice_leaves_the_table_identical() {
    let store = empty_store().await;
    dispatch_cli::database::init(&store).await.unwrap();
    let after_first = scan_all(&store).await;
    assert!(
        after_first.len() >= 8,
        "table, guards, org, project: {}",
        after_first.len()
    );

    let second = dispatch_cli::database::init(&store).await.unwrap();
    assert!(!second.table_created && !second.schema_recorded);
    assert_eq!(second.default_organization_created, None);
    assert_eq!(
        scan_all(&store).await,
        after_first,
        "the second run changed the table"
    );
}

#[tokio::test]
async fn concurrent_inits_create_one_default_organization() {
    let store = empty_store().await;
    let runs = (0..3).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { dispatch_cli::database::init(&store).await })
    });
    let mut created = 0;
    for run in runs.collect::<Vec<_>>() {
        if run
            .await
            .unwrap()
            .unwrap()
            .default_organization_created
            .is_some()
        {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    let orgs = scan_all(&store)
        .await
        .into_iter()
        .filter(|i| {
            i.get("entity")
                .and_then(|e| e.as_s().ok())
                .map(String::as_str)
                == Some("Organization")
        })
        .count();
    assert_eq!(orgs, 1);
}

#[test]
fn server_config_never_prints_secret_values() {
    let env = |name: &str| match name {
        "DISPATCH_TABLE_NAME" => Some("dispatch".to_owned()),
        "DISPATCH_JWT_SECRET_ID" => Some("dispatch/jwt".to_owned()),
        // Dispatch's own variable holds the key itself; we never print unknown variables.
        "DISPATCH_JWT_SECRET" => Some("super-secret-key-material".to_owned()),
        _ => None,
    };
    let printed = dispatch_cli::server::config_table(env);
    assert!(printed.contains("dispatch/jwt"));
    assert!(printed.contains("86400 (default)"));
    assert!(!printed.contains("super-secret-key-material"));
}
