//! The five subgraphs, by name: their ports, SDL and servers.

use platform::{Application, Deps, InitError};

/// One of the subgraphs composed into the supergraph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Subgraph {
    /// Accounts, auth, profiles, videos.
    Content,
    /// Hot rankings and week-star boards.
    Ranking,
    /// Zones, posts, follows, moderation.
    Community,
    /// Rooms, danmaku, gifts, PK, medals.
    Live,
    /// Downloads and files.
    Assets,
}

impl Subgraph {
    /// All of them, in `supergraph.yaml` order.
    pub const ALL: [Subgraph; 5] = [Subgraph::Content, Subgraph::Ranking, Subgraph::Community, Subgraph::Live, Subgraph::Assets];

    /// The name in `supergraph.yaml`, the schema file and logs.
    pub fn name(self) -> &'static str {
        match self {
            Subgraph::Content => content::NAME,
            Subgraph::Ranking => ranking::NAME,
            Subgraph::Community => community::NAME,
            Subgraph::Live => live::NAME,
            Subgraph::Assets => assets::NAME,
        }
    }

    /// The well-known local port (matches `supergraph.yaml`).
    pub fn default_port(self) -> u16 {
        match self {
            Subgraph::Content => content::DEFAULT_PORT,
            Subgraph::Ranking => ranking::DEFAULT_PORT,
            Subgraph::Community => community::DEFAULT_PORT,
            Subgraph::Live => live::DEFAULT_PORT,
            Subgraph::Assets => assets::DEFAULT_PORT,
        }
    }

    /// Its federation SDL.
    pub fn sdl(self) -> String {
        match self {
            Subgraph::Content => content::sdl(),
            Subgraph::Ranking => ranking::sdl(),
            Subgraph::Community => community::sdl(),
            Subgraph::Live => live::sdl(),
            Subgraph::Assets => assets::sdl(),
        }
    }

    /// Connects its backends and binds its listener.
    pub async fn build(self, deps: Deps) -> Result<Application, InitError> {
        match self {
            Subgraph::Content => content::build(deps).await,
            Subgraph::Ranking => ranking::build(deps).await,
            Subgraph::Community => community::build(deps).await,
            Subgraph::Live => live::build(deps).await,
            Subgraph::Assets => assets::build(deps).await,
        }
    }
}
