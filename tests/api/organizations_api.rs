//! The organizations route group as Dispatch's UI calls it (docs/contract.md §9): create, list,
//! get, update; the creator becomes Owner; one default organization; Dispatch's 409s.

use http::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, authed, json_request, spawn_app};

const PASSWORD: &str = "correct horse battery";

async fn create(app: &TestApp, token: &str, name: &str) -> crate::helpers::TestResponse {
    // The UI's create form, `id: null` and `loading` included.
    let body = json!({"name": name, "description": "Our team", "banner_enabled": false, "banner_text": null,
                      "banner_color": "#1976D2FF", "id": null, "loading": true});
    app.send(json_request(
        "POST",
        "/api/v1/organizations",
        &body,
        Some(token),
    ))
    .await
}

#[tokio::test]
async fn any_user_creates_an_organization_and_becomes_its_owner() {
    let app = spawn_app().await;
    let token = app.register("founder@example.com", PASSWORD).await;
    let created = create(&app, &token, "Acme Security!").await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(created.body["slug"], "acme_security");
    assert_eq!(created.body["name"], "Acme Security!");
    assert_eq!(created.body["default"], false);

    let role = app
        .send(authed("GET", "/api/v1/acme_security/auth/myrole", &token))
        .await;
    assert_eq!(role.body, "Owner");
    let me = app
        .send(authed("GET", "/api/v1/acme_security/auth/me", &token))
        .await;
    assert_eq!(
        me.body["projects"][0]["project"]["name"], "default",
        "the default project exists"
    );

    let list = app
        .send(authed(
            "GET",
            "/api/v1/organizations?itemsPerPage=50&sortBy[]=name&descending[]=false",
            &token,
        ))
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let names: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Acme Security!", "default"]);
    assert_eq!(
        (
            list.body["total"].clone(),
            list.body["itemsPerPage"].clone()
        ),
        (json!(2), json!(2))
    );
    let banner = r#"[{"model":"Organization","field":"slug","op":"==","value":"acme_security"}]"#;
    let filtered = app
        .send(authed(
            "GET",
            &format!(
                "/api/v1/organizations?filter={}",
                form_urlencoded::byte_serialize(banner.as_bytes()).collect::<String>()
            ),
            &token,
        ))
        .await;
    assert_eq!(filtered.body["items"][0]["slug"], "acme_security");

    let id = created.body["id"].as_i64().unwrap();
    let one = app
        .send(authed(
            "GET",
            &format!("/api/v1/organizations/{id}"),
            &token,
        ))
        .await;
    assert_eq!(
        (one.status, one.body["slug"].clone()),
        (StatusCode::OK, json!("acme_security"))
    );
}

#[tokio::test]
async fn dispatchs_conflicts_and_validation() {
    let app = spawn_app().await;
    let token = app.register("founder@example.com", PASSWORD).await;
    assert_eq!(create(&app, &token, "My Org").await.status, StatusCode::OK);
    let before = app.scan_all().await;
    for (name, status, message) in [
        (
            "My Org",
            StatusCode::CONFLICT,
            "An organization with this name already exists.",
        ),
        (
            "my org!",
            StatusCode::CONFLICT,
            "An organization with this slug already exists.",
        ),
        (
            "ab!",
            StatusCode::UNPROCESSABLE_ENTITY,
            "String should have at least 3 characters",
        ),
        (
            "Organizations",
            StatusCode::UNPROCESSABLE_ENTITY,
            "'organizations' is reserved and cannot be an organization slug",
        ),
        (
            "  x ",
            StatusCode::UNPROCESSABLE_ENTITY,
            "String should have at least 3 characters",
        ),
    ] {
        let response = create(&app, &token, name).await;
        assert_eq!(
            (
                response.status,
                response.body["detail"][0]["msg"].as_str().unwrap()
            ),
            (status, message),
            "{name}"
        );
    }
    // The UI's untouched description field is an array.
    let array = app
        .send(json_request(
            "POST",
            "/api/v1/organizations",
            &json!({"name": "Array Org", "description": []}),
            Some(&token),
        ))
        .await;
    assert_eq!(array.status, StatusCode::UNPROCESSABLE_ENTITY);
    let ids: Vec<_> = app
        .scan_all()
        .await
        .into_iter()
        .filter(|i| !i["pk"].as_s().unwrap().starts_with("COUNTER#"))
        .collect();
    let before: Vec<_> = before
        .into_iter()
        .filter(|i| !i["pk"].as_s().unwrap().starts_with("COUNTER#"))
        .collect();
    assert_eq!(ids, before, "refused creations write nothing");
    let missing = app
        .send(authed("GET", "/api/v1/organizations/999999", &token))
        .await;
    assert_eq!(
        (missing.status, missing.body["detail"][0]["msg"].clone()),
        (
            StatusCode::NOT_FOUND,
            json!("An organization with this id does not exist.")
        )
    );
    assert_eq!(
        app.send(authed("GET", "/api/v1/organizations/abc", &token))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn six_concurrent_creations_of_one_name_make_exactly_one_organization() {
    let app = spawn_app().await;
    let token = app.register("founder@example.com", PASSWORD).await;
    let router = app.local_app();
    let attempts = (0..6).map(|_| {
        let (router, token) = (router.clone(), token.clone());
        tokio::spawn(async move {
            let body = json!({"name": "Race Org"});
            crate::helpers::call(
                &router,
                json_request("POST", "/api/v1/organizations", &body, Some(&token)),
            )
            .await
            .status
        })
    });
    let mut statuses = Vec::new();
    for attempt in attempts.collect::<Vec<_>>() {
        statuses.push(attempt.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| matches!(*s, StatusCode::OK | StatusCode::CONFLICT)),
        "{statuses:?}"
    );
    let orgs = app
        .scan_all()
        .await
        .into_iter()
        .filter(|i| i["entity"].as_s().unwrap() == "Organization")
        .count();
    assert_eq!(orgs, 2, "default and Race Org");
}

#[tokio::test]
async fn the_owner_updates_banner_and_default_and_nobody_else_can() {
    let app = spawn_app().await;
    let owner = app.register("founder@example.com", PASSWORD).await;
    let other = app.register("other@example.com", PASSWORD).await;
    let created = create(&app, &owner, "Banner Org").await;
    let id = created.body["id"].as_i64().unwrap();
    let path = format!("/api/v1/organizations/{id}");
    let form = json!({"id": id, "name": "Renamed", "description": "New words", "banner_enabled": true,
                      "banner_text": "Maintenance tonight", "banner_color": "", "default": false});
    let updated = app
        .send(json_request("PUT", &path, &form, Some(&owner)))
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(
        (
            updated.body["name"].clone(),
            updated.body["description"].clone()
        ),
        (json!("Banner Org"), json!("New words")),
        "the name never changes"
    );
    assert_eq!(
        (
            updated.body["banner_enabled"].clone(),
            updated.body["banner_color"].clone()
        ),
        (json!(true), json!("#1976D2FF")),
        "an empty colour is not copied"
    );

    let refused = app
        .send(json_request(
            "PUT",
            &path,
            &json!({"description": "hijack"}),
            Some(&other),
        ))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let unknown = app
        .send(json_request(
            "PUT",
            "/api/v1/organizations/999999",
            &json!({}),
            Some(&owner),
        ))
        .await;
    assert_eq!(
        (unknown.status, unknown.body["detail"][0]["msg"].clone()),
        (
            StatusCode::NOT_FOUND,
            json!("Organization not found. Please, contact your Dispatch admin.")
        )
    );
    let short_banner = app
        .send(json_request(
            "PUT",
            &path,
            &json!({"banner_text": "ab"}),
            Some(&owner),
        ))
        .await;
    assert_eq!(short_banner.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Exactly one default organization (Q-O3), moved by the operator only.
    let made_default = app
        .send(json_request(
            "PUT",
            &path,
            &json!({"default": true}),
            Some(&owner),
        ))
        .await;
    assert_eq!(made_default.status, StatusCode::FORBIDDEN);
    dispatch_cli::organization::execute(
        &app.store,
        dispatch_cli::organization::OrganizationCommand::SetDefault {
            slug: "banner_org".into(),
        },
    )
    .await
    .unwrap();
    let list = app
        .send(authed(
            "GET",
            "/api/v1/organizations?itemsPerPage=-1",
            &owner,
        ))
        .await;
    let defaults: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["default"] == true)
        .map(|o| o["slug"].as_str().unwrap())
        .collect();
    assert_eq!(defaults, ["banner_org"]);
}
