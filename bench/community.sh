#!/usr/bin/env bash
# bench/community.sh — the community subgraph's figures, printed in one run:
#   * a zone's post list page (20 posts with author, counts and viewer state) through the
#     router: rps and p50/p99 at 32 connections, signed in and anonymous; community's SQL
#     statements per page at 20 and at 50 posts (constant in the page size: dataloaders)
#   * likes of one post, then follows and unfollows of one streamer, by distinct users (the
#     counters and the liked or followed user's notification change in each action's
#     transaction); each unfollow undoes one of the phase's follows (checked: the script says
#     WRONG when a request removed none), then `vidgraph community-check`, which must report
#     nothing
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
followers() {
	gql "$(head -1 "$WORK/viewers.txt")" '{"query":"query($id: ID!) { user(id: $id) { followerCount } }","variables":{"id":"'"$streamer"'"}}' |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["user"]["followerCount"])'
}
# Every viewer but the streamer (who cannot follow themself).
head -n -1 "$WORK/viewers.txt" >"$WORK/fans.txt"
echo "== follows of one streamer by distinct viewers (32 connections, $DURATION)"
$B http --url http://127.0.0.1:4000/graphql --operation bench/operations/community_follow.graphql --operation-name CommunityFollow \
	--variables "{\"id\":\"$streamer\"}" --tokens-file "$WORK/fans.txt" --token-per-request --concurrency 32 --warmup 0s --duration "$DURATION"

# `--token-per-request` takes the tokens in file order, so the viewers who follow now are the
# first $followed lines of fans.txt: the unfollow phase gets exactly those, and half the follow
# phase's time (unfollows are not twice as fast as follows), so it never wraps round to a viewer
# who already unfollowed. The follower count before and after proves it: every unfollow
# request must have removed one follow, or the figure is reported as wrong.
followed=$(followers)
head -n "$followed" "$WORK/fans.txt" >"$WORK/unfollowers.txt"
UNFOLLOW_DURATION=$(python3 -c 'import re,sys; n,u=re.fullmatch(r"([0-9.]+)(ms|s|m)",sys.argv[1]).groups(); ms=float(n)*{"ms":1,"s":1000,"m":60000}[u]; print(f"{int(ms/2)}ms")' "$DURATION")
echo "== unfollows of that streamer by $followed of its followers, each once (32 connections, $UNFOLLOW_DURATION)"
$B http --url http://127.0.0.1:4000/graphql --operation bench/operations/community_unfollow.graphql --operation-name CommunityUnfollow \
	--variables "{\"id\":\"$streamer\"}" --tokens-file "$WORK/unfollowers.txt" --token-per-request --concurrency 32 --warmup 0s \
	--duration "$UNFOLLOW_DURATION" | tee "$WORK/unfollow.txt"
sent=$(awk '/^requests/ {print $2}' "$WORK/unfollow.txt")
undone=$((followed - $(followers)))
echo "unfollows_sent $sent unfollows_that_removed_a_follow $undone"
if [[ $sent -ne $undone ]]; then
	echo "WRONG: $((sent - undone)) unfollow requests removed no follow; the unfollow figure above is not valid" >&2
fi

echo "== the recompute check after the run (must report nothing)"
$V community-check
