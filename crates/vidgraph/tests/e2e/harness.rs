//! `Platform::start()`: subgraphs on port 0, a staged router on a free port, and GraphQL helpers.

use platform::auth::TokenSigner;
use platform::db::StatementCounter;
use platform::testkit::TestServices;
use platform::{Application, Deps};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::oneshot;
use vidgraph::router::{self, RouterProcess};
use vidgraph::subgraphs::Subgraph;

/// A running platform for one test.
pub struct Platform {
    pub services: TestServices,
    pub router: RouterProcess,
    pub subgraph_urls: HashMap<&'static str, String>,
    pub content_statements: StatementCounter,
    client: reqwest::Client,
    _stage: TempDir,
    _shutdowns: Vec<oneshot::Sender<()>>,
}

/// A GraphQL response with its HTTP status.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    /// `data` at a JSON pointer, e.g. `/login/accessToken`.
    pub fn data(&self, pointer: &str) -> &Value {
        self.body.pointer(&format!("/data{pointer}")).unwrap_or(&Value::Null)
    }

    /// The `extensions.code` of every error.
    pub fn codes(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| errors.iter().map(|e| e["extensions"]["code"].as_str().unwrap_or("<none>").to_owned()).collect())
            .unwrap_or_default()
    }

    /// The ids of the nodes of the connection at `data.<field>`, in order.
    pub fn node_ids(&self, field: &str) -> Vec<String> {
        self.data(&format!("/{field}/edges"))
            .as_array()
            .map(|edges| edges.iter().filter_map(|edge| edge["node"]["id"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }

    /// Panics unless the reply has no errors.
    pub fn ok(self) -> Reply {
        assert!(self.body.get("errors").is_none_or(Value::is_null), "unexpected errors: {}", self.body);
        assert_eq!(self.status, 200, "{}", self.body);
        self
    }
}

/// A temporary directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Starts `subgraph` on a free port; returns its URL and a shutdown handle.
pub async fn spawn_subgraph(subgraph: Subgraph, deps: Deps) -> (String, oneshot::Sender<()>) {
    let application: Application = subgraph.build(deps).await.expect("subgraph builds");
    let url = format!("http://127.0.0.1:{}/graphql", application.port());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(application.run_until(async move {
        let _ = stopped.await;
    }));
    (url, stop)
}

impl Platform {
    pub async fn start() -> Platform {
        Platform::start_with(|_, _| {}, &[]).await
    }

    /// Like [`Platform::start`], with each subgraph's configuration passed through `configure`
    /// first (e.g. an unreachable Redis for one of them), and the router sending the fetches of
    /// the subgraphs named in `routing` to the given URLs instead (e.g. a server that never
    /// answers).
    pub async fn start_with(configure: impl Fn(&str, &mut platform::config::AppConfig), routing: &[(&str, String)]) -> Platform {
        platform::telemetry::init(&platform::config::TelemetryConfig { filter: "warn".into(), ..Default::default() });
        let services = TestServices::new().await;
        let mut subgraph_urls = HashMap::new();
        let mut shutdowns = Vec::new();
        let mut content_statements = None;
        for subgraph in Subgraph::ALL {
            let mut config = services.config();
            configure(subgraph.name(), &mut config);
            let deps = Deps::connect(config, subgraph.name()).await.expect("backends");
            if subgraph == Subgraph::Content {
                content_statements = Some(deps.db.statements.clone());
            }
            let (url, stop) = spawn_subgraph(subgraph, deps).await;
            subgraph_urls.insert(subgraph.name(), url);
            shutdowns.push(stop);
        }

        let root = vidgraph::paths::repo_root();
        let supergraph = std::fs::read_to_string(vidgraph::paths::supergraph(&root)).expect("schema/supergraph.graphql");
        let urls: Vec<(&str, String)> = subgraph_urls
            .iter()
            .map(|(name, url)| (*name, routing.iter().find(|(routed, _)| routed == name).map_or_else(|| url.clone(), |(_, to)| to.clone())))
            .collect();
        let stage = TempDir(std::env::temp_dir().join(format!("vidgraph-router-{}", uuid::Uuid::new_v4().simple())));
        let config = router::stage(&stage.0, &root, &router::with_routing_urls(&supergraph, &urls), &services.keys().jwks().to_json())
            .expect("stage router");
        let port = free_port();
        let mut router =
            RouterProcess::start(&router::binary().expect("router binary"), &config, "127.0.0.1", port, &stage.0.join("router.log"))
                .expect("start router");
        if let Err(error) = router.wait_ready(Duration::from_secs(30)).await {
            let log = std::fs::read_to_string(stage.0.join("router.log")).unwrap_or_default();
            panic!("router not ready: {error}\n{log}");
        }
        Platform {
            services,
            router,
            subgraph_urls,
            content_statements: content_statements.expect("content started"),
            client: reqwest::Client::new(),
            _stage: stage,
            _shutdowns: shutdowns,
        }
    }

    pub fn router_url(&self) -> String {
        format!("http://127.0.0.1:{}/graphql", self.router.port())
    }

    pub fn router_ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/graphql", self.router.port())
    }

    /// POSTs an operation through the router.
    pub async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> Reply {
        self.post(&self.router_url(), query, variables, token).await
    }

    /// POSTs an operation straight to a subgraph.
    pub async fn post(&self, url: &str, query: &str, variables: Value, token: Option<&str>) -> Reply {
        let mut request = self.client.post(url).json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let body = response.json::<Value>().await.expect("JSON body");
        Reply { status, body }
    }

    /// A token signed with this test's key, for any claims (expired ones included).
    pub fn signer(&self) -> TokenSigner {
        TokenSigner::new(self.services.keys(), &self.services.config().auth)
    }

    /// Registers an account through the router; returns (user id, access token, refresh token).
    pub async fn register(&self, username: &str) -> (String, String, String) {
        let reply = self
            .gql(
                REGISTER,
                json!({ "input": { "email": format!("{username}@example.com"), "username": username, "password": "s3cret-pass" } }),
                None,
            )
            .await
            .ok();
        let id = reply.data("/register/user/id").as_str().expect("id").to_owned();
        let access = reply.data("/register/accessToken").as_str().expect("access").to_owned();
        let refresh = reply.data("/register/refreshToken").as_str().expect("refresh").to_owned();
        (id, access, refresh)
    }
}

impl Platform {
    /// This test's database, for arranging data the API has no shortcut for.
    pub fn db(&self) -> platform::db::Db {
        platform::db::Db::connect(&self.services.config().db, "e2e-arrange")
    }

    /// An admin: a registered account promoted in the database, with a token carrying the role.
    /// Returns (user id, access token).
    pub async fn admin(&self, username: &str) -> (String, String) {
        let (id, _, _) = self.register(username).await;
        let user_id: uuid::Uuid = id.parse().expect("user id");
        let accounts = self.account_events().await;
        content::domain::identity::set_role(&self.db(), &accounts, user_id, platform::auth::Role::Admin).await.expect("promote");
        (id, self.token_for(user_id, platform::auth::Role::Admin))
    }

    /// Content's account events, into its outbox (its running relay publishes them).
    pub async fn account_events(&self) -> content::events::AccountEvents {
        let outbox = platform::outbox::Outbox::new(content::events::catalogue::OUTBOX_TABLE);
        content::events::AccountEvents::new(&self.nats().await, outbox)
    }

    /// `count` plain accounts inserted straight into the database (no password hashing, so
    /// hundreds take milliseconds), each with an access token and its account event (as a
    /// registration writes it). Returns (user id, token) pairs.
    pub async fn users(&self, prefix: &str, count: usize) -> Vec<(String, String)> {
        let db = self.db();
        let accounts = self.account_events().await;
        let mut conn = db.pool.get().await.expect("connection");
        let mut created = Vec::with_capacity(count);
        for n in 0..count {
            let username = format!("{prefix}{n}");
            let email = format!("{username}@example.com");
            let user = content::store::users::insert(
                &mut conn,
                &content::store::users::NewUser {
                    id: uuid::Uuid::now_v7(),
                    email: &email,
                    username: &username,
                    password_hash: "not-a-hash",
                    role: "user",
                    display_name: &username,
                },
            )
            .await
            .expect("insert user");
            accounts.changed(&mut conn, &user, 1).await.expect("account event");
            created.push((user.id.to_string(), self.token_for(user.id, platform::auth::Role::User)));
        }
        created
    }

    /// This test's NATS connection (its own subject prefix).
    pub async fn nats(&self) -> platform::nats::Nats {
        platform::nats::Nats::connect(&self.services.config().nats).await.expect("nats")
    }

    /// The first `count` events `content` published to JetStream with this subject kind
    /// (`stats`, `videos`), in stream order; waits for them (up to 10 s) instead of sleeping.
    pub async fn content_events(&self, kind: &str, count: usize) -> Vec<Value> {
        use async_nats::jetstream::consumer::{DeliverPolicy, pull};
        use futures::StreamExt;
        let nats = self.nats().await;
        let spec = platform::events::CONTENT_STREAM;
        let stream = spec.ensure(&nats).await.expect("stream");
        let consumer = stream
            .create_consumer(pull::Config {
                filter_subject: spec.subject(&nats, kind),
                deliver_policy: DeliverPolicy::All,
                ..Default::default()
            })
            .await
            .expect("consumer");
        let mut messages = consumer.messages().await.expect("messages");
        let mut events = Vec::with_capacity(count);
        while events.len() < count {
            let next = tokio::time::timeout(Duration::from_secs(10), messages.next()).await;
            let Ok(Some(Ok(message))) = next else { panic!("only {} of {count} `{kind}` events arrived: {events:?}", events.len()) };
            events.push(serde_json::from_slice(&message.payload).expect("event JSON"));
            message.ack().await.expect("ack");
        }
        events
    }

    /// A valid access token for this account and role.
    pub fn token_for(&self, id: uuid::Uuid, role: platform::auth::Role) -> String {
        self.signer().sign(&platform::auth::AuthUser { id, role }, chrono::Utc::now()).expect("sign token")
    }

    /// Inserts a published video of `author_id` straight into the database, with zero stats;
    /// returns its id. For tests of features around videos (comments, danmaku, feeds…).
    pub async fn insert_video(&self, author_id: &str, title: &str) -> String {
        use content::store::{stats, videos};
        let db = self.db();
        let mut conn = db.pool.get().await.expect("connection");
        let id = uuid::Uuid::now_v7();
        let row = videos::NewVideo {
            id,
            author_id: author_id.parse().expect("author id"),
            region_id: 1,
            title: title.into(),
            description: String::new(),
            cover_url: None,
            duration_secs: 600,
            published_at: Some(chrono::Utc::now()),
            state: "published".into(),
            tags: Vec::new(),
            source_url: None,
            asset_ref: None,
            upload_id: None,
        };
        videos::insert_many(&mut conn, &[row]).await.expect("insert video");
        stats::create(&mut conn, id).await.expect("insert stats");
        id.to_string()
    }
}

pub const REGISTER: &str = "mutation($input: RegisterInput!) { register(input: $input) { accessToken refreshToken user { id username } } }";
pub const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) { accessToken refreshToken user { id } } }";

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}
