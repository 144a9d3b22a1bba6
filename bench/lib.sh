# bench/lib.sh — what the bench scripts share; sourced after scripts/lib.sh.
#
# vg_bench_prepare: services, router, a release build of the CLI and the load tool; sets B (the
#   load tool), V (the CLI) and WORK (a scratch directory), and on exit stops `vidgraph dev`,
#   removes WORK and stops the services this run started.
# vg_bench_isolate: points the CLI at its own database (VIDGRAPH_BENCH_DB_URL, default
#   vidgraph_bench), Redis prefix and NATS prefix, so the dev deployment is left untouched.
# vg_bench_start_dev: starts `vidgraph dev` in the background and waits for the router
#   (optionally up to $1 seconds, default 120).
# vg_pid_on_port PORT: the process listening on a local TCP port (e.g. one of `vidgraph dev`'s
#   subgraphs, to sample its memory or CPU).

vg_bench_prepare() {
	vg_ensure_services
	vg_ensure_router
	cargo build --release -p vidgraph -p vidgraph-bench
	B=target/release/vidgraph-bench
	V=target/release/vidgraph
	WORK=$(mktemp -d)
	trap vg_bench_cleanup EXIT
}

vg_bench_cleanup() {
	# `|| true`: a non-zero status of `vidgraph dev` must not end the trap (set -e) before WORK
	# is removed and the started services are stopped.
	[[ -n ${DEV_PID:-} ]] && kill -INT "$DEV_PID" 2>/dev/null && { wait "$DEV_PID" 2>/dev/null || true; }
	rm -rf "$WORK"
	vg_stop_started_services
}

vg_bench_isolate() {
	export VIDGRAPH_DB__URL=${VIDGRAPH_BENCH_DB_URL:-postgres://postgres@127.0.0.1:5432/vidgraph_bench}
	export VIDGRAPH_REDIS__KEY_PREFIX=vgbench:
	export VIDGRAPH_NATS__SUBJECT_PREFIX=vgbench
}

vg_bench_start_dev() {
	$V dev >"$WORK/dev.log" 2>&1 &
	DEV_PID=$!
	vg_wait_for "${1:-120}" "the router" bash -c 'curl -sf http://127.0.0.1:4000/readiness >/dev/null'
}

vg_pid_on_port() { ss -ltnpH "sport = :$1" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1; }
