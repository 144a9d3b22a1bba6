//! `vidgraph schema`: writes each subgraph's SDL and composes the supergraph (or checks that
//! the checked-in files are current).

use crate::paths;
use crate::subgraphs::Subgraph;
use anyhow::Context;
use std::path::Path;
use std::process::Command;

/// Files that differ from what the code produces.
pub fn stale_files(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut stale = Vec::new();
    for subgraph in Subgraph::ALL {
        let path = paths::subgraph_schema(root, subgraph.name());
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        if on_disk != subgraph.sdl() {
            stale.push(path.display().to_string());
        }
    }
    if stale.is_empty() && !compose(root, true)? {
        stale.push(paths::supergraph(root).display().to_string());
    }
    Ok(stale)
}

/// Writes `schema/<name>.graphql` for every subgraph, then composes `schema/supergraph.graphql`.
pub fn write_all(root: &Path) -> anyhow::Result<()> {
    for subgraph in Subgraph::ALL {
        let path = paths::subgraph_schema(root, subgraph.name());
        std::fs::write(&path, subgraph.sdl()).with_context(|| format!("write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    if !compose(root, false)? {
        anyhow::bail!("composition failed");
    }
    println!("wrote {}", paths::supergraph(root).display());
    Ok(())
}

/// Runs `node scripts/compose.mjs` (with `--check` when checking); `Ok(false)` when it reports
/// a failure or a stale supergraph.
fn compose(root: &Path, check: bool) -> anyhow::Result<bool> {
    let mut command = Command::new("node");
    command.arg(root.join("scripts/compose.mjs")).current_dir(root);
    if check {
        command.arg("--check");
    }
    let status = command.status().context("run node (is Node.js installed and `npm ci` done?)")?;
    Ok(status.success())
}
