//! Week-star boards through the router: admin configuration (and who may do it), a realtime
//! board fed by gift events on JetStream whose streamers `content` resolves, and a settled board
//! with its best supporter.

use crate::harness::Platform;
use async_nats::jetstream::consumer::pull;
use chrono::{Duration as Days, Utc};
use platform::events::{GIFT_EVENT_KIND, GIFT_STREAM, GiftEvent};
use ranking::domain::week::IsoWeek;
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

const CONFIGURE: &str = "mutation($channel: ID!, $gifts: [String!]!) { configureWeekStarGifts(channelId: $channel, giftIds: $gifts) { \
    channelId configured webVisible appVisible thisWeek { week { year week } giftIds } nextWeek { giftIds } } }";
const BOARDS: &str = "query($channel: ID!) { weekStarBoards(channelId: $channel, client: WEB) { giftId week { year week } \
    entries { rank giftCount streamer { id username } } } }";
const SETTLED: &str = "query($channel: ID!, $year: Int!, $week: Int!) { settledWeekStarBoards(channelId: $channel, year: $year, week: $week) { \
    giftId skipped winner { streamer { username } giftCount } bestSupporter { user { username } giftCount } \
    entries { rank giftCount streamer { username } } } }";

/// Publishes gift events as `live` will; returns the stream sequence of the last one.
async fn publish(platform: &Platform, events: &[GiftEvent]) -> u64 {
    let nats = platform.nats().await;
    GIFT_STREAM.ensure(&nats).await.expect("gift stream");
    let subject = GIFT_STREAM.subject(&nats, GIFT_EVENT_KIND);
    let mut last = 0;
    for event in events {
        let payload = serde_json::to_vec(event).expect("event JSON");
        last = nats.jetstream.publish(subject.clone(), payload.into()).await.expect("publish").await.expect("stored").sequence;
    }
    last
}

/// Waits until `ranking`'s gift consumer has acked the stream up to `sequence`.
async fn consumed(platform: &Platform, sequence: u64) {
    let nats = platform.nats().await;
    let stream = GIFT_STREAM.ensure(&nats).await.expect("gift stream");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(mut consumer) = stream.get_consumer::<pull::Config>(ranking::events::gifts::DURABLE).await
            && let Ok(info) = consumer.info().await
            && info.ack_floor.stream_sequence >= sequence
        {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "ranking did not consume the gifts in time");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn gift(channel: Uuid, streamer: &str, sender: &str, count: i64, sent_at: chrono::DateTime<Utc>) -> GiftEvent {
    GiftEvent {
        event_id: Uuid::now_v7(),
        channel_id: channel,
        streamer_id: streamer.parse().expect("streamer id"),
        gift_id: "rocket".into(),
        count,
        sender_id: sender.parse().expect("sender id"),
        room_id: None,
        unit_price: 0,
        total_value: 0,
        sent_at,
    }
}

#[tokio::test]
async fn admins_configure_week_star_boards_that_count_gifts_and_settle_with_best_supporters() {
    let platform = Platform::start().await;
    let (_, admin) = platform.admin("starboss").await;
    let users = platform.users("star", 4).await;
    let (streamer_a, streamer_b, fan_x, fan_y) = (&users[0].0, &users[1].0, &users[2].0, &users[3].0);
    let channel = Uuid::now_v7();
    let vars = json!({ "channel": channel, "gifts": ["rocket", "flower"] });

    // only admins configure
    assert_eq!(platform.gql(CONFIGURE, vars.clone(), None).await.codes(), ["UNAUTHENTICATED"]);
    assert_eq!(platform.gql(CONFIGURE, vars.clone(), Some(&users[0].1)).await.codes(), ["FORBIDDEN"]);
    let too_many = json!({ "channel": channel, "gifts": ["a", "b", "c", "d", "e"] });
    assert_eq!(platform.gql(CONFIGURE, too_many, Some(&admin)).await.codes(), ["BAD_USER_INPUT"]);
    let configured = platform.gql(CONFIGURE, vars.clone(), Some(&admin)).await.ok();
    let this_week = IsoWeek::containing(Utc::now(), chrono_tz::Tz::UTC);
    assert_eq!(
        configured.data("/configureWeekStarGifts"),
        &json!({
            "channelId": channel, "configured": true, "webVisible": true, "appVisible": true,
            "thisWeek": { "week": { "year": this_week.year(), "week": this_week.week() }, "giftIds": ["rocket", "flower"] },
            "nextWeek": { "giftIds": ["rocket", "flower"] },
        }),
        "a first configuration applies at once"
    );
    let history = platform
        .gql(
            "query($channel: ID!) { weekStarChannel(channelId: $channel) { changes { kind changedBy { username } } } }",
            json!({ "channel": channel }),
            Some(&admin),
        )
        .await
        .ok();
    assert_eq!(history.data("/weekStarChannel/changes"), &json!([{ "kind": "GIFTS", "changedBy": { "username": "starboss" } }]));
    let hidden = platform
        .gql("query($channel: ID!) { weekStarChannel(channelId: $channel) { changes { kind } } }", json!({ "channel": channel }), None)
        .await;
    assert_eq!(hidden.codes(), ["UNAUTHENTICATED"], "the history is for admins");

    // a realtime board, streamers resolved by `content` through the router
    let now = Utc::now();
    let sequence = publish(
        &platform,
        &[gift(channel, streamer_a, fan_x, 3, now - Days::seconds(2)), gift(channel, streamer_b, fan_y, 1, now - Days::seconds(1))],
    )
    .await;
    consumed(&platform, sequence).await;
    let boards = platform.gql(BOARDS, json!({ "channel": channel }), None).await.ok();
    assert_eq!(
        boards.data("/weekStarBoards"),
        &json!([
            { "giftId": "rocket", "week": { "year": this_week.year(), "week": this_week.week() }, "entries": [
                { "rank": 1, "giftCount": 3, "streamer": { "id": streamer_a, "username": "star0" } },
                { "rank": 2, "giftCount": 1, "streamer": { "id": streamer_b, "username": "star1" } },
            ] },
            { "giftId": "flower", "week": { "year": this_week.year(), "week": this_week.week() }, "entries": [] },
        ])
    );

    // a settled board of an earlier week (its gift set arranged in the database: the API only
    // configures from now on), settled by an admin, with the winner's best supporter
    let past = this_week.previous().previous();
    let db = platform.db();
    let mut conn = db.pool.get().await.expect("connection");
    ranking::store::weekstar::insert_gift_set(&mut conn, channel, past, &["rocket".to_owned()], Uuid::now_v7(), now)
        .await
        .expect("arrange a past gift set");
    drop(conn);
    let mid_week = past.starts_at(chrono_tz::Tz::UTC) + Days::days(2);
    let sequence = publish(
        &platform,
        &[
            gift(channel, streamer_b, fan_x, 5, mid_week),
            gift(channel, streamer_b, fan_y, 5, mid_week + Days::minutes(1)),
            gift(channel, streamer_a, fan_x, 4, mid_week),
        ],
    )
    .await;
    consumed(&platform, sequence).await;
    let settle = "mutation($year: Int!, $week: Int!) { settleWeekStarWeek(year: $year, week: $week) { week { year week } boards } }";
    let week_vars = json!({ "year": past.year(), "week": past.week() });
    assert_eq!(platform.gql(settle, week_vars.clone(), Some(&users[0].1)).await.codes(), ["FORBIDDEN"]);
    platform.gql(settle, week_vars, Some(&admin)).await.ok();
    let settled = platform.gql(SETTLED, json!({ "channel": channel, "year": past.year(), "week": past.week() }), None).await.ok();
    assert_eq!(
        settled.data("/settledWeekStarBoards"),
        &json!([{
            "giftId": "rocket", "skipped": false,
            "winner": { "streamer": { "username": "star1" }, "giftCount": 10 },
            "bestSupporter": { "user": { "username": "star2" }, "giftCount": 5 },
            "entries": [
                { "rank": 1, "giftCount": 10, "streamer": { "username": "star1" } },
                { "rank": 2, "giftCount": 4, "streamer": { "username": "star0" } },
            ],
        }]),
        "fan_x and fan_y both gave 5; fan_x (star2) got there a minute earlier"
    );

    // last week's boards and an unknown week answer without errors
    let last = platform
        .gql("query($channel: ID!) { lastWeekStarBoards(channelId: $channel) { giftId } }", json!({ "channel": channel }), None)
        .await;
    assert!(last.codes().is_empty(), "{:?}", last.body);
    let bad_week = platform.gql(SETTLED, json!({ "channel": channel, "year": 2025, "week": 53 }), None).await;
    assert_eq!(bad_week.codes(), ["BAD_USER_INPUT"], "2025 has 52 ISO weeks");
}
