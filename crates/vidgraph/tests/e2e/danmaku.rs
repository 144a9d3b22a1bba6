//! VOD danmaku through the router: sending rules, playback windows, the rate limit, counters
//! and stat events.

use crate::comments::{stat_counts, stat_events};
use crate::harness::{Platform, Reply};
use platform::events::StatAction;
use serde_json::{Value, json};

const SEND: &str = "mutation($input: SendDanmakuInput!) { sendDanmaku(input: $input) { id offsetMs text color mode createdAt authorId } }";
const WINDOW: &str = "query($video: ID!, $from: Int!, $to: Int!, $limit: Int) { danmaku(videoId: $video, fromMs: $from, toMs: $to, limit: $limit) { id offsetMs text } }";

fn assert_code(reply: &Reply, code: &str) {
    assert!(reply.status < 500, "status {} for {}", reply.status, reply.body);
    assert_eq!(reply.codes(), [code], "{}", reply.body);
}

async fn send(platform: &Platform, token: Option<&str>, input: Value) -> Reply {
    platform.gql(SEND, json!({ "input": input }), token).await
}

#[tokio::test]
async fn sending_checks_the_session_offset_text_colour_and_video() {
    let platform = Platform::start().await;
    let (ada, token, _) = platform.register("ada").await;
    // `insert_video` makes 600-second videos.
    let video = platform.insert_video(&ada, "concert").await;
    let token = Some(token.as_str());
    let input = |offset: i64, text: &str| json!({ "videoId": video, "offsetMs": offset, "text": text });

    assert_code(&send(&platform, None, input(0, "hi")).await, "UNAUTHENTICATED");
    assert_code(&send(&platform, token, input(-1, "hi")).await, "BAD_USER_INPUT");
    assert_code(&send(&platform, token, input(600_001, "hi")).await, "BAD_USER_INPUT");
    assert_code(&send(&platform, token, input(0, &"a".repeat(101))).await, "BAD_USER_INPUT");
    assert_code(&send(&platform, token, input(0, "  ")).await, "BAD_USER_INPUT");
    assert_code(&send(&platform, token, input(0, "two\nlines")).await, "BAD_USER_INPUT");
    for colour in ["FFFFFF", "#FFF", "#GGGGGG", "red"] {
        let bad = json!({ "videoId": video, "offsetMs": 0, "text": "hi", "color": colour });
        assert_code(&send(&platform, token, bad).await, "BAD_USER_INPUT");
    }
    let unknown = json!({ "videoId": uuid::Uuid::now_v7(), "offsetMs": 0, "text": "hi" });
    assert_code(&send(&platform, token, unknown).await, "NOT_FOUND");
    assert_eq!(stat_counts(&platform, &video).await, (0, 0), "nothing refused was counted");

    let plain = send(&platform, token, input(600_000, &format!(" {} ", "弹".repeat(100)))).await.ok();
    assert_eq!(plain.data("/sendDanmaku/offsetMs"), &json!(600_000), "the very end of the video is allowed");
    assert_eq!(plain.data("/sendDanmaku/text").as_str().map(|t| t.chars().count()), Some(100));
    assert_eq!(plain.data("/sendDanmaku/color"), &json!("#FFFFFF"));
    assert_eq!(plain.data("/sendDanmaku/mode"), &json!("SCROLL"));
    assert_eq!(plain.data("/sendDanmaku/authorId"), &json!(ada));
    let styled = json!({ "videoId": video, "offsetMs": 1500, "text": "top!", "color": "#00a1d6", "mode": "TOP" });
    let styled = send(&platform, token, styled).await.ok();
    assert_eq!(styled.data("/sendDanmaku/color"), &json!("#00A1D6"));
    assert_eq!(styled.data("/sendDanmaku/mode"), &json!("TOP"));

    assert_eq!(stat_counts(&platform, &video).await, (0, 2));
    let events = stat_events(&platform, 2).await;
    let summary: Vec<(StatAction, i64)> = events.iter().map(|e| (e.action, e.delta.danmaku)).collect();
    assert_eq!(summary, [(StatAction::Danmaku, 1), (StatAction::Danmaku, 1)]);
    assert_eq!(events.last().map(|e| e.totals.danmaku), Some(2));
}

#[tokio::test]
async fn a_playback_window_lists_exactly_its_danmaku_in_order() {
    let platform = Platform::start().await;
    let (owner, _, _) = platform.register("owner").await;
    let video = platform.insert_video(&owner, "film").await;
    let viewers = platform.users("viewer", 2).await;

    // Sent out of order, by two viewers (each stays under the rate limit).
    let offsets = [60_000, 5_001, 1_000, 0, 5_000, 999, 1_000];
    let mut sent = Vec::new();
    for (n, offset) in offsets.iter().enumerate() {
        let token = &viewers[n % 2].1;
        let reply =
            send(&platform, Some(token), json!({ "videoId": video, "offsetMs": offset, "text": format!("at {offset}") })).await.ok();
        sent.push((*offset, reply.data("/sendDanmaku/id").as_str().expect("id").to_owned()));
    }
    sent.sort();

    let window = |from: i64, to: i64, limit: Option<i64>| json!({ "video": video, "from": from, "to": to, "limit": limit });
    let listed = platform.gql(WINDOW, window(1_000, 5_001, None), None).await.ok();
    let listed: Vec<(i64, String)> = listed
        .data("/danmaku")
        .as_array()
        .expect("list")
        .iter()
        .map(|d| (d["offsetMs"].as_i64().expect("offset"), d["id"].as_str().expect("id").to_owned()))
        .collect();
    let expected: Vec<(i64, String)> = sent.iter().filter(|(offset, _)| (1_000..5_001).contains(offset)).cloned().collect();
    assert_eq!(listed.iter().map(|(offset, _)| *offset).collect::<Vec<_>>(), [1_000, 1_000, 5_000]);
    assert_eq!(listed, expected, "from ≤ offset < to, in (offset, id) order");

    let limited = platform.gql(WINDOW, window(0, 600_000, Some(2)), None).await.ok();
    assert_eq!(
        limited.data("/danmaku").as_array().map(|l| l.iter().map(|d| d["offsetMs"].clone()).collect::<Vec<_>>()),
        Some(vec![json!(0), json!(999)])
    );
    let everything = platform.gql(WINDOW, window(0, 600_000, None), None).await.ok();
    assert_eq!(everything.data("/danmaku").as_array().map(Vec::len), Some(7));

    for bad in [
        window(0, 600_001, None),
        window(-1, 1_000, None),
        window(1_000, 1_000, None),
        window(0, 1_000, Some(0)),
        window(0, 1_000, Some(5001)),
    ] {
        assert_code(&platform.gql(WINDOW, bad, None).await, "BAD_USER_INPUT");
    }
    let unknown = json!({ "video": uuid::Uuid::now_v7(), "from": 0, "to": 1000 });
    assert_code(&platform.gql(WINDOW, unknown, None).await, "NOT_FOUND");

    assert_eq!(stat_counts(&platform, &video).await, (0, 7));
    assert!(stat_events(&platform, 7).await.iter().all(|e| e.action == StatAction::Danmaku && e.video_id.to_string() == video));
}

#[tokio::test]
async fn sending_faster_than_ten_per_ten_seconds_is_rate_limited_per_user() {
    let platform = Platform::start().await;
    let (owner, _, _) = platform.register("owner").await;
    let video = platform.insert_video(&owner, "stream").await;
    let users = platform.users("spammer", 2).await;
    let input = json!({ "videoId": video, "offsetMs": 0, "text": "spam" });

    for _ in 0..10 {
        send(&platform, Some(&users[0].1), input.clone()).await.ok();
    }
    assert_code(&send(&platform, Some(&users[0].1), input.clone()).await, "RATE_LIMITED");
    send(&platform, Some(&users[1].1), input).await.ok();
    assert_eq!(stat_counts(&platform, &video).await, (0, 11), "the refused one was not counted");
}
