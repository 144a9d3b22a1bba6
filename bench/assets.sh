#!/usr/bin/env bash
# bench/assets.sh — the download centre's throughput (issue 10), printed in one run:
#   N concurrent downloads of an S MB file from a local HTTP server through `assets`' workers:
#   aggregate MB/s as a ratio to what N concurrent `curl`s get from the same server in the same
#   run, and the CPU seconds `assets` spent per GB downloaded.
#
# Like bench/subscriptions.sh it leaves ports 4000-4005 to ./dev: `assets` runs on a free port
# with its own database, Redis prefix, NATS prefix, keys and storage root, and is called
# directly (the router adds nothing to a download's bytes). The file server is Python's
# threading http.server, the same for curl and for assets.
#
# Usage: bench/assets.sh [downloads, default 50] [size in MB, default 50]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# shellcheck source=bench/lib.sh
source bench/lib.sh
N=${1:-50}
SIZE_MB=${2:-50}

vg_bench_prepare
export VIDGRAPH_BENCH_DB_URL=${VIDGRAPH_BENCH_DB_URL:-postgres://postgres@127.0.0.1:5432/vidgraph_bench_assets}
vg_bench_isolate
export VIDGRAPH_REDIS__KEY_PREFIX=vgbenchassets: VIDGRAPH_NATS__SUBJECT_PREFIX=vgbenchassets
export VIDGRAPH_AUTH__KEY_DIR="$WORK/keys"
export VIDGRAPH_TELEMETRY__FILTER=warn
export VIDGRAPH_ASSETS__ROOT="$WORK/storage"
export VIDGRAPH_ASSETS__ALLOW_DESTINATIONS='[127.0.0.0/8]'
export VIDGRAPH_ASSETS__WORKERS=$N
export VIDGRAPH_ASSETS__DAILY_LIMITS='[1000]'
export VIDGRAPH_ASSETS__MAX_FILE_BYTES=$((SIZE_MB * 2 * 1024 * 1024))
# The watermark measures this machine's disk (shared, often past 85 %), not what is measured.
export VIDGRAPH_ASSETS__DISK_HIGH_PERCENT=100 VIDGRAPH_ASSETS__DISK_WARN_PERCENT=100
PIDS=()
stop_all() {
	local pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	vg_bench_cleanup
}
trap stop_all EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_secs() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }
now() { date +%s.%N; }

echo "== setup: keys, migrations, a ${SIZE_MB} MB file, a file server, assets on a free port"
$V keys >/dev/null
$V migrate >/dev/null
$V seed --viewers 1 >/dev/null
token=$($V mint-tokens --prefix viewer --count 1 | head -1)
mkdir -p "$WORK/files"
head -c $((SIZE_MB * 1024 * 1024)) /dev/urandom >"$WORK/files/clip.mp4"
FILE_PORT=$(free_port)
(cd "$WORK/files" && exec python3 -m http.server "$FILE_PORT" --bind 127.0.0.1) >"$WORK/files.log" 2>&1 &
PIDS+=("$!")
vg_wait_for 30 "the file server" curl -sf "http://127.0.0.1:$FILE_PORT/clip.mp4" -o /dev/null -r 0-0
ASSETS_PORT=$(free_port)
VIDGRAPH_HTTP__PORT=$ASSETS_PORT $V serve assets >"$WORK/assets.log" 2>&1 &
ASSETS_PID=$!
PIDS+=("$ASSETS_PID")
vg_wait_for 60 assets curl -sf "http://127.0.0.1:$ASSETS_PORT/health/ready" -o /dev/null
GQL="http://127.0.0.1:$ASSETS_PORT/graphql"
FILE_URL="http://127.0.0.1:$FILE_PORT/clip.mp4"
total_mb=$((N * SIZE_MB))

echo "== curl: $N concurrent downloads of $FILE_URL"
start=$(now)
for i in $(seq "$N"); do curl -s "$FILE_URL" -o /dev/null & done
wait_curls() { local pid; for pid in $(jobs -p); do case " ${PIDS[*]} " in *" $pid "*) ;; *) wait "$pid" ;; esac; done; }
wait_curls
curl_secs=$(python3 -c "print($(now) - $start)")
curl_mbps=$(python3 -c "print(round($total_mb / $curl_secs, 1))")
echo "curl: $total_mb MB in ${curl_secs}s = $curl_mbps MB/s"

echo "== assets: $N concurrent quick downloads through the workers"
cpu_before=$(cpu_secs "$ASSETS_PID")
start=$(now)
for i in $(seq "$N"); do
	curl -s "$GQL" -H 'content-type: application/json' -H "Authorization: Bearer $token" \
		-d "{\"query\":\"mutation(\$u: String!, \$k: String!) { startDownload(input: {url: \$u, mode: QUICK, idempotencyKey: \$k}) { id } }\",\"variables\":{\"u\":\"$FILE_URL\",\"k\":\"bench-$i-$start\"}}" \
		-o /dev/null &
done
wait_curls
while :; do
	done_count=$(curl -s "$GQL" -H 'content-type: application/json' -H "Authorization: Bearer $token" \
		-d '{"query":"{ myDownloads(first: 100, status: COMPLETED) { edges { node { id } } } }"}' |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]["myDownloads"]["edges"]))')
	[[ $done_count -ge $N ]] && break
	failed=$(curl -s "$GQL" -H 'content-type: application/json' -H "Authorization: Bearer $token" \
		-d '{"query":"{ myDownloads(first: 100, status: FAILED) { edges { node { id errorCode } } } }"}')
	if [[ $failed == *errorCode* ]]; then echo "a download failed: $failed"; exit 1; fi
	sleep 0.2
done
assets_secs=$(python3 -c "print($(now) - $start)")
cpu_after=$(cpu_secs "$ASSETS_PID")
assets_mbps=$(python3 -c "print(round($total_mb / $assets_secs, 1))")
cpu_per_gb=$(python3 -c "print(round(($cpu_after - $cpu_before) / ($total_mb / 1024), 2))")
ratio=$(python3 -c "print(round($assets_mbps / $curl_mbps, 2))")

echo
echo "== result ($N x ${SIZE_MB} MB, one machine)"
printf '%-34s %s\n' "curl aggregate" "$curl_mbps MB/s"
printf '%-34s %s\n' "assets aggregate (hash, fsync)" "$assets_mbps MB/s"
printf '%-34s %s\n' "assets / curl" "$ratio"
printf '%-34s %s\n' "assets CPU seconds per GB" "$cpu_per_gb"
