//! `vidgraph`: the one command-line entry point of the platform.

use clap::{Parser, Subcommand};
use platform::config::AppConfig;
use vidgraph::subgraphs::Subgraph;

#[derive(Parser)]
#[command(name = "vidgraph", version, about = "vidgraph: a federated GraphQL video and live-streaming backend")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run everything locally: keys, migrations, demo data, five subgraphs, the router and the web app.
    Dev(vidgraph::dev::DevOptions),
    /// Create the database if needed and apply pending migrations.
    Migrate,
    /// Insert the demo data that is missing (idempotent).
    Seed {
        /// Top the catalogue up to this many videos (benchmarks use 100000 or more).
        #[arg(long, default_value_t = content::seed::DEFAULT_VIDEOS)]
        videos: i64,
        /// Top the plain viewer accounts (viewer00001…) up to this many (load tests).
        #[arg(long, default_value_t = 0)]
        viewers: i64,
    },
    /// Recompute every community counter and point total and print each difference (exit 1 if any).
    CommunityCheck,
    /// Rebuild the hot rankings from Postgres now, in this process, and print how long it took.
    RecomputeRankings,
    /// Print access tokens of accounts whose username starts with a prefix (load tests).
    MintTokens {
        /// Username prefix, e.g. `viewer`.
        #[arg(long)]
        prefix: String,
        /// At most this many.
        #[arg(long, default_value_t = 1000)]
        count: i64,
    },
    /// Write schema/<subgraph>.graphql and compose schema/supergraph.graphql.
    Schema {
        /// Only check that the checked-in files are current; exit 1 if not.
        #[arg(long)]
        check: bool,
    },
    /// List or re-drive the messages consumers set aside (the dead-letter stream).
    DeadLetters {
        #[command(subcommand)]
        action: DeadLetterAction,
    },
    /// Serve one subgraph (production entry point).
    Serve {
        /// Which subgraph.
        subgraph: Subgraph,
    },
    /// Create the token signing keys if they do not exist yet.
    Keys,
    /// Play the payment provider (development): sign and post the callback that pays a recharge order.
    Pay {
        /// The order id `createRechargeOrder` returned.
        order_id: String,
        /// Base URL of the `live` subgraph.
        #[arg(long, default_value = "http://127.0.0.1:4004")]
        url: String,
    },
    /// Compare every wallet's balance and income with its ledger; exit 1 listing any difference.
    WalletCheck,
    /// Create an admin account, or promote an existing account with this e-mail.
    CreateAdmin {
        /// E-mail of the account.
        #[arg(long)]
        email: String,
        /// Username for a new account.
        #[arg(long)]
        username: String,
        /// Password for a new account (or set VIDGRAPH_ADMIN_PASSWORD).
        #[arg(long, env = "VIDGRAPH_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

#[derive(Subcommand)]
enum DeadLetterAction {
    /// Print dead letters, oldest first: id, time, consumer, origin, deliveries, subject, reason.
    List {
        /// Only this consumer's (`ranking-hot`, `ranking-weekstar-gifts`, `content-follows`).
        #[arg(long)]
        consumer: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        first: usize,
        /// Only those after this id.
        #[arg(long)]
        after: Option<u64>,
    },
    /// Publish dead letters to their original subjects again (after fixing the cause) and remove them.
    Redrive {
        /// Their ids (from `list`).
        #[arg(required = true)]
        ids: Vec<u64>,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = match AppConfig::load() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{error}");
            return std::process::ExitCode::from(2);
        }
    };
    platform::telemetry::init(&config.telemetry);
    match run(cli.command, config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: AppConfig) -> anyhow::Result<()> {
    match command {
        Command::Dev(options) => vidgraph::dev::run(config, options).await,
        Command::Migrate => vidgraph::db_admin::migrate(&config).await,
        Command::Seed { videos, viewers } => vidgraph::db_admin::seed(&config, content::seed::SeedSize { videos, viewers }).await,
        Command::CommunityCheck => vidgraph::community_admin::check(&config).await,
        Command::RecomputeRankings => vidgraph::db_admin::recompute_rankings(&config).await,
        Command::MintTokens { prefix, count } => vidgraph::db_admin::mint_tokens(&config, &prefix, count).await,
        Command::Schema { check } => {
            let root = vidgraph::paths::repo_root();
            if check {
                let stale = vidgraph::schema_files::stale_files(&root)?;
                if !stale.is_empty() {
                    anyhow::bail!("stale schema files (run `vidgraph schema`): {}", stale.join(", "));
                }
                println!("schema files are current");
                Ok(())
            } else {
                vidgraph::schema_files::write_all(&root)
            }
        }
        Command::DeadLetters { action: DeadLetterAction::List { consumer, first, after } } => {
            vidgraph::dead_letters::list(&config, consumer.as_deref(), first, after).await
        }
        Command::DeadLetters { action: DeadLetterAction::Redrive { ids } } => vidgraph::dead_letters::redrive(&config, &ids).await,
        Command::Serve { subgraph } => serve(subgraph, config).await,
        Command::Keys => {
            platform::auth::KeyPair::load_or_create(&config.auth.key_dir)?;
            println!("keys: {}", config.auth.key_dir.display());
            Ok(())
        }
        Command::Pay { order_id, url } => vidgraph::live_cli::pay(&config, &order_id, &url).await,
        Command::WalletCheck => vidgraph::live_cli::wallet_check(&config).await,
        Command::CreateAdmin { email, username, password } => vidgraph::db_admin::create_admin(&config, &email, &username, &password).await,
    }
}

/// telemetry → config → build → run.
async fn serve(subgraph: Subgraph, config: AppConfig) -> anyhow::Result<()> {
    let deps = platform::Deps::connect(config, subgraph.name()).await?;
    let application = subgraph.build(deps).await?;
    tracing::info!(subgraph = subgraph.name(), port = application.port(), "serving");
    application.run_until_stopped().await?;
    Ok(())
}
