#!/usr/bin/env bash
# bench/community.sh — the community subgraph's figures, printed in one run:
#   * a zone's post list page (20 posts with author, counts and viewer state) through the
#     router: rps and p50/p99 at 32 connections, signed in and anonymous; community's SQL
#     statements per page at 20 and at 50 posts (constant in the page size: dataloaders)
#   * likes of one post, then follows and unfollows of one streamer, by distinct users (the
#     counters and the liked or followed user's notification change in each action's
#     transaction), then `vidgraph community-check`, which must report nothing
# Fan-out of dynamics is not measured: dynamics and their push are not built yet (issue 9,
# slice 4).
#
# Like bench/content.sh it runs against its own database, Redis and NATS prefixes, and needs
# the services and free ports 4000-4005 (it starts `vidgraph dev`).
# Usage: bench/community.sh [duration, default 10s]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# shellcheck source=bench/lib.sh
source bench/lib.sh
DURATION=${1:-10s}
VIEWERS=5000

vg_bench_prepare
vg_bench_isolate
$V migrate
$V seed --viewers "$VIEWERS"
vg_bench_start_dev
$V mint-tokens --prefix viewer --count "$VIEWERS" >"$WORK/viewers.txt"
head -32 "$WORK/viewers.txt" >"$WORK/tokens.txt"
ADMIN=$($V mint-tokens --prefix admin --count 1)

gql() { # token, JSON body
	curl -s http://127.0.0.1:4000/graphql -H 'content-type: application/json' -H "Authorization: Bearer $1" -d "$2"
}
statements() { curl -s http://127.0.0.1:4003/metrics | awk '/^db_statements_total/ {print $2}'; }

zone=$(gql "$ADMIN" '{"query":"mutation { createZone(input: {name: \"Bench '"$RANDOM"'\"}) { id } }"}' |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["createZone"]["id"])')
echo "== 100 posts in zone $zone by 100 viewers"
head -100 "$WORK/viewers.txt" | while read -r token; do
	gql "$token" '{"query":"mutation($z: ID!) { createPost(input: {zoneId: $z, body: \"bench post\"}) { id } }","variables":{"z":"'"$zone"'"}}' >/dev/null
done
post=$(gql "$ADMIN" '{"query":"query($z: ID) { posts(zoneId: $z, first: 1) { edges { node { id } } } }","variables":{"z":"'"$zone"'"}}' |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["posts"]["edges"][0]["node"]["id"])')

echo "== community SQL statements per page (db_statements_total of community around one request)"
for first in 20 50; do
	body='{"query":"query($z: ID, $n: Int) { posts(zoneId: $z, first: $n) { edges { node { id likeScore likedByViewer author { followerCount } } } } }","variables":{"z":"'"$zone"'","n":'"$first"'}}'
	gql "$(head -1 "$WORK/tokens.txt")" "$body" >/dev/null # warm
	before=$(statements)
	gql "$(head -1 "$WORK/tokens.txt")" "$body" >/dev/null
	echo "statements_per_page first=$first $(($(statements) - before))"
done

echo "== post list page of 20 through the router (32 signed-in connections, $DURATION)"
$B http --url http://127.0.0.1:4000/graphql --operation bench/operations/community_posts_page.graphql --operation-name CommunityPostsPage \
	--variables "{\"zone\":\"$zone\",\"first\":20}" --tokens-file "$WORK/tokens.txt" --concurrency 32 --warmup 2s --duration "$DURATION"

echo "== post list page of 20 through the router (32 anonymous connections, $DURATION)"
$B http --url http://127.0.0.1:4000/graphql --operation bench/operations/community_posts_page.graphql --operation-name CommunityPostsPage \
	--variables "{\"zone\":\"$zone\",\"first\":20}" --concurrency 32 --warmup 2s --duration "$DURATION"

echo "== likes of one post by distinct viewers (32 connections, $DURATION)"
$B http --url http://127.0.0.1:4000/graphql --operation bench/operations/community_like.graphql --operation-name CommunityLike \
	--variables "{\"id\":\"$post\"}" --tokens-file "$WORK/viewers.txt" --token-per-request --concurrency 32 --warmup 0s --duration "$DURATION"

streamer=$(gql "$(tail -1 "$WORK/viewers.txt")" '{"query":"{ me { id } }"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["me"]["id"])')
echo "== follows of one streamer by distinct viewers (32 connections, $DURATION)"
$B http --url http://127.0.0.1:4000/graphql --operation bench/operations/community_follow.graphql --operation-name CommunityFollow \
	--variables "{\"id\":\"$streamer\"}" --tokens-file "$WORK/viewers.txt" --token-per-request --concurrency 32 --warmup 0s --duration "$DURATION"

echo "== unfollows of that streamer by distinct viewers (32 connections, $DURATION)"
$B http --url http://127.0.0.1:4000/graphql --operation bench/operations/community_unfollow.graphql --operation-name CommunityUnfollow \
	--variables "{\"id\":\"$streamer\"}" --tokens-file "$WORK/viewers.txt" --token-per-request --concurrency 32 --warmup 0s --duration "$DURATION"

echo "== the recompute check after the run (must report nothing)"
$V community-check
