//! `allmetrics-loadtest`: the reliability suite's load generator and checker.
//!
//! - `load`: signs users up, connects each to a provider with an API key (their syncs start),
//!   gives each two metrics on their home dashboard, then lets them read dashboards, run queries,
//!   edit metrics and sign in for a while. It can take the database down and up in the middle
//!   (`--outage-*`): answers during the outage must be 503s, and the server must recover on its
//!   own. It prints requests, errors and latencies by route, and the server's memory.
//! - `connect`: one more user, connected (a fresh backfill starts).
//! - `wait-syncing`: waits until that user's backfill has stored objects but is not done.
//! - `verify`: waits for every backfill to end, then compares the objects stored for each
//!   connection with the provider's own lists: none lost, none stored twice.

mod load;
mod stats;
mod store;

use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "allmetrics-loadtest")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Load(load::LoadArgs),
    Connect(ConnectArgs),
    WaitSyncing(WaitArgs),
    Verify(store::VerifyArgs),
    /// Prints a free TCP port of 127.0.0.1.
    FreePort,
}

#[derive(Args, Clone)]
pub struct ConnectArgs {
    /// The server, e.g. http://127.0.0.1:8000.
    #[arg(long)]
    base: String,
    #[arg(long)]
    email: String,
    /// The source to connect with an API key.
    #[arg(long, default_value = "stripe")]
    slug: String,
    #[arg(long)]
    api_key: String,
}

#[derive(Args)]
struct WaitArgs {
    #[arg(long)]
    database_url: String,
    #[arg(long)]
    email: String,
    /// Objects the user's backfill must have stored.
    #[arg(long, default_value_t = 1)]
    min_objects: i64,
    #[arg(long, default_value_t = 120)]
    timeout_secs: u64,
}

pub const PASSWORD: &str = "correct horse battery staple";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Load(args) => load::run(args).await,
        Command::Connect(args) => {
            let client = load::http_client()?;
            let user = load::sign_up(&client, &args.base, &args.email).await?;
            load::connect(&client, &args.base, &user, &args.slug, &args.api_key).await?;
            println!("{} connected to {}", args.email, args.slug);
            Ok(())
        }
        Command::WaitSyncing(args) => {
            let store = store::Store::open(&args.database_url).await?;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(args.timeout_secs);
            loop {
                let (stored, pending) = store.backfill_of(&args.email).await?;
                if stored >= args.min_objects && pending > 0 {
                    println!(
                        "{}: {stored} objects stored, {pending} objects still backfilling",
                        args.email
                    );
                    return Ok(());
                }
                if pending == 0 && stored > 0 {
                    bail!(
                        "{}'s backfill ended before it could be interrupted ({stored} objects)",
                        args.email
                    );
                }
                if tokio::time::Instant::now() > deadline {
                    bail!(
                        "{}'s backfill did not start in {}s",
                        args.email,
                        args.timeout_secs
                    );
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Command::Verify(args) => store::verify(args).await,
        Command::FreePort => {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").context("no free port")?;
            println!("{}", listener.local_addr()?.port());
            Ok(())
        }
    }
}
