//! Video uploads: a signed-in user creates an upload slot, PUTs one file to its signed URL,
//! and a publish attaches the finished file to a video. Slots that expire pending, or finish
//! but are never attached, are swept with their files.
//!
//! ```text
//! createVideoUpload ─▶ pending ──PUT──▶ complete ──attach──▶ attached
//!                         │                 │
//!                         └── past expiry ──┴──▶ swept (row and file deleted)
//! ```

use super::ContentError;
use super::upload_url::{SignatureError, UploadUrlSigner};
use crate::store::objects::{ByteStream, LocalDiskStorage, ObjectStorage, PutError};
use crate::store::uploads::{self, Completion, NewUpload, Upload, state};
use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use platform::InitError;
use platform::auth::KeyPair;
use platform::config::{AppConfig, StorageConfig};
use platform::db::Db;
use platform::error::{CodedError, ErrorCode};
use std::sync::Arc;
use uuid::Uuid;

/// Most expired slots deleted per sweep transaction.
const SWEEP_BATCH: i64 = 200;

/// Where an upload is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadState {
    /// Waiting for its file.
    Pending,
    /// The file is stored.
    Complete,
    /// A video uses the file.
    Attached,
}

impl UploadState {
    /// Reads the stored name (the table's CHECK constraint allows only the three).
    pub fn from_stored(name: &str) -> UploadState {
        match name {
            state::COMPLETE => UploadState::Complete,
            state::ATTACHED => UploadState::Attached,
            _ => UploadState::Pending,
        }
    }
}

/// A valid request for an upload slot: an allowed media type and a size cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRequest {
    content_type: String,
    max_bytes: u64,
}

impl UploadRequest {
    /// Checks `content_type` against the allowed list (case-insensitively; stored lowercase)
    /// and `size_bytes`, when given, against the configured maximum. The declared size
    /// becomes the slot's cap; without it the cap is the configured maximum.
    pub fn parse(content_type: &str, size_bytes: Option<i64>, config: &StorageConfig) -> Result<UploadRequest, ContentError> {
        let content_type = content_type.trim().to_ascii_lowercase();
        if !config.allowed_content_types.iter().any(|allowed| allowed.eq_ignore_ascii_case(&content_type)) {
            return Err(ContentError::InvalidInput(format!("`contentType` must be one of: {}.", config.allowed_content_types.join(", "))));
        }
        let max_bytes = match size_bytes {
            None => config.max_upload_bytes,
            Some(size) => match u64::try_from(size) {
                Ok(size) if size > 0 && size <= config.max_upload_bytes => size,
                _ => {
                    return Err(ContentError::InvalidInput(format!("`sizeBytes` must be between 1 and {}.", config.max_upload_bytes)));
                }
            },
        };
        Ok(UploadRequest { content_type, max_bytes })
    }

    /// The normalised media type.
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The size cap.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }
}

/// One PUT of a file, as the HTTP route read it.
pub struct IncomingFile<'a> {
    /// The upload id from the path.
    pub id: Uuid,
    /// `expires` from the query (unix seconds); `None` when missing or not a number.
    pub expires: Option<i64>,
    /// `signature` from the query.
    pub signature: Option<&'a str>,
    /// The `Content-Type` header.
    pub content_type: Option<&'a str>,
    /// The `Content-Length` header, when sent (chunked bodies have none).
    pub content_length: Option<u64>,
    /// The body, streamed.
    pub body: ByteStream<'a>,
}

/// Why a PUT was refused; the HTTP route maps each to a status.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    /// The URL's signature is invalid or expired.
    #[error("This upload URL is invalid or has expired; ask for a new one.")]
    BadSignature(#[source] SignatureError),
    /// No such upload (or it was swept).
    #[error("Upload not found.")]
    NotFound,
    /// The upload already has its file.
    #[error("This upload already has its file.")]
    AlreadyUploaded,
    /// Another PUT to this upload is still streaming (one writer per upload).
    #[error("Another upload to this URL is in progress; wait for it to finish or fail.")]
    Busy,
    /// The PUT sent nothing for too long, or took longer than allowed.
    #[error("The upload took too long (more than {secs} seconds {what}); send the file again.")]
    TimedOut {
        /// Which limit: "in all" or "without data".
        what: &'static str,
        /// The limit.
        secs: u64,
    },
    /// `Content-Type` differs from the declared one.
    #[error("Send the file with `Content-Type: {expected}`, as declared when the upload was created.")]
    WrongContentType {
        /// The declared type.
        expected: String,
    },
    /// The body is over the upload's cap.
    #[error("The file is larger than this upload's limit of {max_bytes} bytes.")]
    TooLarge {
        /// The cap.
        max_bytes: u64,
    },
    /// The body is empty.
    #[error("The file is empty.")]
    Empty,
    /// The body stream broke off (the client disconnected or sent a malformed body).
    #[error("The upload was interrupted; send the file again.")]
    Interrupted,
    /// Our fault.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl CodedError for ReceiveError {
    fn code(&self) -> ErrorCode {
        match self {
            ReceiveError::BadSignature(_) => ErrorCode::Forbidden,
            ReceiveError::NotFound => ErrorCode::NotFound,
            ReceiveError::AlreadyUploaded | ReceiveError::Busy => ErrorCode::Conflict,
            ReceiveError::WrongContentType { .. }
            | ReceiveError::TooLarge { .. }
            | ReceiveError::Empty
            | ReceiveError::Interrupted
            | ReceiveError::TimedOut { .. } => ErrorCode::BadUserInput,
            ReceiveError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl ReceiveError {
    fn internal(error: impl Into<anyhow::Error>) -> Self {
        ReceiveError::Internal(error.into())
    }
}

impl From<diesel::result::Error> for ReceiveError {
    fn from(error: diesel::result::Error) -> Self {
        ReceiveError::internal(error)
    }
}

impl From<platform::db::PoolError> for ReceiveError {
    fn from(error: platform::db::PoolError) -> Self {
        ReceiveError::internal(error)
    }
}

/// What one sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Expired slots deleted with their files.
    pub uploads: usize,
    /// Abandoned partial files deleted.
    pub stale_parts: usize,
}

/// The upload service: held in the schema data, by the PUT route and by the sweeper.
#[derive(Clone)]
pub struct Uploads {
    db: Db,
    storage: Arc<dyn ObjectStorage>,
    signer: UploadUrlSigner,
    config: Arc<StorageConfig>,
}

impl Uploads {
    /// Builds the service.
    pub fn new(db: Db, storage: Arc<dyn ObjectStorage>, signer: UploadUrlSigner, config: StorageConfig) -> Uploads {
        Uploads { db, storage, signer, config: Arc::new(config) }
    }

    /// The service as `config` describes it: local-disk storage under `storage.root` (created
    /// if missing) and URLs signed with a secret derived from the key in `auth.key_dir`.
    pub fn from_config(db: Db, config: &AppConfig) -> Result<Uploads, InitError> {
        let keys = KeyPair::load(&config.auth.key_dir)?;
        let storage = LocalDiskStorage::open(&config.storage.root)
            .map_err(|error| InitError::Subgraph(anyhow::anyhow!("upload storage {}: {error}", config.storage.root.display())))?;
        Ok(Uploads::new(db, Arc::new(storage), UploadUrlSigner::new(&keys), config.storage.clone()))
    }

    /// The same service over another pool (the sweeper uses the background pool).
    pub fn with_db(&self, db: Db) -> Uploads {
        Uploads { db, ..self.clone() }
    }

    /// The storage settings.
    pub fn config(&self) -> &StorageConfig {
        &self.config
    }

    /// Parses a request for a slot against this service's settings.
    pub fn parse_request(&self, content_type: &str, size_bytes: Option<i64>) -> Result<UploadRequest, ContentError> {
        UploadRequest::parse(content_type, size_bytes, &self.config)
    }

    /// Creates a pending slot for `owner_id`, its URL valid for `upload_url_ttl_secs`, within
    /// the owner's allowances: at most `max_pending_uploads_per_user` slots waiting for a file,
    /// and `max_upload_bytes_per_day` over the last 24 hours (the new slot reserving its cap);
    /// `QUOTA_EXCEEDED` otherwise. The check and the insert hold the owner's row lock, so
    /// parallel requests cannot all slip under the cap.
    #[tracing::instrument(skip_all, fields(user.id = %owner_id))]
    pub async fn create(&self, owner_id: Uuid, request: UploadRequest, now: DateTime<Utc>) -> Result<Upload, ContentError> {
        let id = Uuid::now_v7();
        let storage_key = id.simple().to_string();
        let max_bytes = i64::try_from(request.max_bytes).map_err(ContentError::internal)?;
        let new = NewUpload {
            id,
            owner_id,
            content_type: &request.content_type,
            max_bytes,
            storage_key: &storage_key,
            expires_at: now + seconds(self.config.upload_url_ttl_secs),
        };
        let config = &self.config;
        let mut conn = self.db.pool.get().await?;
        conn.transaction(async |conn| {
            uploads::lock_owner(conn, owner_id).await?;
            let usage = uploads::usage(conn, owner_id, now, now - Duration::days(1)).await?;
            check_allowance(usage, max_bytes, config)?;
            Ok(uploads::insert(conn, &new).await?)
        })
        .await
    }

    /// The slot if `owner_id` owns it; anyone else gets `NOT_FOUND` (never learning that it
    /// exists).
    pub async fn find_own(&self, id: Uuid, owner_id: Uuid) -> Result<Upload, ContentError> {
        let mut conn = self.db.pool.get().await?;
        uploads::find_owned(&mut conn, id, owner_id).await?.ok_or(ContentError::NotFound("Upload"))
    }

    /// The signed URL of a pending slot (`None` once it has its file). The base is
    /// `storage.public_url`, else `http://<host>` from the GraphQL request's `Host` header.
    pub fn upload_url(&self, upload: &Upload, host: Option<&str>) -> Result<Option<String>, ContentError> {
        if UploadState::from_stored(&upload.state) != UploadState::Pending {
            return Ok(None);
        }
        let base = match (&self.config.public_url, host) {
            (Some(public_url), _) => public_url.clone(),
            (None, Some(host)) => format!("http://{host}"),
            (None, None) => {
                return Err(ContentError::internal(anyhow::anyhow!("no storage.public_url configured and the request has no Host header")));
            }
        };
        Ok(Some(self.signer.url(&base, upload.id, upload.expires_at)))
    }

    /// Stores the file of one PUT that arrived at `now` (checked against the URL's expiry): checks the signature, the slot, the media type and the size
    /// (as declared and as streamed), claims the slot, stages the body within the PUT's time
    /// limits, then, in one transaction, marks the slot complete and publishes the file. One
    /// writer per slot: while a PUT holds the claim, another gets [`ReceiveError::Busy`]
    /// (`409`) before staging anything; a failed PUT releases the claim.
    #[tracing::instrument(skip_all, fields(upload.id = %file.id))]
    pub async fn receive(&self, file: IncomingFile<'_>, now: DateTime<Utc>) -> Result<Upload, ReceiveError> {
        let expires = file.expires.ok_or(ReceiveError::BadSignature(SignatureError::Invalid))?;
        let signature = file.signature.ok_or(ReceiveError::BadSignature(SignatureError::Invalid))?;
        self.signer.verify(file.id, expires, signature, now).map_err(ReceiveError::BadSignature)?;

        // The connection goes back to the pool while the body streams (which can take minutes).
        let upload = {
            let mut conn = self.db.pool.get().await?;
            uploads::find(&mut conn, file.id).await?.ok_or(ReceiveError::NotFound)?
        };
        if UploadState::from_stored(&upload.state) != UploadState::Pending {
            return Err(ReceiveError::AlreadyUploaded);
        }
        let declared_type = file.content_type.and_then(|value| value.split(';').next()).map(str::trim);
        if !declared_type.is_some_and(|sent| sent.eq_ignore_ascii_case(&upload.content_type)) {
            return Err(ReceiveError::WrongContentType { expected: upload.content_type });
        }
        let max_bytes = u64::try_from(upload.max_bytes).map_err(ReceiveError::internal)?;
        if file.content_length.is_some_and(|length| length > max_bytes) {
            return Err(ReceiveError::TooLarge { max_bytes });
        }

        // One writer per slot: claim it before staging a byte.
        let receiver = Uuid::new_v4();
        let claimed = {
            let mut conn = self.db.pool.get().await?;
            let until = now + seconds(self.config.put_timeout_secs);
            if uploads::claim(&mut conn, upload.id, receiver, now, until).await? {
                true
            } else {
                match uploads::find(&mut conn, upload.id).await? {
                    None => return Err(ReceiveError::NotFound),
                    Some(found) if UploadState::from_stored(&found.state) != UploadState::Pending => {
                        return Err(ReceiveError::AlreadyUploaded);
                    }
                    Some(_) => false,
                }
            }
        };
        if !claimed {
            return Err(ReceiveError::Busy);
        }
        let mut claim = Claim { db: self.db.clone(), id: upload.id, receiver, armed: true };
        let outcome = self.stage_and_publish(upload, receiver, file.body, max_bytes).await;
        if outcome.is_err() {
            // Released before answering, so the client's retry finds the slot free.
            release(&self.db, claim.id, receiver).await;
        }
        claim.armed = false;
        outcome
    }

    /// Streams the body of the claimed slot within the PUT's time limits and publishes it.
    async fn stage_and_publish(
        &self,
        upload: Upload,
        receiver: Uuid,
        body: ByteStream<'_>,
        max_bytes: u64,
    ) -> Result<Upload, ReceiveError> {
        let limits = PutLimits { total_secs: self.config.put_timeout_secs, idle_secs: self.config.put_idle_timeout_secs };
        let staged = self.storage.stage(&upload.storage_key, limits.bound(body), max_bytes).await.map_err(|error| match error {
            PutError::TooLarge { max_bytes } => ReceiveError::TooLarge { max_bytes },
            PutError::Body(error) => PutLimits::timed_out(&error).unwrap_or(ReceiveError::Interrupted),
            PutError::Storage(error) => ReceiveError::internal(error),
        })?;
        if staged.size_bytes == 0 {
            return Err(ReceiveError::Empty);
        }
        // Completion time, not arrival time: a large body can take a while.
        self.publish(upload, receiver, staged, Utc::now()).await
    }

    /// The tail of [`Uploads::receive`]: the `pending → complete` update guarded on this PUT's
    /// claim, and the commit of the file, in one transaction. The row lock taken by the update
    /// is held until the file is in place.
    async fn publish(
        &self,
        upload: Upload,
        receiver: Uuid,
        staged: crate::store::objects::StagedObject,
        now: DateTime<Utc>,
    ) -> Result<Upload, ReceiveError> {
        let size_bytes = i64::try_from(staged.size_bytes).map_err(ReceiveError::internal)?;
        let sha256 = staged.sha256.clone();
        let done =
            Completion { size_bytes, sha256: &sha256, completed_at: now, expires_at: now + seconds(self.config.unattached_ttl_secs) };
        let storage = &self.storage;
        let mut published = false;
        let mut conn = self.db.pool.get().await?;
        let outcome = conn
            .transaction(async |conn| {
                let Some(completed) = uploads::complete(conn, upload.id, receiver, done).await? else {
                    return Ok::<_, ReceiveError>(None);
                };
                storage.commit(staged).await.map_err(ReceiveError::internal)?;
                published = true;
                Ok(Some(completed))
            })
            .await;
        match outcome {
            Ok(Some(completed)) => {
                tracing::info!(upload.size_bytes = size_bytes, "upload complete");
                Ok(completed)
            }
            // The claim lapsed and another PUT took the slot, or it was swept meanwhile; the
            // staged file was dropped with the closure.
            Ok(None) => match uploads::find(&mut conn, upload.id).await? {
                Some(found) if UploadState::from_stored(&found.state) == UploadState::Pending => Err(ReceiveError::Busy),
                Some(_) => Err(ReceiveError::AlreadyUploaded),
                None => Err(ReceiveError::NotFound),
            },
            Err(error) => {
                // The file went into place but the transaction did not commit: the slot is
                // still pending, and nobody else can have published under this key meanwhile.
                if published && let Err(cleanup) = self.storage.delete(&upload.storage_key).await {
                    tracing::warn!(error = %cleanup, "could not remove the file of a failed upload");
                }
                Err(error)
            }
        }
    }

    /// Deletes every slot past its expiry that no video uses (pending ones whose URL expired,
    /// complete ones never attached within `unattached_ttl_secs`) with its file, then partial
    /// files untouched for `upload_url_ttl_secs`. `now` is the clock, so tests can sweep "later".
    ///
    /// Each batch deletes its files inside the transaction that holds the rows' locks and
    /// deletes the rows: a concurrent `attach` waits and then finds nothing, and a failed file
    /// deletion keeps the rows for the next sweep.
    pub async fn sweep(&self, now: DateTime<Utc>) -> Result<SweepReport, ContentError> {
        let mut report = SweepReport::default();
        loop {
            let mut conn = self.db.pool.get().await?;
            let storage = &self.storage;
            let swept = conn
                .transaction(async |conn| {
                    let expired = uploads::lock_expired(conn, now, SWEEP_BATCH).await?;
                    for upload in &expired {
                        storage.delete(&upload.storage_key).await.map_err(ContentError::internal)?;
                    }
                    let ids: Vec<Uuid> = expired.iter().map(|upload| upload.id).collect();
                    uploads::delete_many(conn, &ids).await?;
                    Ok::<_, ContentError>(expired.len())
                })
                .await?;
            report.uploads += swept;
            if swept < SWEEP_BATCH as usize {
                break;
            }
        }
        let cutoff = now - seconds(self.config.upload_url_ttl_secs);
        report.stale_parts = self.storage.remove_stale_parts(cutoff.into()).await.map_err(ContentError::internal)?;
        Ok(report)
    }

    /// One sweep, logged when it removed something (the housekeeping job's first step).
    pub async fn sweep_and_log(&self, now: DateTime<Utc>) -> Result<(), ContentError> {
        let report = self.sweep(now).await?;
        if report != SweepReport::default() {
            tracing::info!(uploads = report.uploads, stale_parts = report.stale_parts, "swept expired uploads");
        }
        Ok(())
    }
}

/// Marks the owner's complete upload as used by a video, inside the caller's transaction (the
/// publish transaction). `NOT_FOUND` when it does not exist or belongs to someone else,
/// `BAD_USER_INPUT` while its file has not arrived, `CONFLICT` when already attached. The
/// update is guarded on the state, so of two concurrent publishes only one attaches it.
pub async fn attach(conn: &mut AsyncPgConnection, upload_id: Uuid, owner_id: Uuid) -> Result<Upload, ContentError> {
    if let Some(upload) = uploads::attach(conn, upload_id, owner_id).await? {
        return Ok(upload);
    }
    let found = uploads::find_owned(conn, upload_id, owner_id).await?.ok_or(ContentError::NotFound("Upload"))?;
    match UploadState::from_stored(&found.state) {
        UploadState::Pending => Err(ContentError::InvalidInput("upload not finished: PUT the file to its upload URL first.".into())),
        UploadState::Complete | UploadState::Attached => Err(ContentError::Conflict("This upload is already attached to a video.".into())),
    }
}

/// A PUT's claim on its slot while it streams. Dropped armed — the request future was dropped
/// mid-way, as when the connection goes away — it releases the claim in a task of its own, so a
/// retry need not wait for the claim to lapse (`put_timeout_secs`).
struct Claim {
    db: Db,
    id: Uuid,
    receiver: Uuid,
    armed: bool,
}

impl Drop for Claim {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (db, id, receiver) = (self.db.clone(), self.id, self.receiver);
            runtime.spawn(async move { release(&db, id, receiver).await });
        }
    }
}

/// Gives a claim up; if that fails too, the claim lapses at its deadline.
async fn release(db: &Db, id: Uuid, receiver: Uuid) {
    let released = match db.pool.get().await {
        Ok(mut conn) => uploads::release(&mut conn, id, receiver).await.map_err(anyhow::Error::from),
        Err(error) => Err(anyhow::Error::from(error)),
    };
    if let Err(error) = released {
        tracing::warn!(error = %platform::error::DisplayChain(&*error), "could not release an upload claim; it lapses on its own");
    }
}

/// Refuses a new slot of `max_bytes` that would not fit the owner's allowances.
fn check_allowance(usage: uploads::Usage, max_bytes: i64, config: &StorageConfig) -> Result<(), ContentError> {
    if usage.pending >= i64::from(config.max_pending_uploads_per_user) {
        return Err(ContentError::QuotaExceeded(format!(
            "You already have {} uploads waiting for their file; finish one (or let it expire) first.",
            usage.pending
        )));
    }
    let per_day = i64::try_from(config.max_upload_bytes_per_day).unwrap_or(i64::MAX);
    if usage.bytes.saturating_add(max_bytes) > per_day {
        return Err(ContentError::QuotaExceeded(format!(
            "Uploads are limited to {per_day} bytes per 24 hours and {} are used or reserved; declare a smaller `sizeBytes` or try later.",
            usage.bytes
        )));
    }
    Ok(())
}

/// The time limits of one PUT: in all, and without any data.
#[derive(Debug, Clone, Copy)]
struct PutLimits {
    total_secs: u64,
    idle_secs: u64,
}

/// Which time limit cut a PUT ("in all" or "without data").
const TOTAL_LIMIT: &str = "in all";
const IDLE_LIMIT: &str = "without data";

/// The body error [`PutLimits::bound`] yields when a limit is hit (inside an `io::Error`).
#[derive(Debug, thiserror::Error)]
#[error("the upload went past its time limit ({secs} s {what})")]
struct PutTimedOut {
    what: &'static str,
    secs: u64,
}

impl PutLimits {
    /// `body`, failing with [`PutTimedOut`] once it has sent nothing for `idle_secs` or streamed
    /// for `total_secs`; the stream ends there (the staging then removes its partial file).
    fn bound(self, body: ByteStream<'_>) -> ByteStream<'_> {
        // Capped like every configured duration, so the instant arithmetic cannot overflow.
        let total_secs = self.total_secs.min(SECONDS_CAP);
        let idle_secs = self.idle_secs.clamp(1, SECONDS_CAP);
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(total_secs);
        Box::pin(futures::stream::unfold(Some(body), move |body| async move {
            let mut body = body?;
            let idle_until = tokio::time::Instant::now() + std::time::Duration::from_secs(idle_secs);
            let (until, limit) = if idle_until < deadline {
                (idle_until, PutTimedOut { what: IDLE_LIMIT, secs: idle_secs })
            } else {
                (deadline, PutTimedOut { what: TOTAL_LIMIT, secs: total_secs })
            };
            match tokio::time::timeout_at(until, futures::StreamExt::next(&mut body)).await {
                Ok(Some(chunk)) => Some((chunk, Some(body))),
                Ok(None) => None,
                Err(_) => Some((Err(std::io::Error::new(std::io::ErrorKind::TimedOut, limit)), None)),
            }
        }))
    }

    /// The receive error of a body error that [`PutLimits::bound`] produced.
    fn timed_out(error: &std::io::Error) -> Option<ReceiveError> {
        let limit = error.get_ref()?.downcast_ref::<PutTimedOut>()?;
        Some(ReceiveError::TimedOut { what: limit.what, secs: limit.secs })
    }
}

/// The most seconds a configured duration counts for (100 years).
const SECONDS_CAP: u64 = 100 * 365 * 24 * 3600;

/// A configured number of seconds, capped at [`SECONDS_CAP`] so date arithmetic cannot overflow.
fn seconds(secs: u64) -> Duration {
    Duration::seconds(i64::try_from(secs.min(SECONDS_CAP)).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_need_an_allowed_type_and_a_size_within_the_maximum() {
        let config = StorageConfig { max_upload_bytes: 1000, ..StorageConfig::default() };
        let request = UploadRequest::parse(" Video/MP4 ", None, &config).expect("allowed");
        assert_eq!((request.content_type(), request.max_bytes()), ("video/mp4", 1000));
        assert_eq!(UploadRequest::parse("video/webm", Some(10), &config).expect("small").max_bytes(), 10);
        for (content_type, size) in [
            ("image/png", None),
            ("video/mp4; codecs=avc1", None),
            ("video/mp4", Some(1001)),
            ("video/mp4", Some(0)),
            ("video/mp4", Some(-5)),
        ] {
            assert!(
                matches!(UploadRequest::parse(content_type, size, &config), Err(ContentError::InvalidInput(_))),
                "{content_type} {size:?}"
            );
        }
    }
}
