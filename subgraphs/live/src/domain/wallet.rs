//! Wallets, recharge orders and the payment callback that credits them exactly once.

use super::payments::{CallbackSigner, PaymentNotice, SignatureError};
use super::{LiveError, LiveResult};
use crate::store::wallet::{self, Account, Discrepancy, EntryKind, LedgerEntry, Posted, RechargeOrder, Wallet};
use diesel_async::AsyncConnection;
use platform::auth::{AuthUser, Role};
use platform::clock::SharedClock;
use platform::db::Db;
use uuid::Uuid;

/// Smallest recharge, minor units (1.00).
pub const MIN_RECHARGE: i64 = 100;
/// Largest recharge, minor units (50,000.00).
pub const MAX_RECHARGE: i64 = 5_000_000;

/// Recharge orders a user may create per window: enough for any honest payer, and a bound on
/// the pending rows an abuser can make.
pub const ORDER_LIMIT: platform::rate_limit::RateLimit =
    platform::rate_limit::RateLimit { name: "live-recharge:create", max: 20, window: std::time::Duration::from_secs(3600) };

/// How a user pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentChannel {
    /// Alipay.
    Alipay,
    /// WeChat Pay.
    Wechat,
    /// A bank card.
    Card,
}

impl PaymentChannel {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentChannel::Alipay => "alipay",
            PaymentChannel::Wechat => "wechat",
            PaymentChannel::Card => "card",
        }
    }
}

/// A recharge amount within the bounds.
pub fn parse_recharge_amount(amount: i64) -> LiveResult<i64> {
    if (MIN_RECHARGE..=MAX_RECHARGE).contains(&amount) {
        Ok(amount)
    } else {
        Err(LiveError::invalid(format!("`amount` must be between {MIN_RECHARGE} and {MAX_RECHARGE} minor units.")))
    }
}

/// What a callback did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// This call credited the order.
    Credited(RechargeOrder),
    /// The order had been credited before (a replay or a raced duplicate): nothing changed.
    AlreadyCredited(RechargeOrder),
}

/// Why a callback was refused (nothing was credited).
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    /// Unsigned, or the signature does not match the body.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// The body is not a payment notice.
    #[error("the callback body is not a payment notice: {0}")]
    Malformed(String),
    /// No such order.
    #[error("no such order")]
    UnknownOrder,
    /// The paid amount differs from the order's.
    #[error("the paid amount differs from the order's")]
    AmountMismatch,
    /// Our fault.
    #[error(transparent)]
    Internal(#[from] LiveError),
}

/// Wallets and recharges.
#[derive(Clone)]
pub struct Wallets {
    db: Db,
    clock: SharedClock,
    signer: CallbackSigner,
    redis: Option<platform::redis::Redis>,
}

impl Wallets {
    /// The service over `db`; `signer` holds the provider's shared secret.
    pub fn new(db: Db, clock: SharedClock, signer: CallbackSigner) -> Wallets {
        Wallets { db, clock, signer, redis: None }
    }

    /// Limits how many recharge orders a user creates per hour ([`ORDER_LIMIT`]), counted in `redis`.
    pub fn with_order_limit(mut self, redis: platform::redis::Redis) -> Wallets {
        self.redis = Some(redis);
        self
    }

    /// A user's wallet (empty if they never had one).
    pub async fn wallet(&self, user_id: Uuid) -> LiveResult<Wallet> {
        let mut conn = self.db.pool.get().await?;
        Ok(wallet::find(&mut conn, user_id).await?.unwrap_or(Wallet { user_id, balance: 0, income: 0, updated_at: self.clock.now() }))
    }

    /// A wallet's ledger, newest first.
    pub async fn ledger(&self, user_id: Uuid, before: Option<i64>, limit: i64) -> LiveResult<Vec<LedgerEntry>> {
        let mut conn = self.db.pool.get().await?;
        Ok(wallet::ledger(&mut conn, user_id, before, limit).await?)
    }

    /// Creates a pending recharge order for the signed-in user.
    pub async fn create_order(&self, user: AuthUser, amount: i64, channel: PaymentChannel) -> LiveResult<RechargeOrder> {
        let amount = parse_recharge_amount(amount)?;
        if let Some(redis) = &self.redis
            && let platform::rate_limit::RateDecision::Limited { retry_after_secs } =
                ORDER_LIMIT.hit(redis, &user.id.to_string()).await.map_err(LiveError::internal)?
        {
            return Err(LiveError::RateLimited { what: "Too many recharge orders", retry_after_secs });
        }
        let mut conn = self.db.pool.get().await?;
        Ok(wallet::insert_order(&mut conn, Uuid::now_v7(), user.id, amount, channel.as_str(), self.clock.now()).await?)
    }

    /// An order, for its owner or an admin.
    pub async fn order(&self, viewer: AuthUser, id: Uuid) -> LiveResult<RechargeOrder> {
        let mut conn = self.db.pool.get().await?;
        match wallet::find_order(&mut conn, id).await? {
            Some(order) if viewer.is_owner_or_admin(&[order.user_id]) => Ok(order),
            _ => Err(LiveError::NotFound("Recharge order")),
        }
    }

    /// Handles the provider's callback: verifies the signature over the raw `body`, then marks
    /// the order paid and credits the wallet in one transaction. The claim (`pending` → `paid`,
    /// a conditional update) happens once per order; a replay, or a second delivery racing the
    /// first, waits for the row lock, finds it paid and credits nothing.
    pub async fn handle_callback(&self, body: &[u8], signature: Option<&str>) -> Result<CallbackOutcome, CallbackError> {
        self.signer.verify(body, signature)?;
        let notice: PaymentNotice = serde_json::from_slice(body).map_err(|error| CallbackError::Malformed(error.to_string()))?;
        if notice.provider_ref.is_empty() || notice.provider_ref.len() > 128 {
            return Err(CallbackError::Malformed("providerRef must be 1–128 bytes".into()));
        }
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await.map_err(LiveError::from)?;
        conn.transaction::<_, CallbackError, _>(async |conn| {
            let order = wallet::find_order(conn, notice.order_id).await.map_err(LiveError::from)?.ok_or(CallbackError::UnknownOrder)?;
            if order.amount != notice.amount {
                return Err(CallbackError::AmountMismatch);
            }
            let Some(paid) = wallet::claim_paid(conn, order.id, &notice.provider_ref, now).await.map_err(LiveError::from)? else {
                let current = wallet::find_order(conn, order.id).await.map_err(LiveError::from)?.unwrap_or(order);
                return Ok(CallbackOutcome::AlreadyCredited(current));
            };
            wallet::lock(conn, &[paid.user_id], now).await.map_err(LiveError::from)?;
            match wallet::post(conn, paid.user_id, Account::Balance, paid.amount, EntryKind::Recharge, paid.id, now)
                .await
                .map_err(LiveError::from)?
            {
                Posted::Done(_) => Ok(CallbackOutcome::Credited(paid)),
                other => Err(LiveError::internal(anyhow::anyhow!("crediting order {} failed: {other:?}", paid.id)).into()),
            }
        })
        .await
    }

    /// Compares every wallet with its ledger in one snapshot (admins): wallets checked and the
    /// first `limit` that differ.
    pub async fn audit(&self, admin: AuthUser, limit: i64) -> LiveResult<(i64, Vec<Discrepancy>)> {
        if admin.role != Role::Admin {
            return Err(LiveError::Forbidden("Only an admin can do this.".into()));
        }
        self.audit_unchecked(limit).await
    }

    /// [`Wallets::audit`] without the role check, for the operator's CLI.
    pub async fn audit_unchecked(&self, limit: i64) -> LiveResult<(i64, Vec<Discrepancy>)> {
        let mut conn = self.db.pool.get().await?;
        conn.build_transaction()
            .repeatable_read()
            .read_only()
            .run::<_, LiveError, _>(async |conn| Ok(wallet::audit(conn, limit).await?))
            .await
    }
}

impl From<diesel::result::Error> for CallbackError {
    fn from(error: diesel::result::Error) -> Self {
        CallbackError::Internal(LiveError::from(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recharge_amounts_are_bounded() {
        assert!(parse_recharge_amount(MIN_RECHARGE).is_ok());
        assert!(parse_recharge_amount(MAX_RECHARGE).is_ok());
        assert!(parse_recharge_amount(MIN_RECHARGE - 1).is_err());
        assert!(parse_recharge_amount(0).is_err());
        assert!(parse_recharge_amount(-500).is_err());
        assert!(parse_recharge_amount(MAX_RECHARGE + 1).is_err());
    }
}
