//! What operators see and do: queue depth, running tasks, per-platform success, and the dead
//! letters of the download queue (retry one: the task is reset and queued again; discard one).

use super::AssetsError;
use super::downloads::DownloadCentre;
use super::worker::DURABLE;
use crate::events::tasks::{TASK_STREAM, TaskMessage};
use crate::store::downloads::{self, PlatformOutcomes};
use diesel_async::AsyncConnection;
use platform::consumer::dead_letters::{DEAD_LETTER_STREAM, DeadLetters};
use platform::nats::Nats;

/// The queue as operators see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueState {
    /// Messages not yet delivered to a worker.
    pub pending: u64,
    /// Delivered and not yet acked (running, or waiting for a redelivery).
    pub in_flight: u64,
    /// Tasks whose row is queued.
    pub queued: i64,
    /// Tasks whose row is running.
    pub running: i64,
}

/// The admin operations.
#[derive(Clone)]
pub struct AssetsAdmin {
    centre: DownloadCentre,
    nats: Nats,
}

impl AssetsAdmin {
    /// Over the centre and NATS.
    pub fn new(centre: DownloadCentre, nats: Nats) -> AssetsAdmin {
        AssetsAdmin { centre, nats }
    }

    /// The queue now.
    pub async fn queue(&self) -> Result<QueueState, AssetsError> {
        let lag = platform::consumer::lag(&self.nats, &TASK_STREAM, DURABLE).await.map_err(AssetsError::internal)?;
        let mut conn = self.centre.inner().db.pool.get().await?;
        let counts = downloads::active_counts(&mut conn).await?;
        let count = |status: &str| counts.iter().find(|count| count.status == status).map_or(0, |count| count.n);
        let state = QueueState {
            pending: lag.pending,
            in_flight: lag.ack_pending as u64,
            queued: count(downloads::QUEUED),
            running: count(downloads::RUNNING),
        };
        metrics::gauge!("assets_queue_pending").set(state.pending as f64);
        metrics::gauge!("assets_tasks_running").set(state.running as f64);
        Ok(state)
    }

    /// Completed and failed tasks per platform over the last `hours`.
    pub async fn platform_outcomes(&self, hours: i64) -> Result<Vec<PlatformOutcomes>, AssetsError> {
        if !(1..=24 * 31).contains(&hours) {
            return Err(AssetsError::InvalidInput("`hours` is between 1 and 744.".into()));
        }
        let since = self.centre.inner().clock.now() - chrono::Duration::hours(hours);
        let mut conn = self.centre.inner().db.pool.get().await?;
        Ok(downloads::outcomes_by_platform(&mut conn, since).await?)
    }

    /// Retries the task of dead letter `id`: its row is reset (attempts 0) and queued again in
    /// one transaction, then the dead letter is removed. `None` when there is no such dead
    /// letter of the download queue, or its task is no longer failed.
    pub async fn retry(&self, id: u64) -> Result<Option<uuid::Uuid>, AssetsError> {
        let letters = DeadLetters::new(&self.nats);
        let Some(letter) = letters.get(id).await.map_err(AssetsError::internal)? else { return Ok(None) };
        if letter.consumer != DURABLE {
            return Ok(None);
        }
        let Ok(message) = serde_json::from_str::<TaskMessage>(&letter.payload) else { return Ok(None) };
        let inner = self.centre.inner();
        let mut conn = inner.db.pool.get().await?;
        let queue = &inner.queue;
        let reset = conn
            .transaction::<_, AssetsError, _>(async |conn| {
                let Some(row) = downloads::reset_failed(conn, message.task_id).await? else { return Ok(None) };
                queue.enqueue(conn, row.id).await?;
                Ok(Some(row))
            })
            .await?;
        queue.committed();
        self.discard_letter(id).await?;
        Ok(reset.map(|row| row.id))
    }

    /// Removes dead letter `id` of the download queue; whether it was one.
    pub async fn discard(&self, id: u64) -> Result<bool, AssetsError> {
        let letters = DeadLetters::new(&self.nats);
        match letters.get(id).await.map_err(AssetsError::internal)? {
            Some(letter) if letter.consumer == DURABLE => {
                self.discard_letter(id).await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn discard_letter(&self, id: u64) -> Result<(), AssetsError> {
        let stream = DEAD_LETTER_STREAM.ensure(&self.nats).await.map_err(AssetsError::internal)?;
        stream.delete_message(id).await.map_err(AssetsError::internal)?;
        Ok(())
    }
}
