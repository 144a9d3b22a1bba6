#!/usr/bin/env bash
# bench/subscriptions.sh — subscriptions at scale (issue 13), printed in one run:
#   N subscribers of ONE topic (`userUpdated` of one account), anonymous and with distinct
#   tokens, through the router (each router → subgraph transport and setting compared in the
#   same run) and directly on `content`; E events at 10/s; delivered / expected, p99 from
#   publish; RSS per idle subscription at the router and at `content`, the highest RSS while
#   events flow, and RSS after the subscribers left.
#
# Unlike the other bench scripts it does not use `vidgraph dev` (ports 4000-4005 belong to
# ./dev): it runs `content` and each router variant on free ports, with its own database, Redis
# prefix, NATS prefix and keys. Only `content` is started: the operations measured touch no other
# subgraph.
#
# Usage: bench/subscriptions.sh [subscribers, default 5000] [events, default 100]
#   VARIANTS="websocket websocket-dedupe http-streaming direct" (default: all) and MODES="anonymous tokens"
#   (default: both) pick a subset of the runs; TOKENS (default 48) is how many distinct viewer
#   tokens the `tokens` mode spreads the subscribers over (TOKENS=$SUBSCRIBERS: each its own).
#   Every run prints the CPU seconds `content`, the router and the load tool spent while events
#   flowed (from the first trigger until every event arrived); PROFILE=1 also samples `content`
#   and the router with `perf record` over that phase and prints their hottest symbols.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# shellcheck source=bench/lib.sh
source bench/lib.sh
SUBSCRIBERS=${1:-5000}
EVENTS=${2:-100}
TOKENS=${TOKENS:-48}
PROFILE=${PROFILE:-0}
VARIANTS=${VARIANTS:-websocket websocket-dedupe http-streaming direct}
MODES=${MODES:-anonymous tokens}

vg_bench_prepare
export VIDGRAPH_BENCH_DB_URL=${VIDGRAPH_BENCH_DB_URL:-postgres://postgres@127.0.0.1:5432/vidgraph_bench_subs}
vg_bench_isolate
export VIDGRAPH_REDIS__KEY_PREFIX=vgbenchsubs: VIDGRAPH_NATS__SUBJECT_PREFIX=vgbenchsubs
export VIDGRAPH_AUTH__KEY_DIR="$WORK/keys"
export VIDGRAPH_TELEMETRY__FILTER=warn
PIDS=()
stop_all() {
	local pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	vg_bench_cleanup
}
trap stop_all EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

echo "== setup: keys, migrations, seed ($TOKENS viewers), content on a free port"
$V keys >/dev/null
$V migrate >/dev/null
$V seed --viewers "$TOKENS" >/dev/null
$V mint-tokens --prefix viewer --count "$TOKENS" >"$WORK/tokens.txt"
trigger_token=$($V mint-tokens --prefix demo --count 1 | head -1)
CONTENT_PORT=$(free_port)
VIDGRAPH_HTTP__PORT=$CONTENT_PORT $V serve content >"$WORK/content.log" 2>&1 &
CONTENT_PID=$!
PIDS+=("$CONTENT_PID")
vg_wait_for 60 content curl -sf "http://127.0.0.1:$CONTENT_PORT/health/ready" -o /dev/null
CONTENT_URL="http://127.0.0.1:$CONTENT_PORT/graphql"
user_id=$(curl -s "$CONTENT_URL" -H 'content-type: application/json' -H "Authorization: Bearer $trigger_token" \
	-d '{"query":"{ me { id } }"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["me"]["id"])')
echo "tokens $(wc -l <"$WORK/tokens.txt"), topic userUpdated($user_id)"

# stage_router NAME SED-EXPRESSION: a router directory whose config is the repo's with the edit
# applied (the variant under test), routing `content` to our port.
stage_router() {
	local dir="$WORK/router-$1"
	mkdir -p "$dir"
	sed -e "$2" router/router.config.yaml >"$dir/router.config.yaml"
	[[ -z $2 ]] || ! cmp -s router/router.config.yaml "$dir/router.config.yaml" || vg_fail "variant $1: the config edit matched nothing" || exit 1
	python3 - "$CONTENT_URL" schema/supergraph.graphql >"$dir/supergraph.graphql" <<-'EOF'
		import re, sys
		text = open(sys.argv[2]).read()
		print(re.sub(r'(@join__graph\(name: "content", url: ")[^"]*', lambda m: m.group(1) + sys.argv[1], text), end="")
	EOF
	cp "$WORK/keys/jwks.json" "$dir/jwks.json"
	echo "$dir"
}

# start_router DIR: sets ROUTER_PID and ROUTER_PORT.
start_router() {
	ROUTER_PORT=$(free_port)
	# MIMALLOC_PURGE_DELAY: the allocator setting the router runs with (ROUTER_ALLOCATOR_ENV in
	# crates/vidgraph/src/router.rs).
	MIMALLOC_PURGE_DELAY=0 ROUTER_CONFIG_FILE_PATH="$1/router.config.yaml" PORT=$ROUTER_PORT LOG_LEVEL=warn "$VIDGRAPH_ROUTER_BIN" >"$1/router.log" 2>&1 &
	ROUTER_PID=$!
	PIDS+=("$ROUTER_PID")
	vg_wait_for 60 "router $1" curl -sf "http://127.0.0.1:$ROUTER_PORT/readiness" -o /dev/null
}

# content's real-time subscribers right now (its /metrics gauge).
content_subscribers() {
	curl -s "http://127.0.0.1:$CONTENT_PORT/metrics" | awk '$1 == "realtime_subscribers" {print $2+0; found=1} END {if (!found) print 0}'
}

# measure LABEL WS_URL ROUTER_PID(or -) [--tokens-file F]: one `subscribe` run with RSS samples.
measure() {
	local label=$1 url=$2 rpid=$3
	shift 3
	local c0 r0=- c_idle r_idle c_max=0 r_max=0 c_after r_after sampler line
	c0=$(rss_mb "$CONTENT_PID")
	[[ $rpid != - ]] && r0=$(rss_mb "$rpid")
	echo "== $label: $SUBSCRIBERS subscribers, $EVENTS events at 10/s"
	: >"$WORK/phase"
	# Samples RSS every 200 ms while events flow (between `sending` and the end of the run).
	(
		while sleep 0.2; do
			[[ -s $WORK/phase ]] || continue
			printf '%s %s\n' "$(rss_mb "$CONTENT_PID")" "$([[ $rpid != - ]] && rss_mb "$rpid" || echo 0)"
		done
	) >"$WORK/samples" &
	sampler=$!
	local perf_pids=() target
	if [[ $PROFILE == 1 ]]; then
		# Started disabled (-D -1) and switched on and off through a control FIFO at the phase's edges.
		for target in "content:$CONTENT_PID" "router:$rpid"; do
			[[ ${target#*:} == - ]] && continue
			rm -f "$WORK/perf-${target%%:*}.ctl"
			mkfifo "$WORK/perf-${target%%:*}.ctl"
			perf record -F 499 -D -1 --control "fifo:$WORK/perf-${target%%:*}.ctl" -p "${target#*:}" -o "$WORK/perf-${target%%:*}.data" >/dev/null 2>&1 &
			perf_pids+=($!)
		done
	fi
	perf_control() {
		local ctl
		for ctl in "$WORK"/perf-*.ctl; do [[ -p $ctl ]] && echo "$1" >"$ctl"; done
	}
	local cpu_of=(--cpu-of "content=$CONTENT_PID")
	[[ $rpid != - ]] && cpu_of+=(--cpu-of "router=$rpid")
	$B subscribe --ws-url "$url" --subscription bench/operations/user_updated.graphql "${cpu_of[@]}" \
		--variables "{\"id\":\"$user_id\"}" --subscribers "$SUBSCRIBERS" "$@" \
		--trigger-url "$CONTENT_URL" --trigger bench/operations/update_profile.graphql \
		--trigger-variables '{"bio":"bench {{seq}}"}' --trigger-token "$trigger_token" \
		--events "$EVENTS" --interval 100ms --probe-interval 500ms --drain 10s --timeout 240s \
		2> >(while IFS= read -r line; do
			case $line in
			*"connected, probing"*)
				# Every subscription is open and none has had an event yet: the idle cost.
				printf '%s %s\n' "$(rss_mb "$CONTENT_PID")" "$([[ $rpid != - ]] && rss_mb "$rpid" || echo 0)" >"$WORK/idle" ;;
			*"sending"*)
				[[ $PROFILE == 1 ]] && perf_control enable
				echo on >"$WORK/phase" ;;
			*"drained"*)
				[[ $PROFILE == 1 ]] && perf_control disable ;;
			esac
			printf '%s\n' "$line" >&2
		done) | grep -E '^(subscribers|connect_all_ms|sync_ms|events_sent|delivered|missing|unmatched|latency_ms|timed_out|error|first_error|cpu_s)' | cut -c1-400
	kill "$sampler" 2>/dev/null || true
	wait "$sampler" 2>/dev/null || true
	if ((${#perf_pids[@]})); then
		local pid name
		for pid in "${perf_pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
		for name in content router; do
			[[ -s $WORK/perf-$name.data ]] || continue
			echo "perf $name: hottest symbols while events flow"
			# awk, not head: it reads to the end, so perf gets no SIGPIPE (which `set -o pipefail` would make fatal).
			perf report -i "$WORK/perf-$name.data" --stdio --no-children --sort dso,symbol 2>/dev/null | awk '/^ +[0-9]/ && n++ < 25 {print substr($0, 1, 160)}'
			rm -f "$WORK/perf-$name.data" "$WORK/perf-$name.ctl"
		done
	fi
	read -r c_idle r_idle <"$WORK/idle" || true
	read -r c_max r_max < <(awk 'BEGIN {c=0; r=0} {if ($1>c) c=$1; if ($2>r) r=$2} END {print c, r}' "$WORK/samples")
	# Memory given back: wait until content has released every subscription, then read RSS.
	vg_wait_for 60 "content to release its subscriptions" bash -c "[[ \$(curl -s http://127.0.0.1:$CONTENT_PORT/metrics | awk '\$1 == \"realtime_subscribers\" {print \$2+0}') == 0 ]]" || true
	sleep 2 # let the router finish closing sockets before reading RSS; not a synchronisation point
	c_after=$(rss_mb "$CONTENT_PID")
	[[ $rpid != - ]] && r_after=$(rss_mb "$rpid")
	# And once more after one period of platform::memory's heap trim (10 s) has surely passed.
	sleep 12
	c_trimmed=$(rss_mb "$CONTENT_PID")
	python3 - "$SUBSCRIBERS" "$c0" "${c_idle:-0}" "$c_max" "$c_after" "$c_trimmed" <<-'EOF'
		import sys
		n, base, idle, peak, after, trimmed = int(sys.argv[1]), *map(float, sys.argv[2:])
		print(f"content_rss_mb   before {base:.1f}  idle {idle:.1f}  ({(idle - base) * 1024 / n:.1f} KB/subscription)  while events flow max {peak:.1f}  after leaving {after:.1f}  12 s later {trimmed:.1f}")
	EOF
	if [[ $rpid != - ]]; then
		r_trimmed=$(rss_mb "$rpid")
		python3 - "$SUBSCRIBERS" "$r0" "${r_idle:-0}" "$r_max" "$r_after" "$r_trimmed" <<-'EOF'
			import sys
			n, base, idle, peak, after, later = int(sys.argv[1]), *map(float, sys.argv[2:])
			print(f"router_rss_mb    before {base:.1f}  idle {idle:.1f}  ({(idle - base) * 1024 / n:.1f} KB/subscription)  while events flow max {peak:.1f}  after leaving {after:.1f}  12 s later {later:.1f}")
		EOF
	fi
	local left
	left=$(content_subscribers)
	echo "content_subscribers_left $left"
	if [[ $left != 0 ]]; then
		# Hive Router 0.2.13 notices that a deduplicated upstream subscription has no listener
		# left only when it next has an event to hand out: one more event shows whether that is
		# what keeps them open.
		curl -s "$CONTENT_URL" -H 'content-type: application/json' -H "Authorization: Bearer $trigger_token" \
			-d '{"query":"mutation { updateProfile(input: { bio: \"one more\" }) { id } }"}' >/dev/null
		vg_wait_for 10 "content to release its subscriptions after one more event" bash -c "[[ \$(curl -s http://127.0.0.1:$CONTENT_PORT/metrics | awk '\$1 == \"realtime_subscribers\" {print \$2+0}') == 0 ]]" || true
		echo "content_subscribers_left_after_one_more_event $(content_subscribers)"
	fi
}

# Router variants: the repo's config (router -> subgraph over one multiplexed WebSocket per
# header set, identical subscriptions of one identity deduplicated: traffic_shaping.router.dedupe),
# the same without the deduplication, and HTTP streaming (one SSE stream per upstream
# subscription, deduplicated like the repo's).
NO_DEDUPE='/^    dedupe:$/,/^      enabled:/ s/^      enabled: true$/      enabled: false/'
# Router -> subgraph over HTTP streaming: no `websocket` block.
HTTP_STREAMING='/^subscriptions:/,/^[a-z]/ { /^  websocket:$/,/^      path: /d }'
for variant in $VARIANTS; do
	case $variant in
	websocket) dir=$(stage_router "$variant" "$NO_DEDUPE") ;;
	websocket-dedupe) dir=$(stage_router "$variant" '') ;;
	http-streaming) dir=$(stage_router "$variant" "$HTTP_STREAMING") ;;
	direct) continue ;;
	*) vg_fail "unknown variant $variant" ;;
	esac
	start_router "$dir"
	for mode in $MODES; do
		case $mode in
		anonymous) measure "router ($variant), anonymous" "ws://127.0.0.1:$ROUTER_PORT/graphql" "$ROUTER_PID" ;;
		tokens) measure "router ($variant), $TOKENS distinct tokens" "ws://127.0.0.1:$ROUTER_PORT/graphql" "$ROUTER_PID" --tokens-file "$WORK/tokens.txt" ;;
		esac
	done
	kill "$ROUTER_PID"
	wait "$ROUTER_PID" 2>/dev/null || true
done
if [[ " $VARIANTS " == *" direct "* ]]; then
	measure "content directly, anonymous" "ws://127.0.0.1:$CONTENT_PORT/graphql" -
fi
