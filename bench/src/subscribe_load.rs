//! `vidgraph-bench subscribe`: subscription fan-out and delivery latency.
//!
//! The run has four phases, all bounded by one overall `--timeout`:
//!
//! 1. **connect** — N WebSockets speaking `graphql-transport-ws`
//!    (`connection_init` → `connection_ack` → `subscribe`), a bounded number
//!    at a time; each gets a reader task at once so `ping`s are answered.
//! 2. **sync** — the protocol has no "subscribed" acknowledgement, so instead
//!    of sleeping and hoping, a *probe* trigger is sent every `--probe-interval`
//!    until every subscriber has received at least one event. Probe events are
//!    then discarded.
//! 3. **send** — `--events` triggers are POSTed one after another, paced by
//!    `--interval`, each send instant recorded.
//! 4. **drain** — wait until every subscriber has every event (or `--drain`
//!    passes), then close and match receive instants to send instants.
//!
//! Matching: when the trigger variables contain `{{seq}}`, each trigger
//! carries a unique marker (e.g. `vgb1f2e3d4c-m17`) that the subscription
//! payload echoes back, so events are matched exactly ("tagged"). Otherwise
//! the k-th measured event at a subscriber is matched to the k-th trigger
//! ("ordinal"), which relies on in-order delivery per subscription.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, ensure};
use clap::Args;
use futures::{SinkExt, StreamExt};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::json;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::header::SEC_WEBSOCKET_PROTOCOL;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::cli;
use crate::cpu;
use crate::graphql::{self, Failure};
use crate::report::{CpuWindow, SubscribeReport};
use crate::stats::{ErrorTally, LatencySummary, ratio, round3, to_ms};

/// The WebSocket subprotocol of graphql-ws, the one Hive Router and
/// async-graphql speak.
const SUBPROTOCOL: &str = "graphql-transport-ws";
/// Placeholder in `--trigger-variables` replaced by a per-trigger marker.
const SEQ_PLACEHOLDER: &str = "{{seq}}";
/// Operation id of the single subscription each connection carries.
const SUBSCRIPTION_ID: &str = "1";
/// How often the coordinator re-checks the shared counters. Polling keeps the
/// code simple; 5 ms is far below the latencies being measured.
const POLL: Duration = Duration::from_millis(5);
/// Ordinal matching only: after sync, no event may arrive for this long before
/// measuring starts, so a late probe event is not taken for the first trigger.
const QUIET: Duration = Duration::from_millis(250);
/// Upper bound on the quiet wait, in case something keeps sending events.
const QUIET_MAX: Duration = Duration::from_secs(3);
/// How long a subscriber may take to close politely at the end.
const CLOSE_GRACE: Duration = Duration::from_millis(500);

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Arguments of the `subscribe` subcommand.
#[derive(Debug, Args)]
pub struct SubscribeArgs {
    /// WebSocket endpoint, e.g. ws://127.0.0.1:4000/ws.
    #[arg(long)]
    pub ws_url: String,
    /// File holding the subscription document.
    #[arg(long)]
    pub subscription: PathBuf,
    /// Subscription variables as an inline JSON object.
    #[arg(long)]
    pub variables: Option<String>,
    /// Number of WebSocket subscribers.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub subscribers: u32,
    /// GraphQL HTTP endpoint the trigger mutation is POSTed to.
    #[arg(long)]
    pub trigger_url: String,
    /// File holding the trigger mutation.
    #[arg(long)]
    pub trigger: PathBuf,
    /// Trigger variables as an inline JSON object; `{{seq}}` inside a string is
    /// replaced by a unique marker per trigger, enabling exact matching.
    #[arg(long)]
    pub trigger_variables: Option<String>,
    /// Measured triggers to send.
    #[arg(long, default_value_t = 100)]
    pub events: u64,
    /// Pause between the starts of two triggers (sent sequentially).
    #[arg(long, default_value = "50ms", value_parser = cli::parse_duration)]
    pub interval: Duration,
    /// Bearer tokens for subscribers, one per line; subscriber i uses token i % n.
    #[arg(long)]
    pub tokens_file: Option<PathBuf>,
    /// Match events k-th to k-th even when `{{seq}}` is substituted (for events whose payload
    /// cannot carry the marker, while each trigger still needs a unique value, e.g. an
    /// idempotency key).
    #[arg(long)]
    pub ordinal: bool,
    /// Bearer tokens for the trigger mutation, one per line; trigger n uses token n % count
    /// (spreads per-user rate limits, e.g. of chat messages, over many senders). Overrides
    /// `--trigger-token`.
    #[arg(long)]
    pub trigger_tokens_file: Option<PathBuf>,
    /// Bearer token for the trigger mutation.
    #[arg(long)]
    pub trigger_token: Option<String>,
    /// Overall bound on the run; on expiry, what was measured is reported.
    #[arg(long, default_value = "60s", value_parser = cli::parse_duration)]
    pub timeout: Duration,
    /// A process whose CPU time while events flow (from the first measured trigger until
    /// drained) is reported, as `NAME=PID` (repeatable); the load tool's own is always
    /// reported, as `load tool`.
    #[arg(long = "cpu-of", value_parser = cpu::parse_target)]
    pub cpu_of: Vec<(String, u32)>,
    /// Pause between probe triggers while waiting for every subscriber to be live.
    #[arg(long, default_value = "100ms", value_parser = cli::parse_duration)]
    pub probe_interval: Duration,
    /// How long to wait after the last trigger for events still on their way.
    #[arg(long, default_value = "5s", value_parser = cli::parse_duration)]
    pub drain: Duration,
    /// How many WebSockets may be opening at the same time.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub connect_concurrency: u32,
    /// Print the report as one JSON line instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Which trigger an event answers, read from the marker in its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    /// No marker (ordinal matching, or an event nobody in this run caused).
    None,
    /// The n-th synchronisation probe.
    Probe(u64),
    /// The n-th measured trigger.
    Measured(u64),
}

/// One `next` message as a subscriber saw it.
#[derive(Debug, Clone, Copy)]
struct Received {
    at: Instant,
    tag: Tag,
}

/// Counters the reader tasks update and the coordinator polls.
struct Shared {
    /// `Some("vgb<nonce>-")` in tagged mode: the prefix every marker starts with.
    marker_prefix: Option<String>,
    /// Events are matched k-th to k-th (no marker, or `--ordinal`).
    ordinal: bool,
    /// Live subscribers that have not received any event yet.
    unprimed: AtomicUsize,
    /// Subscribers whose reader task is still running.
    alive: AtomicUsize,
    /// Events of any kind received so far, to detect quiet periods.
    received: AtomicU64,
    /// Measured events received so far, to know when delivery is complete.
    measured: AtomicU64,
    /// Ordinal mode: events received from this instant on are measured.
    measure_from: OnceLock<Instant>,
}

impl Shared {
    fn tag_of(&self, text: &str) -> Tag {
        self.marker_prefix.as_deref().map_or(Tag::None, |prefix| parse_tag(text, prefix))
    }

    fn is_measured(&self, event: Received) -> bool {
        match event.tag {
            Tag::Measured(_) => true,
            Tag::Probe(_) => false,
            Tag::None => self.ordinal && self.measure_from.get().is_some_and(|from| event.at >= *from),
        }
    }
}

/// What one subscriber's reader task hands back.
#[derive(Default)]
struct SubscriberOutcome {
    events: Vec<Received>,
    errors: ErrorTally,
}

/// Everything prepared from the arguments before any connection opens.
struct Plan {
    ws_url: String,
    subscribe_payload: serde_json::Value,
    tokens: Vec<String>,
    trigger_url: String,
    /// The trigger request body with `{{seq}}` still in it.
    trigger_template: String,
    trigger_token: Option<HeaderValue>,
    /// From `--trigger-tokens-file`: trigger n uses entry n % len.
    trigger_tokens: Vec<HeaderValue>,
}

/// Runs the benchmark and returns its report.
pub async fn run(args: &SubscribeArgs) -> Result<SubscribeReport> {
    let plan = prepare(args)?;
    let started = Instant::now();
    let deadline = started + args.timeout;
    let marker_prefix = plan.trigger_template.contains(SEQ_PLACEHOLDER).then(|| format!("vgb{}-", nonce()));
    let shared = Arc::new(Shared {
        ordinal: args.ordinal || marker_prefix.is_none(),
        marker_prefix,
        unprimed: AtomicUsize::new(0),
        alive: AtomicUsize::new(0),
        received: AtomicU64::new(0),
        measured: AtomicU64::new(0),
        measure_from: OnceLock::new(),
    });
    let client = reqwest::Client::builder()
        .http1_only()
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(5))
        .build()
        .context("building the HTTP client")?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut errors = ErrorTally::default();
    let mut timed_out = false;

    // Phase 1: connect.
    let requested = usize::try_from(args.subscribers).context("--subscribers too large")?;
    eprintln!("subscribe: connecting {requested} subscribers to {}", plan.ws_url);
    let concurrency = usize::try_from(args.connect_concurrency).context("--connect-concurrency too large")?;
    let connected = connect_all(&plan, requested, concurrency, &shared, &stop_rx, deadline).await;
    let connect_all_ms = to_ms(started.elapsed());
    let mut connect_times = Vec::new();
    let mut readers = Vec::new();
    for result in connected {
        match result {
            Ok((took, reader)) => {
                connect_times.push(took);
                readers.push(reader);
            }
            Err((failure, at)) => errors.record(&failure.kind, &failure.detail, at),
        }
    }
    timed_out |= Instant::now() >= deadline;

    // Phase 2: sync, by probing until every subscriber has seen an event.
    let mut probes = 0;
    let mut sync_ms = None;
    if !readers.is_empty() && !timed_out {
        eprintln!("subscribe: {} connected, probing until all receive an event", readers.len());
        let sync_started = Instant::now();
        let synced = loop {
            if shared.unprimed.load(Ordering::Acquire) == 0 {
                break shared.alive.load(Ordering::Acquire) > 0;
            }
            if Instant::now() >= deadline {
                timed_out = true;
                let silent = shared.unprimed.load(Ordering::Acquire);
                let detail = format!("{silent} of {} subscribers received no probe event", readers.len());
                errors.record("sync_timeout", &detail, Instant::now());
                break false;
            }
            let next_probe = Instant::now() + args.probe_interval;
            let body = plan.trigger_body(shared.marker_prefix.as_deref(), 'p', probes);
            let sender = probes;
            probes += 1;
            if let Err(Failure { kind, detail }) = send_trigger(&client, &plan, body, sender, deadline).await {
                errors.record(&format!("probe:{kind}"), &detail, Instant::now());
            }
            wait_until(next_probe.min(deadline), || shared.unprimed.load(Ordering::Acquire) == 0).await;
        };
        if synced {
            sync_ms = Some(to_ms(sync_started.elapsed()));
            if shared.ordinal {
                wait_for_quiet(&shared, deadline).await;
            }
            // Marks sync as done (phase 3 runs only once it is set) and, in
            // ordinal mode, is the cut-off before which events are probes.
            let _ = shared.measure_from.set(Instant::now());
        }
    }

    // Phase 3: send the measured triggers.
    let mut sends = Vec::new();
    let mut trigger_errors = 0;
    let mut flowing_since = None;
    if shared.measure_from.get().is_some() && !timed_out {
        eprintln!("subscribe: sending {} triggers every {:?}", args.events, args.interval);
        flowing_since = Some((Instant::now(), cpu::Snapshot::take(&args.cpu_of)));
        let mut ticker = tokio::time::interval(args.interval);
        // A trigger slower than the interval delays the next one rather than
        // causing a burst: triggers stay sequential and evenly spaced.
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        for seq in 0..args.events {
            ticker.tick().await;
            if Instant::now() >= deadline {
                timed_out = true;
                break;
            }
            let body = plan.trigger_body(shared.marker_prefix.as_deref(), 'm', seq);
            sends.push(Instant::now());
            if let Err(Failure { kind, detail }) = send_trigger(&client, &plan, body, probes + seq, deadline).await {
                trigger_errors += 1;
                errors.record(&format!("trigger:{kind}"), &detail, Instant::now());
            }
        }
    }

    // Phase 4: drain what is still on its way, then stop the readers.
    let events_sent = sends.len() as u64;
    let subscribers_connected = readers.len();
    let expected = events_sent * subscribers_connected as u64;
    if !sends.is_empty() {
        // Failed triggers cause no event: do not wait for them.
        let awaited = events_sent.saturating_sub(trigger_errors) * subscribers_connected as u64;
        let drain_until = (Instant::now() + args.drain).min(deadline);
        wait_until(drain_until, || shared.measured.load(Ordering::Acquire) >= awaited || shared.alive.load(Ordering::Acquire) == 0).await;
        timed_out |= Instant::now() >= deadline && shared.measured.load(Ordering::Acquire) < awaited;
        // Marks the end of the flowing phase for scripts that sample the processes meanwhile.
        eprintln!("subscribe: drained");
    }
    let cpu_while_flowing = flowing_since.map(|(since, before)| CpuWindow {
        wall_s: round3(since.elapsed().as_secs_f64()),
        cpu_s: before
            .spent_until(cpu::Snapshot::take(&args.cpu_of))
            .into_iter()
            .map(|(name, used)| (name, round3(used.as_secs_f64())))
            .collect(),
    });
    // Sending fails only when every reader has already gone, which is fine.
    let _ = stop_tx.send(true);
    let mut per_subscriber = Vec::with_capacity(readers.len());
    for reader in readers {
        match reader.await {
            Ok(outcome) => {
                errors.merge(outcome.errors);
                per_subscriber.push(outcome.events);
            }
            Err(e) => errors.record("reader_panicked", &e.to_string(), Instant::now()),
        }
    }

    let matched = if shared.ordinal {
        match_ordinal(&sends, &per_subscriber, shared.measure_from.get().copied())
    } else {
        match_tagged(&sends, &per_subscriber)
    };
    let mut latencies = matched.latencies;
    let mut last_deliveries: Vec<Duration> =
        matched.last_per_trigger.iter().zip(&matched.reached).filter(|(_, n)| **n == subscribers_connected).map(|(d, _)| *d).collect();
    let delivered = latencies.len() as u64;
    let missing = expected.saturating_sub(delivered);
    Ok(SubscribeReport {
        mode: "subscribe",
        ws_url: plan.ws_url,
        subscribers_requested: requested,
        subscribers_connected,
        connect_all_ms,
        connect_ms: LatencySummary::from_samples(&mut connect_times),
        sync_ms,
        probes,
        matching: if shared.ordinal { "ordinal" } else { "tagged" },
        events_sent,
        trigger_errors,
        expected,
        delivered,
        missing,
        missing_rate: ratio(missing, expected),
        unmatched: matched.unmatched,
        latency_ms: LatencySummary::from_samples(&mut latencies),
        last_delivery_ms: LatencySummary::from_samples(&mut last_deliveries),
        first_error: errors.first().map(str::to_owned),
        errors_by_kind: errors.by_kind,
        timed_out,
        cpu_while_flowing,
    })
}

fn prepare(args: &SubscribeArgs) -> Result<Plan> {
    ensure!(args.ws_url.starts_with("ws://"), "--ws-url must be a ws:// URL (this tool is built without TLS)");
    let subscription = cli::read_operation(&args.subscription)?;
    let variables = cli::read_variables(args.variables.as_deref(), None)?;
    let subscribe_payload = graphql::graphql_body(&subscription, variables.as_ref(), None);

    let trigger = cli::read_operation(&args.trigger)?;
    let trigger_variables = cli::read_variables(args.trigger_variables.as_deref(), None)?;
    let trigger_body = graphql::graphql_body(&trigger, trigger_variables.as_ref(), None);
    // Serialised once as text; `{{seq}}` survives JSON encoding unchanged, so
    // the marker is substituted by plain string replacement per trigger.
    let trigger_template = serde_json::to_string(&trigger_body).context("serialising the trigger body")?;

    let tokens = match &args.tokens_file {
        Some(path) => cli::read_tokens(path)?,
        None => Vec::new(),
    };
    let bearer = |t: &str| HeaderValue::try_from(format!("Bearer {}", t.strip_prefix("Bearer ").unwrap_or(t).trim()));
    let trigger_token = args.trigger_token.as_deref().map(bearer).transpose().context("--trigger-token is not a valid header value")?;
    let trigger_tokens = match &args.trigger_tokens_file {
        Some(path) => cli::read_tokens(path)?
            .iter()
            .map(|t| bearer(t))
            .collect::<Result<Vec<_>, _>>()
            .context("--trigger-tokens-file holds an invalid header value")?,
        None => Vec::new(),
    };
    Ok(Plan {
        ws_url: args.ws_url.clone(),
        subscribe_payload,
        tokens,
        trigger_url: args.trigger_url.clone(),
        trigger_template,
        trigger_token,
        trigger_tokens,
    })
}

impl Plan {
    /// The trigger body for probe (`kind = 'p'`) or measured (`'m'`) trigger `n`.
    fn trigger_body(&self, marker_prefix: Option<&str>, kind: char, n: u64) -> String {
        match marker_prefix {
            Some(prefix) => self.trigger_template.replace(SEQ_PLACEHOLDER, &format!("{prefix}{kind}{n}")),
            None => self.trigger_template.clone(),
        }
    }
}

/// A per-run nonce, so markers left in the database by an earlier run (or a
/// concurrent one) are never taken for this run's events.
fn nonce() -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{:08x}", nanos ^ std::process::id().rotate_left(16))
}

/// Reads the marker `<prefix><p|m><n>` out of a message, if present.
fn parse_tag(text: &str, prefix: &str) -> Tag {
    let Some(at) = text.find(prefix) else {
        return Tag::None;
    };
    let rest = &text[at + prefix.len()..];
    let mut chars = rest.chars();
    let kind = chars.next();
    let digits: String = chars.take_while(char::is_ascii_digit).collect();
    match (kind, digits.parse::<u64>()) {
        (Some('m'), Ok(n)) => Tag::Measured(n),
        (Some('p'), Ok(n)) => Tag::Probe(n),
        _ => Tag::None,
    }
}

type Connected = Result<(Duration, JoinHandle<SubscriberOutcome>), (Failure, Instant)>;

/// Opens every subscriber, `concurrency` at a time, spawning each reader as
/// soon as its subscription is sent.
async fn connect_all(
    plan: &Plan,
    count: usize,
    concurrency: usize,
    shared: &Arc<Shared>,
    stop: &watch::Receiver<bool>,
    deadline: Instant,
) -> Vec<Connected> {
    futures::stream::iter(0..count)
        .map(|index| async move {
            let began = Instant::now();
            let token = cli::token_for(&plan.tokens, index);
            let opened = tokio::time::timeout_at(deadline.into(), open_subscriber(plan, token))
                .await
                .unwrap_or_else(|_| Err(Failure::new("connect_timeout", "overall --timeout reached while connecting")));
            match opened {
                Ok(ws) => {
                    let took = began.elapsed();
                    shared.unprimed.fetch_add(1, Ordering::AcqRel);
                    shared.alive.fetch_add(1, Ordering::AcqRel);
                    let reader = tokio::spawn(read_events(ws, Arc::clone(shared), stop.clone()));
                    Ok((took, reader))
                }
                Err(failure) => Err((failure, Instant::now())),
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await
}

/// Connects, initialises and subscribes one WebSocket.
async fn open_subscriber(plan: &Plan, token: Option<&str>) -> Result<Ws, Failure> {
    let mut request = plan.ws_url.as_str().into_client_request().map_err(|e| Failure::new("connect", e.to_string()))?;
    request.headers_mut().insert(SEC_WEBSOCKET_PROTOCOL, tokio_tungstenite::tungstenite::http::HeaderValue::from_static(SUBPROTOCOL));
    // Nagle off: events are small and their latency is what is measured.
    let (mut ws, _response) =
        tokio_tungstenite::connect_async_with_config(request, None, true).await.map_err(|e| Failure::new("connect", e.to_string()))?;

    // The router forwards connection_init's payload to subgraphs with
    // lowercase keys; the upgrade request itself carries no Authorization.
    let init = match token {
        Some(token) => {
            json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {token}")}})
        }
        None => json!({"type": "connection_init"}),
    };
    send_json(&mut ws, &init).await?;
    await_ack(&mut ws).await?;
    let subscribe = json!({"id": SUBSCRIPTION_ID, "type": "subscribe", "payload": plan.subscribe_payload});
    send_json(&mut ws, &subscribe).await?;
    Ok(ws)
}

async fn send_json(ws: &mut Ws, message: &serde_json::Value) -> Result<(), Failure> {
    ws.send(Message::text(message.to_string())).await.map_err(|e| Failure::new("ws_send", e.to_string()))
}

/// The fields of a `graphql-transport-ws` server message that matter here.
#[derive(Deserialize)]
struct ServerMessage {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    payload: Option<EventPayload>,
}

/// Only used to notice GraphQL errors inside a `next` payload.
#[derive(Deserialize)]
struct EventPayload {
    #[serde(default)]
    errors: Option<Vec<IgnoredAny>>,
}

async fn await_ack(ws: &mut Ws) -> Result<(), Failure> {
    while let Some(message) = ws.next().await {
        let message = message.map_err(|e| Failure::new("init", e.to_string()))?;
        let Message::Text(text) = message else {
            if let Message::Close(frame) = message {
                return Err(Failure::new("init_rejected", format!("closed before connection_ack: {frame:?}")));
            }
            continue;
        };
        let parsed: ServerMessage = serde_json::from_str(text.as_str()).map_err(|_| Failure::new("init", text.as_str().to_owned()))?;
        match parsed.kind.as_str() {
            "connection_ack" => return Ok(()),
            "ping" => send_json(ws, &json!({"type": "pong"})).await?,
            _ => return Err(Failure::new("init", text.as_str().to_owned())),
        }
    }
    Err(Failure::new("init_rejected", "connection closed before connection_ack"))
}

/// Records every `next` until told to stop or the connection ends.
async fn read_events(mut ws: Ws, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) -> SubscriberOutcome {
    let mut outcome = SubscriberOutcome::default();
    let mut primed = false;
    loop {
        // `None` means stop; a closed channel means the coordinator is gone,
        // which is a reason to stop as well.
        let message = tokio::select! {
            _ = stop.changed() => None,
            message = ws.next() => Some(message),
        };
        let Some(message) = message else {
            close(&mut ws).await;
            break;
        };
        let at = Instant::now();
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(frame))) => {
                outcome.errors.record("closed_by_server", &format!("{frame:?}"), at);
                break;
            }
            // Ping/pong frames are answered by tungstenite itself; binary is not part of the protocol.
            Some(Ok(_)) => continue,
            Some(Err(e)) => {
                outcome.errors.record("ws_error", &e.to_string(), at);
                break;
            }
            None => {
                outcome.errors.record("closed_by_server", "connection ended", at);
                break;
            }
        };
        let Ok(parsed) = serde_json::from_str::<ServerMessage>(text.as_str()) else {
            outcome.errors.record("invalid_message", text.as_str(), at);
            continue;
        };
        match parsed.kind.as_str() {
            "next" => {
                let event = Received { at, tag: shared.tag_of(text.as_str()) };
                outcome.events.push(event);
                shared.received.fetch_add(1, Ordering::AcqRel);
                if shared.is_measured(event) {
                    shared.measured.fetch_add(1, Ordering::AcqRel);
                }
                if !primed {
                    primed = true;
                    shared.unprimed.fetch_sub(1, Ordering::AcqRel);
                }
                // Still an event in order, so it stays matched; but say so.
                if parsed.payload.and_then(|p| p.errors).is_some_and(|e| !e.is_empty()) {
                    outcome.errors.record("next_with_errors", text.as_str(), at);
                }
            }
            "ping" => {
                if let Err(Failure { kind, detail }) = send_json(&mut ws, &json!({"type": "pong"})).await {
                    outcome.errors.record(&kind, &detail, at);
                    break;
                }
            }
            "pong" => {}
            "error" => {
                outcome.errors.record("subscription_error", text.as_str(), at);
                break;
            }
            "complete" => {
                outcome.errors.record("completed_by_server", text.as_str(), at);
                break;
            }
            _ => outcome.errors.record("unexpected_message", text.as_str(), at),
        }
    }
    if !primed {
        shared.unprimed.fetch_sub(1, Ordering::AcqRel);
    }
    shared.alive.fetch_sub(1, Ordering::AcqRel);
    outcome
}

/// Ends the subscription and the connection politely, but never waits long:
/// the measurement is over and the report must not hang on a slow server.
async fn close(ws: &mut Ws) {
    let polite = async {
        let _ = send_json(ws, &json!({"id": SUBSCRIPTION_ID, "type": "complete"})).await;
        let _ = ws.close(None).await;
    };
    let _ = tokio::time::timeout(CLOSE_GRACE, polite).await;
}

/// POSTs the `n`-th trigger (probes included), bounded by the overall deadline.
async fn send_trigger(client: &reqwest::Client, plan: &Plan, body: String, n: u64, deadline: Instant) -> Result<(), Failure> {
    let mut request = client
        .post(&plan.trigger_url)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .body(body);
    let rotated = usize::try_from(n).ok().and_then(|n| plan.trigger_tokens.get(n % plan.trigger_tokens.len().max(1)));
    if let Some(token) = rotated.or(plan.trigger_token.as_ref()) {
        request = request.header(AUTHORIZATION, token.clone());
    }
    tokio::time::timeout_at(deadline.into(), graphql::execute(request))
        .await
        .unwrap_or_else(|_| Err(Failure::new("timeout", "overall --timeout reached while triggering")))
}

/// Waits until `done()` holds or `until` passes.
async fn wait_until(until: Instant, done: impl Fn() -> bool) {
    while !done() && Instant::now() < until {
        tokio::time::sleep(POLL.min(until.saturating_duration_since(Instant::now()))).await;
    }
}

/// Ordinal mode: waits until no event has arrived for [`QUIET`], so that
/// straggling probe events are not counted as measured ones.
async fn wait_for_quiet(shared: &Shared, deadline: Instant) {
    let give_up = (Instant::now() + QUIET_MAX).min(deadline);
    let mut last_count = shared.received.load(Ordering::Acquire);
    let mut last_change = Instant::now();
    while Instant::now() < give_up && last_change.elapsed() < QUIET {
        tokio::time::sleep(POLL).await;
        let count = shared.received.load(Ordering::Acquire);
        if count != last_count {
            last_count = count;
            last_change = Instant::now();
        }
    }
}

/// Latencies of matched events, and how many events matched nothing.
#[derive(Debug, Default)]
struct Matched {
    latencies: Vec<Duration>,
    unmatched: u64,
    /// Tagged mode, per measured trigger: the slowest delivery and how many subscribers got it.
    last_per_trigger: Vec<Duration>,
    reached: Vec<usize>,
}

/// Matches each measured-marker event to the trigger that carried the marker;
/// probes are ignored, duplicates and foreign events are unmatched.
fn match_tagged(sends: &[Instant], subscribers: &[Vec<Received>]) -> Matched {
    let mut matched = Matched { last_per_trigger: vec![Duration::ZERO; sends.len()], reached: vec![0; sends.len()], ..Matched::default() };
    for events in subscribers {
        let mut seen = vec![false; sends.len()];
        for event in events {
            match event.tag {
                Tag::Probe(_) => {}
                Tag::Measured(n) => {
                    let slot = usize::try_from(n).ok().filter(|&i| i < sends.len());
                    match slot {
                        Some(i) if !seen[i] => {
                            seen[i] = true;
                            let latency = event.at.saturating_duration_since(sends[i]);
                            matched.latencies.push(latency);
                            matched.last_per_trigger[i] = matched.last_per_trigger[i].max(latency);
                            matched.reached[i] += 1;
                        }
                        _ => matched.unmatched += 1,
                    }
                }
                Tag::None => matched.unmatched += 1,
            }
        }
    }
    matched
}

/// Matches the k-th event received at or after `measure_from` to the k-th
/// trigger. An event received before its supposed trigger was even sent means
/// the alignment is off (an event was lost or a stray one arrived), so it is
/// counted as unmatched rather than given a negative latency.
fn match_ordinal(sends: &[Instant], subscribers: &[Vec<Received>], measure_from: Option<Instant>) -> Matched {
    let mut matched = Matched::default();
    let Some(from) = measure_from else {
        return matched;
    };
    for events in subscribers {
        for (k, event) in events.iter().filter(|e| e.at >= from).enumerate() {
            match sends.get(k).and_then(|sent| event.at.checked_duration_since(*sent)) {
                Some(latency) => matched.latencies.push(latency),
                None => matched.unmatched += 1,
            }
        }
    }
    matched
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn markers_are_read_back_from_event_payloads() {
        let prefix = "vgb0000abcd-";
        let text = r#"{"type":"next","id":"1","payload":{"data":{"userUpdated":{"bio":"bench vgb0000abcd-m17"}}}}"#;
        assert_eq!(parse_tag(text, prefix), Tag::Measured(17));
        assert_eq!(parse_tag("x vgb0000abcd-p3\"", prefix), Tag::Probe(3));
        assert_eq!(parse_tag("vgbffffffff-m1", prefix), Tag::None, "another run's marker");
        assert_eq!(parse_tag("vgb0000abcd-mX", prefix), Tag::None);
    }

    #[test]
    fn trigger_bodies_carry_the_marker_only_when_asked() {
        let plan = Plan {
            ws_url: String::new(),
            subscribe_payload: json!({}),
            tokens: Vec::new(),
            trigger_url: String::new(),
            trigger_template: r#"{"variables":{"bio":"b {{seq}}"}}"#.into(),
            trigger_token: None,
            trigger_tokens: Vec::new(),
        };
        assert_eq!(plan.trigger_body(Some("vgb1-"), 'm', 4), r#"{"variables":{"bio":"b vgb1-m4"}}"#);
        assert_eq!(plan.trigger_body(None, 'm', 4), plan.trigger_template);
    }

    #[test]
    fn tagged_matching_ignores_probes_and_counts_duplicates() {
        let t0 = Instant::now();
        let sends = [t0, t0 + ms(50)];
        let events = vec![
            Received { at: t0 - ms(10), tag: Tag::Probe(0) },
            // Delivered out of order: tagged matching does not care.
            Received { at: t0 + ms(53), tag: Tag::Measured(1) },
            Received { at: t0 + ms(60), tag: Tag::Measured(0) },
            Received { at: t0 + ms(61), tag: Tag::Measured(0) },
            Received { at: t0 + ms(62), tag: Tag::None },
        ];
        let matched = match_tagged(&sends, &[events]);
        assert_eq!(matched.latencies, [ms(3), ms(60)]);
        assert_eq!(matched.unmatched, 2);
    }

    #[test]
    fn tagged_matching_keeps_each_triggers_slowest_delivery_and_how_many_got_it() {
        let t0 = Instant::now();
        let sends = [t0, t0 + ms(50)];
        let fast = vec![Received { at: t0 + ms(5), tag: Tag::Measured(0) }, Received { at: t0 + ms(52), tag: Tag::Measured(1) }];
        let slow = vec![Received { at: t0 + ms(40), tag: Tag::Measured(0) }];
        let matched = match_tagged(&sends, &[fast, slow]);
        assert_eq!(matched.last_per_trigger, [ms(40), ms(2)]);
        assert_eq!(matched.reached, [2, 1], "trigger 1 missed a subscriber: no completion time");
    }

    #[test]
    fn ordinal_matching_pairs_kth_event_with_kth_trigger_after_measure_start() {
        let t0 = Instant::now();
        let from = t0 + ms(100);
        let sends = [t0 + ms(110), t0 + ms(160)];
        let fast = vec![
            Received { at: t0 + ms(20), tag: Tag::None }, // a probe, before measuring
            Received { at: t0 + ms(112), tag: Tag::None },
            Received { at: t0 + ms(165), tag: Tag::None },
            Received { at: t0 + ms(170), tag: Tag::None }, // one too many
        ];
        let lossy = vec![Received { at: t0 + ms(161), tag: Tag::None }];
        let matched = match_ordinal(&sends, &[fast, lossy], Some(from));
        assert_eq!(matched.latencies, [ms(2), ms(5), ms(51)]);
        assert_eq!(matched.unmatched, 1);
        assert!(match_ordinal(&sends, &[], None).latencies.is_empty());
    }

    #[test]
    fn an_event_before_its_trigger_is_unmatched_not_negative() {
        let t0 = Instant::now();
        let sends = [t0 + ms(50)];
        let events = vec![Received { at: t0 + ms(10), tag: Tag::None }];
        let matched = match_ordinal(&sends, &[events], Some(t0));
        assert!(matched.latencies.is_empty());
        assert_eq!(matched.unmatched, 1);
    }
}
