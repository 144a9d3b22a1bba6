//! Consumes `content`'s account snapshots into the account directory (`community.accounts`),
//! through the platform's durable consumer loop. A message is acked after its snapshot is
//! committed; a snapshot only replaces a lower version, so a redelivered or late one changes
//! nothing. A database outage is retried; an undecodable message is dead-lettered.

use crate::store::accounts::{self, Account};
use platform::consumer::{Delivery, DurableConsumer, Failure, Handler, RetryPolicy};
use platform::db::Db;
use platform::events::{ACCOUNT_STREAM, AccountEvent};
use platform::nats::Nats;

/// Durable consumer name (replicas share its work).
pub const DURABLE: &str = "community-accounts";

/// Applies account snapshots to the directory.
pub struct AccountDirectory {
    db: Db,
}

impl Handler for AccountDirectory {
    async fn handle(&self, delivery: &Delivery) -> Result<(), Failure> {
        let event: AccountEvent = delivery.decode()?;
        let mut conn = self.db.pool.get().await.map_err(Failure::transient)?;
        let account = Account {
            user_id: event.user_id,
            username: event.username,
            role: event.role,
            version: event.version,
            changed_at: event.changed_at,
        };
        accounts::apply(&mut conn, &[account]).await.map_err(Failure::classify)?;
        Ok(())
    }
}

/// The directory's consumer.
pub fn consumer(db: Db) -> DurableConsumer<AccountDirectory> {
    DurableConsumer::new(ACCOUNT_STREAM, DURABLE, AccountDirectory { db })
}

/// Runs the consumer until the task is dropped.
pub async fn run_directory(db: Db, nats: Nats, retry: RetryPolicy) {
    consumer(db).retry(retry).run(nats).await
}
