//! `vidgraph dev`: the whole platform on one machine, stopped with Ctrl-C.

use crate::{db_admin, paths, router, subgraphs::Subgraph};
use anyhow::Context;
use platform::auth::KeyPair;
use platform::config::AppConfig;
use std::path::Path;
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
    let mut children = Vec::new();
    for subgraph in Subgraph::ALL {
        std::fs::File::create(logs.join(format!("{}.log", subgraph.name())))?;
        let (exe, logs) = (exe.clone(), logs.clone());
        children.push(Supervised::start(subgraph.name(), DEV_RESTARTS, move || spawn_subgraph(subgraph, &exe, &logs))?);
    }
    for (subgraph, child) in Subgraph::ALL.iter().zip(children.iter_mut()) {
        let name = subgraph.name();
        let url = format!("http://127.0.0.1:{}/health/ready", subgraph.default_port());
        router::wait_http_ok(&url, Duration::from_secs(60), Some(&mut child.process))
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

    let supervise = async {
        loop {
            for child in &mut children {
                child.restart_if_exited();
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    };
    tokio::select! {
        () = platform::server::shutdown_signal() => println!("stopping"),
        () = supervise => {}
    }
    router.stop().await;
    for mut child in children {
        let _ = child.process.kill().await;
    }
    Ok(())
}

/// When `vidgraph dev` restarts a process that exited: after `first_delay`, doubled after each
/// crash that follows a short run, up to `max_delay`, so a subgraph that dies at start-up does
/// not spin; a run of at least `healthy_run` resets the delay.
#[derive(Debug, Clone, Copy)]
struct RestartPolicy {
    first_delay: Duration,
    max_delay: Duration,
    healthy_run: Duration,
}

const DEV_RESTARTS: RestartPolicy =
    RestartPolicy { first_delay: Duration::from_secs(1), max_delay: Duration::from_secs(30), healthy_run: Duration::from_secs(60) };

/// A process that `vidgraph dev` restarts when it exits, so one crash (or a `kill -9` in a
/// fault drill) takes down that subgraph only, for as long as it needs to come back, while the
/// router and the others keep serving.
struct Supervised<S> {
    name: String,
    spawn: S,
    policy: RestartPolicy,
    process: Child,
    started: Instant,
    /// Set while waiting to restart: when to start it again.
    restart_at: Option<Instant>,
    delay: Duration,
}

impl<S: FnMut() -> anyhow::Result<Child>> Supervised<S> {
    fn start(name: &str, policy: RestartPolicy, mut spawn: S) -> anyhow::Result<Supervised<S>> {
        let process = spawn()?;
        Ok(Supervised {
            name: name.to_owned(),
            spawn,
            policy,
            process,
            started: Instant::now(),
            restart_at: None,
            delay: policy.first_delay,
        })
    }

    /// Notices an exit and schedules a restart with backoff; restarts once the delay is over.
    /// Returns whether it started the process again.
    fn restart_if_exited(&mut self) -> bool {
        let name = &self.name;
        match self.restart_at {
            None => {
                let Ok(Some(status)) = self.process.try_wait() else { return false };
                if self.started.elapsed() >= self.policy.healthy_run {
                    self.delay = self.policy.first_delay;
                }
                eprintln!("{name} exited with {status}; restarting in {:.1}s (log: .vidgraph/logs/{name}.log)", self.delay.as_secs_f64());
                self.schedule_restart();
                false
            }
            Some(at) if Instant::now() >= at => match (self.spawn)() {
                Ok(process) => {
                    eprintln!("{name} restarted");
                    self.process = process;
                    self.started = Instant::now();
                    self.restart_at = None;
                    true
                }
                Err(error) => {
                    eprintln!("{name} could not be restarted: {error:#}; trying again in {:.1}s", self.delay.as_secs_f64());
                    self.schedule_restart();
                    false
                }
            },
            Some(_) => false,
        }
    }

    fn schedule_restart(&mut self) {
        self.restart_at = Some(Instant::now() + self.delay);
        self.delay = (self.delay * 2).min(self.policy.max_delay);
    }
}

/// `vidgraph serve <name>` on its well-known port, appending to its log.
fn spawn_subgraph(subgraph: Subgraph, exe: &Path, logs: &Path) -> anyhow::Result<Child> {
    let log = std::fs::OpenOptions::new().append(true).create(true).open(logs.join(format!("{}.log", subgraph.name())))?;
    Command::new(exe)
        .args(["serve", subgraph.name()])
        .env("VIDGRAPH_HTTP__PORT", subgraph.default_port().to_string())
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("start {}", subgraph.name()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counting_crasher(file: &Path) -> impl FnMut() -> anyhow::Result<Child> + use<> {
        let file = file.to_path_buf();
        move || Ok(Command::new("sh").arg("-c").arg(format!("echo run >> '{}'; exit 3", file.display())).kill_on_drop(true).spawn()?)
    }

    fn runs(file: &Path) -> usize {
        std::fs::read_to_string(file).map(|text| text.lines().count()).unwrap_or(0)
    }

    #[tokio::test]
    async fn a_process_that_exits_is_started_again_with_growing_delays() {
        let file = std::env::temp_dir().join(format!("vidgraph-supervise-{}", uuid::Uuid::new_v4().simple()));
        let policy = RestartPolicy {
            first_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(80),
            healthy_run: Duration::from_secs(60),
        };
        let mut child = Supervised::start("crasher", policy, counting_crasher(&file)).expect("start");
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut restarts = 0;
        while restarts < 4 {
            assert!(Instant::now() < deadline, "only {restarts} restarts");
            if child.restart_if_exited() {
                restarts += 1;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // The first start plus four restarts each ran the command once.
        let _ = child.process.wait().await;
        assert_eq!(runs(&file), 5);
        // Backoff doubled from 20 ms and stopped at the cap.
        assert_eq!(child.delay, Duration::from_millis(80));
        let _ = std::fs::remove_file(&file);
    }
}
