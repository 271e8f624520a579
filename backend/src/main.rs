use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = allmetrics::cli::Cli::parse();
    let settings = allmetrics::configuration::get_configuration()?;
    allmetrics::cli::run(cli, settings).await
}
