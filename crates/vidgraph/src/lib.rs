//! The vidgraph CLI's library: the subgraph registry, schema files, the router launcher and
//! the local `dev` orchestration (shared with the end-to-end tests).

pub mod community_admin;
pub mod db_admin;
pub mod dead_letters;
pub mod dev;
pub mod live_cli;
pub mod paths;
pub mod router;
pub mod schema_files;
pub mod subgraphs;
pub mod web;
