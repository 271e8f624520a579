//! The `allmetrics` command line: `serve` (the default), `migrate`, `openapi`.

use clap::{Parser, Subcommand};

use crate::configuration::Settings;
use crate::startup::Application;
use crate::{db, openapi, telemetry};

#[derive(Debug, Parser)]
#[command(
    name = "allmetrics",
    version,
    about = "All your business metrics in one place"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API and the web app on one port (the default).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Print the OpenAPI document as YAML.
    Openapi,
}

pub async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    let command = cli.command.unwrap_or(Command::Serve);
    // Printing the spec must write nothing else to stdout.
    if let Command::Openapi = command {
        print!("{}", openapi::spec_yaml()?);
        return Ok(());
    }
    telemetry::init_subscriber(telemetry::get_subscriber(
        settings.environment,
        telemetry::DEFAULT_FILTER,
        std::io::stdout,
    ))?;
    match command {
        Command::Serve => {
            Application::build(settings)
                .await?
                .run_until_stopped()
                .await?
        }
        Command::Migrate => {
            let repository = db::connect(&settings.database).await?;
            repository.migrate().await?;
            repository.close().await;
            tracing::info!("migrations applied");
        }
        Command::Openapi => {}
    }
    Ok(())
}
