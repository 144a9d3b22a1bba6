//! End-to-end tests: the five subgraphs in-process against this test's own database, Redis
//! prefix and NATS prefix, behind a real Hive Router process.

mod abuse;
mod assets_downloads;
mod assets_proxies;
mod assets_ytdlp;
mod auth_flow;
mod bad_input;
mod comments;
mod community_dynamic_notifications;
mod community_dynamics;
mod community_follows;
mod community_home;
mod community_messages;
mod community_notifications;
mod community_posts;
mod danmaku;
mod dead_letters;
mod degraded;
mod entities;
mod feeds;
mod harness;
mod interactions;
mod live_danmaku;
mod live_gifts;
mod live_medals;
mod live_pk;
mod live_replicas;
mod live_rooms;
mod live_support;
mod rankings;
mod replicas;
mod schema_files;
mod subscriptions;
mod uploads;
mod videos;
mod weekstar;
