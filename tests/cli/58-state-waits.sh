# 58-state-waits.sh - the state file under pressure: SQLite's busy wait
# ends at --timeout, a read-only state directory is named as such, and a
# [core] history shorter than a dedup_window keeps live dedup records.

test_state_lock_wait_ends_at_the_deadline() {
	local t0 ms pid
	run breaker list
	expect_rc 0
	# Another process holds the write lock for up to 20 s.
	timeout 30 /usr/bin/python3 -c '
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
time.sleep(20)
' "$STATE" "$T_DIR/locked" </dev/null >/dev/null 2>&1 &
	pid=$!
	wait_until 10 test -e "$T_DIR/locked" || fail "the locker did not start"
	t0=$(date +%s%3N)
	run --timeout 1500ms breaker list
	ms=$(($(date +%s%3N) - t0))
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	expect_rc 75
	expect_err 'database is locked'
	# 1.5 s of deadline (SQLite's own wait was 10 s), slack for the process.
	[ "$ms" -lt "$(wrapped 8000 3000)" ] || fail "the run took $ms ms with --timeout 1500ms"
}

test_read_only_state_directory_is_named() {
	local dir
	dir=$(dirname "$STATE")
	run breaker list
	expect_rc 0
	OUT=$T_DIR/out ERR=$T_DIR/err
	rm -f "$STATE-wal" "$STATE-shm"
	# The directory read-only, the file in it writable (as a directory
	# without write permission is for its owner): bind mounts in mount and
	# user namespaces of our own, so no root is needed, and root cannot
	# get round them either.
	unshare -rm sh -c 'mount --bind "$1" "$1" &&
		mount --bind "$1/state.db" "$1/state.db" &&
		mount -o remount,bind,ro "$1" || exit 90
		shift; exec "$@"' sh "$dir" ${MC_WRAP:-} "$MC_BIN" breaker list \
		>"$OUT" 2>"$ERR" </dev/null
	RC=$?
	[ "$RC" != 90 ] || fail "cannot set up the read-only mount: $(cat "$ERR")"
	expect_rc 74
	expect_err "its directory $dir is not writable"
	expect_no_err 'not a mercuryctl state database'
}

test_short_history_keeps_live_dedup_records() {
	local u=dedup-$$-$RANDOM
	printf '%s/%s\n' "$MC_TEST_RECEIVER" "$u" >"$T_DIR/hook.url"
	conf "[core]
history = 1m
[webhook \"j\"]
type = json
url_file = $T_DIR/hook.url
dedup_window = 1h"
	run alert send --severity warning --summary "once $u" --json
	expect_json '.deliveries.j.result == "delivered"'
	# Ten minutes later (older than history, within the dedup window):
	# any run prunes the history at its end.
	sql "UPDATE alert_dedup SET sent = sent - 600"
	run breaker list
	expect_rc 0
	run alert send --severity warning --summary "once $u" --json
	expect_json '.deliveries.j | .result == "suppressed" and (.message | test("within dedup_window 1h"))'
	# A resolved record is history: pruned.
	run alert send --summary "once $u" --resolve --json
	expect_json '.deliveries.j.result == "delivered"'
	sql "UPDATE alert_dedup SET sent = sent - 600"
	run breaker list
	[ "$(sql "SELECT count(*) FROM alert_dedup")" = 0 ] || fail "a resolved record older than history was kept"
}
