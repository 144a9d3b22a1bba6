//! Likes, coins, favourites, shares and views. Each returns the video with its counters as
//! committed by the action, and its `viewerState`.

use super::parse_id;
use super::video::Video;
use crate::domain::ContentError;
use crate::domain::interaction::{Interaction, Interactions};
use crate::domain::video::coin_count;
use async_graphql::{Context, ID, Object, SimpleObject};
use platform::auth::{SignedIn, viewer};
use platform::error::CodedResultExt;
use platform::request::ClientAddr;

/// The outcome of `recordView`.
#[derive(SimpleObject)]
pub struct ViewRecord {
    /// Whether this view counted (a viewer's views of a video count once per 30 minutes).
    counted: bool,
    /// The video, with its counters after the view.
    video: Video,
}

/// Interactions with videos.
#[derive(Default)]
pub struct InteractionMutation;

#[Object]
impl InteractionMutation {
    /// Likes a video (idempotent).
    #[graphql(guard = "SignedIn")]
    async fn like_video(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Video> {
        act(ctx, &id, Interaction::Like).await
    }

    /// Withdraws a like (idempotent).
    #[graphql(guard = "SignedIn")]
    async fn unlike_video(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Video> {
        act(ctx, &id, Interaction::Unlike).await
    }

    /// Gives 1 (the default) or 2 coins; a viewer gives a video at most 2 coins in all, and
    /// none to their own.
    #[graphql(guard = "SignedIn")]
    async fn coin_video(&self, ctx: &Context<'_>, id: ID, coins: Option<i32>) -> async_graphql::Result<Video> {
        let coins = coin_count(coins.unwrap_or(1)).coded()?;
        act(ctx, &id, Interaction::Coin(coins)).await
    }

    /// Adds the video to the viewer's favourites (idempotent).
    #[graphql(guard = "SignedIn")]
    async fn favourite_video(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Video> {
        act(ctx, &id, Interaction::Favourite).await
    }

    /// Removes it from the favourites (idempotent).
    #[graphql(guard = "SignedIn")]
    async fn unfavourite_video(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Video> {
        act(ctx, &id, Interaction::Unfavourite).await
    }

    /// Records a share (counted once per viewer).
    #[graphql(guard = "SignedIn")]
    async fn share_video(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Video> {
        act(ctx, &id, Interaction::Share).await
    }

    /// Records a view, signed in or not: it counts once per viewer (account, else client
    /// address) per 30 minutes. Anonymous calls are limited per address: `RATE_LIMITED`
    /// after a few hundred in ten minutes.
    async fn record_view(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ViewRecord> {
        let id = parse_id(&id).ok_or(ContentError::NotFound("Video")).coded()?;
        let client = ctx.data_opt::<ClientAddr>().copied();
        let interactions = ctx.data::<Interactions>()?;
        let (video, stat, counted) = interactions.view(viewer(ctx).user_id(), client, id).await.coded()?;
        Ok(ViewRecord { counted, video: Video::with_stat(video, stat) })
    }
}

async fn act(ctx: &Context<'_>, id: &ID, interaction: Interaction) -> async_graphql::Result<Video> {
    let user = viewer(ctx).require_user().coded()?;
    let id = parse_id(id).ok_or(ContentError::NotFound("Video")).coded()?;
    let (video, stat) = ctx.data::<Interactions>()?.act(user, id, interaction).await.coded()?;
    Ok(Video::with_stat(video, stat))
}
