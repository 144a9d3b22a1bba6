use serde::Deserialize;
use std::path::PathBuf;

/// Access-token keys and lifetimes.
///
/// Every subgraph needs the public key (to verify); only `content` needs the private key (to sign).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// `VIDGRAPH_AUTH__KEY_DIR`: directory holding `jwt-ed25519.pk8` (private, PKCS#8 DER) and
    /// `jwks.json` (public); default `.vidgraph/keys`, created by `vidgraph keys`/`vidgraph dev`.
    pub key_dir: PathBuf,
    /// `VIDGRAPH_AUTH__ISSUER`: the `iss` claim, default `vidgraph`.
    pub issuer: String,
    /// `VIDGRAPH_AUTH__AUDIENCE`: the `aud` claim, default `vidgraph`.
    pub audience: String,
    /// `VIDGRAPH_AUTH__ACCESS_TTL_SECS`: access-token lifetime, default 900 (15 minutes).
    pub access_ttl_secs: i64,
    /// `VIDGRAPH_AUTH__REFRESH_TTL_SECS`: refresh-token lifetime, default 30 days.
    pub refresh_ttl_secs: i64,
    /// `VIDGRAPH_AUTH__LOGIN_LIMIT_PER_ACCOUNT`: failed logins per account per window, default 5.
    /// An attempt is counted before its password is checked (and forgotten when it was right),
    /// so parallel guesses cannot all pass the check.
    pub login_limit_per_account: u32,
    /// `VIDGRAPH_AUTH__LOGIN_LIMIT_PER_ADDRESS`: login attempts per client address per window, default 20.
    pub login_limit_per_address: u32,
    /// `VIDGRAPH_AUTH__LOGIN_WINDOW_SECS`: the rate-limit window, default 300.
    pub login_window_secs: u64,
    /// `VIDGRAPH_AUTH__REGISTER_LIMIT_PER_ADDRESS`: registrations per client address per
    /// window, default 10 (each costs an argon2 hash: 19 MiB and a core for a moment).
    pub register_limit_per_address: u32,
    /// `VIDGRAPH_AUTH__REGISTER_WINDOW_SECS`: the registration window, default 3600.
    pub register_window_secs: u64,
    /// `VIDGRAPH_AUTH__REFRESH_PRUNE_GRACE_SECS`: how long a refresh token is kept after it
    /// expired or was revoked before `content`'s housekeeping deletes it, default 7 days.
    pub refresh_prune_grace_secs: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            key_dir: PathBuf::from(".vidgraph/keys"),
            issuer: "vidgraph".into(),
            audience: "vidgraph".into(),
            access_ttl_secs: 900,
            refresh_ttl_secs: 30 * 24 * 3600,
            login_limit_per_account: 5,
            login_limit_per_address: 20,
            login_window_secs: 300,
            register_limit_per_address: 10,
            register_window_secs: 3600,
            refresh_prune_grace_secs: 7 * 24 * 3600,
        }
    }
}
