//! The transactional outbox: an event that must not be lost is inserted into the subgraph's
//! `<schema>.outbox` table in the transaction of the change it reports, and the relay publishes
//! it to JetStream after commit. A crash between commit and publish delays the event, never
//! drops it; a crash between publish and delete publishes it again with the same `Nats-Msg-Id`,
//! which JetStream and the consumers de-duplicate.
//!
//! Every subgraph's outbox table has the same shape:
//! `(seq bigserial PRIMARY KEY, event_id uuid UNIQUE, subject text, payload jsonb, created_at)`.

use crate::db::Db;
use crate::nats::Nats;
use async_nats::HeaderMap;
use diesel::sql_types::{Array, BigInt, Jsonb, Text};
use diesel::{QueryResult, QueryableByName};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use uuid::Uuid;

/// Most events published per relay transaction.
const BATCH: i64 = 256;
/// How often a relay looks for rows other replicas (or a crash) left behind.
const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Pause after a failed batch (database or JetStream down).
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// One subgraph's outbox table.
#[derive(Debug, Clone)]
pub struct Outbox {
    table: &'static str,
    wake: Arc<Notify>,
}

impl Outbox {
    /// The outbox in `table` (like `content.outbox`).
    pub fn new(table: &'static str) -> Outbox {
        Outbox { table, wake: Arc::new(Notify::new()) }
    }

    /// Appends `event` inside the caller's transaction, to be published on `subject` (full,
    /// prefixed). Call [`Outbox::committed`] after the transaction commits.
    pub async fn enqueue<T: Serialize>(&self, conn: &mut AsyncPgConnection, subject: &str, event_id: Uuid, event: &T) -> QueryResult<()> {
        let payload = serde_json::to_value(event).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        diesel::sql_query(format!("INSERT INTO {} (event_id, subject, payload) VALUES ($1, $2, $3)", self.table))
            .bind::<diesel::sql_types::Uuid, _>(event_id)
            .bind::<Text, _>(subject)
            .bind::<Jsonb, _>(payload)
            .execute(conn)
            .await
            .map(|_| ())
    }

    /// Wakes this process's relay so committed events go out now rather than at the next poll.
    pub fn committed(&self) {
        self.wake.notify_one();
    }

    /// Runs the relay until the task is dropped: publishes pending rows in order, batch by batch.
    /// Several replicas may run it; `SKIP LOCKED` hands each row to one of them at a time.
    pub async fn relay(self, db: Db, nats: Nats) {
        loop {
            match self.publish_batch(&db, &nats).await {
                Ok(published) if published == BATCH as usize => continue,
                Ok(_) => {
                    let _ = tokio::time::timeout(POLL_INTERVAL, self.wake.notified()).await;
                }
                Err(error) => {
                    tracing::warn!(table = self.table, error = format!("{error:#}"), "outbox relay failed; retrying");
                    tokio::time::sleep(RETRY_AFTER).await;
                }
            }
        }
    }

    /// Publishes one batch and deletes it, in one transaction that holds the rows' locks until
    /// JetStream has acknowledged every message.
    async fn publish_batch(&self, db: &Db, nats: &Nats) -> anyhow::Result<usize> {
        let mut conn = db.pool.get().await?;
        let table = self.table;
        conn.transaction::<_, anyhow::Error, _>(async |conn| {
            let rows: Vec<PendingEvent> = diesel::sql_query(format!(
                "SELECT seq, event_id, subject, payload FROM {table} ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED"
            ))
            .bind::<BigInt, _>(BATCH)
            .load(conn)
            .await?;
            if rows.is_empty() {
                return Ok(0);
            }
            let mut acks = Vec::with_capacity(rows.len());
            for row in &rows {
                let mut headers = HeaderMap::new();
                headers.insert("Nats-Msg-Id", row.event_id.to_string().as_str());
                let payload = serde_json::to_vec(&row.payload)?;
                acks.push(nats.jetstream.publish_with_headers(row.subject.clone(), headers, payload.into()).await?);
            }
            for ack in acks {
                ack.await?;
            }
            let seqs: Vec<i64> = rows.iter().map(|row| row.seq).collect();
            diesel::sql_query(format!("DELETE FROM {table} WHERE seq = ANY($1)")).bind::<Array<BigInt>, _>(&seqs).execute(conn).await?;
            metrics::counter!("outbox_published_total", "table" => table).increment(rows.len() as u64);
            Ok(rows.len())
        })
        .await
    }
}

#[derive(QueryableByName)]
struct PendingEvent {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    event_id: Uuid,
    #[diesel(sql_type = Text)]
    subject: String,
    #[diesel(sql_type = Jsonb)]
    payload: serde_json::Value,
}
