//! The platform's dead-letter stream, `<prefix>_DEAD_LETTERS`: messages a consumer set aside
//! because they can never be applied, each with where it came from and why.
//!
//! A dead letter is published on `<prefix>.dead_letters.<consumer>` with the original payload and
//! headers naming the original stream, subject, sequence, consumer, deliveries, reason and time.
//! Its id is its sequence in the dead-letter stream. Re-driving it publishes the payload to the
//! original subject again (the consumers are idempotent, so a re-driven message that had in fact
//! been applied changes nothing) and then deletes the dead letter.

use super::Delivery;
use crate::events::StreamSpec;
use crate::nats::Nats;
use async_nats::HeaderMap;
use async_nats::jetstream::message::StreamMessage;
use async_nats::jetstream::stream::{LastRawMessageErrorKind, Stream};
use chrono::{DateTime, Utc};
use std::time::Duration;

/// The dead-letter stream (one for the platform): kept for 90 days.
pub const DEAD_LETTER_STREAM: StreamSpec =
    StreamSpec { name: "DEAD_LETTERS", subjects: "dead_letters", max_age: Duration::from_secs(90 * 24 * 3600) };

/// Largest page of [`DeadLetters::list`].
pub const MAX_PAGE: usize = 100;

const STREAM: &str = "Vg-Original-Stream";
const SUBJECT: &str = "Vg-Original-Subject";
const SEQUENCE: &str = "Vg-Original-Sequence";
const CONSUMER: &str = "Vg-Consumer";
const DELIVERIES: &str = "Vg-Deliveries";
const REASON: &str = "Vg-Reason";
const DEAD_AT: &str = "Vg-Dead-At";

/// A message about to be set aside.
pub struct NewDeadLetter<'a> {
    /// The stream it was consumed from (full name).
    pub stream: &'a str,
    /// The durable consumer that gave up on it.
    pub consumer: &'a str,
    /// The message.
    pub delivery: &'a Delivery,
    /// Why it can never be applied.
    pub reason: &'a str,
}

/// A message set aside, as admins see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Its sequence in the dead-letter stream.
    pub id: u64,
    /// The consumer that set it aside.
    pub consumer: String,
    /// The stream it came from.
    pub stream: String,
    /// The subject it was published on (and is re-driven to).
    pub subject: String,
    /// Its sequence in the original stream.
    pub stream_sequence: u64,
    /// Deliveries before it was set aside.
    pub deliveries: i64,
    /// Why.
    pub reason: String,
    /// When.
    pub dead_at: DateTime<Utc>,
    /// The payload (lossy UTF-8).
    pub payload: String,
}

/// The outcome of re-driving one dead letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redrive {
    /// Published to its original subject again and removed from the dead letters.
    Redriven {
        /// The subject it went to.
        subject: String,
    },
    /// No dead letter has this id (already re-driven, expired, or never existed), or it
    /// belongs to a consumer outside the caller's scope.
    NotFound,
}

/// A handle on the dead-letter stream (created on first use).
#[derive(Clone)]
pub struct DeadLetters {
    nats: Nats,
}

impl DeadLetters {
    /// The dead letters of the deployment `nats` is connected to.
    pub fn new(nats: &Nats) -> DeadLetters {
        DeadLetters { nats: nats.clone() }
    }

    /// Creates the stream if needed.
    pub async fn ensure(nats: &Nats) -> anyhow::Result<DeadLetters> {
        DEAD_LETTER_STREAM.ensure(nats).await?;
        Ok(DeadLetters::new(nats))
    }

    async fn stream(&self) -> anyhow::Result<Stream> {
        DEAD_LETTER_STREAM.ensure(&self.nats).await
    }

    fn subject_of(&self, consumer: &str) -> String {
        DEAD_LETTER_STREAM.subject(&self.nats, consumer)
    }

    /// Stores `letter` (waits for JetStream's acknowledgement). Publishing the same original
    /// message twice within the stream's duplicate window stores it once.
    pub async fn publish(&self, letter: &NewDeadLetter<'_>) -> anyhow::Result<u64> {
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", format!("dead:{}:{}:{}", letter.stream, letter.consumer, letter.delivery.stream_sequence));
        headers.insert(STREAM, letter.stream);
        headers.insert(SUBJECT, letter.delivery.subject.as_str());
        headers.insert(SEQUENCE, letter.delivery.stream_sequence.to_string());
        headers.insert(CONSUMER, letter.consumer);
        headers.insert(DELIVERIES, letter.delivery.delivered.to_string());
        // Header values are one line.
        headers.insert(REASON, letter.reason.replace(['\r', '\n'], " "));
        headers.insert(DEAD_AT, Utc::now().to_rfc3339());
        let ack = self
            .nats
            .jetstream
            .publish_with_headers(self.subject_of(letter.consumer), headers, letter.delivery.payload.clone())
            .await?
            .await?;
        Ok(ack.sequence)
    }

    /// Up to `first` (at most [`MAX_PAGE`]) dead letters of `consumer` (all when `None`) with an
    /// id after `after`, oldest first; and whether more follow.
    pub async fn list(&self, consumer: Option<&str>, first: usize, after: Option<u64>) -> anyhow::Result<(Vec<DeadLetter>, bool)> {
        let filter = self.subject_of(consumer.unwrap_or(">"));
        let first = first.clamp(1, MAX_PAGE);
        let mut from = after.map_or(1, |id| id.saturating_add(1));
        let mut page = Vec::with_capacity(first);
        let stream = self.stream().await?;
        loop {
            let message = match stream.raw_message_builder().sequence(from).next_by_subject(filter.clone()).send().await {
                Ok(message) => message,
                Err(error) if matches!(error.kind(), LastRawMessageErrorKind::NoMessageFound) => return Ok((page, false)),
                Err(error) => return Err(error.into()),
            };
            if page.len() == first {
                return Ok((page, true));
            }
            from = message.sequence + 1;
            page.push(read(message));
        }
    }

    /// The dead letter `id`, if it exists.
    pub async fn get(&self, id: u64) -> anyhow::Result<Option<DeadLetter>> {
        match self.stream().await?.get_raw_message(id).await {
            Ok(message) => Ok(Some(read(message))),
            Err(error) if matches!(error.kind(), LastRawMessageErrorKind::NoMessageFound) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Re-drives dead letter `id` if it belongs to one of `consumers`: publishes its payload to
    /// its original subject, then deletes it.
    pub async fn redrive(&self, id: u64, consumers: &[&str]) -> anyhow::Result<Redrive> {
        let stream = self.stream().await?;
        let message = match stream.get_raw_message(id).await {
            Ok(message) => message,
            Err(error) if matches!(error.kind(), LastRawMessageErrorKind::NoMessageFound) => return Ok(Redrive::NotFound),
            Err(error) => return Err(error.into()),
        };
        let payload = message.payload.clone();
        let letter = read(message);
        if !consumers.contains(&letter.consumer.as_str()) {
            return Ok(Redrive::NotFound);
        }
        let mut headers = HeaderMap::new();
        // Re-driving twice within the duplicate window publishes once.
        headers.insert("Nats-Msg-Id", format!("redrive:{}:{id}", DEAD_LETTER_STREAM.stream_name(&self.nats)));
        self.nats.jetstream.publish_with_headers(letter.subject.clone(), headers, payload).await?.await?;
        stream.delete_message(id).await?;
        metrics::counter!("dead_letters_redriven_total", "consumer" => letter.consumer.clone()).increment(1);
        tracing::info!(dead_letter.id = id, consumer = %letter.consumer, subject = %letter.subject, "re-drove a dead letter");
        Ok(Redrive::Redriven { subject: letter.subject })
    }
}

fn read(message: StreamMessage) -> DeadLetter {
    let header = |name: &str| message.headers.get(name).map(|value| value.as_str().to_owned()).unwrap_or_default();
    let consumer = header(CONSUMER);
    DeadLetter {
        id: message.sequence,
        stream: header(STREAM),
        subject: header(SUBJECT),
        stream_sequence: header(SEQUENCE).parse().unwrap_or_default(),
        deliveries: header(DELIVERIES).parse().unwrap_or_default(),
        reason: header(REASON),
        dead_at: DateTime::parse_from_rfc3339(&header(DEAD_AT)).map(|at| at.with_timezone(&Utc)).unwrap_or_default(),
        payload: String::from_utf8_lossy(&message.payload).into_owned(),
        consumer,
    }
}
