//! `vidgraph pay`, `vidgraph wallet-check` and the `live` part of `vidgraph seed`.

use live::domain::payments::{CallbackSigner, PaymentNotice, SIGNATURE_HEADER};
use live::domain::wallet::Wallets;
use platform::config::AppConfig;
use secrecy::ExposeSecret;

/// Plays the payment provider in development: signs a callback for the order's amount with the
/// configured secret and posts it to `live` at `url` (its base URL).
pub async fn pay(config: &AppConfig, order_id: &str, url: &str) -> anyhow::Result<()> {
    let id = order_id.parse().map_err(|_| anyhow::anyhow!("{order_id} is not an order id"))?;
    let db = platform::db::Db::connect(&config.db, "vidgraph-cli");
    let mut conn = db.pool.get().await?;
    let order = live::store::wallet::find_order(&mut conn, id).await?.ok_or_else(|| anyhow::anyhow!("no recharge order {order_id}"))?;
    let notice = PaymentNotice { order_id: order.id, amount: order.amount, provider_ref: format!("dev-{}", order.id.simple()) };
    let body = serde_json::to_vec(&notice)?;
    let signature = CallbackSigner::new(config.live.payment_secret.expose_secret()).sign(&body);
    let response = reqwest::Client::new()
        .post(format!("{}/payments/callback", url.trim_end_matches('/')))
        .header(SIGNATURE_HEADER, signature)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() {
        anyhow::bail!("the callback was refused ({status}): {text}");
    }
    println!("pay: {text}");
    Ok(())
}

/// Compares every wallet with its ledger; fails (exit 1) listing the wallets that differ.
pub async fn wallet_check(config: &AppConfig) -> anyhow::Result<()> {
    let db = platform::db::Db::connect(&config.db, "vidgraph-cli");
    let wallets = Wallets::new(db, platform::clock::SystemClock::shared(), CallbackSigner::new(config.live.payment_secret.expose_secret()));
    let (checked, differing) = wallets.audit_unchecked(1000).await.map_err(|e| anyhow::anyhow!("{}", platform::error::DisplayChain(&e)))?;
    for d in &differing {
        println!(
            "wallet {}: balance {} but ledger {}; income {} but ledger {}",
            d.user_id, d.balance, d.ledger_balance, d.income, d.ledger_income
        );
    }
    if differing.is_empty() {
        println!("wallet-check: {checked} wallets, all equal to their ledgers");
        Ok(())
    } else {
        anyhow::bail!("{} of {checked} wallets differ from their ledgers", differing.len())
    }
}

/// Channels, gifts, and rooms for the demo streamers (`demo` and the first uploaders).
pub async fn seed(db: &platform::db::Db) -> anyhow::Result<()> {
    let mut conn = db.pool.get().await?;
    let mut streamers = Vec::new();
    for (prefix, count) in [("demo", 1), ("uploader0", 5)] {
        let users = content::store::users::find_by_username_prefix(&mut conn, prefix, count).await?;
        streamers.extend(users.into_iter().map(|user| (user.id, user.username)));
    }
    let report = live::seed::run(&mut conn, &streamers).await?;
    println!("seed: live added {} channels, {} gifts, {} rooms", report.channels, report.gifts, report.rooms);
    Ok(())
}
