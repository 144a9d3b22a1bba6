//! The PK phase lengths in force: admins change them (`setPkPhases`), every replica caches
//! them, and a change is announced on core NATS so every replica reloads at once. A replica
//! that missed the announcement (disconnected at that moment) reloads on its next periodic
//! look, so a stale value lives at most [`RELOAD_EVERY`]. A PK keeps the lengths it was
//! created with.

use super::pk::Phases;
use super::{LiveError, LiveResult};
use chrono::Duration;
use diesel::sql_types::{Int4, Timestamptz, Uuid as SqlUuid};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::RunQueryDsl;
use futures::StreamExt;
use platform::auth::{AuthUser, Role};
use platform::clock::SharedClock;
use platform::db::Db;
use platform::nats::Nats;
use std::sync::{Arc, PoisonError, RwLock};

/// The safety-net reload interval.
pub const RELOAD_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Bounds of each length, in seconds: invite, score phase, punishment.
pub const INVITE_SECS: (i32, i32) = (5, 120);
/// See [`INVITE_SECS`].
pub const SCORE_SECS: (i32, i32) = (30, 3600);
/// See [`INVITE_SECS`].
pub const PUNISHMENT_SECS: (i32, i32) = (10, 1800);

/// Checks new lengths against the bounds.
pub fn parse_phases(invite_secs: i32, score_secs: i32, punishment_secs: i32) -> LiveResult<Phases> {
    for (name, value, (min, max)) in [
        ("inviteSecs", invite_secs, INVITE_SECS),
        ("scoreSecs", score_secs, SCORE_SECS),
        ("punishmentSecs", punishment_secs, PUNISHMENT_SECS),
    ] {
        if !(min..=max).contains(&value) {
            return Err(LiveError::invalid(format!("`{name}` must be between {min} and {max}.")));
        }
    }
    Ok(Phases {
        invite: Duration::seconds(invite_secs.into()),
        score: Duration::seconds(score_secs.into()),
        punishment: Duration::seconds(punishment_secs.into()),
    })
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Int4)]
    invite_secs: i32,
    #[diesel(sql_type = Int4)]
    score_secs: i32,
    #[diesel(sql_type = Int4)]
    punishment_secs: i32,
}

/// This replica's cached phase lengths.
#[derive(Clone)]
pub struct PkSettings {
    db: Db,
    nats: Nats,
    clock: SharedClock,
    defaults: Phases,
    current: Arc<RwLock<Phases>>,
}

impl PkSettings {
    /// Starts at `defaults` (the configuration) until [`PkSettings::reload`] reads the table.
    pub fn new(db: Db, nats: Nats, clock: SharedClock, defaults: Phases) -> PkSettings {
        PkSettings { db, nats, clock, defaults, current: Arc::new(RwLock::new(defaults)) }
    }

    fn subject(&self) -> String {
        self.nats.subject("live.config.pk-phases")
    }

    /// The lengths in force on this replica.
    pub fn current(&self) -> Phases {
        *self.current.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the table (the defaults when no admin set any).
    pub async fn reload(&self) -> LiveResult<Phases> {
        let mut conn = self.db.pool.get().await?;
        let row: Option<Row> = diesel::sql_query("SELECT invite_secs, score_secs, punishment_secs FROM live.pk_settings")
            .get_result(&mut conn)
            .await
            .optional()?;
        let phases = row.map_or(self.defaults, |row| Phases {
            invite: Duration::seconds(row.invite_secs.into()),
            score: Duration::seconds(row.score_secs.into()),
            punishment: Duration::seconds(row.punishment_secs.into()),
        });
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = phases;
        Ok(phases)
    }

    /// Sets new lengths (admins), for PKs invited from now on, and tells every replica.
    pub async fn set(&self, admin: AuthUser, phases: Phases) -> LiveResult<Phases> {
        if admin.role != Role::Admin {
            return Err(LiveError::Forbidden("Only an admin can do this.".into()));
        }
        let secs = |d: Duration| i32::try_from(d.num_seconds()).unwrap_or(i32::MAX);
        let mut conn = self.db.pool.get().await?;
        diesel::sql_query(
            "INSERT INTO live.pk_settings (id, invite_secs, score_secs, punishment_secs, updated_by, updated_at) VALUES (true, $1, $2, $3, $4, $5) \
             ON CONFLICT (id) DO UPDATE SET invite_secs = $1, score_secs = $2, punishment_secs = $3, updated_by = $4, updated_at = $5",
        )
        .bind::<Int4, _>(secs(phases.invite))
        .bind::<Int4, _>(secs(phases.score))
        .bind::<Int4, _>(secs(phases.punishment))
        .bind::<SqlUuid, _>(admin.id)
        .bind::<Timestamptz, _>(self.clock.now())
        .execute(&mut conn)
        .await?;
        drop(conn);
        let phases = self.reload().await?;
        if let Err(error) = self.nats.client.publish(self.subject(), bytes::Bytes::new()).await {
            tracing::warn!(%error, "could not announce new PK phases; replicas reload within {RELOAD_EVERY:?}");
        }
        Ok(phases)
    }

    /// Reloads at start, on every change event, and every [`RELOAD_EVERY`], until dropped.
    pub async fn run_reloader(self) {
        let mut changes = match self.nats.realtime().subscribe(&self.subject()).await {
            Ok(subscription) => Some(subscription),
            Err(error) => {
                tracing::warn!(%error, "PK phase change events unavailable; reloading periodically only");
                None
            }
        };
        let mut every = tokio::time::interval(RELOAD_EVERY);
        loop {
            match &mut changes {
                Some(subscription) => {
                    tokio::select! {
                        _ = every.tick() => {}
                        change = subscription.next() => if change.is_none() { changes = None; },
                    }
                }
                None => {
                    every.tick().await;
                }
            }
            if let Err(error) = self.reload().await {
                tracing::warn!(error = %platform::error::DisplayChain(&error), "reloading PK phases failed; retrying");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase_lengths_are_bounded() {
        assert!(parse_phases(15, 360, 120).is_ok());
        assert!(parse_phases(4, 360, 120).is_err());
        assert!(parse_phases(15, 29, 120).is_err());
        assert!(parse_phases(15, 360, 1801).is_err());
    }
}
