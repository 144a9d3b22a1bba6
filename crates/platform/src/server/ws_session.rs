//! One GraphQL WebSocket connection (`graphql-transport-ws`, and the legacy `graphql-ws`): the
//! protocol, its subscriptions and a bounded output.
//!
//! The router multiplexes every subscription with the same headers over ONE socket (all
//! anonymous viewers of a live room share it), so one congested socket can carry thousands of
//! subscriptions. Three rules keep a connection cheap however many it carries and however slowly
//! its peer reads:
//!
//! - **Bounded output.** Frames wait in a queue of at most [`OUTPUT_QUEUE_FRAMES`]. A
//!   subscription is polled only when the queue has room for its next frame, so a full queue
//!   pauses the producers instead of growing; their sources (the real-time hub's per-subscriber
//!   queues) then drop and count what they cannot hold. Nothing on this path buffers without
//!   bound.
//! - **Write coalescing.** A writer task takes up to [`WRITE_BATCH_FRAMES`] queued frames at a
//!   time, writes them and flushes once: one event fanned out to N subscriptions of a socket
//!   costs a few large writes, not N small ones.
//! - **Wake-driven polling.** Subscriptions sit in a `SelectAll`, which polls only the streams
//!   that were woken: an event on one of N subscriptions costs O(1), not a scan of all N (the
//!   scan is what made async-graphql's own connection loop quadratic at thousands of
//!   subscriptions per socket, starving some of them for minutes).

use crate::error::ensure_error_codes;
use async_graphql::http::{ClientMessage, WebSocketProtocols as Protocols};
use async_graphql::{Data, Executor, Response};
use axum::extract::ws::{CloseFrame, Message};
use futures::stream::{AbortHandle, Abortable, BoxStream, SelectAll};
use futures::{Sink, SinkExt, Stream, StreamExt};
use serde::Serialize;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// Frames one connection may have waiting for its socket.
pub(crate) const OUTPUT_QUEUE_FRAMES: usize = 256;
/// Frames written per flush.
pub(crate) const WRITE_BATCH_FRAMES: usize = 64;
/// How long the writer may take to send what is queued once the connection is over.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Counters of one connection's output (also summed into process metrics).
#[derive(Debug, Default)]
pub(crate) struct OutputStats {
    queued: AtomicUsize,
    most_queued: AtomicUsize,
    written: AtomicU64,
}

impl OutputStats {
    /// Frames waiting for the socket now.
    #[cfg_attr(not(test), expect(dead_code, reason = "read by tests; metrics carry it in production"))]
    pub(crate) fn queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    /// The most frames that were ever waiting at once.
    #[cfg_attr(not(test), expect(dead_code, reason = "read by tests; metrics carry it in production"))]
    pub(crate) fn most_queued(&self) -> usize {
        self.most_queued.load(Ordering::Acquire)
    }

    /// Frames handed to the socket.
    #[cfg_attr(not(test), expect(dead_code, reason = "read by tests; metrics carry it in production"))]
    pub(crate) fn written(&self) -> u64 {
        self.written.load(Ordering::Acquire)
    }
}

/// Serves one connection until either side ends it. `on_init` turns the `connection_init`
/// payload into the connection's data (the viewer), or refuses it.
pub(crate) async fn run<E, S, I, OnInit, Fut>(sink: S, input: I, executor: E, protocol: Protocols, on_init: OnInit, stats: Arc<OutputStats>)
where
    E: Executor,
    S: Sink<Message> + Send + Unpin + 'static,
    I: Stream<Item = Result<Message, axum::Error>> + Unpin,
    OnInit: FnOnce(serde_json::Value) -> Fut,
    Fut: Future<Output = async_graphql::Result<Data>>,
{
    let (frames, queue) = mpsc::channel(OUTPUT_QUEUE_FRAMES);
    let writer = tokio::spawn(write_frames(sink, queue, Arc::clone(&stats)));
    let writer_abort = writer.abort_handle();
    let mut session = Session {
        executor,
        protocol,
        on_init: Some(on_init),
        data: None,
        streams: SelectAll::new(),
        active: HashMap::new(),
        output: Output { frames, stats },
    };
    session.drive(input).await;
    // Dropping the sender lets the writer send what is queued, then close the socket.
    drop(session);
    if tokio::time::timeout(CLOSE_GRACE, writer).await.is_err() {
        writer_abort.abort();
    }
}

/// What one subscription produced.
enum Event {
    /// Boxed: a response is large, and most events of a busy socket wait in `SelectAll` briefly.
    Next(Arc<str>, Box<Response>),
    Done(Arc<str>),
}

struct Session<E, OnInit> {
    executor: E,
    protocol: Protocols,
    on_init: Option<OnInit>,
    /// Set by a successful `connection_init`.
    data: Option<Arc<Data>>,
    streams: SelectAll<BoxStream<'static, Event>>,
    /// Running subscriptions by client id.
    active: HashMap<String, AbortHandle>,
    output: Output,
}

/// Whether the connection goes on after a client message.
enum Flow {
    Continue,
    /// Close with this code and reason.
    Close(u16, String),
    /// The client ended the connection.
    End,
}

impl<E, OnInit, Fut> Session<E, OnInit>
where
    E: Executor,
    OnInit: FnOnce(serde_json::Value) -> Fut,
    Fut: Future<Output = async_graphql::Result<Data>>,
{
    async fn drive<I>(&mut self, mut input: I)
    where
        I: Stream<Item = Result<Message, axum::Error>> + Unpin,
    {
        // A reserved slot of the output queue: a subscription is polled only while we hold one.
        let mut slot = None;
        loop {
            tokio::select! {
                // Client messages first: a `complete` stops a subscription before its next event.
                biased;
                message = input.next() => {
                    // Returned to the queue: handling a message may queue a protocol frame.
                    slot = None;
                    let flow = match message {
                        Some(Ok(Message::Text(text))) => self.handle(text.as_bytes()).await,
                        Some(Ok(Message::Binary(bytes))) => self.handle(&bytes).await,
                        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => Flow::End,
                        // WebSocket pings are answered by the protocol layer.
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Flow::Continue,
                    };
                    match flow {
                        Flow::Continue => {}
                        Flow::End => return,
                        Flow::Close(code, reason) => {
                            self.output.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
                            return;
                        }
                    }
                }
                reserved = self.output.frames.clone().reserve_owned(), if slot.is_none() && !self.streams.is_empty() => match reserved {
                    Ok(permit) => slot = Some(permit),
                    // The writer is gone: the socket failed.
                    Err(_) => return,
                },
                Some(event) = self.streams.next(), if slot.is_some() => {
                    let Some(permit) = slot.take() else { continue };
                    let frame = match event {
                        Event::Next(id, mut response) => {
                            ensure_error_codes(&mut response);
                            next_frame(self.protocol, &id, &response)
                        }
                        Event::Done(id) => {
                            self.active.remove(&*id);
                            text_frame(&ServerMessage::Complete { id: &id })
                        }
                    };
                    self.output.stats.enqueued(&self.output.frames);
                    drop(permit.send(frame));
                }
            }
        }
    }

    async fn handle(&mut self, bytes: &[u8]) -> Flow {
        let message = match ClientMessage::from_bytes(bytes) {
            Ok(message) => message,
            Err(error) => return Flow::Close(4400, format!("Invalid message: {error}")),
        };
        match message {
            ClientMessage::ConnectionInit { payload } => self.init(payload.unwrap_or_default()).await,
            ClientMessage::Start { id, payload } => {
                let Some(data) = self.data.clone() else {
                    return Flow::Close(4401, "Unauthorized".into());
                };
                if self.active.contains_key(&id) {
                    return Flow::Close(4409, format!("Subscriber for {id} already exists"));
                }
                let (abort, registration) = AbortHandle::new_pair();
                let key: Arc<str> = Arc::from(id.as_str());
                let done = Arc::clone(&key);
                let events = self
                    .executor
                    .execute_stream(payload, Some(data))
                    .map(move |response| Event::Next(Arc::clone(&key), Box::new(response)))
                    .chain(futures::stream::once(async move { Event::Done(done) }));
                self.streams.push(Abortable::new(events, registration).boxed());
                self.active.insert(id, abort);
                Flow::Continue
            }
            ClientMessage::Stop { id } => {
                if let Some(abort) = self.active.remove(&id) {
                    abort.abort();
                    self.output.send(text_frame(&ServerMessage::Complete { id: &id })).await;
                }
                Flow::Continue
            }
            ClientMessage::ConnectionTerminate => Flow::End,
            ClientMessage::Ping { .. } => {
                self.output.send(text_frame(&ServerMessage::Pong)).await;
                Flow::Continue
            }
            ClientMessage::Pong { .. } => Flow::Continue,
        }
    }

    async fn init(&mut self, payload: serde_json::Value) -> Flow {
        let Some(on_init) = self.on_init.take() else {
            return Flow::Close(4429, "Too many initialisation requests.".into());
        };
        match on_init(payload).await {
            Ok(data) => {
                self.data = Some(Arc::new(data));
                self.output.send(text_frame(&ServerMessage::ConnectionAck)).await;
                Flow::Continue
            }
            Err(error) => match self.protocol {
                // As async-graphql answers a refused init: close 1002 with the error's message.
                Protocols::GraphQLWS => Flow::Close(1002, error.message),
                Protocols::SubscriptionsTransportWS => {
                    let payload = serde_json::json!({ "message": error.message });
                    self.output.send(text_frame(&ServerMessage::ConnectionError { payload })).await;
                    Flow::End
                }
            },
        }
    }
}

/// The sending side of a connection's output queue.
struct Output {
    frames: mpsc::Sender<Message>,
    stats: Arc<OutputStats>,
}

impl Output {
    /// Queues a protocol message (ack, pong, complete, close); it waits for room rather than
    /// being dropped, and is rare enough not to need a bound of its own.
    async fn send(&self, frame: Message) {
        if let Ok(permit) = self.frames.reserve().await {
            self.stats.enqueued(&self.frames);
            permit.send(frame);
        }
    }
}

impl OutputStats {
    fn enqueued(&self, frames: &mpsc::Sender<Message>) {
        // Counts the frame about to be sent: its permit is already taken from `capacity`.
        let queued = frames.max_capacity() - frames.capacity();
        self.queued.store(queued, Ordering::Release);
        self.most_queued.fetch_max(queued, Ordering::AcqRel);
        metrics::gauge!("websocket_output_queued_frames").increment(1.0);
    }

    fn taken(&self, count: usize, left: usize) {
        self.queued.store(left, Ordering::Release);
        metrics::gauge!("websocket_output_queued_frames").decrement(count as f64);
    }
}

/// Drains the queue into the socket, `WRITE_BATCH_FRAMES` frames per flush.
async fn write_frames<S>(mut sink: S, mut queue: mpsc::Receiver<Message>, stats: Arc<OutputStats>)
where
    S: Sink<Message> + Unpin,
{
    let mut batch = Vec::with_capacity(WRITE_BATCH_FRAMES);
    while queue.recv_many(&mut batch, WRITE_BATCH_FRAMES).await > 0 {
        let count = batch.len();
        stats.taken(count, queue.len());
        for frame in batch.drain(..) {
            if sink.feed(frame).await.is_err() {
                return;
            }
        }
        if sink.flush().await.is_err() {
            return;
        }
        stats.written.fetch_add(count as u64, Ordering::AcqRel);
        metrics::counter!("websocket_frames_written_total").increment(count as u64);
        metrics::counter!("websocket_flushes_total").increment(1);
    }
    let _ = sink.close().await;
}

/// Server → client messages of both protocols.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ServerMessage<'a> {
    ConnectionAck,
    ConnectionError {
        payload: serde_json::Value,
    },
    /// `graphql-transport-ws`.
    Next {
        id: &'a str,
        payload: &'a Response,
    },
    /// Legacy `graphql-ws`.
    Data {
        id: &'a str,
        payload: &'a Response,
    },
    Complete {
        id: &'a str,
    },
    Pong,
}

fn next_frame(protocol: Protocols, id: &str, response: &Response) -> Message {
    match protocol {
        Protocols::GraphQLWS => text_frame(&ServerMessage::Next { id, payload: response }),
        Protocols::SubscriptionsTransportWS => text_frame(&ServerMessage::Data { id, payload: response }),
    }
}

fn text_frame(message: &ServerMessage<'_>) -> Message {
    match serde_json::to_string(message) {
        Ok(text) => Message::Text(text.into()),
        // A response is plain JSON data; this cannot fail, but never panic on the socket path.
        Err(error) => {
            tracing::error!(%error, "could not serialise a websocket message");
            Message::Close(Some(CloseFrame { code: 1011, reason: "Internal server error".into() }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realtime::Hub;
    use async_graphql::{EmptyMutation, Object, Schema, Subscription};
    use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
    use serde_json::{Value, json};
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use std::time::Instant;

    struct Query;

    #[Object]
    impl Query {
        async fn ok(&self) -> bool {
            true
        }
    }

    /// The subject the test subscription follows.
    struct Subject(String);

    struct Events;

    #[Subscription]
    impl Events {
        /// Every payload published to the test's subject, through the process hub.
        async fn events(&self, ctx: &async_graphql::Context<'_>) -> async_graphql::Result<impl futures::Stream<Item = String> + use<>> {
            let hub = ctx.data::<Hub>()?;
            let subscription = hub.subscribe(&ctx.data::<Subject>()?.0).await?;
            Ok(subscription.map(|payload| String::from_utf8_lossy(&payload).into_owned()))
        }
    }

    /// A client that reads `accept` frames and then stops reading: every later write waits.
    struct StalledSink {
        accept: usize,
        accepted: usize,
    }

    impl Sink<Message> for StalledSink {
        type Error = axum::Error;

        fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), axum::Error>> {
            if self.accepted < self.accept { Poll::Ready(Ok(())) } else { Poll::Pending }
        }

        fn start_send(mut self: Pin<&mut Self>, _: Message) -> Result<(), axum::Error> {
            self.accepted += 1;
            Ok(())
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), axum::Error>> {
            Poll::Ready(Ok(()))
        }

        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), axum::Error>> {
            Poll::Ready(Ok(()))
        }
    }

    /// A client that reads everything and counts how often the server flushed.
    struct FlushCountingSink {
        frames: UnboundedSender<Message>,
        flushes: Arc<AtomicUsize>,
    }

    impl Sink<Message> for FlushCountingSink {
        type Error = axum::Error;

        fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), axum::Error>> {
            Poll::Ready(Ok(()))
        }

        fn start_send(self: Pin<&mut Self>, frame: Message) -> Result<(), axum::Error> {
            self.frames.unbounded_send(frame).map_err(axum::Error::new)
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), axum::Error>> {
            self.flushes.fetch_add(1, Ordering::AcqRel);
            Poll::Ready(Ok(()))
        }

        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), axum::Error>> {
            Poll::Ready(Ok(()))
        }
    }

    type Input = UnboundedSender<Result<Message, axum::Error>>;

    /// Starts a session over `sink`; returns the client's input side after `subscribe`.
    fn connect<S>(schema: &Schema<Query, EmptyMutation, Events>, sink: S, stats: Arc<OutputStats>) -> Input
    where
        S: Sink<Message> + Send + Unpin + 'static,
    {
        connect_many(schema, sink, stats, 1)
    }

    /// Starts a session over `sink` carrying `subscriptions` identical subscriptions (ids 1..=n),
    /// as the router multiplexes many viewers over one socket.
    fn connect_many<S>(schema: &Schema<Query, EmptyMutation, Events>, sink: S, stats: Arc<OutputStats>, subscriptions: usize) -> Input
    where
        S: Sink<Message> + Send + Unpin + 'static,
    {
        let (input, messages) = unbounded();
        let client = |message: Value| Ok(Message::Text(message.to_string().into()));
        input.unbounded_send(client(json!({ "type": "connection_init", "payload": {} }))).expect("input open");
        for id in 1..=subscriptions {
            let subscribe = json!({ "id": id.to_string(), "type": "subscribe", "payload": { "query": "subscription { events }" } });
            input.unbounded_send(client(subscribe)).expect("input open");
        }
        let schema = schema.clone();
        tokio::spawn(async move {
            run(sink, messages, schema, Protocols::GraphQLWS, |_| async { Ok(Data::default()) }, stats).await;
        });
        input
    }

    async fn next_event(frames: &mut UnboundedReceiver<Message>) -> Value {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), frames.next()).await.expect("a frame in time").expect("open");
            let Message::Text(text) = frame else { continue };
            let message: Value = serde_json::from_str(&text).expect("json");
            if message["type"] == "next" {
                return message["payload"]["data"]["events"].clone();
            }
        }
    }

    async fn eventually(what: &str, condition: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !condition() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_socket_that_stops_reading_holds_a_bounded_queue_and_never_delays_another() {
        let config = crate::config::AppConfig::load().expect("configuration");
        let hub_capacity = 8;
        let hub = Hub::new(async_nats::connect(config.nats.url.as_str()).await.expect("nats"), hub_capacity);
        let subject = format!("vgtest_{}.ws.stalled", uuid::Uuid::new_v4().simple());
        let schema = Schema::build(Query, EmptyMutation, Events).data(hub.clone()).data(Subject(subject.clone())).finish();

        // One connection whose client reads only the `connection_ack`, one that reads everything.
        let stalled = Arc::new(OutputStats::default());
        let _stalled_input = connect(&schema, StalledSink { accept: 1, accepted: 0 }, Arc::clone(&stalled));
        let (sink, mut frames) = unbounded::<Message>();
        let _input = connect(&schema, sink.sink_map_err(axum::Error::new), Arc::default());
        eventually("both subscriptions", || hub.subscriber_count(&subject) == 2).await;

        // Many more events than the stalled connection may hold: the healthy one gets each at once.
        let publisher = async_nats::connect(config.nats.url.as_str()).await.expect("publisher");
        let published = 1000;
        for n in 0..published {
            publisher.publish(subject.clone(), n.to_string().into()).await.expect("publish");
            publisher.flush().await.expect("flush");
            assert_eq!(next_event(&mut frames).await, json!(n.to_string()));
        }

        // The stalled connection holds at most its output queue, the writer's batch and the hub's
        // queue; the rest was dropped (and counted) at the hub, not buffered.
        let held = (OUTPUT_QUEUE_FRAMES + WRITE_BATCH_FRAMES + hub_capacity + 2) as u64;
        eventually("the stalled subscriber's drops", || hub.dropped_total() >= published - held).await;
        assert!(stalled.most_queued() <= OUTPUT_QUEUE_FRAMES, "queued {}", stalled.most_queued());
        assert_eq!(stalled.queued(), OUTPUT_QUEUE_FRAMES, "the queue filled up to its bound and stopped there");
        assert_eq!(stalled.written(), 1, "only the ack reached the stalled client");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn one_event_to_many_subscriptions_of_a_socket_is_written_in_few_flushes() {
        let config = crate::config::AppConfig::load().expect("configuration");
        let subscriptions = 1000;
        let hub = Hub::new(async_nats::connect(config.nats.url.as_str()).await.expect("nats"), 8);
        let subject = format!("vgtest_{}.ws.coalesced", uuid::Uuid::new_v4().simple());
        let schema = Schema::build(Query, EmptyMutation, Events).data(hub.clone()).data(Subject(subject.clone())).finish();
        let (sink, mut frames) = unbounded::<Message>();
        let flushes = Arc::new(AtomicUsize::new(0));
        let stats = Arc::new(OutputStats::default());
        let _input =
            connect_many(&schema, FlushCountingSink { frames: sink, flushes: Arc::clone(&flushes) }, Arc::clone(&stats), subscriptions);
        eventually("every subscription", || hub.subscriber_count(&subject) == subscriptions).await;
        let before = flushes.load(Ordering::Acquire);

        let publisher = async_nats::connect(config.nats.url.as_str()).await.expect("publisher");
        publisher.publish(subject.clone(), "fan-out".into()).await.expect("publish");
        publisher.flush().await.expect("flush");
        for _ in 0..subscriptions {
            assert_eq!(next_event(&mut frames).await, json!("fan-out"));
        }

        // One frame per subscription, but flushed in batches: without coalescing every frame
        // would be its own flush (1,000 here).
        let flushed = flushes.load(Ordering::Acquire) - before;
        let batches = subscriptions.div_ceil(WRITE_BATCH_FRAMES);
        assert!(flushed <= 2 * batches, "{subscriptions} frames took {flushed} flushes (batches of {WRITE_BATCH_FRAMES}: {batches})");
        assert!(stats.most_queued() <= OUTPUT_QUEUE_FRAMES);
    }
}
