//! The download centre's services: parse a URL, start a download under the daily quota, list,
//! cancel and delete downloads, and sign their file URLs. The workers that run the tasks are
//! in [`super::worker`], the periodic sweeps in [`super::cleanup`].

use super::AssetsError;
use super::file_url::FileUrlSigner;
use super::media::{FetchError, MediaInfo};
use super::quota;
use crate::events::archive::ArchiveEvents;
use crate::events::progress::{ProgressBus, ProgressEvent, ProgressKind};
use crate::events::tasks::TaskQueue;
use crate::fetch::Extractors;
use crate::store::cache::AssetsCache;
use crate::store::downloads::{self, Download, NewDownload};
use crate::store::files::Storage;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel_async::AsyncConnection;
use platform::auth::AuthUser;
use platform::clock::SharedClock;
use platform::config::AssetsConfig;
use platform::db::Db;
use platform::events::AssetAction;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use uuid::Uuid;

/// URLs one user may parse per minute (`parseUrl`): each may cost outbound requests.
pub const PARSE_LIMIT: platform::rate_limit::RateLimit =
    platform::rate_limit::RateLimit { name: "assets:parse", max: 60, window: std::time::Duration::from_secs(60) };
/// `startDownload` calls one user may make per minute (refused ones cost outbound requests and
/// no quota).
pub const START_LIMIT: platform::rate_limit::RateLimit =
    platform::rate_limit::RateLimit { name: "assets:start", max: 120, window: std::time::Duration::from_secs(60) };

/// Largest page of `myDownloads`.
pub const MAX_PAGE: i64 = 100;
/// Longest idempotency key.
pub const MAX_IDEMPOTENCY_KEY: usize = 100;

/// Quick (kept for a day) or archive (kept until deleted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Temporary.
    Quick,
    /// Permanent; may be published as a video.
    Archive,
}

impl Mode {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Quick => "quick",
            Mode::Archive => "archive",
        }
    }
}

/// A `startDownload` request, as given.
#[derive(Debug, Clone)]
pub struct StartDownload {
    /// The URL.
    pub url: String,
    /// The format (`None`: the best one).
    pub format_id: Option<String>,
    /// The mode.
    pub mode: Mode,
    /// Makes a retried call return the first call's task.
    pub idempotency_key: Option<String>,
}

/// A user's quota today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaState {
    /// Downloads started today.
    pub used: i64,
    /// The limit (`None`: unlimited).
    pub limit: Option<u32>,
    /// When the count starts again.
    pub resets_at: DateTime<Utc>,
}

/// Whether the storage is above its high watermark (set by the cleanup job).
#[derive(Debug, Clone, Default)]
pub struct DiskState {
    above_high: Arc<AtomicBool>,
}

impl DiskState {
    /// Whether quick tasks are refused.
    pub fn above_high(&self) -> bool {
        self.above_high.load(Ordering::Relaxed)
    }

    /// Records the latest measurement.
    pub fn set_above_high(&self, above: bool) {
        self.above_high.store(above, Ordering::Relaxed);
    }
}

/// Everything the services and workers share.
pub struct Inner {
    /// PostgreSQL.
    pub db: Db,
    /// Redis.
    pub cache: AssetsCache,
    /// The extractors (and the guarded client under them).
    pub extractors: Extractors,
    /// The work queue.
    pub queue: TaskQueue,
    /// Archive events for `content`.
    pub archive: ArchiveEvents,
    /// Progress.
    pub progress: ProgressBus,
    /// The disk.
    pub storage: Storage,
    /// `assets.*`.
    pub config: AssetsConfig,
    /// The calendar zone of quota days.
    pub tz: Tz,
    /// The clock.
    pub clock: SharedClock,
    /// File URL signer.
    pub signer: FileUrlSigner,
    /// The watermark state.
    pub disk: DiskState,
    /// Circuit breakers per platform.
    pub breakers: super::breaker::Breakers,
    /// Proxies for downloads (and the proxy provider's breaker).
    pub proxies: crate::fetch::proxy::Proxies,
}

/// The download centre (cheap to clone).
#[derive(Clone)]
pub struct DownloadCentre {
    inner: Arc<Inner>,
}

fn circuit_open(what: String, until: DateTime<Utc>, now: DateTime<Utc>) -> AssetsError {
    let retry_after_secs = u64::try_from((until - now).num_milliseconds().max(0)).unwrap_or(0).div_ceil(1000);
    AssetsError::CircuitOpen { what, retry_after_secs }
}

fn unfetchable(error: &FetchError) -> AssetsError {
    AssetsError::Unfetchable { reason: error.code(), message: format!("This URL cannot be downloaded: {error}.") }
}

impl DownloadCentre {
    /// Over these parts.
    pub fn new(inner: Inner) -> DownloadCentre {
        DownloadCentre { inner: Arc::new(inner) }
    }

    /// The shared parts.
    pub fn inner(&self) -> &Inner {
        &self.inner
    }

    /// Counts one hit of `limit` for `user_id`; `RateLimited` past it.
    async fn limit(&self, limit: &platform::rate_limit::RateLimit, user_id: Uuid) -> Result<(), AssetsError> {
        let decision = limit.hit(self.inner.cache.redis(), &user_id.to_string()).await.map_err(AssetsError::internal)?;
        match decision {
            platform::rate_limit::RateDecision::Limited { retry_after_secs } => Err(AssetsError::RateLimited { retry_after_secs }),
            platform::rate_limit::RateDecision::Allowed { .. } => Ok(()),
        }
    }

    /// `parseUrl` for `user_id` (at most [`PARSE_LIMIT`] a minute).
    pub async fn parse_for(&self, user_id: Uuid, raw_url: &str) -> Result<MediaInfo, AssetsError> {
        self.limit(&PARSE_LIMIT, user_id).await?;
        self.parse(raw_url).await
    }

    /// Metadata and formats of `raw_url`, from the cache (an hour, by normalized URL) or the
    /// extractors.
    pub async fn parse(&self, raw_url: &str) -> Result<MediaInfo, AssetsError> {
        let url = self.inner.extractors.client().parse_url(raw_url).map_err(|error| unfetchable(&error))?;
        self.parse_checked(&url).await.map_err(|error| unfetchable(&error))
    }

    /// [`DownloadCentre::parse`] of a checked URL, with the fetch error.
    pub async fn parse_checked(&self, url: &reqwest::Url) -> Result<MediaInfo, FetchError> {
        let mut normalized = url.clone();
        normalized.set_fragment(None);
        let key = normalized.as_str();
        match self.inner.cache.parsed(key).await {
            Ok(Some(info)) => {
                metrics::counter!("assets_parse_total", "outcome" => "cached").increment(1);
                return Ok(info);
            }
            Ok(None) => {}
            Err(error) => tracing::debug!(error = format!("{error:#}"), "parse cache unavailable"),
        }
        let parsed = self.inner.extractors.parse_through(&normalized, &self.inner.proxies, self.inner.clock.now()).await;
        let outcome = if parsed.is_ok() { "parsed" } else { "failed" };
        metrics::counter!("assets_parse_total", "outcome" => outcome).increment(1);
        let info = parsed?;
        if let Err(error) = self.inner.cache.store_parsed(key, &info).await {
            tracing::debug!(error = format!("{error:#}"), "could not cache a parse");
        }
        Ok(info)
    }

    /// Starts a download for `user`: checks the input, the watermark and the quota, records the
    /// task and enqueues it in one transaction, and returns it at once. A retried call with the
    /// same idempotency key returns the first call's task and uses no quota.
    pub async fn start(&self, user: AuthUser, request: StartDownload) -> Result<Download, AssetsError> {
        let key = request.idempotency_key.as_deref().map(str::trim);
        if let Some(key) = key
            && (key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY || !key.chars().all(|c| c.is_ascii_graphic()))
        {
            return Err(AssetsError::InvalidInput(format!("`idempotencyKey` is 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters.")));
        }
        if let Some(format_id) = &request.format_id
            && (format_id.is_empty() || format_id.len() > 100)
        {
            return Err(AssetsError::InvalidInput("`formatId` is 1 to 100 characters.".into()));
        }
        let mut conn = self.inner.db.pool.get().await?;
        if let Some(key) = key
            && let Some(existing) = downloads::find_by_key(&mut conn, user.id, key).await?
        {
            return Ok(existing);
        }
        drop(conn);
        if request.mode == Mode::Quick && self.inner.disk.above_high() {
            return Err(AssetsError::StorageFull);
        }
        self.limit(&START_LIMIT, user.id).await?;
        // An open breaker fails the call at once, before any outbound request: the task would
        // only wait in a worker for the breaker to half-open.
        let asked_at = self.inner.clock.now();
        if let Some(until) = self.inner.proxies.open_until(asked_at) {
            return Err(circuit_open("the proxy provider".into(), until, asked_at));
        }
        let info = self.parse(&request.url).await?;
        if let Some(until) = self.inner.breakers.open_until(&info.platform, asked_at) {
            return Err(circuit_open(format!("the platform {}", info.platform), until, asked_at));
        }
        let format = info.format(request.format_id.as_deref()).ok_or_else(|| {
            AssetsError::InvalidInput(format!(
                "This URL has no format {:?}; pick one of: {}.",
                request.format_id.as_deref().unwrap_or_default(),
                info.formats.iter().map(|format| format.id.as_str()).collect::<Vec<_>>().join(", ")
            ))
        })?;
        let now = self.inner.clock.now();
        let day = quota::quota_day(now, self.inner.tz);
        let mut conn = self.inner.db.pool.get().await?;
        let level = downloads::user_level(&mut conn, user.id).await?;
        let limit = quota::daily_limit(&user, level, &self.inner.config.daily_limits);
        // Reserved in Redis (atomic across replicas); without Redis, counted under a per-user
        // lock in the insert's transaction.
        let mut reserved = false;
        let mut locked_limit = None;
        if let Some(limit) = limit {
            let recorded = downloads::count_for_day(&mut conn, user.id, day).await?;
            match self.inner.cache.reserve(user.id, day, limit, recorded).await {
                Ok(Some(_)) => reserved = true,
                Ok(None) => return Err(self.quota_exceeded(limit, now)),
                Err(error) => {
                    tracing::warn!(error = format!("{error:#}"), "quota counter unavailable; counting in PostgreSQL");
                    locked_limit = Some(limit);
                }
            }
        }
        let id = Uuid::now_v7();
        let new = NewDownload {
            id,
            user_id: user.id,
            idempotency_key: key,
            url: &info.url,
            platform: &info.platform,
            extractor: &info.extractor,
            format_id: &format.id,
            mode: request.mode.as_str(),
            title: &info.title,
            bytes_total: format.size_bytes,
            quota_day: day,
            created_at: now,
        };
        let queue = &self.inner.queue;
        let recorded = conn
            .transaction::<_, AssetsError, _>(async |conn| {
                if let Some(limit) = locked_limit {
                    let lock = diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                        .bind::<diesel::sql_types::Text, _>(format!("assets-quota:{}:{day}", user.id));
                    diesel_async::RunQueryDsl::execute(lock, conn).await?;
                    if downloads::count_for_day(conn, user.id, day).await? >= i64::from(limit) {
                        return Err(self.quota_exceeded(limit, now));
                    }
                }
                let Some(row) = downloads::insert(conn, &new).await? else { return Ok(None) };
                queue.enqueue(conn, row.id).await?;
                Ok(Some(row))
            })
            .await;
        let recorded = match recorded {
            Ok(recorded) => recorded,
            Err(error) => {
                if reserved {
                    self.release(user.id, day).await;
                }
                return Err(error);
            }
        };
        let Some(row) = recorded else {
            // The same key won a concurrent call: that call's task, and this reservation back.
            if reserved {
                self.release(user.id, day).await;
            }
            let existing = downloads::find_by_key(&mut conn, user.id, key.unwrap_or_default()).await?;
            return existing.ok_or(AssetsError::NotFound("Download"));
        };
        queue.committed();
        metrics::counter!("assets_downloads_started_total", "mode" => request.mode.as_str()).increment(1);
        self.inner.progress.publish(&ProgressEvent::lifecycle(row.id, ProgressKind::Queued, 0, now)).await;
        Ok(row)
    }

    async fn release(&self, user_id: Uuid, day: chrono::NaiveDate) {
        if let Err(error) = self.inner.cache.release(user_id, day).await {
            tracing::warn!(error = format!("{error:#}"), "could not give back a quota reservation");
        }
    }

    fn quota_exceeded(&self, limit: u32, now: DateTime<Utc>) -> AssetsError {
        AssetsError::QuotaExceeded { limit, resets_at: quota::resets_at(now, self.inner.tz).to_rfc3339() }
    }

    /// `user`'s quota today.
    pub async fn quota(&self, user: AuthUser) -> Result<QuotaState, AssetsError> {
        let now = self.inner.clock.now();
        let day = quota::quota_day(now, self.inner.tz);
        let mut conn = self.inner.db.pool.get().await?;
        let level = downloads::user_level(&mut conn, user.id).await?;
        let recorded = downloads::count_for_day(&mut conn, user.id, day).await?;
        let counted = self.inner.cache.used(user.id, day).await.ok().flatten().unwrap_or(0);
        Ok(QuotaState {
            used: recorded.max(counted),
            limit: quota::daily_limit(&user, level, &self.inner.config.daily_limits),
            resets_at: quota::resets_at(now, self.inner.tz),
        })
    }

    /// A page of `user`'s downloads, newest first: `first` (1–100) after the task `after`;
    /// and whether more follow.
    pub async fn list(
        &self,
        user: AuthUser,
        status: Option<&str>,
        mode: Option<Mode>,
        first: i64,
        after: Option<Uuid>,
    ) -> Result<(Vec<Download>, bool), AssetsError> {
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(AssetsError::InvalidInput(format!("`first` must be between 1 and {MAX_PAGE}.")));
        }
        let mut conn = self.inner.db.pool.get().await?;
        let mut rows = downloads::list(&mut conn, user.id, status, mode.map(Mode::as_str), after, first + 1).await?;
        let more = rows.len() as i64 > first;
        rows.truncate(first as usize);
        Ok((rows, more))
    }

    /// One of `user`'s downloads (admins see anyone's).
    pub async fn get(&self, user: AuthUser, id: Uuid) -> Result<Download, AssetsError> {
        let mut conn = self.inner.db.pool.get().await?;
        let row = downloads::find(&mut conn, id).await?.filter(|row| row.deleted_at.is_none());
        row.filter(|row| user.is_owner_or_admin(&[row.user_id])).ok_or(AssetsError::NotFound("Download"))
    }

    /// Cancels `user`'s queued or running task; its partial file is removed (a running worker
    /// notices within a second and stops).
    pub async fn cancel(&self, user: AuthUser, id: Uuid) -> Result<Download, AssetsError> {
        let now = self.inner.clock.now();
        let mut conn = self.inner.db.pool.get().await?;
        let Some(row) = downloads::cancel(&mut conn, id, user.id, now).await? else {
            return match downloads::find(&mut conn, id).await?.filter(|row| row.user_id == user.id && row.deleted_at.is_none()) {
                Some(row) => Err(AssetsError::Conflict(format!("This download has already ended ({}).", row.status))),
                None => Err(AssetsError::NotFound("Download")),
            };
        };
        if let Err(error) = self.inner.storage.remove_task_dir(row.id).await {
            tracing::warn!(task.id = %row.id, %error, "could not remove a cancelled task's files; the sweep will");
        }
        metrics::counter!("assets_downloads_finished_total", "outcome" => "cancelled", "platform" => row.platform.clone()).increment(1);
        self.inner.progress.publish(&ProgressEvent::lifecycle(row.id, ProgressKind::Cancelled, row.attempts, now)).await;
        Ok(row)
    }

    /// Deletes `user`'s download from the history with its file (a running one is cancelled);
    /// an archive can no longer be published. The quota is not given back.
    pub async fn delete(&self, user: AuthUser, id: Uuid) -> Result<Download, AssetsError> {
        let now = self.inner.clock.now();
        let mut conn = self.inner.db.pool.get().await?;
        let archive = &self.inner.archive;
        let row = conn
            .transaction::<_, AssetsError, _>(async |conn| {
                let row = downloads::mark_deleted(conn, id, user.id, now).await?.ok_or(AssetsError::NotFound("Download"))?;
                if row.is_archive() && row.status == downloads::COMPLETED {
                    archive.record(conn, &row, AssetAction::Deleted, now).await?;
                }
                Ok(row)
            })
            .await?;
        archive.committed();
        if let Some(path) = &row.file_path
            && let Err(error) = self.inner.storage.remove_file(path).await
        {
            tracing::warn!(task.id = %row.id, %error, "could not remove a deleted download's file");
        }
        if let Err(error) = self.inner.storage.remove_task_dir(row.id).await {
            tracing::warn!(task.id = %row.id, %error, "could not remove a deleted download's directory");
        }
        if row.status == downloads::CANCELLED && row.completed_at == Some(now) {
            self.inner.progress.publish(&ProgressEvent::lifecycle(row.id, ProgressKind::Cancelled, row.attempts, now)).await;
        }
        Ok(row)
    }

    /// The signed URL of a finished download's file (its owner asks), under
    /// `assets.public_url` or `http://<host>`.
    pub fn file_url(&self, row: &Download, host: Option<&str>) -> Option<String> {
        if row.status != downloads::COMPLETED || row.deleted_at.is_some() || row.file_path.is_none() {
            return None;
        }
        let base = match (&self.inner.config.public_url, host) {
            (Some(public_url), _) => public_url.clone(),
            (None, Some(host)) => format!("http://{host}"),
            (None, None) => return None,
        };
        let ttl = chrono::Duration::seconds(i64::try_from(self.inner.config.file_url_ttl_secs.max(1)).unwrap_or(300));
        Some(self.inner.signer.url(&base, row.id, row.user_id, self.inner.clock.now() + ttl))
    }

    /// Sets `user_id`'s quota level (admins).
    pub async fn set_level(&self, user_id: Uuid, level: i32) -> Result<(), AssetsError> {
        if !(0..=1000).contains(&level) {
            return Err(AssetsError::InvalidInput("`level` is between 0 and 1000.".into()));
        }
        let mut conn = self.inner.db.pool.get().await?;
        downloads::set_user_level(&mut conn, user_id, level, self.inner.clock.now()).await?;
        Ok(())
    }
}
