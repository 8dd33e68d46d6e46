//! The projects route group (list, create, get) as Dispatch's UI calls it, with the project
//! init data (docs/contract.md §7.4) written with every project, and tenant isolation.

use dispatch_domain::model::Role;
use dispatch_domain::users;
use dispatch_store::{Source, keys};
use http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, authed, create_organization, json_request, spawn_app};

const PASSWORD: &str = "correct horse battery";

async fn with_role(app: &TestApp, email: &str, role: Role) -> String {
    app.registered_with_role(email, PASSWORD, role).await
}

/// The init items of a project, by kind.
async fn init_data(app: &TestApp, slug: &str, project_id: i64) -> Vec<Value> {
    let items = app
        .store
        .query_prefix(
            Source::Table,
            &keys::project_partition(slug, project_id as i32),
            "",
        )
        .await
        .unwrap();
    items
        .into_iter()
        .filter(|i| !i["sk"].as_s().unwrap().starts_with("USER#"))
        .map(|i| {
            let mut value: Value = dispatch_store::from_attributes(i.clone()).unwrap();
            value["kind"] = json!(i["entity"].as_s().unwrap());
            value
        })
        .collect()
}

#[tokio::test]
async fn a_manager_creates_a_project_with_dispatchs_init_data() {
    let app = spawn_app().await;
    let manager = with_role(&app, "manager@example.com", Role::Manager).await;
    // The UI's project form: `id: null` and the organization by name and slug.
    let form = json!({"id": null, "name": "Security", "display_name": "Security Team", "description": "Handles incidents",
                      "color": "#ff0000", "organization": {"name": "default", "slug": "default"}, "owner_email": "lead@example.com"});
    let created = app
        .send(json_request(
            "POST",
            "/api/v1/default/projects",
            &form,
            Some(&manager),
        ))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(
        (
            created.body["name"].clone(),
            created.body["annual_employee_cost"].clone()
        ),
        (json!("Security"), json!(50000))
    );
    assert_eq!(created.body["stable_priority"], Value::Null);
    let id = created.body["id"].as_i64().unwrap();

    let data = init_data(&app, "default", id).await;
    let count = |kind: &str| data.iter().filter(|d| d["kind"] == kind).count();
    assert_eq!(
        [
            count("INCIDENT_TYPE"),
            count("INCIDENT_PRIORITY"),
            count("INCIDENT_SEVERITY"),
            count("INCIDENT_COST_TYPE"),
            count("CASE_COST_TYPE"),
            count("CASE_TYPE"),
            count("CASE_PRIORITY"),
            count("CASE_SEVERITY")
        ],
        [1, 3, 5, 1, 2, 1, 5, 5]
    );
    let low = data
        .iter()
        .find(|d| d["kind"] == "INCIDENT_PRIORITY" && d["name"] == "Low")
        .unwrap();
    assert_eq!(
        (
            low["tactical_report_reminder"].clone(),
            low["executive_report_reminder"].clone(),
            low["default"].clone(),
            low["color"].clone()
        ),
        (json!(12), json!(9999), json!(true), json!("#8bc34a"))
    );
    let critical = data
        .iter()
        .find(|d| d["kind"] == "CASE_PRIORITY" && d["name"] == "Critical")
        .unwrap();
    assert_eq!(
        (
            critical["page_assignee"].clone(),
            critical["disable_delayed_message_warning"].clone()
        ),
        (json!(true), json!(true))
    );
    let incident_type = data.iter().find(|d| d["kind"] == "INCIDENT_TYPE").unwrap();
    let case_type = data.iter().find(|d| d["kind"] == "CASE_TYPE").unwrap();
    assert_eq!(
        case_type["incident_type_id"], incident_type["id"],
        "the case type is linked to the incident type"
    );

    let got = app
        .send(authed(
            "GET",
            &format!("/api/v1/default/projects/{id}"),
            &manager,
        ))
        .await;
    assert_eq!(
        (got.status, got.body["display_name"].clone()),
        (StatusCode::OK, json!("Security Team"))
    );

    let taken = app
        .send(json_request(
            "POST",
            "/api/v1/default/projects",
            &json!({"name": "Security"}),
            Some(&manager),
        ))
        .await;
    assert_eq!(
        (taken.status, taken.body["detail"][0]["msg"].clone()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!("A project with this name already exists.")
        )
    );
    assert_eq!(
        init_data(&app, "default", id).await.len(),
        data.len(),
        "the refused creation wrote nothing"
    );
}

#[tokio::test]
async fn the_default_organizations_project_has_its_init_data_too() {
    let app = spawn_app().await;
    let org = users::organization(&app.store, "default")
        .await
        .unwrap()
        .unwrap();
    let data = init_data(&app, "default", i64::from(org.default_project_id.unwrap())).await;
    assert_eq!(data.len(), dispatch_domain::project_init::item_count());
}

#[tokio::test]
async fn the_uis_project_list_calls() {
    let app = spawn_app().await;
    let owner = with_role(&app, "owner@example.com", Role::Owner).await;
    for (name, display) in [("Zeta", "A zeta"), ("Alpha", "Z alpha"), ("Mid", "M mid")] {
        let body = json!({"name": name, "display_name": display});
        assert_eq!(
            app.send(json_request(
                "POST",
                "/api/v1/default/projects",
                &body,
                Some(&owner)
            ))
            .await
            .status,
            StatusCode::OK
        );
    }
    let names = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let table = app
        .send(authed(
            "GET",
            "/api/v1/default/projects?itemsPerPage=25&sortBy[]=name&descending[]=false",
            &owner,
        ))
        .await;
    assert_eq!(names(&table.body), ["Alpha", "default", "Mid", "Zeta"]);
    assert_eq!(
        (
            table.body["total"].clone(),
            table.body["itemsPerPage"].clone()
        ),
        (json!(4), json!(4))
    );
    let combobox = app
        .send(authed(
            "GET",
            "/api/v1/default/projects?itemsPerPage=10&sortBy[]=display_name&descending[]=false&q=a",
            &owner,
        ))
        .await;
    // `q` matches names containing "a" (and name or description words starting with it); the
    // order is by display name: "" (default), "A zeta", "Z alpha".
    assert_eq!(names(&combobox.body), ["default", "Zeta", "Alpha"]);
    let all = app
        .send(authed(
            "GET",
            "/api/v1/default/projects?itemsPerPage=-1",
            &owner,
        ))
        .await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 4);
    let default = app
        .send(authed("GET", "/api/v1/default/projects?filter=%7B%22field%22%3A%22default%22%2C%22op%22%3A%22%3D%3D%22%2C%22value%22%3Atrue%7D", &owner))
        .await;
    assert_eq!(names(&default.body), ["default"]);
    let by_name = app
        .send(authed("GET", "/api/v1/default/projects?q=Mid", &owner))
        .await;
    assert_eq!(names(&by_name.body), ["Mid"]);
}

#[tokio::test]
async fn another_organizations_project_is_a_404() {
    let app = spawn_app().await;
    let member = with_role(&app, "member@example.com", Role::Member).await;
    let acme = create_organization(&app.store, "Acme Corp").await;
    let foreign = acme.default_project_id.unwrap();
    let response = app
        .send(authed(
            "GET",
            &format!("/api/v1/default/projects/{foreign}"),
            &member,
        ))
        .await;
    assert_eq!(
        (response.status, response.body["detail"][0]["msg"].clone()),
        (
            StatusCode::NOT_FOUND,
            json!("A project with this id does not exist.")
        )
    );
    let listed = app
        .send(authed(
            "GET",
            "/api/v1/default/projects?itemsPerPage=-1",
            &member,
        ))
        .await;
    assert!(
        !listed
            .body
            .to_string()
            .contains(&format!("\"id\":{foreign},")),
        "no other tenant's project listed"
    );
    // Updates too, even by an Admin who may update projects of their own organization.
    let admin = with_role(&app, "admin@example.com", Role::Admin).await;
    let update = app
        .send(json_request(
            "PUT",
            &format!("/api/v1/default/projects/{foreign}"),
            &json!({"name": "default", "description": "taken over"}),
            Some(&admin),
        ))
        .await;
    assert_eq!(update.status, StatusCode::NOT_FOUND, "{}", update.body);
    let untouched = app
        .store
        .get::<dispatch_domain::model::Project>(&keys::project("acme_corp", foreign))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        untouched.description.as_deref(),
        Some("Default Dispatch project.")
    );
    assert_eq!(
        app.send(authed("GET", "/api/v1/default/projects/abc", &member))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn an_admin_updates_a_project_and_its_stable_priority() {
    let app = spawn_app().await;
    let admin = with_role(&app, "admin@example.com", Role::Admin).await;
    let org = users::organization(&app.store, "default")
        .await
        .unwrap()
        .unwrap();
    let id = i64::from(org.default_project_id.unwrap());
    let path = format!("/api/v1/default/projects/{id}");
    let priorities = init_data(&app, "default", id).await;
    let high = priorities
        .iter()
        .find(|d| d["kind"] == "INCIDENT_PRIORITY" && d["name"] == "High")
        .unwrap()["id"]
        .clone();

    // The UI sends the whole project back, with one toggle changed and the stable priority set.
    let mut form = app.send(authed("GET", &path, &admin)).await.body;
    form["send_daily_reports"] = json!(false);
    form["stable_priority_id"] = high.clone();
    form["loading"] = json!(true);
    let updated = app
        .send(json_request("PUT", &path, &form, Some(&admin)))
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["send_daily_reports"], false);
    assert_eq!(updated.body["stable_priority"]["name"], "High");
    assert_eq!(
        app.send(authed("GET", &path, &admin)).await.body["stable_priority"]["id"],
        high
    );

    // A priority of another project, a wrong type, a mismatched id: 422s that change nothing.
    let acme = create_organization(&app.store, "Acme Corp").await;
    let foreign = init_data(
        &app,
        "acme_corp",
        i64::from(acme.default_project_id.unwrap()),
    )
    .await;
    let foreign_priority = foreign
        .iter()
        .find(|d| d["kind"] == "INCIDENT_PRIORITY")
        .unwrap()["id"]
        .clone();
    let before = app.scan_all().await;
    for body in [
        json!({"stable_priority_id": foreign_priority}),
        json!({"annual_employee_cost": "lots"}),
        json!({"id": id + 1000}),
        json!({"name": "x"}),
        json!({"owner_email": "not-an-email"}),
    ] {
        let response = app
            .send(json_request("PUT", &path, &body, Some(&admin)))
            .await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            response.body
        );
    }
    assert_eq!(app.scan_all().await, before);

    // Renaming moves the name guard: the old name is free again, a taken one is refused.
    let renamed = app
        .send(json_request(
            "PUT",
            &path,
            &json!({"name": "Main"}),
            Some(&admin),
        ))
        .await;
    assert_eq!(renamed.body["name"], "Main");
    let owner = with_role(&app, "owner@example.com", Role::Owner).await;
    let reuse = app
        .send(json_request(
            "POST",
            "/api/v1/default/projects",
            &json!({"name": "default"}),
            Some(&owner),
        ))
        .await;
    assert_eq!(reuse.status, StatusCode::OK, "{}", reuse.body);
    let taken = app
        .send(json_request(
            "PUT",
            &path,
            &json!({"name": "default"}),
            Some(&admin),
        ))
        .await;
    assert_eq!(
        (taken.status, taken.body["detail"][0]["msg"].clone()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!("A project with this name already exists.")
        )
    );
}

#[tokio::test]
async fn deleting_a_project_hides_it_at_once_and_removes_what_belongs_to_it() {
    let app = spawn_app().await;
    let admin = with_role(&app, "admin@example.com", Role::Admin).await;
    let owner = with_role(&app, "owner@example.com", Role::Owner).await;
    let created = app
        .send(json_request(
            "POST",
            "/api/v1/default/projects",
            &json!({"name": "Doomed"}),
            Some(&owner),
        ))
        .await;
    let id = created.body["id"].as_i64().unwrap();
    let admin_user = users::find_by_email(&app.store, "admin@example.com")
        .await
        .unwrap()
        .unwrap();
    // The admin makes it one of their projects (a link in the project's partition).
    let link = json!({"projects": [{"project": {"id": id}, "default": true}]});
    let linked = app
        .send(json_request(
            "PUT",
            &format!("/api/v1/default/users/{}", admin_user.id),
            &link,
            Some(&owner),
        ))
        .await;
    assert_eq!(linked.status, StatusCode::OK, "{}", linked.body);
    assert!(!init_data(&app, "default", id).await.is_empty());

    // An interrupted deletion: hidden, contents still there.
    dispatch_domain::project_delete::hide(&app.store, "default", id as i32)
        .await
        .unwrap();
    let path = format!("/api/v1/default/projects/{id}");
    assert_eq!(
        app.send(authed("GET", &path, &admin)).await.status,
        StatusCode::NOT_FOUND,
        "hidden at once"
    );
    let listed = app
        .send(authed(
            "GET",
            "/api/v1/default/projects?itemsPerPage=-1",
            &admin,
        ))
        .await;
    assert_eq!(listed.body["total"], 1, "counted out at once");
    assert!(!listed.body.to_string().contains("Doomed"));

    // DELETE resumes and finishes; the partition is empty and the name is free.
    let deleted = app.send(authed("DELETE", &path, &admin)).await;
    assert_eq!(
        (deleted.status, deleted.body.clone()),
        (StatusCode::OK, Value::Null)
    );
    let left = app
        .store
        .query_prefix(
            Source::Table,
            &keys::project_partition("default", id as i32),
            "",
        )
        .await
        .unwrap();
    assert!(left.is_empty(), "{} items left", left.len());
    let instances = app
        .send(authed(
            "GET",
            "/api/v1/default/plugins/instances?itemsPerPage=-1",
            &admin,
        ))
        .await;
    assert_eq!(
        instances.body["total"], 28,
        "only the default project's instances are left"
    );
    assert!(
        instances.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["project"]["id"] == 1)
    );
    assert!(
        app.store
            .get_attributes(&keys::project("default", id as i32))
            .await
            .unwrap()
            .is_none()
    );
    let me = app
        .send(authed("GET", "/api/v1/default/auth/me", &admin))
        .await;
    assert!(
        !me.body.to_string().contains("Doomed"),
        "no link to a deleted project"
    );
    assert_eq!(
        app.send(authed("DELETE", &path, &admin)).await.status,
        StatusCode::NOT_FOUND
    );
    let again = app
        .send(json_request(
            "POST",
            "/api/v1/default/projects",
            &json!({"name": "Doomed"}),
            Some(&owner),
        ))
        .await;
    assert_eq!(again.status, StatusCode::OK, "the name is free again");

    // Another organization's project cannot be deleted from here.
    let acme = create_organization(&app.store, "Acme Corp").await;
    let foreign = acme.default_project_id.unwrap();
    let response = app
        .send(authed(
            "DELETE",
            &format!("/api/v1/default/projects/{foreign}"),
            &owner,
        ))
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert!(
        app.store
            .get_attributes(&keys::project("acme_corp", foreign))
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn the_installations_first_project_has_dispatchs_model_defaults() {
    let app = spawn_app().await;
    let owner = app
        .registered_with_role("owner@example.com", "correct horse battery", Role::Owner)
        .await;
    let org = dispatch_domain::users::organization(&app.store, "default")
        .await
        .unwrap()
        .unwrap();
    let first = app
        .send(authed(
            "GET",
            &format!(
                "/api/v1/default/projects/{}",
                org.default_project_id.unwrap()
            ),
            &owner,
        ))
        .await;
    // What Dispatch's own `database init` stores: no "Report security event" button.
    for (field, value) in [
        ("suggest_security_event_over_incident", json!(false)),
        ("storage_use_folder_one_as_primary", json!(false)),
        ("send_daily_reports", json!(null)),
        ("send_weekly_reports", json!(null)),
    ] {
        assert_eq!(first.body[field], value, "{field}");
    }
    // A project created through the API keeps ProjectCreate's defaults.
    let created = app.post_project(&owner, "default", "Through The API").await;
    assert_eq!(created["suggest_security_event_over_incident"], true);
    assert_eq!(created["send_daily_reports"], true);
}
