//! The HTTP server every subgraph runs: GraphQL over HTTP and WebSocket, GraphiQL, health,
//! metrics, graceful shutdown.

mod graphql;
mod health;
mod websocket;
mod ws_session;

use crate::deps::{Deps, InitError};
use crate::telemetry;
use async_graphql::Executor;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::net::TcpListener;

/// What the request handlers share.
#[derive(Clone)]
pub(crate) struct ServerState<E> {
    pub(crate) subgraph: &'static str,
    pub(crate) executor: E,
    pub(crate) deps: Deps,
    /// Whether the subgraph still serves its traffic with Redis down (see
    /// [`Application::serves_without_redis`]); read by `/health/ready`.
    pub(crate) redis_optional: Arc<AtomicBool>,
}

/// A subgraph bound to its port, ready to serve (z2p's `Application`).
pub struct Application {
    listener: TcpListener,
    router: Router,
    port: u16,
    background: Vec<tokio::task::JoinHandle<()>>,
    redis_optional: Arc<AtomicBool>,
}

impl Application {
    /// Binds the listener (`http.port`, else `default_port`; 0 picks a free one) and builds the routes.
    pub async fn build<E: Executor>(subgraph: &'static str, default_port: u16, deps: Deps, executor: E) -> Result<Application, InitError> {
        // Installed before the first request so no early sample is lost.
        telemetry::metrics_handle();
        let http = &deps.config.http;
        let addr = format!("{}:{}", http.host, http.port.unwrap_or(default_port));
        let listener = TcpListener::bind(&addr).await.map_err(|source| InitError::Bind { addr: addr.clone(), source })?;
        let port = listener.local_addr().map_err(|source| InitError::Bind { addr, source })?.port();
        let redis_optional = Arc::new(AtomicBool::new(false));
        let router = build_router(ServerState { subgraph, executor, deps, redis_optional: redis_optional.clone() });
        let mut application = Application { listener, router, port, background: Vec::new(), redis_optional };
        application.spawn_background(telemetry::run_upkeep());
        application.spawn_background(crate::memory::run_trim());
        Ok(application)
    }

    /// Declares that every path of this subgraph degrades without Redis (caches fall back to
    /// Postgres, rate limits count in-process), so `/health/ready` keeps it in rotation while
    /// Redis is down and reports Redis as `degraded`. Without it, Redis is required.
    pub fn serves_without_redis(self) -> Application {
        self.redis_optional.store(true, Ordering::Relaxed);
        self
    }

    /// Adds a subgraph's own HTTP routes (uploads…) beside the standard ones.
    pub fn merge_routes(mut self, routes: Router) -> Application {
        self.router = self.router.merge(routes);
        self
    }

    /// Runs `task` (a relay, a consumer, a sweeper) while the server runs; it is aborted when
    /// the server stops.
    pub fn spawn_background(&mut self, task: impl Future<Output = ()> + Send + 'static) {
        self.background.push(tokio::spawn(task));
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT/SIGTERM, then finishes in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes (tests use a oneshot), then drains.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let served = axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await;
        for task in &self.background {
            task.abort();
        }
        served
    }
}

/// The routes of a subgraph.
fn build_router<E: Executor>(state: ServerState<E>) -> Router {
    let body_limit = state.deps.config.http.body_limit_bytes;
    Router::new()
        .route("/graphql", get(graphql::get_graphql::<E>).post(graphql::post_graphql::<E>))
        .route("/ws", get(websocket::upgrade::<E>))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready::<E>))
        .route("/metrics", get(telemetry::render_metrics))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received, draining");
}
