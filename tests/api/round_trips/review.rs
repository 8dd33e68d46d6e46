//! Histories the stored summaries (schema version 3) must survive and still answer what the
//! link items and memberships say, at a constant number of requests: account changes racing
//! the migration, a downgrade with version-2 writes then an upgrade, organizations and
//! projects deleted again and again.

use dispatch_domain::account_authority::Authority;
use dispatch_domain::migrations;
use dispatch_domain::model::{Membership, Organization, ProjectLink, Role, User};
use dispatch_domain::time::Timestamp;
use dispatch_domain::{memberships, users};
use dispatch_store::{Expression, Transaction, keys};
use http::StatusCode;
use serde_json::Value;

use super::{counted_state, get_counted};
use crate::helpers::{TestApp, authed, spawn_app};

const PASSWORD: &str = "Correct horse battery 1";

async fn org(app: &TestApp, slug: &str) -> Organization {
    users::organization(&app.store, slug)
        .await
        .unwrap()
        .unwrap()
}

async fn stored_user(app: &TestApp, id: i32) -> User {
    app.store.get(&keys::user(id)).await.unwrap().unwrap()
}

/// `(project id, default)` of a `UserRead`'s projects.
fn shown(body: &Value) -> Vec<(i64, bool)> {
    body["projects"]
        .as_array()
        .unwrap_or_else(|| panic!("projects in {body}"))
        .iter()
        .map(|p| {
            (
                p["project"]["id"].as_i64().unwrap(),
                p["default"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// `(project id, default)` of the member's link items (what login shows).
async fn linked(app: &TestApp, user_id: i32, slug: &str) -> Vec<(i64, bool)> {
    memberships::links_in(&app.store, user_id, slug)
        .await
        .unwrap()
        .iter()
        .map(|l| (i64::from(l.project_id), l.default))
        .collect()
}

/// Pass 3's mark bumps the user's version: an account change that read the user before the
/// mark (here `PUT /auth/me/settings`, which starts from the permission layer's read) reads
/// again rather than writing the mark away.
#[tokio::test]
async fn an_account_change_read_before_pass_3_and_written_after_keeps_the_mark() {
    let app = spawn_app().await;
    app.register("late@example.com", PASSWORD).await;
    let user = users::find_by_email(&app.store, "late@example.com")
        .await
        .unwrap()
        .unwrap();
    // Pass 2 has added the slug already (a resumed run, or it reached this user first); pass 3
    // has not marked them yet.
    app.store
        .client()
        .update_item()
        .table_name(app.store.table())
        .set_key(Some(dispatch_store::key_attributes(&keys::user(user.id))))
        .update_expression("REMOVE organizations_indexed")
        .send()
        .await
        .unwrap();
    // The permission layer reads the caller...
    let caller = stored_user(&app, user.id).await;
    assert!(!caller.organizations_indexed);
    // ...the migration runs (pass 3 marks the user)...
    let all = migrations::all();
    let runner = crate::migrations::runner(&app.store, &all, "op");
    runner.stamp(2).await.unwrap();
    runner.migrate(3).await.unwrap();
    assert!(stored_user(&app, user.id).await.organizations_indexed);
    // ...and the settings change, started from that read, is written.
    users::update_user_from(
        &app.store,
        user.id,
        Some(caller),
        &Authority::Themself,
        |u| {
            u.settings.auto_add_to_incident_bridges = !u.settings.auto_add_to_incident_bridges;
            true
        },
    )
    .await
    .unwrap();
    assert!(
        stored_user(&app, user.id).await.organizations_indexed,
        "pass 3's mark was overwritten by a put that read the user before it"
    );
}

/// A member's default-project switch as version-2 code writes it (`switch_default_projects`
/// of 9c500d1): the link items only, under their versions; the membership is not written.
async fn version_2_switch_default_to(app: &TestApp, user_id: i32, slug: &str, project_id: i32) {
    let now = Timestamp::now();
    let mut tx = Transaction::new();
    for link in memberships::links_in(&app.store, user_id, slug)
        .await
        .unwrap()
    {
        let updated = ProjectLink {
            default: false,
            version: link.version + 1,
            updated_at: now,
            ..link.clone()
        };
        tx.put_versioned(users::project_link_item(&updated).unwrap(), link.version)
            .unwrap();
    }
    let link = ProjectLink {
        user_id,
        project_id,
        organization_slug: dispatch_domain::model::OrganizationSlug::parse(slug).unwrap(),
        default: true,
        role: Role::Member.as_str().into(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    tx.put_new(users::project_link_item(&link).unwrap(), "version")
        .unwrap();
    app.store.transact(tx).await.unwrap();
}

/// `down` removes the summaries, so links version-2 code changes after a downgrade are
/// summarised again by the next `upgrade`: the page shows what the link items say.
#[tokio::test]
async fn after_a_downgrade_version_2_link_changes_and_an_upgrade_the_page_shows_the_links() {
    let app = spawn_app().await;
    let owner = app
        .registered_with_role("owner@example.com", PASSWORD, Role::Owner)
        .await;
    let alpha = app.post_project(&owner, "default", "alpha").await["id"]
        .as_i64()
        .unwrap() as i32;
    app.register("member@example.com", PASSWORD).await;
    let member = users::find_by_email(&app.store, "member@example.com")
        .await
        .unwrap()
        .unwrap();

    let all = migrations::all();
    let runner = crate::migrations::runner(&app.store, &all, "op");
    runner.migrate(2).await.unwrap();
    version_2_switch_default_to(&app, member.id, "default", alpha).await;
    runner.migrate(3).await.unwrap();

    let read = app
        .send(authed(
            "GET",
            &format!("/api/v1/default/users/{}", member.id),
            &owner,
        ))
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(
        shown(&read.body),
        linked(&app, member.id, "default").await,
        "GET /users/{{id}} after down, version-2 writes and up"
    );
}

/// `down` removes the marks, so a membership version-2 code adds without the slug (the CLI's
/// `user` command, `POST /organizations`) is still in `/auth/me` (read the slower way).
#[tokio::test]
async fn after_a_downgrade_a_membership_version_2_code_adds_is_in_auth_me() {
    let app = spawn_app().await;
    let owner = app
        .registered_with_role("owner@example.com", PASSWORD, Role::Owner)
        .await;
    app.post_organization(&owner, "Second Org").await;
    let second = org(&app, "second_org").await;
    let token = app.register("member@example.com", PASSWORD).await;
    let member = users::find_by_email(&app.store, "member@example.com")
        .await
        .unwrap()
        .unwrap();

    let all = migrations::all();
    let runner = crate::migrations::runner(&app.store, &all, "op");
    runner.migrate(2).await.unwrap();
    // Version-2 `set_role` of a new membership: membership, link, member count; no user write.
    let now = Timestamp::now();
    let membership = Membership {
        user_id: member.id,
        email: member.email.clone(),
        organization_id: second.id,
        organization_slug: second.slug.clone(),
        role: Role::Member,
        projects: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let link = ProjectLink {
        user_id: member.id,
        project_id: second.default_project_id.unwrap(),
        organization_slug: second.slug.clone(),
        default: true,
        role: Role::Member.as_str().into(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let mut tx = Transaction::new();
    tx.put_new(users::membership_item(&membership).unwrap(), "membership")
        .unwrap();
    tx.put_new(users::project_link_item(&link).unwrap(), "project_link")
        .unwrap();
    tx.update(
        keys::organization("second_org"),
        Expression::change_counters(&[("member_count", 1)]),
        None,
        None,
    )
    .unwrap();
    app.store.transact(tx).await.unwrap();

    let me = app
        .send(authed("GET", "/api/v1/default/auth/me", &token))
        .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    let mut slugs: Vec<String> = me.body["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["organization"]["slug"].as_str().unwrap().to_owned())
        .collect();
    slugs.sort();
    assert_eq!(
        slugs,
        ["default", "second_org"],
        "/auth/me on a version-2 table"
    );
}

/// Removing an organization takes its slug out of its members' sets: creating and deleting
/// organizations again and again grows nothing, and `/auth/me` stays one batch.
#[tokio::test]
async fn deleted_organizations_leave_their_members_slugs_and_auth_me_stays_one_batch() {
    let app = spawn_app().await;
    let token = app.register("churn@example.com", PASSWORD).await;
    let user = users::find_by_email(&app.store, "churn@example.com")
        .await
        .unwrap()
        .unwrap();
    let churned = 51;
    for i in 0..churned {
        let created = app
            .post_organization(&token, &format!("Churn {i:03} {}", "x".repeat(200)))
            .await;
        let deleted = app
            .send(authed(
                "DELETE",
                &format!("/api/v1/organizations/{}", created["id"]),
                &token,
            ))
            .await;
        assert!(deleted.status.is_success(), "{}", deleted.body);
    }
    let (state, log) = counted_state(&app).await;
    let (me, sent) = get_counted(&state, &log, "/api/v1/default/auth/me", &token).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["organizations"].as_array().unwrap().len(), 1);
    let stored = stored_user(&app, user.id).await;
    assert_eq!(
        (stored.organization_slugs.len(), sent),
        (
            1,
            vec!["BatchGetItem".to_owned(), "BatchGetItem".to_owned()]
        ),
        "slugs kept for {churned} deleted organizations; requests of /auth/me"
    );
}

/// Once a project's removal has taken it out of every summary, its id leaves the
/// organization's deleted ids: the organization item (read by every request under it) does
/// not grow with deletions.
#[tokio::test]
async fn a_deleted_projects_id_is_forgotten_once_its_removal_finishes() {
    let app = spawn_app().await;
    let owner = app
        .registered_with_role("owner@example.com", PASSWORD, Role::Owner)
        .await;
    for name in ["gone1", "gone2", "gone3"] {
        let id = app.post_project(&owner, "default", name).await["id"].clone();
        let deleted = app
            .send(authed(
                "DELETE",
                &format!("/api/v1/default/projects/{id}"),
                &owner,
            ))
            .await;
        assert!(deleted.status.is_success(), "{}", deleted.body);
    }
    assert!(
        dispatch_domain::organization_delete::pending_projects(&app.store)
            .await
            .unwrap()
            .is_empty(),
        "removals finished"
    );
    let default = org(&app, "default").await;
    assert_eq!(
        default.deleted_project_ids,
        Vec::<i32>::new(),
        "ids of projects whose removal finished"
    );
}
