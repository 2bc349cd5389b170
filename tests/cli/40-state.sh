# 40-state.sh - the state file: creation, refusal, concurrency, history.

test_state_created_private_with_wal() {
	run health
	[ "$RC" -le 1 ] || fail "health exited $RC"
	[ "$(stat -c %a "$STATE")" = 600 ] || fail "state mode $(stat -c %a "$STATE")"
	[ "$(stat -c %a "$(dirname "$STATE")")" = 700 ] || fail "dir mode"
	[ "$(sql 'PRAGMA journal_mode')" = wal ] || fail "not WAL"
	[ "$(sql 'PRAGMA user_version')" -ge 1 ] || fail "no schema version"
}

test_state_default_location() {
	unset MERCURY_STATE
	run health
	[ -f "$XDG_STATE_HOME/mercury/state.db" ] || fail "not at \$XDG_STATE_HOME/mercury/state.db"
	run --state "$T_DIR/other.db" health
	[ -f "$T_DIR/other.db" ] || fail "--state not honoured"
}

test_corrupt_state_is_74_untouched() {
	mkdir -p "$(dirname "$STATE")"
	head -c 8192 /dev/urandom >"$STATE"
	local before
	before=$(sha256sum "$STATE")
	run health
	expect_rc 74
	expect_err 'untouched'
	expect_one_err_line
	[ "$(sha256sum "$STATE")" = "$before" ] || fail "corrupt file was changed"
	[ ! -e "$STATE-wal" ] || fail "a -wal file appeared"
	run --json health
	expect_rc 74
	expect_json '.exit_code == 74'
}

test_newer_schema_is_74_untouched() {
	run health
	sqlite3 "$STATE" 'PRAGMA user_version = 99'
	local before
	before=$(sha256sum "$STATE")
	run health
	expect_rc 74
	expect_err 'newer'
	[ "$(sha256sum "$STATE")" = "$before" ] || fail "newer file was changed"
}

test_unusable_state_path_is_74() {
	run --state /etc/hostname/state.db health
	expect_rc 74
	expect_one_err_line
	mkdir -p "$T_DIR/dir.db"
	run --state "$T_DIR/dir.db" health
	expect_rc 74
}

test_twenty_concurrent_runs_all_recorded() {
	conf '[check "memory"]
type = memory
warn = 100
crit = 100'
	local i pids=()
	mkdir -p "$T_DIR/c"
	for i in $(seq 1 20); do
		"$MC_BIN" --correlation-id "par-$i" health >"$T_DIR/c/$i.out" 2>"$T_DIR/c/$i.err" &
		pids+=($!)
	done
	for i in $(seq 1 20); do
		wait "${pids[$((i - 1))]}" || fail "run $i exited $?: $(cat "$T_DIR/c/$i.err")"
	done
	! grep -l 'locked' "$T_DIR"/c/*.err || fail "a lock error"
	[ "$(sql "SELECT count(*) FROM runs WHERE correlation_id LIKE 'par-%' AND status = 'ok' AND exit_code = 0")" = 20 ] ||
		fail "not 20 recorded runs: $(sql 'SELECT correlation_id, status FROM runs')"
	[ "$(sql "SELECT count(*) FROM check_results")" = 20 ] || fail "not 20 results"
}

test_history_lists_runs() {
	run --correlation-id h-1 health
	run --correlation-id h-2 config show
	run --correlation-id h-3 breaker list
	run --correlation-id h-4 alert history nosuch
	run history
	expect_rc 0
	expect_out '^ID +STARTED +STATUS +EXIT +DURATION +CORRELATION ID +COMMAND$'
	expect_out ' ok +0 .* h-3 +--correlation-id h-3 breaker list$'
	expect_out ' (ok|warning) .* h-1 +--correlation-id h-1 health$'
	# the args and the error of a failed run
	expect_out " error +64 .* h-4 +--correlation-id h-4 alert history nosuch  \(no webhook 'nosuch' in the configuration"
	expect_no_out 'h-2'
	run history --json --command health
	expect_json '(.runs | length) == 1 and .runs[0].correlation_id == "h-1" and (.runs[0].duration_ms | type) == "number"'
	run history --json --since 1h --command health
	expect_json "(.runs | length) == 1"
	# a command takes its subcommands: breaker is breaker list
	run history --json --command breaker
	expect_json '(.runs | length) == 1 and .runs[0].command == "breaker list"'
	run history --json --command breaker\ list
	expect_json '(.runs | length) == 1'
	run history --json --command break
	expect_json '(.runs | length) == 0'
	run history --json --limit 2
	expect_json '.runs | length == 2'
	# The running history itself is listed first, without an end.
	expect_json '.runs[0].command == "history" and .runs[0].status == "running" and .runs[0].exit_code == null'
}

test_history_pruned_by_age() {
	run health
	sql "INSERT INTO runs (command, started, ended, exit_code, status) VALUES ('old', 1000, 1001, 0, 'ok')"
	conf '[core]
history = 1d'
	run health
	[ "$(sql "SELECT count(*) FROM runs WHERE command = 'old'")" = 0 ] || fail "old run not pruned"
	[ "$(sql "SELECT count(*) FROM runs WHERE command = 'health'")" = 2 ] || fail "recent runs pruned"
}
