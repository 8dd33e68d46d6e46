//! `dispatch`: the admin CLI.

use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = dispatch_cli::Cli::parse();
    if let Err(error) = dispatch_cli::run(cli).await {
        eprintln!("ERROR: {error:#}");
        std::process::exit(1);
    }
}
