//! One test's community: isolated backends, the schema, and helpers to call it as anyone.

use async_graphql::{Request, Variables};
use platform::Deps;
use platform::auth::{AuthUser, Role, Viewer};
use platform::batch::PerRequest;
use platform::clock::{ManualClock, SharedClock};
use platform::testkit::TestServices;
use serde_json::Value;
use uuid::Uuid;
use vidgraph_community::CommunitySchema;
use vidgraph_community::events::CommunityEvents;

pub struct World {
    pub _services: TestServices,
    pub deps: Deps,
    pub schema: PerRequest<CommunitySchema>,
    pub clock: std::sync::Arc<ManualClock>,
}

/// A GraphQL answer as JSON, with its error codes.
pub struct Answer {
    pub body: Value,
}

impl Answer {
    pub fn data(&self, pointer: &str) -> &Value {
        self.body.pointer(&format!("/data{pointer}")).unwrap_or(&Value::Null)
    }

    pub fn codes(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| errors.iter().map(|e| e["extensions"]["code"].as_str().unwrap_or("<none>").to_owned()).collect())
            .unwrap_or_default()
    }

    pub fn ok(self) -> Answer {
        assert!(self.body.get("errors").is_none_or(Value::is_null), "unexpected errors: {}", self.body);
        self
    }
}

pub fn user() -> Viewer {
    Viewer::User(AuthUser { id: Uuid::now_v7(), role: Role::User })
}

pub fn admin() -> Viewer {
    Viewer::User(AuthUser { id: Uuid::now_v7(), role: Role::Admin })
}

pub fn id_of(viewer: &Viewer) -> Uuid {
    viewer.user_id().expect("signed in")
}

impl World {
    pub async fn new() -> World {
        // internal errors are logged: show them when a test fails
        platform::telemetry::init(&platform::config::TelemetryConfig { filter: "error".into(), ..Default::default() });
        let services = TestServices::new().await;
        let deps = Deps::connect(services.config(), "community-test").await.expect("deps");
        let clock = ManualClock::starting_at(chrono::Utc::now());
        let shared: SharedClock = clock.clone();
        let schema = vidgraph_community::build_schema(&deps, shared, CommunityEvents::new(&deps.nats));
        World { _services: services, deps, schema, clock }
    }

    pub async fn run(&self, viewer: &Viewer, query: &str, variables: Value) -> Answer {
        let request = Request::new(query).variables(Variables::from_json(variables)).data(*viewer);
        let response = self.schema.execute(request).await;
        Answer { body: serde_json::to_value(&response).expect("response JSON") }
    }

    /// Rows of one SQL query whose single column `v` is text.
    pub async fn texts(&self, sql: &str) -> Vec<String> {
        use diesel_async::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            v: String,
        }
        let mut conn = self.deps.db.pool.get().await.expect("connection");
        diesel::sql_query(sql).load::<Row>(&mut conn).await.expect("query").into_iter().map(|row| row.v).collect()
    }

    /// Puts these users in the account directory (what content's account events do in a
    /// deployment), so that they can be followed, messaged and blocked.
    pub async fn enroll(&self, users: &[Uuid]) {
        let accounts: Vec<_> = users
            .iter()
            .map(|user_id| vidgraph_community::store::accounts::Account {
                user_id: *user_id,
                username: format!("u{}", user_id.simple()),
                role: "user".into(),
                version: 1,
                changed_at: chrono::Utc::now(),
            })
            .collect();
        let mut conn = self.deps.db.pool.get().await.expect("connection");
        vidgraph_community::store::accounts::apply(&mut conn, &accounts).await.expect("enroll");
    }

    /// The audit's differences (must be empty).
    pub async fn audit(&self) -> Vec<vidgraph_community::store::audit::Difference> {
        vidgraph_community::domain::audit::differences(&self.deps.db).await.expect("audit")
    }
}
