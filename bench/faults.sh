#!/usr/bin/env bash
# bench/faults.sh — the fault drill: under a steady load of likes, views and gift events, flush
# Redis, stop PostgreSQL for 90 s, kill `ranking` with SIGKILL and restart NATS, each in turn;
# after each, print how long `ranking` took to catch up with everything committed before the
# repair; at the end print events published / applied / lost / double-counted and how the
# rankings and the week-star board compare with a clean recompute from PostgreSQL.
#
# It runs the whole platform (`vidgraph dev`, release build, on :4000-4005) against PRIVATE
# PostgreSQL, Redis and NATS servers it starts on spare ports, so stopping them never disturbs
# anything else on the machine; the platform's ports must be free.
# Usage: bench/faults.sh [seconds PostgreSQL stays down, default 90] [load rate per kind, default 20/s]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
SELF="$VG_REPO/bench/faults.sh"
PG_PORT=${VG_FAULTS_PG_PORT:-55439}
REDIS_PORT=${VG_FAULTS_REDIS_PORT:-56389}
NATS_PORT=${VG_FAULTS_NATS_PORT:-54229}

# `faults.sh __fault <what>` is how the drill injects and repairs (it runs these with sh -c);
# the private servers' directory comes from the parent run.
if [[ ${1:-} == __fault ]]; then
	VG_SERVICES_DIR=$VG_FAULTS_SERVICES_DIR
	case $2 in
	pg-stop)
		VG_PG_OWNER=$(stat -c %U "$VG_SERVICES_DIR/postgres")
		vg_pg_as_owner "$(vg_pg_bindir)/pg_ctl" -D "$VG_SERVICES_DIR/postgres/data" -m fast -w stop >/dev/null
		;;
	pg-start) vg_start_postgres "$PG_PORT" ;;
	nats-stop)
		kill -TERM "$(cat "$VG_SERVICES_DIR/nats.pid")"
		vg_wait_for 30 "nats to stop" bash -c "! kill -0 $(cat "$VG_SERVICES_DIR/nats.pid") 2>/dev/null"
		;;
	nats-start) vg_start_nats "$NATS_PORT" ;;
	*) vg_fail "unknown fault step $2" ;;
	esac
	exit
fi

PG_DOWN=${1:-90}
RATE=${2:-20}
if vg_tcp_open 127.0.0.1 4000; then
	vg_fail "port 4000 is taken: stop ./dev (or the other bench) first"
	exit 1
fi

WORK=$(mktemp -d)
# The private PostgreSQL runs as its own user, which must reach its directory.
chmod 755 "$WORK"
export VG_FAULTS_SERVICES_DIR="$WORK/services"
VG_SERVICES_DIR=$VG_FAULTS_SERVICES_DIR
mkdir -p "$VG_SERVICES_DIR"
cleanup() {
	[[ -n ${DEV_PID:-} ]] && kill -INT "$DEV_PID" 2>/dev/null && wait "$DEV_PID" 2>/dev/null
	VG_SERVICES_DIR=$VG_FAULTS_SERVICES_DIR vg_stop_started_services --all
	rm -rf "$WORK"
}
trap cleanup EXIT

vg_start_postgres "$PG_PORT"
vg_start_redis "$REDIS_PORT"
vg_start_nats "$NATS_PORT"
export VIDGRAPH_DB__URL="postgres://postgres@127.0.0.1:$PG_PORT/vidgraph"
export VIDGRAPH_REDIS__URL="redis://127.0.0.1:$REDIS_PORT"
export VIDGRAPH_NATS__URL="nats://127.0.0.1:$NATS_PORT"
vg_create_database "$VIDGRAPH_DB__URL"
vg_ensure_router
vg_ensure_node_modules
cargo build --release -p vidgraph -p vidgraph-bench --bin vidgraph --bin fault-drill
V="$VG_REPO/target/release/vidgraph"
DRILL="$VG_REPO/target/release/fault-drill"

"$V" dev >"$WORK/dev.log" 2>&1 &
DEV_PID=$!
vg_wait_for 300 "the router" bash -c 'curl -sf http://127.0.0.1:4000/readiness >/dev/null'
"$V" seed --viewers 200 >/dev/null
"$V" mint-tokens --prefix viewer --count 200 >"$WORK/viewers.txt"
"$V" mint-tokens --prefix admin --count 1 >"$WORK/admin.txt"

echo "== fault drill: private services on :$PG_PORT/:$REDIS_PORT/:$NATS_PORT, release build, $RATE/s per kind"
status=0
"$DRILL" --tokens-file "$WORK/viewers.txt" --admin-token-file "$WORK/admin.txt" --rate "$RATE" --warmup 10s \
	--fault "flush-redis|redis-cli -p $REDIS_PORT FLUSHALL >/dev/null|5|" \
	--fault "postgres-down|$SELF __fault pg-stop|$PG_DOWN|$SELF __fault pg-start" \
	--fault "kill-ranking|pkill -KILL -f '^$V serve ranking'|5|" \
	--fault "restart-nats|$SELF __fault nats-stop|3|$SELF __fault nats-start" \
	--recompute-command "$V recompute-rankings >/dev/null" || status=$?
echo "-- what vidgraph dev said about its subgraphs:"
grep -E "exited with|restarted" "$WORK/dev.log" || true
exit "$status"
