//! PK link-mic services: the whitelist, invites and answers, admin close, and the durable
//! timers that end invites and phases on every replica.
//!
//! Every change of a link is [`apply`]: the state machine's next state, then a conditional
//! update on the state and version it was read in, the transition's record, the busy marks and
//! timers, in the caller's transaction. Whoever loses a race (a second replica firing the same
//! deadline, an accept racing the expiry) changes zero rows and nothing else.

use super::pk::{PkCause, PkMode, PkState, PkStateMachine, inviter_won};
use super::pk_settings::PkSettings;
use super::{LiveError, LiveResult};
use crate::events::realtime::PkNotifier;
use crate::store::pk::{self, Pk, Timer, TransitionFields, TransitionRow};
use crate::store::rooms;
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use futures::StreamExt;
use platform::auth::{AuthUser, Role};
use platform::clock::SharedClock;
use platform::db::Db;
use std::time::Duration;
use uuid::Uuid;

/// Timer kinds.
const INVITE_EXPIRY: &str = "invite_expiry";
const SCORE_END: &str = "score_end";
const PUNISHMENT_END: &str = "punishment_end";

/// The shortest pause of the poller between looks (a due timer another replica holds is
/// skipped, not spun on).
const MIN_POLL: Duration = Duration::from_millis(20);

/// PK link-mic.
#[derive(Clone)]
pub struct Pks {
    db: Db,
    clock: SharedClock,
    notifier: PkNotifier,
    settings: PkSettings,
    holder: String,
}

impl Pks {
    /// The service over `db`; new links get the phase lengths of `settings` at their invite;
    /// `holder` names this replica in the transitions its timers fire.
    pub fn new(db: Db, clock: SharedClock, notifier: PkNotifier, settings: PkSettings, holder: String) -> Pks {
        Pks { db, clock, notifier, settings, holder }
    }

    /// The phase lengths (cached per replica, reloaded on change).
    pub fn settings(&self) -> &PkSettings {
        &self.settings
    }

    /// The name this replica records on the transitions its timers fire.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// The notifier (subscriptions).
    pub fn notifier(&self) -> &PkNotifier {
        &self.notifier
    }

    /// Adds a streamer to the whitelist (admins); `false` when present already.
    pub async fn whitelist_add(&self, admin: AuthUser, user_id: Uuid) -> LiveResult<bool> {
        require_admin(admin)?;
        let mut conn = self.db.pool.get().await?;
        let added = pk::whitelist_add(&mut conn, user_id, admin.id, self.clock.now()).await?;
        drop(conn);
        if added {
            self.whitelist_changed().await?;
        }
        Ok(added)
    }

    /// Removes a streamer from the whitelist (admins); `false` when absent. A link in progress
    /// runs its course.
    pub async fn whitelist_remove(&self, admin: AuthUser, user_id: Uuid) -> LiveResult<bool> {
        require_admin(admin)?;
        let mut conn = self.db.pool.get().await?;
        let removed = pk::whitelist_remove(&mut conn, user_id).await?;
        drop(conn);
        if removed {
            self.whitelist_changed().await?;
        }
        Ok(removed)
    }

    async fn whitelist_changed(&self) -> LiveResult<()> {
        let caches = self.settings.caches();
        caches.changed(&caches.pk_whitelist).await.map(drop)
    }

    /// The whitelist (admins), at most `limit` entries.
    pub async fn whitelist(&self, admin: AuthUser, limit: i64) -> LiveResult<Vec<Uuid>> {
        require_admin(admin)?;
        let mut conn = self.db.pool.get().await?;
        Ok(pk::whitelist(&mut conn, limit).await?)
    }

    /// A whitelisted live streamer invites another; the invite expires after the configured
    /// answer window.
    pub async fn invite(&self, inviter: AuthUser, invitee_id: Uuid, mode: PkMode) -> LiveResult<Pk> {
        if inviter.id == invitee_id {
            return Err(LiveError::invalid("You cannot invite yourself."));
        }
        let now = self.clock.now();
        let phases = self.settings.current().await?;
        let listed = self.settings.caches().pk_whitelist.get().await?;
        let mut conn = self.db.pool.get().await?;
        let created = conn
            .transaction::<_, LiveError, _>(async |conn| {
                if !listed.contains(&inviter.id) {
                    return Err(LiveError::Forbidden("You are not on the PK whitelist.".into()));
                }
                if !listed.contains(&invitee_id) {
                    return Err(LiveError::Forbidden("That streamer is not on the PK whitelist.".into()));
                }
                let rooms = rooms::find_by_owners(conn, &[inviter.id, invitee_id]).await?;
                let live_room =
                    |owner: Uuid| rooms.iter().find(|room| room.owner_id == owner && room.live_session_id.is_some()).map(|room| room.id);
                let inviter_room = live_room(inviter.id).ok_or_else(|| LiveError::Conflict("Go live before inviting.".into()))?;
                let invitee_room = live_room(invitee_id).ok_or_else(|| LiveError::Conflict("That streamer is not live.".into()))?;
                let draft = Pk {
                    id: Uuid::now_v7(),
                    mode: mode.as_str().to_owned(),
                    inviter_id: inviter.id,
                    invitee_id,
                    inviter_room_id: inviter_room,
                    invitee_room_id: invitee_room,
                    state: PkState::Invited.as_str().to_owned(),
                    version: 0,
                    revision: 0,
                    inviter_score: 0,
                    invitee_score: 0,
                    score_secs: seconds(phases.score),
                    punishment_secs: seconds(phases.punishment),
                    invited_at: now,
                    invite_expires_at: now + phases.invite,
                    started_at: None,
                    score_ends_at: None,
                    punishment_ends_at: None,
                    ended_at: None,
                    winner_id: None,
                };
                let created = pk::insert(conn, &draft).await?;
                if !pk::mark_busy(conn, created.id, inviter.id, invitee_id).await? {
                    return Err(LiveError::Conflict("One of you is in another link already.".into()));
                }
                pk::record(conn, &transition_row(&created, None, PkState::Invited, "invite", Some(inviter.id), None, now)).await?;
                let timer = Timer {
                    pk_id: created.id,
                    kind: INVITE_EXPIRY.into(),
                    due_at: created.invite_expires_at,
                    expected_state: created.state.clone(),
                    expected_version: created.version,
                };
                pk::insert_timer(conn, &timer).await?;
                Ok(created)
            })
            .await?;
        self.notifier.timer_written().await;
        self.notifier.published(&created).await;
        Ok(created)
    }

    /// The invitee accepts (before the invite expires, both rooms still live).
    pub async fn accept(&self, user: AuthUser, pk_id: Uuid) -> LiveResult<Pk> {
        self.answer(user, pk_id, PkCause::Accept).await
    }

    /// The invitee rejects.
    pub async fn reject(&self, user: AuthUser, pk_id: Uuid) -> LiveResult<Pk> {
        self.answer(user, pk_id, PkCause::Reject).await
    }

    async fn answer(&self, user: AuthUser, pk_id: Uuid, cause: PkCause) -> LiveResult<Pk> {
        let now = self.clock.now();
        self.change(pk_id, cause, user, now, |pk| {
            if pk.invitee_id != user.id {
                return Err(LiveError::Forbidden("Only the invited streamer can answer an invite.".into()));
            }
            if pk.state == PkState::Invited.as_str() && pk.invite_expires_at <= now {
                return Err(LiveError::Conflict("This invite has expired.".into()));
            }
            Ok(())
        })
        .await
    }

    /// A streamer of a plain link ends it.
    pub async fn end_link(&self, user: AuthUser, pk_id: Uuid) -> LiveResult<Pk> {
        let now = self.clock.now();
        self.change(pk_id, PkCause::EndedByStreamer, user, now, |pk| {
            if pk.inviter_id == user.id || pk.invitee_id == user.id {
                Ok(())
            } else {
                Err(LiveError::Forbidden("Only the linked streamers can end a link.".into()))
            }
        })
        .await
    }

    /// An admin closes a link that has not finished.
    pub async fn close(&self, admin: AuthUser, pk_id: Uuid) -> LiveResult<Pk> {
        require_admin(admin)?;
        self.change(pk_id, PkCause::ClosedByAdmin, admin, self.clock.now(), |_| Ok(())).await
    }

    async fn change(
        &self,
        pk_id: Uuid,
        cause: PkCause,
        actor: AuthUser,
        now: DateTime<Utc>,
        check: impl Fn(&Pk) -> LiveResult<()> + Send + Sync,
    ) -> LiveResult<Pk> {
        let mut conn = self.db.pool.get().await?;
        let (updated, wrote_timer) = conn
            .transaction::<_, LiveError, _>(async |conn| {
                let current = pk::find(conn, pk_id).await?.ok_or(LiveError::NotFound("PK"))?;
                check(&current)?;
                apply(conn, &current, cause, Some(actor.id), None, now, now)
                    .await?
                    .ok_or_else(|| LiveError::Conflict("The link changed meanwhile; load it again.".into()))
            })
            .await?;
        if wrote_timer {
            self.notifier.timer_written().await;
        }
        self.notifier.published(&updated).await;
        Ok(updated)
    }

    /// One link.
    pub async fn find(&self, pk_id: Uuid) -> LiveResult<Option<Pk>> {
        let mut conn = self.db.pool.get().await?;
        Ok(pk::find(&mut conn, pk_id).await?)
    }

    /// The newest link of a room.
    pub async fn latest_of_room(&self, room_id: Uuid) -> LiveResult<Option<Pk>> {
        let mut conn = self.db.pool.get().await?;
        Ok(pk::latest_of_room(&mut conn, room_id).await?)
    }

    /// A link's recorded transitions, in order.
    pub async fn transitions(&self, pk_id: Uuid) -> LiveResult<Vec<TransitionRow>> {
        let mut conn = self.db.pool.get().await?;
        Ok(pk::transitions(&mut conn, pk_id).await?)
    }

    /// Fires every timer due at the clock's now that no other replica holds; returns how many
    /// changed a link. Each timer is claimed, applied and deleted in its own transaction.
    pub async fn fire_due(&self) -> LiveResult<usize> {
        let mut fired = 0;
        loop {
            let now = self.clock.now();
            let mut conn = self.db.pool.get().await?;
            let outcome = conn
                .transaction::<_, LiveError, _>(async |conn| {
                    let Some(timer) = pk::claim_due(conn, now).await? else { return Ok(None) };
                    pk::delete_timer(conn, timer.pk_id, &timer.kind).await?;
                    let Some(current) = pk::find(conn, timer.pk_id).await? else { return Ok(Some(None)) };
                    if current.state != timer.expected_state || current.version != timer.expected_version {
                        return Ok(Some(None));
                    }
                    let cause = match timer.kind.as_str() {
                        INVITE_EXPIRY => PkCause::InviteExpired,
                        SCORE_END => PkCause::ScoreEnded,
                        _ => PkCause::PunishmentEnded,
                    };
                    Ok(Some(apply(conn, &current, cause, None, Some(&self.holder), timer.due_at, now).await?))
                })
                .await?;
            match outcome {
                None => return Ok(fired),
                Some(None) => continue,
                Some(Some((updated, _))) => {
                    fired += 1;
                    metrics::histogram!("live_pk_timer_lateness_seconds").record(lateness_secs(&updated, now));
                    self.notifier.published(&updated).await;
                }
            }
        }
    }

    /// Runs the timer poller until the task is dropped: fires what is due, then sleeps until the
    /// nearest deadline (at most `poll_max`), woken early when any replica writes a timer.
    pub async fn run_timers(self, poll_max: Duration) {
        let wake = self.notifier.local_wake();
        let mut remote = match self.notifier.nats().realtime().subscribe(&self.notifier.timers_subject()).await {
            Ok(subscription) => Some(subscription),
            Err(error) => {
                tracing::warn!(%error, "PK timer wake-ups unavailable; polling only");
                None
            }
        };
        loop {
            let wait = match self.fire_due().await {
                Ok(_) => self.until_next_due(poll_max).await,
                Err(error) => {
                    tracing::warn!(error = %platform::error::DisplayChain(&error), "PK timers failed; retrying");
                    poll_max
                }
            };
            tokio::select! {
                () = tokio::time::sleep(wait.max(MIN_POLL)) => {}
                () = wake.notified() => {}
                () = next_wake(&mut remote) => {}
            }
        }
    }

    async fn until_next_due(&self, poll_max: Duration) -> Duration {
        let next = async {
            let mut conn = self.db.pool.get().await?;
            LiveResult::Ok(pk::next_due(&mut conn).await?)
        };
        match next.await {
            Ok(Some(due)) => (due - self.clock.now()).to_std().unwrap_or(Duration::ZERO).min(poll_max),
            _ => poll_max,
        }
    }
}

async fn next_wake(remote: &mut Option<platform::realtime::Subscription>) {
    match remote {
        Some(subscription) => {
            if subscription.next().await.is_none() {
                *remote = None;
            }
        }
        None => std::future::pending().await,
    }
}

/// How late (seconds) the transition just fired was after its deadline.
fn lateness_secs(pk: &Pk, fired: DateTime<Utc>) -> f64 {
    let deadline = match PkState::parse(&pk.state) {
        Some(PkState::Expired) => Some(pk.invite_expires_at),
        Some(PkState::Punishment) => pk.score_ends_at,
        Some(PkState::Ended) if pk.punishment_ends_at.is_some() => pk.punishment_ends_at,
        Some(PkState::Ended) => pk.score_ends_at,
        _ => None,
    };
    deadline.map_or(0.0, |deadline| (fired - deadline).num_milliseconds().max(0) as f64 / 1000.0)
}

/// Closes the unfinished link of `streamer_id` because their room stopped, in the stopping
/// transaction; returns it (to publish after commit).
pub async fn close_link_of(conn: &mut AsyncPgConnection, streamer_id: Uuid, actor: Uuid, now: DateTime<Utc>) -> LiveResult<Option<Pk>> {
    let Some(current) = pk::active_of(conn, streamer_id).await? else { return Ok(None) };
    Ok(apply(conn, &current, PkCause::RoomStopped, Some(actor), None, now, now).await?.map(|(pk, _)| pk))
}

/// Applies `cause` to the link as read in `current`, in the caller's transaction: `effective`
/// is when it takes effect (a deadline, for timers), `recorded` when it was done. Returns the
/// link after the change and whether a timer was written, or `None` when the link moved on
/// since it was read (nothing changed). An illegal transition is a `CONFLICT`.
pub async fn apply(
    conn: &mut AsyncPgConnection,
    current: &Pk,
    cause: PkCause,
    actor: Option<Uuid>,
    fired_by: Option<&str>,
    effective: DateTime<Utc>,
    recorded: DateTime<Utc>,
) -> LiveResult<Option<(Pk, bool)>> {
    let corrupt = || LiveError::internal(anyhow::anyhow!("link {} has an unknown mode or state", current.id));
    let mode = PkMode::parse(&current.mode).ok_or_else(corrupt)?;
    let state = PkState::parse(&current.state).ok_or_else(corrupt)?;
    let scores = (current.inviter_score, current.invitee_score);
    let next = PkStateMachine::next(mode, state, cause, scores).map_err(|_| LiveError::Conflict(conflict_message(state)))?;
    let mut fields = TransitionFields::default();
    let mut timer = None;
    match next {
        PkState::Scoring => {
            let ends = effective + chrono::Duration::seconds(current.score_secs.into());
            fields.started_at = Some(effective);
            fields.score_ends_at = Some(ends);
            timer = Some((SCORE_END, ends));
        }
        PkState::Linked => fields.started_at = Some(effective),
        PkState::Punishment => {
            let ends = current.score_ends_at.unwrap_or(effective) + chrono::Duration::seconds(current.punishment_secs.into());
            fields.punishment_ends_at = Some(ends);
            fields.winner_id = winner(current, scores);
            timer = Some((PUNISHMENT_END, ends));
        }
        PkState::Ended => {
            fields.ended_at = Some(effective);
            if mode == PkMode::Pk {
                fields.winner_id = winner(current, scores);
            }
        }
        PkState::Rejected | PkState::Expired | PkState::Closed => fields.ended_at = Some(effective),
        PkState::Invited => {}
    }
    let Some(updated) = pk::transition(conn, current.id, state.as_str(), current.version, next.as_str(), &fields).await? else {
        return Ok(None);
    };
    pk::record(conn, &transition_row(&updated, Some(state), next, cause.as_str(), actor, fired_by, recorded)).await?;
    if next.is_final() {
        pk::release_busy(conn, updated.id).await?;
        pk::delete_timers(conn, updated.id).await?;
    }
    if let Some((kind, due_at)) = timer {
        let timer = Timer {
            pk_id: updated.id,
            kind: kind.into(),
            due_at,
            expected_state: updated.state.clone(),
            expected_version: updated.version,
        };
        pk::insert_timer(conn, &timer).await?;
    }
    Ok(Some((updated, timer.is_some())))
}

fn winner(pk: &Pk, scores: (i64, i64)) -> Option<Uuid> {
    inviter_won(scores).map(|inviter| if inviter { pk.inviter_id } else { pk.invitee_id })
}

fn conflict_message(state: PkState) -> String {
    if state.is_final() { "This link has finished.".into() } else { format!("This cannot be done while the link is {}.", state.as_str()) }
}

fn transition_row(
    pk: &Pk,
    from: Option<PkState>,
    to: PkState,
    cause: &str,
    actor: Option<Uuid>,
    fired_by: Option<&str>,
    at: DateTime<Utc>,
) -> TransitionRow {
    TransitionRow {
        id: 0,
        pk_id: pk.id,
        from_state: from.map(|state| state.as_str().to_owned()),
        to_state: to.as_str().to_owned(),
        cause: cause.to_owned(),
        actor_id: actor,
        fired_by: fired_by.map(str::to_owned),
        at,
    }
}

fn seconds(duration: chrono::Duration) -> i32 {
    i32::try_from(duration.num_seconds()).unwrap_or(i32::MAX).max(1)
}

fn require_admin(user: AuthUser) -> LiveResult<()> {
    if user.role == Role::Admin { Ok(()) } else { Err(LiveError::Forbidden("Only an admin can do this.".into())) }
}
