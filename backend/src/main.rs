use clap::Parser;

fn main() -> anyhow::Result<()> {
    // Before any thread of the runtime allocates.
    allmetrics::allocator::share_arenas_between_threads();
    let cli = allmetrics::cli::Cli::parse();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let settings = allmetrics::configuration::get_configuration()?;
            allmetrics::cli::run(cli, settings).await
        })
}
