//! `createVideoUpload`, `videoUpload(id)` and the `VideoUpload` type. The file itself is sent
//! with an HTTP PUT to `uploadUrl` (see `uploads_http`), not through GraphQL.

use super::parse_id;
use crate::domain::ContentError;
use crate::domain::upload::{UploadState, Uploads};
use crate::store::uploads::Upload;
use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use platform::auth::{SignedIn, viewer};
use platform::error::CodedResultExt;
use platform::request::RequestHost;

/// Where an upload is in its life.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "UploadState", remote = "crate::domain::upload::UploadState")]
pub enum UploadStateGql {
    /// Waiting for the file: PUT it to `uploadUrl` before `expiresAt`.
    Pending,
    /// The file arrived; publish a video with it before `expiresAt`, or it is deleted.
    Complete,
    /// A video uses the file; kept as long as the video.
    Attached,
}

/// An upload slot as the API shows it: the row and, while pending, its signed URL.
pub struct VideoUpload {
    row: Upload,
    upload_url: Option<String>,
}

/// An upload slot of the signed-in user: where to PUT one video file, and what became of it.
#[Object(name = "VideoUpload")]
impl VideoUpload {
    /// Stable id: give it to `createVideo` as `uploadId` once the upload is `COMPLETE`.
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }

    /// Where to send the file, with `method` and a `Content-Type` header equal to
    /// `contentType`; `null` once the file has arrived. The URL is signed and works until
    /// `expiresAt`; it answers JSON `{id, sizeBytes, sha256}` on success and
    /// `{error: {code, message}}` otherwise.
    async fn upload_url(&self) -> Option<&str> {
        self.upload_url.as_deref()
    }

    /// The HTTP method for `uploadUrl`: always `PUT`.
    async fn method(&self) -> &'static str {
        "PUT"
    }

    /// The media type the file must be sent as.
    async fn content_type(&self) -> &str {
        &self.row.content_type
    }

    /// Pending: when `uploadUrl` stops working and the slot is deleted. Complete: when the file
    /// is deleted unless a video uses it. Attached: `null` (kept with its video).
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        (self.state() != UploadState::Attached).then_some(self.row.expires_at)
    }

    /// The most bytes the file may have.
    async fn max_bytes(&self) -> i64 {
        self.row.max_bytes
    }

    /// Where it is in its life.
    #[graphql(name = "state")]
    async fn state_field(&self) -> UploadStateGql {
        self.state().into()
    }

    /// Size of the stored file, once it arrived.
    async fn size_bytes(&self) -> Option<i64> {
        self.row.size_bytes
    }

    /// Lowercase hex SHA-256 of the stored file, once it arrived.
    async fn sha256(&self) -> Option<&str> {
        self.row.sha256.as_deref()
    }

    /// When the slot was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    /// When the file arrived.
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.row.completed_at
    }
}

impl VideoUpload {
    fn state(&self) -> UploadState {
        UploadState::from_stored(&self.row.state)
    }

    /// The GraphQL view of `row`, with its URL based on this request's `Host` unless a public
    /// URL is configured.
    fn build(ctx: &Context<'_>, uploads: &Uploads, row: Upload) -> async_graphql::Result<VideoUpload> {
        let host = ctx.data_opt::<RequestHost>().map(|host| host.0.as_str());
        let upload_url = uploads.upload_url(&row, host).coded()?;
        Ok(VideoUpload { row, upload_url })
    }
}

/// A request for an upload slot.
#[derive(InputObject)]
pub struct CreateVideoUploadInput {
    /// The file's media type: one the platform accepts (video/mp4, video/webm,
    /// video/x-matroska, video/quicktime by default).
    content_type: String,
    /// The file's size in bytes, if known: it must be within the platform's limit and becomes
    /// this upload's limit.
    size_bytes: Option<i64>,
}

/// Upload mutations.
#[derive(Default)]
pub struct UploadMutation;

#[Object]
impl UploadMutation {
    /// Creates an upload slot and returns where to PUT the file. `BAD_USER_INPUT` for a media
    /// type the platform does not accept or a size over its limit.
    #[graphql(guard = "SignedIn")]
    async fn create_video_upload(&self, ctx: &Context<'_>, input: CreateVideoUploadInput) -> async_graphql::Result<VideoUpload> {
        let user = viewer(ctx).require_user().coded()?;
        let uploads = ctx.data::<Uploads>()?;
        let request = uploads.parse_request(&input.content_type, input.size_bytes).coded()?;
        let row = uploads.create(user.id, request, Utc::now()).await.coded()?;
        VideoUpload::build(ctx, uploads, row)
    }
}

/// Upload queries.
#[derive(Default)]
pub struct UploadQuery;

#[Object]
impl UploadQuery {
    /// One of the signed-in user's uploads; `NOT_FOUND` for anyone else's.
    #[graphql(guard = "SignedIn")]
    async fn video_upload(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<VideoUpload> {
        let user = viewer(ctx).require_user().coded()?;
        let id = parse_id(&id).ok_or_else(|| ContentError::InvalidInput("`id` is not an upload id.".into())).coded()?;
        let uploads = ctx.data::<Uploads>()?;
        let row = uploads.find_own(id, user.id).await.coded()?;
        VideoUpload::build(ctx, uploads, row)
    }
}
