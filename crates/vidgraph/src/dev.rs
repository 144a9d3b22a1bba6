//! `vidgraph dev`: the whole platform on one machine, stopped with Ctrl-C.

use crate::{db_admin, paths, router, subgraphs::Subgraph};
use anyhow::Context;
use platform::auth::KeyPair;
use platform::config::AppConfig;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// Port of the router (the one URL clients use).
const ROUTER_PORT: u16 = 4000;

/// Keys → migrate → seed → five subgraphs → router → URLs → wait for Ctrl-C.
pub async fn run(config: AppConfig) -> anyhow::Result<()> {
    let started = Instant::now();
    let root = paths::repo_root();
    let runtime_dir = root.join(".vidgraph");
    let logs = runtime_dir.join("logs");
    std::fs::create_dir_all(&logs)?;

    let keys = KeyPair::load_or_create(&config.auth.key_dir).context("signing keys")?;
    db_admin::migrate(&config).await?;
    db_admin::seed(&config, content::seed::SeedSize::default()).await?;

    let exe = std::env::current_exe()?;
    let mut children: Vec<(String, Child)> = Vec::new();
    for subgraph in Subgraph::ALL {
        let log = std::fs::File::create(logs.join(format!("{}.log", subgraph.name())))?;
        let child = Command::new(&exe)
            .args(["serve", subgraph.name()])
            .env("VIDGRAPH_HTTP__PORT", subgraph.default_port().to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("start {}", subgraph.name()))?;
        children.push((subgraph.name().to_owned(), child));
    }
    for (subgraph, (name, child)) in Subgraph::ALL.iter().zip(children.iter_mut()) {
        let url = format!("http://127.0.0.1:{}/health/ready", subgraph.default_port());
        router::wait_http_ok(&url, Duration::from_secs(60), Some(child))
            .await
            .with_context(|| format!("{name} did not become ready; see .vidgraph/logs/{name}.log"))?;
    }

    let supergraph = std::fs::read_to_string(paths::supergraph(&root)).context("read schema/supergraph.graphql")?;
    let router_config = router::stage(&runtime_dir.join("router"), &root, &supergraph, &keys.jwks().to_json())?;
    let mut router = router::RouterProcess::start(&router::binary()?, &router_config, "127.0.0.1", ROUTER_PORT, &logs.join("router.log"))?;
    router.wait_ready(Duration::from_secs(60)).await.context("router did not become ready; see .vidgraph/logs/router.log")?;

    println!();
    println!("vidgraph is up in {:.1}s", started.elapsed().as_secs_f64());
    println!("  GraphQL (router):   http://127.0.0.1:{ROUTER_PORT}/graphql   (GraphiQL in a browser)");
    println!("  Subscriptions:      ws://127.0.0.1:{ROUTER_PORT}/graphql  or SSE with Accept: text/event-stream");
    for subgraph in Subgraph::ALL {
        println!("  {:<19} http://127.0.0.1:{}/graphql", format!("{}:", subgraph.name()), subgraph.default_port());
    }
    println!("  Metrics / health:   http://127.0.0.1:4001/metrics  /health/ready  (each subgraph)");
    println!("  Logs:               {}", logs.display());
    println!("  Demo sign-in:       demo / demo-pass-1   (admin: admin / admin-pass-1)");
    println!("Press Ctrl-C to stop.");

    let exited = async {
        loop {
            for (name, child) in &mut children {
                if let Ok(Some(status)) = child.try_wait() {
                    return format!("{name} exited with {status}");
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    };
    tokio::select! {
        () = platform::server::shutdown_signal() => println!("stopping"),
        reason = exited => eprintln!("{reason}; stopping"),
    }
    router.stop().await;
    for (_, mut child) in children {
        let _ = child.kill().await;
    }
    Ok(())
}
