//! `weekstar-ingest`: how many gift events per second the week-star boards ingest.
//!
//! It runs `ranking`'s own gift consumer (the same code and concurrency the subgraph runs)
//! against its own database, Redis prefix and NATS prefix, configures channels, publishes N
//! gift events to JetStream and times until the consumer has acked them all, i.e. until every
//! event is committed in Postgres and reflected on its Redis board. It then checks that the
//! boards add up to what was published, and prints the figures.
//!
//! Two phases: `live` (the consumer runs while events are published, as in production) and
//! `backlog` (N events wait in the stream, then the consumer starts: pure ingest rate).

use anyhow::{Context, Result, ensure};
use async_nats::jetstream::consumer::pull;
use chrono::Utc;
use clap::Parser;
use platform::clock::SystemClock;
use platform::config::AppConfig;
use platform::db::Db;
use platform::events::{GIFT_EVENT_KIND, GIFT_STREAM, GiftEvent};
use platform::nats::Nats;
use platform::redis::Redis;
use rand::{Rng, SeedableRng};
use ranking::domain::weekstar::{Client, WeekStarGifts, WeekStars};
use ranking::events::gifts::{DURABLE, run_gift_consumer};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Week-star ingest benchmark.
#[derive(Debug, Parser)]
struct Args {
    /// Gift events per phase.
    #[arg(long, default_value_t = 20_000)]
    events: usize,
    /// Channels (each with four week-star gifts).
    #[arg(long, default_value_t = 10)]
    channels: usize,
    /// Streamers receiving gifts (up to 100, every board is checked entry by entry).
    #[arg(long, default_value_t = 100)]
    streamers: usize,
    /// Distinct senders.
    #[arg(long, default_value_t = 5_000)]
    senders: usize,
    /// Messages the consumer handles at once (the subgraph uses 4).
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Database pool of the consumer.
    #[arg(long, default_value_t = 5)]
    pool: u32,
}

const GIFTS: [&str; 4] = ["rocket", "flower", "car", "heart"];

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let mut config = AppConfig::load()?;
    let run = Uuid::new_v4().simple().to_string()[..8].to_owned();
    config.redis.key_prefix = format!("vgbench-ws-{run}:");
    config.nats.subject_prefix = format!("vgbench_ws_{run}");
    config.db.pool_size = args.pool;
    let url = secrecy::ExposeSecret::expose_secret(&config.db.url).to_owned();
    platform::migrate::ensure_database(&url).await?;
    platform::migrate::run_migrations(&url).await?;

    let db = Db::connect(&config.db, "weekstar-bench");
    let redis = Redis::connect(&config.redis)?;
    let nats = Nats::connect(&config.nats).await?;
    GIFT_STREAM.ensure(&nats).await?;
    let stars = WeekStars::new(db, redis.clone(), SystemClock::shared(), config.calendar.time_zone);

    let channels: Vec<Uuid> = (0..args.channels).map(|_| Uuid::now_v7()).collect();
    let streamers: Vec<Uuid> = (0..args.streamers).map(|_| Uuid::now_v7()).collect();
    let senders: Vec<Uuid> = (0..args.senders).map(|_| Uuid::now_v7()).collect();
    let admin = Uuid::now_v7();
    for channel in &channels {
        stars.configure_gifts(admin, *channel, WeekStarGifts::parse(&GIFTS).context("gifts")?).await?;
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let mut events = |n: usize| -> Vec<GiftEvent> {
        (0..n)
            .map(|_| GiftEvent {
                event_id: Uuid::now_v7(),
                channel_id: channels[rng.gen_range(0..channels.len())],
                streamer_id: streamers[rng.gen_range(0..streamers.len())],
                gift_id: GIFTS[rng.gen_range(0..GIFTS.len())].to_owned(),
                count: rng.gen_range(1..=10),
                sender_id: senders[rng.gen_range(0..senders.len())],
                room_id: None,
                unit_price: 0,
                total_value: 0,
                sent_at: Utc::now(),
            })
            .collect()
    };
    println!(
        "weekstar ingest: {} events per phase, {} channels x {} gifts, {} streamers, {} senders, consumer concurrency {}, pool {}",
        args.events,
        args.channels,
        GIFTS.len(),
        args.streamers,
        args.senders,
        args.concurrency,
        args.pool
    );

    // live: consumer running while publishing
    let consumer = tokio::spawn(run_gift_consumer(stars.clone(), nats.clone(), args.concurrency));
    let live = events(args.events);
    let started = Instant::now();
    let last = publish(&nats, &live).await?;
    let published = started.elapsed();
    wait_acked(&nats, last, Duration::from_secs(600)).await?;
    let ingested = started.elapsed();
    report("live", args.events, published, ingested);
    consumer.abort();

    // backlog: events waiting in the stream, then the consumer starts
    let backlog = events(args.events);
    let last = publish(&nats, &backlog).await?;
    let consumer = tokio::spawn(run_gift_consumer(stars.clone(), nats.clone(), args.concurrency));
    let started = Instant::now();
    wait_acked(&nats, last, Duration::from_secs(600)).await?;
    let ingested = started.elapsed();
    println!(
        "backlog: {} events drained in {:.2} s = {:.0} events/s",
        args.events,
        ingested.as_secs_f64(),
        args.events as f64 / ingested.as_secs_f64()
    );
    consumer.abort();

    // every published gift is on a board, exactly once
    let expected: i64 = live.iter().chain(&backlog).map(|e| e.count).sum();
    let mut on_boards = 0;
    for channel in &channels {
        for board in stars.realtime_boards(*channel, Client::Web, 100).await? {
            on_boards += board.entries.iter().map(|e| e.gift_count).sum::<i64>();
        }
    }
    let entries_shown = args.streamers.min(100);
    if args.streamers <= 100 {
        ensure!(on_boards == expected, "boards hold {on_boards} gifts, {expected} were sent");
        println!("check: boards hold all {expected} gifts sent");
    } else {
        println!("check: boards show the top {entries_shown} streamers per board ({on_boards} of {expected} gifts)");
    }
    cleanup(&nats, &redis).await;
    Ok(())
}

async fn publish(nats: &Nats, events: &[GiftEvent]) -> Result<u64> {
    let subject = GIFT_STREAM.subject(nats, GIFT_EVENT_KIND);
    let mut last = 0;
    // Pipelined a thousand at a time: the JetStream context bounds un-awaited acks, so
    // publishing everything before awaiting any ack would stall.
    for chunk in events.chunks(1000) {
        let mut acks = Vec::with_capacity(chunk.len());
        for event in chunk {
            acks.push(nats.jetstream.publish(subject.clone(), serde_json::to_vec(event)?.into()).await?);
        }
        for ack in acks {
            last = last.max(ack.await?.sequence);
        }
    }
    Ok(last)
}

async fn wait_acked(nats: &Nats, sequence: u64, limit: Duration) -> Result<()> {
    let stream = GIFT_STREAM.ensure(nats).await?;
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(mut consumer) = stream.get_consumer::<pull::Config>(DURABLE).await
            && let Ok(info) = consumer.info().await
            && info.ack_floor.stream_sequence >= sequence
        {
            return Ok(());
        }
        ensure!(Instant::now() < deadline, "consumer did not ack up to {sequence} in {limit:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn report(phase: &str, events: usize, published: Duration, ingested: Duration) {
    println!(
        "{phase}: published {events} events in {:.2} s ({:.0}/s); all on the boards after {:.2} s = {:.0} events/s",
        published.as_secs_f64(),
        events as f64 / published.as_secs_f64(),
        ingested.as_secs_f64(),
        events as f64 / ingested.as_secs_f64()
    );
}

async fn cleanup(nats: &Nats, redis: &Redis) {
    let _ = nats.jetstream.delete_stream(GIFT_STREAM.stream_name(nats)).await;
    if let Ok(mut conn) = redis.conn().await {
        let keys: Vec<String> = redis::cmd("KEYS").arg(redis.key("*")).query_async(&mut *conn).await.unwrap_or_default();
        if !keys.is_empty() {
            let _: Result<i64, _> = redis::cmd("DEL").arg(&keys).query_async(&mut *conn).await;
        }
    }
}
