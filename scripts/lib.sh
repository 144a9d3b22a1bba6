# shellcheck shell=bash
# Shared helpers for ./dev, ./test and .ci/run. Source it; it defines functions and a few
# VG_* variables, and is safe under `set -euo pipefail`.
#
#   vg_ensure_postgres | vg_ensure_redis | vg_ensure_nats
#       Make the service reachable and export VIDGRAPH_DB__URL / VIDGRAPH_REDIS__URL /
#       VIDGRAPH_NATS__URL. If the variable is already set, only check that it answers.
#       Otherwise: (a) reuse a server already on the standard port, (b) start a private one
#       (data under .vidgraph/services/<name>/) from installed binaries, (c) apt-get install the
#       server (root or passwordless sudo) and do (b).
#   vg_ensure_services          all three
#   vg_stop_started_services    stop what *this shell* started (`--all`: every pid file)
#   vg_ensure_router            export VIDGRAPH_ROUTER_BIN, building Hive Router once if needed
#   vg_ensure_node_modules      `npm ci` when node_modules is missing or stale
#   vg_ensure_nextest           set VG_TEST_RUNNER=nextest, or cargo-test as a fallback
#   vg_ensure_lint_tools        rustfmt and clippy (rustup components) for ./test's checks
#   vg_ensure_ytdlp [--install] export VIDGRAPH_ASSETS__YTDLP_PATH when a yt-dlp runs (the one
#       set, the venv under ~/.cache/vidgraph/yt-dlp, or PATH); --install (./test) creates that
#       venv from PyPI when none runs and sets VIDGRAPH_REQUIRE_YTDLP=1 once one does; without
#       it (./dev) a missing yt-dlp is one line saying how to install it.
#   vg_ensure_web_app           web/: `npm ci` when web/node_modules is stale, `npm run build`
#       when web/dist is missing or older than a source of it (web/ or the supergraph)
#   vg_ensure_chromium          export VG_CHROMIUM (Debian's /usr/bin/chromium), apt-get
#       installing `chromium` when it is missing (root or passwordless sudo)

VG_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VG_STATE_DIR="$VG_REPO/.vidgraph"
VG_SERVICES_DIR="$VG_STATE_DIR/services"
VG_ROUTER_VERSION="$(tr -d '[:space:]' <"$VG_REPO/router/VERSION")"
VG_CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/vidgraph"
# cargo-nextest version installed when the machine has none (builds with rustc >= 1.91).
VG_NEXTEST_VERSION="0.9.143"
# yt-dlp installed by ./test into $VG_CACHE_DIR/yt-dlp when the machine has none.
VG_YTDLP_VERSION="2026.10.26"

VG_DEFAULT_DB_URL="postgres://postgres@127.0.0.1:5432/vidgraph"
VG_DEFAULT_REDIS_URL="redis://127.0.0.1:6379"
VG_DEFAULT_NATS_URL="nats://127.0.0.1:4222"

# Services started by this shell (names), stopped by vg_stop_started_services.
VG_STARTED_SERVICES=()
VG_APT_UPDATED=0

vg_log() { printf '[vidgraph] %s\n' "$*" >&2; }
vg_fail() {
	vg_log "error: $*"
	return 1
}

# ---------------------------------------------------------------------------------------------
# small utilities

# vg_url_host_port URL DEFAULT_PORT -> sets VG_HOST and VG_PORT (first host of a list).
vg_url_host_port() {
	local url=$1 rest
	rest=${url#*://}
	rest=${rest%%,*}
	rest=${rest%%[/?]*}
	rest=${rest##*@}
	if [[ $rest == \[* ]]; then
		VG_HOST=${rest%%]*}
		VG_HOST=${VG_HOST#[}
		VG_PORT=${rest##*]}
		VG_PORT=${VG_PORT#:}
	else
		VG_HOST=${rest%%:*}
		VG_PORT=""
		[[ $rest == *:* ]] && VG_PORT=${rest##*:}
	fi
	VG_PORT=${VG_PORT:-$2}
}

# vg_tcp_open HOST PORT: a TCP connection can be made within 2 s.
vg_tcp_open() {
	timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

# vg_wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND every 0.2 s until it succeeds.
vg_wait_for() {
	local secs=$1 what=$2 i
	shift 2
	for ((i = 0; i < secs * 5; i++)); do
		if "$@"; then return 0; fi
		sleep 0.2
	done
	vg_log "timed out after ${secs}s waiting for $what"
	return 1
}

vg_postgres_ready() {
	if command -v pg_isready >/dev/null 2>&1; then
		pg_isready -q -h "$1" -p "$2" -t 2 >/dev/null 2>&1
	else
		vg_tcp_open "$1" "$2"
	fi
}

vg_redis_ready() {
	# A server that wants a password answers -NOAUTH: it is up, the URL carries the secret.
	timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1
		printf "PING\r\n" >&3
		IFS= read -r -t 2 line <&3 || exit 1
		[[ $line == +PONG* || $line == -NOAUTH* ]]' "$1" "$2" 2>/dev/null
}

# vg_nats_info HOST PORT: prints the INFO line the server sends on connect.
vg_nats_info() {
	timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1
		IFS= read -r -t 2 line <&3 || exit 1
		printf "%s\n" "$line"' "$1" "$2" 2>/dev/null
}

vg_nats_ready() {
	local info
	info=$(vg_nats_info "$1" "$2") || return 1
	[[ $info == INFO* && $info == *'"jetstream":true'* ]]
}

# Prefix for commands that need root ("" when we are root, "sudo -n" when that works).
vg_root_prefix() {
	if [[ $(id -u) -eq 0 ]]; then
		VG_ROOT=()
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		VG_ROOT=(sudo -n)
	else
		return 1
	fi
}

# vg_apt_install PACKAGE...: path (c). Fails when apt-get or root are not available.
vg_apt_install() {
	command -v apt-get >/dev/null 2>&1 || return 1
	vg_root_prefix || return 1
	if [[ $VG_APT_UPDATED -eq 0 ]]; then
		vg_log "apt-get update"
		"${VG_ROOT[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
		VG_APT_UPDATED=1
	fi
	vg_log "apt-get install $*"
	"${VG_ROOT[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# vg_find_bin NAME: path of a server binary in PATH or /usr/sbin, /usr/local/sbin.
vg_find_bin() {
	local p
	p=$(command -v "$1" 2>/dev/null) && [[ -x $p ]] && { printf '%s\n' "$p"; return 0; }
	for p in /usr/sbin/"$1" /usr/local/sbin/"$1" /usr/local/bin/"$1"; do
		[[ -x $p ]] && { printf '%s\n' "$p"; return 0; }
	done
	return 1
}

vg_pg_bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1) || true
	if [[ -n $d && -x $d/initdb && -x $d/pg_ctl ]]; then
		printf '%s\n' "$d"
		return 0
	fi
	d=$(command -v initdb 2>/dev/null) || return 1
	d=$(dirname "$(readlink -f "$d")")
	[[ -x $d/pg_ctl ]] && printf '%s\n' "$d"
}

# The lock that serialises starting services between concurrent ./dev and ./test.
vg_services_lock() {
	mkdir -p "$VG_SERVICES_DIR"
	exec {VG_SERVICES_LOCK_FD}>"$VG_SERVICES_DIR/.lock"
	flock "$VG_SERVICES_LOCK_FD"
}
vg_services_unlock() {
	if [[ -n ${VG_SERVICES_LOCK_FD:-} ]]; then
		exec {VG_SERVICES_LOCK_FD}>&-
		unset VG_SERVICES_LOCK_FD
	fi
}

# Runs a command that leaves a server behind, without handing it the lock's file descriptor:
# a server that inherited it would hold the lock for as long as it runs.
vg_without_lock() {
	if [[ -n ${VG_SERVICES_LOCK_FD:-} ]]; then
		"$@" {VG_SERVICES_LOCK_FD}>&-
	else
		"$@"
	fi
}

vg_record_started() { # NAME PID
	printf '%s\n' "$2" >"$VG_SERVICES_DIR/$1.pid"
	VG_STARTED_SERVICES+=("$1")
}

vg_tail_log() {
	[[ -f $1 ]] && tail -n 20 "$1" | sed 's/^/    /' >&2
	return 0
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL

# Runs a command as the owner of the private cluster: initdb refuses to run as root.
vg_pg_as_owner() {
	if [[ $(id -u) -ne 0 ]]; then
		"$@"
	elif command -v runuser >/dev/null 2>&1; then
		runuser -u "$VG_PG_OWNER" -- "$@"
	else
		su -s /bin/sh "$VG_PG_OWNER" -c "$(printf '%q ' "$@")"
	fi
}

vg_start_postgres() { # PORT
	local port=$1 bindir dir data log pid
	bindir=$(vg_pg_bindir) || return 1
	dir="$VG_SERVICES_DIR/postgres"
	data="$dir/data"
	log="$dir/postgres.log"
	mkdir -p "$dir"
	if [[ $(id -u) -eq 0 ]]; then
		VG_PG_OWNER=postgres
		if ! id -u postgres >/dev/null 2>&1; then
			VG_PG_OWNER=vidgraph-pg
			id -u "$VG_PG_OWNER" >/dev/null 2>&1 ||
				useradd --system --no-create-home --shell /usr/sbin/nologin "$VG_PG_OWNER" || return 1
		fi
		chown "$VG_PG_OWNER" "$dir"
		if ! vg_pg_as_owner test -w "$dir"; then
			# A parent of the repository is closed to that user (e.g. /root): keep the cluster in
			# /var/tmp, linked from the usual place.
			local alt
			alt="/var/tmp/vidgraph-postgres-$(printf '%s' "$VG_REPO" | md5sum | cut -c1-12)"
			mkdir -p "$alt"
			chown "$VG_PG_OWNER" "$alt"
			chmod 700 "$alt"
			ln -sfn "$alt/data" "$data"
			vg_log "postgres: $VG_PG_OWNER cannot write under $dir; cluster lives in $alt"
			data="$alt/data"
			log="$alt/postgres.log"
		fi
	else
		VG_PG_OWNER=$(id -un)
	fi
	if [[ ! -f $data/PG_VERSION ]]; then
		vg_pg_as_owner "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --no-locale \
			--no-sync >"$dir/initdb.log" 2>&1 || {
			vg_log "postgres: initdb failed:"
			vg_tail_log "$dir/initdb.log"
			return 1
		}
	fi
	# Unix sockets off (their default directory may not exist or be writable): TCP only.
	# fsync off: this cluster is a disposable development/test database.
	vg_without_lock vg_pg_as_owner "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories= -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=500" \
		start >/dev/null || {
		vg_log "postgres: pg_ctl start failed:"
		vg_tail_log "$log"
		return 1
	}
	vg_wait_for 60 "postgres on 127.0.0.1:$port" vg_postgres_ready 127.0.0.1 "$port" || return 1
	pid=$(head -n 1 "$data/postmaster.pid")
	vg_record_started postgres "$pid"
	VG_PG_STARTED_DATA=$data
}

vg_create_database() { # URL: create its database when missing (trust auth, local default only)
	local url=$1 db base psql
	db=${url##*/}
	db=${db%%\?*}
	base=${url%/*}
	psql=$(command -v psql 2>/dev/null) || psql="$(vg_pg_bindir 2>/dev/null || true)/psql"
	[[ -x $psql ]] || return 0
	if [[ -z $("$psql" "$base/postgres" -tAc "select 1 from pg_database where datname = '$db'" 2>/dev/null) ]]; then
		"$psql" "$base/postgres" -qc "create database \"$db\"" >/dev/null 2>&1 ||
			vg_log "postgres: could not create database $db (continuing)"
	fi
}

vg_ensure_postgres() {
	if [[ -n ${VIDGRAPH_DB__URL:-} ]]; then
		vg_url_host_port "$VIDGRAPH_DB__URL" 5432
		if [[ -z $VG_HOST || $VG_HOST == /* ]]; then
			vg_log "postgres: using VIDGRAPH_DB__URL (socket connection, not checked)"
			return 0
		fi
		vg_postgres_ready "$VG_HOST" "$VG_PORT" ||
			vg_fail "postgres: VIDGRAPH_DB__URL is set but $VG_HOST:$VG_PORT does not answer" || return 1
		vg_log "postgres: using VIDGRAPH_DB__URL ($VG_HOST:$VG_PORT)"
		return 0
	fi
	export VIDGRAPH_DB__URL="$VG_DEFAULT_DB_URL"
	vg_services_lock
	local how=""
	if vg_postgres_ready 127.0.0.1 5432; then
		how="using the server already on 127.0.0.1:5432"
	else
		if ! vg_pg_bindir >/dev/null; then
			vg_apt_install postgresql ||
				{ vg_services_unlock; vg_fail "postgres: not reachable on 127.0.0.1:5432, not installed, and apt-get install is not possible"; return 1; }
			how="installed with apt-get, "
		fi
		if vg_postgres_ready 127.0.0.1 5432; then
			how="${how}using the server it started on 127.0.0.1:5432"
		elif vg_tcp_open 127.0.0.1 5432; then
			vg_services_unlock
			vg_fail "postgres: something on 127.0.0.1:5432 is not PostgreSQL; free the port or set VIDGRAPH_DB__URL"
			return 1
		else
			vg_start_postgres 5432 || { vg_services_unlock; return 1; }
			how="${how}started a private server (data: ${VG_PG_STARTED_DATA#"$VG_REPO"/}, pid $(cat "$VG_SERVICES_DIR/postgres.pid")) on 127.0.0.1:5432"
		fi
	fi
	vg_create_database "$VIDGRAPH_DB__URL"
	vg_services_unlock
	vg_log "postgres: $how"
}

# ---------------------------------------------------------------------------------------------
# Redis

vg_start_redis() { # PORT
	local port=$1 bin dir
	bin=$(vg_find_bin redis-server) || return 1
	dir="$VG_SERVICES_DIR/redis"
	mkdir -p "$dir"
	rm -f "$dir/redis.pid"
	# Nothing kept on disk: Redis is rebuildable from Postgres by design.
	vg_without_lock "$bin" --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$dir" \
		--daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null || {
		vg_tail_log "$dir/redis.log"
		return 1
	}
	vg_wait_for 30 "redis on 127.0.0.1:$port" vg_redis_ready 127.0.0.1 "$port" || {
		vg_tail_log "$dir/redis.log"
		return 1
	}
	vg_wait_for 5 "redis pid file" test -s "$dir/redis.pid" || return 1
	vg_record_started redis "$(cat "$dir/redis.pid")"
}

vg_ensure_redis() {
	if [[ -n ${VIDGRAPH_REDIS__URL:-} ]]; then
		vg_url_host_port "$VIDGRAPH_REDIS__URL" 6379
		vg_redis_ready "$VG_HOST" "$VG_PORT" ||
			vg_fail "redis: VIDGRAPH_REDIS__URL is set but $VG_HOST:$VG_PORT does not answer PING" || return 1
		vg_log "redis: using VIDGRAPH_REDIS__URL ($VG_HOST:$VG_PORT)"
		return 0
	fi
	export VIDGRAPH_REDIS__URL="$VG_DEFAULT_REDIS_URL"
	vg_services_lock
	local how=""
	if vg_redis_ready 127.0.0.1 6379; then
		how="using the server already on 127.0.0.1:6379"
	else
		if ! vg_find_bin redis-server >/dev/null; then
			vg_apt_install redis-server ||
				{ vg_services_unlock; vg_fail "redis: not reachable on 127.0.0.1:6379, not installed, and apt-get install is not possible"; return 1; }
			how="installed with apt-get, "
		fi
		if vg_redis_ready 127.0.0.1 6379; then
			how="${how}using the server it started on 127.0.0.1:6379"
		elif vg_tcp_open 127.0.0.1 6379; then
			vg_services_unlock
			vg_fail "redis: something on 127.0.0.1:6379 does not answer PING; free the port or set VIDGRAPH_REDIS__URL"
			return 1
		else
			vg_start_redis 6379 || { vg_services_unlock; return 1; }
			how="${how}started a private server (.vidgraph/services/redis, pid $(cat "$VG_SERVICES_DIR/redis.pid")) on 127.0.0.1:6379"
		fi
	fi
	vg_services_unlock
	vg_log "redis: $how"
}

# ---------------------------------------------------------------------------------------------
# NATS with JetStream

vg_start_nats() { # PORT
	local port=$1 bin dir
	bin=$(vg_find_bin nats-server) || return 1
	dir="$VG_SERVICES_DIR/nats"
	mkdir -p "$dir/jetstream"
	rm -f "$dir/nats.pid"
	# setsid: the server gets no Ctrl-C from the terminal; vg_stop_started_services stops it.
	vg_without_lock setsid "$bin" -a 127.0.0.1 -p "$port" -js -sd "$dir/jetstream" -P "$dir/nats.pid" \
		-l "$dir/nats.log" </dev/null >/dev/null 2>&1 &
	vg_wait_for 30 "nats on 127.0.0.1:$port" vg_nats_ready 127.0.0.1 "$port" || {
		vg_tail_log "$dir/nats.log"
		return 1
	}
	vg_wait_for 5 "nats pid file" test -s "$dir/nats.pid" || return 1
	vg_record_started nats "$(cat "$dir/nats.pid")"
}

vg_ensure_nats() {
	if [[ -n ${VIDGRAPH_NATS__URL:-} ]]; then
		vg_url_host_port "$VIDGRAPH_NATS__URL" 4222
		vg_nats_ready "$VG_HOST" "$VG_PORT" ||
			vg_fail "nats: VIDGRAPH_NATS__URL is set but $VG_HOST:$VG_PORT does not answer with JetStream enabled" || return 1
		vg_log "nats: using VIDGRAPH_NATS__URL ($VG_HOST:$VG_PORT, JetStream on)"
		return 0
	fi
	export VIDGRAPH_NATS__URL="$VG_DEFAULT_NATS_URL"
	vg_services_lock
	local how=""
	if vg_nats_ready 127.0.0.1 4222; then
		how="using the server already on 127.0.0.1:4222 (JetStream on)"
	elif vg_nats_info 127.0.0.1 4222 | grep -q '^INFO'; then
		vg_services_unlock
		vg_fail "nats: the server on 127.0.0.1:4222 has JetStream disabled; restart it with -js or set VIDGRAPH_NATS__URL"
		return 1
	else
		if ! vg_find_bin nats-server >/dev/null; then
			vg_apt_install nats-server ||
				{ vg_services_unlock; vg_fail "nats: not reachable on 127.0.0.1:4222, not installed, and apt-get install is not possible"; return 1; }
			how="installed with apt-get, "
		fi
		if vg_nats_ready 127.0.0.1 4222; then
			how="${how}using the server it started on 127.0.0.1:4222"
		elif vg_tcp_open 127.0.0.1 4222; then
			vg_services_unlock
			vg_fail "nats: something on 127.0.0.1:4222 is not NATS with JetStream; free the port or set VIDGRAPH_NATS__URL"
			return 1
		else
			vg_start_nats 4222 || { vg_services_unlock; return 1; }
			how="${how}started a private server (.vidgraph/services/nats, pid $(cat "$VG_SERVICES_DIR/nats.pid")) on 127.0.0.1:4222"
		fi
	fi
	vg_services_unlock
	vg_log "nats: $how"
}

vg_ensure_services() {
	vg_ensure_postgres || return 1
	vg_ensure_redis || return 1
	vg_ensure_nats || return 1
}

# ---------------------------------------------------------------------------------------------
# stopping

# The process behind PID is still the server we started (not a recycled PID).
vg_pid_is() { # PID NAME
	local comm
	[[ -r /proc/$1/comm ]] || return 1
	comm=$(cat "/proc/$1/comm" 2>/dev/null) || return 1
	case $2 in
	postgres) [[ $comm == postgres* ]] ;;
	redis) [[ $comm == redis-server* ]] ;;
	nats) [[ $comm == nats-server* ]] ;;
	*) return 1 ;;
	esac
}

# vg_stop_started_services [--all]: stop the services this shell started (--all: every
# service with a pid file under .vidgraph/services, e.g. left over by a killed run).
vg_stop_started_services() {
	local names=() name pidfile pid sig i
	if [[ ${1:-} == --all ]]; then
		for pidfile in "$VG_SERVICES_DIR"/*.pid; do
			[[ -e $pidfile ]] && names+=("$(basename "$pidfile" .pid)")
		done
	else
		names=("${VG_STARTED_SERVICES[@]}")
	fi
	for name in "${names[@]}"; do
		pidfile="$VG_SERVICES_DIR/$name.pid"
		[[ -f $pidfile ]] || continue
		pid=$(cat "$pidfile")
		if [[ $pid =~ ^[0-9]+$ ]] && vg_pid_is "$pid" "$name"; then
			# postgres: SIGINT is the "fast" shutdown (SIGTERM waits for clients to leave).
			sig=TERM
			[[ $name == postgres ]] && sig=INT
			kill -s "$sig" "$pid" 2>/dev/null || true
			for ((i = 0; i < 150; i++)); do
				vg_pid_is "$pid" "$name" || break
				sleep 0.2
			done
			if vg_pid_is "$pid" "$name"; then
				kill -s KILL "$pid" 2>/dev/null || true
			fi
			vg_log "$name: stopped the private server (pid $pid)"
		fi
		rm -f "$pidfile"
	done
	VG_STARTED_SERVICES=()
}

# ---------------------------------------------------------------------------------------------
# Hive Router

vg_router_installed() { # BIN ROOT
	[[ -x $1 ]] && grep -qs "\"hive-router $VG_ROUTER_VERSION " "$2/.crates2.json"
}

vg_ensure_router() {
	local root bin lockfd
	root="$VG_CACHE_DIR/hive-router-$VG_ROUTER_VERSION"
	bin="$root/bin/hive_router"
	if ! vg_router_installed "$bin" "$root"; then
		mkdir -p "$VG_CACHE_DIR"
		exec {lockfd}>"$VG_CACHE_DIR/hive-router-$VG_ROUTER_VERSION.lock"
		if ! flock -n "$lockfd"; then
			vg_log "router: another process is building hive-router $VG_ROUTER_VERSION; waiting for it"
			flock "$lockfd"
		fi
		if ! vg_router_installed "$bin" "$root"; then
			vg_log "router: building hive-router $VG_ROUTER_VERSION into $root"
			vg_log "router: a cold build takes about 22 minutes on two cores (once per machine; log: $VG_CACHE_DIR/hive-router-build.log)"
			# The same --target-dir as any other build of it: cargo's own build-directory lock
			# makes a concurrent build (even one started by hand) wait instead of racing.
			if ! cargo install "hive-router@$VG_ROUTER_VERSION" --locked --features graphiql \
				--root "$root" --target-dir "$VG_CACHE_DIR/hive-router-build" \
				2>&1 | tee -a "$VG_CACHE_DIR/hive-router-build.log" >&2; then
				exec {lockfd}>&-
				vg_fail "router: cargo install hive-router@$VG_ROUTER_VERSION failed (see $VG_CACHE_DIR/hive-router-build.log)"
				return 1
			fi
		fi
		exec {lockfd}>&-
		vg_router_installed "$bin" "$root" ||
			vg_fail "router: $bin missing after the build" || return 1
		vg_log "router: built $bin"
	else
		vg_log "router: using cached $bin"
	fi
	export VIDGRAPH_ROUTER_BIN="$bin"
}

# ---------------------------------------------------------------------------------------------
# Node (schema composition)

vg_ensure_node_modules() {
	if ! command -v npm >/dev/null 2>&1; then
		vg_apt_install nodejs npm || vg_fail "node: npm is missing and cannot be installed" || return 1
	fi
	local stamp="$VG_REPO/node_modules/.package-lock.json"
	if [[ ! -f $stamp || $VG_REPO/package-lock.json -nt $stamp || $VG_REPO/package.json -nt $stamp ]]; then
		vg_log "node: npm ci"
		(cd "$VG_REPO" && npm ci --no-audit --no-fund --loglevel=error >&2) || vg_fail "node: npm ci failed" || return 1
		touch "$stamp"
	else
		vg_log "node: node_modules up to date"
	fi
}

# ---------------------------------------------------------------------------------------------
# test runner

# rustfmt and clippy ship with rustup's default profile; a minimal toolchain lacks them, and
# ./test's format and lint checks must not then fail for the wrong reason.
vg_ensure_lint_tools() {
	if cargo fmt --version >/dev/null 2>&1 && cargo clippy --version >/dev/null 2>&1; then
		return 0
	fi
	vg_log "lint: adding the rustfmt and clippy components"
	rustup component add rustfmt clippy >&2 || vg_fail "lint: rustfmt/clippy are missing and rustup could not add them"
}

# Sets VG_TEST_RUNNER to "nextest" (installing cargo-nextest if needed) or "cargo-test" when it
# cannot be had: the workspace's tests run either way, nextest only runs them faster and
# reports better.
vg_ensure_nextest() {
	if cargo nextest --version >/dev/null 2>&1; then
		VG_TEST_RUNNER=nextest
		vg_log "tests: $(cargo nextest --version 2>/dev/null | head -n 1)"
		return 0
	fi
	vg_log "tests: installing cargo-nextest $VG_NEXTEST_VERSION (a few minutes, once)"
	if cargo install "cargo-nextest@$VG_NEXTEST_VERSION" --locked >&2 && cargo nextest --version >/dev/null 2>&1; then
		VG_TEST_RUNNER=nextest
	else
		vg_log "tests: cargo-nextest unavailable; falling back to cargo test"
		VG_TEST_RUNNER=cargo-test
	fi
}

# ---------------------------------------------------------------------------------------------
# yt-dlp (the assets subgraph's extractor for sites; optional)

vg_ensure_ytdlp() {
	local venv="$VG_CACHE_DIR/yt-dlp" candidate
	for candidate in "${VIDGRAPH_ASSETS__YTDLP_PATH:-}" "$venv/bin/yt-dlp" "$(command -v yt-dlp 2>/dev/null || true)"; do
		if [[ -n $candidate ]] && "$candidate" --version >/dev/null 2>&1; then
			export VIDGRAPH_ASSETS__YTDLP_PATH="$candidate"
			if [[ ${1:-} == --install ]]; then export VIDGRAPH_REQUIRE_YTDLP=1; fi
			vg_log "yt-dlp: $candidate ($("$candidate" --version 2>/dev/null))"
			return 0
		fi
	done
	if [[ ${1:-} != --install ]]; then
		vg_log "yt-dlp: not installed, so assets parses only direct media links and HLS playlists;" \
			"install it with 'python3 -m pip install --user yt-dlp' (see README)"
		return 0
	fi
	vg_log "yt-dlp: installing yt-dlp==$VG_YTDLP_VERSION from PyPI into $venv"
	if python3 -m venv "$venv" >&2 && "$venv/bin/python" -m pip install --quiet "yt-dlp==$VG_YTDLP_VERSION" >&2 &&
		"$venv/bin/yt-dlp" --version >/dev/null 2>&1; then
		export VIDGRAPH_ASSETS__YTDLP_PATH="$venv/bin/yt-dlp" VIDGRAPH_REQUIRE_YTDLP=1
	else
		# nextest hides a passing test's output, so the skipped tests are named here too.
		vg_log "yt-dlp: could not be installed; SKIPPED (each prints a SKIPPED line):" \
			"vidgraph-assets ytdlp::a_page_with_a_video_parses_and_downloads_through_ytdlp_and_the_egress_proxy," \
			"ytdlp::ytdlps_own_connections_are_refused_for_every_destination_the_url_policy_refuses," \
			"vidgraph e2e assets_ytdlp::a_page_downloads_through_ytdlp_and_its_connections_obey_the_url_policy_through_the_router"
	fi
}

# ---------------------------------------------------------------------------------------------
# The web app (web/) and the browser its tests drive

vg_ensure_web_app() {
	local web="$VG_REPO/web" stamp="$VG_REPO/web/node_modules/.package-lock.json" built="$VG_REPO/web/dist/index.html"
	vg_ensure_node_modules || return 1
	if [[ ! -f $stamp || $web/package-lock.json -nt $stamp || $web/package.json -nt $stamp ]]; then
		vg_log "web: npm ci"
		(cd "$web" && npm ci --no-audit --no-fund --loglevel=error >&2) || vg_fail "web: npm ci failed" || return 1
		touch "$stamp"
	fi
	# Stale when any input of the build is newer than its output (the generated src/gql/ is
	# written by the build itself).
	if [[ ! -f $built ]] || [[ -n $(find "$web/src" "$web/index.html" "$web/package-lock.json" "$web/vite.config.ts" \
		"$web/codegen.ts" "$web/tsconfig.json" "$VG_REPO/schema/supergraph.graphql" \
		-path "$web/src/gql" -prune -o -newer "$built" -print -quit) ]]; then
		vg_log "web: npm run build (web/dist is missing or stale)"
		(cd "$web" && npm run build --silent >&2) || vg_fail "web: the build failed" || return 1
	else
		vg_log "web: web/dist up to date"
	fi
}

vg_ensure_chromium() {
	VG_CHROMIUM="${VG_CHROMIUM:-/usr/bin/chromium}"
	if [[ ! -x $VG_CHROMIUM ]]; then
		vg_apt_install chromium || vg_fail "browser: $VG_CHROMIUM is missing and chromium cannot be installed" || return 1
	fi
	export VG_CHROMIUM
	vg_log "browser: $("$VG_CHROMIUM" --version 2>/dev/null | head -n 1)"
}
