//! `createVideo`, `updateVideo`, `deleteVideo`.

use super::parse_id;
use super::video::Video;
use crate::domain::ContentError;
use crate::domain::catalogue::{Catalogue, VideoDraft, VideoEdit};
use crate::domain::video::{Description, DurationSecs, MediaSource, Tags, Title, cover_url};
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use platform::auth::{SignedIn, viewer};
use platform::error::CodedResultExt;

/// A new video. Give its media as exactly one of `uploadId` (a finished `createVideoUpload`),
/// `sourceUrl` or `assetRef`; a draft may have none yet.
#[derive(InputObject)]
pub struct CreateVideoInput {
    /// 1–80 characters.
    title: String,
    /// At most 2000 characters.
    #[graphql(default)]
    description: String,
    /// An http(s) image URL.
    cover_url: Option<String>,
    /// One of `regions`.
    region_id: i32,
    /// At most 12 tags of 1–24 characters.
    #[graphql(default)]
    tags: Vec<String>,
    /// 1 second to 12 hours.
    duration_secs: i32,
    /// A finished upload of the viewer.
    upload_id: Option<ID>,
    /// Media hosted elsewhere (http(s)).
    source_url: Option<String>,
    /// A file of the `assets` subgraph.
    asset_ref: Option<String>,
    /// Save without publishing.
    #[graphql(default)]
    draft: bool,
}

impl TryFrom<CreateVideoInput> for VideoDraft {
    type Error = ContentError;

    fn try_from(input: CreateVideoInput) -> Result<Self, Self::Error> {
        let upload_id = input
            .upload_id
            .as_ref()
            .map(|id| parse_id(id).ok_or_else(|| ContentError::InvalidInput("`uploadId` is not an upload id.".into())))
            .transpose()?;
        Ok(VideoDraft {
            title: Title::parse(&input.title)?,
            description: Description::parse(&input.description)?,
            cover_url: input.cover_url.as_deref().map(cover_url).transpose()?,
            region_id: input.region_id,
            tags: Tags::parse(&input.tags)?,
            duration: DurationSecs::parse(input.duration_secs)?,
            source: MediaSource::parse(upload_id, input.source_url.as_deref(), input.asset_ref.as_deref())?,
            draft: input.draft,
        })
    }
}

/// A change to a video; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateVideoInput {
    /// 1–80 characters.
    title: Option<String>,
    /// At most 2000 characters.
    description: Option<String>,
    /// An http(s) image URL; `null` removes the cover.
    cover_url: MaybeUndefined<String>,
    /// One of `regions`.
    region_id: Option<i32>,
    /// Replaces the tags.
    tags: Option<Vec<String>>,
    /// 1 second to 12 hours.
    duration_secs: Option<i32>,
    /// Publishes a draft (which needs its media).
    #[graphql(default)]
    publish: bool,
}

impl TryFrom<UpdateVideoInput> for VideoEdit {
    type Error = ContentError;

    fn try_from(input: UpdateVideoInput) -> Result<Self, Self::Error> {
        Ok(VideoEdit {
            title: input.title.as_deref().map(Title::parse).transpose()?,
            description: input.description.as_deref().map(Description::parse).transpose()?,
            cover_url: match input.cover_url {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(url) => Some(Some(cover_url(&url)?)),
            },
            region_id: input.region_id,
            tags: input.tags.as_deref().map(Tags::parse).transpose()?,
            duration: input.duration_secs.map(DurationSecs::parse).transpose()?,
            publish: input.publish,
        })
    }
}

/// Publishing and managing videos.
#[derive(Default)]
pub struct CatalogueMutation;

#[Object]
impl CatalogueMutation {
    /// Creates a video of the viewer: published at once, or a draft.
    #[graphql(guard = "SignedIn")]
    async fn create_video(&self, ctx: &Context<'_>, input: CreateVideoInput) -> async_graphql::Result<Video> {
        let user = viewer(ctx).require_user().coded()?;
        let draft = VideoDraft::try_from(input).coded()?;
        let video = ctx.data::<Catalogue>()?.create(user, draft).await.coded()?;
        Ok(Video::single(video))
    }

    /// Edits a video (its author or an admin); `publish: true` publishes a draft.
    #[graphql(guard = "SignedIn")]
    async fn update_video(&self, ctx: &Context<'_>, id: ID, input: UpdateVideoInput) -> async_graphql::Result<Video> {
        let user = viewer(ctx).require_user().coded()?;
        let id = parse_id(&id).ok_or(ContentError::NotFound("Video")).coded()?;
        let edit = VideoEdit::try_from(input).coded()?;
        let video = ctx.data::<Catalogue>()?.edit(user, id, edit).await.coded()?;
        Ok(Video::single(video))
    }

    /// Deletes a video (its author or an admin): it leaves feeds, search and rankings at
    /// once. `false` when it was already deleted.
    #[graphql(guard = "SignedIn")]
    async fn delete_video(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        let user = viewer(ctx).require_user().coded()?;
        let id = parse_id(&id).ok_or(ContentError::NotFound("Video")).coded()?;
        ctx.data::<Catalogue>()?.delete(user, id).await.coded()
    }
}
