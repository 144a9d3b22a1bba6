//! Likes, coins, favourites, shares and views. Each is idempotent per viewer (the interaction
//! tables' keys decide), changes the counters in the same transaction as the action, and
//! records a stat event for `ranking` through the outbox, only when something changed.

use super::ContentError;
use super::video::VIEW_WINDOW_SECS;
use crate::events::CatalogueEvents;
use crate::store::interactions::{self, MAX_COINS_PER_VIEWER};
use crate::store::stats::{self, VideoStat};
use crate::store::videos::{self, Video};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use platform::auth::AuthUser;
use platform::db::Db;
use platform::events::{StatAction, StatCounts};
use platform::rate_limit::{RateDecision, RateLimit};
use platform::redis::Redis;
use platform::request::ClientAddr;
use std::time::Duration;
use uuid::Uuid;

/// `recordView` calls one client address (an IPv6 /64) may make anonymously, over all videos,
/// per window; past it `RATE_LIMITED`. Counted per call (a replayed view still costs a write
/// attempt). Per video, an address counts once per [`VIEW_WINDOW_SECS`] anyway.
pub const ANONYMOUS_VIEW_LIMIT: RateLimit = RateLimit { name: "view:addr", max: 300, window: Duration::from_secs(600) };

/// What a signed-in viewer does to a video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interaction {
    /// Like.
    Like,
    /// Withdraw a like.
    Unlike,
    /// Give 1 or 2 coins (at most 2 per viewer per video, never to one's own video).
    Coin(i16),
    /// Favourite.
    Favourite,
    /// Withdraw a favourite.
    Unfavourite,
    /// Share.
    Share,
}

/// The interaction service held in the schema data.
pub struct Interactions {
    db: Db,
    redis: Redis,
    events: CatalogueEvents,
}

impl Interactions {
    /// Over these backends.
    pub fn new(db: Db, redis: Redis, events: CatalogueEvents) -> Interactions {
        Interactions { db, redis, events }
    }

    /// Applies `interaction` of `viewer` to a published video; returns the video and its
    /// counters after the action (unchanged when it was already done).
    pub async fn act(&self, viewer: AuthUser, video_id: Uuid, interaction: Interaction) -> Result<(Video, VideoStat), ContentError> {
        let mut conn = self.db.pool.get().await?;
        let (result, changed) = conn
            .transaction::<_, ContentError, _>(async |conn| {
                let video = videos::find_one_published(conn, video_id).await?.ok_or(ContentError::NotFound("Video"))?;
                let id = video.id;
                let user = viewer.id;
                let change = match interaction {
                    Interaction::Like => interactions::like(conn, id, user).await?.then_some((StatAction::Like, counts(|c| c.likes = 1))),
                    Interaction::Unlike => {
                        interactions::unlike(conn, id, user).await?.then_some((StatAction::Unlike, counts(|c| c.likes = -1)))
                    }
                    Interaction::Favourite => {
                        interactions::favourite(conn, id, user).await?.then_some((StatAction::Favourite, counts(|c| c.favourites = 1)))
                    }
                    Interaction::Unfavourite => {
                        interactions::unfavourite(conn, id, user).await?.then_some((StatAction::Unfavourite, counts(|c| c.favourites = -1)))
                    }
                    Interaction::Share => {
                        interactions::share(conn, id, user).await?.then_some((StatAction::Share, counts(|c| c.shares = 1)))
                    }
                    Interaction::Coin(coins) => {
                        if video.author_id == user {
                            return Err(ContentError::InvalidInput("You cannot give coins to your own video.".into()));
                        }
                        if interactions::add_coins(conn, id, user, coins).await?.is_none() {
                            return Err(ContentError::InvalidInput(format!(
                                "A viewer gives a video at most {MAX_COINS_PER_VIEWER} coins."
                            )));
                        }
                        Some((StatAction::Coin, counts(|c| c.coins = i64::from(coins))))
                    }
                };
                let changed = change.is_some();
                let stat = match change {
                    Some((action, delta)) => self.events.stat_changed(conn, &video, Some(user), action, delta).await?,
                    None => current_stat(conn, id).await?,
                };
                Ok(((video, stat), changed))
            })
            .await?;
        if changed {
            self.events.committed();
        }
        Ok(result)
    }

    /// Counts a view of a published video, once per viewer per window: the account when signed
    /// in, else the client address (an IPv6 /64). Anonymous views are also limited per address
    /// over all videos ([`ANONYMOUS_VIEW_LIMIT`]). Returns the video, its counters, and whether
    /// it counted.
    pub async fn view(
        &self,
        user_id: Option<Uuid>,
        client: Option<ClientAddr>,
        video_id: Uuid,
    ) -> Result<(Video, VideoStat, bool), ContentError> {
        let address = client.map(|client| client.subject());
        if user_id.is_none() {
            let subject = address.as_deref().unwrap_or("unknown");
            if let RateDecision::Limited { retry_after_secs } =
                ANONYMOUS_VIEW_LIMIT.hit(&self.redis, subject).await.map_err(ContentError::internal)?
            {
                return Err(ContentError::RateLimited { what: "Too many views from your network", retry_after_secs });
            }
        }
        let viewer_key = interactions::viewer_key(user_id, address.as_deref());
        let mut conn = self.db.pool.get().await?;
        let result = conn
            .transaction::<_, ContentError, _>(async |conn| {
                let video = videos::find_one_published(conn, video_id).await?.ok_or(ContentError::NotFound("Video"))?;
                let counted = interactions::count_view(conn, video.id, &viewer_key, VIEW_WINDOW_SECS).await?;
                let stat = if counted {
                    self.events.stat_changed(conn, &video, user_id, StatAction::View, counts(|c| c.views = 1)).await?
                } else {
                    current_stat(conn, video.id).await?
                };
                Ok((video, stat, counted))
            })
            .await?;
        if result.2 {
            self.events.committed();
        }
        Ok(result)
    }
}

fn counts(set: impl FnOnce(&mut StatCounts)) -> StatCounts {
    let mut delta = StatCounts::default();
    set(&mut delta);
    delta
}

async fn current_stat(conn: &mut AsyncPgConnection, id: Uuid) -> Result<VideoStat, ContentError> {
    Ok(stats::find_many(conn, &[id]).await?.into_iter().next().unwrap_or_else(|| VideoStat::zero(id)))
}
