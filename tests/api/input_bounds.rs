//! Bounded work and clean 422s for every input: `like` patterns cannot make a list request
//! slow, free text has a maximum length (a name too long for a key is a 422, not a 500), names
//! and emails refuse control and invisible characters, and an empty role is not "no role".

use http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestResponse, authed, json_request, spawn_app};

const PASSWORD: &str = "correct horse battery";

/// Asserts a 422 with one detail at `loc` of type `kind`.
fn refused(response: &TestResponse, loc: Value, kind: &str) {
    assert_eq!(
        response.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        response.body
    );
    let detail = &response.body["detail"][0];
    assert_eq!(
        (detail["loc"].clone(), detail["type"].as_str()),
        (loc, Some(kind)),
        "{}",
        response.body
    );
}

/// Every item but the id counters (which a refused request may not move anyway).
async fn items(
    app: &TestApp,
) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    let mut items = app.scan_all().await;
    items.retain(|i| !i["pk"].as_s().unwrap().starts_with("COUNTER#"));
    items
}

/// An Owner of a fresh organization `bounds_org`: their token.
async fn owner(app: &TestApp) -> String {
    let token = app.register("owner@example.com", PASSWORD).await;
    app.post_organization(&token, "Bounds Org").await;
    token
}

async fn send(app: &TestApp, method: &str, path: &str, body: Value, token: &str) -> TestResponse {
    app.send(json_request(method, path, &body, Some(token)))
        .await
}

/// The names of the projects of `bounds_org` that `filter` keeps.
async fn projects_where(app: &TestApp, token: &str, filter: Value) -> TestResponse {
    let encoded: String = form_urlencoded::byte_serialize(filter.to_string().as_bytes()).collect();
    app.send(authed(
        "GET",
        &format!("/api/v1/bounds_org/projects?itemsPerPage=50&filter={encoded}"),
        token,
    ))
    .await
}

fn names(response: &TestResponse) -> Vec<&str> {
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let items = response.body["items"].as_array().expect("items");
    items.iter().map(|p| p["name"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn like_patterns_are_bounded_and_pathological_ones_match_correctly() {
    let app = spawn_app().await;
    let token = owner(&app).await;
    let longest = "a".repeat(10_000);
    let body = json!({"name": "Long Notes", "description": longest});
    let created = send(&app, "POST", "/api/v1/bounds_org/projects", body, &token).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);

    // A pattern longer than any value a filter takes is refused before any item is read.
    let like =
        |op: &str, pattern: String| json!({"field": "description", "op": op, "value": pattern});
    let too_long =
        projects_where(&app, &token, like("like", format!("{}%", "%a".repeat(128)))).await;
    refused(&too_long, json!(["query", "filter"]), "string_too_long");
    let conditions: Vec<Value> = (0..51).map(|_| like("==", "a".into())).collect();
    let too_many = projects_where(&app, &token, json!({"and": conditions})).await;
    refused(&too_many, json!(["query", "filter"]), "too_long");
    let patterns: Vec<Value> = (0..6).map(|_| like("ilike", "%a%".into())).collect();
    let too_many = projects_where(&app, &token, json!({"or": patterns})).await;
    refused(&too_many, json!(["query", "filter"]), "too_long");

    // The longest allowed patterns a backtracking matcher retries at every position, over
    // the longest allowed description: the right answer (the time is in BENCHMARKS.md).
    for (op, pattern, expected) in [
        ("like", format!("{}b", "%a".repeat(127)), vec![]),
        ("ilike", format!("{}B", "%A".repeat(127)), vec![]),
        ("like", format!("%{}b%", "a".repeat(252)), vec![]),
        ("like", format!("%{}", "_a".repeat(127)), vec!["Long Notes"]),
        ("like", format!("%{}b%", "_a".repeat(126)), vec![]),
        (
            "ilike",
            format!("%{}A%", "A_".repeat(126)),
            vec!["Long Notes"],
        ),
        ("like", format!("{}%", "a".repeat(254)), vec!["Long Notes"]),
        (
            "not_ilike",
            format!("%{}", "a_".repeat(127)),
            vec!["default"],
        ),
    ] {
        assert_eq!(pattern.chars().count(), 255);
        let listed = projects_where(&app, &token, like(op, pattern.clone())).await;
        assert_eq!(names(&listed), expected, "{op} {pattern}");
    }
}

#[tokio::test]
async fn every_free_text_field_has_a_maximum_and_refusals_write_nothing() {
    let app = spawn_app().await;
    let token = owner(&app).await;
    let org = send(
        &app,
        "POST",
        "/api/v1/organizations",
        json!({"name": "Org Two"}),
        &token,
    )
    .await;
    let org_id = org.body["id"].as_i64().unwrap();
    let project = app
        .post_project(&token, "bounds_org", "Bounded Project")
        .await;
    let project_id = project["id"].as_i64().unwrap();
    let before = items(&app).await;

    let long = |n: usize| "x".repeat(n);
    for (method, path, body, field) in [
        // Today's 500: a name too long for the list index's sort key.
        (
            "POST",
            "/api/v1/organizations".to_owned(),
            json!({"name": long(1_100)}),
            "name",
        ),
        (
            "POST",
            "/api/v1/organizations".to_owned(),
            json!({"name": "Org Three", "description": long(10_001)}),
            "description",
        ),
        (
            "POST",
            "/api/v1/organizations".to_owned(),
            json!({"name": "Org Three", "banner_text": long(1_001)}),
            "banner_text",
        ),
        (
            "PUT",
            format!("/api/v1/organizations/{org_id}"),
            json!({"banner_color": long(256)}),
            "banner_color",
        ),
        (
            "POST",
            "/api/v1/bounds_org/projects".to_owned(),
            json!({"name": long(251)}),
            "name",
        ),
        (
            "POST",
            "/api/v1/bounds_org/projects".to_owned(),
            json!({"name": "P Two", "report_incident_instructions": long(10_001)}),
            "report_incident_instructions",
        ),
        (
            "PUT",
            format!("/api/v1/bounds_org/projects/{project_id}"),
            json!({"description": long(10_001)}),
            "description",
        ),
        (
            "PUT",
            format!("/api/v1/bounds_org/projects/{project_id}"),
            json!({"storage_folder_one": long(256)}),
            "storage_folder_one",
        ),
        (
            "PUT",
            format!("/api/v1/bounds_org/projects/{project_id}"),
            json!({"name": long(251)}),
            "name",
        ),
    ] {
        let response = send(&app, method, &path, body, &token).await;
        refused(&response, json!(["body", field]), "string_too_long");
    }
    let instance = json!({"plugin": {"id": 1, "title": "t", "slug": "s", "author": "a", "author_url": "u", "type": "t", "multiple": false},
                          "project": {"name": long(2_000)}});
    let response = send(
        &app,
        "POST",
        "/api/v1/bounds_org/plugins/instances",
        instance,
        &token,
    )
    .await;
    refused(
        &response,
        json!(["body", "project", "name"]),
        "string_too_long",
    );
    let search = app
        .send(authed(
            "GET",
            &format!("/api/v1/bounds_org/projects?q={}", long(256)),
            &token,
        ))
        .await;
    refused(&search, json!(["query", "q"]), "string_too_long");
    let instances = app
        .send(authed(
            "GET",
            "/api/v1/bounds_org/plugins/instances",
            &token,
        ))
        .await;
    let instance = instances.body["items"][0]["id"]
        .as_i64()
        .expect("an instance");
    let configuration = json!({"configuration": {"api_key": long(65_536)}});
    let path = format!("/api/v1/bounds_org/plugins/instances/{instance}");
    let response = send(&app, "PUT", &path, configuration, &token).await;
    refused(&response, json!(["body", "configuration"]), "too_long");
    assert_eq!(items(&app).await, before, "refused requests write nothing");

    // The longest name of the widest characters fits every key it is part of.
    let widest = "𝐀".repeat(250);
    let created = send(
        &app,
        "POST",
        "/api/v1/organizations",
        json!({"name": widest}),
        &token,
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(created.body["name"], json!(widest));
}

#[tokio::test]
async fn names_slugs_and_emails_refuse_control_and_invisible_characters() {
    let app = spawn_app().await;
    let token = owner(&app).await;
    let project = app
        .post_project(&token, "bounds_org", "Plain Project")
        .await;
    let project_id = project["id"].as_i64().unwrap();
    let before = items(&app).await;
    for (method, path, body, field) in [
        (
            "POST",
            "/api/v1/organizations".to_owned(),
            json!({"name": "Evil\u{0}Org"}),
            "name",
        ),
        (
            "POST",
            "/api/v1/organizations".to_owned(),
            json!({"name": "Pay\u{202E}lapyP"}),
            "name",
        ),
        (
            "POST",
            "/api/v1/bounds_org/projects".to_owned(),
            json!({"name": "zero\u{200B}width"}),
            "name",
        ),
        (
            "POST",
            "/api/v1/bounds_org/projects".to_owned(),
            json!({"name": "tab\tname"}),
            "name",
        ),
        (
            "PUT",
            format!("/api/v1/bounds_org/projects/{project_id}"),
            json!({"display_name": "bidi\u{2066}isolate"}),
            "display_name",
        ),
        (
            "PUT",
            format!("/api/v1/bounds_org/projects/{project_id}"),
            json!({"description": "nul\u{0}"}),
            "description",
        ),
    ] {
        let response = send(&app, method, &path, body, &token).await;
        refused(&response, json!(["body", field]), "string_pattern_mismatch");
    }
    let register = app
        .send(json_request(
            "POST",
            "/api/v1/default/auth/register",
            &json!({"email": "zero\u{200B}width@example.com", "password": PASSWORD}),
            None,
        ))
        .await;
    refused(&register, json!(["body", "email"]), "value_error");
    assert_eq!(items(&app).await, before, "refused requests write nothing");

    // Descriptions keep their tabs and newlines.
    let text = "Runbook:\n\t1. page the on-call\r\n\t2. open a bridge";
    let path = format!("/api/v1/bounds_org/projects/{project_id}");
    let updated = send(&app, "PUT", &path, json!({"description": text}), &token).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["description"], text);
}

#[tokio::test]
async fn an_empty_role_is_a_422_not_an_absent_role() {
    let app = spawn_app().await;
    let token = owner(&app).await;
    let before = items(&app).await;
    let new_user = json!({"email": "new@example.com", "password": PASSWORD, "role": ""});
    let created = send(&app, "POST", "/api/v1/bounds_org/users", new_user, &token).await;
    refused(&created, json!(["body", "role"]), "enum");
    assert_eq!(items(&app).await, before, "no user was created");

    let member = json!({"email": "member@example.com", "password": PASSWORD, "role": null});
    let created = send(&app, "POST", "/api/v1/bounds_org/users", member, &token).await;
    assert_eq!(
        (created.status, created.body["role"].clone()),
        (StatusCode::OK, json!("Member"))
    );
    let path = format!("/api/v1/bounds_org/users/{}", created.body["id"]);
    let before = items(&app).await;
    let updated = send(&app, "PUT", &path, json!({"role": ""}), &token).await;
    refused(&updated, json!(["body", "role"]), "enum");
    assert_eq!(items(&app).await, before, "the role stays");
}
