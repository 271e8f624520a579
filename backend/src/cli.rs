//! The `allmetrics` command line: `serve` (the default), `migrate`, `openapi`, `admin ...`.

use std::io::Write;
use std::path::{Path, PathBuf};

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
    /// Write the secrets `production` requires, a new JWT secret (APP_AUTH__JWT_SECRET) and a new
    /// token-encryption key (APP_SECURITY__TOKEN_KEYS), to a .env file (created or updated; mode
    /// 0600; its other lines are kept). Prints the names it wrote, never the values.
    InitEnv {
        /// The file to write.
        #[arg(long, default_value = ".env")]
        path: PathBuf,
        /// Replace values the file already sets. Provider tokens stored under the old key can no
        /// longer be read: to change keys, use `generate-key` and `rotate-keys` instead.
        #[arg(long)]
        force: bool,
    },
}

/// The secrets `admin init-env` writes.
const JWT_SECRET_VARIABLE: &str = "APP_AUTH__JWT_SECRET";
const TOKEN_KEYS_VARIABLE: &str = "APP_SECURITY__TOKEN_KEYS";

pub async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    let command = cli.command.unwrap_or(Command::Serve);
    // Printing the spec must write nothing else to stdout.
    if let Command::Openapi = command {
        print!("{}", openapi::spec_yaml()?);
        return Ok(());
    }
    // Needs no database and no settings: it writes the settings `production` lacks.
    if let Command::Admin {
        command: AdminCommand::InitEnv { path, force },
    } = &command
    {
        return init_env(path, *force);
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
        Command::Openapi
        | Command::Admin {
            command: AdminCommand::InitEnv { .. },
        } => {}
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

/// `admin init-env`: new secrets for `production`, written to `path`.
fn init_env(path: &Path, force: bool) -> anyhow::Result<()> {
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => anyhow::bail!("cannot read {}: {error}", path.display()),
    };
    let secrets = [
        (JWT_SECRET_VARIABLE, crate::secrets::random_token(48)?),
        (TOKEN_KEYS_VARIABLE, crate::crypto::generate_key_entry("1")?),
    ];
    let already_set: Vec<&str> = secrets
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| env_file_value(&existing, name).is_some_and(|value| !value.is_empty()))
        .collect();
    if !already_set.is_empty() && !force {
        anyhow::bail!(
            "{} already sets {}; nothing was written. `--force` replaces the values (provider \
             tokens stored under the old key could no longer be read: to change keys, use \
             `allmetrics admin generate-key` and `allmetrics admin rotate-keys`)",
            path.display(),
            already_set.join(" and ")
        );
    }
    let mut text = existing;
    for (name, value) in &secrets {
        text = set_env_file_value(&text, name, value);
    }
    write_private_file(path, &text)?;
    println!(
        "wrote {} and {} to {} (mode 0600){}",
        JWT_SECRET_VARIABLE,
        TOKEN_KEYS_VARIABLE,
        path.display(),
        if already_set.is_empty() {
            String::new()
        } else {
            format!(", replacing {}", already_set.join(" and "))
        }
    );
    Ok(())
}

/// The value an env file assigns to `name` (the last assignment wins, as in dotenv); commented
/// lines assign nothing.
fn env_file_value<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines()
        .rev()
        .find_map(|line| assignment(line, name))
        .map(|value| value.trim().trim_matches(['"', '\'']))
}

/// The value of `line` when it assigns `name` (`NAME=value` or `export NAME=value`).
fn assignment<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let line = line.trim_start();
    let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
    let rest = line.strip_prefix(name)?;
    rest.trim_start().strip_prefix('=')
}

/// `text` with `name` set to `value`: its assignments replaced in place, or a line appended.
fn set_env_file_value(text: &str, name: &str, value: &str) -> String {
    let entry = format!("{name}={value}");
    let mut replaced = false;
    let mut lines: Vec<String> = text
        .lines()
        .filter_map(|line| {
            if assignment(line, name).is_none() {
                return Some(line.to_string());
            }
            if replaced {
                return None;
            }
            replaced = true;
            Some(entry.clone())
        })
        .collect();
    if !replaced {
        lines.push(entry);
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// Replaces `path` with `contents`, readable by its owner only: written beside it, then renamed
/// over it, so that a failure leaves the old file whole.
fn write_private_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| anyhow::anyhow!("{} is not a file name", path.display()))?;
    let mut partial_name = name.to_os_string();
    partial_name.push(".partial");
    let partial = path.with_file_name(partial_name);
    if let Err(error) = write_private(&partial, contents) {
        let _ = std::fs::remove_file(&partial);
        anyhow::bail!("cannot write {}: {error}", path.display());
    }
    std::fs::rename(&partial, path)
        .map_err(|error| anyhow::anyhow!("cannot write {}: {error}", path.display()))
}

/// Creates or truncates `path`, mode 0600, with `contents`.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(contents.as_bytes())?;
    file.sync_all()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_file_assignments_are_read_as_dotenv_reads_them() {
        let text = "# APP_AUTH__JWT_SECRET=commented\nAPP_AUTH__JWT_SECRET_OLD=x\n\
                    export APP_AUTH__JWT_SECRET = \"first\"\nAPP_AUTH__JWT_SECRET=second\n";
        assert_eq!(env_file_value(text, "APP_AUTH__JWT_SECRET"), Some("second"));
        assert_eq!(
            env_file_value("# APP_AUTH__JWT_SECRET=x\n", "APP_AUTH__JWT_SECRET"),
            None
        );
        assert_eq!(
            env_file_value("APP_AUTH__JWT_SECRET=\n", "APP_AUTH__JWT_SECRET"),
            Some("")
        );
    }

    #[test]
    fn setting_a_value_keeps_every_other_line() {
        let text = "RUST_LOG=info\n# APP_AUTH__JWT_SECRET=\nAPP_AUTH__JWT_SECRET=old\nB=1\n\
                    APP_AUTH__JWT_SECRET=older";
        assert_eq!(
            set_env_file_value(text, "APP_AUTH__JWT_SECRET", "new"),
            "RUST_LOG=info\n# APP_AUTH__JWT_SECRET=\nAPP_AUTH__JWT_SECRET=new\nB=1\n"
        );
        assert_eq!(set_env_file_value("", "A", "1"), "A=1\n");
        assert_eq!(set_env_file_value("B=2", "A", "1"), "B=2\nA=1\n");
    }

    #[test]
    fn init_env_writes_both_secrets_privately_and_refuses_to_replace_them() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join(".env");
        std::fs::write(&path, "RUST_LOG=info\n").unwrap();
        init_env(&path, false).unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        assert!(written.starts_with("RUST_LOG=info\n"));
        let secret = env_file_value(&written, JWT_SECRET_VARIABLE)
            .unwrap()
            .to_string();
        assert!(secret.len() >= 32);
        let keys = env_file_value(&written, TOKEN_KEYS_VARIABLE)
            .unwrap()
            .to_string();
        assert!(crate::crypto::TokenCipher::from_spec(&keys).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        let refused = init_env(&path, false).unwrap_err().to_string();
        assert!(refused.contains("--force"), "{refused}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), written);

        init_env(&path, true).unwrap();
        let replaced = std::fs::read_to_string(&path).unwrap();
        assert_ne!(
            env_file_value(&replaced, JWT_SECRET_VARIABLE),
            Some(secret.as_str())
        );
        assert_eq!(replaced.lines().count(), 3);
    }
}
