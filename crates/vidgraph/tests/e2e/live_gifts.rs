//! Wallet, recharge and gifts through the router: a recharge credited by the signed callback
//! (and not by an unsigned or tampered one), gifts that debit the sender, credit the
//! streamer's income and reach `ranking`'s week-star board with the right count.

use crate::harness::Platform;
use crate::live_support::{CREATE_ORDER, MY_WALLET, SEND_GIFT, base_url, channel, eventually, gifts, live_room, notice, post_callback};
use serde_json::json;

const CONFIGURE: &str =
    "mutation($channel: ID!, $gifts: [String!]!) { configureWeekStarGifts(channelId: $channel, giftIds: $gifts) { configured } }";
const BOARDS: &str = "query($channel: ID!) { weekStarBoards(channelId: $channel, client: WEB) { giftId entries { rank giftCount streamer { id username } } } }";

#[tokio::test]
async fn gifts_sent_through_live_debit_once_credit_the_streamer_and_count_on_the_week_star_board() {
    let platform = Platform::start().await;
    let (_, admin) = platform.admin("giftboss").await;
    let users = platform.users("gifter", 2).await;
    let ((streamer, streamer_token), (fan, fan_token)) = (&users[0], &users[1]);
    let live = base_url(&platform.subgraph_urls["live"]);
    let secret = live::config::DEV_PAYMENT_SECRET.to_owned();
    let music = channel(&platform, &admin, "music").await;
    gifts(&platform, &admin).await;
    platform.gql(CONFIGURE, json!({ "channel": music, "gifts": ["rocket"] }), Some(&admin)).await.ok();
    let room = live_room(&platform, streamer_token, &music).await;

    // Bounds of a recharge.
    assert_eq!(platform.gql(CREATE_ORDER, json!({ "amount": 5 }), Some(fan_token)).await.codes(), ["BAD_USER_INPUT"]);
    assert_eq!(platform.gql(CREATE_ORDER, json!({ "amount": 100 }), None).await.codes(), ["UNAUTHENTICATED"]);
    // A recharge: unsigned and tampered callbacks credit nothing, the signed one credits once.
    let order = platform.gql(CREATE_ORDER, json!({ "amount": 20_000 }), Some(fan_token)).await.ok();
    let body = notice(&order);
    let (status, answer) = post_callback(&live, &body, None).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (401, Some("UNAUTHENTICATED")));
    let tampered = String::from_utf8(body.clone()).expect("utf8").replace("20000", "90000000");
    let mut forged = reqwest::Client::new().post(format!("{live}/payments/callback")).header("content-type", "application/json");
    forged = forged.header("x-payment-signature", live::domain::payments::CallbackSigner::new(&secret).sign(&body)).body(tampered);
    assert_eq!(forged.send().await.expect("sent").status().as_u16(), 401);
    assert_eq!(platform.gql(MY_WALLET, json!({}), Some(fan_token)).await.ok().data("/myWallet/balance"), &json!(0));
    for expected in ["credited", "already_credited", "already_credited"] {
        let (status, answer) = post_callback(&live, &body, Some(&secret)).await;
        assert_eq!((status, answer["status"].as_str()), (200, Some(expected)), "{answer}");
    }
    assert_eq!(platform.gql(MY_WALLET, json!({}), Some(fan_token)).await.ok().data("/myWallet/balance"), &json!(20_000));

    // Gifts: 3 rockets (5,000 each) in two sends, one retried; then a short balance.
    let send = |count: i64, key: &str| json!({ "room": room, "gift": "rocket", "count": count, "key": key });
    let first = platform.gql(SEND_GIFT, send(2, "g1"), Some(fan_token)).await.ok();
    assert_eq!(first.data("/sendGift/balance"), &json!(10_000));
    let retried = platform.gql(SEND_GIFT, send(2, "g1"), Some(fan_token)).await.ok();
    assert_eq!((retried.data("/sendGift/replayed"), retried.data("/sendGift/id")), (&json!(true), first.data("/sendGift/id")));
    platform.gql(SEND_GIFT, send(1, "g2"), Some(fan_token)).await.ok();
    let short = platform.gql(SEND_GIFT, send(2, "g3"), Some(fan_token)).await;
    assert_eq!(short.codes(), ["QUOTA_EXCEEDED"], "5,000 left, 10,000 asked");
    for (bad, code) in [(send(0, "g4"), "BAD_USER_INPUT"), (send(100_000, "g5"), "BAD_USER_INPUT")] {
        assert_eq!(platform.gql(SEND_GIFT, bad, Some(fan_token)).await.codes(), [code]);
    }
    let unknown = json!({ "room": room, "gift": "unicorn", "count": 1, "key": "g6" });
    assert_eq!(platform.gql(SEND_GIFT, unknown, Some(fan_token)).await.codes(), ["NOT_FOUND"]);
    assert_eq!(platform.gql(MY_WALLET, json!({}), Some(fan_token)).await.ok().data("/myWallet/balance"), &json!(5_000));
    assert_eq!(platform.gql(MY_WALLET, json!({}), Some(streamer_token)).await.ok().data("/myWallet/income"), &json!(15_000));

    // The board counts each gift once, whatever the retries.
    let board = eventually(&platform, BOARDS, json!({ "channel": music }), None, |reply| {
        reply.data("/weekStarBoards/0/entries/0/giftCount") == &json!(3)
    })
    .await;
    assert_eq!(
        board.data("/weekStarBoards/0/entries"),
        &json!([{ "rank": 1, "giftCount": 3, "streamer": { "id": streamer, "username": "gifter0" } }])
    );

    // The audit agrees with every wallet; only admins may run it.
    let audit = "{ walletAudit { walletsChecked discrepancies { user { id } } } }";
    assert_eq!(platform.gql(audit, json!({}), Some(fan_token)).await.codes(), ["FORBIDDEN"]);
    let report = platform.gql(audit, json!({}), Some(&admin)).await.ok();
    assert_eq!(report.data("/walletAudit"), &json!({ "walletsChecked": 2, "discrepancies": [] }));

    // `vidgraph pay` plays the provider; `vidgraph wallet-check` agrees, until a wallet is
    // changed behind the ledger's back, which both the CLI and the audit report.
    let config = platform.services.config();
    let order = platform.gql(CREATE_ORDER, json!({ "amount": 1_000 }), Some(fan_token)).await.ok();
    let order_id = order.data("/createRechargeOrder/id").as_str().expect("id").to_owned();
    vidgraph::live_cli::pay(&config, &order_id, &live).await.expect("paid");
    assert_eq!(platform.gql(MY_WALLET, json!({}), Some(fan_token)).await.ok().data("/myWallet/balance"), &json!(6_000));
    assert!(vidgraph::live_cli::pay(&config, &order_id, &live).await.is_ok(), "a replay is answered, not credited");
    assert_eq!(platform.gql(MY_WALLET, json!({}), Some(fan_token)).await.ok().data("/myWallet/balance"), &json!(6_000));
    vidgraph::live_cli::wallet_check(&config).await.expect("all wallets agree");
    let db = platform.db();
    let mut conn = db.pool.get().await.expect("connection");
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query("UPDATE live.wallets SET balance = balance + 7 WHERE user_id = $1")
            .bind::<diesel::sql_types::Uuid, _>(fan.parse::<uuid::Uuid>().expect("id")),
        &mut conn,
    )
    .await
    .expect("tamper");
    assert!(vidgraph::live_cli::wallet_check(&config).await.is_err(), "the CLI reports the difference");
    let report = platform.gql(audit, json!({}), Some(&admin)).await.ok();
    assert_eq!(report.data("/walletAudit/discrepancies"), &json!([{ "user": { "id": fan } }]));
}
