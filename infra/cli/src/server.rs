//! `dispatch server …`: the local dev server and inspection of routes and configuration.

use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use clap::Subcommand;
use dispatch_domain::config::SETTINGS;
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
    },
    /// Print the route table: method, path, function and required permission.
    Routes,
    /// Print the configuration (secret ids only; secret values are never read here).
    Config,
}

/// Runs a `server` subcommand.
pub async fn run(command: ServerCommand) -> anyhow::Result<()> {
    match command {
        ServerCommand::Develop { host, port } => develop(SocketAddr::new(host, port)).await,
        ServerCommand::Routes => {
            print!("{}", routes_table());
            Ok(())
        }
        ServerCommand::Config => {
            print!("{}", config_table(|name| std::env::var(name).ok()));
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

async fn develop(address: SocketAddr) -> anyhow::Result<()> {
    let state = AppState::from_env().await?;
    let router = local_app(state)?;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("binding {address}"))?;
    println!("Dispatch API on http://{address}/api/v1 (Ctrl-C stops it)");
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

/// The configuration as text. Only names and ids: nothing here reads a secret's value.
pub fn config_table(lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    for setting in SETTINGS {
        let value = match (lookup(setting.name), setting.default) {
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
