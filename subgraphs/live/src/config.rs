//! The live subgraph's own settings.
//!
//! `platform::config::AppConfig` has no `live` section yet (and refuses unknown `VIDGRAPH_*__*`
//! keys), so these are read from single-underscore variables, which `AppConfig` leaves alone.
//! Every default works on one machine.

use std::time::Duration;

/// Settings of `live`.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// `VIDGRAPH_LIVE_PAYMENT_SECRET`: the HMAC-SHA256 key the payment provider signs its
    /// callbacks with; default a development secret (`vidgraph pay` signs with the same).
    pub payment_secret: String,
    /// `VIDGRAPH_LIVE_PK_SCORE_SECS`: length of a PK's score phase, read when a PK starts;
    /// default 360.
    pub pk_score_secs: i32,
    /// `VIDGRAPH_LIVE_PK_PUNISHMENT_SECS`: length of the punishment phase; default 120.
    pub pk_punishment_secs: i32,
    /// `VIDGRAPH_LIVE_PK_INVITE_SECS`: how long an invite waits for an answer; default 15.
    pub pk_invite_secs: i32,
    /// `VIDGRAPH_LIVE_TIMER_POLL_MS`: the longest the PK timer poller sleeps without looking
    /// (it sleeps until the nearest deadline and is woken by new timers); default 1000.
    pub timer_poll_max: Duration,
}

/// The development payment secret (never use it outside a laptop).
pub const DEV_PAYMENT_SECRET: &str = "vidgraph-dev-payment-secret";

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            payment_secret: DEV_PAYMENT_SECRET.to_owned(),
            pk_score_secs: 360,
            pk_punishment_secs: 120,
            pk_invite_secs: 15,
            timer_poll_max: Duration::from_millis(1000),
        }
    }
}

impl LiveConfig {
    /// The defaults, overridden by the `VIDGRAPH_LIVE_*` variables that are set and parse.
    pub fn from_env() -> LiveConfig {
        let mut config = LiveConfig::default();
        if let Ok(secret) = std::env::var("VIDGRAPH_LIVE_PAYMENT_SECRET")
            && !secret.is_empty()
        {
            config.payment_secret = secret;
        }
        let number = |name: &str| std::env::var(name).ok().and_then(|value| value.parse::<i32>().ok()).filter(|n| *n > 0);
        if let Some(secs) = number("VIDGRAPH_LIVE_PK_SCORE_SECS") {
            config.pk_score_secs = secs;
        }
        if let Some(secs) = number("VIDGRAPH_LIVE_PK_PUNISHMENT_SECS") {
            config.pk_punishment_secs = secs;
        }
        if let Some(secs) = number("VIDGRAPH_LIVE_PK_INVITE_SECS") {
            config.pk_invite_secs = secs;
        }
        if let Some(ms) = number("VIDGRAPH_LIVE_TIMER_POLL_MS") {
            config.timer_poll_max = Duration::from_millis(u64::try_from(ms).unwrap_or(1000));
        }
        config
    }
}
