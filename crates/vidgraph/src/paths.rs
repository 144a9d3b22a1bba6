//! Where the repository's files are, whatever the working directory.

use std::path::{Path, PathBuf};

/// The repository root: `VIDGRAPH_REPO_ROOT`, else the nearest ancestor of the working directory
/// holding `supergraph.yaml`, else the checkout this binary was built from.
pub fn repo_root() -> PathBuf {
    if let Some(root) = std::env::var_os("VIDGRAPH_REPO_ROOT") {
        return PathBuf::from(root);
    }
    if let Ok(cwd) = std::env::current_dir()
        && let Some(found) = cwd.ancestors().find(|dir| dir.join("supergraph.yaml").is_file())
    {
        return found.to_path_buf();
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap_or_else(|_| PathBuf::from("."))
}

/// `schema/<name>.graphql`.
pub fn subgraph_schema(root: &Path, name: &str) -> PathBuf {
    root.join("schema").join(format!("{name}.graphql"))
}

/// `schema/supergraph.graphql`.
pub fn supergraph(root: &Path) -> PathBuf {
    root.join("schema").join("supergraph.graphql")
}
