//! `live.wallets`, `live.ledger` and `live.recharge_orders`.
//!
//! A wallet changes only through [`post`], which appends the ledger row and moves the cached
//! sum in the same statement sequence of the caller's transaction, so the balance always
//! equals the ledger sum ([`audit`] checks it).

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::{OptionalExtension, QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// A wallet as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, QueryableByName)]
pub struct Wallet {
    /// Its owner.
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    /// Spendable balance, minor units.
    #[diesel(sql_type = BigInt)]
    pub balance: i64,
    /// Income from gifts received, minor units (not spendable).
    #[diesel(sql_type = BigInt)]
    pub income: i64,
    /// Last change.
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

/// Which sum of a wallet a ledger row moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Account {
    /// The spendable balance.
    Balance,
    /// Gift income.
    Income,
}

impl Account {
    fn as_str(self) -> &'static str {
        match self {
            Account::Balance => "balance",
            Account::Income => "income",
        }
    }
}

/// Why a ledger row exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A paid recharge order (reference: the order).
    Recharge,
    /// Gifts sent (reference: the gift).
    GiftSent,
    /// Gifts received (reference: the gift).
    GiftReceived,
}

impl EntryKind {
    fn as_str(self) -> &'static str {
        match self {
            EntryKind::Recharge => "recharge",
            EntryKind::GiftSent => "gift_sent",
            EntryKind::GiftReceived => "gift_received",
        }
    }
}

/// A ledger row as stored.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct LedgerEntry {
    /// Sequence (the cursor).
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// The wallet.
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    /// `balance` or `income`.
    #[diesel(sql_type = Text)]
    pub account: String,
    /// Signed amount, minor units.
    #[diesel(sql_type = BigInt)]
    pub amount: i64,
    /// `recharge`, `gift_sent` or `gift_received`.
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// The order or gift.
    #[diesel(sql_type = SqlUuid)]
    pub reference_id: Uuid,
    /// When.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

const WALLET_COLUMNS: &str = "user_id, balance, income, updated_at";

/// Creates the missing wallets of `users` (empty) and locks all of them, in user id order (the
/// one lock order of every wallet write, so two transfers in opposite directions never
/// deadlock). Returns them in that order.
pub async fn lock(conn: &mut AsyncPgConnection, users: &[Uuid], at: DateTime<Utc>) -> QueryResult<Vec<Wallet>> {
    let mut sorted = users.to_vec();
    sorted.sort();
    sorted.dedup();
    diesel::sql_query(
        "INSERT INTO live.wallets (user_id, balance, income, updated_at) SELECT u, 0, 0, $2 FROM unnest($1::uuid[]) AS u ORDER BY u \
         ON CONFLICT (user_id) DO NOTHING",
    )
    .bind::<Array<SqlUuid>, _>(&sorted)
    .bind::<Timestamptz, _>(at)
    .execute(conn)
    .await?;
    diesel::sql_query(format!("SELECT {WALLET_COLUMNS} FROM live.wallets WHERE user_id = ANY($1) ORDER BY user_id FOR UPDATE"))
        .bind::<Array<SqlUuid>, _>(&sorted)
        .load(conn)
        .await
}

/// One wallet, if it exists.
pub async fn find(conn: &mut AsyncPgConnection, user_id: Uuid) -> QueryResult<Option<Wallet>> {
    diesel::sql_query(format!("SELECT {WALLET_COLUMNS} FROM live.wallets WHERE user_id = $1"))
        .bind::<SqlUuid, _>(user_id)
        .get_result(conn)
        .await
        .optional()
}

/// What [`post`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    /// The row was appended and the sum moved: the wallet after the change.
    Done(Wallet),
    /// A debit would take the sum below zero; nothing was written.
    Insufficient,
    /// The row for this (reference, user, account, kind) exists already. The sum was moved
    /// before that was found: the caller must roll its transaction back.
    Duplicate,
}

/// Appends a ledger row and moves the wallet's sum by `amount`, in the caller's transaction
/// (the wallet must exist; lock it first with [`lock`]). Anything but [`Posted::Done`] means the
/// caller's transaction must not commit.
pub async fn post(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    account: Account,
    amount: i64,
    kind: EntryKind,
    reference_id: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<Posted> {
    let column = account.as_str();
    let moved: Option<Wallet> = diesel::sql_query(format!(
        "UPDATE live.wallets SET {column} = {column} + $2, updated_at = $3 WHERE user_id = $1 AND {column} + $2 >= 0 \
         RETURNING {WALLET_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(user_id)
    .bind::<BigInt, _>(amount)
    .bind::<Timestamptz, _>(at)
    .get_result(conn)
    .await
    .optional()?;
    let Some(wallet) = moved else { return Ok(Posted::Insufficient) };
    let appended = diesel::sql_query(
        "INSERT INTO live.ledger (user_id, account, amount, kind, reference_id, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (reference_id, user_id, account, kind) DO NOTHING",
    )
    .bind::<SqlUuid, _>(user_id)
    .bind::<Text, _>(column)
    .bind::<BigInt, _>(amount)
    .bind::<Text, _>(kind.as_str())
    .bind::<SqlUuid, _>(reference_id)
    .bind::<Timestamptz, _>(at)
    .execute(conn)
    .await?;
    Ok(if appended == 0 { Posted::Duplicate } else { Posted::Done(wallet) })
}

/// A wallet's ledger rows, newest first, strictly before the row `before`.
pub async fn ledger(conn: &mut AsyncPgConnection, user_id: Uuid, before: Option<i64>, limit: i64) -> QueryResult<Vec<LedgerEntry>> {
    diesel::sql_query(
        "SELECT id, user_id, account, amount, kind, reference_id, created_at FROM live.ledger \
         WHERE user_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
    )
    .bind::<SqlUuid, _>(user_id)
    .bind::<Nullable<BigInt>, _>(before)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// A wallet whose cached sums differ from its ledger.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Discrepancy {
    /// The wallet's owner.
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    /// The cached balance (0 when the wallet row is missing).
    #[diesel(sql_type = BigInt)]
    pub balance: i64,
    /// The sum of its `balance` ledger rows.
    #[diesel(sql_type = BigInt)]
    pub ledger_balance: i64,
    /// The cached income.
    #[diesel(sql_type = BigInt)]
    pub income: i64,
    /// The sum of its `income` ledger rows.
    #[diesel(sql_type = BigInt)]
    pub ledger_income: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Compares every wallet with its ledger: (wallets checked, the first `limit` that differ).
/// Runs in one snapshot when the caller holds a repeatable-read transaction.
pub async fn audit(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<(i64, Vec<Discrepancy>)> {
    let checked = diesel::sql_query("SELECT count(*) AS n FROM live.wallets").get_result::<Count>(conn).await?.n;
    let differing = diesel::sql_query(
        "SELECT coalesce(w.user_id, l.user_id) AS user_id, coalesce(w.balance, 0) AS balance, coalesce(l.b, 0)::bigint AS ledger_balance, \
                coalesce(w.income, 0) AS income, coalesce(l.i, 0)::bigint AS ledger_income \
         FROM live.wallets w FULL OUTER JOIN ( \
             SELECT user_id, sum(amount) FILTER (WHERE account = 'balance') AS b, sum(amount) FILTER (WHERE account = 'income') AS i \
             FROM live.ledger GROUP BY user_id) l ON l.user_id = w.user_id \
         WHERE coalesce(w.balance, 0) <> coalesce(l.b, 0) OR coalesce(w.income, 0) <> coalesce(l.i, 0) \
         ORDER BY 1 LIMIT $1",
    )
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?;
    Ok((checked, differing))
}

/// A recharge order as stored.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct RechargeOrder {
    /// Id (what the provider's callback names).
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// Who recharges.
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    /// Amount, minor units.
    #[diesel(sql_type = BigInt)]
    pub amount: i64,
    /// Payment channel: `alipay`, `wechat` or `card`.
    #[diesel(sql_type = Text)]
    pub channel: String,
    /// `pending` or `paid`.
    #[diesel(sql_type = Text)]
    pub status: String,
    /// The provider's transaction reference, once paid.
    #[diesel(sql_type = Nullable<Text>)]
    pub provider_ref: Option<String>,
    /// Created.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// Paid (credited).
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub paid_at: Option<DateTime<Utc>>,
}

const ORDER_COLUMNS: &str = "id, user_id, amount, channel, status, provider_ref, created_at, paid_at";

/// Inserts a pending order.
pub async fn insert_order(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    user_id: Uuid,
    amount: i64,
    channel: &str,
    at: DateTime<Utc>,
) -> QueryResult<RechargeOrder> {
    diesel::sql_query(format!(
        "INSERT INTO live.recharge_orders (id, user_id, amount, channel, status, created_at) VALUES ($1, $2, $3, $4, 'pending', $5) \
         RETURNING {ORDER_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(user_id)
    .bind::<BigInt, _>(amount)
    .bind::<Text, _>(channel)
    .bind::<Timestamptz, _>(at)
    .get_result(conn)
    .await
}

/// One order.
pub async fn find_order(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<RechargeOrder>> {
    diesel::sql_query(format!("SELECT {ORDER_COLUMNS} FROM live.recharge_orders WHERE id = $1"))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .await
        .optional()
}

/// Marks a pending order paid: the claim that makes a credit happen once. `None` when the
/// order is not pending (already paid, or unknown) — a replayed or raced callback changes
/// nothing here, because a concurrent claim waits for the first one's row lock and then sees
/// `paid`.
pub async fn claim_paid(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    provider_ref: &str,
    at: DateTime<Utc>,
) -> QueryResult<Option<RechargeOrder>> {
    diesel::sql_query(format!(
        "UPDATE live.recharge_orders SET status = 'paid', provider_ref = $2, paid_at = $3 WHERE id = $1 AND status = 'pending' \
         RETURNING {ORDER_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(provider_ref)
    .bind::<Timestamptz, _>(at)
    .get_result(conn)
    .await
    .optional()
}
