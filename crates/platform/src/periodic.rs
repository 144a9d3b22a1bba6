//! Periodic background passes (sweeps, prunes): one loop shape for every subgraph.

use crate::error::DisplayChain;
use std::future::Future;
use std::time::Duration;

/// Runs `pass` every `interval` (at least a second) until the task is dropped, starting at
/// once. A failed pass is logged and tried again at the next tick; ticks missed while a pass
/// ran long are skipped, not caught up.
pub async fn run_every<F, Fut, E>(job: &'static str, interval: Duration, mut pass: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::error::Error,
{
    let mut ticker = tokio::time::interval(interval.max(Duration::from_secs(1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticker.tick().await;
        if let Err(error) = pass().await {
            tracing::warn!(job, error = %DisplayChain(&error), "periodic pass failed; retrying next interval");
        }
    }
}
