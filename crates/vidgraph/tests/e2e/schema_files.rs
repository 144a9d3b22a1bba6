//! The checked-in SDL and supergraph match what the code produces.

#[test]
fn checked_in_schema_files_are_current() {
    let root = vidgraph::paths::repo_root();
    let stale = vidgraph::schema_files::stale_files(&root).expect("schema check runs (node and npm ci needed)");
    assert!(stale.is_empty(), "stale schema files, run `cargo run -p vidgraph -- schema`: {stale:?}");
}
