//! `vidgraph-bench`: the load tool for vidgraph's GraphQL API.
//!
//! `http` measures request throughput and latency of one operation;
//! `subscribe` measures how fast a mutation's event reaches N WebSocket
//! subscribers; `stream` counts (and waits for) JetStream messages; `baseline` serves the
//! read path written by hand, to measure the GraphQL path against. See `bench/README.md`.

mod cli;
mod cpu;
mod graphql;
mod http_load;
mod like_rank;
mod progress_latency;
mod read_baseline;
mod report;
mod stats;
mod stream_wait;
mod subscribe_load;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::report::Render;

/// Load tool for vidgraph's GraphQL API.
#[derive(Debug, Parser)]
#[command(name = "vidgraph-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Closed-loop load of one GraphQL operation over HTTP.
    Http(http_load::HttpArgs),
    /// Subscription delivery latency over graphql-transport-ws.
    Subscribe(subscribe_load::SubscribeArgs),
    /// Message count of a JetStream stream, optionally waiting for a count.
    Stream(stream_wait::StreamArgs),
    /// Latency from a like to the video's new hot value being visible.
    LikeRank(like_rank::LikeRankArgs),
    /// Latency from a download's progress publish to its subscriber through the router.
    ProgressLatency(progress_latency::ProgressLatencyArgs),
    /// Serves the hot ranking and feed pages written by hand (the read path's baseline).
    Baseline(read_baseline::BaselineArgs),
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let (text, json) = match &cli.command {
        Command::Stream(args) => (stream_wait::run(args).await?, None),
        Command::LikeRank(args) => (like_rank::run(args).await?, None),
        Command::ProgressLatency(args) => (progress_latency::run(args).await?, None),
        Command::Baseline(args) => return read_baseline::serve(args).await,
        Command::Http(args) => {
            let report = http_load::run(args).await?;
            (report.to_text(), args.json.then(|| report.to_json_line()).transpose()?)
        }
        Command::Subscribe(args) => {
            let report = subscribe_load::run(args).await?;
            (report.to_text(), args.json.then(|| report.to_json_line()).transpose()?)
        }
    };
    // Reports go to stdout, progress to stderr, so `--json > runs.jsonl` collects clean lines.
    match json {
        Some(line) => println!("{line}"),
        None => print!("{text}"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn http_arguments_parse_with_defaults_and_units() {
        let cli = Cli::try_parse_from([
            "vidgraph-bench",
            "http",
            "--url",
            "http://127.0.0.1:4000/graphql",
            "--operation",
            "me.graphql",
            "--duration",
            "500ms",
            "--header",
            "X-A: 1",
            "--header",
            "X-B: 2",
        ])
        .expect("valid arguments");
        let Command::Http(args) = cli.command else { panic!("expected http") };
        assert_eq!(args.duration, Duration::from_millis(500));
        assert_eq!(args.warmup, Duration::from_secs(2));
        assert_eq!(args.concurrency, 32);
        assert_eq!(args.headers, ["X-A: 1", "X-B: 2"]);
        assert!(!args.json);
    }

    #[test]
    fn bad_durations_and_conflicting_variables_are_refused() {
        let base = ["vidgraph-bench", "http", "--url", "u", "--operation", "o"];
        let with = |extra: &[&'static str]| Cli::try_parse_from(base.iter().chain(extra));
        assert!(with(&["--duration", "10"]).is_err());
        assert!(with(&["--concurrency", "0"]).is_err());
        assert!(with(&["--variables", "{}", "--variables-file", "v.json"]).is_err());
        assert!(with(&["--duration", "2m"]).is_ok());
    }

    #[test]
    fn subscribe_arguments_parse_with_defaults() {
        let cli = Cli::try_parse_from([
            "vidgraph-bench",
            "subscribe",
            "--ws-url",
            "ws://127.0.0.1:4000/ws",
            "--subscription",
            "s.graphql",
            "--subscribers",
            "10",
            "--trigger-url",
            "http://127.0.0.1:4000/graphql",
            "--trigger",
            "t.graphql",
        ])
        .expect("valid arguments");
        let Command::Subscribe(args) = cli.command else { panic!("expected subscribe") };
        assert_eq!(args.subscribers, 10);
        assert_eq!(args.events, 100);
        assert_eq!(args.interval, Duration::from_millis(50));
        assert_eq!(args.timeout, Duration::from_secs(60));
        assert_eq!(args.probe_interval, Duration::from_millis(100));
    }
}
