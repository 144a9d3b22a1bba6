//! Configuration: one optional TOML file plus `VIDGRAPH_*` environment overrides.
//!
//! Every section has defaults that work on one machine, so an empty environment runs.
//! Nested keys use `__` in the environment: `VIDGRAPH_DB__URL` sets `db.url`.

mod assets;
mod auth;
mod calendar;
mod db;
mod http;
mod limits;
mod live;
mod nats;
mod ranking;
mod redis;
mod storage;
mod telemetry;

pub use self::assets::AssetsConfig;
pub use self::auth::AuthConfig;
pub use self::calendar::CalendarConfig;
pub use self::db::DbConfig;
pub use self::http::HttpConfig;
pub use self::limits::LimitsConfig;
pub use self::live::{DEV_PAYMENT_SECRET, LiveConfig};
pub use self::nats::NatsConfig;
pub use self::ranking::RankingConfig;
pub use self::redis::RedisConfig;
pub use self::storage::StorageConfig;
pub use self::telemetry::{LogFormat, TelemetryConfig};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;
use std::path::PathBuf;

/// Environment variable naming the config file; without it only defaults and env apply.
pub const CONFIG_FILE_ENV: &str = "VIDGRAPH_CONFIG";

/// The whole configuration of one vidgraph process.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AppConfig {
    /// PostgreSQL (`VIDGRAPH_DB__*`).
    pub db: DbConfig,
    /// Redis (`VIDGRAPH_REDIS__*`).
    pub redis: RedisConfig,
    /// NATS and JetStream (`VIDGRAPH_NATS__*`).
    pub nats: NatsConfig,
    /// HTTP listener of a subgraph (`VIDGRAPH_HTTP__*`).
    pub http: HttpConfig,
    /// Token keys and lifetimes (`VIDGRAPH_AUTH__*`).
    pub auth: AuthConfig,
    /// Query depth and complexity limits (`VIDGRAPH_LIMITS__*`).
    pub limits: LimitsConfig,
    /// Logging (`VIDGRAPH_TELEMETRY__*`).
    pub telemetry: TelemetryConfig,
    /// Time zone of weeks and days (`VIDGRAPH_CALENDAR__*`).
    pub calendar: CalendarConfig,
    /// Upload storage (`VIDGRAPH_STORAGE__*`).
    pub storage: StorageConfig,
    /// The ranking subgraph's jobs (`VIDGRAPH_RANKING__*`).
    pub ranking: RankingConfig,
    /// The assets subgraph: downloads, quotas, files (`VIDGRAPH_ASSETS__*`).
    pub assets: AssetsConfig,
    /// The live subgraph's payments and PK link-mic (`VIDGRAPH_LIVE__*`).
    pub live: LiveConfig,
}

/// The configuration could not be read or does not parse.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(#[from] Box<figment::Error>);

impl AppConfig {
    /// Loads defaults, then the file named by `VIDGRAPH_CONFIG` (if set), then the environment.
    pub fn load() -> Result<Self, ConfigError> {
        let file = std::env::var_os(CONFIG_FILE_ENV).map(PathBuf::from);
        Self::load_from(file)
    }

    /// Like [`AppConfig::load`] with an explicit file.
    pub fn load_from(file: Option<PathBuf>) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        figment
            // Only `SECTION__KEY` variables are configuration; others of the prefix
            // (`VIDGRAPH_CONFIG`, `VIDGRAPH_ROUTER_BIN`, `VIDGRAPH_ADMIN_PASSWORD`…) belong to tools.
            .merge(Env::prefixed("VIDGRAPH_").filter(|key| key.as_str().contains("__")).split("__"))
            .extract()
            .map_err(|e| ConfigError(Box::new(e)))
    }
}

#[cfg(test)]
#[expect(clippy::result_large_err, reason = "figment::Jail's closures return figment::Error, whatever its size")]
mod tests {
    use super::*;

    #[test]
    fn sectioned_variables_configure_and_tool_variables_are_left_alone() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("VIDGRAPH_DB__POOL_SIZE", "3");
            jail.set_env("VIDGRAPH_ROUTER_BIN", "/opt/router");
            let config = AppConfig::load_from(None).expect("loads");
            assert_eq!(config.db.pool_size, 3);
            jail.set_env("VIDGRAPH_DB__POOL_SIZ", "3");
            assert!(AppConfig::load_from(None).is_err(), "a misspelt key is refused");
            Ok(())
        });
    }

    #[test]
    fn live_settings_come_from_its_section_and_default_to_a_development_secret() {
        use secrecy::ExposeSecret;
        figment::Jail::expect_with(|jail| {
            let defaults = AppConfig::load_from(None).expect("loads").live;
            assert_eq!(defaults.payment_secret.expose_secret(), DEV_PAYMENT_SECRET);
            assert_eq!((defaults.pk_score_secs, defaults.pk_punishment_secs, defaults.pk_invite_secs), (360, 120, 15));
            jail.set_env("VIDGRAPH_LIVE__PAYMENT_SECRET", "s3cret");
            jail.set_env("VIDGRAPH_LIVE__PK_SCORE_SECS", "30");
            let live = AppConfig::load_from(None).expect("loads").live;
            assert_eq!(live.payment_secret.expose_secret(), "s3cret");
            assert_eq!(live.pk_score_secs, 30);
            Ok(())
        });
    }

    #[test]
    fn the_calendar_time_zone_is_an_iana_name_and_defaults_to_utc() {
        figment::Jail::expect_with(|jail| {
            assert_eq!(AppConfig::load_from(None).expect("loads").calendar.time_zone, chrono_tz::Tz::UTC);
            jail.set_env("VIDGRAPH_CALENDAR__TIME_ZONE", "Asia/Shanghai");
            assert_eq!(AppConfig::load_from(None).expect("loads").calendar.time_zone, chrono_tz::Asia::Shanghai);
            jail.set_env("VIDGRAPH_CALENDAR__TIME_ZONE", "Mars/Olympus_Mons");
            assert!(AppConfig::load_from(None).is_err(), "an unknown zone is refused");
            Ok(())
        });
    }

    #[test]
    fn storage_lists_and_optional_urls_come_from_the_environment() {
        figment::Jail::expect_with(|jail| {
            let config = AppConfig::load_from(None).expect("loads");
            assert_eq!(config.storage.allowed_content_types.len(), 4);
            assert_eq!(config.storage.public_url, None);
            jail.set_env("VIDGRAPH_STORAGE__ALLOWED_CONTENT_TYPES", "[video/mp4, video/webm]");
            jail.set_env("VIDGRAPH_STORAGE__PUBLIC_URL", "https://upload.example.com");
            jail.set_env("VIDGRAPH_STORAGE__MAX_UPLOAD_BYTES", "1048576");
            let config = AppConfig::load_from(None).expect("loads");
            assert_eq!(config.storage.allowed_content_types, ["video/mp4", "video/webm"]);
            assert_eq!(config.storage.public_url.as_deref(), Some("https://upload.example.com"));
            assert_eq!(config.storage.max_upload_bytes, 1_048_576);
            Ok(())
        });
    }

    #[test]
    fn trusted_proxies_default_to_loopback_and_come_from_the_environment() {
        figment::Jail::expect_with(|jail| {
            let loopback: std::net::IpAddr = "127.0.0.1".parse().expect("ip");
            let compose: std::net::IpAddr = "172.30.0.9".parse().expect("ip");
            let config = AppConfig::load_from(None).expect("loads");
            assert!(config.http.trusted_proxies.contains(loopback));
            assert!(!config.http.trusted_proxies.contains(compose));
            jail.set_env("VIDGRAPH_HTTP__TRUSTED_PROXIES", r#"[172.30.0.0/24, "::1"]"#);
            let config = AppConfig::load_from(None).expect("loads");
            assert!(config.http.trusted_proxies.contains(compose));
            assert!(config.http.trusted_proxies.contains("::1".parse().expect("ip")));
            assert!(!config.http.trusted_proxies.contains(loopback), "the list replaces the default");
            // compose.yaml's form: bare addresses.
            jail.set_env("VIDGRAPH_HTTP__TRUSTED_PROXIES", "[172.30.0.10, 172.30.0.11]");
            let config = AppConfig::load_from(None).expect("loads");
            assert!(config.http.trusted_proxies.contains("172.30.0.11".parse().expect("ip")));
            assert!(!config.http.trusted_proxies.contains(compose));
            jail.set_env("VIDGRAPH_HTTP__TRUSTED_PROXIES", "[not-an-address]");
            assert!(AppConfig::load_from(None).is_err(), "a bad entry is refused at start-up");
            Ok(())
        });
    }
}
