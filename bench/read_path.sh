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
# and then the ratios router / baseline. Each run also reports the CPU time (user + system) that
# every process of the path spent per request over its measured window (router, `content`,
# `ranking`, the baseline, the load tool): on this shared two-core machine CPU per request is
# steadier than throughput, and says which process spends it.
# Against its own database, Redis and NATS prefixes.
# Usage: bench/read_path.sh [duration, default 10s] [videos, default 3000]
#   ONLY=<regex>: only the runs whose "label (auth)" matches, e.g. ONLY='signed-in' or ONLY='^hot'.
#   PROFILE=1: also samples the servers with `perf record` during each run and prints each
#   one's hottest symbols (perf makes the figures of that run lower; compare CPU per request
#   between runs with the same setting).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# shellcheck source=bench/lib.sh
source bench/lib.sh
DURATION=${1:-10s}
ONLY=${ONLY:-.}
PROFILE=${PROFILE:-0}
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

CPU_OF=(--cpu-of "router=$(vg_pid_on_port 4000)" --cpu-of "content=$(vg_pid_on_port 4001)"
	--cpu-of "ranking=$(vg_pid_on_port 4002)" --cpu-of "baseline=$BASELINE_PID")
SERVER_PIDS=$(printf '%s\n' "${CPU_OF[@]}" | grep = | cut -d= -f2 | paste -sd,)

# run LABEL URL OPERATION NAME AUTH [extra args]: one closed-loop run, its JSON line kept.
run() {
	local label=$1 url=$2 operation=$3 name=$4 auth=$5
	shift 5
	local tokens=() perf_pid=
	[[ "$label ($auth)" =~ $ONLY ]] || return 0
	[[ $auth == signed-in ]] && tokens=(--tokens-file "$WORK/tokens.txt")
	echo "-- $label ($auth)" >&2
	if [[ $PROFILE == 1 ]]; then
		perf record -F 999 -p "$SERVER_PIDS" -o "$WORK/perf.data" >/dev/null 2>&1 &
		perf_pid=$!
	fi
	$B http --url "$url" --operation "bench/operations/$operation" --operation-name "$name" "${tokens[@]}" "$@" "${CPU_OF[@]}" \
		--concurrency 32 --warmup 2s --duration "$DURATION" --json |
		python3 -c "import json,sys; r=json.load(sys.stdin); r['label']='$label'; r['auth']='$auth'; print(json.dumps(r))" >>"$WORK/runs.jsonl"
	if [[ -n $perf_pid ]]; then
		kill -INT "$perf_pid"
		wait "$perf_pid" || true
		local server
		echo "-- $label ($auth)" >>"$WORK/profiles.txt"
		for server in "${CPU_OF[@]}"; do
			[[ $server == --cpu-of ]] && continue
			# awk, not head: perf must read to the end (no SIGPIPE under `set -o pipefail`).
			perf report -i "$WORK/perf.data" --pid "${server#*=}" --stdio --no-children --sort dso,symbol 2>/dev/null |
				awk -v who="${server%%=*}" '/^ +[0-9]/ && n++ < 20 {if (n == 1) print "   perf " who ":"; print "   " substr($0, 1, 150)}'
		done >>"$WORK/profiles.txt"
	fi
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
names = ["router", "ranking", "content", "baseline", "load tool"]
print(f"CPU per request, µs (user + system over the measured window):")
print(f"{'path':<26} {'auth':<10} " + " ".join(f"{n:>9}" for n in names) + f" {'servers':>9}")
for r in runs:
    cpu = r.get("cpu_us_per_request") or {}
    servers = sum(v for k, v in cpu.items() if k != "load tool")
    print(f"{r['label']:<26} {r['auth']:<10} " + " ".join(f"{cpu.get(n, 0):>9.0f}" for n in names) + f" {servers:>9.0f}")
by = {(r["label"], r["auth"]): r for r in runs}
print("ratios (router / baseline, same run):")
for page in ("hot", "feed"):
    for auth in ("signed-in", "anonymous"):
        router, base = by.get((f"{page}: router", auth)), by.get((f"{page}: baseline", auth))
        if not (router and base):
            continue
        cpu = lambda r: sum(v for k, v in (r.get("cpu_us_per_request") or {}).items() if k != "load tool")
        print(f"  {page:<5} {auth:<10} throughput {router['rps'] / base['rps']:.2f}x  p99 {router['latency_ms']['p99']:.1f} ms vs {base['latency_ms']['p99']:.1f} ms"
              f"  servers' CPU per request {cpu(router):.0f} µs vs {cpu(base):.0f} µs ({cpu(base) / max(cpu(router), 1):.2f}x)")
PY
if [[ -s $WORK/profiles.txt ]]; then
	echo "hottest symbols per server and run (perf, 999 Hz; the runs in the order above):"
	cat "$WORK/profiles.txt"
fi
