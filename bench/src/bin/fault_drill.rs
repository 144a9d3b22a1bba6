//! `fault-drill`: a steady load of likes, views and gift events against a running platform
//! (`vidgraph dev`), a list of faults injected one after the other by shell commands, and after
//! each fault the time until `ranking` has caught up with everything committed before the repair.
//! At the end it stops the load, waits for the platform to settle and prints, per kind of event,
//! how many were published, applied, lost and counted twice, and how far the rankings and the
//! week-star board differ from a clean recompute from PostgreSQL. `bench/faults.sh` drives it.
//!
//! Figures, not a test: a lost or double-counted event is printed, and the exit code is non-zero
//! so that a script notices.

use anyhow::{Context, Result, bail};
use chrono::Utc;
use clap::Parser;
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use platform::config::AppConfig;
use platform::db::Db;
use platform::events::{GIFT_EVENT_KIND, GIFT_STREAM, GiftEvent};
use platform::nats::Nats;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;

#[derive(Parser)]
#[command(about = "Inject faults under load and count what was lost or counted twice")]
struct Args {
    /// The router's GraphQL endpoint.
    #[arg(long, default_value = "http://127.0.0.1:4000/graphql")]
    router: String,
    /// Viewer tokens, one per line (`vidgraph mint-tokens`); each likes and views each video once.
    #[arg(long)]
    tokens_file: std::path::PathBuf,
    /// An admin's token (configures the drill's week-star channel, reads the rankings).
    #[arg(long)]
    admin_token_file: std::path::PathBuf,
    /// How many published videos receive the likes and views.
    #[arg(long, default_value_t = 40)]
    videos: usize,
    /// Likes, views and gift events per second, each.
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// Load before the first fault.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    warmup: Duration,
    /// A fault: `name|inject command|seconds held|repair command` (run with `sh -c`; either
    /// command may be empty). Repeat for several, applied in order.
    #[arg(long = "fault")]
    faults: Vec<String>,
    /// Longest wait for the platform to catch up after a fault.
    #[arg(long, default_value = "300s", value_parser = parse_duration)]
    converge_limit: Duration,
    /// Command that runs a clean recompute of the hot rankings from PostgreSQL.
    #[arg(long)]
    recompute_command: String,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = text.split_at(text.find(|c: char| c.is_alphabetic()).ok_or("a duration needs a unit, e.g. 10s")?);
    let value: f64 = number.parse().map_err(|_| format!("`{text}` is not a duration"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("`{unit}`: use ms, s or m")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| e.to_string())
}

/// One fault of the drill.
struct Fault {
    name: String,
    inject: String,
    held: Duration,
    repair: String,
}

impl Fault {
    fn parse(spec: &str) -> Result<Fault> {
        let parts: Vec<&str> = spec.split('|').collect();
        let [name, inject, held, repair] = parts[..] else { bail!("a fault is `name|inject|seconds|repair`: {spec}") };
        Ok(Fault { name: name.into(), inject: inject.into(), held: Duration::from_secs_f64(held.trim().parse()?), repair: repair.into() })
    }
}

/// What the load generator had acknowledged: committed likes and views (the mutation answered
/// without error) and gift events JetStream stored, with their gift counts.
#[derive(Default)]
struct Published {
    likes: AtomicI64,
    views: AtomicI64,
    gift_events: AtomicI64,
    gifts: AtomicI64,
    failed_requests: AtomicI64,
}

#[derive(QueryableByName)]
struct Totals {
    #[diesel(sql_type = SqlUuid)]
    video_id: Uuid,
    #[diesel(sql_type = BigInt)]
    likes: i64,
    #[diesel(sql_type = BigInt)]
    views: i64,
}

#[derive(QueryableByName)]
struct Sum {
    #[diesel(sql_type = BigInt)]
    total: i64,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

#[derive(QueryableByName)]
struct BoardRow {
    #[diesel(sql_type = SqlUuid)]
    streamer_id: Uuid,
    #[diesel(sql_type = BigInt)]
    gift_count: i64,
}

/// The drill's view of both subgraphs' PostgreSQL schemas (one database, as `vidgraph dev` runs).
struct Ledger {
    db: Db,
    videos: Vec<Uuid>,
    channel: Uuid,
}

impl Ledger {
    async fn totals(&self, table: &str) -> Result<HashMap<Uuid, (i64, i64)>> {
        let mut conn = self.db.pool.get().await?;
        let rows: Vec<Totals> = diesel::sql_query(format!("SELECT video_id, likes, views FROM {table} WHERE video_id = ANY($1)"))
            .bind::<Array<SqlUuid>, _>(&self.videos)
            .load(&mut conn)
            .await?;
        Ok(rows.into_iter().map(|row| (row.video_id, (row.likes, row.views))).collect())
    }

    async fn content_totals(&self) -> Result<HashMap<Uuid, (i64, i64)>> {
        self.totals("content.video_stats").await
    }

    async fn ranking_totals(&self) -> Result<HashMap<Uuid, (i64, i64)>> {
        self.totals("ranking.videos").await
    }

    /// Growth `ranking` recorded in its hourly buckets since `since` (an hour boundary): every
    /// stat event it applied adds here, so an event applied twice shows as growth above content's.
    async fn bucket_growth(&self, since: chrono::DateTime<Utc>) -> Result<(i64, i64)> {
        let mut conn = self.db.pool.get().await?;
        let likes: Sum = diesel::sql_query(
            "SELECT COALESCE(SUM(likes), 0)::bigint AS total FROM ranking.stat_buckets WHERE video_id = ANY($1) AND bucket >= $2",
        )
        .bind::<Array<SqlUuid>, _>(&self.videos)
        .bind::<Timestamptz, _>(since)
        .get_result(&mut conn)
        .await?;
        let views: Sum = diesel::sql_query(
            "SELECT COALESCE(SUM(views), 0)::bigint AS total FROM ranking.stat_buckets WHERE video_id = ANY($1) AND bucket >= $2",
        )
        .bind::<Array<SqlUuid>, _>(&self.videos)
        .bind::<Timestamptz, _>(since)
        .get_result(&mut conn)
        .await?;
        Ok((likes.total, views.total))
    }

    /// The drill channel's board as PostgreSQL counts it.
    async fn board(&self) -> Result<HashMap<Uuid, i64>> {
        let mut conn = self.db.pool.get().await?;
        let rows: Vec<BoardRow> = diesel::sql_query(
            "SELECT streamer_id, SUM(gift_count)::bigint AS gift_count FROM ranking.weekstar_streamer_counts \
             WHERE channel_id = $1 AND gift_id = $2 GROUP BY streamer_id",
        )
        .bind::<SqlUuid, _>(self.channel)
        .bind::<Text, _>(GIFT)
        .load(&mut conn)
        .await?;
        Ok(rows.into_iter().map(|row| (row.streamer_id, row.gift_count)).collect())
    }
}

const GIFT: &str = "rocket";
const STREAMERS: usize = 20;

struct Api {
    client: reqwest::Client,
    url: String,
    admin: String,
}

impl Api {
    async fn post(&self, query: &str, variables: Value, token: &str) -> Result<Value> {
        let reply = self
            .client
            .post(&self.url)
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .timeout(Duration::from_secs(10))
            .send()
            .await?;
        Ok(reply.json().await?)
    }

    /// `data` of an operation that must succeed.
    async fn data(&self, query: &str, variables: Value) -> Result<Value> {
        let reply = self.post(query, variables, &self.admin).await?;
        if reply.get("errors").is_some_and(|errors| errors.as_array().is_some_and(|a| !a.is_empty())) {
            bail!("{query}: {reply}");
        }
        Ok(reply["data"].clone())
    }

    /// The drill channel's realtime board as served (from Redis, rebuilt from PostgreSQL on a miss).
    async fn board(&self, channel: Uuid) -> Result<HashMap<Uuid, i64>> {
        let data = self
            .data(
                "query($c: ID!) { weekStarBoards(channelId: $c, client: WEB, first: 100) { giftId entries { streamer { id } giftCount } } }",
                json!({ "c": channel }),
            )
            .await?;
        let mut board = HashMap::new();
        for entry in data["weekStarBoards"][0]["entries"].as_array().into_iter().flatten() {
            let id: Uuid = entry["streamer"]["id"].as_str().context("streamer id")?.parse()?;
            board.insert(id, entry["giftCount"].as_i64().context("giftCount")?);
        }
        Ok(board)
    }

    /// The first 100 places of each global range: `(video, hot value)` in order.
    async fn rankings(&self) -> Result<Vec<(String, Vec<(String, i64)>)>> {
        let mut all = Vec::new();
        for range in ["DAY", "WEEK", "MONTH", "ALL"] {
            let data = self
                .data(
                    "query($r: HotTimeRange) { hotRanking(timeRange: $r, page: 1, pageSize: 100) { items { hotValue video { id } } } }",
                    json!({ "r": range }),
                )
                .await?;
            let items = data["hotRanking"]["items"].as_array().cloned().unwrap_or_default();
            let page = items
                .iter()
                .map(|item| (item["video"]["id"].as_str().unwrap_or_default().to_owned(), item["hotValue"].as_i64().unwrap_or(-1)))
                .collect();
            all.push((range.to_owned(), page));
        }
        Ok(all)
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let faults: Vec<Fault> = args.faults.iter().map(|spec| Fault::parse(spec)).collect::<Result<_>>()?;
    let tokens: Vec<String> =
        std::fs::read_to_string(&args.tokens_file)?.lines().filter(|l| !l.trim().is_empty()).map(str::to_owned).collect();
    let admin = std::fs::read_to_string(&args.admin_token_file)?.trim().to_owned();
    anyhow::ensure!(!tokens.is_empty(), "no viewer tokens");
    let config = AppConfig::load()?;
    let db = Db::connect(&config.db, "fault-drill");
    let nats = Nats::connect(&config.nats).await?;
    let api = Arc::new(Api { client: reqwest::Client::new(), url: args.router.clone(), admin });

    let videos: Vec<Uuid> = {
        let mut conn = db.pool.get().await?;
        let rows: Vec<Id> = diesel::sql_query("SELECT id FROM content.videos WHERE state = 'published' ORDER BY id LIMIT $1")
            .bind::<BigInt, _>(i64::try_from(args.videos)?)
            .load(&mut conn)
            .await?;
        rows.into_iter().map(|row| row.id).collect()
    };
    anyhow::ensure!(videos.len() == args.videos, "only {} published videos", videos.len());
    let channel = Uuid::now_v7();
    api.data("mutation($c: ID!) { configureWeekStarGifts(channelId: $c, giftIds: [\"rocket\"]) { channelId } }", json!({ "c": channel }))
        .await?;
    let ledger = Arc::new(Ledger { db, videos: videos.clone(), channel });
    let run_hour = {
        let now = Utc::now();
        now - chrono::Duration::seconds(i64::from(chrono::Timelike::minute(&now)) * 60 + i64::from(chrono::Timelike::second(&now)))
            - chrono::Duration::nanoseconds(i64::from(chrono::Timelike::nanosecond(&now)))
    };
    let content_at_start = ledger.content_totals().await?;
    let buckets_at_start = ledger.bucket_growth(run_hour).await?;
    println!(
        "fault drill: {} videos x {} viewers, {:.0} likes/s + {:.0} views/s + {:.0} gift events/s, {} faults",
        videos.len(),
        tokens.len(),
        args.rate,
        args.rate,
        args.rate,
        faults.len()
    );

    let published = Arc::new(Published::default());
    let running = Arc::new(AtomicBool::new(true));
    let pairs = Arc::new((tokens, videos));
    let load = vec![
        tokio::spawn(interaction_load(
            api.clone(),
            pairs.clone(),
            "mutation($id: ID!) { likeVideo(id: $id) { id } }",
            args.rate,
            published.clone(),
            running.clone(),
            true,
        )),
        tokio::spawn(interaction_load(
            api.clone(),
            pairs.clone(),
            "mutation($id: ID!) { recordView(id: $id) { counted } }",
            args.rate,
            published.clone(),
            running.clone(),
            false,
        )),
        tokio::spawn(gift_load(nats.clone(), channel, args.rate, published.clone(), running.clone())),
    ];
    tokio::time::sleep(args.warmup).await;

    let mut convergence = Vec::new();
    for fault in &faults {
        println!("-- {}: inject", fault.name);
        shell(&fault.inject).await?;
        tokio::time::sleep(fault.held).await;
        shell(&fault.repair).await?;
        let repaired = Instant::now();
        let seconds = converge(&ledger, &api, &published, args.converge_limit).await;
        match seconds {
            Some(after) => println!("-- {}: repaired; ranking caught up {:.1} s later", fault.name, after.as_secs_f64()),
            None => println!("-- {}: repaired; ranking did NOT catch up within {:?}", fault.name, args.converge_limit),
        }
        convergence.push((fault.name.clone(), seconds, repaired));
    }

    running.store(false, Ordering::Relaxed);
    for task in load {
        task.await?;
    }
    let settled = converge(&ledger, &api, &published, args.converge_limit).await;
    println!(
        "load stopped; {}",
        settled.map_or("the platform did NOT settle".to_owned(), |d| format!("settled {:.1} s later", d.as_secs_f64()))
    );

    // Stat events: content's committed counters are the truth.
    let content = ledger.content_totals().await?;
    let ranking = ledger.ranking_totals().await?;
    let buckets = ledger.bucket_growth(run_hour).await?;
    let mut failed = false;
    for (kind, pick, acked, growth_start, growth_end) in [
        ("likes", 0usize, read(&published.likes), buckets_at_start.0, buckets.0),
        ("views", 1usize, read(&published.views), buckets_at_start.1, buckets.1),
    ] {
        let value = |map: &HashMap<Uuid, (i64, i64)>, id: &Uuid| map.get(id).map_or(0, |t| if pick == 0 { t.0 } else { t.1 });
        let committed: i64 = ledger.videos.iter().map(|id| value(&content, id) - value(&content_at_start, id)).sum();
        let lost_totals: i64 = ledger.videos.iter().map(|id| (value(&content, id) - value(&ranking, id)).max(0)).sum();
        let over_totals: i64 = ledger.videos.iter().map(|id| (value(&ranking, id) - value(&content, id)).max(0)).sum();
        let applied = growth_end - growth_start;
        let lost = lost_totals.max(committed - applied).max(0);
        let double = over_totals.max(applied - committed).max(0);
        failed |= lost > 0 || double > 0;
        println!(
            "{kind:<6} acknowledged {acked:>6}  committed {committed:>6}  applied {applied:>6}  lost {lost:>4}  double-counted {double:>4}"
        );
    }
    // Gift events: every stored event must be on the board once, in PostgreSQL and as served.
    let gifts_sent = read(&published.gifts);
    let counted: i64 = ledger.board().await?.values().sum();
    let served = api.board(channel).await?;
    let served_total: i64 = served.values().sum();
    let board_mismatch = ledger.board().await?.iter().filter(|(id, count)| served.get(id) != Some(count)).count();
    let (lost, double) = ((gifts_sent - counted).max(0), (counted - gifts_sent).max(0));
    failed |= lost > 0 || double > 0 || board_mismatch > 0;
    println!(
        "gifts  events {:>6} ({gifts_sent} gifts)  applied {counted:>6}  lost {lost:>4}  double-counted {double:>4}  served board {served_total} ({board_mismatch} streamers differ from PostgreSQL)",
        read(&published.gift_events)
    );
    println!("requests that failed during faults (not counted as published): {}", read(&published.failed_requests));

    // Rankings as served, against a clean recompute from PostgreSQL.
    let before = api.rankings().await?;
    shell(&args.recompute_command).await?;
    let after = api.rankings().await?;
    for ((range, served), (_, clean)) in before.iter().zip(&after) {
        let differ = served.iter().zip(clean).filter(|(a, b)| a != b).count() + served.len().abs_diff(clean.len());
        failed |= differ > 0;
        println!("ranking {range:<5} top {:>3} vs clean recompute: {differ} places differ", clean.len());
    }
    for (name, seconds, _) in &convergence {
        println!("converge {name:<12} {}", seconds.map_or("never".to_owned(), |d| format!("{:.1} s", d.as_secs_f64())));
    }
    if failed {
        bail!("events were lost or double-counted, or a ranking differs from a clean recompute");
    }
    Ok(())
}

/// A counter's value (`RunQueryDsl::load` would shadow `AtomicI64::load` in method syntax).
fn read(counter: &AtomicI64) -> i64 {
    counter.load(Ordering::Relaxed)
}

async fn shell(command: &str) -> Result<()> {
    if command.trim().is_empty() {
        return Ok(());
    }
    let status = tokio::process::Command::new("sh").arg("-c").arg(command).status().await?;
    anyhow::ensure!(status.success(), "`{command}` failed: {status}");
    Ok(())
}

/// Waits until `ranking` holds everything committed up to now: content's counters of every drill
/// video, and the board every gift event stored so far, in PostgreSQL and as served. `None` when
/// that takes longer than `limit`.
async fn converge(ledger: &Ledger, api: &Api, published: &Published, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let target = loop {
        if let Ok(totals) = ledger.content_totals().await {
            break totals;
        }
        if started.elapsed() > limit {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let gifts = read(&published.gifts);
    while started.elapsed() < limit {
        let caught_up = async {
            let ranking = ledger.ranking_totals().await.ok()?;
            let stats = ledger.videos.iter().all(|id| {
                let (want, have) = (target.get(id).copied().unwrap_or_default(), ranking.get(id).copied().unwrap_or_default());
                have.0 >= want.0 && have.1 >= want.1
            });
            let counted: i64 = ledger.board().await.ok()?.values().sum();
            let served: i64 = api.board(ledger.channel).await.ok()?.values().sum();
            Some(stats && counted >= gifts && served >= gifts)
        };
        if caught_up.await == Some(true) {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    None
}

/// Sends `mutation` for each (viewer, video) pair once, at `rate` per second, counting the ones
/// content committed.
async fn interaction_load(
    api: Arc<Api>,
    pairs: Arc<(Vec<String>, Vec<Uuid>)>,
    mutation: &'static str,
    rate: f64,
    published: Arc<Published>,
    running: Arc<AtomicBool>,
    likes: bool,
) {
    let (tokens, videos) = &*pairs;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut next = 0usize;
    let mut in_flight = tokio::task::JoinSet::new();
    while AtomicBool::load(&running, Ordering::Relaxed) && next < tokens.len() * videos.len() {
        ticker.tick().await;
        let (token, video) = (tokens[next % tokens.len()].clone(), videos[next / tokens.len()]);
        next += 1;
        let (api, published) = (api.clone(), published.clone());
        in_flight.spawn(async move {
            let ok = match api.post(mutation, json!({ "id": video }), &token).await {
                Ok(reply) => reply.get("errors").is_none() && !reply["data"].is_null(),
                Err(_) => false,
            };
            let counter = if likes { &published.likes } else { &published.views };
            if ok { counter } else { &published.failed_requests }.fetch_add(1, Ordering::Relaxed);
        });
        while in_flight.len() > 64 {
            in_flight.join_next().await;
        }
    }
    while in_flight.join_next().await.is_some() {}
}

/// Publishes gift events to JetStream at `rate` per second, as `live` will, counting the stored ones.
async fn gift_load(nats: Nats, channel: Uuid, rate: f64, published: Arc<Published>, running: Arc<AtomicBool>) {
    let subject = GIFT_STREAM.subject(&nats, GIFT_EVENT_KIND);
    let streamers: Vec<Uuid> = (0..STREAMERS).map(|_| Uuid::now_v7()).collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let _ = GIFT_STREAM.ensure(&nats).await;
    while AtomicBool::load(&running, Ordering::Relaxed) {
        ticker.tick().await;
        let event = GiftEvent {
            event_id: Uuid::now_v7(),
            channel_id: channel,
            streamer_id: streamers[rng.gen_range(0..STREAMERS)],
            gift_id: GIFT.to_owned(),
            count: rng.gen_range(1..=5),
            sender_id: Uuid::now_v7(),
            room_id: None,
            unit_price: 0,
            total_value: 0,
            sent_at: Utc::now(),
        };
        let Ok(payload) = serde_json::to_vec(&event) else { continue };
        // As the outbox relay does: the same event (same Nats-Msg-Id, so JetStream stores it once)
        // again until JetStream acknowledges it, through a NATS restart if need be.
        let mut stored = false;
        let deadline = Instant::now() + Duration::from_secs(120);
        while !stored && Instant::now() < deadline {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Nats-Msg-Id", event.event_id.to_string().as_str());
            stored = match nats.jetstream.publish_with_headers(subject.clone(), headers, payload.clone().into()).await {
                Ok(ack) => tokio::time::timeout(Duration::from_secs(5), ack).await.is_ok_and(|ack| ack.is_ok()),
                Err(_) => false,
            };
            if !stored {
                published.failed_requests.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        if stored {
            published.gift_events.fetch_add(1, Ordering::Relaxed);
            published.gifts.fetch_add(event.count, Ordering::Relaxed);
        }
    }
}
