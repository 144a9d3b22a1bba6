#!/usr/bin/env bash
# bench/content.sh — the content subgraph's figures, printed in one run:
#   * a 50-video feed page with authors and counters: rps and p50/p90/p99 at 32 connections,
#     through the router and directly on `content`; SQL statements per page
#   * search over 100,000 seeded videos: latency per kind of query (English word, CJK word,
#     part of a word; relevance, newest and most viewed)
#   * likes of one hot video by distinct users, and how far the outbox relay (the JetStream
#     publish of every like's stat event) trails them
#
# It runs against its own database (vidgraph_bench), Redis key prefix and NATS prefix, so the
# dev database is untouched. Needs the services and free ports 4000-4005.
# Usage: bench/content.sh [duration, default 10s] [videos, default 100000]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# shellcheck source=bench/lib.sh
source bench/lib.sh
DURATION=${1:-10s}
VIDEOS=${2:-100000}
VIEWERS=20000

vg_bench_prepare
vg_bench_isolate

echo "== seed: $VIDEOS videos, $VIEWERS viewers (set-wise SQL; idempotent, so a second run adds nothing)"
$V migrate
start=$(date +%s.%N)
$V seed --videos "$VIDEOS" --viewers "$VIEWERS"
python3 -c "print('seed_s %.1f' % ($(date +%s.%N) - $start))"
psql "$VIDGRAPH_DB__URL" -Atc "ANALYZE content.videos; ANALYZE content.video_stats" >/dev/null
psql "$VIDGRAPH_DB__URL" -Atc "SELECT 'videos ' || count(*) FROM content.videos WHERE state = 'published'"

vg_bench_start_dev
$V mint-tokens --prefix viewer --count "$VIEWERS" >"$WORK/viewers.txt"
head -32 "$WORK/viewers.txt" >"$WORK/tokens.txt"
wc -l <"$WORK/viewers.txt" | xargs echo viewer_tokens

statements() { curl -s http://127.0.0.1:4001/metrics | awk '/^db_statements_total/ {print $2}'; }
echo "== SQL statements per 50-video page (content's db_statements_total around one request)"
for who in anonymous signed-in; do
	auth=()
	[[ $who == signed-in ]] && auth=(-H "Authorization: Bearer $(head -1 "$WORK/tokens.txt")")
	query='{"query":"{ videos(first: 50) { edges { node { id title author { displayName } stat { views likes } viewerState { liked } } } } }"}'
	curl -s http://127.0.0.1:4000/graphql -H 'content-type: application/json' "${auth[@]}" -d "$query" >/dev/null # warm (region list)
	before=$(statements)
	curl -s http://127.0.0.1:4000/graphql -H 'content-type: application/json' "${auth[@]}" -d "$query" >/dev/null
	echo "statements_per_page $who $(($(statements) - before))"
done

echo "== feed page of 50 with authors and counters through the router (32 connections, $DURATION)"
$B http --url http://127.0.0.1:4000/graphql --operation bench/operations/feed_page.graphql --operation-name FeedPage \
	--tokens-file "$WORK/tokens.txt" --concurrency 32 --warmup 2s --duration "$DURATION"
echo "== the same directly on content"
$B http --url http://127.0.0.1:4001/graphql --operation bench/operations/feed_page.graphql --operation-name FeedPage \
	--tokens-file "$WORK/tokens.txt" --concurrency 32 --warmup 2s --duration "$DURATION"

echo "== search over $VIDEOS videos through the router (4 connections, $DURATION each)"
for case in 'rust|RELEVANCE' '原神|RELEVANCE' '红烧|RELEVANCE' 'keyboard build|RELEVANCE' 'music|NEWEST' 'vlog|MOST_VIEWED' 'nomatchatall|RELEVANCE'; do
	q=${case%|*}
	sort=${case#*|}
	echo "-- search \"$q\" sort $sort"
	$B http --url http://127.0.0.1:4000/graphql --operation bench/operations/search.graphql --operation-name Search \
		--variables "{\"q\":\"$q\",\"sort\":\"$sort\"}" --concurrency 4 --warmup 1s --duration "$DURATION"
done

echo "== likes of one hot video by distinct viewers through the router (32 connections, $DURATION)"
# a fresh video per run, so every like of this run is a first like (a re-run's viewers would
# otherwise only repeat likes, which are idempotent and publish nothing)
video=$(curl -s http://127.0.0.1:4000/graphql -H 'content-type: application/json' -H "Authorization: Bearer $(tail -1 "$WORK/viewers.txt")" \
	-d '{"query":"mutation { createVideo(input: {title: \"Hot bench video\", regionId: 3, durationSecs: 60, sourceUrl: \"https://cdn.example.com/hot.mp4\"}) { id } }"}' |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["createVideo"]["id"])')
stream=vgbench_CONTENT_EVENTS
before=$($B stream --stream "$stream" | awk '{print $2}')
$B http --url http://127.0.0.1:4000/graphql --operation bench/operations/like.graphql --operation-name Like \
	--variables "{\"id\":\"$video\"}" --tokens-file "$WORK/viewers.txt" --token-per-request \
	--concurrency 32 --warmup 0s --duration "$DURATION" --json >"$WORK/like.json"
python3 -c 'import json; r=json.load(open("'"$WORK/like.json"'")); l=r["latency_ms"]; print("like: %d requests, %d ok, %.1f req/s, p50 %s ms, p99 %s ms" % (r["requests"], r["ok"], r["rps"], l["p50"], l["p99"]))'
likes=$(python3 -c 'import json; print(json.load(open("'"$WORK/like.json"'"))["ok"])')
echo "-- waiting for the $likes stat events in JetStream ($stream) after the load ended"
$B stream --stream "$stream" --wait-for $((before + likes)) --timeout 120s
