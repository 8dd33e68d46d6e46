//! `dispatch server develop --ui DIR`: a build of Dispatch's UI on the API's origin. A stub
//! build stands in for the real one (which is checked by hand, README "Dispatch's UI").

use axum::body::Body;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::helpers::spawn_app;

const INDEX: &str = "<!doctype html><title>Dispatch</title><div id=app></div>";
const SCRIPT: &str = "console.log('dispatch ui')";

/// A directory holding a stub UI build: `index.html` and one asset.
fn stub_build() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("dispatch-ui-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(dir.join("index.html"), INDEX).unwrap();
    std::fs::write(dir.join("assets/app.js"), SCRIPT).unwrap();
    dir
}

async fn send(router: &axum::Router, request: Request<Body>) -> (StatusCode, String, String) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        content_type,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn the_ui_loads_its_login_page_and_signs_in_on_the_api_s_origin() {
    let app = spawn_app().await;
    app.register("ui@example.com", "correct horse battery")
        .await;
    let dir = stub_build();
    let router = dispatch_cli::ui::with_ui(app.local_app(), &dir).unwrap();

    // The UI's own routes are the SPA's index (history mode), whatever the depth.
    for path in ["/", "/default/auth/login", "/default/incidents/status?x=1"] {
        let (status, content_type, body) = send(&router, get(path)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            content_type.starts_with("text/html"),
            "{path}: {content_type}"
        );
        assert_eq!(body, INDEX, "{path}");
    }
    let (status, content_type, body) = send(&router, get("/assets/app.js")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, SCRIPT));
    assert!(content_type.contains("javascript"), "{content_type}");

    // Nothing outside the build is reachable.
    let (_, _, body) = send(&router, get("/../../../../etc/passwd")).await;
    assert!(!body.contains("root:"), "{body}");
    let (_, _, body) = send(&router, get("/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd")).await;
    assert!(!body.contains("root:"), "{body}");

    // The API stays the API: its JSON, its 404 shape, and the UI's sign-in call.
    let (status, _, body) = send(&router, get("/api/v1/healthcheck")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("\"status\""), "{body}");
    let (status, content_type, body) = send(&router, get("/api/v1/default/no-such-thing")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    assert!(body.contains("\"detail\""), "{body}");
    let login = Request::post("/api/v1/default/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            r#"{"email":"ui@example.com","password":"correct horse battery"}"#,
        ))
        .unwrap();
    let (status, _, body) = send(&router, login).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("\"token\""), "{body}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_directory_without_index_html_is_refused_with_a_clear_message() {
    let dir = std::env::temp_dir().join(format!("dispatch-ui-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let error = dispatch_cli::ui::with_ui(axum::Router::new(), &dir)
        .unwrap_err()
        .to_string();
    assert!(error.contains("has no index.html"), "{error}");
    std::fs::remove_dir_all(dir).unwrap();
}
