//! The gift catalogue (`gifts`, admins' `createGift` / `updateGift`) and `sendGift`.

use super::{id_of, parse_id};
use crate::domain::gifts::{GiftChange, Gifts, NewGift, SendGift, parse_price};
use crate::domain::rooms::{parse_name, parse_url};
use crate::store::gifts as rows;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use platform::auth::{AdminOnly, SignedIn, viewer};
use platform::error::CodedResultExt;

/// A gift of the catalogue.
#[derive(SimpleObject)]
pub struct Gift {
    /// The slug (`rocket`), as week-star boards name gifts.
    id: String,
    /// Display name.
    name: String,
    /// Price of one, minor units.
    price: i64,
    /// Icon URL.
    icon_url: Option<String>,
    /// Whether it can be sent.
    active: bool,
}

impl From<rows::Gift> for Gift {
    fn from(row: rows::Gift) -> Self {
        Gift { id: row.id, name: row.name, price: row.price, icon_url: row.icon_url, active: row.active }
    }
}

/// What `sendGift` recorded.
#[derive(SimpleObject)]
pub struct GiftReceipt {
    /// The gift's id (also the gift event's).
    id: ID,
    /// The room.
    room_id: ID,
    /// Which gift.
    gift_id: String,
    /// How many.
    count: i32,
    /// Price of one, minor units.
    unit_price: i64,
    /// What it cost in all.
    total_value: i64,
    /// The sender's balance after it (for a retry: now).
    balance: i64,
    /// Whether this call was a retry answered with the first result.
    replayed: bool,
    /// The PK it scored in.
    pk_id: Option<ID>,
    /// When it was sent.
    sent_at: DateTime<Utc>,
}

/// A new gift (admins).
#[derive(InputObject)]
pub struct CreateGiftInput {
    /// The slug: 1–32 of a-z, 0-9, '-'.
    id: String,
    /// 1–40 characters.
    name: String,
    /// 1–10,000,000 minor units.
    price: i64,
    /// An http(s) URL.
    icon_url: Option<String>,
}

/// A change of a gift (absent fields stay; `iconUrl: null` removes the icon).
#[derive(InputObject)]
pub struct UpdateGiftInput {
    /// 1–40 characters.
    name: Option<String>,
    /// 1–10,000,000 minor units.
    price: Option<i64>,
    /// An http(s) URL, or `null`.
    icon_url: MaybeUndefined<String>,
    /// Whether it can be sent.
    active: Option<bool>,
}

/// Gift queries.
#[derive(Default)]
pub struct GiftQuery;

#[Object]
impl GiftQuery {
    /// The gift catalogue, cheapest first (inactive gifts only for admins asking for them).
    async fn gifts(&self, ctx: &Context<'_>, #[graphql(default = false)] include_inactive: bool) -> async_graphql::Result<Vec<Gift>> {
        if include_inactive {
            viewer(ctx).require_admin().coded()?;
        }
        Ok(ctx.data::<Gifts>()?.catalogue(include_inactive).await.coded()?.into_iter().map(Gift::from).collect())
    }
}

/// Gift mutations.
#[derive(Default)]
pub struct GiftMutation;

#[Object]
impl GiftMutation {
    /// Adds a gift to the catalogue. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn create_gift(&self, ctx: &Context<'_>, input: CreateGiftInput) -> async_graphql::Result<Gift> {
        let admin = viewer(ctx).require_admin().coded()?;
        let new = NewGift::parse(&input.id, &input.name, input.price, input.icon_url.as_deref()).coded()?;
        Ok(ctx.data::<Gifts>()?.create(admin, new).await.coded()?.into())
    }

    /// Changes a gift. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn update_gift(&self, ctx: &Context<'_>, id: String, input: UpdateGiftInput) -> async_graphql::Result<Gift> {
        let admin = viewer(ctx).require_admin().coded()?;
        let change = GiftChange {
            name: input.name.as_deref().map(|name| parse_name("name", name)).transpose().coded()?,
            price: input.price.map(parse_price).transpose().coded()?,
            icon_url: match input.icon_url {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(url) => Some(Some(parse_url("iconUrl", &url).coded()?)),
            },
            active: input.active,
        };
        Ok(ctx.data::<Gifts>()?.update(admin, &id, change).await.coded()?.into())
    }

    /// Sends `count` (1–9,999) of a gift to the streamer of a live room, paid from the
    /// signed-in user's balance. Retrying with the same `idempotencyKey` returns the first
    /// result and charges nothing more.
    #[graphql(guard = "SignedIn")]
    async fn send_gift(
        &self,
        ctx: &Context<'_>,
        room_id: ID,
        gift_id: String,
        count: i32,
        idempotency_key: String,
    ) -> async_graphql::Result<GiftReceipt> {
        let sender = viewer(ctx).require_user().coded()?;
        let request = SendGift::parse(parse_id(&room_id, "roomId")?, gift_id, count, idempotency_key).coded()?;
        let receipt = ctx.data::<Gifts>()?.send(sender, request).await.coded()?;
        let gift = receipt.gift;
        Ok(GiftReceipt {
            id: id_of(gift.id),
            room_id: id_of(gift.room_id),
            gift_id: gift.gift_id,
            count: gift.count,
            unit_price: gift.unit_price,
            total_value: gift.total_value,
            balance: receipt.balance,
            replayed: receipt.replayed,
            pk_id: gift.pk_id.map(id_of),
            sent_at: gift.sent_at,
        })
    }
}
