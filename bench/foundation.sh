#!/usr/bin/env bash
# bench/foundation.sh — the foundation's figures, printed in one run:
#   * time from a built tree to the router answering (`vidgraph dev`, release build)
#   * idle RSS of each subgraph process and of the router
#   * `me` through the router and directly on `content`: rps, p50/p90/p99 at 32 connections
#   * subscription delivery latency through the router (userUpdated, N WebSocket subscribers)
#
# Needs the services (./dev's scripts/lib.sh provides them) and free ports 4000-4005.
# Usage: bench/foundation.sh [duration, default 10s]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# shellcheck source=bench/lib.sh
source bench/lib.sh
DURATION=${1:-10s}

vg_bench_prepare

echo "== startup: built tree -> router answering"
start=$(date +%s.%N)
vg_bench_start_dev
end=$(date +%s.%N)
grep -m1 "vidgraph is up" "$WORK/dev.log" || true
python3 -c "print('startup_to_router_ready_s %.2f (keys, migrate, seed check, 5 subgraphs, router)' % ($end - $start))"

echo "== idle RSS"
sleep 2 # let start-up allocations settle before reading RSS; not a synchronisation point
for pid in $(pgrep -f "vidgraph serve"); do
	name=$(tr '\0' ' ' </proc/"$pid"/cmdline | awk '{print $3}')
	printf 'rss_mb %-10s %6.1f\n' "$name" "$(awk '/VmRSS/ {print $2/1024}' /proc/"$pid"/status)"
done
pid=$(pgrep -f hive_router | head -1)
printf 'rss_mb %-10s %6.1f\n' router "$(awk '/VmRSS/ {print $2/1024}' /proc/"$pid"/status)"

echo "== 32 tokens (uploader01..32; distinct X-Forwarded-For so the per-address login limit does not trip)"
for n in $(seq -w 1 32); do
	curl -s http://127.0.0.1:4000/graphql -H 'content-type: application/json' -H "X-Forwarded-For: 10.9.0.$n" \
		-d "{\"query\":\"mutation { login(input: {login: \\\"uploader$n\\\", password: \\\"uploader-pass-1\\\"}) { accessToken } }\"}" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["login"]["accessToken"])'
done >"$WORK/tokens.txt"
wc -l <"$WORK/tokens.txt" | xargs echo tokens

echo "== me through the router (32 connections, $DURATION)"
$B http --url http://127.0.0.1:4000/graphql --operation bench/operations/me.graphql --operation-name Me \
	--tokens-file "$WORK/tokens.txt" --concurrency 32 --warmup 2s --duration "$DURATION"
echo "== me directly on content (32 connections, $DURATION)"
$B http --url http://127.0.0.1:4001/graphql --operation bench/operations/me.graphql --operation-name Me \
	--tokens-file "$WORK/tokens.txt" --concurrency 32 --warmup 2s --duration "$DURATION"

echo "== subscription delivery through the router: 100 subscribers of userUpdated(uploader01)"
token=$(head -1 "$WORK/tokens.txt")
user_id=$(curl -s http://127.0.0.1:4000/graphql -H 'content-type: application/json' -H "Authorization: Bearer $token" \
	-d '{"query":"{ me { id } }"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["me"]["id"])')
$B subscribe --ws-url ws://127.0.0.1:4000/graphql --subscription bench/operations/user_updated.graphql \
	--variables "{\"id\":\"$user_id\"}" --subscribers 100 --tokens-file "$WORK/tokens.txt" \
	--trigger-url http://127.0.0.1:4000/graphql --trigger bench/operations/update_profile.graphql \
	--trigger-variables '{"bio":"bench {{seq}}"}' --trigger-token "$token" --events 100 --interval 20ms
