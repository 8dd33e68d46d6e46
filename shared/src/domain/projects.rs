//! Projects as a list: the filterable fields, sort orders and search fields of
//! `GET /{organization}/projects` (spec §5.5 P1, §9), and how their items are loaded.

use serde_json::Value;

use crate::error::ApiError;
use crate::list::{FieldType, ListSpec, ModelFields, Sort};
use crate::model::Project;
use crate::store::keys::{Key, collection};
use crate::store::schema::{LIST1, LIST2};
use crate::store::{Store, from_attributes};
use crate::views::project_read;

/// Filterable fields of `Project` (ProjectRead's scalar fields).
pub const PROJECT_FIELDS: &[(&str, FieldType)] = &[
    ("id", FieldType::Int),
    ("name", FieldType::Str),
    ("display_name", FieldType::Str),
    ("description", FieldType::Str),
    ("default", FieldType::Bool),
    ("color", FieldType::Str),
    ("owner_email", FieldType::Str),
    ("owner_conversation", FieldType::Str),
    ("annual_employee_cost", FieldType::Int),
    ("business_year_hours", FieldType::Int),
    ("enabled", FieldType::Bool),
    ("allow_self_join", FieldType::Bool),
    ("send_daily_reports", FieldType::Bool),
    ("send_weekly_reports", FieldType::Bool),
    ("select_commander_visibility", FieldType::Bool),
    ("storage_folder_one", FieldType::Str),
    ("storage_folder_two", FieldType::Str),
    ("storage_use_folder_one_as_primary", FieldType::Bool),
    ("storage_use_title", FieldType::Bool),
    ("suggest_security_event_over_incident", FieldType::Bool),
];

const SCHEMA: &[ModelFields] = &[ModelFields {
    model: "Project",
    path: None,
    fields: PROJECT_FIELDS,
}];

const SORTS: &[Sort] = &[
    Sort {
        model: "Project",
        field: "name",
        index: LIST1,
    },
    Sort {
        model: "Project",
        field: "display_name",
        index: LIST2,
    },
];

/// The projects of organization `slug`, which has `total` of them.
pub fn list_spec(slug: &str, total: i64) -> ListSpec {
    ListSpec {
        collection: collection::projects(slug),
        schema: SCHEMA,
        sorts: SORTS,
        search_fields: &["name", "description"],
        name_field: Some("name"),
        total,
    }
}

/// Loads projects by key as `ProjectRead` views, in the order of `keys`.
pub async fn load(store: &Store, keys: Vec<Key>) -> Result<Vec<Value>, ApiError> {
    let found = store.batch_get(&keys).await?;
    let mut views = Vec::with_capacity(found.len());
    for item in found.into_iter().flatten() {
        views.push(project_read(&from_attributes::<Project>(item)?));
    }
    Ok(views)
}

/// Creates a project in `org` with its init data (spec §7.5), in one transaction, and counts it.
/// A taken name is Dispatch's intended 422 "A project with this name already exists." (Q-G1).
pub async fn create(
    store: &Store,
    org: &crate::model::Organization,
    mut project: Project,
) -> Result<Project, ApiError> {
    use crate::error::OnCondition;
    use crate::store::keys;
    use crate::store::{Expression, Item, Transaction};

    let now = crate::time::Timestamp::now();
    let given_id = project.id > 0;
    if !given_id {
        project.id = store.next_id(crate::store::IdKind::Project).await?;
    }
    project.organization_id = org.id;
    project.organization_slug = org.slug.clone();
    project.created_at = now;
    project.updated_at = now;
    project.version = 1;
    let mut tx = Transaction::new();
    tx.put_new(
        Item::bare(
            &keys::project_name_guard(&org.slug, &project.name),
            "ProjectNameGuard",
        )
        .with_number("project_id", i64::from(project.id)),
        "project_name",
    )?;
    tx.put_new(
        Item::bare(&keys::project_id_guard(project.id), "ProjectIdGuard")
            .with_str("slug", &org.slug),
        "project_id",
    )?;
    tx.put_new(
        crate::domain::organizations::project_item(&project)?,
        "project",
    )?;
    for item in crate::domain::project_init::items(store, &org.slug, project.id, now).await? {
        tx.put_new(item, "project_data")?;
    }
    tx.update(
        keys::organization(&org.slug),
        Expression::new("ADD #projects :one")
            .name("#projects", "project_count")
            .value(
                ":one",
                aws_sdk_dynamodb::types::AttributeValue::N("1".into()),
            ),
        Some(Expression::item_present()),
        Some("organization"),
    )?;
    store
        .transact(tx)
        .await
        .on_condition("project_name", || {
            ApiError::validation(
                "A project with this name already exists.",
                crate::loc!["body", "name"],
                "value_error",
            )
        })
        .on_condition("project_id", || {
            ApiError::validation(
                "A project with this id already exists.",
                crate::loc!["body", "id"],
                "value_error",
            )
        })?;
    Ok(project)
}
