//! `dispatch server …`: the local dev server and inspection of routes and configuration.

use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use clap::Subcommand;
use dispatch_domain::config::{SECRET_SETTINGS, SETTINGS};
use dispatch_shared::AppState;
use dispatch_shared::http::{RouteTableError, app};
use dispatch_shared::routes::ROUTES;

/// `dispatch server` subcommands.
#[derive(Debug, Subcommand)]
pub enum ServerCommand {
    /// Serve the whole API (the five routers the Lambdas run) on one local port.
    Develop {
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
        #[arg(long, default_value_t = 8000)]
        port: u16,
        /// Also serve a production build of Dispatch's web UI from DIR (its `dist` directory)
        /// on the same origin, every path outside `/api/` falling back to its `index.html`.
        #[arg(long, value_name = "DIR")]
        ui: Option<std::path::PathBuf>,
    },
    /// Print the route table: method, path, function and required permission.
    Routes {
        #[arg(long, value_enum, default_value_t)]
        output: crate::data::OutputFormat,
    },
    /// Print the configuration (secret ids only; secret values are never read here).
    Config {
        #[arg(long, value_enum, default_value_t)]
        output: crate::data::OutputFormat,
    },
}

/// Runs a `server` subcommand.
pub async fn run(command: ServerCommand) -> anyhow::Result<()> {
    match command {
        ServerCommand::Develop { host, port, ui } => {
            develop(SocketAddr::new(host, port), ui.as_deref()).await
        }
        ServerCommand::Routes { output } => {
            match output {
                crate::data::OutputFormat::Table => print!("{}", routes_table()),
                crate::data::OutputFormat::Json => println!("{}", routes_json()),
            }
            Ok(())
        }
        ServerCommand::Config { output } => {
            let lookup = |name: &str| std::env::var(name).ok();
            match output {
                crate::data::OutputFormat::Table => print!("{}", config_table(lookup)),
                crate::data::OutputFormat::Json => println!("{}", config_json(lookup)),
            }
            Ok(())
        }
    }
}

/// All five route groups in one router: exactly the code the Lambdas run.
pub fn local_app(state: AppState) -> Result<Router, RouteTableError> {
    app(
        vec![
            dispatch_auth::routes(),
            dispatch_users::routes(),
            dispatch_organizations::routes(),
            dispatch_projects::routes(),
            dispatch_plugins::routes(),
        ],
        state,
    )
}

async fn develop(address: SocketAddr, ui: Option<&std::path::Path>) -> anyhow::Result<()> {
    // It serves the plugins function's routes too: read their catalogue rows as it does.
    let state = AppState::from_env(dispatch_shared::state::Preload::PluginRows).await?;
    let mut router = local_app(state)?;
    if let Some(dir) = ui {
        router = crate::ui::with_ui(router, dir)?;
    }
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("binding {address}"))?;
    crate::say!("Dispatch API on http://{address}/api/v1 (Ctrl-C stops it)");
    if ui.is_some() {
        crate::say!("Dispatch UI on http://{address}/default/auth/login");
    }
    // The peer address stands in for API Gateway's source IP (login throttling).
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

/// The route table as text.
pub fn routes_table() -> String {
    let mut out = format!(
        "{:<7} {:<64} {:<14} {}\n",
        "Method", "Path", "Function", "Permission"
    );
    for route in ROUTES {
        out.push_str(&format!(
            "{:<7} {:<64} {:<14} {:?}\n",
            route.method.as_str(),
            route.path,
            route.function.name(),
            route.permission
        ));
    }
    out
}

/// The route table as a JSON array.
pub fn routes_json() -> serde_json::Value {
    ROUTES
        .iter()
        .map(|route| {
            serde_json::json!({
                "method": route.method.as_str(),
                "path": route.path,
                "function": route.function.name(),
                "permission": format!("{:?}", route.permission),
            })
        })
        .collect()
}

/// A setting's value as the configuration shows it: a secret one only as `(set)`.
fn shown(lookup: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    let value = lookup(name)?;
    if SECRET_SETTINGS.contains(&name) && !value.trim().is_empty() {
        return Some("(set)".into());
    }
    Some(value)
}

/// The configuration as a JSON object of setting → value (`null` when unset and without a
/// default). Only names and ids, as [`config_table`].
pub fn config_json(lookup: impl Fn(&str) -> Option<String>) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for setting in SETTINGS {
        let value = shown(&lookup, setting.name)
            .filter(|v| !v.trim().is_empty())
            .or(setting.default.map(str::to_owned));
        out.insert(setting.name.into(), value.into());
    }
    for name in [
        "AWS_REGION",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    ] {
        out.insert(name.into(), lookup(name).into());
    }
    out.into()
}

/// The configuration as text. Only names and ids: nothing here reads a secret's value.
pub fn config_table(lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    for setting in SETTINGS {
        let value = match (shown(&lookup, setting.name), setting.default) {
            (Some(v), _) if !v.trim().is_empty() => v,
            (_, Some(default)) => format!("{default} (default)"),
            _ => "(not set)".into(),
        };
        out.push_str(&format!(
            "{:<42} {:<36} {}\n",
            setting.name, value, setting.meaning
        ));
    }
    for name in [
        "AWS_REGION",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    ] {
        let value = lookup(name).unwrap_or_else(|| "(not set)".into());
        out.push_str(&format!("{name:<42} {value}\n"));
    }
    out
}
