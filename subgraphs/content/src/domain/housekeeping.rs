//! `content`'s one periodic job: sweep expired uploads, then prune the rows that only grow
//! (anonymous view markers past their window, refresh tokens expired or revoked longer ago
//! than the grace).

use super::ContentError;
use super::upload::Uploads;
use super::video::VIEW_WINDOW_SECS;
use crate::store::{interactions, refresh_tokens};
use chrono::{DateTime, Duration, Utc};
use platform::db::Db;

/// Most rows deleted per statement, so one pass never holds long locks or a huge WAL burst.
const PRUNE_BATCH: i64 = 5_000;

/// What one prune deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// Anonymous view markers whose window was over.
    pub anonymous_views: usize,
    /// Refresh tokens expired or revoked before the grace.
    pub refresh_tokens: usize,
}

/// The housekeeping job (on the background pool).
#[derive(Clone)]
pub struct Housekeeping {
    db: Db,
    uploads: Uploads,
    refresh_grace: Duration,
}

impl Housekeeping {
    /// Over `db`, sweeping `uploads`; refresh tokens are kept `refresh_grace_secs` past their
    /// expiry or revocation (for the log and for support questions about a session).
    pub fn new(db: Db, uploads: Uploads, refresh_grace_secs: u64) -> Housekeeping {
        let refresh_grace = Duration::seconds(i64::try_from(refresh_grace_secs).unwrap_or(i64::MAX / 1000).min(100 * 365 * 86_400));
        Housekeeping { db, uploads, refresh_grace }
    }

    /// Deletes, at `now`, anonymous view markers last counted more than the view window ago
    /// and refresh tokens that expired or were revoked more than the grace ago, in batches.
    pub async fn prune(&self, now: DateTime<Utc>) -> Result<PruneReport, ContentError> {
        let mut report = PruneReport::default();
        let mut conn = self.db.pool.get().await?;
        let views_before = now - Duration::seconds(i64::from(VIEW_WINDOW_SECS));
        loop {
            let deleted = interactions::prune_anonymous_views(&mut conn, views_before, PRUNE_BATCH).await?;
            report.anonymous_views += deleted;
            if deleted < PRUNE_BATCH as usize {
                break;
            }
        }
        let tokens_before = now - self.refresh_grace;
        loop {
            let deleted = refresh_tokens::prune(&mut conn, tokens_before, PRUNE_BATCH).await?;
            report.refresh_tokens += deleted;
            if deleted < PRUNE_BATCH as usize {
                break;
            }
        }
        Ok(report)
    }

    /// One pass: the upload sweep, then the prune (logged when it deleted something).
    pub async fn pass(&self, now: DateTime<Utc>) -> Result<(), ContentError> {
        self.uploads.sweep_and_log(now).await?;
        let report = self.prune(now).await?;
        if report != PruneReport::default() {
            tracing::info!(anonymous_views = report.anonymous_views, refresh_tokens = report.refresh_tokens, "pruned expired rows");
        }
        Ok(())
    }

    /// Runs [`Housekeeping::pass`] every `storage.sweep_interval_secs` until dropped.
    pub async fn run(self) {
        let interval = std::time::Duration::from_secs(self.uploads.config().sweep_interval_secs);
        platform::periodic::run_every("content-housekeeping", interval, || self.pass(Utc::now())).await;
    }
}
