//! `vidgraph-bench baseline`: the read path written by hand, to measure the GraphQL path against.
//!
//! One axum process does the Redis and SQL work of two pages with the same store code the
//! subgraphs use, and answers with the JSON the router would: `POST /hot` the week's hot ranking
//! page of 50 (`bench/operations/hot_ranking.graphql`: ZREVRANGE + ZCARD, MGET of the video cache,
//! one SELECT of authors, one of counters) and `POST /feed` the newest page of 50
//! (`feed_page.graphql`: one SELECT of videos, one of authors, one of counters). A bearer token,
//! when sent, is verified as the subgraphs verify it: a signed-in request does that work too.
//! Request bodies are ignored, so `vidgraph-bench http` can drive it with the same operation file.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use clap::Args;
use content::domain::video::FeedCursor;
use content::store::video_cache::VideoCache;
use content::store::{stats, users, videos};
use platform::auth::TokenVerifier;
use platform::config::AppConfig;
use platform::db::Db;
use platform::redis::Redis;
use ranking::domain::hot::TimeRange;
use ranking::store::hot_boards::{GLOBAL, HotBoards};
use serde_json::{Value, json};
use uuid::Uuid;

/// Arguments of the `baseline` subcommand (database, Redis and keys from the usual
/// `VIDGRAPH_*` configuration).
#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:4090")]
    pub listen: SocketAddr,
}

/// Both pages have 50 items, as the operation files ask.
const PAGE: usize = 50;

struct Baseline {
    db: Db,
    boards: HotBoards,
    cache: VideoCache,
    verifier: TokenVerifier,
}

/// Serves until the process is stopped.
pub async fn serve(args: &BaselineArgs) -> Result<()> {
    let config = AppConfig::load()?;
    let redis = Redis::connect(&config.redis)?;
    let baseline = Arc::new(Baseline {
        db: Db::connect(&config.db, "vidgraph-bench-baseline"),
        boards: HotBoards::new(redis.clone()),
        cache: VideoCache::new(redis),
        verifier: TokenVerifier::from_config(&config.auth).context("loading the JWKS to verify tokens")?,
    });
    let app = Router::new().route("/hot", post(hot)).route("/feed", post(feed)).with_state(baseline);
    let listener = tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("binding {}", args.listen))?;
    eprintln!("baseline listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

async fn hot(State(baseline): State<Arc<Baseline>>, headers: HeaderMap) -> Response {
    respond(baseline.hot_page(&headers).await)
}

async fn feed(State(baseline): State<Arc<Baseline>>, headers: HeaderMap) -> Response {
    respond(baseline.feed_page(&headers).await)
}

fn respond(page: Result<Value>) -> Response {
    match page {
        Ok(data) => ([(header::CONTENT_TYPE, "application/json")], json!({ "data": data }).to_string()).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{error:#}")).into_response(),
    }
}

impl Baseline {
    fn verify(&self, headers: &HeaderMap) -> Result<()> {
        let authorization = headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok());
        if let Some(token) = authorization.and_then(platform::request::bearer_token) {
            self.verifier.verify(token).map_err(|error| anyhow::anyhow!("bad token: {error}"))?;
        }
        Ok(())
    }

    async fn hot_page(&self, headers: &HeaderMap) -> Result<Value> {
        self.verify(headers)?;
        let slice = self.boards.page(TimeRange::Week, GLOBAL, 0, PAGE as isize - 1).await?;
        let ids: Vec<Uuid> = slice.entries.iter().map(|(id, _)| *id).collect();
        let mut found: HashMap<Uuid, videos::Video> = self.cache.get_many(&ids).await?.into_iter().map(|video| (video.id, video)).collect();
        let mut conn = self.db.pool.get().await?;
        let missing: Vec<Uuid> = ids.iter().copied().filter(|id| !found.contains_key(id)).collect();
        if !missing.is_empty() {
            let rows = videos::find_published(&mut conn, &missing).await?;
            self.cache.put_many(&rows).await?;
            found.extend(rows.into_iter().map(|video| (video.id, video)));
        }
        let rows: Vec<&videos::Video> = ids.iter().filter_map(|id| found.get(id)).collect();
        let (authors, counters) = authors_and_counters(&mut conn, &rows).await?;
        let items: Vec<Value> = slice
            .entries
            .iter()
            .enumerate()
            .map(|(index, (id, hot_value))| {
                let video = found.get(id).map(|video| {
                    json!({
                        "id": video.id,
                        "title": video.title,
                        "author": authors.get(&video.author_id).map(|author| json!({ "displayName": author.display_name })),
                        "stat": counters.get(&video.id).map_or_else(|| json!({ "views": 0, "likes": 0, "coins": 0 }), |stat| {
                            json!({ "views": stat.views, "likes": stat.likes, "coins": stat.coins })
                        }),
                    })
                });
                json!({ "rank": index + 1, "hotValue": hot_value, "video": video })
            })
            .collect();
        Ok(json!({ "hotRanking": { "total": slice.total, "items": items } }))
    }

    async fn feed_page(&self, headers: &HeaderMap) -> Result<Value> {
        self.verify(headers)?;
        let mut conn = self.db.pool.get().await?;
        let mut rows = videos::newest(&mut conn, None, None, PAGE as i64 + 1).await?;
        let has_next_page = rows.len() > PAGE;
        rows.truncate(PAGE);
        let page: Vec<&videos::Video> = rows.iter().collect();
        let (authors, counters) = authors_and_counters(&mut conn, &page).await?;
        let cursor = |video: &videos::Video| video.published_at.map(|published_at| FeedCursor { published_at, id: video.id }.encode());
        let edges: Vec<Value> = rows
            .iter()
            .map(|video| {
                let stat = counters.get(&video.id).copied().unwrap_or_else(|| stats::VideoStat::zero(video.id));
                json!({ "node": {
                    "id": video.id,
                    "title": video.title,
                    "coverUrl": video.cover_url,
                    "author": authors.get(&video.author_id).map(|author| json!({ "id": author.id, "displayName": author.display_name })),
                    "stat": { "views": stat.views, "likes": stat.likes, "coins": stat.coins, "danmaku": stat.danmaku },
                } })
            })
            .collect();
        let end_cursor = rows.last().and_then(cursor);
        Ok(json!({ "videos": { "edges": edges, "pageInfo": { "hasNextPage": has_next_page, "endCursor": end_cursor } } }))
    }
}

/// The authors and the counters of a page: one SELECT each.
async fn authors_and_counters(
    conn: &mut platform::db::DbConn<'_>,
    page: &[&videos::Video],
) -> Result<(HashMap<Uuid, users::User>, HashMap<Uuid, stats::VideoStat>)> {
    let mut author_ids: Vec<Uuid> = page.iter().map(|video| video.author_id).collect();
    author_ids.sort_unstable();
    author_ids.dedup();
    let ids: Vec<Uuid> = page.iter().map(|video| video.id).collect();
    let authors = users::find_many(conn, &author_ids).await?.into_iter().map(|user| (user.id, user)).collect();
    let counters = stats::find_many(conn, &ids).await?.into_iter().map(|stat| (stat.video_id, stat)).collect();
    Ok((authors, counters))
}
