//! `vidgraph-bench http`: closed-loop GraphQL-over-HTTP load.
//!
//! `concurrency` virtual users each send the operation, await the answer and
//! send again, over one shared keep-alive connection pool. Requests *started*
//! during the warm-up are discarded; requests still in flight when the
//! duration ends are cancelled and not counted, so the run stops on time even
//! against a server that hangs.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cli;
use crate::cpu;
use crate::graphql::{self, Failure};
use crate::report::HttpReport;
use crate::stats::{ErrorTally, LatencySummary, ratio, round3};
use anyhow::{Context, Result, ensure};
use clap::Args;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};

/// Arguments of the `http` subcommand.
#[derive(Debug, Args)]
pub struct HttpArgs {
    /// GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql.
    #[arg(long)]
    pub url: String,
    /// File holding the GraphQL document (see bench/operations/).
    #[arg(long)]
    pub operation: PathBuf,
    /// Variables as an inline JSON object.
    #[arg(long, conflicts_with = "variables_file")]
    pub variables: Option<String>,
    /// Variables read from a JSON file.
    #[arg(long)]
    pub variables_file: Option<PathBuf>,
    /// `operationName` to send (needed when the document holds several operations).
    #[arg(long)]
    pub operation_name: Option<String>,
    /// Number of concurrent virtual users.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,
    /// Measured duration (e.g. 10s, 500ms, 2m).
    #[arg(long, default_value = "10s", value_parser = cli::parse_duration)]
    pub duration: Duration,
    /// Warm-up before measuring; its samples are discarded.
    #[arg(long, default_value = "2s", value_parser = cli::parse_duration)]
    pub warmup: Duration,
    /// Bearer tokens, one per line; virtual user i uses token i % n.
    #[arg(long)]
    pub tokens_file: Option<PathBuf>,
    /// Each request takes the next token of the file instead (wrapping around), so that many
    /// distinct accounts act once each (e.g. likes of one video by distinct users).
    #[arg(long, requires = "tokens_file")]
    pub token_per_request: bool,
    /// Extra request header `Name: value`, repeatable.
    #[arg(long = "header")]
    pub headers: Vec<String>,
    /// A process whose CPU time over the measured window is reported per request, as
    /// `NAME=PID` (repeatable); the load tool's own is always reported, as `load tool`. CPU per
    /// request is steadier than throughput on a shared machine, and says which process spends it.
    #[arg(long = "cpu-of", value_parser = cpu::parse_target)]
    pub cpu_of: Vec<(String, u32)>,
    /// Print the report as one JSON line instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Everything a virtual user needs, built once before the run.
struct Plan {
    url: String,
    /// Serialised once: every request sends the same bytes.
    body: Vec<u8>,
    /// Headers per virtual user, or per token with `--token-per-request` (they differ only
    /// by token).
    headers: Vec<HeaderMap>,
    /// The next token's index, with `--token-per-request`.
    next_token: Option<std::sync::atomic::AtomicUsize>,
    /// When the body holds `{{seq}}`: a per-run prefix and the next request's number, so each
    /// request carries a unique value (e.g. an idempotency key that must not repeat).
    sequence: Option<(String, std::sync::atomic::AtomicU64)>,
}

/// Placeholder in the variables replaced by a unique value per request.
const SEQ_PLACEHOLDER: &str = "{{seq}}";

impl Plan {
    fn body(&self) -> Vec<u8> {
        match &self.sequence {
            Some((prefix, next)) => {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                String::from_utf8_lossy(&self.body).replace(SEQ_PLACEHOLDER, &format!("{prefix}{n}")).into_bytes()
            }
            None => self.body.clone(),
        }
    }
}

/// What one virtual user measured.
#[derive(Default)]
struct UserOutcome {
    latencies: Vec<Duration>,
    errors: ErrorTally,
}

/// Runs the load and returns its report.
pub async fn run(args: &HttpArgs) -> Result<HttpReport> {
    ensure!(!args.duration.is_zero(), "--duration must be longer than 0");
    let concurrency = usize::from(args.concurrency);
    let plan = Arc::new(prepare(args, concurrency)?);
    let client = reqwest::Client::builder()
        // HTTP/1.1 keep-alive, as browsers and the router hold connections.
        // The pool keeps every idle connection (reqwest's default, unbounded):
        // capping it at `concurrency` would close the few extra connections
        // opened while another was being returned, and churn TCP mid-run.
        .http1_only()
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(5))
        .build()
        .context("building the HTTP client")?;

    let start = Instant::now();
    let measure_from = start + args.warmup;
    let end = measure_from + args.duration;
    eprintln!("http: {concurrency} users, warm-up {:?}, measuring {:?} against {}", args.warmup, args.duration, args.url);

    let users: Vec<_> =
        (0..concurrency).map(|i| tokio::spawn(virtual_user(client.clone(), Arc::clone(&plan), i, measure_from, end))).collect();
    let targets = args.cpu_of.clone();
    let cpu_window = tokio::spawn(async move {
        tokio::time::sleep_until(tokio::time::Instant::from_std(measure_from)).await;
        let before = cpu::Snapshot::take(&targets);
        tokio::time::sleep_until(tokio::time::Instant::from_std(end)).await;
        before.spent_until(cpu::Snapshot::take(&targets))
    });
    let mut latencies = Vec::new();
    let mut errors = ErrorTally::default();
    for user in users {
        let outcome = user.await.context("a virtual user task panicked")?;
        latencies.extend(outcome.latencies);
        errors.merge(outcome.errors);
    }

    let measured = end.saturating_duration_since(measure_from).as_secs_f64();
    let requests = latencies.len() as u64;
    let cpu_spent = cpu_window.await.context("the CPU sampling task panicked")?;
    let cpu_us_per_request =
        cpu_spent.into_iter().map(|(name, used)| (name, round3(used.as_secs_f64() * 1e6 / requests.max(1) as f64))).collect();
    let error_count = errors.total();
    Ok(HttpReport {
        mode: "http",
        url: args.url.clone(),
        operation_name: args.operation_name.clone(),
        concurrency,
        warmup_s: round3(args.warmup.as_secs_f64()),
        duration_s: round3(measured),
        requests,
        ok: requests.saturating_sub(error_count),
        errors: error_count,
        error_rate: ratio(error_count, requests),
        // Counts stay far below 2^52, so the conversion is exact.
        rps: round3(requests as f64 / measured),
        latency_ms: LatencySummary::from_samples(&mut latencies),
        first_error: errors.first().map(str::to_owned),
        errors_by_kind: errors.by_kind,
        cpu_us_per_request,
    })
}

fn prepare(args: &HttpArgs, concurrency: usize) -> Result<Plan> {
    let query = cli::read_operation(&args.operation)?;
    let variables = cli::read_variables(args.variables.as_deref(), args.variables_file.as_deref())?;
    let body = graphql::graphql_body(&query, variables.as_ref(), args.operation_name.as_deref());
    let body = serde_json::to_vec(&body).context("serialising the request body")?;

    let mut common = HeaderMap::new();
    common.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    // Ask for plain JSON: a GraphQL-over-HTTP server may otherwise answer with
    // application/graphql-response+json, which we parse the same way anyway.
    common.insert(reqwest::header::ACCEPT, HeaderValue::from_static("application/json"));
    for raw in &args.headers {
        let (name, value) = cli::parse_header(raw)?;
        let name = HeaderName::try_from(name.as_str()).with_context(|| format!("header name in `{raw}`"))?;
        let value = HeaderValue::try_from(value.as_str()).with_context(|| format!("header value in `{raw}`"))?;
        common.append(name, value);
    }

    let tokens = match &args.tokens_file {
        Some(path) => cli::read_tokens(path)?,
        None => Vec::new(),
    };
    let header_sets = if args.token_per_request { tokens.len() } else { concurrency };
    let headers = (0..header_sets)
        .map(|i| {
            let mut headers = common.clone();
            if let Some(token) = cli::token_for(&tokens, i) {
                let value = HeaderValue::try_from(format!("Bearer {token}"))
                    .with_context(|| format!("token on line {} is not a valid header value", i % tokens.len() + 1))?;
                headers.insert(AUTHORIZATION, value);
            }
            Ok(headers)
        })
        .collect::<Result<_>>()?;
    let sequence = String::from_utf8_lossy(&body).contains(SEQ_PLACEHOLDER).then(|| {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        (format!("vgh{nanos:x}-"), std::sync::atomic::AtomicU64::new(0))
    });
    Ok(Plan {
        url: args.url.clone(),
        body,
        headers,
        next_token: args.token_per_request.then(|| std::sync::atomic::AtomicUsize::new(0)),
        sequence,
    })
}

async fn virtual_user(client: reqwest::Client, plan: Arc<Plan>, index: usize, measure_from: Instant, end: Instant) -> UserOutcome {
    let mut outcome = UserOutcome::default();
    let own_headers = plan.headers.get(index).cloned().unwrap_or_default();
    let deadline = tokio::time::Instant::from_std(end);
    loop {
        let started = Instant::now();
        if started >= end {
            break;
        }
        let headers = match &plan.next_token {
            Some(next) => {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % plan.headers.len().max(1);
                plan.headers.get(i).cloned().unwrap_or_default()
            }
            None => own_headers.clone(),
        };
        let request = client.post(&plan.url).headers(headers).body(plan.body());
        let result = tokio::select! {
            result = graphql::execute(request) => result,
            // Cancel what is in flight at the end rather than wait for it: the
            // run must stop on time, and a request that straddles the end does
            // not belong to the measured window.
            () = tokio::time::sleep_until(deadline) => break,
        };
        let finished = Instant::now();
        if started < measure_from {
            continue;
        }
        outcome.latencies.push(finished - started);
        if let Err(Failure { kind, detail }) = result {
            outcome.errors.record(&kind, &detail, finished);
        }
    }
    outcome
}
