//! Demo data for `vidgraph seed`: channels, the gift catalogue, and rooms for the demo
//! streamers (whose user ids the CLI reads from `content`). Idempotent: what exists is kept.

use chrono::Utc;
use diesel::QueryResult;
use diesel::sql_types::{Array, BigInt, Int4, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// Seeded channels: fixed ids (so week-star boards can be configured for them), slug, name.
pub const CHANNELS: [(u128, &str, &str); 3] = [
    (0x0190_0000_0000_7000_8000_0000_0000_0001, "games", "Games"),
    (0x0190_0000_0000_7000_8000_0000_0000_0002, "music", "Music"),
    (0x0190_0000_0000_7000_8000_0000_0000_0003, "chat", "Chat"),
];

/// Seeded gifts: slug (the week-star gift id), name, price in minor units.
pub const GIFTS: [(&str, &str, i64); 4] =
    [("flower", "Flower", 10), ("heart", "Heart", 100), ("rocket", "Rocket", 5_000), ("castle", "Castle", 50_000)];

/// What the seed added.
#[derive(Debug, Default, Clone, Copy)]
pub struct LiveSeedReport {
    /// Channels added.
    pub channels: usize,
    /// Gifts added.
    pub gifts: usize,
    /// Rooms added.
    pub rooms: usize,
}

/// Adds the missing channels and gifts, and a room (not live) for each of `streamers` who has none.
pub async fn run(conn: &mut AsyncPgConnection, streamers: &[(Uuid, String)]) -> QueryResult<LiveSeedReport> {
    let now = Utc::now();
    let mut report = LiveSeedReport::default();
    for (position, (id, slug, name)) in CHANNELS.iter().enumerate() {
        report.channels += diesel::sql_query(
            "INSERT INTO live.channels (id, slug, name, position, active, created_at, updated_at) VALUES ($1, $2, $3, $4, true, $5, $5) \
             ON CONFLICT DO NOTHING",
        )
        .bind::<SqlUuid, _>(Uuid::from_u128(*id))
        .bind::<Text, _>(*slug)
        .bind::<Text, _>(*name)
        .bind::<Int4, _>(i32::try_from(position).unwrap_or(0))
        .bind::<Timestamptz, _>(now)
        .execute(conn)
        .await?;
    }
    for (id, name, price) in GIFTS {
        report.gifts += diesel::sql_query(
            "INSERT INTO live.gifts (id, name, price, icon_url, active, created_at, updated_at) VALUES ($1, $2, $3, NULL, true, $4, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind::<Text, _>(id)
        .bind::<Text, _>(name)
        .bind::<BigInt, _>(price)
        .bind::<Timestamptz, _>(now)
        .execute(conn)
        .await?;
    }
    let ids: Vec<Uuid> = streamers.iter().map(|(id, _)| *id).collect();
    let titles: Vec<String> = streamers.iter().map(|(_, name)| format!("{name}'s room")).collect();
    report.rooms = diesel::sql_query(
        "INSERT INTO live.rooms (id, owner_id, channel_id, title, cover_url, live_session_id, live_since, created_at, updated_at) \
         SELECT gen_random_uuid(), owner, $3, title, NULL, NULL, NULL, $4, $4 FROM unnest($1::uuid[], $2::text[]) AS s(owner, title) \
         ON CONFLICT (owner_id) DO NOTHING",
    )
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Array<Text>, _>(&titles)
    .bind::<SqlUuid, _>(Uuid::from_u128(CHANNELS[0].0))
    .bind::<Timestamptz, _>(now)
    .execute(conn)
    .await?;
    Ok(report)
}
