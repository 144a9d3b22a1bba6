#!/usr/bin/env bash
# bench/assets-progress.sh — latency from a download's progress publish to its subscriber
# through the router (issue 10), with N downloads running at once:
#   `vidgraph dev` (router on :4000, run it under `flock /work/bench.lock`), a local file server
#   that sends each download slowly (RATE KB/s, so every task keeps publishing progress twice a
#   second for the whole run), N quick downloads started through the router, and one
#   `downloadProgress` subscriber per task through the router measuring receive time minus the
#   event's `at` (set by the worker just before it publishes; one machine, one clock).
#
# Usage: bench/assets-progress.sh [tasks, default 50] [seconds measured, default 20] [KB/s per download, default 200]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# shellcheck source=bench/lib.sh
source bench/lib.sh
N=${1:-50}
SECS=${2:-20}
RATE_KB=${3:-200}

vg_bench_prepare
export VIDGRAPH_BENCH_DB_URL=${VIDGRAPH_BENCH_DB_URL:-postgres://postgres@127.0.0.1:5432/vidgraph_bench}
vg_bench_isolate
export VIDGRAPH_AUTH__KEY_DIR="$WORK/keys"
export VIDGRAPH_TELEMETRY__FILTER=warn
export VIDGRAPH_ASSETS__ROOT="$WORK/storage"
export VIDGRAPH_ASSETS__ALLOW_DESTINATIONS='[127.0.0.0/8]'
export VIDGRAPH_ASSETS__WORKERS=$N
export VIDGRAPH_ASSETS__DAILY_LIMITS='[100000]'
# The watermark measures this machine's disk, which is not what is measured here.
export VIDGRAPH_ASSETS__DISK_HIGH_PERCENT=100 VIDGRAPH_ASSETS__DISK_WARN_PERCENT=100
FILE_PID=""
stop_file_server() {
	# `|| true`: under `set -e` a failing last command of an && list (wait on the SIGTERMed
	# server returns 143) would end the trap before vg_bench_cleanup stops `vidgraph dev`.
	if [[ -n $FILE_PID ]]; then
		kill "$FILE_PID" 2>/dev/null || true
		wait "$FILE_PID" 2>/dev/null || true
	fi
	vg_bench_cleanup
}
trap stop_file_server EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Long enough to outlast the measurement: (SECS + 30) seconds of bytes at RATE_KB.
SIZE=$(((SECS + 30) * RATE_KB * 1024))
FILE_PORT=$(free_port)
python3 - "$FILE_PORT" "$SIZE" "$RATE_KB" >"$WORK/files.log" 2>&1 <<'PY' &
import http.server, sys, time
port, size, rate_kb = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
chunk = bytes(range(256)) * (rate_kb * 1024 // 10 // 256 + 1)
chunk = chunk[: rate_kb * 1024 // 10]
class Slow(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def headers_only(self):
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(size))
        self.end_headers()
    def do_HEAD(self):
        self.headers_only()
    def do_GET(self):
        self.headers_only()
        sent = 0
        try:
            while sent < size:
                part = chunk[: size - sent]
                self.wfile.write(part)
                sent += len(part)
                time.sleep(0.1)
        except (BrokenPipeError, ConnectionResetError):
            pass
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), Slow).serve_forever()
PY
FILE_PID=$!
vg_wait_for 30 "the file server" curl -sfI "http://127.0.0.1:$FILE_PORT/slow.mp4" -o /dev/null

echo "== setup: keys, migrations, seed, vidgraph dev"
$V keys >/dev/null
$V migrate >/dev/null
$V seed --viewers 1 >/dev/null
token=$($V mint-tokens --prefix viewer --count 1 | head -1)
vg_bench_start_dev
GQL=http://127.0.0.1:4000/graphql

echo "== $N quick downloads at ${RATE_KB} KB/s each, started through the router"
: >"$WORK/tasks.txt"
run_id=$(date +%s%N)
for i in $(seq "$N"); do
	curl -sf "$GQL" -H 'content-type: application/json' -H "Authorization: Bearer $token" \
		-d "{\"query\":\"mutation(\$u: String!, \$k: String!) { startDownload(input: {url: \$u, mode: QUICK, idempotencyKey: \$k}) { id } }\",\"variables\":{\"u\":\"http://127.0.0.1:$FILE_PORT/slow-$i.mp4\",\"k\":\"progress-$run_id-$i\"}}" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["startDownload"]["id"])' >>"$WORK/tasks.txt"
done
running() {
	curl -sf "$GQL" -H 'content-type: application/json' -H "Authorization: Bearer $token" \
		-d '{"query":"{ myDownloads(first: 100, status: RUNNING) { edges { node { id } } } }"}' |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]["myDownloads"]["edges"]))'
}
for _ in $(seq 300); do
	[[ $(running) -ge $N ]] && break
	sleep 0.2
done
[[ $(running) -ge $N ]] || { echo "not all $N tasks are running"; exit 1; }

echo "== measuring for ${SECS}s: one subscriber per task through the router"
$B progress-latency --ws-url ws://127.0.0.1:4000/graphql --token "$token" --tasks-file "$WORK/tasks.txt" --duration "${SECS}s"
echo "tasks running at the end: $(running) of $N"
