use secrecy::SecretString;
use serde::Deserialize;
use std::time::Duration;

/// The payment secret when none is configured: for a laptop only (`vidgraph pay` signs with the
/// configured secret too, so development works out of the box).
pub const DEV_PAYMENT_SECRET: &str = "vidgraph-dev-payment-secret";

/// The live subgraph: payments and PK link-mic.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LiveConfig {
    /// `VIDGRAPH_LIVE__PAYMENT_SECRET`: the HMAC-SHA256 key the payment provider signs its
    /// callbacks with; default [`DEV_PAYMENT_SECRET`].
    pub payment_secret: SecretString,
    /// `VIDGRAPH_LIVE__PK_SCORE_SECS`: length of a PK's score phase until an admin sets one
    /// (`setPkPhases`); fixed per PK when it is invited; default 360.
    pub pk_score_secs: i32,
    /// `VIDGRAPH_LIVE__PK_PUNISHMENT_SECS`: length of the punishment phase, likewise; default 120.
    pub pk_punishment_secs: i32,
    /// `VIDGRAPH_LIVE__PK_INVITE_SECS`: how long an invite waits for an answer; default 15.
    pub pk_invite_secs: i32,
    /// `VIDGRAPH_LIVE__TIMER_POLL_MS`: the longest the PK timer poller sleeps without looking (it
    /// sleeps until the nearest deadline and is woken by new timers); default 1000.
    pub timer_poll_ms: u64,
}

impl LiveConfig {
    /// [`LiveConfig::timer_poll_ms`] as a duration.
    pub fn timer_poll_max(&self) -> Duration {
        Duration::from_millis(self.timer_poll_ms.max(1))
    }
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            payment_secret: SecretString::from(DEV_PAYMENT_SECRET),
            pk_score_secs: 360,
            pk_punishment_secs: 120,
            pk_invite_secs: 15,
            timer_poll_ms: 1000,
        }
    }
}
