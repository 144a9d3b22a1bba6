//! Running Hive Router: stage its directory (config + supergraph + JWKS), start it, wait until
//! it is ready. Used by `vidgraph dev` and by the end-to-end tests.

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// The pinned router version (`router/VERSION`).
pub const VERSION: &str = include_str!("../../../router/VERSION");

/// The router binary: `VIDGRAPH_ROUTER_BIN`, else the per-user cache the scripts install into.
pub fn binary() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("VIDGRAPH_ROUTER_BIN") {
        return Ok(PathBuf::from(path));
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .context("neither XDG_CACHE_HOME nor HOME is set")?;
    let path = cache.join("vidgraph").join(format!("hive-router-{}", VERSION.trim())).join("bin/hive_router");
    anyhow::ensure!(path.is_file(), "Hive Router is not installed at {} (the ./dev and ./test scripts install it)", path.display());
    Ok(path)
}

/// Writes `router.config.yaml` (the repo's), `supergraph.graphql` and `jwks.json` into `dir`.
pub fn stage(dir: &Path, repo_root: &Path, supergraph: &str, jwks: &str) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    let config = dir.join("router.config.yaml");
    std::fs::copy(repo_root.join("router/router.config.yaml"), &config).context("copy router/router.config.yaml")?;
    std::fs::write(dir.join("supergraph.graphql"), supergraph).context("write supergraph")?;
    std::fs::write(dir.join("jwks.json"), jwks).context("write jwks")?;
    Ok(config)
}

/// The supergraph with each subgraph's routing URL replaced (tests run subgraphs on free ports).
pub fn with_routing_urls(supergraph: &str, urls: &[(&str, String)]) -> String {
    let mut out = supergraph.to_owned();
    for (name, url) in urls {
        let marker = format!("@join__graph(name: \"{name}\", url: \"");
        if let Some(start) = out.find(&marker).map(|at| at + marker.len())
            && let Some(len) = out[start..].find('"')
        {
            out.replace_range(start..start + len, url);
        }
    }
    out
}

/// The allocator settings the router runs with (Hive Router 0.2.13 allocates with mimalloc).
/// `MIMALLOC_PURGE_DELAY=0` returns freed pages to the OS at once: with the default, 5,000
/// viewers who left kept their ~70 MB resident for good (RSS 112.9 MB after leaving, against
/// 67.8 MB with 0; `bench/subscriptions.sh`, bench/RESULTS.md). compose.yaml's router service
/// and bench/subscriptions.sh set the same.
pub const ROUTER_ALLOCATOR_ENV: [(&str, &str); 1] = [("MIMALLOC_PURGE_DELAY", "0")];

/// A running router process, killed when dropped.
pub struct RouterProcess {
    child: Child,
    port: u16,
}

impl RouterProcess {
    /// Starts the router on `port` with the staged `config`, logging to `log`.
    pub fn start(binary: &Path, config: &Path, host: &str, port: u16, log: &Path) -> anyhow::Result<RouterProcess> {
        let log_file = std::fs::File::create(log).with_context(|| format!("create {}", log.display()))?;
        let child = Command::new(binary)
            .envs(ROUTER_ALLOCATOR_ENV)
            .env("ROUTER_CONFIG_FILE_PATH", config)
            .env("HOST", host)
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("start {}", binary.display()))?;
        Ok(RouterProcess { child, port })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Waits (bounded) until `/readiness` answers 200, failing early if the process exits.
    pub async fn wait_ready(&mut self, timeout: Duration) -> anyhow::Result<()> {
        wait_http_ok(&format!("http://127.0.0.1:{}/readiness", self.port), timeout, Some(&mut self.child)).await
    }

    /// Stops it.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Polls `url` until it answers 2xx, the timeout passes, or `child` exits.
pub async fn wait_http_ok(url: &str, timeout: Duration, mut child: Option<&mut Child>) -> anyhow::Result<()> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(response) = client.get(url).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        if let Some(child) = child.as_deref_mut()
            && let Some(status) = child.try_wait()?
        {
            anyhow::bail!("process exited with {status} before {url} was ready");
        }
        anyhow::ensure!(Instant::now() < deadline, "{url} not ready after {timeout:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_urls_are_replaced_per_subgraph() {
        let sdl = r#"enum join__Graph {
  CONTENT @join__graph(name: "content", url: "http://localhost:4001/graphql")
  LIVE @join__graph(name: "live", url: "http://localhost:4004/graphql")
}"#;
        let out = with_routing_urls(sdl, &[("live", "http://127.0.0.1:55555/graphql".into())]);
        assert!(out.contains(r#"name: "live", url: "http://127.0.0.1:55555/graphql""#));
        assert!(out.contains(r#"name: "content", url: "http://localhost:4001/graphql""#));
    }
}
