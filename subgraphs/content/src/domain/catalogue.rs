//! Publishing, editing and deleting videos. Only the author or an admin changes a video; a
//! delete is soft (state `removed`): the row stays for its interactions and comments, and every
//! reader (feeds, search, entities, rankings through the lifecycle event) stops seeing it.

use super::ContentError;
use super::regions::RegionCatalog;
use super::video::{Description, DurationSecs, MediaSource, Tags, Title};
use crate::events::CatalogueEvents;
use crate::store::video_cache::VideoCache;
use crate::store::videos::{self, NewVideo, STATE_DRAFT, STATE_PUBLISHED, STATE_REMOVED, Video, VideoChange};
use crate::store::{asset_refs, stats};
use chrono::Utc;
use diesel_async::AsyncConnection;
use platform::auth::AuthUser;
use platform::db::Db;
use uuid::Uuid;

/// A new video, parsed.
#[derive(Debug, Clone)]
pub struct VideoDraft {
    /// Title.
    pub title: Title,
    /// Description.
    pub description: Description,
    /// Cover image.
    pub cover_url: Option<String>,
    /// Region id (checked against the regions when saved).
    pub region_id: i32,
    /// Tags.
    pub tags: Tags,
    /// Length.
    pub duration: DurationSecs,
    /// Media.
    pub source: Option<MediaSource>,
    /// Keep it as a draft instead of publishing.
    pub draft: bool,
}

/// A change to a video, parsed; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct VideoEdit {
    /// Title.
    pub title: Option<Title>,
    /// Description.
    pub description: Option<Description>,
    /// Cover (`Some(None)` clears it).
    pub cover_url: Option<Option<String>>,
    /// Region.
    pub region_id: Option<i32>,
    /// Tags.
    pub tags: Option<Tags>,
    /// Length.
    pub duration: Option<DurationSecs>,
    /// Publish a draft.
    pub publish: bool,
}

/// The catalogue service held in the schema data.
pub struct Catalogue {
    db: Db,
    events: CatalogueEvents,
    cache: VideoCache,
    regions: RegionCatalog,
}

impl Catalogue {
    /// Over these backends.
    pub fn new(db: Db, events: CatalogueEvents, cache: VideoCache, regions: RegionCatalog) -> Catalogue {
        Catalogue { db, events, cache, regions }
    }

    /// Creates a video of `author`, published at once unless it is a draft.
    pub async fn create(&self, author: AuthUser, draft: VideoDraft) -> Result<Video, ContentError> {
        self.regions.require(draft.region_id).await?;
        let mut conn = self.db.pool.get().await?;
        if !draft.draft && draft.source.is_none() {
            return Err(ContentError::InvalidInput(
                "A published video needs its media: give `uploadId`, `sourceUrl` or `assetRef` (or save a draft).".into(),
            ));
        }
        let id = Uuid::now_v7();
        let (source_url, asset_ref, upload_id) = match &draft.source {
            Some(MediaSource::Url(url)) => (Some(url.clone()), None, None),
            Some(MediaSource::Asset(reference)) => (None, Some(reference.clone()), None),
            Some(MediaSource::Upload(upload_id)) => (None, None, Some(*upload_id)),
            None => (None, None, None),
        };
        let row = NewVideo {
            id,
            author_id: author.id,
            region_id: draft.region_id,
            title: draft.title.into_inner(),
            description: draft.description.into_inner(),
            cover_url: draft.cover_url,
            duration_secs: draft.duration.get(),
            published_at: (!draft.draft).then(Utc::now),
            state: if draft.draft { STATE_DRAFT } else { STATE_PUBLISHED }.into(),
            tags: draft.tags.into_inner(),
            source_url,
            asset_ref,
            upload_id,
        };
        let video = conn
            .transaction::<_, ContentError, _>(async |conn| {
                if let Some(upload_id) = upload_id {
                    super::upload::attach(conn, upload_id, author.id).await?;
                }
                if let Some(reference) = &row.asset_ref {
                    // The projection of `assets`' archive events (`events::assets`): only a
                    // finished archive download of the author, not deleted since.
                    if asset_refs::archived_owner(conn, reference).await? != Some(author.id) {
                        return Err(ContentError::InvalidInput(
                            "`assetRef` is not a finished archive download of yours (or it is still being processed; try again in a moment).".into(),
                        ));
                    }
                }
                let video = videos::insert(conn, &row).await?;
                stats::create(conn, video.id).await?;
                if video.state == STATE_PUBLISHED {
                    self.events.video_changed(conn, &video).await?;
                }
                Ok(video)
            })
            .await?;
        self.events.committed();
        Ok(video)
    }

    /// Edits a video (its author or an admin); publishing a draft needs its media.
    pub async fn edit(&self, actor: AuthUser, id: Uuid, edit: VideoEdit) -> Result<Video, ContentError> {
        if let Some(region_id) = edit.region_id {
            self.regions.require(region_id).await?;
        }
        let mut conn = self.db.pool.get().await?;
        let video = conn
            .transaction::<_, ContentError, _>(async |conn| {
                let current = videos::find_live_for_update(conn, id).await?.ok_or(ContentError::NotFound("Video"))?;
                ensure_author_or_admin(actor, &current)?;
                let publishing = edit.publish && current.state == STATE_DRAFT;
                let has_media = current.source_url.is_some() || current.asset_ref.is_some() || current.upload_id.is_some();
                if publishing && !has_media {
                    return Err(ContentError::InvalidInput("A draft without media cannot be published.".into()));
                }
                let change = VideoChange {
                    title: edit.title.map(Title::into_inner),
                    description: edit.description.map(Description::into_inner),
                    cover_url: edit.cover_url,
                    region_id: edit.region_id,
                    tags: edit.tags.map(Tags::into_inner),
                    duration_secs: edit.duration.map(DurationSecs::get),
                    state: publishing.then(|| STATE_PUBLISHED.to_owned()),
                    published_at: publishing.then(|| Some(Utc::now())),
                    removed_at: None,
                };
                let video = videos::update(conn, id, &change).await?;
                if video.state == STATE_PUBLISHED {
                    self.events.video_changed(conn, &video).await?;
                }
                Ok(video)
            })
            .await?;
        self.after_change(id).await;
        Ok(video)
    }

    /// Deletes a video (its author or an admin): it disappears everywhere. `false` when it
    /// was already deleted.
    pub async fn delete(&self, actor: AuthUser, id: Uuid) -> Result<bool, ContentError> {
        let mut conn = self.db.pool.get().await?;
        let deleted = conn
            .transaction::<_, ContentError, _>(async |conn| {
                let Some(current) = videos::find_live_for_update(conn, id).await? else {
                    return match videos::find_any(conn, id).await? {
                        Some(removed) if ensure_author_or_admin(actor, &removed).is_ok() => Ok(false),
                        _ => Err(ContentError::NotFound("Video")),
                    };
                };
                ensure_author_or_admin(actor, &current)?;
                let change =
                    VideoChange { state: Some(STATE_REMOVED.to_owned()), removed_at: Some(Some(Utc::now())), ..VideoChange::default() };
                let video = videos::update(conn, id, &change).await?;
                self.events.video_changed(conn, &video).await?;
                Ok(true)
            })
            .await?;
        if deleted {
            self.after_change(id).await;
        }
        Ok(deleted)
    }

    /// A live video for its author or an admin (drafts included), else `None`.
    pub async fn find_own(&self, viewer: AuthUser, id: Uuid) -> Result<Option<Video>, ContentError> {
        let mut conn = self.db.pool.get().await?;
        let video = videos::find_live(&mut conn, id).await?;
        Ok(video.filter(|video| ensure_author_or_admin(viewer, video).is_ok()))
    }

    /// After a committed change: publish its events now and drop the cached row.
    async fn after_change(&self, id: Uuid) {
        self.events.committed();
        if let Err(error) = self.cache.invalidate(id).await {
            // The entry expires on its own; readers see the old row until then.
            tracing::warn!(video.id = %id, error = format!("{error:#}"), "could not invalidate the cached video");
        }
    }
}

fn ensure_author_or_admin(actor: AuthUser, video: &Video) -> Result<(), ContentError> {
    if actor.is_owner_or_admin(&[video.author_id]) {
        Ok(())
    } else {
        Err(ContentError::Forbidden("Only the author or an admin can change this video."))
    }
}
