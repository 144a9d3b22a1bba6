//! The gift catalogue and `sendGift`: the sender's debit, the streamer's income, the PK score
//! and the gift event, all in one transaction.

use super::config_cache::ConfigCaches;
use super::pk::points;
use super::rooms::{parse_name, parse_slug, parse_url};
use super::{LiveError, LiveResult};
use crate::events::LiveEvents;
use crate::events::realtime::PkNotifier;
use crate::store::gifts::{self, Gift, SentGift};
use crate::store::wallet::{self, Account, EntryKind, Posted};
use crate::store::{pk, rooms};
use diesel_async::AsyncConnection;
use platform::auth::{AuthUser, Role};
use platform::clock::SharedClock;
use platform::db::Db;
use platform::events::GiftEvent;
use uuid::Uuid;

/// Most gifts of one kind sent at once.
pub const MAX_GIFT_COUNT: i32 = 9_999;
/// Highest price of a catalogue gift, minor units.
pub const MAX_GIFT_PRICE: i64 = 10_000_000;

/// A new catalogue gift.
#[derive(Debug, Clone)]
pub struct NewGift {
    /// The slug.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Price, minor units.
    pub price: i64,
    /// Icon.
    pub icon_url: Option<String>,
}

impl NewGift {
    /// Checks every field.
    pub fn parse(id: &str, name: &str, price: i64, icon_url: Option<&str>) -> LiveResult<NewGift> {
        Ok(NewGift {
            id: parse_slug("id", id)?,
            name: parse_name("name", name)?,
            price: parse_price(price)?,
            icon_url: icon_url.map(|url| parse_url("iconUrl", url)).transpose()?,
        })
    }
}

/// A change of a catalogue gift (`None` keeps a field; `icon_url: Some(None)` removes it).
#[derive(Debug, Clone, Default)]
pub struct GiftChange {
    /// Display name.
    pub name: Option<String>,
    /// Price.
    pub price: Option<i64>,
    /// Icon.
    pub icon_url: Option<Option<String>>,
    /// Whether it can be sent.
    pub active: Option<bool>,
}

/// A price within the bounds.
pub fn parse_price(price: i64) -> LiveResult<i64> {
    if (1..=MAX_GIFT_PRICE).contains(&price) {
        Ok(price)
    } else {
        Err(LiveError::invalid(format!("`price` must be between 1 and {MAX_GIFT_PRICE} minor units.")))
    }
}

/// What `sendGift` asks for, checked.
#[derive(Debug, Clone)]
pub struct SendGift {
    /// The room.
    pub room_id: Uuid,
    /// Which gift.
    pub gift_id: String,
    /// How many (1–9,999).
    pub count: i32,
    /// The client's retry key (1–64 characters).
    pub idempotency_key: String,
}

impl SendGift {
    /// Checks the bounds.
    pub fn parse(room_id: Uuid, gift_id: String, count: i32, idempotency_key: String) -> LiveResult<SendGift> {
        if !(1..=MAX_GIFT_COUNT).contains(&count) {
            return Err(LiveError::invalid(format!("`count` must be between 1 and {MAX_GIFT_COUNT}.")));
        }
        let key_chars = idempotency_key.chars().count();
        if key_chars == 0 || key_chars > 64 || idempotency_key.chars().any(char::is_control) {
            return Err(LiveError::invalid("`idempotencyKey` must be 1–64 printable characters."));
        }
        Ok(SendGift { room_id, gift_id, count, idempotency_key })
    }
}

/// A gift sent (now, or by the first call with the same idempotency key).
#[derive(Debug, Clone)]
pub struct GiftReceipt {
    /// The gift as recorded.
    pub gift: SentGift,
    /// The sender's balance right after it (for a replay: now).
    pub balance: i64,
    /// Whether this call was a retry answered with the first result.
    pub replayed: bool,
}

/// Gifts.
#[derive(Clone)]
pub struct Gifts {
    db: Db,
    caches: ConfigCaches,
    clock: SharedClock,
    events: LiveEvents,
    pk: PkNotifier,
}

impl Gifts {
    /// The service over `db`; the catalogue is read from `caches`.
    pub fn new(db: Db, caches: ConfigCaches, clock: SharedClock, events: LiveEvents, pk: PkNotifier) -> Gifts {
        Gifts { db, caches, clock, events, pk }
    }

    /// The catalogue (inactive gifts too when `include_inactive`), cheapest first.
    pub async fn catalogue(&self, include_inactive: bool) -> LiveResult<Vec<Gift>> {
        let catalogue = self.caches.gifts.get().await?;
        Ok(catalogue.0.iter().filter(|gift| gift.active || include_inactive).cloned().collect())
    }

    /// Adds a gift to the catalogue (admins).
    pub async fn create(&self, admin: AuthUser, new: NewGift) -> LiveResult<Gift> {
        require_admin(admin)?;
        let now = self.clock.now();
        let gift =
            Gift { id: new.id, name: new.name, price: new.price, icon_url: new.icon_url, active: true, created_at: now, updated_at: now };
        let mut conn = self.db.pool.get().await?;
        let created = gifts::insert(&mut conn, &gift).await?.ok_or_else(|| LiveError::Conflict("A gift with this id exists.".into()))?;
        drop(conn);
        self.caches.changed(&self.caches.gifts).await?;
        Ok(created)
    }

    /// Changes a catalogue gift (admins). A price change applies to gifts sent afterwards.
    pub async fn update(&self, admin: AuthUser, id: &str, change: GiftChange) -> LiveResult<Gift> {
        require_admin(admin)?;
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        let updated = conn
            .transaction::<_, LiveError, _>(async |conn| {
                let mut gift = gifts::find(conn, id).await?.ok_or(LiveError::NotFound("Gift"))?;
                if let Some(name) = change.name {
                    gift.name = name;
                }
                if let Some(price) = change.price {
                    gift.price = price;
                }
                if let Some(icon_url) = change.icon_url {
                    gift.icon_url = icon_url;
                }
                if let Some(active) = change.active {
                    gift.active = active;
                }
                gift.updated_at = now;
                gifts::update(conn, &gift).await?.ok_or(LiveError::NotFound("Gift"))
            })
            .await?;
        drop(conn);
        self.caches.changed(&self.caches.gifts).await?;
        Ok(updated)
    }

    /// Sends gifts in a live room: the sender's debit, the streamer's income, the PK score (if
    /// the streamer is in a score phase) and the gift event, in one transaction. A short
    /// balance, a room that is not live, an unknown or inactive gift: a coded error and
    /// nothing written. A retry with the same idempotency key returns the first result.
    pub async fn send(&self, sender: AuthUser, request: SendGift) -> LiveResult<GiftReceipt> {
        let now = self.clock.now();
        let catalogue = self.caches.gifts.get().await?;
        let mut conn = self.db.pool.get().await?;
        let (receipt, scored) = conn
            .transaction::<_, LiveError, _>(async |conn| {
                if let Some(first) = gifts::find_sent(conn, sender.id, &request.idempotency_key).await? {
                    return Ok((replay(conn, first, &request).await?, None));
                }
                let room = rooms::find(conn, request.room_id).await?.ok_or(LiveError::NotFound("Room"))?;
                let session_id = room.live_session_id.ok_or_else(|| LiveError::Conflict("This room is not live.".into()))?;
                if room.owner_id == sender.id {
                    return Err(LiveError::invalid("You cannot send gifts to your own room."));
                }
                let gift = catalogue.find(&request.gift_id).ok_or(LiveError::NotFound("Gift"))?;
                if !gift.active {
                    return Err(LiveError::invalid("This gift can no longer be sent."));
                }
                let total =
                    gift.price.checked_mul(i64::from(request.count)).ok_or_else(|| LiveError::invalid("That is too many gifts."))?;
                let draft = SentGift {
                    id: Uuid::now_v7(),
                    sender_id: sender.id,
                    idempotency_key: request.idempotency_key.clone(),
                    room_id: room.id,
                    session_id,
                    streamer_id: room.owner_id,
                    channel_id: room.channel_id,
                    gift_id: gift.id.clone(),
                    count: request.count,
                    unit_price: gift.price,
                    total_value: total,
                    pk_id: None,
                    sent_at: now,
                };
                let Some(mut sent) = gifts::insert_sent(conn, &draft).await? else {
                    // A concurrent call with the same key committed while this one waited.
                    let first = gifts::find_sent(conn, sender.id, &request.idempotency_key).await?.ok_or(LiveError::NotFound("Gift"))?;
                    return Ok((replay(conn, first, &request).await?, None));
                };
                // Both wallets are locked in user id order before either moves.
                let wallets = wallet::lock(conn, &[sender.id, room.owner_id], now).await?;
                let balance = wallets.iter().find(|w| w.user_id == sender.id).map_or(0, |w| w.balance);
                if balance < total {
                    return Err(LiveError::InsufficientBalance { balance, cost: total });
                }
                let debited = match wallet::post(conn, sender.id, Account::Balance, -total, EntryKind::GiftSent, sent.id, now).await? {
                    Posted::Done(wallet) => wallet,
                    Posted::Insufficient => return Err(LiveError::InsufficientBalance { balance, cost: total }),
                    Posted::Duplicate => return Err(LiveError::internal(anyhow::anyhow!("gift {} was debited twice", sent.id))),
                };
                if !matches!(
                    wallet::post(conn, room.owner_id, Account::Income, total, EntryKind::GiftReceived, sent.id, now).await?,
                    Posted::Done(_)
                ) {
                    return Err(LiveError::internal(anyhow::anyhow!("gift {} could not be credited", sent.id)));
                }
                let scored = match points(total) {
                    0 => None,
                    points => pk::add_score(conn, room.owner_id, points, now).await?,
                };
                if let Some(link) = &scored {
                    gifts::set_pk(conn, sent.id, link.id).await?;
                    sent.pk_id = Some(link.id);
                }
                self.events.gift_sent(conn, &gift_event(&sent)).await?;
                Ok((GiftReceipt { gift: sent, balance: debited.balance, replayed: false }, scored))
            })
            .await?;
        if !receipt.replayed {
            self.events.committed();
            metrics::counter!("live_gifts_sent_total").increment(1);
        }
        if let Some(link) = scored {
            self.pk.published(&link).await;
        }
        Ok(receipt)
    }
}

/// The answer to a retry: the first gift, if the retry asks for the same thing.
async fn replay(conn: &mut diesel_async::AsyncPgConnection, first: SentGift, request: &SendGift) -> LiveResult<GiftReceipt> {
    if first.room_id != request.room_id || first.gift_id != request.gift_id || first.count != request.count {
        return Err(LiveError::Conflict("This idempotency key was used for a different gift.".into()));
    }
    let balance = wallet::find(conn, first.sender_id).await?.map_or(0, |w| w.balance);
    Ok(GiftReceipt { gift: first, balance, replayed: true })
}

fn gift_event(sent: &SentGift) -> GiftEvent {
    GiftEvent {
        event_id: sent.id,
        channel_id: sent.channel_id,
        room_id: Some(sent.room_id),
        streamer_id: sent.streamer_id,
        gift_id: sent.gift_id.clone(),
        count: i64::from(sent.count),
        sender_id: sent.sender_id,
        unit_price: sent.unit_price,
        total_value: sent.total_value,
        sent_at: sent.sent_at,
    }
}

fn require_admin(user: AuthUser) -> LiveResult<()> {
    if user.role == Role::Admin { Ok(()) } else { Err(LiveError::Forbidden("Only an admin can do this.".into())) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_keys_and_prices_are_bounded() {
        let room = Uuid::now_v7();
        assert!(SendGift::parse(room, "rocket".into(), 1, "k1".into()).is_ok());
        assert!(SendGift::parse(room, "rocket".into(), 0, "k1".into()).is_err());
        assert!(SendGift::parse(room, "rocket".into(), MAX_GIFT_COUNT + 1, "k1".into()).is_err());
        assert!(SendGift::parse(room, "rocket".into(), -3, "k1".into()).is_err());
        assert!(SendGift::parse(room, "rocket".into(), 1, String::new()).is_err());
        assert!(SendGift::parse(room, "rocket".into(), 1, "k".repeat(65)).is_err());
        assert!(parse_price(0).is_err());
        assert!(parse_price(MAX_GIFT_PRICE + 1).is_err());
        assert!(NewGift::parse("rocket", "Rocket", 5_000, None).is_ok());
        assert!(NewGift::parse("Rocket!", "Rocket", 5_000, None).is_err());
    }
}
