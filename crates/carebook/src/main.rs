//! The `carebook` binary: parses the command line, loads the settings, and hands over to the
//! library crates. See `carebook --help`.

mod admin;
mod cli;
mod logging;
mod seed;
mod seed_schedule;
mod serve;
mod settings;

use anyhow::Result;
use carebook_api::clock::{Clock, SystemClock};
use clap::Parser;
use cli::{AdminCommand, AuditCommand, Cli, Command};
use settings::Settings;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let serve_args = match &cli.command {
        Command::Serve(s) => Some(s),
        _ => None,
    };
    let settings = Settings::load(&cli.global, serve_args)?;
    logging::init(settings.log_format, &settings.log_level);
    tracing::debug!(?settings, "settings loaded");
    match cli.command {
        Command::Serve(args) => {
            serve::serve(settings, args.demo, serve::shutdown_on_signals()).await?
        }
        Command::Migrate => {
            let store = serve::open_store(&settings).await?;
            println!("migrations applied ({})", store.backend().as_str());
            store.close().await;
        }
        Command::Seed(_) => {
            let store = serve::open_store(&settings).await?;
            let added = seed::demo(&store, true, SystemClock.now()).await?;
            println!(
                "demo data: {added} rows added; every demo account's password is {}",
                seed::DEMO_PASSWORD
            );
            store.close().await;
        }
        Command::Worker => serve::worker(settings, serve::shutdown_on_signals()).await?,
        Command::Admin(AdminCommand::CreateUser(args)) => {
            let store = serve::open_store(&settings).await?;
            let user = admin::create_user(&store, args).await?;
            println!("created {} ({}) with id {}", user.email, user.role, user.id);
            store.close().await;
        }
        Command::Audit(AuditCommand::Verify) => {
            let store = serve::open_store(&settings).await?;
            let ok = admin::verify(&store).await?;
            store.close().await;
            if !ok {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Jobs(cmd) => {
            let store = serve::open_store(&settings).await?;
            let ok = admin::jobs(&store, cmd, SystemClock.now()).await?;
            store.close().await;
            if !ok {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Openapi => {
            println!(
                "{}",
                serde_json::to_string_pretty(&carebook_api::openapi())?
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
