# syntax=docker/dockerfile:1
#
# Two images from one file:
#   --target vidgraph  the `vidgraph` CLI: `vidgraph serve <subgraph>`, `migrate`, `seed`, `keys`
#   --target router    Hive Router (version from router/VERSION), built from crates.io
# compose.yaml builds both.

# ---- build the workspace ----------------------------------------------------------------------
FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
# Cache mounts keep the registry and incremental artefacts between builds; the binary is copied
# out of the cached target directory.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p vidgraph \
 && install -m 0755 target/release/vidgraph /usr/local/bin/vidgraph

# ---- build Hive Router (depends only on router/VERSION, so it stays cached) -------------------
FROM rust:1.95-bookworm AS router-builder
COPY router/VERSION /tmp/hive-router-version
# `graphiql`: without it the router's build script installs an npm package at build time.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    cargo install "hive-router@$(tr -d '[:space:]' < /tmp/hive-router-version)" \
      --locked --features graphiql --root /opt/hive-router

# ---- runtime: vidgraph ------------------------------------------------------------------------
FROM debian:bookworm-slim AS vidgraph
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/vidgraph vidgraph \
 && mkdir -p /var/lib/vidgraph/keys /var/lib/vidgraph/storage \
 && chown -R vidgraph /var/lib/vidgraph
COPY --from=builder /usr/local/bin/vidgraph /usr/local/bin/vidgraph
# A fresh named volume mounted on /var/lib/vidgraph/keys inherits this ownership, so
# `vidgraph keys` can write to it.
ENV VIDGRAPH_AUTH__KEY_DIR=/var/lib/vidgraph/keys \
    VIDGRAPH_HTTP__HOST=0.0.0.0
WORKDIR /var/lib/vidgraph
USER vidgraph
ENTRYPOINT ["vidgraph"]
CMD ["--help"]

# ---- runtime: router --------------------------------------------------------------------------
FROM debian:bookworm-slim AS router
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10002 --home-dir /var/lib/hive-router hive-router
COPY --from=router-builder /opt/hive-router/bin/hive_router /usr/local/bin/hive_router
ENV HOST=0.0.0.0 \
    PORT=4000
EXPOSE 4000
USER hive-router
# Health: GET /health (liveness), GET /readiness (supergraph loaded).
HEALTHCHECK --interval=5s --timeout=3s --retries=20 CMD curl -fsS "http://127.0.0.1:${PORT}/readiness" || exit 1
CMD ["hive_router"]
