//! Helpers of the `live` end-to-end tests: channels, live rooms, funded wallets (through the
//! signed payment callback), and `live` replicas with a manual clock behind the router.

use crate::harness::{Platform, Reply};
use live::config::LiveConfig;
use live::domain::payments::{CallbackSigner, PaymentNotice, SIGNATURE_HEADER};
use platform::Deps;
use platform::clock::ManualClock;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

pub const CREATE_CHANNEL: &str =
    "mutation($slug: String!, $name: String!) { createChannel(input: { slug: $slug, name: $name }) { id slug name active } }";
pub const OPEN_ROOM: &str =
    "mutation($title: String!, $channel: ID!) { openRoom(input: { title: $title, channelId: $channel }) { id title isLive } }";
pub const START_LIVE: &str = "mutation { startLive { id isLive liveSince currentSession { id startedAt endedAt } } }";
pub const CREATE_ORDER: &str = "mutation($amount: Int!) { createRechargeOrder(amount: $amount, channel: CARD) { id amount status } }";
pub const SEND_GIFT: &str = "mutation($room: ID!, $gift: String!, $count: Int!, $key: String!) { \
    sendGift(roomId: $room, giftId: $gift, count: $count, idempotencyKey: $key) { id giftId count totalValue balance replayed pkId } }";
pub const MY_WALLET: &str = "{ myWallet { balance income } }";

/// Creates a channel as `admin`; returns its id.
pub async fn channel(platform: &Platform, admin: &str, slug: &str) -> String {
    let reply = platform.gql(CREATE_CHANNEL, json!({ "slug": slug, "name": slug }), Some(admin)).await.ok();
    reply.data("/createChannel/id").as_str().expect("channel id").to_owned()
}

/// Adds the seed's gifts to the catalogue as `admin` (flower 10, heart 100, rocket 5,000,
/// castle 50,000 minor units), checking that only admins may.
pub async fn gifts(platform: &Platform, admin: &str) {
    let create = "mutation($id: String!, $price: Int!) { createGift(input: { id: $id, name: $id, price: $price }) { id price active } }";
    let denied = platform.gql(create, json!({ "id": "flower", "price": 10 }), None).await;
    assert_eq!(denied.codes(), ["UNAUTHENTICATED"]);
    for (id, price) in live::seed::GIFTS.iter().map(|(id, _, price)| (*id, *price)) {
        let created = platform.gql(create, json!({ "id": id, "price": price }), Some(admin)).await.ok();
        assert_eq!(created.data("/createGift"), &json!({ "id": id, "price": price, "active": true }));
    }
}

/// Opens a room for `token`'s user in `channel` and starts a live session; returns the room id.
pub async fn live_room(platform: &Platform, token: &str, channel: &str) -> String {
    let opened = platform.gql(OPEN_ROOM, json!({ "title": "Live now", "channel": channel }), Some(token)).await.ok();
    platform.gql(START_LIVE, json!({}), Some(token)).await.ok();
    opened.data("/openRoom/id").as_str().expect("room id").to_owned()
}

/// The base URL (`http://host:port`) of a subgraph URL ending in `/graphql`.
pub fn base_url(graphql_url: &str) -> String {
    graphql_url.trim_end_matches("/graphql").to_owned()
}

/// POSTs a payment callback body to `live` at `base`, signed with `secret` (or unsigned).
pub async fn post_callback(base: &str, body: &[u8], secret: Option<&str>) -> (u16, Value) {
    let mut request =
        reqwest::Client::new().post(format!("{base}/payments/callback")).header("content-type", "application/json").body(body.to_vec());
    if let Some(secret) = secret {
        request = request.header(SIGNATURE_HEADER, CallbackSigner::new(secret).sign(body));
    }
    let response = request.send().await.expect("callback sent");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON answer"))
}

/// The body the provider sends for `order` (a `createRechargeOrder` reply) paid in full.
pub fn notice(order: &Reply) -> Vec<u8> {
    let id = order.data("/createRechargeOrder/id").as_str().expect("order id").parse().expect("uuid");
    let amount = order.data("/createRechargeOrder/amount").as_i64().expect("amount");
    serde_json::to_vec(&PaymentNotice { order_id: id, amount, provider_ref: format!("e2e-{id}") }).expect("JSON")
}

/// Recharges `amount` for `token`'s user: an order through the router, paid by a signed callback
/// to `live` at `live_base`.
pub async fn fund(platform: &Platform, live_base: &str, token: &str, amount: i64) {
    let order = platform.gql(CREATE_ORDER, json!({ "amount": amount }), Some(token)).await.ok();
    let (status, answer) = post_callback(live_base, &notice(&order), Some(live::config::DEV_PAYMENT_SECRET)).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("credited")), "{answer}");
}

/// A `live` replica on this test's backends, reading time from `clock`, on `port` (0: any).
pub struct LiveReplica {
    pub url: String,
    stop: Option<oneshot::Sender<()>>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl LiveReplica {
    pub async fn start(platform: &Platform, clock: Arc<ManualClock>, port: u16) -> LiveReplica {
        let mut config = platform.services.config();
        config.http.port = Some(port);
        let deps = Deps::connect(config, "live-manual").await.expect("backends");
        let settings = LiveConfig { timer_poll_ms: 100, ..LiveConfig::default() };
        let application = live::build_with(deps, settings, clock).await.expect("live builds");
        let url = format!("http://127.0.0.1:{}/graphql", application.port());
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(application.run_until(async move {
            let _ = stopped.await;
        }));
        LiveReplica { url, stop: Some(stop), served }
    }

    /// Stops it as a SIGTERM would: no new requests, in-flight ones finish, its background
    /// work (relay, timers) is aborted.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let stopped = tokio::time::timeout(Duration::from_secs(10), &mut self.served).await;
        assert!(stopped.is_ok(), "the live replica did not stop");
    }
}

/// Polls `query` through the router until `done` holds for its reply (bounded).
pub async fn eventually(platform: &Platform, query: &str, variables: Value, token: Option<&str>, done: impl Fn(&Reply) -> bool) -> Reply {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let reply = platform.gql(query, variables.clone(), token).await;
        if done(&reply) {
            return reply;
        }
        assert!(tokio::time::Instant::now() < deadline, "condition never held; last reply: {}", reply.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `live` as its own operating-system process (`vidgraph serve live`, the production entry
/// point) on this test's backends, so a test can SIGKILL it: no graceful shutdown, no
/// destructors, its connections and locks dropped by the kernel mid-flight.
pub struct LiveProcess {
    pub url: String,
    child: tokio::process::Child,
    log: std::path::PathBuf,
}

impl LiveProcess {
    /// Starts it on `port` with these PK phase lengths (seconds) and waits until it is ready.
    pub async fn start(platform: &Platform, port: u16, score_secs: u32, punishment_secs: u32) -> LiveProcess {
        use secrecy::ExposeSecret;
        let config = platform.services.config();
        let log = std::env::temp_dir().join(format!("vidgraph-live-{}.log", uuid::Uuid::new_v4().simple()));
        let log_file = std::fs::File::create(&log).expect("log file");
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_vidgraph"))
            .args(["serve", "live"])
            .env_remove(platform::config::CONFIG_FILE_ENV)
            .env("VIDGRAPH_DB__URL", config.db.url.expose_secret())
            .env("VIDGRAPH_DB__POOL_SIZE", "4")
            .env("VIDGRAPH_REDIS__URL", &config.redis.url)
            .env("VIDGRAPH_REDIS__KEY_PREFIX", &config.redis.key_prefix)
            .env("VIDGRAPH_NATS__URL", &config.nats.url)
            .env("VIDGRAPH_NATS__SUBJECT_PREFIX", &config.nats.subject_prefix)
            .env("VIDGRAPH_AUTH__KEY_DIR", &config.auth.key_dir)
            .env("VIDGRAPH_HTTP__HOST", "127.0.0.1")
            .env("VIDGRAPH_HTTP__PORT", port.to_string())
            .env("VIDGRAPH_LIVE__PK_SCORE_SECS", score_secs.to_string())
            .env("VIDGRAPH_LIVE__PK_PUNISHMENT_SECS", punishment_secs.to_string())
            .env("VIDGRAPH_LIVE__TIMER_POLL_MS", "200")
            .env("VIDGRAPH_TELEMETRY__FILTER", "warn")
            .stdin(std::process::Stdio::null())
            .stdout(log_file.try_clone().expect("log file"))
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .expect("start `vidgraph serve live`");
        let process = LiveProcess { url: format!("http://127.0.0.1:{port}/graphql"), child, log };
        let ready = format!("http://127.0.0.1:{port}/health/ready");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if reqwest::get(&ready).await.is_ok_and(|response| response.status().is_success()) {
                return process;
            }
            assert!(tokio::time::Instant::now() < deadline, "`vidgraph serve live` never got ready:\n{}", process.log_text());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// What it printed.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL, and waits until the kernel has reaped it.
    pub async fn kill_9(mut self) {
        use std::os::unix::process::ExitStatusExt;
        let pid = self.child.id().expect("still running");
        // The signal named outright, rather than whatever `Child::start_kill` sends.
        let status = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status().expect("kill -9");
        assert!(status.success(), "kill -9 {pid} failed");
        let exit = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await.expect("reaped in time").expect("wait");
        assert_eq!(exit.signal(), Some(9), "it died of SIGKILL, not a graceful stop: {exit:?}");
    }
}

impl Drop for LiveProcess {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.log);
    }
}
