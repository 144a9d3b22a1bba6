//! The live subgraph's settings: the `live` section of the platform configuration
//! (`VIDGRAPH_LIVE__*`, or `[live]` in the config file).

pub use platform::config::{DEV_PAYMENT_SECRET, LiveConfig};
