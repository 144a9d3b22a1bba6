//! `myWallet`, `rechargeOrder`, `walletAudit` (admins) and `createRechargeOrder`.

use super::user::User;
use super::{id_of, parse_id};
use crate::domain::LiveError;
use crate::domain::page_size;
use crate::domain::wallet::{PaymentChannel, Wallets};
use crate::store::wallet as rows;
use async_graphql::connection::{Connection, Edge};
use async_graphql::{ComplexObject, Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use platform::auth::{AdminOnly, SignedIn, viewer};
use platform::error::CodedResultExt;
use uuid::Uuid;

/// A user's wallet, in integer minor units.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Wallet {
    /// Spendable balance.
    balance: i64,
    /// Income from gifts received.
    income: i64,
    #[graphql(skip)]
    user_id: Uuid,
}

#[ComplexObject]
impl Wallet {
    /// Every credit and debit, newest first. `first` is 1–100 (default 20).
    async fn ledger(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, LedgerEntry>> {
        let limit = page_size(first, 20, 100).coded()?;
        let before = after
            .as_deref()
            .map(|cursor| cursor.parse::<i64>().map_err(|_| LiveError::invalid("The `after` cursor is not one this API returned.")))
            .transpose()
            .coded()?;
        let mut entries = ctx.data::<Wallets>()?.ledger(self.user_id, before, limit + 1).await.coded()?;
        let has_next = entries.len() as i64 > limit;
        entries.truncate(usize::try_from(limit).unwrap_or(0));
        let mut connection = Connection::new(before.is_some(), has_next);
        connection.edges.extend(entries.into_iter().map(|entry| Edge::new(entry.id.to_string(), LedgerEntry::from(entry))));
        Ok(connection)
    }
}

/// One ledger row.
#[derive(SimpleObject)]
pub struct LedgerEntry {
    /// `BALANCE` or `INCOME`.
    account: String,
    /// Signed amount, minor units.
    amount: i64,
    /// `RECHARGE`, `GIFT_SENT` or `GIFT_RECEIVED`.
    kind: String,
    /// The recharge order or gift.
    reference_id: ID,
    /// When.
    created_at: DateTime<Utc>,
}

impl From<rows::LedgerEntry> for LedgerEntry {
    fn from(row: rows::LedgerEntry) -> Self {
        LedgerEntry {
            account: row.account.to_uppercase(),
            amount: row.amount,
            kind: row.kind.to_uppercase(),
            reference_id: id_of(row.reference_id),
            created_at: row.created_at,
        }
    }
}

/// How a recharge is paid.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "PaymentChannel")]
pub enum PaymentChannelInput {
    /// Alipay.
    Alipay,
    /// WeChat Pay.
    Wechat,
    /// A bank card.
    Card,
}

impl From<PaymentChannelInput> for PaymentChannel {
    fn from(channel: PaymentChannelInput) -> Self {
        match channel {
            PaymentChannelInput::Alipay => PaymentChannel::Alipay,
            PaymentChannelInput::Wechat => PaymentChannel::Wechat,
            PaymentChannelInput::Card => PaymentChannel::Card,
        }
    }
}

/// A recharge order; the payment provider's callback credits it.
#[derive(SimpleObject)]
pub struct RechargeOrder {
    /// Id (what the provider's callback names).
    id: ID,
    /// Amount, minor units.
    amount: i64,
    /// `alipay`, `wechat` or `card`.
    channel: String,
    /// `PENDING` or `PAID`.
    status: String,
    /// Created.
    created_at: DateTime<Utc>,
    /// Credited.
    paid_at: Option<DateTime<Utc>>,
}

impl From<rows::RechargeOrder> for RechargeOrder {
    fn from(row: rows::RechargeOrder) -> Self {
        RechargeOrder {
            id: id_of(row.id),
            amount: row.amount,
            channel: row.channel,
            status: row.status.to_uppercase(),
            created_at: row.created_at,
            paid_at: row.paid_at,
        }
    }
}

/// A wallet whose cached sums differ from its ledger.
#[derive(SimpleObject)]
pub struct WalletDiscrepancy {
    /// The owner.
    user: User,
    /// Cached balance.
    balance: i64,
    /// Sum of the balance ledger.
    ledger_balance: i64,
    /// Cached income.
    income: i64,
    /// Sum of the income ledger.
    ledger_income: i64,
}

/// The result of comparing every wallet with its ledger.
#[derive(SimpleObject)]
pub struct WalletAudit {
    /// Wallets compared.
    wallets_checked: i64,
    /// Those that differ (at most `first`); empty when all agree.
    discrepancies: Vec<WalletDiscrepancy>,
}

/// Wallet queries.
#[derive(Default)]
pub struct WalletQuery;

#[Object]
impl WalletQuery {
    /// The signed-in user's wallet.
    #[graphql(guard = "SignedIn")]
    async fn my_wallet(&self, ctx: &Context<'_>) -> async_graphql::Result<Wallet> {
        let user = viewer(ctx).require_user().coded()?;
        let wallet = ctx.data::<Wallets>()?.wallet(user.id).await.coded()?;
        Ok(Wallet { balance: wallet.balance, income: wallet.income, user_id: user.id })
    }

    /// A recharge order of the signed-in user (admins: anyone's).
    #[graphql(guard = "SignedIn")]
    async fn recharge_order(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<RechargeOrder> {
        let user = viewer(ctx).require_user().coded()?;
        let id = parse_id(&id, "id")?;
        Ok(ctx.data::<Wallets>()?.order(user, id).await.coded()?.into())
    }

    /// Compares every wallet's balance and income with its ledger, in one snapshot. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn wallet_audit(&self, ctx: &Context<'_>, #[graphql(default = 100)] first: i32) -> async_graphql::Result<WalletAudit> {
        let admin = viewer(ctx).require_admin().coded()?;
        let limit = page_size(Some(first), 100, 1000).coded()?;
        let (checked, differing) = ctx.data::<Wallets>()?.audit(admin, limit).await.coded()?;
        Ok(WalletAudit {
            wallets_checked: checked,
            discrepancies: differing
                .into_iter()
                .map(|d| WalletDiscrepancy {
                    user: User::of(d.user_id),
                    balance: d.balance,
                    ledger_balance: d.ledger_balance,
                    income: d.income,
                    ledger_income: d.ledger_income,
                })
                .collect(),
        })
    }
}

/// Wallet mutations.
#[derive(Default)]
pub struct WalletMutation;

#[Object]
impl WalletMutation {
    /// Creates a recharge order of `amount` minor units (100–5,000,000); the payment
    /// provider's signed callback to `POST /payments/callback` credits it once.
    #[graphql(guard = "SignedIn")]
    async fn create_recharge_order(
        &self,
        ctx: &Context<'_>,
        amount: i64,
        channel: PaymentChannelInput,
    ) -> async_graphql::Result<RechargeOrder> {
        let user = viewer(ctx).require_user().coded()?;
        Ok(ctx.data::<Wallets>()?.create_order(user, amount, channel.into()).await.coded()?.into())
    }
}
