//! Download tasks: `startDownload`, `cancelDownload`, `deleteDownload`, `myDownloads`,
//! `download(id)`, `myQuota`, and the `Download` type.

use super::{GqlResultExt, parse_id};
use crate::domain::downloads::{DownloadCentre, Mode, StartDownload};
use crate::events::archive::asset_ref;
use crate::store::downloads::{self as rows, Download as Row};
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use platform::auth::{SignedIn, viewer};
use platform::error::CodedResultExt;
use platform::request::RequestHost;

/// Quick (kept 24 hours) or archive (kept until deleted; can be published as a video).
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum DownloadMode {
    /// Temporary: the file is deleted after a day.
    Quick,
    /// Permanent, until deleted; `assetRef` can be published with `createVideo`.
    Archive,
}

impl From<DownloadMode> for Mode {
    fn from(mode: DownloadMode) -> Mode {
        match mode {
            DownloadMode::Quick => Mode::Quick,
            DownloadMode::Archive => Mode::Archive,
        }
    }
}

/// Where a task is in its life.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum DownloadStatus {
    /// Waiting for a worker.
    Queued,
    /// Downloading.
    Running,
    /// The file is ready.
    Completed,
    /// Given up (`errorCode` says why).
    Failed,
    /// Cancelled by its owner.
    Cancelled,
}

impl DownloadStatus {
    fn from_stored(status: &str) -> DownloadStatus {
        match status {
            rows::RUNNING => DownloadStatus::Running,
            rows::COMPLETED => DownloadStatus::Completed,
            rows::FAILED => DownloadStatus::Failed,
            rows::CANCELLED => DownloadStatus::Cancelled,
            _ => DownloadStatus::Queued,
        }
    }

    fn as_stored(self) -> &'static str {
        match self {
            DownloadStatus::Queued => rows::QUEUED,
            DownloadStatus::Running => rows::RUNNING,
            DownloadStatus::Completed => rows::COMPLETED,
            DownloadStatus::Failed => rows::FAILED,
            DownloadStatus::Cancelled => rows::CANCELLED,
        }
    }
}

/// A user, by reference (`content` resolves the rest).
#[derive(SimpleObject, Clone)]
#[graphql(name = "User", unresolvable = "id")]
pub struct UserRef {
    /// The user id.
    pub id: ID,
}

/// One download task and, once finished, its file.
pub struct Download(pub Row);

#[Object]
impl Download {
    /// Task id (`downloadProgress(taskId:)` takes it).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Who asked for it.
    async fn owner(&self) -> UserRef {
        UserRef { id: ID(self.0.user_id.to_string()) }
    }

    /// The URL, as normalized.
    async fn url(&self) -> &str {
        &self.0.url
    }

    /// The site.
    async fn platform(&self) -> &str {
        &self.0.platform
    }

    /// Title.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// The format downloaded.
    async fn format_id(&self) -> &str {
        &self.0.format_id
    }

    /// Quick or archive.
    async fn mode(&self) -> DownloadMode {
        if self.0.is_archive() { DownloadMode::Archive } else { DownloadMode::Quick }
    }

    /// Where it is.
    async fn status(&self) -> DownloadStatus {
        DownloadStatus::from_stored(&self.0.status)
    }

    /// Attempts started (at most 3 by default).
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }

    /// Why the last attempt failed: `URL_POLICY`, `NOT_FOUND`, `TOO_LARGE`, `UNSUPPORTED`,
    /// `NETWORK`, `TIMEOUT`, `SOURCE_ERROR`, `THROTTLED`…
    async fn error_code(&self) -> Option<&str> {
        self.0.error_code.as_deref()
    }

    /// Why, in words.
    async fn error_message(&self) -> Option<&str> {
        self.0.error_message.as_deref()
    }

    /// Bytes so far (updated every second while running).
    async fn bytes_done(&self) -> i64 {
        self.0.bytes_done
    }

    /// Expected size, when known.
    async fn bytes_total(&self) -> Option<i64> {
        self.0.bytes_total
    }

    /// Size of the finished file.
    async fn size_bytes(&self) -> Option<i64> {
        self.0.size_bytes
    }

    /// Lowercase hex SHA-256 of the finished file.
    async fn sha256(&self) -> Option<&str> {
        self.0.sha256.as_deref()
    }

    /// Name of the finished file.
    async fn file_name(&self) -> Option<&str> {
        self.0.file_name.as_deref()
    }

    /// Media type of the finished file.
    async fn content_type(&self) -> Option<&str> {
        self.0.content_type.as_deref()
    }

    /// When it was asked for.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When a worker first started it.
    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.0.started_at
    }

    /// When it ended.
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }

    /// When a quick download's file is deleted.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }

    /// A short-lived signed URL of the finished file (plain HTTP GET, `Range` supported); only
    /// its owner sees it, `null` for anyone else and before completion.
    async fn file_url(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        if viewer(ctx).user_id() != Some(self.0.user_id) {
            return Ok(None);
        }
        let host = ctx.data_opt::<RequestHost>().map(|host| host.0.as_str());
        Ok(ctx.data::<DownloadCentre>()?.file_url(&self.0, host))
    }

    /// For a finished archive download: what `createVideo(assetRef:)` takes to publish it.
    async fn asset_ref(&self) -> Option<String> {
        (self.0.is_archive() && self.0.status == rows::COMPLETED && self.0.deleted_at.is_none()).then(|| asset_ref(self.0.id))
    }
}

/// One download and its cursor.
#[derive(SimpleObject)]
pub struct DownloadEdge {
    /// Pass as `after` for the downloads after this one.
    pub cursor: String,
    /// The download.
    pub node: Download,
}

/// A page of downloads, newest first.
#[derive(SimpleObject)]
pub struct DownloadConnection {
    /// This page.
    pub edges: Vec<DownloadEdge>,
    /// Whether more follow `endCursor`.
    pub has_next_page: bool,
    /// The cursor of the last edge.
    pub end_cursor: Option<String>,
}

/// Today's quota.
#[derive(SimpleObject)]
pub struct DownloadQuota {
    /// Downloads started today.
    pub used: i64,
    /// The daily limit; `null` is unlimited.
    pub limit: Option<i32>,
    /// Left today; `null` is unlimited.
    pub remaining: Option<i64>,
    /// When the count starts again.
    pub resets_at: DateTime<Utc>,
}

/// A download request.
#[derive(InputObject)]
pub struct StartDownloadInput {
    /// The URL (as given to `parseUrl`).
    pub url: String,
    /// One of `parseUrl`'s `formats[].id`; the best one when omitted.
    pub format_id: Option<String>,
    /// Quick or archive.
    pub mode: DownloadMode,
    /// A key of your choice (1–100 visible ASCII characters): a retried call with the same key
    /// returns the first call's task instead of starting (and counting) another.
    pub idempotency_key: Option<String>,
}

/// Download queries.
#[derive(Default)]
pub struct DownloadQuery;

#[Object]
impl DownloadQuery {
    /// The signed-in user's downloads, newest first: `first` (1–100, default 20) after the
    /// cursor `after`, optionally only of one status and mode.
    #[graphql(guard = "SignedIn")]
    async fn my_downloads(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<DownloadStatus>,
        mode: Option<DownloadMode>,
    ) -> async_graphql::Result<DownloadConnection> {
        let user = viewer(ctx).require_user().coded()?;
        let after = match after.as_deref() {
            Some(cursor) => Some(parse_id(cursor, "after")?),
            None => None,
        };
        let centre = ctx.data::<DownloadCentre>()?;
        let (rows, has_next_page) = centre
            .list(user, status.map(DownloadStatus::as_stored), mode.map(Mode::from), i64::from(first.unwrap_or(20)), after)
            .await
            .gql()?;
        let edges: Vec<DownloadEdge> =
            rows.into_iter().map(|row| DownloadEdge { cursor: row.id.to_string(), node: Download(row) }).collect();
        let end_cursor = edges.last().map(|edge| edge.cursor.clone());
        Ok(DownloadConnection { edges, has_next_page, end_cursor })
    }

    /// One download of the signed-in user (admins: anyone's).
    #[graphql(guard = "SignedIn")]
    async fn download(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Download> {
        let user = viewer(ctx).require_user().coded()?;
        let id = parse_id(&id, "id")?;
        Ok(Download(ctx.data::<DownloadCentre>()?.get(user, id).await.gql()?))
    }

    /// The signed-in user's download quota today.
    #[graphql(guard = "SignedIn")]
    async fn my_quota(&self, ctx: &Context<'_>) -> async_graphql::Result<DownloadQuota> {
        let user = viewer(ctx).require_user().coded()?;
        let quota = ctx.data::<DownloadCentre>()?.quota(user).await.gql()?;
        Ok(DownloadQuota {
            used: quota.used,
            limit: quota.limit.map(|limit| i32::try_from(limit).unwrap_or(i32::MAX)),
            remaining: quota.limit.map(|limit| (i64::from(limit) - quota.used).max(0)),
            resets_at: quota.resets_at,
        })
    }
}

/// Download mutations.
#[derive(Default)]
pub struct DownloadMutation;

#[Object]
impl DownloadMutation {
    /// Starts a download and returns it at once, `QUEUED` (follow it with `downloadProgress`).
    /// At most 120 calls a minute (`RATE_LIMITED`). `QUOTA_EXCEEDED` when today's quota is used up (the message says when it resets) or,
    /// for quick downloads, while storage is nearly full; `BAD_USER_INPUT` with
    /// `extensions.reason` when the URL cannot be downloaded; `RATE_LIMITED` with
    /// `extensions.reason: CIRCUIT_OPEN` and `retryAfterSecs` while the circuit breaker of the
    /// proxy provider or of the URL's platform is open (see `assetsCircuitBreakers`).
    #[graphql(guard = "SignedIn")]
    async fn start_download(&self, ctx: &Context<'_>, input: StartDownloadInput) -> async_graphql::Result<Download> {
        let user = viewer(ctx).require_user().coded()?;
        let request =
            StartDownload { url: input.url, format_id: input.format_id, mode: input.mode.into(), idempotency_key: input.idempotency_key };
        Ok(Download(ctx.data::<DownloadCentre>()?.start(user, request).await.gql()?))
    }

    /// Stops a queued or running download of yours and removes its partial file. `CONFLICT`
    /// when it has already ended.
    #[graphql(guard = "SignedIn")]
    async fn cancel_download(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Download> {
        let user = viewer(ctx).require_user().coded()?;
        let id = parse_id(&id, "id")?;
        Ok(Download(ctx.data::<DownloadCentre>()?.cancel(user, id).await.gql()?))
    }

    /// Removes a download of yours from the history, with its file (a running one is stopped).
    /// The quota is not given back. Returns its id.
    #[graphql(guard = "SignedIn")]
    async fn delete_download(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        let user = viewer(ctx).require_user().coded()?;
        let task_id = parse_id(&id, "id")?;
        let row = ctx.data::<DownloadCentre>()?.delete(user, task_id).await.gql()?;
        Ok(ID(row.id.to_string()))
    }
}
