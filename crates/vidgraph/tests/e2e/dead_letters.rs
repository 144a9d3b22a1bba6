//! Dead letters through the router: a poison gift event set aside by `ranking`'s gift consumer
//! is listed and re-driven by admins only, each subgraph answering for its own consumers.

use crate::harness::Platform;
use platform::consumer::dead_letters::DeadLetters;
use platform::events::{GIFT_EVENT_KIND, GIFT_STREAM, GiftEvent};
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

const LIST: &str = "query($consumer: String!) { rankingDeadLetters(consumer: $consumer, first: 10) { \
    edges { cursor node { id consumer stream subject streamSequence deliveries reason payload } } hasNextPage endCursor } }";
const REDRIVE: &str = "mutation($ids: [ID!]!) { redriveRankingDeadLetters(ids: $ids) { id redriven subject } }";
const CONTENT_LIST: &str = "{ contentDeadLetters(consumer: \"content-follows\") { edges { node { id } } hasNextPage } }";

/// Waits until the gift consumer has set aside `count` dead letters.
async fn dead_lettered(platform: &Platform, count: usize) {
    let letters = DeadLetters::new(&platform.nats().await);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (page, _) = letters.list(Some(ranking::events::gifts::DURABLE), 100, None).await.expect("list");
        if page.len() >= count {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "no dead letter in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn admins_list_and_redrive_dead_letters_and_nobody_else_can() {
    let platform = Platform::start().await;
    let (_, admin) = platform.admin("deadboss").await;
    let users = platform.users("deaduser", 1).await;
    let user = &users[0].1;

    // A gift of count 0 can never be counted: the consumer sets it aside.
    let nats = platform.nats().await;
    GIFT_STREAM.ensure(&nats).await.expect("gift stream");
    let poison = GiftEvent {
        event_id: Uuid::now_v7(),
        channel_id: Uuid::now_v7(),
        streamer_id: Uuid::now_v7(),
        gift_id: "rocket".into(),
        count: 0,
        sender_id: Uuid::now_v7(),
        room_id: None,
        unit_price: 0,
        total_value: 0,
        sent_at: chrono::Utc::now(),
    };
    let subject = GIFT_STREAM.subject(&nats, GIFT_EVENT_KIND);
    nats.jetstream
        .publish(subject.clone(), serde_json::to_vec(&poison).expect("json").into())
        .await
        .expect("publish")
        .await
        .expect("stored");
    dead_lettered(&platform, 1).await;

    let vars = json!({ "consumer": ranking::events::gifts::DURABLE });
    assert_eq!(platform.gql(LIST, vars.clone(), None).await.codes(), ["UNAUTHENTICATED"]);
    assert_eq!(platform.gql(LIST, vars.clone(), Some(user)).await.codes(), ["FORBIDDEN"]);
    assert_eq!(platform.gql(CONTENT_LIST, json!({}), None).await.codes(), ["UNAUTHENTICATED"]);
    assert_eq!(platform.gql(CONTENT_LIST, json!({}), Some(user)).await.codes(), ["FORBIDDEN"]);
    let other = json!({ "consumer": content::events::follows::DURABLE });
    assert_eq!(platform.gql(LIST, other, Some(&admin)).await.codes(), ["BAD_USER_INPUT"], "content's consumer is content's to list");

    let listed = platform.gql(LIST, vars.clone(), Some(&admin)).await.ok();
    let node = listed.data("/rankingDeadLetters/edges/0/node").clone();
    assert_eq!(node["consumer"], ranking::events::gifts::DURABLE);
    assert_eq!(node["subject"], subject.as_str());
    assert_eq!(node["streamSequence"], 1);
    assert!(node["reason"].as_str().is_some_and(|reason| reason.contains("count 0")), "{node}");
    assert_eq!(serde_json::from_str::<GiftEvent>(node["payload"].as_str().expect("payload")).expect("the event"), poison);
    assert_eq!(listed.data("/rankingDeadLetters/hasNextPage"), &json!(false));
    let id = node["id"].clone();
    let empty = platform.gql(CONTENT_LIST, json!({}), Some(&admin)).await.ok();
    assert_eq!(empty.data("/contentDeadLetters/edges"), &json!([]));

    assert_eq!(platform.gql(REDRIVE, json!({ "ids": [id.clone()] }), None).await.codes(), ["UNAUTHENTICATED"]);
    assert_eq!(platform.gql(REDRIVE, json!({ "ids": [id.clone()] }), Some(user)).await.codes(), ["FORBIDDEN"]);
    assert_eq!(platform.gql(REDRIVE, json!({ "ids": ["not-an-id"] }), Some(&admin)).await.codes(), ["BAD_USER_INPUT"]);
    let redriven = platform.gql(REDRIVE, json!({ "ids": [id.clone()] }), Some(&admin)).await.ok();
    assert_eq!(redriven.data("/redriveRankingDeadLetters/0"), &json!({ "id": id, "redriven": true, "subject": subject }));
    let again = platform.gql(REDRIVE, json!({ "ids": [id.clone()] }), Some(&admin)).await.ok();
    assert_eq!(again.data("/redriveRankingDeadLetters/0/redriven"), &json!(false), "re-driven once");

    // Still a count of 0: back in the dead letters, under a new id.
    dead_lettered(&platform, 1).await;
    let relisted = platform.gql(LIST, vars, Some(&admin)).await.ok();
    let edges = relisted.data("/rankingDeadLetters/edges").as_array().expect("edges").clone();
    assert_eq!(edges.len(), 1);
    assert_ne!(edges[0]["node"]["id"], id);
    assert_eq!(edges[0]["node"]["streamSequence"], 2, "the re-driven copy");
}
