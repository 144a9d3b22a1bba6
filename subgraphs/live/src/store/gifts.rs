//! `live.gifts` (the catalogue) and `live.gifts_sent` (every gift sent).

use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Bool, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::{OptionalExtension, QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// A catalogue gift as stored.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Gift {
    /// The slug (`rocket`), as week-star gift sets name it.
    #[diesel(sql_type = Text)]
    pub id: String,
    /// Display name.
    #[diesel(sql_type = Text)]
    pub name: String,
    /// Price of one, minor units.
    #[diesel(sql_type = BigInt)]
    pub price: i64,
    /// Icon URL.
    #[diesel(sql_type = Nullable<Text>)]
    pub icon_url: Option<String>,
    /// Whether it can be sent.
    #[diesel(sql_type = Bool)]
    pub active: bool,
    /// Created.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// Last changed.
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

const GIFT_COLUMNS: &str = "id, name, price, icon_url, active, created_at, updated_at";

/// The catalogue (only active gifts unless `include_inactive`), cheapest first.
pub async fn list(conn: &mut AsyncPgConnection, include_inactive: bool) -> QueryResult<Vec<Gift>> {
    diesel::sql_query(format!("SELECT {GIFT_COLUMNS} FROM live.gifts WHERE active OR $1 ORDER BY price, id"))
        .bind::<Bool, _>(include_inactive)
        .load(conn)
        .await
}

/// One gift.
pub async fn find(conn: &mut AsyncPgConnection, id: &str) -> QueryResult<Option<Gift>> {
    diesel::sql_query(format!("SELECT {GIFT_COLUMNS} FROM live.gifts WHERE id = $1")).bind::<Text, _>(id).get_result(conn).await.optional()
}

/// Inserts a gift; `None` when the id is taken.
pub async fn insert(conn: &mut AsyncPgConnection, gift: &Gift) -> QueryResult<Option<Gift>> {
    diesel::sql_query(format!(
        "INSERT INTO live.gifts ({GIFT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (id) DO NOTHING RETURNING {GIFT_COLUMNS}"
    ))
    .bind::<Text, _>(&gift.id)
    .bind::<Text, _>(&gift.name)
    .bind::<BigInt, _>(gift.price)
    .bind::<Nullable<Text>, _>(gift.icon_url.as_deref())
    .bind::<Bool, _>(gift.active)
    .bind::<Timestamptz, _>(gift.created_at)
    .get_result(conn)
    .await
    .optional()
}

/// Replaces a gift's name, price, icon and active switch; `None` when it does not exist.
pub async fn update(conn: &mut AsyncPgConnection, gift: &Gift) -> QueryResult<Option<Gift>> {
    diesel::sql_query(format!(
        "UPDATE live.gifts SET name = $2, price = $3, icon_url = $4, active = $5, updated_at = $6 WHERE id = $1 RETURNING {GIFT_COLUMNS}"
    ))
    .bind::<Text, _>(&gift.id)
    .bind::<Text, _>(&gift.name)
    .bind::<BigInt, _>(gift.price)
    .bind::<Nullable<Text>, _>(gift.icon_url.as_deref())
    .bind::<Bool, _>(gift.active)
    .bind::<Timestamptz, _>(gift.updated_at)
    .get_result(conn)
    .await
    .optional()
}

/// A sent gift as stored.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct SentGift {
    /// Id: the gift event's id.
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// Who sent it.
    #[diesel(sql_type = SqlUuid)]
    pub sender_id: Uuid,
    /// The sender's retry key.
    #[diesel(sql_type = Text)]
    pub idempotency_key: String,
    /// The room.
    #[diesel(sql_type = SqlUuid)]
    pub room_id: Uuid,
    /// The live session it was sent in.
    #[diesel(sql_type = SqlUuid)]
    pub session_id: Uuid,
    /// Who received it.
    #[diesel(sql_type = SqlUuid)]
    pub streamer_id: Uuid,
    /// The room's channel when it was sent.
    #[diesel(sql_type = SqlUuid)]
    pub channel_id: Uuid,
    /// Which gift.
    #[diesel(sql_type = Text)]
    pub gift_id: String,
    /// How many.
    #[diesel(sql_type = Int4)]
    pub count: i32,
    /// Price of one then, minor units.
    #[diesel(sql_type = BigInt)]
    pub unit_price: i64,
    /// `unit_price * count`.
    #[diesel(sql_type = BigInt)]
    pub total_value: i64,
    /// The PK it scored in.
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub pk_id: Option<Uuid>,
    /// When.
    #[diesel(sql_type = Timestamptz)]
    pub sent_at: DateTime<Utc>,
}

const SENT_COLUMNS: &str =
    "id, sender_id, idempotency_key, room_id, session_id, streamer_id, channel_id, gift_id, count, unit_price, total_value, pk_id, sent_at";

/// Records a gift; `None` when the sender already used this idempotency key (nothing written).
pub async fn insert_sent(conn: &mut AsyncPgConnection, gift: &SentGift) -> QueryResult<Option<SentGift>> {
    diesel::sql_query(format!(
        "INSERT INTO live.gifts_sent ({SENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (sender_id, idempotency_key) DO NOTHING RETURNING {SENT_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(gift.id)
    .bind::<SqlUuid, _>(gift.sender_id)
    .bind::<Text, _>(&gift.idempotency_key)
    .bind::<SqlUuid, _>(gift.room_id)
    .bind::<SqlUuid, _>(gift.session_id)
    .bind::<SqlUuid, _>(gift.streamer_id)
    .bind::<SqlUuid, _>(gift.channel_id)
    .bind::<Text, _>(&gift.gift_id)
    .bind::<Int4, _>(gift.count)
    .bind::<BigInt, _>(gift.unit_price)
    .bind::<BigInt, _>(gift.total_value)
    .bind::<Nullable<SqlUuid>, _>(gift.pk_id)
    .bind::<Timestamptz, _>(gift.sent_at)
    .get_result(conn)
    .await
    .optional()
}

/// The gift a sender sent with this idempotency key.
pub async fn find_sent(conn: &mut AsyncPgConnection, sender_id: Uuid, idempotency_key: &str) -> QueryResult<Option<SentGift>> {
    diesel::sql_query(format!("SELECT {SENT_COLUMNS} FROM live.gifts_sent WHERE sender_id = $1 AND idempotency_key = $2"))
        .bind::<SqlUuid, _>(sender_id)
        .bind::<Text, _>(idempotency_key)
        .get_result(conn)
        .await
        .optional()
}

/// Notes the PK a recorded gift scored in.
pub async fn set_pk(conn: &mut AsyncPgConnection, gift_id: Uuid, pk_id: Uuid) -> QueryResult<usize> {
    diesel::sql_query("UPDATE live.gifts_sent SET pk_id = $2 WHERE id = $1")
        .bind::<SqlUuid, _>(gift_id)
        .bind::<SqlUuid, _>(pk_id)
        .execute(conn)
        .await
}
