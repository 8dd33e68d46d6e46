//! Projects as a list (the filterable fields, sort orders and search fields of
//! `GET /{organization}/projects`, docs/contract.md §5.4), and creating and updating projects.

use serde_json::Value;

use crate::error::DomainError;
use crate::list::{FieldType, ListSpec, ModelFields, Sort};
use crate::model::Project;
use dispatch_store::Store;
use dispatch_store::keys::collection;
use dispatch_store::schema::{LIST1, LIST2};

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
    ("weekly_report_notification_id", FieldType::Int),
    ("report_incident_instructions", FieldType::Str),
    ("report_incident_title_hint", FieldType::Str),
    ("report_incident_description_hint", FieldType::Str),
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

/// Creates a project in `org` with its init data (docs/contract.md §7.4), in one transaction, and
/// counts it. A taken name is Dispatch's intended 422 "A project with this name already exists."
/// (Q-G1).
pub async fn create(
    store: &Store,
    org: &crate::model::Organization,
    mut project: Project,
) -> Result<Project, DomainError> {
    use crate::error::OnCondition;
    use dispatch_store::keys;
    use dispatch_store::{Expression, Transaction};

    let now = crate::time::Timestamp::now();
    // Always allocated: a client's `id` never decides it (nobody can squat the next one).
    project.id = store.next_id(dispatch_store::IdKind::Project).await?;
    project.organization_id = org.id;
    project.organization_slug = org.slug.clone();
    project.created_at = now;
    project.updated_at = now;
    project.version = 1;
    let plugins = super::plugins::catalogue::installed(store).await?;
    let mut tx = Transaction::new();
    add_new(store, &mut tx, &project, &plugins, now).await?;
    tx.update(
        keys::organization(&org.slug),
        Expression::change_counters(&[
            ("project_count", 1),
            ("instance_count", plugins.len() as i64),
        ])
        .add_to_set(
            "project_ids",
            aws_sdk_dynamodb::types::AttributeValue::Ns(vec![project.id.to_string()]),
        ),
        Some(super::organizations::accepts_additions()),
        Some(super::organizations::ORGANIZATION_LABEL),
    )?;
    store
        .transact(tx)
        .await
        .on_condition("project_name", || {
            DomainError::invalid(
                "A project with this name already exists.",
                crate::body!["name"],
                "value_error",
            )
        })
        .on_condition("project_id", || {
            DomainError::invalid(
                "A project with this id already exists.",
                crate::body!["id"],
                "value_error",
            )
        })?;
    Ok(project)
}

/// Applies a PUT body to a project: every sent field that is a column, type-checked and its text
/// bounded as on creation (422 naming the field), `name` renamed under its uniqueness guard, `stable_priority_id` only to one of the
/// project's own priorities. One versioned transaction, retried on a race.
pub async fn update(
    store: &Store,
    slug: &str,
    project_id: i32,
    body: &serde_json::Map<String, Value>,
) -> Result<Project, DomainError> {
    use crate::error::OnCondition;
    use dispatch_store::keys;
    use dispatch_store::{Transaction, retry_on_version_conflict};

    let invalid =
        |field: &str, msg: &str, kind: &str| DomainError::invalid(msg, crate::body![field], kind);
    retry_on_version_conflict(|| async {
        let stored: Project = store
            .get(&keys::project(slug, project_id))
            .await?
            .filter(|p: &Project| !p.deleted)
            .ok_or_else(|| {
                DomainError::NotFound("A project with this id does not exist.".into())
            })?;
        let mut value =
            serde_json::to_value(&stored).map_err(|e| DomainError::Internal(e.into()))?;
        for (field, kind) in PROJECT_FIELDS.iter().filter(|(f, _)| *f != "id") {
            let Some(sent) = body.get(*field) else {
                continue;
            };
            let accepted = match (kind, sent) {
                (_, Value::Null) => {
                    *field != "name" && *field != "default" && *field != "display_name"
                }
                (FieldType::Str, Value::String(_)) | (FieldType::Bool, Value::Bool(_)) => true,
                (FieldType::Int, Value::Number(n)) => n.is_i64(),
                _ => false,
            };
            if !accepted {
                return Err(invalid(
                    field,
                    "Input should be a valid value for this field",
                    "type_error",
                ));
            }
            value[*field] = match sent {
                Value::String(text) => Value::String(
                    crate::model::project::parse_text(field, text)
                        .unwrap_or_else(|| Ok(text.trim().to_owned()))
                        .map_err(|i| i.at(crate::body![*field]))?,
                ),
                other => other.clone(),
            };
        }
        for field in ["stable_priority_id", "snooze_extension_oncall_service_id"] {
            match body.get(field) {
                None => {}
                Some(Value::Null) => value[field] = Value::Null,
                Some(Value::Number(n)) if n.is_i64() => value[field] = Value::Number(n.clone()),
                Some(_) => {
                    return Err(invalid(
                        field,
                        "Input should be a valid integer",
                        "int_type",
                    ));
                }
            }
        }
        let mut project: Project = serde_json::from_value(value)
            .map_err(|e| invalid("body", &e.to_string(), "value_error"))?;
        if let Some(priority) = project.stable_priority_id
            && crate::project_reads::stable_priority(store, slug, project_id, priority)
                .await?
                .is_none()
        {
            return Err(invalid(
                "stable_priority_id",
                "This is not one of the project's incident priorities.",
                "value_error",
            ));
        }
        if project.snooze_extension_oncall_service_id.is_some() {
            return Err(invalid(
                "snooze_extension_oncall_service_id",
                "This project has no such oncall service.",
                "value_error",
            ));
        }
        let expected = stored.version;
        project.version = expected + 1;
        project.updated_at = crate::time::Timestamp::now();
        let mut tx = Transaction::new();
        tx.put_versioned(crate::organizations::project_item(&project)?, expected)?;
        if project.name != stored.name {
            tx.delete(keys::project_name_guard(slug, &stored.name), None, None)?;
            tx.put_new(
                name_guard_item(slug, &project.name, project.id),
                "project_name",
            )?;
        }
        store.transact(tx).await.on_condition("project_name", || {
            DomainError::invalid(
                "A project with this name already exists.",
                crate::body!["name"],
                "value_error",
            )
        })?;
        Ok(project)
    })
    .await
}

/// The guard that makes a project's name unique within its organization.
pub(crate) fn name_guard_item(slug: &str, name: &str, project_id: i32) -> dispatch_store::Item {
    dispatch_store::Item::bare(
        &dispatch_store::keys::project_name_guard(slug, name),
        "ProjectNameGuard",
    )
    .with_number("project_id", i64::from(project_id))
}

/// Adds a new project to `tx`: its name and id guards (checked first, in Dispatch's order), the
/// project item and its init data (docs/contract.md §7.4): a disabled instance of every installed
/// catalogue plugin in `plugins`, then the taxonomy. A project never exists without them.
/// The caller counts the `plugins.len()` new instances in the organization.
pub(crate) async fn add_new(
    store: &Store,
    tx: &mut dispatch_store::Transaction,
    project: &Project,
    plugins: &[crate::model::Plugin],
    now: crate::time::Timestamp,
) -> Result<(), DomainError> {
    let slug = &project.organization_slug;
    tx.put_new(
        name_guard_item(slug, &project.name, project.id),
        "project_name",
    )?;
    tx.put_new(
        dispatch_store::Item::bare(
            &dispatch_store::keys::project_id_guard(project.id),
            "ProjectIdGuard",
        )
        .with_str("slug", slug),
        "project_id",
    )?;
    tx.put_new(crate::organizations::project_item(project)?, "project")?;
    let instances =
        super::plugins::instances::disabled_instances(store, slug, project.id, plugins, now)
            .await?;
    for item in instances {
        tx.put_new(item, "plugin_instance")?;
    }
    for item in crate::project_init::items(store, slug, project.id, now).await? {
        tx.put_new(item, "project_data")?;
    }
    Ok(())
}
