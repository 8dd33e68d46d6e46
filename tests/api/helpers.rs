//! Test helpers: a fresh table per test on DynamoDB Local, secrets in moto, and ways to call
//! the routers (directly, or through API Gateway v2 events).

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use axum::Router;
use axum::body::Body;
use dispatch_domain::aws_sdk::CallBounds;
use dispatch_domain::config::Config;
use dispatch_domain::secrets::Secrets;
use dispatch_shared::AppState;
use dispatch_store::Store;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tokio::sync::OnceCell;
use tower::ServiceExt;

/// Where the `test` profile of the local stack listens, unless the environment says otherwise.
const DEFAULT_DYNAMODB: &str = "http://127.0.0.1:8101";
const DEFAULT_SECRETS_MANAGER: &str = "http://127.0.0.1:5001";

/// Call bounds of the test binary's clients: [`CallBounds::API`]'s shape, with longer timeouts.
pub const LOCAL_BOUNDS: CallBounds = CallBounds {
    connect: Duration::from_secs(5),
    attempt: Duration::from_secs(20),
    operation: Duration::from_secs(60),
    ..CallBounds::API
};

/// One `SdkConfig` for the whole test binary, pointed at the local stack.
pub async fn sdk_config() -> &'static aws_config::SdkConfig {
    static SDK: OnceCell<aws_config::SdkConfig> = OnceCell::const_new();
    SDK.get_or_init(|| async {
        // The test profile's defaults; explicit AWS_* variables win.
        for (name, value) in [
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_ENDPOINT_URL_DYNAMODB", DEFAULT_DYNAMODB),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", DEFAULT_SECRETS_MANAGER),
        ] {
            if std::env::var_os(name).is_none() {
                // SAFETY: set once, before any other thread of this binary reads the environment
                // through the SDK (this closure runs before the first client exists).
                unsafe { std::env::set_var(name, value) };
            }
        }
        // Every call bounded as in production, with room for DynamoDB Local under the load
        // of a parallel test run; the resilience tests use `CallBounds::API` itself.
        dispatch_domain::aws_sdk::load_sdk_config(LOCAL_BOUNDS).await
    })
    .await
}

/// The JWT and cursor secrets, created in moto once per test binary.
pub struct TestSecrets {
    pub jwt_id: String,
    pub cursor_id: String,
    pub encryption_id: String,
    pub secrets: Secrets,
}

pub async fn test_secrets() -> &'static TestSecrets {
    static SECRETS: OnceCell<TestSecrets> = OnceCell::const_new();
    SECRETS
        .get_or_init(|| async {
            let client = aws_sdk_secretsmanager::Client::new(sdk_config().await);
            let run = uuid::Uuid::new_v4().simple().to_string();
            let jwt_id = format!("test/{run}/jwt");
            let cursor_id = format!("test/{run}/cursor");
            let encryption_id = format!("test/{run}/encryption");
            for id in [&jwt_id, &cursor_id, &encryption_id] {
                client
                    .create_secret()
                    .name(id)
                    .secret_string(format!(
                        "{}{}",
                        uuid::Uuid::new_v4().simple(),
                        uuid::Uuid::new_v4().simple()
                    ))
                    .send()
                    .await
                    .expect(
                        "moto (Secrets Manager) is reachable; run infra/local/stack.sh start test",
                    );
            }
            let secrets = Secrets::load(&client, &jwt_id, &cursor_id)
                .await
                .expect("secrets load")
                .with_configuration_key(&client, &encryption_id)
                .await
                .expect("encryption key loads");
            TestSecrets {
                jwt_id,
                cursor_id,
                encryption_id,
                secrets,
            }
        })
        .await
}

/// A fresh, initialised table (schema version, default organization) and the app state on it.
pub struct TestApp {
    pub store: Store,
    pub state: AppState,
}

/// A table name no other test uses.
pub fn unique_table() -> String {
    format!("test-{}", uuid::Uuid::new_v4().simple())
}

/// A store on a fresh table that does not exist yet.
pub async fn empty_store() -> Store {
    Store::new(
        aws_sdk_dynamodb::Client::new(sdk_config().await),
        unique_table(),
    )
}

/// A fresh table initialised by `dispatch database init`'s code, and the state the functions
/// would build on it.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with settings changed by `configure`.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let store = empty_store().await;
    dispatch_cli::database::init(&store)
        .await
        .expect("database init");
    let secrets = test_secrets().await;
    let config = Config {
        table_name: store.table().to_owned(),
        jwt_secret_id: secrets.jwt_id.clone(),
        cursor_secret_id: secrets.cursor_id.clone(),
        encryption_secret_id: Some(secrets.encryption_id.clone()),
        jwt_lifetime: Duration::from_secs(86_400),
        jwt_issuer: dispatch_domain::config::DEFAULT_JWT_ISSUER.into(),
        jwt_audience: dispatch_domain::config::DEFAULT_JWT_AUDIENCE.into(),
        registration_enabled: true,
        auto_join: dispatch_domain::config::AutoJoin::Listed(vec!["default".into()]),
        // The longest budget allowed: DynamoDB Local on a loaded CI machine is far slower than
        // DynamoDB. The resilience tests set the production bounds themselves.
        request_budget: Duration::from_millis(
            *dispatch_domain::config::REQUEST_BUDGET_RANGE_MS.end(),
        ),

        authentication: dispatch_domain::auth::provider::Provider::Basic,
        trusted_edge: None,
    };
    let mut config = config;
    configure(&mut config);
    let state = AppState::new(config, store.clone(), secrets.secrets.clone());
    TestApp { store, state }
}

impl TestApp {
    /// The dev server's app: all five route groups.
    pub fn local_app(&self) -> Router {
        dispatch_cli::server::local_app(self.state.clone()).expect("route table")
    }

    /// Every item of the table, sorted by key, for before/after comparisons.
    pub async fn scan_all(&self) -> Vec<std::collections::HashMap<String, AttributeValue>> {
        scan_all(&self.store).await
    }
}

/// Every item of a table, sorted by key.
pub async fn scan_all(store: &Store) -> Vec<std::collections::HashMap<String, AttributeValue>> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = store
            .client()
            .scan()
            .table_name(store.table())
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        items.extend(page.items.unwrap_or_default());
        start = page.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    let key = |i: &std::collections::HashMap<String, AttributeValue>| {
        let s = |n: &str| {
            i.get(n)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        };
        (s("pk"), s("sk"))
    };
    items.sort_by_key(key);
    items
}

/// A response with its body read as JSON (`Value::Null` for an empty body).
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: Value,
}

/// Sends one request through a router; the response must agree with the OpenAPI document
/// (`crate::openapi::check_response`), so every test also checks the document.
pub async fn call(router: &Router, request: Request<Body>) -> TestResponse {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("router is infallible");
    let response = read(response).await;
    crate::openapi::check_response(&method, &path, &response);
    response
}

async fn read(response: Response<Body>) -> TestResponse {
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    TestResponse {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// A request with a JSON body and, optionally, a bearer token.
pub fn json_request(method: &str, path: &str, body: &Value, token: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json");
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder.body(Body::from(body.to_string())).unwrap()
}

/// A bodiless request with a bearer token.
pub fn authed(method: &str, path: &str, token: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap()
}

impl TestApp {
    /// Registers through the API (as the UI does) and returns the token.
    pub async fn register(&self, email: &str, password: &str) -> String {
        let body = serde_json::json!({ "email": email, "password": password });
        let response = call(
            &self.local_app(),
            json_request("POST", "/api/v1/default/auth/register", &body, None),
        )
        .await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "register {email}: {}",
            response.body
        );
        response.body["token"].as_str().expect("token").to_owned()
    }

    /// Logs in through the API (as the UI does).
    pub async fn login(&self, email: &str, password: &str) -> TestResponse {
        let body = serde_json::json!({ "email": email, "password": password });
        call(
            &self.local_app(),
            json_request("POST", "/api/v1/default/auth/login", &body, None),
        )
        .await
    }

    /// Sends a request through the dev server's app.
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        call(&self.local_app(), request).await
    }
}

/// A bodiless request.
pub fn request(method: &str, path: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .body(Body::empty())
        .unwrap()
}

/// Sends an API Gateway HTTP API v2 event (as a Lambda receives it) through a router.
pub async fn call_event(router: &Router, event_json: &str) -> TestResponse {
    let request = lambda_http::request::from_str(event_json).expect("a valid API Gateway v2 event");
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("router is infallible");
    read(response).await
}

/// Creates an organization (with its default project) straight through the domain code.
pub async fn create_organization(
    store: &Store,
    name: &str,
) -> dispatch_domain::model::Organization {
    dispatch_domain::organizations::create(
        store,
        dispatch_domain::organizations::NewOrganization {
            name: dispatch_domain::model::NameStr::parse(name).unwrap(),
            description: None,
            default: false,
            banner_enabled: false,
            banner_color: None,
            banner_text: None,
        },
        None,
    )
    .await
    .expect("organization created")
}

impl TestApp {
    /// `POST /organizations` as the caller, who becomes its Owner; the created organization.
    pub async fn post_organization(&self, token: &str, name: &str) -> Value {
        let created = self
            .send(json_request(
                "POST",
                "/api/v1/organizations",
                &serde_json::json!({ "name": name }),
                Some(token),
            ))
            .await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.body);
        created.body
    }

    /// `POST /{org}/projects` as the caller; the created project.
    pub async fn post_project(&self, token: &str, org: &str, name: &str) -> Value {
        let created = self
            .send(json_request(
                "POST",
                &format!("/api/v1/{org}/projects"),
                &serde_json::json!({ "name": name }),
                Some(token),
            ))
            .await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.body);
        created.body
    }

    /// Registers a user (a Member of `default`), gives them `role` there, and returns their
    /// token.
    pub async fn registered_with_role(
        &self,
        email: &str,
        password: &str,
        role: dispatch_domain::model::Role,
    ) -> String {
        use dispatch_domain::users;
        let token = self.register(email, password).await;
        let org = users::organization(&self.store, "default")
            .await
            .unwrap()
            .unwrap();
        let user = users::find_by_email(&self.store, email)
            .await
            .unwrap()
            .unwrap();
        users::set_role(&self.store, &org, &user, role)
            .await
            .unwrap();
        token
    }

    /// Creates a user who belongs to `org` only (registration would also join the auto-join
    /// organizations), with `role` there, and returns their token.
    pub async fn member_only_of(
        &self,
        org: &dispatch_domain::model::Organization,
        email: &str,
        password: &str,
        role: dispatch_domain::model::Role,
    ) -> String {
        let address = dispatch_domain::model::EmailAddress::parse(email).unwrap();
        let password_hash = self
            .state
            .passwords()
            .hash(&dispatch_domain::auth::Password::parse(password).unwrap())
            .await
            .unwrap();
        dispatch_domain::users::create(
            &self.store,
            &address,
            password_hash,
            &[(org.clone(), role)],
        )
        .await
        .unwrap();
        let login = self.login(email, password).await;
        login.body["token"].as_str().expect("token").to_owned()
    }
}

/// The claim of a `DELETE` whose request stopped right after hiding the organization, once
/// that claim has lapsed: what the maintenance job finds after a crash.
pub const LAPSED_CLAIM: Duration = Duration::ZERO;
