#!/usr/bin/env bash
# bench/search.sh — relevance search over N seeded videos (default 1,000,000), through the
# router at 4 connections: p50/p90/p99 per kind of query (issue 11's goal: p99 <= 100 ms for a
# common word, a part of a word and a two-character CJK query), plus the other sorts and
# queries whose matches are served by other plans (a word found only in tags and descriptions,
# no match at all).
#
# Runs against its own database (vidgraph_bench), Redis prefix and NATS prefix, like
# ranking.sh (which seeds the same database). Needs the services and free ports 4000-4005.
# Usage: bench/search.sh [duration, default 10s] [videos, default 1000000]
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

echo "== seed: $VIDEOS videos (idempotent, so a second run adds nothing)"
$V keys >/dev/null
$V migrate
$V seed --videos "$VIDEOS" --viewers 2000 >/dev/null
# a migration that rewrote every row leaves the old versions behind until a vacuum
psql "$VIDGRAPH_DB__URL" -Atc "VACUUM ANALYZE content.videos" >/dev/null
psql "$VIDGRAPH_DB__URL" -Atc "SELECT 'videos ' || count(*) FROM content.videos WHERE state = 'published'"
for q in rust 原神 红烧 keyb music; do
	psql "$VIDGRAPH_DB__URL" -Atc "SELECT 'matches $q ' || count(*) FROM content.videos WHERE state = 'published' AND search_text LIKE '%$q%'"
done

vg_bench_start_dev 300

echo "== search over $VIDEOS videos through the router (4 connections, $DURATION each, pages of 20)"
for case in 'rust|RELEVANCE|a common word' '原神|RELEVANCE|two CJK characters' '红烧|RELEVANCE|two CJK characters, part of a word' \
	'keyb|RELEVANCE|part of a word' 'keyboard build|RELEVANCE|two words' 'music|RELEVANCE|a word in tags and descriptions only' \
	'nomatchatall|RELEVANCE|no match' 'music|NEWEST|newest' 'vlog|MOST_VIEWED|most viewed'; do
	IFS='|' read -r q sort what <<<"$case"
	echo "-- search \"$q\" sort $sort ($what)"
	$B http --url http://127.0.0.1:4000/graphql --operation bench/operations/search.graphql --operation-name Search \
		--variables "{\"q\":\"$q\",\"sort\":\"$sort\"}" --concurrency 4 --warmup 1s --duration "$DURATION"
done
