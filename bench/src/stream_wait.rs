//! `vidgraph-bench stream`: how many messages a JetStream stream holds, optionally waiting
//! until it holds at least N — to time how far an outbox relay lags behind the writes that
//! feed it (a like is only done for `ranking` once its event is in the stream).

use anyhow::{Context, Result, bail};
use clap::Args;
use std::time::{Duration, Instant};

use crate::cli;

/// Arguments of the `stream` subcommand.
#[derive(Debug, Args)]
pub struct StreamArgs {
    /// NATS server.
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    pub nats_url: String,
    /// Stream name, e.g. vg_CONTENT_EVENTS.
    #[arg(long)]
    pub stream: String,
    /// Wait until the stream holds at least this many messages.
    #[arg(long)]
    pub wait_for: Option<u64>,
    /// Give up waiting after this long.
    #[arg(long, default_value = "60s", value_parser = cli::parse_duration)]
    pub timeout: Duration,
}

/// Prints `messages N`, and with `--wait-for`, `waited_ms T` once the count is reached.
pub async fn run(args: &StreamArgs) -> Result<String> {
    let client = async_nats::connect(args.nats_url.as_str()).await.context("connecting to NATS")?;
    let jetstream = async_nats::jetstream::new(client);
    let mut stream = jetstream.get_stream(&args.stream).await.context("opening the stream")?;
    let started = Instant::now();
    loop {
        let messages = stream.info().await.context("reading stream info")?.state.messages;
        match args.wait_for {
            None => return Ok(format!("messages {messages}\n")),
            Some(target) if messages >= target => {
                return Ok(format!("messages {messages}\nwaited_ms {}\n", started.elapsed().as_millis()));
            }
            Some(target) if started.elapsed() > args.timeout => {
                bail!("the stream holds {messages} messages after {:?}, not {target}", args.timeout)
            }
            Some(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}
