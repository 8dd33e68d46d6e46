//! Dispatch's web UI served by the dev server (`dispatch server develop --ui DIR`), on the same
//! origin as the API, as Dispatch's own `server develop` does: the UI calls `/api/v1` relative
//! to the page, so no CORS and no API URL to build in.
//!
//! DIR is a production build of Dispatch's UI (`npm run build` in its
//! `src/dispatch/static/dispatch`; README, "Dispatch's UI"). Files are served as they are
//! (content type from the extension, no path outside DIR: `tower-http`'s `ServeDir`), and any
//! other path outside `/api/` gets `index.html`, so that the UI's own routes
//! (`/default/auth/login`, …) load on a refresh or a typed address.

use std::path::Path;

use anyhow::Context;
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

/// `api` for `/api` and `/api/…`, the UI in `dir` for every other path.
pub fn with_ui(api: Router, dir: &Path) -> anyhow::Result<Router> {
    let index = dir.join("index.html");
    anyhow::ensure!(
        index.is_file(),
        "{} has no index.html: give --ui the directory a build of Dispatch's UI wrote (its dist)",
        dir.display()
    );
    let dir = dir
        .canonicalize()
        .with_context(|| format!("reading {}", dir.display()))?;
    let files = ServeDir::new(&dir).fallback(ServeFile::new(dir.join("index.html")));
    let both = tower::service_fn(move |request: Request| {
        let api = api.clone();
        let files = files.clone();
        async move {
            let path = request.uri().path();
            if path == "/api" || path.starts_with("/api/") {
                api.oneshot(request).await
            } else {
                let response = files.oneshot(request).await?;
                Ok(response.map(Body::new))
            }
        }
    });
    Ok(Router::new().fallback_service(both))
}
