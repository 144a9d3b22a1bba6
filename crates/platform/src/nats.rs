//! The NATS client and JetStream context, with a subject prefix that isolates tests.

use crate::config::NatsConfig;
use crate::realtime::Hub;

/// A connected NATS client.
#[derive(Clone)]
pub struct Nats {
    /// Core NATS, for real-time fan-out to every replica.
    pub client: async_nats::Client,
    /// JetStream, for work that must not be lost.
    pub jetstream: async_nats::jetstream::Context,
    prefix: String,
    realtime: Hub,
}

impl Nats {
    /// Connects (retrying in the background if the server goes away later).
    pub async fn connect(config: &NatsConfig) -> anyhow::Result<Nats> {
        let client = async_nats::ConnectOptions::new()
            .retry_on_initial_connect()
            .connection_timeout(std::time::Duration::from_secs(3))
            .connect(config.url.as_str())
            .await?;
        let jetstream = async_nats::jetstream::new(client.clone());
        let realtime = Hub::new(client.clone(), config.realtime_queue);
        Ok(Nats { client, jetstream, prefix: config.subject_prefix.clone(), realtime })
    }

    /// The full subject for `name` under this deployment's prefix.
    pub fn subject(&self, name: &str) -> String {
        format!("{}.{name}", self.prefix)
    }

    /// The process's real-time fan-out: every local subscription to a core subject goes through
    /// it, so a subject costs one NATS subscription however many GraphQL subscriptions share it.
    pub fn realtime(&self) -> &Hub {
        &self.realtime
    }

    /// This deployment's prefix (stream names start with it).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Readiness probe: the connection is up.
    pub fn ping(&self) -> anyhow::Result<()> {
        match self.client.connection_state() {
            async_nats::connection::State::Connected => Ok(()),
            state => anyhow::bail!("nats is {state:?}"),
        }
    }
}
