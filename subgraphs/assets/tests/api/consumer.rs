//! The platform consumer's pool mode, which the download workers run on: a handler that runs
//! far longer than the ack wait keeps its delivery (no second delivery while it works), and a
//! long handler holds one slot, not the pool.

use platform::consumer::{Delivery, DurableConsumer, Failure, Handler, Order};
use platform::events::StreamSpec;
use platform::testkit::TestServices;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const STREAM: StreamSpec = StreamSpec { name: "POOL_TEST", subjects: "pooltest", max_age: Duration::from_secs(600) };

#[derive(Clone, Default)]
struct Recorder {
    /// Deliveries per payload.
    deliveries: Arc<Mutex<HashMap<String, u32>>>,
    /// Payloads in the order their handler finished.
    finished: Arc<Mutex<Vec<String>>>,
}

impl Handler for Recorder {
    async fn handle(&self, delivery: &Delivery) -> Result<(), Failure> {
        let name = String::from_utf8_lossy(&delivery.payload).into_owned();
        *self.deliveries.lock().expect("lock").entry(name.clone()).or_default() += 1;
        // `long` works for three ack waits; the others are quick.
        let work = if name == "long" { Duration::from_millis(3500) } else { Duration::from_millis(50) };
        tokio::time::sleep(work).await;
        self.finished.lock().expect("lock").push(name);
        Ok(())
    }
}

#[tokio::test]
async fn a_pooled_handler_longer_than_the_ack_wait_is_delivered_once_and_holds_one_slot() {
    let services = TestServices::new().await;
    let nats = platform::nats::Nats::connect(&services.config().nats).await.expect("nats");
    STREAM.ensure(&nats).await.expect("stream");
    let recorder = Recorder::default();
    let consumer = DurableConsumer::new(STREAM, "pool-test", recorder.clone()).order(Order::Pool(2)).ack_wait(Duration::from_secs(1));
    let running = tokio::spawn(consumer.run(nats.clone()));
    let subject = STREAM.subject(&nats, "work");
    for name in ["long", "a", "b", "c", "d"] {
        nats.jetstream.publish(subject.clone(), name.as_bytes().to_vec().into()).await.expect("publish").await.expect("stored");
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while recorder.finished.lock().expect("lock").len() < 5 {
        assert!(tokio::time::Instant::now() < deadline, "not all handled: {:?}", recorder.finished.lock().expect("lock"));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // All acked (a redelivery of `long` while it ran would have counted a second delivery).
    let lag_deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let lag = platform::consumer::lag(&nats, &STREAM, "pool-test").await.expect("lag");
        if lag.caught_up() {
            break;
        }
        assert!(tokio::time::Instant::now() < lag_deadline, "not acked: {lag:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    running.abort();
    let deliveries = recorder.deliveries.lock().expect("lock").clone();
    assert!(deliveries.values().all(|count| *count == 1), "every message handled once: {deliveries:?}");
    let finished = recorder.finished.lock().expect("lock").clone();
    assert_eq!(finished.last().map(String::as_str), Some("long"), "the quick ones went through the other slot: {finished:?}");
}
