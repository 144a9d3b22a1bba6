#!/usr/bin/env bash
# bench/ranking.sh — the hot rankings' figures, printed in one run:
#   * the full recompute over N videos (default 1,000,000): wall time and videos per second,
#     and the Redis memory the rankings take
#   * latency from a like (through the router) to the video's new hot value being readable
#     through the router: p50/p90/p99 over 200 likes by distinct viewers
#   * a hotRanking page of 50 with titles, authors and counters (ranking + content through the
#     router): rps and p50/p90/p99 at 32 connections
#
# Runs against its own database (vidgraph_bench), Redis prefix and NATS prefix. The seed of a
# million videos takes several minutes the first time (it is idempotent after).
# Usage: bench/ranking.sh [duration, default 10s] [videos, default 1000000]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# shellcheck source=bench/lib.sh
source bench/lib.sh
DURATION=${1:-10s}
VIDEOS=${2:-1000000}

vg_bench_prepare
vg_bench_isolate

echo "== seed: $VIDEOS videos (content, then ranking's projection of them)"
$V keys >/dev/null
$V migrate
start=$(date +%s.%N)
$V seed --videos "$VIDEOS" --viewers 2000
python3 -c "print('seed_s %.1f' % ($(date +%s.%N) - $start))"
psql "$VIDGRAPH_DB__URL" -Atc "ANALYZE ranking.videos; ANALYZE ranking.stat_buckets" >/dev/null
psql "$VIDGRAPH_DB__URL" -Atc "SELECT 'ranking_videos ' || count(*) FROM ranking.videos WHERE state = 'published'"
psql "$VIDGRAPH_DB__URL" -Atc "SELECT 'growth_buckets ' || count(*) FROM ranking.stat_buckets"

echo "== full recompute (release build, in-process: Postgres batches of 5000 -> Redis build keys -> RENAME)"
# phases: seconds spent reading batches, scoring, writing Redis, checkpointing (summed over
# batches; each read overlaps the previous batch's write and checkpoint), and the wall time of
# those overlapped steps
before=$(redis-cli info memory | awk -F: '/^used_memory:/ {print $2}' | tr -d '\r')
# Redis's own CPU time (user + system, seconds): single-threaded, it bounds the recompute.
redis_cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$(pgrep -x redis-server | head -1)/stat"; }
# recompute: one full recompute, its phases and the CPU time Redis spent on it.
recompute() {
	local redis_before
	redis_before=$(redis_cpu_s)
	$V recompute-rankings 2>"$WORK/recompute.log"
	echo "phases: $(sed 's/\x1b\[[0-9;]*m//g' "$WORK/recompute.log" | grep -o 'recompute build phases.*' | sed 's/recompute build phases run.id=[^ ]* //')"
	python3 -c "print('redis_cpu_s %.2f' % ($(redis_cpu_s) - $redis_before))"
}
recompute
after=$(redis-cli info memory | awk -F: '/^used_memory:/ {print $2}' | tr -d '\r')
python3 -c "print('redis_memory_delta_mb %.1f (the first run; later runs replace the same keys)' % (($after - $before) / 1048576))"
echo "-- and again, over rankings that exist (what the hourly run does)"
recompute

vg_bench_start_dev 300
$V mint-tokens --prefix viewer --count 2000 >"$WORK/viewers.txt"
head -32 "$WORK/viewers.txt" >"$WORK/tokens.txt"

echo "== like -> new hot value visible through the router (200 likes by distinct viewers)"
video=$(curl -s http://127.0.0.1:4000/graphql -H 'content-type: application/json' -H "Authorization: Bearer $(tail -1 "$WORK/viewers.txt")" \
	-d '{"query":"mutation { createVideo(input: {title: \"Rank latency probe\", regionId: 4, durationSecs: 60, sourceUrl: \"https://cdn.example.com/p.mp4\"}) { id } }"}' |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["createVideo"]["id"])')
$B like-rank --video "$video" --tokens-file "$WORK/viewers.txt" --samples 200

echo "== hotRanking page of 50 (week) with titles, authors and counters through the router (32 connections, $DURATION)"
$B http --url http://127.0.0.1:4000/graphql --operation bench/operations/hot_ranking.graphql --operation-name HotRanking \
	--tokens-file "$WORK/tokens.txt" --concurrency 32 --warmup 2s --duration "$DURATION"
