#!/usr/bin/env bash
# bench/read_path.sh — issue 11's read-path figures, side by side in one run: the week's hot
# ranking page of 50 (titles, authors, counters; `ranking` + `content`) and the newest feed page
# of 50 (`content`), 32 connections each, for
#   * the router, 32 distinct signed-in users (no de-duplication of identical fetches applies)
#   * the router, anonymous (the router de-duplicates identical in-flight fetches)
#   * the subgraphs directly: `content` alone (the hot page's `_entities`, the feed page) and
#     `ranking` alone (the hot page without video fields)
#   * the hand-written baseline (`vidgraph-bench baseline`: the same Redis and SQL work with the
#     same store code in one axum handler, same JSON), signed-in and anonymous
# and then the ratios router / baseline. Against its own database, Redis and NATS prefixes.
# Usage: bench/read_path.sh [duration, default 10s] [videos, default 3000]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# shellcheck source=bench/lib.sh
source bench/lib.sh
DURATION=${1:-10s}
VIDEOS=${2:-3000}
BASELINE=127.0.0.1:4090

vg_bench_prepare
vg_bench_isolate

echo "== seed: $VIDEOS videos, then the rankings"
$V keys >/dev/null
$V migrate
$V seed --videos "$VIDEOS" --viewers 200
psql "$VIDGRAPH_DB__URL" -Atc "ANALYZE content.videos; ANALYZE content.video_stats; ANALYZE content.users" >/dev/null
$V recompute-rankings 2>/dev/null

vg_bench_start_dev 300
$V mint-tokens --prefix viewer --count 32 >"$WORK/tokens.txt"
$B baseline --listen "$BASELINE" 2>"$WORK/baseline.log" &
BASELINE_PID=$!
trap 'kill "$BASELINE_PID" 2>/dev/null || true; vg_bench_cleanup' EXIT
vg_wait_for 30 "the baseline" bash -c "curl -sf -X POST http://$BASELINE/hot >/dev/null"

# The page's video ids, as the router would hand them to `content`.
curl -sf http://127.0.0.1:4002/graphql -H 'content-type: application/json' \
	-d '{"query":"{ hotRanking(timeRange: WEEK, pageSize: 50) { items { video { id } } } }"}' |
	python3 -c 'import json,sys; items=json.load(sys.stdin)["data"]["hotRanking"]["items"]; print(json.dumps({"representations":[{"__typename":"Video","id":i["video"]["id"]} for i in items]}))' \
		>"$WORK/representations.json"
python3 -c "import json; print('hot_page_videos', len(json.load(open('$WORK/representations.json'))['representations']))"

# run LABEL URL OPERATION NAME AUTH [extra args]: one closed-loop run, its JSON line kept.
run() {
	local label=$1 url=$2 operation=$3 name=$4 auth=$5
	shift 5
	local tokens=()
	[[ $auth == signed-in ]] && tokens=(--tokens-file "$WORK/tokens.txt")
	echo "-- $label ($auth)" >&2
	$B http --url "$url" --operation "bench/operations/$operation" --operation-name "$name" "${tokens[@]}" "$@" \
		--concurrency 32 --warmup 2s --duration "$DURATION" --json |
		python3 -c "import json,sys; r=json.load(sys.stdin); r['label']='$label'; r['auth']='$auth'; print(json.dumps(r))" >>"$WORK/runs.jsonl"
}

echo "== hot ranking page of 50 and feed page of 50, 32 connections, $DURATION each"
for auth in signed-in anonymous; do
	run "hot: router" http://127.0.0.1:4000/graphql hot_ranking.graphql HotRanking "$auth"
	run "hot: baseline" "http://$BASELINE/hot" hot_ranking.graphql HotRanking "$auth"
	run "hot: content _entities" http://127.0.0.1:4001/graphql hot_entities.graphql HotEntities "$auth" --variables-file "$WORK/representations.json"
	run "hot: ranking alone" http://127.0.0.1:4002/graphql hot_ranking_ids.graphql HotRankingIds "$auth"
	run "feed: router" http://127.0.0.1:4000/graphql feed_page.graphql FeedPage "$auth"
	run "feed: baseline" "http://$BASELINE/feed" feed_page.graphql FeedPage "$auth"
	run "feed: content alone" http://127.0.0.1:4001/graphql feed_page.graphql FeedPage "$auth"
done

python3 - "$WORK/runs.jsonl" <<'PY'
import json, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
print(f"{'path':<26} {'auth':<10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
for r in runs:
    lat = r.get("latency_ms") or {}
    print(f"{r['label']:<26} {r['auth']:<10} {r['rps']:>8.1f} {lat.get('p50', 0):>8.1f} {lat.get('p99', 0):>8.1f} {r['errors']:>7}")
    if r["errors"]:
        print(f"   first error: {r.get('first_error')}")
by = {(r["label"], r["auth"]): r for r in runs}
print("ratios (router / baseline, same run):")
for page in ("hot", "feed"):
    for auth in ("signed-in", "anonymous"):
        router, base = by[(f"{page}: router", auth)], by[(f"{page}: baseline", auth)]
        print(f"  {page:<5} {auth:<10} throughput {router['rps'] / base['rps']:.2f}x  p99 {router['latency_ms']['p99']:.1f} ms vs {base['latency_ms']['p99']:.1f} ms")
PY
