#!/usr/bin/env bash
# bench/weekstar.sh — gift events ingested into week-star boards per second.
#
# Runs ranking's own gift consumer (release build, the subgraph's concurrency) against its own
# database (vidgraph_bench_weekstar), Redis key prefix and NATS prefix; publishes N gift events
# to JetStream and times until every one is committed and on its Redis board (the consumer's
# ack floor), first with the consumer running while publishing, then draining a backlog.
# Usage: bench/weekstar.sh [events per phase, default 20000] [extra weekstar-ingest flags…]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
EVENTS=${1:-20000}
shift || true

vg_ensure_services
trap vg_stop_started_services EXIT
cargo build --release -p vidgraph-bench --bin weekstar-ingest
export VIDGRAPH_DB__URL=${VIDGRAPH_BENCH_WEEKSTAR_DB_URL:-postgres://postgres@127.0.0.1:5432/vidgraph_bench_weekstar}
"${CARGO_TARGET_DIR:-target}"/release/weekstar-ingest --events "$EVENTS" "$@"
