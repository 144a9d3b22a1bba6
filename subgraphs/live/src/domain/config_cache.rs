//! The admin-managed settings every replica caches — the PK phase lengths, the PK whitelist
//! and the gift catalogue — and the one mechanism that keeps them fresh on every replica.
//!
//! A cache loads on first use. After an admin's change commits, the replica that made it
//! reloads at once and announces the cache's name on core NATS; every replica's reloader
//! hears it and reloads that cache. A replica that missed the announcement (disconnected at
//! that moment, or its queue overflowed) reloads everything on its next periodic look, so a
//! stale value lives at most [`RELOAD_EVERY`]; a change written past the API (a seed, a manual
//! SQL fix) is picked up the same way.

use super::LiveResult;
use super::pk::Phases;
use crate::store::gifts::{self, Gift};
use crate::store::pk;
use chrono::Duration;
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use futures::StreamExt;
use futures::future::BoxFuture;
use platform::db::Db;
use platform::nats::Nats;
use std::collections::HashSet;
use std::sync::{Arc, PoisonError, RwLock};
use uuid::Uuid;

/// The safety-net reload interval.
pub const RELOAD_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Reads one setting's whole current value from Postgres.
type Loader<T> = for<'c> fn(&'c mut AsyncPgConnection) -> BoxFuture<'c, QueryResult<T>>;

struct Slot<T> {
    name: &'static str,
    load: Loader<T>,
    current: RwLock<Option<Arc<T>>>,
    /// Reloads of one cache run one at a time, so the last to store its value is the last to
    /// have read: a slow reload that read before a change cannot overwrite one that read after.
    reloading: tokio::sync::Mutex<()>,
}

/// One cached setting of this replica.
pub struct Cached<T> {
    slot: Arc<Slot<T>>,
    db: Db,
}

impl<T> Clone for Cached<T> {
    fn clone(&self) -> Self {
        Cached { slot: Arc::clone(&self.slot), db: self.db.clone() }
    }
}

impl<T: Send + Sync + 'static> Cached<T> {
    fn new(db: &Db, name: &'static str, load: Loader<T>) -> Cached<T> {
        Cached { slot: Arc::new(Slot { name, load, current: RwLock::new(None), reloading: tokio::sync::Mutex::new(()) }), db: db.clone() }
    }

    /// The name announced when it changes.
    pub fn name(&self) -> &'static str {
        self.slot.name
    }

    /// The cached value, loaded from Postgres on first use.
    pub async fn get(&self) -> LiveResult<Arc<T>> {
        let cached = self.slot.current.read().unwrap_or_else(PoisonError::into_inner).clone();
        match cached {
            Some(value) => Ok(value),
            None => self.reload().await,
        }
    }

    /// Reads the value from Postgres now and caches it.
    pub async fn reload(&self) -> LiveResult<Arc<T>> {
        let _one_at_a_time = self.slot.reloading.lock().await;
        let mut conn = self.db.pool.get().await?;
        let value = Arc::new((self.slot.load)(&mut conn).await?);
        *self.slot.current.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&value));
        Ok(value)
    }
}

/// A cache of any type, for the reloader.
trait Reload: Send + Sync {
    fn name(&self) -> &'static str;
    fn reload_now(&self) -> BoxFuture<'_, LiveResult<()>>;
}

impl<T: Send + Sync + 'static> Reload for Cached<T> {
    fn name(&self) -> &'static str {
        self.slot.name
    }

    fn reload_now(&self) -> BoxFuture<'_, LiveResult<()>> {
        Box::pin(async move { self.reload().await.map(drop) })
    }
}

/// The whole gift catalogue (inactive gifts too), cheapest first.
#[derive(Debug, Clone, Default)]
pub struct GiftCatalogue(pub Vec<Gift>);

impl GiftCatalogue {
    /// One gift.
    pub fn find(&self, id: &str) -> Option<&Gift> {
        self.0.iter().find(|gift| gift.id == id)
    }
}

/// The PK phase lengths admins set (`None`: none yet, the configured defaults apply).
pub type StoredPhases = Option<Phases>;

/// This replica's caches of admin-managed settings.
#[derive(Clone)]
pub struct ConfigCaches {
    nats: Nats,
    /// The PK phase lengths (`setPkPhases`).
    pub pk_phases: Cached<StoredPhases>,
    /// The streamers who may link up.
    pub pk_whitelist: Cached<HashSet<Uuid>>,
    /// The gift catalogue.
    pub gifts: Cached<GiftCatalogue>,
}

impl ConfigCaches {
    /// Empty caches over `db`, announcing changes on `nats`.
    pub fn new(db: &Db, nats: &Nats) -> ConfigCaches {
        ConfigCaches {
            nats: nats.clone(),
            pk_phases: Cached::new(db, "pk-phases", load_phases),
            pk_whitelist: Cached::new(db, "pk-whitelist", load_whitelist),
            gifts: Cached::new(db, "gifts", load_gifts),
        }
    }

    fn all(&self) -> [&dyn Reload; 3] {
        [&self.pk_phases, &self.pk_whitelist, &self.gifts]
    }

    fn subject(&self) -> String {
        self.nats.subject("live.config.changed")
    }

    /// Call after an admin's change of `cache` committed: reloads it here and tells every
    /// replica to reload it. A failed announcement is logged: replicas catch up within
    /// [`RELOAD_EVERY`].
    pub async fn changed<T: Send + Sync + 'static>(&self, cache: &Cached<T>) -> LiveResult<Arc<T>> {
        let announced = self.nats.client.publish(self.subject(), bytes::Bytes::from_static(cache.name().as_bytes())).await;
        if let Err(error) = announced {
            tracing::warn!(cache = cache.name(), %error, "could not announce a settings change; replicas reload within {RELOAD_EVERY:?}");
        }
        cache.reload().await
    }

    /// Subscribes to change announcements now (once this returns, no announcement is missed)
    /// and returns the reloader to run: it reloads everything at once and every
    /// [`RELOAD_EVERY`], and the named cache on every announcement.
    pub async fn reloader(self) -> impl Future<Output = ()> + Send + 'static {
        let changes = match self.nats.realtime().subscribe(&self.subject()).await {
            Ok(subscription) => Some(subscription),
            Err(error) => {
                tracing::warn!(%error, "settings change announcements unavailable; reloading every {RELOAD_EVERY:?} only");
                None
            }
        };
        self.run_reloader(changes)
    }

    async fn run_reloader(self, mut changes: Option<platform::realtime::Subscription>) {
        let mut every = tokio::time::interval(RELOAD_EVERY);
        let mut dropped = 0;
        loop {
            let named = match &mut changes {
                Some(subscription) => tokio::select! {
                    _ = every.tick() => None,
                    change = subscription.next() => match change {
                        Some(payload) if subscription.dropped() == dropped => Some(String::from_utf8_lossy(&payload).into_owned()),
                        // Announcements were lost in between: any cache may be stale.
                        Some(_) => { dropped = subscription.dropped(); None }
                        None => { changes = None; None }
                    },
                },
                None => {
                    every.tick().await;
                    None
                }
            };
            for cache in self.all() {
                // An unknown name (a newer replica's cache) reloads everything.
                let wanted = named.as_deref().is_none_or(|name| self.all().iter().all(|c| c.name() != name) || cache.name() == name);
                if !wanted {
                    continue;
                }
                if let Err(error) = cache.reload_now().await {
                    tracing::warn!(cache = cache.name(), error = %platform::error::DisplayChain(&error), "reloading settings failed; retrying later");
                }
            }
        }
    }
}

#[derive(diesel::QueryableByName)]
struct PhaseRow {
    #[diesel(sql_type = diesel::sql_types::Int4)]
    invite_secs: i32,
    #[diesel(sql_type = diesel::sql_types::Int4)]
    score_secs: i32,
    #[diesel(sql_type = diesel::sql_types::Int4)]
    punishment_secs: i32,
}

fn load_phases(conn: &mut AsyncPgConnection) -> BoxFuture<'_, QueryResult<StoredPhases>> {
    use diesel::OptionalExtension;
    use diesel_async::RunQueryDsl;
    Box::pin(async move {
        let row: Option<PhaseRow> =
            diesel::sql_query("SELECT invite_secs, score_secs, punishment_secs FROM live.pk_settings").get_result(conn).await.optional()?;
        Ok(row.map(|row| Phases {
            invite: Duration::seconds(row.invite_secs.into()),
            score: Duration::seconds(row.score_secs.into()),
            punishment: Duration::seconds(row.punishment_secs.into()),
        }))
    })
}

fn load_whitelist(conn: &mut AsyncPgConnection) -> BoxFuture<'_, QueryResult<HashSet<Uuid>>> {
    Box::pin(async move { Ok(pk::whitelist_all(conn).await?.into_iter().collect()) })
}

fn load_gifts(conn: &mut AsyncPgConnection) -> BoxFuture<'_, QueryResult<GiftCatalogue>> {
    Box::pin(async move { Ok(GiftCatalogue(gifts::list(conn, true).await?)) })
}
