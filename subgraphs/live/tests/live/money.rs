//! Money: concurrent gifts against one wallet, payment callbacks replayed, raced, unsigned and
//! tampered, and bad gift requests that write nothing.

use crate::harness::{World, user};
use platform::error::{CodedError, ErrorCode};
use vidgraph_live::domain::LiveError;
use vidgraph_live::domain::gifts::SendGift;
use vidgraph_live::domain::payments::{PaymentNotice, SignatureError};
use vidgraph_live::domain::wallet::{CallbackError, CallbackOutcome, PaymentChannel};

#[tokio::test]
async fn a_thousand_concurrent_gifts_never_overdraw_a_wallet_and_every_sum_matches_its_ledger() {
    let world = World::start().await;
    let (streamer, room) = world.live_streamer().await;
    let fan = user();
    // 5,000 minor units buy exactly 500 flowers at 10.
    world.fund(fan, 5_000).await;

    let sends = (0..1_000).map(|n| {
        let gifts = world.live.gifts.clone();
        let request = SendGift::parse(room.id, "flower".into(), 1, format!("gift-{n}")).expect("request");
        tokio::spawn(async move { gifts.send(fan, request).await })
    });
    let outcomes = futures::future::join_all(sends).await;
    let (mut sent, mut refused) = (0, 0);
    for outcome in outcomes {
        match outcome.expect("task") {
            Ok(receipt) => {
                assert!(receipt.balance >= 0);
                sent += 1;
            }
            Err(LiveError::InsufficientBalance { .. }) => refused += 1,
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!((sent, refused), (500, 500));

    let fan_wallet = world.live.wallets.wallet(fan.id).await.expect("wallet");
    let streamer_wallet = world.live.wallets.wallet(streamer.id).await.expect("wallet");
    assert_eq!(fan_wallet.balance, 0, "no overdraft, nothing left over");
    assert_eq!(streamer_wallet.income, 5_000, "the streamer's income is what the fan spent");
    let (checked, differing) = world.live.wallets.audit(world.admin, 10).await.expect("audit");
    assert_eq!(checked, 2);
    assert!(differing.is_empty(), "balances and ledgers agree: {differing:?}");
    let ledger = world.live.wallets.ledger(fan.id, None, 2_000).await.expect("ledger");
    assert_eq!(ledger.len(), 501, "one recharge and 500 debits");
}

#[tokio::test]
async fn a_payment_callback_replayed_and_raced_credits_once() {
    let world = World::start().await;
    let payer = user();
    let order = world.live.wallets.create_order(payer, 1_000, PaymentChannel::Alipay).await.expect("order");
    let body = serde_json::to_vec(&PaymentNotice { order_id: order.id, amount: 1_000, provider_ref: "alipay-77".into() }).expect("json");
    let signature = world.signer.sign(&body);

    let raced = (0..20).map(|_| {
        let (wallets, body, signature) = (world.live.wallets.clone(), body.clone(), signature.clone());
        tokio::spawn(async move { wallets.handle_callback(&body, Some(&signature)).await })
    });
    let outcomes: Vec<_> =
        futures::future::join_all(raced).await.into_iter().map(|outcome| outcome.expect("task").expect("accepted")).collect();
    let credited = outcomes.iter().filter(|outcome| matches!(outcome, CallbackOutcome::Credited(_))).count();
    assert_eq!(credited, 1, "exactly one of the raced deliveries credits");
    for _ in 0..3 {
        let replay = world.live.wallets.handle_callback(&body, Some(&signature)).await.expect("accepted");
        assert!(matches!(replay, CallbackOutcome::AlreadyCredited(_)), "{replay:?}");
    }
    assert_eq!(world.live.wallets.wallet(payer.id).await.expect("wallet").balance, 1_000);
    assert_eq!(world.live.wallets.ledger(payer.id, None, 10).await.expect("ledger").len(), 1);
    assert_eq!(world.live.wallets.order(payer, order.id).await.expect("order").status, "paid");
}

#[tokio::test]
async fn unsigned_tampered_or_mismatched_callbacks_credit_nothing() {
    let world = World::start().await;
    let payer = user();
    let order = world.live.wallets.create_order(payer, 1_000, PaymentChannel::Wechat).await.expect("order");
    let body = serde_json::to_vec(&PaymentNotice { order_id: order.id, amount: 1_000, provider_ref: "wx-1".into() }).expect("json");
    let signature = world.signer.sign(&body);

    let unsigned = world.live.wallets.handle_callback(&body, None).await;
    assert!(matches!(unsigned, Err(CallbackError::Signature(SignatureError::Missing))), "{unsigned:?}");
    let tampered = String::from_utf8(body.clone()).expect("utf8").replace("1000", "900000");
    let forged = world.live.wallets.handle_callback(tampered.as_bytes(), Some(&signature)).await;
    assert!(matches!(forged, Err(CallbackError::Signature(SignatureError::Invalid))), "{forged:?}");
    // Signed, but for another amount than the order's.
    let wrong = serde_json::to_vec(&PaymentNotice { order_id: order.id, amount: 999, provider_ref: "wx-1".into() }).expect("json");
    let mismatch = world.live.wallets.handle_callback(&wrong, Some(&world.signer.sign(&wrong))).await;
    assert!(matches!(mismatch, Err(CallbackError::AmountMismatch)), "{mismatch:?}");
    let unknown =
        serde_json::to_vec(&PaymentNotice { order_id: uuid::Uuid::now_v7(), amount: 1_000, provider_ref: "x".into() }).expect("json");
    assert!(matches!(
        world.live.wallets.handle_callback(&unknown, Some(&world.signer.sign(&unknown))).await,
        Err(CallbackError::UnknownOrder)
    ));

    assert_eq!(world.live.wallets.wallet(payer.id).await.expect("wallet").balance, 0);
    assert_eq!(world.live.wallets.order(payer, order.id).await.expect("order").status, "pending");
    assert!(world.live.wallets.ledger(payer.id, None, 10).await.expect("ledger").is_empty());
}

#[tokio::test]
async fn bad_gift_requests_are_coded_errors_and_write_nothing() {
    let world = World::start().await;
    let (streamer, room) = world.live_streamer().await;
    let fan = user();
    world.fund(fan, 100).await;
    let send = |gift: &str, count: i32, key: &str| SendGift::parse(room.id, gift.into(), count, key.into());

    let short = world.live.gifts.send(fan, send("rocket", 1, "k1").expect("valid")).await.expect_err("100 < 5000");
    assert!(matches!(short, LiveError::InsufficientBalance { balance: 100, cost: 5_000 }), "{short:?}");
    assert_eq!(short.code(), ErrorCode::QuotaExceeded);
    let unknown = world.live.gifts.send(fan, send("unicorn", 1, "k2").expect("valid")).await.expect_err("no such gift");
    assert_eq!(unknown.code(), ErrorCode::NotFound);
    assert_eq!(send("flower", 0, "k3").expect_err("zero").code(), ErrorCode::BadUserInput);
    assert_eq!(send("flower", 1_000_000, "k3").expect_err("huge").code(), ErrorCode::BadUserInput);
    let own = world.live.gifts.send(streamer, send("flower", 1, "k4").expect("valid")).await.expect_err("own room");
    assert_eq!(own.code(), ErrorCode::BadUserInput);

    world.live.rooms.stop_live(streamer, None).await.expect("stop");
    let offline = world.live.gifts.send(fan, send("flower", 1, "k5").expect("valid")).await.expect_err("not live");
    assert_eq!(offline.code(), ErrorCode::Conflict);

    assert_eq!(world.live.wallets.wallet(fan.id).await.expect("wallet").balance, 100, "nothing was debited");
    assert_eq!(world.live.wallets.wallet(streamer.id).await.expect("wallet").income, 0);
    assert_eq!(world.live.wallets.ledger(fan.id, None, 10).await.expect("ledger").len(), 1, "only the recharge");
}

#[tokio::test]
async fn a_retried_gift_returns_the_first_result_and_charges_once() {
    let world = World::start().await;
    let (_, room) = world.live_streamer().await;
    let fan = user();
    world.fund(fan, 1_000).await;
    let request = || SendGift::parse(room.id, "heart".into(), 2, "retry-me".into()).expect("valid");
    let first = world.live.gifts.send(fan, request()).await.expect("sent");
    let again = world.live.gifts.send(fan, request()).await.expect("replayed");
    assert!(!first.replayed && again.replayed);
    assert_eq!(first.gift.id, again.gift.id);
    assert_eq!(world.live.wallets.wallet(fan.id).await.expect("wallet").balance, 800);
    let other = SendGift::parse(room.id, "flower".into(), 2, "retry-me".into()).expect("valid");
    assert_eq!(world.live.gifts.send(fan, other).await.expect_err("key reused").code(), ErrorCode::Conflict);
}

#[tokio::test]
async fn the_seed_adds_rooms_for_streamers_once() {
    let world = World::start().await;
    let streamers = [(user().id, "demo".to_owned()), (user().id, "uploader01".to_owned())];
    let mut conn = world.deps.db.pool.get().await.expect("connection");
    let first = vidgraph_live::seed::run(&mut conn, &streamers).await.expect("seed");
    assert_eq!((first.channels, first.gifts, first.rooms), (0, 0, 2), "the world seeded channels and gifts already");
    let again = vidgraph_live::seed::run(&mut conn, &streamers).await.expect("seed");
    assert_eq!((again.channels, again.gifts, again.rooms), (0, 0, 0));
    let room = world.live.rooms.room_of(streamers[0].0).await.expect("read").expect("a room");
    assert_eq!(room.title, "demo's room");
}

#[tokio::test]
async fn a_user_creates_at_most_twenty_recharge_orders_an_hour() {
    let world = World::start().await;
    let payer = user();
    for _ in 0..20 {
        world.live.wallets.create_order(payer, 100, PaymentChannel::Card).await.expect("order");
    }
    let refused = world.live.wallets.create_order(payer, 100, PaymentChannel::Card).await.expect_err("limited");
    assert_eq!(refused.code(), ErrorCode::RateLimited);
    world.live.wallets.create_order(user(), 100, PaymentChannel::Card).await.expect("another user has their own budget");
}
