//! The PK phase lengths in force: admins change them (`setPkPhases`); every replica caches
//! them and hears of a change at once (see [`super::config_cache`]). A PK keeps the lengths it
//! was created with.

use super::config_cache::ConfigCaches;
use super::pk::Phases;
use super::{LiveError, LiveResult};
use chrono::Duration;
use diesel::sql_types::{Int4, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use platform::auth::{AuthUser, Role};
use platform::clock::SharedClock;
use platform::db::Db;

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

/// The phase lengths of new PKs: an admin's, else the configured defaults. Cached per
/// replica in [`ConfigCaches::pk_phases`].
#[derive(Clone)]
pub struct PkSettings {
    db: Db,
    caches: ConfigCaches,
    clock: SharedClock,
    defaults: Phases,
}

impl PkSettings {
    /// `defaults` (the configuration) apply until an admin sets lengths.
    pub fn new(db: Db, caches: ConfigCaches, clock: SharedClock, defaults: Phases) -> PkSettings {
        PkSettings { db, caches, clock, defaults }
    }

    /// This replica's caches of admin-managed settings.
    pub fn caches(&self) -> &ConfigCaches {
        &self.caches
    }

    /// The lengths in force on this replica.
    pub async fn current(&self) -> LiveResult<Phases> {
        Ok(self.caches.pk_phases.get().await?.unwrap_or(self.defaults))
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
        Ok(self.caches.changed(&self.caches.pk_phases).await?.unwrap_or(self.defaults))
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
