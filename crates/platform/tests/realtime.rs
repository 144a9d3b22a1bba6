//! The real-time hub against the real NATS server: one NATS subscription per subject however many
//! local subscribers share it, and bounded per-subscriber queues.

use futures::StreamExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use vidgraph_platform::realtime::Hub;

fn nats_address() -> String {
    let url = vidgraph_platform::config::AppConfig::load().expect("configuration").nats.url;
    url.trim_start_matches("nats://").split(',').next().expect("a server").to_owned()
}

fn subject(name: &str) -> String {
    format!("vgtest_{}.realtime.{name}", uuid::Uuid::new_v4().simple())
}

/// Sits between one NATS client and the server and counts the `SUB` commands for one subject
/// and the `UNSUB` commands the client sends: what the server is asked to hold, whatever the
/// client library reports.
struct CountingProxy {
    address: String,
    subs: Arc<AtomicUsize>,
    unsubs: Arc<AtomicUsize>,
}

impl CountingProxy {
    async fn start(subject: &str) -> CountingProxy {
        let sub_prefix = format!("SUB {subject} ").into_bytes();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        let (subs, unsubs) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (sub_count, unsub_count) = (Arc::clone(&subs), Arc::clone(&unsubs));
        tokio::spawn(async move {
            let (client, _) = listener.accept().await.expect("accept");
            let server = TcpStream::connect(nats_address()).await.expect("connect to NATS");
            let (mut client_read, mut client_write) = client.into_split();
            let (mut server_read, mut server_write) = server.into_split();
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
            });
            let mut pending = Vec::new();
            let mut buffer = [0_u8; 8192];
            while let Ok(read) = client_read.read(&mut buffer).await {
                if read == 0 {
                    break;
                }
                // Counted before forwarding, so a command is counted before the server answers
                // anything sent after it. The hub's client never publishes here, so every line is
                // a protocol command.
                pending.extend_from_slice(&buffer[..read]);
                while let Some(end) = pending.windows(2).position(|pair| pair == b"\r\n") {
                    let line: Vec<u8> = pending.drain(..end + 2).collect();
                    if line.starts_with(&sub_prefix) {
                        sub_count.fetch_add(1, Ordering::SeqCst);
                    } else if line.starts_with(b"UNSUB ") {
                        unsub_count.fetch_add(1, Ordering::SeqCst);
                    }
                }
                if server_write.write_all(&buffer[..read]).await.is_err() {
                    break;
                }
            }
        });
        CountingProxy { address, subs, unsubs }
    }

    fn subs(&self) -> usize {
        self.subs.load(Ordering::SeqCst)
    }

    fn unsubs(&self) -> usize {
        self.unsubs.load(Ordering::SeqCst)
    }
}

async fn publisher() -> async_nats::Client {
    async_nats::connect(nats_address()).await.expect("publisher connects")
}

async fn publish(client: &async_nats::Client, subject: &str, payload: String) {
    client.publish(subject.to_owned(), payload.into()).await.expect("publish");
    client.flush().await.expect("flush");
}

async fn next_payload(subscription: &mut vidgraph_platform::realtime::Subscription) -> String {
    let payload = tokio::time::timeout(Duration::from_secs(10), subscription.next()).await.expect("a message in time").expect("open");
    String::from_utf8(payload.to_vec()).expect("utf-8")
}

async fn eventually(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn local_subscribers_of_one_subject_share_one_nats_subscription_until_the_last_leaves() {
    let subject = subject("shared");
    let proxy = CountingProxy::start(&subject).await;
    let client = async_nats::connect(&proxy.address).await.expect("connect through the proxy");
    let hub = Hub::new(client, 8);

    let mut subscriptions = Vec::new();
    for _ in 0..50 {
        subscriptions.push(hub.subscribe(&subject).await.expect("subscribe"));
    }
    assert_eq!((proxy.subs(), hub.topic_count(), hub.subscriber_count(&subject)), (1, 1, 50));

    publish(&publisher().await, &subject, "hello".into()).await;
    for subscription in &mut subscriptions {
        assert_eq!(next_payload(subscription).await, "hello");
    }

    let last = subscriptions.pop().expect("one left");
    drop(subscriptions);
    assert_eq!((hub.topic_count(), hub.subscriber_count(&subject)), (1, 1));
    drop(last);
    assert_eq!(hub.topic_count(), 0);
    eventually("the UNSUB of the last leave", || proxy.unsubs() == 1).await;

    // A new subscriber opens a new NATS subscription.
    let _again = hub.subscribe(&subject).await.expect("subscribe again");
    assert_eq!((proxy.subs(), hub.nats_subscriptions_opened()), (2, 2));
}

#[tokio::test]
async fn a_stalled_subscriber_drops_its_overflow_and_never_blocks_the_others() {
    let hub = Hub::new(async_nats::connect(nats_address()).await.expect("connect"), 4);
    let subject = subject("stalled");
    let stalled = hub.subscribe(&subject).await.expect("subscribe");
    let mut reader = hub.subscribe(&subject).await.expect("subscribe");
    let publisher = publisher().await;

    // The reader gets every message while the stalled subscriber is never polled.
    for n in 0..20 {
        publish(&publisher, &subject, n.to_string()).await;
        assert_eq!(next_payload(&mut reader).await, n.to_string());
    }
    eventually("16 drops at the stalled subscriber", || stalled.dropped() == 16).await;
    assert_eq!((stalled.queued(), reader.dropped(), hub.dropped_total()), (4, 0, 16));

    // It keeps what fitted (the oldest) and goes on from there.
    let mut stalled = stalled;
    for n in 0..4 {
        assert_eq!(next_payload(&mut stalled).await, n.to_string());
    }
    publish(&publisher, &subject, "after".into()).await;
    assert_eq!(next_payload(&mut stalled).await, "after");
}
