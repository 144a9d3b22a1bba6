//! `vidgraph-bench like-rank`: how long a like takes to show in the rankings.
//!
//! For each sample a distinct viewer likes the video through the router; the tool then reads
//! `video(id) { hotValue }` through the router (content resolves the video, ranking its hot
//! value) until the value changes. The latency runs from sending the like to the first read
//! that shows the new value: the like request, the outbox relay, JetStream, ranking's consumer
//! and Redis are all inside it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::{Value, json};

use crate::cli;
use crate::stats::LatencySummary;

/// Arguments of the `like-rank` subcommand.
#[derive(Debug, Args)]
pub struct LikeRankArgs {
    /// GraphQL endpoint of the router.
    #[arg(long, default_value = "http://127.0.0.1:4000/graphql")]
    pub url: String,
    /// The video to like (a fresh one: every like must be a first like).
    #[arg(long)]
    pub video: String,
    /// Bearer tokens of distinct viewers, one per line; sample i uses line i.
    #[arg(long)]
    pub tokens_file: PathBuf,
    /// Number of likes to time.
    #[arg(long, default_value_t = 200)]
    pub samples: usize,
    /// Give up on one sample after this long.
    #[arg(long, default_value = "10s", value_parser = cli::parse_duration)]
    pub timeout: Duration,
}

async fn post(client: &reqwest::Client, url: &str, query: &str, variables: Value, token: Option<&str>) -> Result<Value> {
    let mut request = client.post(url).json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let body: Value = request.send().await?.json().await?;
    if body.get("errors").is_some_and(|errors| !errors.is_null()) {
        bail!("GraphQL errors: {body}");
    }
    Ok(body)
}

async fn hot_value(client: &reqwest::Client, url: &str, video: &str) -> Result<Option<i64>> {
    let body = post(client, url, "query($id: ID!) { video(id: $id) { hotValue } }", json!({ "id": video }), None).await?;
    Ok(body.pointer("/data/video/hotValue").and_then(Value::as_i64))
}

/// Runs the samples and prints the latency summary.
pub async fn run(args: &LikeRankArgs) -> Result<String> {
    let tokens = cli::read_tokens(&args.tokens_file)?;
    if tokens.len() < args.samples {
        bail!("{} samples need {} distinct viewer tokens; the file has {}", args.samples, args.samples, tokens.len());
    }
    let client = reqwest::Client::builder().tcp_nodelay(true).build().context("HTTP client")?;
    let like = "mutation($id: ID!) { likeVideo(id: $id) { id } }";
    let mut latencies = Vec::with_capacity(args.samples);
    let mut polls = 0u64;
    for token in tokens.iter().take(args.samples) {
        let before = hot_value(&client, &args.url, &args.video).await?;
        let started = Instant::now();
        post(&client, &args.url, like, json!({ "id": args.video }), Some(token)).await?;
        loop {
            polls += 1;
            if hot_value(&client, &args.url, &args.video).await? != before {
                latencies.push(started.elapsed());
                break;
            }
            if started.elapsed() > args.timeout {
                bail!("a like did not reach the ranking within {:?}", args.timeout);
            }
        }
    }
    let summary = LatencySummary::from_samples(&mut latencies).context("no samples")?;
    Ok(format!(
        "like_to_rank_ms p50={:.1} p90={:.1} p99={:.1} max={:.1} (n={}, {:.1} reads per like)\n",
        summary.p50,
        summary.p90,
        summary.p99,
        summary.max,
        summary.samples,
        polls as f64 / summary.samples as f64
    ))
}
