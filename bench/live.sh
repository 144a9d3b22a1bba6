#!/usr/bin/env bash
# bench/live.sh — the live subgraph's numbers (issue 8), printed in one run against a release
# `vidgraph dev` (ports 4000-4005, database vidgraph_bench) plus a second `live` replica:
#   1. gifts per second end to end: `sendGift` through the router by many signed-in senders
#      into one PK's room, checked against that PK's score; and, at the same time, the latency
#      from `sendGift` to `pkUpdated` at a subscriber through the router (p50/p99), measured on
#      a second PK that only the probe's gifts touch;
#   2. danmaku fan-out: one room, N WebSocket subscribers through the router (anonymous, then
#      each with its own token): time until the LAST subscriber has a message (p50/p99 over
#      100 messages), RSS per connection at the router and at `live`;
#   3. PK transition lateness after the deadline (p50/p99) over many short PKs (phases set
#      with `setPkPhases`), with the `live` replica behind the router SIGKILLed during the run
#      (`vidgraph dev` restarts it; the second replica fires what falls due meanwhile).
#
# Run it under the machine-wide lock: flock /work/bench.lock bench/live.sh [subscribers, default 5000]
#   GIFT_SECS (default 15), GIFT_CONCURRENCY (default 32), PK_PAIRS (default 40) tune the run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# shellcheck source=bench/lib.sh
source bench/lib.sh
SUBSCRIBERS=${1:-5000}
GIFT_SECS=${GIFT_SECS:-15}
GIFT_CONCURRENCY=${GIFT_CONCURRENCY:-32}
PK_PAIRS=${PK_PAIRS:-40}
FANS=200
STREAMERS=$((4 + 2 * PK_PAIRS))
VIEWERS=$((STREAMERS + FANS + SUBSCRIBERS))

vg_bench_prepare
# Its own database (dropped first, so every run starts from the same state), Redis and NATS prefixes.
export VIDGRAPH_BENCH_DB_URL=${VIDGRAPH_BENCH_DB_URL:-postgres://postgres@127.0.0.1:5432/vidgraph_bench_live}
vg_bench_isolate
export VIDGRAPH_REDIS__KEY_PREFIX=vgbenchlive: VIDGRAPH_NATS__SUBJECT_PREFIX=vgbenchlive
psql "${VIDGRAPH_BENCH_DB_URL%/*}/postgres" -qc "DROP DATABASE IF EXISTS ${VIDGRAPH_BENCH_DB_URL##*/} WITH (FORCE)"
export VIDGRAPH_TELEMETRY__FILTER=warn
ROUTER=http://127.0.0.1:4000/graphql
LIVE=http://127.0.0.1:4004

echo "== setup: keys, migrations, seed ($VIEWERS viewers), vidgraph dev"
$V keys >/dev/null
$V migrate >/dev/null
$V seed --viewers "$VIEWERS" >/dev/null
$V mint-tokens --prefix viewer --count "$VIEWERS" >"$WORK/viewers.txt"
$V mint-tokens --prefix admin --count 1 >"$WORK/admin.txt"
# Distinct accounts: streamers, then funded fans, then one per danmaku subscriber.
head -n "$STREAMERS" "$WORK/viewers.txt" >"$WORK/streamers.txt"
sed -n "$((STREAMERS + 1)),$((STREAMERS + FANS))p" "$WORK/viewers.txt" >"$WORK/fans.txt"
tail -n "+$((STREAMERS + FANS + 1))" "$WORK/viewers.txt" >"$WORK/subscribers.txt"
[[ $(wc -l <"$WORK/subscribers.txt") -ge $SUBSCRIBERS ]] || vg_fail "only $(wc -l <"$WORK/subscribers.txt") subscriber tokens"
vg_bench_start_dev

# A second `live` replica on its own port, on the same database, Redis and NATS.
REPLICA_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
VIDGRAPH_HTTP__PORT=$REPLICA_PORT $V serve live >"$WORK/replica.log" 2>&1 &
REPLICA_PID=$!
trap 'kill "$REPLICA_PID" 2>/dev/null || true; vg_bench_cleanup' EXIT
vg_wait_for 60 "the second live replica" curl -sf "http://127.0.0.1:$REPLICA_PORT/health/ready" -o /dev/null

rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

# The GraphQL steps of the setup and the lateness query, in one helper.
cat >"$WORK/live.py" <<'EOF'
import hashlib, hmac, json, os, subprocess, sys, time, urllib.request
ROUTER, LIVE, WORK = os.environ["ROUTER"], os.environ["LIVE"], os.environ["WORK"]
SECRET = os.environ.get("VIDGRAPH_LIVE__PAYMENT_SECRET", "vidgraph-dev-payment-secret")

def gql(query, variables=None, token=None, url=ROUTER):
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(url, body, {"content-type": "application/json"})
    if token:
        request.add_header("authorization", f"Bearer {token}")
    reply = json.load(urllib.request.urlopen(request, timeout=30))
    if reply.get("errors"):
        raise SystemExit(f"{query[:60]}…: {reply['errors']}")
    return reply["data"]

def lines(name):
    return [l.strip() for l in open(f"{WORK}/{name}") if l.strip() and not l.startswith("#")]

def me(token):
    return gql("{ me { id } }", token=token)["me"]["id"]

def go_live(token, channel):
    room = gql("mutation($c: ID!) { openRoom(input: { title: \"bench\", channelId: $c }) { id } }", {"c": channel}, token)["openRoom"]["id"]
    gql("mutation { startLive { id } }", token=token)
    return room

def fund(token, amount):
    order = gql("mutation($a: Int!) { createRechargeOrder(amount: $a, channel: CARD) { id } }", {"a": amount}, token)["createRechargeOrder"]["id"]
    body = json.dumps({"orderId": order, "amount": amount, "providerRef": f"bench-{order}"}).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(f"{LIVE}/payments/callback", body, {"content-type": "application/json", "x-payment-signature": signature})
    urllib.request.urlopen(request, timeout=30).read()

def pk_pair(inviter, invitee, accept=True):
    pk = gql("mutation($to: ID!) { invitePk(inviteeId: $to) { id } }", {"to": me(invitee)}, inviter)["invitePk"]["id"]
    if accept:
        gql("mutation($pk: ID!) { acceptPk(pkId: $pk) { id } }", {"pk": pk}, invitee)
    return pk

def score(pk):
    side = gql("query($pk: ID!) { pk(id: $pk) { inviter { score } } }", {"pk": pk})["pk"]["inviter"]["score"]
    return side

command = sys.argv[1]
admin = lines("admin.txt")[0]
streamers, fans = lines("streamers.txt"), lines("fans.txt")
if command == "setup":
    channel = gql("{ channels { id } }")["channels"][0]["id"]
    for token in streamers:
        gql("mutation($u: ID!) { addToPkWhitelist(userId: $u) }", {"u": me(token)}, admin)
    rooms = [go_live(token, channel) for token in streamers[:4]]
    for token in fans:
        fund(token, 5_000_000)
    load_pk, probe_pk = pk_pair(streamers[0], streamers[1]), pk_pair(streamers[2], streamers[3])
    json.dump({"channel": channel, "rooms": rooms, "load_pk": load_pk, "probe_pk": probe_pk}, open(f"{WORK}/setup.json", "w"))
    print(f"rooms {len(rooms)} live, {len(fans)} fans funded, load PK {load_pk}, probe PK {probe_pk}")
elif command == "score":
    print(score(sys.argv[2]))
elif command == "pks":
    # Many short PKs: every pair invites; two of three accept (score, then punishment after
    # one gift), the third is left to expire. Started over ~15 s so the deadlines spread.
    setup = json.load(open(f"{WORK}/setup.json"))
    gql("mutation { setPkPhases(inviteSecs: 5, scoreSecs: 30, punishmentSecs: 10) { scoreSecs } }", token=admin)
    pairs = [(streamers[4 + 2 * i], streamers[5 + 2 * i]) for i in range((len(streamers) - 4) // 2)]
    started = []
    for i, (a, b) in enumerate(pairs):
        room = go_live(a, setup["channel"])
        go_live(b, setup["channel"])
        accept = i % 3 != 2
        pk = pk_pair(a, b, accept)
        if accept:
            gql("mutation($r: ID!, $k: String!) { sendGift(roomId: $r, giftId: \"heart\", count: 1, idempotencyKey: $k) { id } }",
                {"r": room, "k": f"pk-{pk}"}, fans[i % len(fans)])
        started.append(pk)
        time.sleep(15 / len(pairs))
    json.dump(started, open(f"{WORK}/pks.json", "w"))
    print(f"{len(started)} PKs started ({sum(1 for i in range(len(pairs)) if i % 3 != 2)} accepted, the rest left to expire)")
elif command == "lateness":
    ids = json.load(open(f"{WORK}/pks.json"))
    sql = f"""
      SELECT t.cause, t.pk_id, extract(epoch FROM t.at - CASE t.cause WHEN 'invite_expired' THEN p.invite_expires_at
             WHEN 'score_ended' THEN p.score_ends_at ELSE p.punishment_ends_at END) * 1000
      FROM live.pk_transitions t JOIN live.pks p ON p.id = t.pk_id
      WHERE t.fired_by IS NOT NULL AND t.pk_id IN ({",".join(f"'{i}'" for i in ids)})"""
    out = subprocess.run(["psql", os.environ["VIDGRAPH_DB__URL"], "-AtF", " ", "-c", sql], check=True, capture_output=True, text=True).stdout
    rows = [line.split(" ") for line in out.splitlines() if line]
    late = sorted(float(ms) for _, _, ms in rows)
    fired = {}
    for cause, pk, _ in rows:
        fired[(cause, pk)] = fired.get((cause, pk), 0) + 1
    pending = subprocess.run(["psql", os.environ["VIDGRAPH_DB__URL"], "-At", "-c",
        f"SELECT count(*) FROM live.pks WHERE state IN ('invited', 'scoring', 'punishment') AND id IN ({','.join(repr(i) for i in ids)})"],
        check=True, capture_output=True, text=True).stdout.strip()
    pick = lambda q: late[min(len(late) - 1, int(q * len(late)))] if late else float("nan")
    by_cause = {}
    for cause, _, _ in rows:
        by_cause[cause] = by_cause.get(cause, 0) + 1
    print(f"pk_transitions_fired {len(rows)} {by_cause}  fired_twice {sum(1 for n in fired.values() if n > 1)}  unfinished_pks {pending}")
    print(f"pk_lateness_ms p50={pick(0.5):.1f} p99={pick(0.99):.1f} max={late[-1] if late else float('nan'):.1f} min={late[0] if late else float('nan'):.1f} (n={len(late)})")
EOF
export ROUTER LIVE WORK
py() { python3 "$WORK/live.py" "$@"; }
py setup
setup=$WORK/setup.json
field() { python3 -c "import json,sys; print(json.load(open('$setup'))$1)"; }
LOAD_ROOM=$(field '["rooms"][0]')
PROBE_ROOM=$(field '["rooms"][2]')
LOAD_PK=$(field '["load_pk"]')
PROBE_PK=$(field '["probe_pk"]')
head -1 "$WORK/fans.txt" >"$WORK/probe_fan.txt"

echo "== 1. gifts: $GIFT_CONCURRENCY senders over $FANS accounts for ${GIFT_SECS}s into one PK room, through the router"
score_before=$(py score "$LOAD_PK")
$B http --url "$ROUTER" --operation bench/operations/live_send_gift.graphql --operation-name SendGift \
	--variables "{\"room\":\"$LOAD_ROOM\",\"gift\":\"flower\",\"count\":1,\"key\":\"{{seq}}\"}" \
	--tokens-file "$WORK/fans.txt" --token-per-request --concurrency "$GIFT_CONCURRENCY" --warmup 0s --duration "${GIFT_SECS}s" \
	>"$WORK/gifts.txt" &
GIFTS_PID=$!
sleep 2 # let the load reach its steady state before the probe starts; not a synchronisation point
$B subscribe --ws-url ws://127.0.0.1:4000/graphql --subscription bench/operations/live_pk_updated.graphql \
	--variables "{\"pk\":\"$PROBE_PK\"}" --subscribers 4 --tokens-file "$WORK/fans.txt" \
	--trigger-url "$ROUTER" --trigger bench/operations/live_send_gift.graphql \
	--trigger-variables "{\"room\":\"$PROBE_ROOM\",\"gift\":\"flower\",\"count\":1,\"key\":\"{{seq}}\"}" \
	--trigger-tokens-file "$WORK/probe_fan.txt" --ordinal \
	--events 50 --interval 200ms --drain 5s --timeout 60s 2>/dev/null |
	grep -E '^(subscribers|events_sent|delivered|missing|unmatched|latency_ms|error|first_error)' | sed 's/^/pkUpdated  /'
wait "$GIFTS_PID"
grep -E '^(requests|rps|latency_ms|errors|error)' "$WORK/gifts.txt" | sed 's/^/sendGift   /'
score_after=$(py score "$LOAD_PK")
echo "load PK score +$((score_after - score_before)) (one point per flower; every successful sendGift, in flight at the end included, counts once)"

danmaku() {
	local label=$1
	shift
	local lpid rpid l0 r0 sampler
	lpid=$(vg_pid_on_port 4004)
	rpid=$(vg_pid_on_port 4000)
	l0=$(rss_mb "$lpid")
	r0=$(rss_mb "$rpid")
	echo "== 2. danmaku fan-out, $label: $SUBSCRIBERS subscribers of one room through the router, 100 messages at 5/s"
	: >"$WORK/idle"
	$B subscribe --ws-url ws://127.0.0.1:4000/graphql --subscription bench/operations/live_room_danmaku.graphql \
		--variables "{\"room\":\"$LOAD_ROOM\"}" --subscribers "$SUBSCRIBERS" "$@" \
		--trigger-url "$ROUTER" --trigger bench/operations/live_send_danmaku.graphql \
		--trigger-variables "{\"room\":\"$LOAD_ROOM\",\"text\":\"bench {{seq}}\"}" --trigger-tokens-file "$WORK/fans.txt" \
		--events 100 --interval 200ms --probe-interval 500ms --drain 10s --timeout 240s \
		2> >(while IFS= read -r line; do
			case $line in
			*"connected, probing"*) printf '%s %s\n' "$(rss_mb "$lpid")" "$(rss_mb "$rpid")" >"$WORK/idle" ;;
			esac
		done) | grep -E '^(subscribers|connect_all_ms|sync_ms|events_sent|delivered|missing|unmatched|latency_ms|last_delivery_ms|error|first_error)' | cut -c1-300
	sleep 1 # the reader of stderr may still be writing the idle sample; not a synchronisation point
	read -r l1 r1 <"$WORK/idle" || { l1=$l0; r1=$r0; }
	python3 - "$SUBSCRIBERS" "$l0" "$l1" "$r0" "$r1" <<-'PY'
		import sys
		n, l0, l1, r0, r1 = int(sys.argv[1]), *map(float, sys.argv[2:])
		print(f"live_rss_mb      before {l0:.1f}  connected {l1:.1f}  ({(l1 - l0) * 1024 / n:.1f} KB/connection)")
		print(f"router_rss_mb    before {r0:.1f}  connected {r1:.1f}  ({(r1 - r0) * 1024 / n:.1f} KB/connection)")
	PY
}
danmaku anonymous
danmaku "each with its own token" --tokens-file "$WORK/subscribers.txt"

echo "== 3. PK timers: $PK_PAIRS short PKs (invite 5 s, score 30 s, punishment 10 s), two live replicas, the router's one SIGKILLed"
py pks
victim=$(vg_pid_on_port 4004)
kill -9 "$victim"
echo "killed live pid $victim (SIGKILL) at $(date -u +%T); vidgraph dev restarts it, replica pid $REPLICA_PID keeps running"
vg_wait_for 120 "every PK to finish" bash -c "python3 '$WORK/live.py' lateness | grep -q 'unfinished_pks 0'" || true
py lateness
