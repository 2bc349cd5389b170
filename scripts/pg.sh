#!/bin/bash
# Starts and stops a throw-away PostgreSQL for the tests (the backup tests
# dump it with pg_dump -Fc and restore it with pg_restore).
#
#   scripts/pg.sh start DIR PORT   initdb + start; prints "PID DATADIR"
#   scripts/pg.sh stop DATADIR     removes DATADIR once the server is gone
#
# PostgreSQL refuses to run as root: as root the data directory belongs to
# the postgres user and the server runs under setpriv (which execs, so the
# pid started is the postmaster's and a TERM stops it). The data directory
# is a mktemp directory of its own under /tmp, because every directory above
# it must be searchable by that user. Trust authentication on 127.0.0.1 and a
# private socket directory; fsync off: it is a test server.
set -u
LIFETIME=${MC_SERVER_LIFETIME:-1800}

die() { echo "pg: $*" >&2; exit 1; }

bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[ -n "$d" ] && [ -x "$d/postgres" ] || die "PostgreSQL is not installed (apt-get install postgresql)"
	echo "$d"
}

as_pg() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid=postgres --regid=postgres --init-groups "$@"
	else
		"$@"
	fi
}

start() {
	local dir=$1 port=$2 bin data end
	bin=$(bindir) || exit 1
	mkdir -p "$dir"
	data=$(mktemp -d /tmp/mercury-pg.XXXXXX) || die "mktemp"
	[ "$(id -u)" = 0 ] && chown postgres:postgres "$data"
	chmod 700 "$data"
	as_pg timeout 60 "$bin/initdb" -D "$data/db" --auth=trust --no-sync \
		--locale=C -U postgres >"$dir/pg-initdb.log" 2>&1 ||
		die "initdb failed (log: $dir/pg-initdb.log)"
	as_pg mkdir -p "$data/sock"
	timeout "$LIFETIME" "$self" __run "$bin/postgres" -D "$data/db" \
		-c listen_addresses=127.0.0.1 -c port="$port" \
		-c unix_socket_directories="$data/sock" -c fsync=off \
		-c full_page_writes=off -c synchronous_commit=off \
		</dev/null >"$dir/pg.log" 2>&1 &
	local pid=$!
	end=$((SECONDS + 20))
	# pg_isready can answer a moment before connections are taken: the
	# first real query is the readiness test.
	until "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres \
		-Atqc 'SELECT 1' >/dev/null 2>&1; do
		kill -0 "$pid" 2>/dev/null || die "postgres exited (log: $dir/pg.log)"
		[ $SECONDS -ge $end ] && die "postgres not ready after 20s (log: $dir/pg.log)"
		sleep 0.1
	done
	echo "$pid $data"
}

stop() {
	local data=$1
	case $data in /tmp/mercury-pg.*) rm -rf "$data" ;; esac
}

# timeout(1) runs a program, not a function: this wrapper is what it runs.
if [ "${1:-}" = __run ]; then
	shift
	if [ "$(id -u)" = 0 ]; then
		exec setpriv --reuid=postgres --regid=postgres --init-groups "$@"
	fi
	exec "$@"
fi
self=$(readlink -f "$0")

case ${1:-} in
start) [ $# -eq 3 ] || die "usage: pg.sh start DIR PORT"; start "$2" "$3" ;;
stop) [ $# -eq 2 ] || die "usage: pg.sh stop DATADIR"; stop "$2" ;;
*) die "usage: pg.sh start DIR PORT | stop DATADIR" ;;
esac
