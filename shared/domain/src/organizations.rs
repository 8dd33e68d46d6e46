//! Creating an organization: the organization, its uniqueness guards and its default project
//! exist together or not at all (one transaction). `database init` and `POST /organizations`
//! both come through here.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::error::{DomainError, OnCondition};
use crate::model::{NameStr, Organization, OrganizationSlug, Project, slugify};
use crate::time::Timestamp;
use dispatch_store::keys::{self, collection, sort_value};
use dispatch_store::{Expression, IdKind, Item, Store, StoreError, Transaction};

/// Name and description of the organization `database init` creates (Dispatch's values).
pub const DEFAULT_ORGANIZATION: (&str, &str) = ("default", "Default Dispatch organization.");
/// Name and description of every organization's first project (Dispatch's values).
pub const DEFAULT_PROJECT: (&str, &str) = ("default", "Default Dispatch project.");

/// What a new organization is made of (Dispatch's `OrganizationCreate`). A client's `id` is
/// not part of it: ids are always allocated, so nobody can squat the next one.
#[derive(Debug, Clone)]
pub struct NewOrganization {
    pub name: NameStr,
    pub description: Option<String>,
    pub default: bool,
    pub banner_enabled: bool,
    pub banner_color: Option<String>,
    pub banner_text: Option<String>,
}

const NAME_TAKEN: &str = "organization_name";
const ID_TAKEN: &str = "organization_id";
const SLUG_TAKEN: &str = "organization_slug";

/// How an organization is stored: by slug, listed by name.
pub fn organization_item(org: &Organization) -> Result<Item, StoreError> {
    Ok(
        Item::new(&keys::organization(&org.slug), "Organization", org)?
            .in_list(collection::ORGANIZATIONS, &[sort_value(&org.name, org.id)]),
    )
}

/// The label of the [`accepts_additions`] condition; a failure of it is a 404 wherever it
/// happens (the organization is gone).
pub const ORGANIZATION_LABEL: &str = "organization";

/// The condition on the organization item of a transaction that adds to the organization (a
/// member, a project, a plugin instance): it exists and no `DELETE` has hidden it, so nothing
/// is added behind the removal of its items.
pub fn accepts_additions() -> Expression {
    Expression::item_live()
}

/// The organization in `item`, unless a `DELETE` has hidden it: what every read of an
/// organization goes through, so a hidden organization is a 404 everywhere.
pub fn visible(item: dispatch_store::Attributes) -> Result<Option<Organization>, StoreError> {
    let org: Organization = dispatch_store::from_attributes(item)?;
    Ok((!org.deleted).then_some(org))
}

/// How a project is stored: in its organization's partition, listed by name and display name.
pub fn project_item(project: &Project) -> Result<Item, StoreError> {
    let slug = &project.organization_slug;
    Ok(
        Item::new(&keys::project(slug, project.id), "Project", project)?.in_list(
            collection::projects(slug),
            &[
                sort_value(&project.name, project.id),
                sort_value(&project.display_name, project.id),
            ],
        ),
    )
}

/// Creates an organization with its default project (and its `owner`'s membership, when there
/// is one), in one transaction.
///
/// Dispatch's order of checks holds: a taken name, then a taken id, then a taken slug, each a
/// 409 with Dispatch's message. A new default organization takes the flag from the old one in
/// the same transaction, so there is always at most one.
pub async fn create(
    store: &Store,
    new: NewOrganization,
    owner: Option<&crate::model::User>,
) -> Result<Organization, DomainError> {
    create_with(store, new, owner, false).await
}

/// Creates the installation's default organization (`database init`): like [`create`], with a
/// first project that has the column defaults of Dispatch's model, as Dispatch's own init.
pub async fn create_installation_default(
    store: &Store,
    new: NewOrganization,
) -> Result<Organization, DomainError> {
    create_with(store, new, None, true).await
}

async fn create_with(
    store: &Store,
    new: NewOrganization,
    owner: Option<&crate::model::User>,
    model_defaults: bool,
) -> Result<Organization, DomainError> {
    let slug = OrganizationSlug::parse(&slugify(new.name.as_str()))
        .map_err(|invalid| invalid.at(crate::body!["name"]))?;
    let org_id = store.next_id(IdKind::Organization).await?;
    let project_id = store.next_id(IdKind::Project).await?;
    let plugins = super::plugins::catalogue::installed(store).await?;
    let now = Timestamp::now();

    let org = Organization {
        id: org_id,
        name: new.name.clone(),
        slug: slug.clone(),
        description: new.description,
        default: new.default,
        banner_enabled: new.banner_enabled,
        banner_color: new.banner_color,
        banner_text: new.banner_text,
        default_project_id: Some(project_id),
        created_at: now,
        updated_at: now,
        version: 1,
        member_count: i64::from(owner.is_some()),
        project_count: 1,
        project_ids: vec![project_id],
        deleted_project_ids: Vec::new(),
        instance_count: plugins.len() as i64,
        deleted: false,
    };
    let (project_name, project_description) = DEFAULT_PROJECT;
    let project = Project::new(
        project_id,
        org_id,
        &org.slug,
        &NameStr::parse(project_name).expect("the default project's name is valid"),
        Some(project_description),
        true,
        now,
    );
    let project = if model_defaults {
        project.with_model_defaults()
    } else {
        project
    };

    let mut tx = Transaction::new();
    // Guards first: when several conditions fail, the first one reported is Dispatch's first check.
    tx.put_new(
        Item::bare(
            &keys::organization_name_guard(&org.name),
            "OrganizationNameGuard",
        )
        .with_str("slug", &org.slug),
        NAME_TAKEN,
    )?;
    tx.put_new(
        Item::bare(&keys::organization_id_guard(org.id), "OrganizationIdGuard")
            .with_str("slug", &org.slug),
        ID_TAKEN,
    )?;
    tx.put_new(organization_item(&org)?, SLUG_TAKEN)?;
    if org.default {
        take_default_flag(store, &mut tx, &org.slug).await?;
    }
    tx.update(
        keys::collection_count(collection::ORGANIZATIONS),
        Expression::count_by(1),
        None,
        None,
    )?;
    crate::projects::add_new(store, &mut tx, &project, &plugins, now).await?;
    if let Some(owner) = owner {
        // The creator becomes its Owner in the same transaction (the count is set above).
        crate::users::membership_items(&mut tx, &org, owner, crate::model::Role::Owner, &[], now)?;
    }

    store
        .transact(tx)
        .await
        .on_condition(NAME_TAKEN, || {
            DomainError::Conflict("An organization with this name already exists.".into())
        })
        .on_condition(ID_TAKEN, || {
            DomainError::Conflict("An organization with this id already exists.".into())
        })
        .on_condition(SLUG_TAKEN, || {
            DomainError::Conflict("An organization with this slug already exists.".into())
        })?;
    Ok(org)
}

/// Adds to `tx` the actions that make `slug` the default organization: the singleton is
/// created, or moved from the previous default whose flag is cleared (both conditional, so a
/// concurrent change makes the transaction fail as a version conflict).
pub(crate) async fn take_default_flag(
    store: &Store,
    tx: &mut Transaction,
    slug: &str,
) -> Result<(), DomainError> {
    let singleton = keys::default_organization();
    let previous = store
        .get_attributes(&singleton)
        .await?
        .and_then(|item| dispatch_store::item::string_attribute(&item, "slug"));
    let marker = Item::bare(&singleton, "DefaultOrganization").with_str("slug", slug);
    match previous {
        None => {
            tx.put_when(
                marker,
                Some(Expression::item_absent()),
                Some(dispatch_store::transaction::VERSION_LABEL),
            )?;
        }
        // The organization being created already is the default: a concurrent creation of the
        // same organization won, and this transaction's guards will say so.
        Some(previous_slug) if previous_slug == slug => {}
        Some(previous_slug) => {
            tx.put_when(
                marker,
                Some(
                    Expression::new("#slug = :previous")
                        .name("#slug", "slug")
                        .value(":previous", AttributeValue::S(previous_slug.clone())),
                ),
                Some(dispatch_store::transaction::VERSION_LABEL),
            )?;
            tx.update(
                keys::organization(&previous_slug),
                Expression::new("SET #default = :false, #updated_at = :now ADD #version :one")
                    .name("#default", "default")
                    .name("#updated_at", "updated_at")
                    .name("#version", keys::attr::VERSION)
                    .value(":false", AttributeValue::Bool(false))
                    .value(":now", AttributeValue::S(Timestamp::now().to_string()))
                    .value(":one", AttributeValue::N("1".into())),
                Some(Expression::item_present()),
                Some(dispatch_store::transaction::VERSION_LABEL),
            )?;
        }
    }
    Ok(())
}

/// Filterable fields of `Organization` (OrganizationRead).
const ORGANIZATION_SCHEMA: &[crate::list::ModelFields] = &[crate::list::ModelFields {
    model: "Organization",
    path: None,
    fields: &[
        ("id", crate::list::FieldType::Int),
        ("name", crate::list::FieldType::Str),
        ("slug", crate::list::FieldType::Str),
        ("description", crate::list::FieldType::Str),
        ("default", crate::list::FieldType::Bool),
        ("banner_enabled", crate::list::FieldType::Bool),
        ("banner_color", crate::list::FieldType::Str),
        ("banner_text", crate::list::FieldType::Str),
    ],
}];

const ORGANIZATION_SORTS: &[crate::list::Sort] = &[crate::list::Sort {
    model: "Organization",
    field: "name",
    index: dispatch_store::schema::LIST1,
}];

/// `GET /organizations` as a list: sorted by name, searched by name and description.
pub fn list_spec(total: i64) -> crate::list::ListSpec {
    crate::list::ListSpec {
        collection: collection::ORGANIZATIONS.to_owned(),
        schema: ORGANIZATION_SCHEMA,
        sorts: ORGANIZATION_SORTS,
        search_fields: &["name", "description"],
        name_field: Some("name"),
        total,
    }
}

/// Loads organizations by key, in the order of `keys` (items gone meanwhile are absent).
pub async fn load(
    store: &Store,
    keys: Vec<dispatch_store::Key>,
) -> Result<Vec<Organization>, DomainError> {
    let mut found = Vec::with_capacity(keys.len());
    for item in store.batch_get(&keys).await?.into_iter().flatten() {
        found.push(dispatch_store::from_attributes(item)?);
    }
    Ok(found)
}
