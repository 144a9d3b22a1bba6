//! PK link-mic: the whitelist (admins), invites and answers, admin close, `pk` / `pkTransitions`
//! queries, and the `pkUpdated` / `roomPk` subscriptions (from any replica, through the hub).

use super::user::User;
use super::{id_of, parse_id};
use crate::domain::LiveError;
use crate::domain::pk::{PkMode, PkState};
use crate::domain::pk_service::Pks;
use crate::store::pk as rows;
use async_graphql::{Context, Enum, ID, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use platform::auth::{AdminOnly, SignedIn, viewer};
use platform::error::CodedResultExt;

/// PK (scored) or plain link-mic.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "PkMode")]
pub enum PkModeGql {
    /// A score phase (gifts to either side score), then the loser's punishment.
    Pk,
    /// Linked, without scores, until a streamer ends it.
    Link,
}

/// Where a link is.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "PkState")]
pub enum PkStateGql {
    /// Waiting for the invitee (15 s by default).
    Invited,
    /// Score phase.
    Scoring,
    /// The loser's punishment.
    Punishment,
    /// Plain link-mic in progress.
    Linked,
    /// Finished.
    Ended,
    /// The invitee said no.
    Rejected,
    /// Nobody answered in time.
    Expired,
    /// Closed by an admin or because a room stopped.
    Closed,
}

impl From<PkState> for PkStateGql {
    fn from(state: PkState) -> Self {
        match state {
            PkState::Invited => PkStateGql::Invited,
            PkState::Scoring => PkStateGql::Scoring,
            PkState::Punishment => PkStateGql::Punishment,
            PkState::Linked => PkStateGql::Linked,
            PkState::Ended => PkStateGql::Ended,
            PkState::Rejected => PkStateGql::Rejected,
            PkState::Expired => PkStateGql::Expired,
            PkState::Closed => PkStateGql::Closed,
        }
    }
}

/// One side of a link.
#[derive(SimpleObject, Clone)]
pub struct PkSide {
    /// The streamer.
    streamer: User,
    /// Their room.
    room_id: ID,
    /// Their points (1 per 0.1 unit of gift value in the score phase).
    score: i64,
}

/// A PK or plain link between two live streamers, with both scores and the deadlines.
#[derive(SimpleObject, Clone)]
pub struct Pk {
    /// Id.
    id: ID,
    /// PK or plain link.
    mode: PkModeGql,
    /// Where it is.
    state: PkStateGql,
    /// Who invited.
    inviter: PkSide,
    /// Who was invited.
    invitee: PkSide,
    /// The invite's deadline.
    invite_expires_at: DateTime<Utc>,
    /// Accepted.
    started_at: Option<DateTime<Utc>>,
    /// The score phase's deadline.
    score_ends_at: Option<DateTime<Utc>>,
    /// The punishment's deadline.
    punishment_ends_at: Option<DateTime<Utc>>,
    /// Finished.
    ended_at: Option<DateTime<Utc>>,
    /// The winner, once the score phase ended (`null` on a draw).
    winner: Option<User>,
    /// The score phase ended with equal scores.
    is_draw: bool,
    /// Grows with every change: a client keeps the highest it has seen.
    revision: i64,
}

impl Pk {
    fn from_row(row: &rows::Pk) -> async_graphql::Result<Pk> {
        let corrupt = || LiveError::internal(anyhow::anyhow!("link {} has an unknown mode or state", row.id));
        let mode = match PkMode::parse(&row.mode).ok_or_else(corrupt).coded()? {
            PkMode::Pk => PkModeGql::Pk,
            PkMode::Link => PkModeGql::Link,
        };
        let state = PkState::parse(&row.state).ok_or_else(corrupt).coded()?;
        let score_phase_over = matches!(state, PkState::Punishment | PkState::Ended) && mode == PkModeGql::Pk;
        Ok(Pk {
            id: id_of(row.id),
            mode,
            state: state.into(),
            inviter: PkSide { streamer: User::of(row.inviter_id), room_id: id_of(row.inviter_room_id), score: row.inviter_score },
            invitee: PkSide { streamer: User::of(row.invitee_id), room_id: id_of(row.invitee_room_id), score: row.invitee_score },
            invite_expires_at: row.invite_expires_at,
            started_at: row.started_at,
            score_ends_at: row.score_ends_at,
            punishment_ends_at: row.punishment_ends_at,
            ended_at: row.ended_at,
            winner: row.winner_id.map(User::of),
            is_draw: score_phase_over && row.winner_id.is_none() && row.score_ends_at.is_some(),
            revision: row.revision,
        })
    }
}

/// PK phase lengths, in seconds.
#[derive(SimpleObject)]
pub struct PkPhases {
    /// How long an invite waits for an answer.
    invite_secs: i64,
    /// The score phase.
    score_secs: i64,
    /// The punishment.
    punishment_secs: i64,
}

impl From<crate::domain::pk::Phases> for PkPhases {
    fn from(phases: crate::domain::pk::Phases) -> Self {
        PkPhases {
            invite_secs: phases.invite.num_seconds(),
            score_secs: phases.score.num_seconds(),
            punishment_secs: phases.punishment.num_seconds(),
        }
    }
}

/// One recorded transition of a link.
#[derive(SimpleObject)]
pub struct PkTransition {
    /// From (`null` for the invite).
    from: Option<PkStateGql>,
    /// To.
    to: PkStateGql,
    /// What caused it: `invite`, `accept`, `reject`, `invite_expired`, `score_ended`,
    /// `punishment_ended`, `ended_by_streamer`, `closed_by_admin`, `room_stopped`.
    cause: String,
    /// Who caused it (`null` for a timer).
    actor: Option<User>,
    /// The replica whose timer fired it.
    fired_by: Option<String>,
    /// When.
    at: DateTime<Utc>,
}

/// PK queries.
#[derive(Default)]
pub struct PkQuery;

#[Object]
impl PkQuery {
    /// A link by id.
    async fn pk(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Pk>> {
        let id = parse_id(&id, "id")?;
        ctx.data::<Pks>()?.find(id).await.coded()?.as_ref().map(Pk::from_row).transpose()
    }

    /// The newest link of a room (finished or not).
    async fn room_latest_pk(&self, ctx: &Context<'_>, room_id: ID) -> async_graphql::Result<Option<Pk>> {
        let room_id = parse_id(&room_id, "roomId")?;
        ctx.data::<Pks>()?.latest_of_room(room_id).await.coded()?.as_ref().map(Pk::from_row).transpose()
    }

    /// Every transition of a link, in order: who or what caused it, when.
    async fn pk_transitions(&self, ctx: &Context<'_>, pk_id: ID) -> async_graphql::Result<Vec<PkTransition>> {
        let pk_id = parse_id(&pk_id, "pkId")?;
        let rows = ctx.data::<Pks>()?.transitions(pk_id).await.coded()?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                Some(PkTransition {
                    from: row.from_state.as_deref().and_then(PkState::parse).map(Into::into),
                    to: PkState::parse(&row.to_state)?.into(),
                    cause: row.cause,
                    actor: row.actor_id.map(User::of),
                    fired_by: row.fired_by,
                    at: row.at,
                })
            })
            .collect())
    }

    /// The phase lengths new PKs get.
    async fn pk_phases(&self, ctx: &Context<'_>) -> async_graphql::Result<PkPhases> {
        Ok(ctx.data::<Pks>()?.settings().current().await.coded()?.into())
    }

    /// Streamers who may link up (admins).
    #[graphql(guard = "AdminOnly")]
    async fn pk_whitelist(&self, ctx: &Context<'_>, #[graphql(default = 100)] first: i32) -> async_graphql::Result<Vec<User>> {
        let admin = viewer(ctx).require_admin().coded()?;
        let ids = ctx.data::<Pks>()?.whitelist(admin, i64::from(first.clamp(1, 1000))).await.coded()?;
        Ok(ids.into_iter().map(User::of).collect())
    }
}

/// PK mutations.
#[derive(Default)]
pub struct PkMutation;

#[Object]
impl PkMutation {
    /// Allows a streamer to link up; `false` when they were allowed already. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn add_to_pk_whitelist(&self, ctx: &Context<'_>, user_id: ID) -> async_graphql::Result<bool> {
        let admin = viewer(ctx).require_admin().coded()?;
        ctx.data::<Pks>()?.whitelist_add(admin, parse_id(&user_id, "userId")?).await.coded()
    }

    /// Sets the phase lengths of PKs invited from now on (invite 5–120 s, score 30–3600 s,
    /// punishment 10–1800 s); every replica uses them at once. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn set_pk_phases(
        &self,
        ctx: &Context<'_>,
        invite_secs: i32,
        score_secs: i32,
        punishment_secs: i32,
    ) -> async_graphql::Result<PkPhases> {
        let admin = viewer(ctx).require_admin().coded()?;
        let phases = crate::domain::pk_settings::parse_phases(invite_secs, score_secs, punishment_secs).coded()?;
        Ok(ctx.data::<Pks>()?.settings().set(admin, phases).await.coded()?.into())
    }

    /// Takes a streamer off the whitelist; `false` when they were not on it. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn remove_from_pk_whitelist(&self, ctx: &Context<'_>, user_id: ID) -> async_graphql::Result<bool> {
        let admin = viewer(ctx).require_admin().coded()?;
        ctx.data::<Pks>()?.whitelist_remove(admin, parse_id(&user_id, "userId")?).await.coded()
    }

    /// Invites another whitelisted live streamer to a PK (or a plain link). Both must be live
    /// and in no other link; the invite expires unanswered after 15 s (configurable).
    #[graphql(guard = "SignedIn")]
    async fn invite_pk(
        &self,
        ctx: &Context<'_>,
        invitee_id: ID,
        #[graphql(default_with = "PkModeGql::Pk")] mode: PkModeGql,
    ) -> async_graphql::Result<Pk> {
        let user = viewer(ctx).require_user().coded()?;
        let mode = match mode {
            PkModeGql::Pk => PkMode::Pk,
            PkModeGql::Link => PkMode::Link,
        };
        let pk = ctx.data::<Pks>()?.invite(user, parse_id(&invitee_id, "inviteeId")?, mode).await.coded()?;
        Pk::from_row(&pk)
    }

    /// The invitee accepts: the score phase (or the link) starts.
    #[graphql(guard = "SignedIn")]
    async fn accept_pk(&self, ctx: &Context<'_>, pk_id: ID) -> async_graphql::Result<Pk> {
        let user = viewer(ctx).require_user().coded()?;
        Pk::from_row(&ctx.data::<Pks>()?.accept(user, parse_id(&pk_id, "pkId")?).await.coded()?)
    }

    /// The invitee rejects.
    #[graphql(guard = "SignedIn")]
    async fn reject_pk(&self, ctx: &Context<'_>, pk_id: ID) -> async_graphql::Result<Pk> {
        let user = viewer(ctx).require_user().coded()?;
        Pk::from_row(&ctx.data::<Pks>()?.reject(user, parse_id(&pk_id, "pkId")?).await.coded()?)
    }

    /// A streamer of a plain link ends it.
    #[graphql(guard = "SignedIn")]
    async fn end_link(&self, ctx: &Context<'_>, pk_id: ID) -> async_graphql::Result<Pk> {
        let user = viewer(ctx).require_user().coded()?;
        Pk::from_row(&ctx.data::<Pks>()?.end_link(user, parse_id(&pk_id, "pkId")?).await.coded()?)
    }

    /// Closes a link that has not finished. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn close_pk(&self, ctx: &Context<'_>, pk_id: ID) -> async_graphql::Result<Pk> {
        let admin = viewer(ctx).require_admin().coded()?;
        Pk::from_row(&ctx.data::<Pks>()?.close(admin, parse_id(&pk_id, "pkId")?).await.coded()?)
    }
}

/// PK subscriptions.
#[derive(Default)]
pub struct PkSubscription;

#[Subscription]
impl PkSubscription {
    /// The link now, then after every change (state, scores, deadlines), from any replica; the
    /// stream ends with the final state.
    async fn pk_updated(
        &self,
        ctx: &Context<'_>,
        pk_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Pk>> + use<>> {
        let pk_id = parse_id(&pk_id, "pkId")?;
        let pks = ctx.data::<Pks>()?;
        // Subscribed before reading, so no change between the read and the first update is missed.
        let updates = pks.notifier().subscribe_pk(pk_id).await.map_err(LiveError::internal).coded()?;
        let current = pks.find(pk_id).await.coded()?.ok_or(LiveError::NotFound("PK")).coded()?;
        // A link that has finished changes no more: its stream ends with its final state.
        let ends_the_link = |pk: &rows::Pk| PkState::parse(&pk.state).is_some_and(PkState::is_final);
        Ok(platform::realtime::ending_after(newer_than_seen(Some(current), updates), ends_the_link).map(|pk| Pk::from_row(&pk)))
    }

    /// The room's links as they change (the newest one first, if any), for the room's viewers.
    async fn room_pk(
        &self,
        ctx: &Context<'_>,
        room_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Pk>> + use<>> {
        let room_id = parse_id(&room_id, "roomId")?;
        ctx.data::<crate::domain::rooms::Rooms>()?.room(room_id).await.coded()?.ok_or(LiveError::NotFound("Room")).coded()?;
        let pks = ctx.data::<Pks>()?;
        let updates = pks.notifier().subscribe_room(room_id).await.map_err(LiveError::internal).coded()?;
        let current = pks.latest_of_room(room_id).await.coded()?;
        Ok(newer_than_seen(current, updates).map(|pk| Pk::from_row(&pk)))
    }
}

/// `first`, then the updates that are newer than what was shown of their link.
fn newer_than_seen(
    first: Option<rows::Pk>,
    updates: impl Stream<Item = rows::Pk> + Send + 'static,
) -> impl Stream<Item = rows::Pk> + Send + 'static {
    let mut seen: std::collections::HashMap<uuid::Uuid, i64> = std::collections::HashMap::new();
    if let Some(pk) = &first {
        seen.insert(pk.id, pk.revision);
    }
    let fresh = updates.filter(move |pk| {
        let newer = seen.get(&pk.id).is_none_or(|revision| pk.revision > *revision);
        if newer {
            seen.insert(pk.id, pk.revision);
        }
        futures::future::ready(newer)
    });
    futures::stream::iter(first).chain(fresh)
}
