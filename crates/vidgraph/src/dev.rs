//! `vidgraph dev`: the whole platform on one machine, stopped with Ctrl-C.
//!
//! By default on the well-known ports (router :4000, subgraphs :4001-4005, web app :4010) with
//! the default database. `--port-base` and `--instance` run a second, separate platform beside
//! it (the browser tests do): other ports, and its own database, Redis key prefix, NATS subject
//! prefix, files and logs, so the two never see each other's data or events.

use crate::{db_admin, paths, router, subgraphs::Subgraph, web};
use anyhow::Context;
use platform::auth::KeyPair;
use platform::config::AppConfig;
use secrecy::{ExposeSecret, SecretString};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// The router's port when no `--port-base` is given; subgraph `n` listens on base + n.
const DEFAULT_PORT_BASE: u16 = 4000;
/// The web app's port, relative to the port base (:4010 by default).
const WEB_PORT_OFFSET: u16 = 10;

/// Where `vidgraph dev` runs.
#[derive(Debug, Clone, clap::Args)]
pub struct DevOptions {
    /// The router's port; the subgraphs take the next five (content +1 … assets +5) and the web
    /// app +10.
    #[arg(long, default_value_t = DEFAULT_PORT_BASE)]
    pub port_base: u16,
    /// Run a separate platform named NAME (lowercase letters, digits, `_`; up to 32): database
    /// `vidgraph_NAME`, Redis keys `vg:NAME:`, NATS subjects and streams `vg_NAME`, files and
    /// logs under `.vidgraph/instances/NAME/`.
    #[arg(long, value_name = "NAME", value_parser = parse_instance)]
    pub instance: Option<String>,
}

fn parse_instance(name: &str) -> Result<String, String> {
    let valid = !name.is_empty() && name.len() <= 32 && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if valid { Ok(name.to_owned()) } else { Err("an instance name is 1 to 32 lowercase letters, digits or `_`".into()) }
}

/// What one platform run is made of: its ports, its runtime directory and the configuration
/// overrides every process of it gets (as `VIDGRAPH_*` variables, so the subgraph processes,
/// which read the environment, agree with this one).
struct Layout {
    port_base: u16,
    runtime_dir: PathBuf,
    overrides: Vec<(&'static str, String)>,
}

impl Layout {
    fn new(options: &DevOptions, root: &Path, config: &mut AppConfig) -> anyhow::Result<Layout> {
        anyhow::ensure!(options.port_base <= u16::MAX - WEB_PORT_OFFSET, "--port-base must leave room for +{WEB_PORT_OFFSET}");
        let Some(instance) = &options.instance else {
            return Ok(Layout { port_base: options.port_base, runtime_dir: root.join(".vidgraph"), overrides: Vec::new() });
        };
        let runtime_dir = root.join(".vidgraph").join("instances").join(instance);
        let mut db_url = reqwest::Url::parse(config.db.url.expose_secret()).context("VIDGRAPH_DB__URL is not a URL")?;
        db_url.set_path(&format!("/vidgraph_{instance}"));
        config.db.url = SecretString::from(db_url.to_string());
        config.redis.key_prefix = format!("{}{instance}:", config.redis.key_prefix);
        config.nats.subject_prefix = format!("{}_{instance}", config.nats.subject_prefix);
        config.storage.root = runtime_dir.join("storage");
        config.assets.root = runtime_dir.join("assets");
        let overrides = vec![
            ("VIDGRAPH_DB__URL", config.db.url.expose_secret().to_owned()),
            ("VIDGRAPH_REDIS__KEY_PREFIX", config.redis.key_prefix.clone()),
            ("VIDGRAPH_NATS__SUBJECT_PREFIX", config.nats.subject_prefix.clone()),
            ("VIDGRAPH_STORAGE__ROOT", config.storage.root.display().to_string()),
            ("VIDGRAPH_ASSETS__ROOT", config.assets.root.display().to_string()),
        ];
        Ok(Layout { port_base: options.port_base, runtime_dir, overrides })
    }

    fn subgraph_port(&self, subgraph: Subgraph) -> u16 {
        self.port_base + (subgraph.default_port() - DEFAULT_PORT_BASE)
    }

    fn web_port(&self) -> u16 {
        self.port_base + WEB_PORT_OFFSET
    }
}

/// Keys → migrate → seed → five subgraphs → router → web app → URLs → wait for Ctrl-C.
pub async fn run(mut config: AppConfig, options: DevOptions) -> anyhow::Result<()> {
    let started = Instant::now();
    let root = paths::repo_root();
    let layout = Layout::new(&options, &root, &mut config)?;
    let logs = layout.runtime_dir.join("logs");
    std::fs::create_dir_all(&logs)?;

    let keys = KeyPair::load_or_create(&config.auth.key_dir).context("signing keys")?;
    db_admin::migrate(&config).await?;
    db_admin::seed(&config, content::seed::SeedSize::default()).await?;

    let exe = std::env::current_exe()?;
    let mut children = Vec::new();
    for subgraph in Subgraph::ALL {
        std::fs::File::create(logs.join(format!("{}.log", subgraph.name())))?;
        let (exe, logs) = (exe.clone(), logs.clone());
        let mut env = layout.overrides.clone();
        env.push(("VIDGRAPH_HTTP__PORT", layout.subgraph_port(subgraph).to_string()));
        children.push(Supervised::start(subgraph.name(), DEV_RESTARTS, move || spawn_subgraph(subgraph, &exe, &logs, &env))?);
    }
    for (subgraph, child) in Subgraph::ALL.iter().zip(children.iter_mut()) {
        let name = subgraph.name();
        let url = format!("http://127.0.0.1:{}/health/ready", layout.subgraph_port(*subgraph));
        router::wait_http_ok(&url, Duration::from_secs(60), Some(&mut child.process))
            .await
            .with_context(|| format!("{name} did not become ready; see {}", logs.join(format!("{name}.log")).display()))?;
    }

    let supergraph = std::fs::read_to_string(paths::supergraph(&root)).context("read schema/supergraph.graphql")?;
    let routing: Vec<(&str, String)> =
        Subgraph::ALL.iter().map(|s| (s.name(), format!("http://127.0.0.1:{}/graphql", layout.subgraph_port(*s)))).collect();
    let supergraph = router::with_routing_urls(&supergraph, &routing);
    let router_config = router::stage(&layout.runtime_dir.join("router"), &root, &supergraph, &keys.jwks().to_json())?;
    let router_port = layout.port_base;
    let mut router = router::RouterProcess::start(&router::binary()?, &router_config, "127.0.0.1", router_port, &logs.join("router.log"))?;
    router
        .wait_ready(Duration::from_secs(60))
        .await
        .with_context(|| format!("router did not become ready; see {}", logs.join("router.log").display()))?;

    let dist = root.join("web").join("dist");
    let (web_port, web_server) =
        web::serve(dist.clone(), &web::WebConfig::local_router(router_port), "127.0.0.1", layout.web_port()).await?;

    println!();
    println!("vidgraph is up in {:.1}s", started.elapsed().as_secs_f64());
    println!("  Web app:            http://127.0.0.1:{web_port}/   (admin console and GraphiQL at /admin)");
    if !web::is_built(&dist) {
        println!("                      not built yet: run ./dev, or `npm ci && npm run build` in web/");
    }
    println!("  GraphQL (router):   http://127.0.0.1:{router_port}/graphql   (GraphiQL in a browser)");
    println!("  Subscriptions:      ws://127.0.0.1:{router_port}/graphql  or SSE with Accept: text/event-stream");
    for subgraph in Subgraph::ALL {
        println!("  {:<19} http://127.0.0.1:{}/graphql", format!("{}:", subgraph.name()), layout.subgraph_port(subgraph));
    }
    println!("  Metrics / health:   http://127.0.0.1:{}/metrics  /health/ready  (each subgraph)", layout.subgraph_port(Subgraph::Content));
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
    web_server.abort();
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

/// `vidgraph serve <name>` with the layout's variables (its port among them), appending to its log.
fn spawn_subgraph(subgraph: Subgraph, exe: &Path, logs: &Path, env: &[(&'static str, String)]) -> anyhow::Result<Child> {
    let log = std::fs::OpenOptions::new().append(true).create(true).open(logs.join(format!("{}.log", subgraph.name())))?;
    Command::new(exe)
        .args(["serve", subgraph.name()])
        .envs(env.iter().map(|(key, value)| (*key, value.as_str())))
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

    #[test]
    fn an_instance_gets_its_own_ports_database_prefixes_and_files() {
        let root = Path::new("/repo");
        let mut default = AppConfig::default();
        let plain = Layout::new(&DevOptions { port_base: DEFAULT_PORT_BASE, instance: None }, root, &mut default).expect("layout");
        assert!(plain.overrides.is_empty());
        assert_eq!((plain.subgraph_port(Subgraph::Content), plain.subgraph_port(Subgraph::Assets), plain.web_port()), (4001, 4005, 4010));

        let mut config = AppConfig::default();
        let options = DevOptions { port_base: 24000, instance: Some("web_1".into()) };
        let layout = Layout::new(&options, root, &mut config).expect("layout");
        assert_eq!(
            (layout.subgraph_port(Subgraph::Content), layout.subgraph_port(Subgraph::Assets), layout.web_port()),
            (24001, 24005, 24010)
        );
        assert_eq!(config.db.url.expose_secret(), "postgres://postgres@127.0.0.1:5432/vidgraph_web_1");
        assert_ne!(config.redis.key_prefix, default.redis.key_prefix);
        assert_ne!(config.nats.subject_prefix, default.nats.subject_prefix);
        assert_eq!(config.storage.root, root.join(".vidgraph/instances/web_1/storage"));
        assert_eq!(layout.runtime_dir, root.join(".vidgraph/instances/web_1"));
        // The subgraph processes get the same settings as this one.
        let get = |key: &str| layout.overrides.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone());
        assert_eq!(get("VIDGRAPH_DB__URL").as_deref(), Some(config.db.url.expose_secret()));
        assert_eq!(get("VIDGRAPH_NATS__SUBJECT_PREFIX"), Some(config.nats.subject_prefix.clone()));
        assert_eq!(get("VIDGRAPH_REDIS__KEY_PREFIX"), Some(config.redis.key_prefix.clone()));
        assert_eq!(get("VIDGRAPH_ASSETS__ROOT"), Some(config.assets.root.display().to_string()));
    }

    #[test]
    fn instance_names_are_plain() {
        assert!(parse_instance("web_1").is_ok());
        for bad in ["", "Web", "a-b", "a/b", "../x", &"x".repeat(33)] {
            assert!(parse_instance(bad).is_err(), "{bad}");
        }
    }
}
