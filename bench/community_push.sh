#!/usr/bin/env bash
# bench/community_push.sh — the fan-out of streamer dynamics (issue 9), printed in one run:
#   * one streamer with N followers, all N connected to `dynamicPublished` through the router
#     (each with its own token): time from `createDynamic` (through the router) until each
#     follower received it — the `max` of `latency_ms` is the last follower;
#   * the same streamer with 100,000 followers (N real accounts + ids without accounts, seeded
#     in SQL) of whom the same N are connected: the same figures (one NATS event either way;
#     each community replica looks up which of its connected users follow the streamer in one
#     statement);
#   * then `vidgraph community-check` (the seeded follows' counters are recounted in SQL).
#
# Runs against its own database, Redis and NATS prefixes and needs ports 4000-4005 (it starts
# `vidgraph dev`): run it as `flock /work/bench.lock bench/community_push.sh`.
# Usage: bench/community_push.sh [connected followers N, default 5000] [dynamics per run, default 10]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# shellcheck source=bench/lib.sh
source bench/lib.sh
CONNECTED=${1:-5000}
EVENTS=${2:-10}
FOLLOWERS=100000

vg_bench_prepare
vg_bench_isolate
$V migrate >/dev/null
$V seed --viewers "$CONNECTED" >/dev/null
vg_bench_start_dev
$V mint-tokens --prefix viewer --count "$CONNECTED" >"$WORK/tokens.txt"
STREAMER=$($V mint-tokens --prefix demo --count 1 | head -1)
streamer_id=$(curl -s http://127.0.0.1:4000/graphql -H 'content-type: application/json' -H "Authorization: Bearer $STREAMER" \
	-d '{"query":"{ me { id } }"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["me"]["id"])')
# sql QUERY: runs it with :'streamer' bound (psql interpolates variables on stdin, not in -c).
sql() { printf '%s\n' "$1" | psql "$VIDGRAPH_DB__URL" -v ON_ERROR_STOP=1 -qAt -v streamer="$streamer_id"; }

# The counters of every user a follow row touches, recounted from the rows (what followUser
# keeps in its transaction), so the recompute check stays clean after seeding in SQL.
RECOUNT="BEGIN;
  UPDATE community.user_stats SET following_count = 0, follower_count = 0;
  INSERT INTO community.user_stats AS s (user_id, following_count, follower_count)
  SELECT user_id, sum(following), sum(followers) FROM (
    SELECT follower_id AS user_id, 1 AS following, 0 AS followers FROM community.user_follows WHERE following
    UNION ALL SELECT followee_id, 0, 1 FROM community.user_follows WHERE following
  ) f GROUP BY user_id
  ON CONFLICT (user_id) DO UPDATE SET following_count = EXCLUDED.following_count, follower_count = EXCLUDED.follower_count;
  COMMIT;"

echo "== follows: the first $CONNECTED viewers follow the streamer $streamer_id (SQL), nobody else does"
sql "DELETE FROM community.user_follows WHERE followee_id = :'streamer'"
sql "INSERT INTO community.user_follows (follower_id, followee_id, following, followed_at, changed_at)
  SELECT id, :'streamer', true, now(), now() FROM (
    SELECT id FROM content.users WHERE username LIKE 'viewer%' ORDER BY username LIMIT $CONNECTED) v"
sql "$RECOUNT"

# measure LABEL: one `subscribe` run of the N connected followers through the router.
measure() {
	echo "== $1: followers $(sql "SELECT follower_count FROM community.user_stats WHERE user_id = :'streamer'"), connected $CONNECTED, $EVENTS dynamics 500 ms apart"
	# A fresh dynamics budget for the streamer (30 per 10 minutes; the probes count too).
	redis-cli --scan --pattern "${VIDGRAPH_REDIS__KEY_PREFIX}ratelimit:community:dynamic:*" | xargs -r redis-cli del >/dev/null
	$B subscribe --ws-url ws://127.0.0.1:4000/graphql --subscription bench/operations/dynamic_published.graphql \
		--subscribers "$CONNECTED" --tokens-file "$WORK/tokens.txt" \
		--trigger-url http://127.0.0.1:4000/graphql --trigger bench/operations/create_dynamic.graphql \
		--trigger-variables '{"body":"bench {{seq}}"}' --trigger-token "$STREAMER" \
		--events "$EVENTS" --interval 500ms --probe-interval 2s --drain 10s --timeout 240s --connect-concurrency 64 |
		grep -E '^(subscribers|connect_all_ms|sync_ms|events_sent|delivered|missing|unmatched|latency_ms|timed_out|error|first_error)' | cut -c1-400
}

measure "all followers connected"

echo "== follows: $((FOLLOWERS - CONNECTED)) more followers (ids without accounts, SQL)"
sql "INSERT INTO community.user_follows (follower_id, followee_id, following, followed_at, changed_at)
  SELECT gen_random_uuid(), :'streamer', true, now(), now() FROM generate_series(1, $((FOLLOWERS - CONNECTED)))"
sql "$RECOUNT"
measure "$FOLLOWERS followers"

echo "== recompute check"
$V community-check
