//! Weight changes reach every replica over core NATS: the replica where an admin changed them
//! announces it, each replica re-reads them from Postgres (the announcement carries nothing
//! but the fact). A replica that misses the announcement still reloads on its next tick.

use crate::domain::rankings::WeightsInForce;
use futures::StreamExt;
use platform::db::Db;
use platform::nats::Nats;
use std::time::Duration;

/// How often a replica re-reads the weights even without an announcement.
const RELOAD_EVERY: Duration = Duration::from_secs(30);

fn subject(nats: &Nats) -> String {
    nats.subject("ranking.weights.changed")
}

/// Tells every replica the weights changed.
pub async fn announce_weights_changed(nats: &Nats) {
    if let Err(error) = nats.client.publish(subject(nats), "".into()).await {
        tracing::warn!(%error, "could not announce the new weights; replicas reload them within 30 s");
    }
}

/// Reloads the weights on every announcement and every 30 s, until the task is dropped.
pub async fn run_weights_reloader(weights: WeightsInForce, db: Db, nats: Nats) {
    let mut announcements = match nats.client.subscribe(subject(&nats)).await {
        Ok(subscriber) => Some(subscriber),
        Err(error) => {
            tracing::warn!(%error, "cannot hear weight announcements; reloading every 30 s only");
            None
        }
    };
    let mut tick = tokio::time::interval(RELOAD_EVERY);
    loop {
        match &mut announcements {
            Some(subscriber) => {
                tokio::select! {
                    _ = subscriber.next() => {},
                    _ = tick.tick() => {},
                }
            }
            None => {
                tick.tick().await;
            }
        }
        if let Err(error) = weights.reload(&db).await {
            tracing::warn!(error = %platform::error::DisplayChain(&error), "could not reload the hot weights");
        }
    }
}
