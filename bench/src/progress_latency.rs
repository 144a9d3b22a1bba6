//! `vidgraph-bench progress-latency`: how long a download's progress event takes from its
//! publish in an `assets` worker to a subscriber of `downloadProgress` through the router.
//!
//! One WebSocket per task (`graphql-transport-ws`), each subscribed to its task. Every
//! `PROGRESS` event carries `at`, the instant the worker built it just before publishing on
//! NATS; the latency is the receive instant minus `at`. Worker and subscriber run on one
//! machine, so they read the same clock. The current state a subscriber gets first (a replay
//! of the last event, not a publish) is skipped, as is every event that is not `PROGRESS`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use futures::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::http::header::SEC_WEBSOCKET_PROTOCOL;

use crate::cli;
use crate::stats::LatencySummary;

const SUBSCRIPTION: &str = "subscription($id: ID!) { downloadProgress(taskId: $id) { kind at } }";

/// Arguments of the `progress-latency` subcommand.
#[derive(Debug, Args)]
pub struct ProgressLatencyArgs {
    /// WebSocket endpoint of the router, e.g. ws://127.0.0.1:4000/ws.
    #[arg(long)]
    pub ws_url: String,
    /// Bearer token of the tasks' owner.
    #[arg(long)]
    pub token: String,
    /// File with one task id per line.
    #[arg(long)]
    pub tasks_file: PathBuf,
    /// How long to measure.
    #[arg(long, default_value = "20s", value_parser = cli::parse_duration)]
    pub duration: Duration,
}

/// Subscribes to every task and measures until `duration` passes; prints the summary.
pub async fn run(args: &ProgressLatencyArgs) -> Result<String> {
    let tasks: Vec<String> = std::fs::read_to_string(&args.tasks_file)
        .with_context(|| format!("reading {}", args.tasks_file.display()))?
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect();
    if tasks.is_empty() {
        bail!("no task ids in {}", args.tasks_file.display());
    }
    let deadline = tokio::time::Instant::now() + args.duration;
    let readers = tasks.iter().map(|task| {
        let (url, token, task) = (args.ws_url.clone(), args.token.clone(), task.clone());
        tokio::spawn(async move { watch(&url, &token, &task, deadline).await })
    });
    let mut samples = Vec::new();
    let mut failures = 0_usize;
    for reader in futures::future::join_all(readers).await {
        match reader {
            Ok(Ok(mut latencies)) => samples.append(&mut latencies),
            Ok(Err(error)) => {
                failures += 1;
                eprintln!("a subscriber failed: {error:#}");
            }
            Err(error) => {
                failures += 1;
                eprintln!("a subscriber panicked: {error}");
            }
        }
    }
    let summary = LatencySummary::from_samples(&mut samples);
    Ok(match summary {
        Some(summary) => format!(
            "progress latency (publish → subscriber through the router): {} events from {} tasks, {failures} subscribers failed\n\
             p50 {:.1} ms  p90 {:.1} ms  p99 {:.1} ms  max {:.1} ms  mean {:.1} ms\n",
            summary.samples,
            tasks.len(),
            summary.p50,
            summary.p90,
            summary.p99,
            summary.max,
            summary.mean
        ),
        None => format!("no progress events measured from {} tasks ({failures} subscribers failed)\n", tasks.len()),
    })
}

/// One subscriber: the latencies of its task's `PROGRESS` events until `deadline`.
async fn watch(url: &str, token: &str, task: &str, deadline: tokio::time::Instant) -> Result<Vec<Duration>> {
    let mut request = url.into_client_request()?;
    request.headers_mut().insert(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static("graphql-transport-ws"));
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(request, None, true).await?;
    let init = json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {token}")}});
    ws.send(Message::text(init.to_string())).await?;
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION, "variables": {"id": task}}});
    let mut subscribed = false;
    let mut first = true;
    let mut latencies = Vec::new();
    loop {
        let message = match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) | Ok(None) => break,
            Ok(Some(message)) => message?,
        };
        let received = chrono::Utc::now();
        let Message::Text(text) = message else { continue };
        let value: serde_json::Value = serde_json::from_str(text.as_str())?;
        match value["type"].as_str() {
            Some("connection_ack") if !subscribed => {
                ws.send(Message::text(subscribe.to_string())).await?;
                subscribed = true;
            }
            Some("ping") => ws.send(Message::text(json!({"type": "pong"}).to_string())).await?,
            Some("next") => {
                let event = &value["payload"]["data"]["downloadProgress"];
                // The first event is the current state, replayed rather than published.
                if std::mem::take(&mut first) || event["kind"] != "PROGRESS" {
                    continue;
                }
                let at = event["at"].as_str().context("an event without `at`")?;
                let at = chrono::DateTime::parse_from_rfc3339(at)?.with_timezone(&chrono::Utc);
                latencies.push((received - at).to_std().unwrap_or_default());
            }
            Some("complete") => break,
            Some("error") => bail!("subscription error: {text}"),
            _ => {}
        }
    }
    let _ = ws.close(None).await;
    Ok(latencies)
}
