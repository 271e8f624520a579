//! The `allmetrics` command line: `serve` (the default), `migrate`, `openapi`.

use clap::{Parser, Subcommand};

use crate::configuration::Settings;
use crate::domain::Role;
use crate::startup::Application;
use crate::{auth, db, openapi, telemetry};

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
    /// Administration for headless installs.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an account; the password is read from standard input (one line).
    CreateUser {
        #[arg(long)]
        email: String,
        /// Make the account an administrator.
        #[arg(long)]
        admin: bool,
    },
    /// Re-encrypt every stored provider token with the newest key of APP_SECURITY__TOKEN_KEYS.
    RotateKeys,
    /// Print a new random token-encryption key entry (`id:base64`) to put first in
    /// APP_SECURITY__TOKEN_KEYS.
    GenerateKey {
        /// The new key's id.
        #[arg(long)]
        id: String,
    },
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
        Command::Admin {
            command: AdminCommand::CreateUser { email, admin },
        } => create_user(&settings, &email, admin).await?,
        Command::Admin {
            command: AdminCommand::RotateKeys,
        } => {
            let cipher = crate::crypto::token_cipher(&settings)?;
            let repository = db::connect(&settings.database).await?;
            repository.migrate().await?;
            let result = crate::tokens::rotate_keys(repository.as_ref(), &cipher).await;
            repository.close().await;
            let (rotated, current) = result?;
            println!(
                "re-encrypted {rotated} connection(s) with key `{}`; {current} already used it",
                cipher.current_key_id()
            );
        }
        Command::Admin {
            command: AdminCommand::GenerateKey { id },
        } => println!("{}", crate::crypto::generate_key_entry(&id)?),
    }
    Ok(())
}

async fn create_user(settings: &Settings, email: &str, admin: bool) -> anyhow::Result<()> {
    let mut password = String::new();
    std::io::stdin().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']).to_string();
    let repository = db::connect(&settings.database).await?;
    repository.migrate().await?;
    let role = if admin { Role::Admin } else { Role::User };
    let result = auth::create_account(
        repository.as_ref(),
        email,
        secrecy::SecretString::from(password),
        Some(role),
    )
    .await;
    repository.close().await;
    let user = result.map_err(|error| anyhow::anyhow!("{} ({})", error, error.code()))?;
    println!(
        "created {} user {} (id {})",
        role.as_str(),
        user.email,
        user.id
    );
    Ok(())
}
