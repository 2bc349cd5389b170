# lib.sh - helpers for the CLI tests (sourced). Each test runs in its own
# subshell in $T_DIR with HOME, XDG dirs, config and state of its own.
set -u
T_FAILS=0

t_setup() {
	export HOME=$T_DIR/home XDG_CONFIG_HOME=$T_DIR/home/.config \
		XDG_STATE_HOME=$T_DIR/home/.local/state
	mkdir -p "$HOME"
	unset MERCURY_CONFIG MERCURY_STATE MERCURY_LOG_FORMAT MERCURY_LOG_LEVEL \
		MERCURY_CORRELATION_ID MERCURY_REDIS_URL REDIS_URL \
		MERCURY_PROMETHEUS_URL PROMETHEUS_URL NO_COLOR \
		MERCURY_REDIS_PASSWORD REDISCLI_AUTH
	STATE=$T_DIR/state/state.db
	export MERCURY_STATE=$STATE
}

t_finish() {
	[ "$T_FAILS" -eq 0 ]
}

fail() {
	echo "  assertion failed: $*" >&2
	T_FAILS=$((T_FAILS + 1))
}

# run ARGS...: runs mercuryctl; sets RC, OUT (stdout file), ERR (stderr file).
run() {
	OUT=$T_DIR/out ERR=$T_DIR/err
	# shellcheck disable=SC2086
	${MC_WRAP:-} "$MC_BIN" "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
}

out() { cat "$OUT"; }
err() { cat "$ERR"; }

expect_rc() {
	[ "$RC" = "$1" ] || fail "exit code $RC, expected $1 (stderr: $(head -c 400 "$ERR"))"
}
expect_out() { grep -qE -- "$1" "$OUT" || fail "stdout lacks /$1/: $(head -c 600 "$OUT")"; }
expect_err() { grep -qE -- "$1" "$ERR" || fail "stderr lacks /$1/: $(head -c 600 "$ERR")"; }
expect_no_out() { ! grep -qE -- "$1" "$OUT" || fail "stdout has /$1/"; }
expect_no_err() { ! grep -qE -- "$1" "$ERR" || fail "stderr has /$1/"; }
expect_empty_out() { [ ! -s "$OUT" ] || fail "stdout not empty: $(head -c 300 "$OUT")"; }
expect_one_err_line() {
	[ "$(wc -l <"$ERR")" -eq 1 ] || fail "stderr is not one line: $(cat "$ERR")"
}
# expect_json FILTER: jq -e FILTER on stdout (which must be one JSON document).
expect_json() {
	[ "$(jq -s length "$OUT" 2>/dev/null)" = 1 ] ||
		fail "stdout is not exactly one JSON document: $(head -c 300 "$OUT")"
	jq -e "$1" "$OUT" >/dev/null 2>&1 || fail "jq '$1' false on: $(head -c 600 "$OUT")"
}
# sql QUERY: runs QUERY on the state file.
sql() { sqlite3 -cmd ".timeout 5000" "$STATE" "$1"; }

# conf TEXT: writes the config file $T_DIR/mercury.conf and points at it.
conf() {
	CONF=$T_DIR/mercury.conf
	printf '%s\n' "$1" >"$CONF"
	export MERCURY_CONFIG=$CONF
}

# wrapped VALGRIND PLAIN: VALGRIND when mercuryctl runs under valgrind
# (MC_WRAP), else PLAIN: a real-time bound scaled for valgrind's slowdown.
# ("${MC_WRAP:+A}${MC_WRAP:-B}" is no such thing: under valgrind it gives
# A followed by MC_WRAP's own text.)
wrapped() { if [ -n "${MC_WRAP:-}" ]; then echo "$1"; else echo "$2"; fi; }

# wait_until SECONDS COMMAND...: polls a condition, bounded.
wait_until() {
	local limit=$1 end
	shift
	end=$((SECONDS + limit))
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.02
	done
}

# receiver_got PREFIX: the receiver has recorded a request under PREFIX.
receiver_got() {
	curl -sf "$MC_TEST_RECEIVER/_requests?path_prefix=$1" | jq -e 'length > 0' >/dev/null
}

# sql_is VALUE QUERY: for wait_until.
sql_is() { [ "$(sql "$2")" = "$1" ]; }

# rcli ARGS...: redis-cli on the test Redis.
rcli() { redis-cli -p "$MC_TEST_REDIS_PORT" "$@"; }

# dlq_conf [EXTRA KEYS]: a DLQ "q" on lists unique to this test ($K:src,
# $K:tgt, $K:dead).
dlq_conf() {
	K=mc-cli-$$-$RANDOM
	rcli DEL "$K:src" "$K:tgt" "$K:dead" >/dev/null
	conf "[core]
redis_url = $MC_TEST_REDIS_URL
[dlq \"q\"]
source = $K:src
target = $K:tgt
dead   = $K:dead
${1:-}"
}
