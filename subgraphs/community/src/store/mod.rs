//! SQL of the `community` schema. Functions take a connection; transactions are opened by the
//! domain services, which hand the transaction's connection down.
//!
//! # Lock order
//!
//! A row lock is held until its transaction ends, so two transactions that lock the same rows
//! in different orders can deadlock. Every writer in `community` takes its row locks in this
//! one order (as Lemmy does for its counters: the rows least likely to be contended first, the
//! hottest shared rows last, so they are held for the shortest time):
//!
//! 1. the actor's own relation row: a follow pair (`user_follows`), a like (`likes`);
//! 2. comments, in ascending id;
//! 3. posts, in ascending id;
//!    dynamics rank here too, in ascending id (no transaction locks both a post and a dynamic;
//!    a dynamic's comment is locked before it, as in step 2);
//! 4. per-user counters (`user_stats`), in ascending `user_id` — always through [`stats::add`],
//!    which merges a transaction's deltas per user and upserts them in one statement, sorted;
//! 5. per-zone points (`zone_points`), in ascending `(zone_id, user_id)` — through
//!    [`points::add`], which merges and sorts the same way;
//! 6. zones (`zones`), in ascending id ([`zones::add_posts`] walks them sorted); the home list's
//!    pin lock ([`home_pins::lock`]) stands where a zone row would.
//! 7. notifications (`notifications`, then its `notification_actors` row): one per action, last
//!    of all, through [`crate::domain::notifications::record`]; marking read updates only the
//!    reader's own notifications and takes nothing after them.
//!
//! A like, of a post, a comment or a dynamic, goes through the one like path
//! ([`crate::domain::likes`]): its like row (step 1), the item's counters (a comment step 2, a
//! post or a dynamic step 3), the author's `user_stats` (step 4), the notification (step 7).
//!
//! A direct message is a writer of its own ([`messages`]): the new message, then the
//! conversation's two member rows in ascending `user_id` (one statement). It takes no other row.
//!
//! The account directory ([`accounts`]) is only read by writers, never locked; its projection
//! writes one row per statement and takes nothing else.
//!
//! An admin resolving a report locks its queue entry before step 1. Sanctions and the
//! moderation log are read or appended outside this order: a sanction row
//! is only read by writers (never locked), and log rows are new.
//!
//! A transaction that needs no row of a step skips it. Zones are never deleted, so checking
//! that one exists needs no lock.
//!
//! A service that needs a row of an earlier step after a later one re-reads it without
//! locking (`SELECT` without `FOR UPDATE`) or restructures the transaction; it never locks
//! backwards. Counters are changed in the transaction of the action, never recounted on read;
//! [`audit`] recomputes them from the content tables to prove they agree.

pub mod accounts;
pub mod audit;
pub mod comments;
pub mod dynamics;
pub mod follows;
pub mod home_pins;
pub mod likes;
pub mod messages;
pub mod moderation;
pub mod notifications;
pub mod points;
pub mod posts;
pub mod reports;
pub mod review;
pub mod stats;
pub mod zones;

/// A single `bigint` column named `n`.
#[derive(diesel::QueryableByName)]
pub(crate) struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub(crate) n: i64,
}
