//! Leases with fencing, for singleton work (a recompute run, a settlement, a PK timer, a
//! download worker's task): at most one holder works on a key at a time, and a holder that lost
//! its lease can never apply its result.
//!
//! Each subgraph owns its lease table, in its own schema, with this shape:
//!
//! ```sql
//! CREATE TABLE <schema>.leases (
//!     name        text PRIMARY KEY,        -- what is leased (a job, a room's timer…)
//!     holder      text NOT NULL,           -- the process working on it
//!     epoch       bigint NOT NULL,         -- +1 on every grant: the fencing token
//!     lease_until timestamptz NOT NULL     -- the holder may work until then without renewing
//! );
//! ```
//!
//! and a [`LeaseSpec`] names it. The rules, all in SQL conditions, never in a read-then-write:
//!
//! - [`Leases::acquire`] grants a lease only when the key is free (never leased, released, or
//!   lapsed: `lease_until <= now`); every grant increments `epoch`. A live lease is never granted
//!   again, not even to its own holder (a second copy of the same work in the same process is
//!   exactly what a lease must prevent).
//! - [`Leases::renew`] extends it, only while the same holder *and epoch* hold it and it has not
//!   lapsed. Once lapsed, a lease is gone even if nobody took it yet: the holder must acquire
//!   again, which starts a new epoch.
//! - [`Leases::fence`] is the check before an effect. Call it inside the transaction that applies
//!   the result: it succeeds only while the holder, epoch and `lease_until > now` still match,
//!   and it locks the lease row (`FOR UPDATE`) until the transaction ends, so no other holder can
//!   acquire the lease between the check and the commit: an `acquire` waits for the lock and then
//!   sees the result. Effects outside Postgres (Redis, files) are fenced the same way when
//!   they are made while the fencing transaction is open; where a store can compare, pass it
//!   [`Lease::epoch`] as a fencing token instead.
//! - [`Leases::release`] frees it at once (the next holder need not wait for the lapse).
//!
//! Besides the row, one process never runs two copies of the same key's work: [`Leases::acquire`]
//! first takes an in-process slot for the key, held by the returned [`Lease`] until it is dropped.
//! Without it, a process whose own lease lapsed mid-work (a long pause) would acquire the lease
//! again and run a second copy beside the first.
//!
//! Time is the [`Clock`](crate::clock::Clock)'s, so tests lapse a lease by moving the clock.
//! Holders on several machines compare their clocks through `lease_until`: the lease duration
//! must be far longer than the clock skew between replicas (seconds against a minute).

use crate::clock::SharedClock;
use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Text, Timestamptz};
use diesel::{OptionalExtension, QueryResult};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

/// Where a kind of lease lives and how long a grant lasts.
#[derive(Debug, Clone, Copy)]
pub struct LeaseSpec {
    table: &'static str,
    duration: std::time::Duration,
}

impl LeaseSpec {
    /// Leases in `table` (schema-qualified, like `ranking.leases`; letters, digits, `_` and one
    /// `.` only, checked here because the name is spliced into SQL), each granted for `duration`.
    ///
    /// # Panics
    /// On a table name outside that alphabet (at compile time when called in a `const`).
    pub const fn new(table: &'static str, duration: std::time::Duration) -> LeaseSpec {
        let bytes = table.as_bytes();
        let mut i = 0;
        let mut dots = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b == b'.' {
                dots += 1;
            } else if !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
                panic!("a lease table name is [a-z0-9_] with one '.'");
            }
            i += 1;
        }
        assert!(dots == 1 && !bytes.is_empty(), "a lease table name is schema-qualified: <schema>.<table>");
        LeaseSpec { table, duration }
    }

    /// How long a grant or a renewal lasts.
    pub fn duration(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.duration).unwrap_or(chrono::Duration::MAX)
    }
}

/// Keys this process is working on (the in-process slot of each running piece of work).
type LocalSlots = Arc<Mutex<HashSet<String>>>;

/// The leases of one kind, as one process holds them: its holder name, its clock, and which
/// keys it is working on.
#[derive(Clone)]
pub struct Leases {
    spec: LeaseSpec,
    holder: Arc<str>,
    clock: SharedClock,
    local: LocalSlots,
}

/// A lease this process holds: the key, the epoch it was granted in (the fencing token), and
/// until when. Dropping it frees this process's slot for the key but not the row: the lease then
/// lapses at `until` unless it is [released](Leases::release) (a crash behaves the same way).
#[derive(Debug)]
pub struct Lease {
    name: String,
    epoch: i64,
    until: DateTime<Utc>,
    _slot: LocalSlot,
}

impl Lease {
    /// What is leased.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The grant's epoch: greater than every earlier grant of the same key.
    pub fn epoch(&self) -> i64 {
        self.epoch
    }

    /// Until when it holds without renewal.
    pub fn until(&self) -> DateTime<Utc> {
        self.until
    }
}

/// This process's slot for a key; freed on drop.
#[derive(Debug)]
struct LocalSlot {
    name: String,
    local: LocalSlots,
}

impl Drop for LocalSlot {
    fn drop(&mut self) {
        self.local.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.name);
    }
}

/// A lease row, as stored.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct LeaseRow {
    /// The process that holds (or last held) it.
    #[diesel(sql_type = Text)]
    pub holder: String,
    /// The epoch of the last grant.
    #[diesel(sql_type = BigInt)]
    pub epoch: i64,
    /// Until when that grant holds.
    #[diesel(sql_type = Timestamptz)]
    pub lease_until: DateTime<Utc>,
}

#[derive(diesel::QueryableByName)]
struct Granted {
    #[diesel(sql_type = BigInt)]
    epoch: i64,
    #[diesel(sql_type = Timestamptz)]
    lease_until: DateTime<Utc>,
}

impl Leases {
    /// The leases of `spec`, held by `holder` (a name unique to this process, like
    /// `ranking-<uuid>`), timed by `clock`.
    pub fn new(spec: LeaseSpec, holder: impl Into<String>, clock: SharedClock) -> Leases {
        Leases { spec, holder: holder.into().into(), clock, local: LocalSlots::default() }
    }

    /// This process's holder name.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Takes the lease of `name` when it is free or lapsed, in a new epoch; `None` when another
    /// holder has a live lease, or when this process already works on `name` (its earlier
    /// [`Lease`] is still alive), whatever the row says.
    pub async fn acquire(&self, conn: &mut AsyncPgConnection, name: &str) -> QueryResult<Option<Lease>> {
        let Some(slot) = self.take_slot(name) else { return Ok(None) };
        let now = self.clock.now();
        let granted: Option<Granted> = diesel::sql_query(format!(
            "INSERT INTO {table} AS l (name, holder, epoch, lease_until) VALUES ($1, $2, 1, $4) \
             ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, epoch = l.epoch + 1, lease_until = EXCLUDED.lease_until \
             WHERE l.lease_until <= $3 \
             RETURNING epoch, lease_until",
            table = self.spec.table
        ))
        .bind::<Text, _>(name)
        .bind::<Text, _>(&*self.holder)
        .bind::<Timestamptz, _>(now)
        .bind::<Timestamptz, _>(now + self.spec.duration())
        .get_result(conn)
        .await
        .optional()?;
        Ok(granted.map(|g| Lease { name: name.to_owned(), epoch: g.epoch, until: g.lease_until, _slot: slot }))
    }

    fn take_slot(&self, name: &str) -> Option<LocalSlot> {
        let mut local = self.local.lock().unwrap_or_else(PoisonError::into_inner);
        local.insert(name.to_owned()).then(|| LocalSlot { name: name.to_owned(), local: self.local.clone() })
    }

    /// Extends `lease` by the spec's duration from now; `false` when it lapsed or another holder
    /// took it (then stop working: the result would be fenced off anyway). Like [`fence`], it
    /// locks the row until the transaction ends, so an effect in the same transaction is fenced.
    ///
    /// [`fence`]: Leases::fence
    pub async fn renew(&self, conn: &mut AsyncPgConnection, lease: &mut Lease) -> QueryResult<bool> {
        let now = self.clock.now();
        let renewed: Option<Granted> = diesel::sql_query(format!(
            "UPDATE {table} SET lease_until = $5 \
             WHERE name = $1 AND holder = $2 AND epoch = $3 AND lease_until > $4 \
             RETURNING epoch, lease_until",
            table = self.spec.table
        ))
        .bind::<Text, _>(&lease.name)
        .bind::<Text, _>(&*self.holder)
        .bind::<BigInt, _>(lease.epoch)
        .bind::<Timestamptz, _>(now)
        .bind::<Timestamptz, _>(now + self.spec.duration())
        .get_result(conn)
        .await
        .optional()?;
        Ok(match renewed {
            Some(granted) => {
                lease.until = granted.lease_until;
                true
            }
            None => false,
        })
    }

    /// Whether `lease` still holds (same holder and epoch, not lapsed), locking its row until
    /// the caller's transaction ends. Apply the result in that transaction only when it returns
    /// `true`: no other holder can acquire the lease before the transaction commits or rolls
    /// back.
    pub async fn fence(&self, conn: &mut AsyncPgConnection, lease: &Lease) -> QueryResult<bool> {
        let held: Vec<LeaseRow> = diesel::sql_query(format!(
            "SELECT holder, epoch, lease_until FROM {table} \
             WHERE name = $1 AND holder = $2 AND epoch = $3 AND lease_until > $4 FOR UPDATE",
            table = self.spec.table
        ))
        .bind::<Text, _>(&lease.name)
        .bind::<Text, _>(&*self.holder)
        .bind::<BigInt, _>(lease.epoch)
        .bind::<Timestamptz, _>(self.clock.now())
        .load(conn)
        .await?;
        Ok(!held.is_empty())
    }

    /// Frees `lease` at once (a finished job); `false` when it was no longer held. The epoch
    /// stays, so the next grant is still newer.
    pub async fn release(&self, conn: &mut AsyncPgConnection, lease: &Lease) -> QueryResult<bool> {
        diesel::sql_query(format!(
            "UPDATE {table} SET lease_until = '-infinity' WHERE name = $1 AND holder = $2 AND epoch = $3",
            table = self.spec.table
        ))
        .bind::<Text, _>(&lease.name)
        .bind::<Text, _>(&*self.holder)
        .bind::<BigInt, _>(lease.epoch)
        .execute(conn)
        .await
        .map(|n| n > 0)
    }

    /// The row of `name`, if it was ever leased (admin views, tests).
    pub async fn current(&self, conn: &mut AsyncPgConnection, name: &str) -> QueryResult<Option<LeaseRow>> {
        diesel::sql_query(format!("SELECT holder, epoch, lease_until FROM {table} WHERE name = $1", table = self.spec.table))
            .bind::<Text, _>(name)
            .get_result(conn)
            .await
            .optional()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use crate::testkit::TestServices;
    use diesel_async::{AsyncConnection, SimpleAsyncConnection};
    use std::time::Duration;

    const SPEC: LeaseSpec = LeaseSpec::new("leasetest.leases", Duration::from_secs(60));
    const JOB: &str = "job";

    struct World {
        _services: TestServices,
        url: String,
        clock: Arc<ManualClock>,
    }

    async fn world() -> World {
        let services = TestServices::new().await;
        let url = secrecy::ExposeSecret::expose_secret(&services.config().db.url).to_owned();
        let mut conn = AsyncPgConnection::establish(&url).await.expect("connect");
        conn.batch_execute(
            "CREATE SCHEMA leasetest; CREATE TABLE leasetest.leases (name text PRIMARY KEY, holder text NOT NULL, \
             epoch bigint NOT NULL, lease_until timestamptz NOT NULL)",
        )
        .await
        .expect("lease table");
        let start = DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z").expect("time").with_timezone(&Utc);
        World { _services: services, url, clock: ManualClock::starting_at(start) }
    }

    impl World {
        fn leases(&self, holder: &str) -> Leases {
            Leases::new(SPEC, holder, self.clock.clone())
        }

        async fn conn(&self) -> AsyncPgConnection {
            AsyncPgConnection::establish(&self.url).await.expect("connect")
        }
    }

    #[tokio::test]
    async fn a_live_lease_is_granted_once_and_a_lapsed_one_again_in_a_newer_epoch() {
        let world = world().await;
        let mut conn = world.conn().await;
        let (a, b) = (world.leases("a"), world.leases("b"));
        let first = a.acquire(&mut conn, JOB).await.expect("acquire").expect("free: granted");
        assert_eq!(first.epoch(), 1);
        assert!(b.acquire(&mut conn, JOB).await.expect("acquire").is_none(), "held by a");
        // the same holder name in another process (a restart) gets nothing while it is live
        assert!(world.leases("a").acquire(&mut conn, JOB).await.expect("acquire").is_none(), "never re-granted while live");

        world.clock.advance(chrono::Duration::seconds(60));
        let second = b.acquire(&mut conn, JOB).await.expect("acquire").expect("lapsed: granted");
        assert_eq!(second.epoch(), 2);
        assert_eq!(a.current(&mut conn, JOB).await.expect("row").map(|row| (row.holder, row.epoch)), Some(("b".into(), 2)));
    }

    #[tokio::test]
    async fn a_holder_that_lost_its_lease_can_neither_renew_nor_pass_the_fence_nor_release() {
        let world = world().await;
        let mut conn = world.conn().await;
        let (a, b) = (world.leases("a"), world.leases("b"));
        let mut old = a.acquire(&mut conn, JOB).await.expect("acquire").expect("granted");
        assert!(a.fence(&mut conn, &old).await.expect("fence"));
        world.clock.advance(chrono::Duration::seconds(61));
        // lapsed, not yet taken: already gone
        assert!(!a.fence(&mut conn, &old).await.expect("fence"), "a lapsed lease fences its holder off");
        let mut new = b.acquire(&mut conn, JOB).await.expect("acquire").expect("granted");
        assert!(!a.renew(&mut conn, &mut old).await.expect("renew"));
        assert!(!a.fence(&mut conn, &old).await.expect("fence"));
        assert!(!a.release(&mut conn, &old).await.expect("release"), "cannot free b's lease");
        assert!(b.fence(&mut conn, &new).await.expect("fence"));
        assert!(b.renew(&mut conn, &mut new).await.expect("renew"));
    }

    #[tokio::test]
    async fn renewing_keeps_a_lease_past_its_first_term_and_release_frees_it_at_once() {
        let world = world().await;
        let mut conn = world.conn().await;
        let (a, b) = (world.leases("a"), world.leases("b"));
        let mut lease = a.acquire(&mut conn, JOB).await.expect("acquire").expect("granted");
        for _ in 0..3 {
            world.clock.advance(chrono::Duration::seconds(45));
            assert!(a.renew(&mut conn, &mut lease).await.expect("renew"));
            assert_eq!(lease.until(), world.clock.now() + chrono::Duration::seconds(60));
            assert!(b.acquire(&mut conn, JOB).await.expect("acquire").is_none(), "renewed: still a's");
        }
        assert!(a.release(&mut conn, &lease).await.expect("release"));
        assert!(!a.fence(&mut conn, &lease).await.expect("fence"), "released: fenced off");
        let next = b.acquire(&mut conn, JOB).await.expect("acquire").expect("free at once");
        assert_eq!(next.epoch(), 2);
    }

    #[tokio::test]
    async fn one_process_never_works_twice_on_a_key_even_after_its_own_lease_lapsed() {
        let world = world().await;
        let mut conn = world.conn().await;
        let a = world.leases("a");
        let working = a.acquire(&mut conn, JOB).await.expect("acquire").expect("granted");
        world.clock.advance(chrono::Duration::minutes(5));
        assert!(a.acquire(&mut conn, JOB).await.expect("acquire").is_none(), "the first copy still runs here");
        assert!(a.acquire(&mut conn, "other-job").await.expect("acquire").is_some(), "slots are per key");
        drop(working);
        let again = a.acquire(&mut conn, JOB).await.expect("acquire").expect("slot free, row lapsed");
        assert_eq!(again.epoch(), 2);
    }

    #[tokio::test]
    async fn concurrent_acquires_grant_one_lease() {
        let world = world().await;
        let holders: Vec<Leases> = (0..8).map(|n| world.leases(&format!("h{n}"))).collect();
        let mut conns = Vec::new();
        for _ in &holders {
            conns.push(world.conn().await);
        }
        let grants = futures::future::join_all(holders.iter().zip(conns.iter_mut()).map(|(leases, conn)| leases.acquire(conn, JOB))).await;
        let granted: Vec<Lease> = grants.into_iter().filter_map(|g| g.expect("acquire")).collect();
        assert_eq!(granted.len(), 1);
        assert_eq!(granted[0].epoch(), 1);
    }

    #[tokio::test]
    async fn a_takeover_waits_for_the_fenced_transaction_and_sees_its_result() {
        let world = world().await;
        let (a, b) = (world.leases("a"), world.leases("b"));
        let mut conn = world.conn().await;
        conn.batch_execute("CREATE TABLE leasetest.results (holder text NOT NULL)").await.expect("results");
        let lease = a.acquire(&mut conn, JOB).await.expect("acquire").expect("granted");

        let mut publisher = world.conn().await;
        let (fenced_tx, fenced_rx) = tokio::sync::oneshot::channel();
        let (lapse_tx, lapse_rx) = tokio::sync::oneshot::channel::<()>();
        let publish = async {
            publisher
                .transaction::<_, diesel::result::Error, _>(async |conn| {
                    assert!(a.fence(conn, &lease).await?, "held");
                    let _ = fenced_tx.send(());
                    // the lease lapses and another holder tries to take it while this transaction is open
                    let _ = lapse_rx.await;
                    conn.batch_execute("INSERT INTO leasetest.results VALUES ('a')").await?;
                    Ok(())
                })
                .await
        };
        let take_over = async {
            let _ = fenced_rx.await;
            world.clock.advance(chrono::Duration::minutes(2));
            let mut taker = world.conn().await;
            let taking = b.acquire(&mut taker, JOB);
            let waiting = async {
                let mut observer = world.conn().await;
                wait_for_lock_wait(&mut observer).await;
                let _ = lapse_tx.send(());
            };
            let (granted, ()) = tokio::join!(taking, waiting);
            let granted = granted.expect("acquire").expect("lapsed: granted once the fenced transaction ended");
            #[derive(diesel::QueryableByName)]
            struct Count {
                #[diesel(sql_type = BigInt)]
                n: i64,
            }
            let seen: Count = diesel::sql_query("SELECT count(*) AS n FROM leasetest.results").get_result(&mut taker).await.expect("count");
            (granted.epoch(), seen.n)
        };
        let (published, (epoch, seen)) = tokio::join!(publish, take_over);
        published.expect("fenced transaction");
        assert_eq!((epoch, seen), (2, 1), "the takeover came after the fenced effect, never before");
    }

    /// Polls until some session of this database waits for a row lock.
    async fn wait_for_lock_wait(conn: &mut AsyncPgConnection) {
        #[derive(diesel::QueryableByName)]
        struct Waiting {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let waiting: Waiting = diesel::sql_query(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .get_result(conn)
            .await
            .expect("pg_stat_activity");
            if waiting.n > 0 {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "the takeover never waited for the fenced row");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
