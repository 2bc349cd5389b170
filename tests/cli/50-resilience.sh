# 50-resilience.sh - breakers, locks, signals, the deadline, correlation.

add_breaker() {
	run breaker list	# creates the state file
	sql "INSERT INTO breakers (name, state, failures, opened_at, updated) VALUES ('$1', 1, 5, strftime('%s','now'), strftime('%s','now'))"
}

test_breaker_list_empty() {
	run breaker list
	expect_rc 0
	expect_out 'no circuit breakers recorded'
	run breaker list --json
	expect_json '.breakers == []'
}

test_breaker_list_and_reset() {
	add_breaker "webhook:ops"
	run breaker list
	expect_rc 0
	expect_out '^webhook:ops +open +5 '
	run breaker list --json
	expect_json '.breakers[0] | .name == "webhook:ops" and .state == "open" and .failures == 5 and (.retry_at | type) == "string"'
	run breaker reset webhook:ops
	expect_rc 0
	expect_out "breaker 'webhook:ops' reset"
	run breaker list --json
	expect_json '[.breakers[] | select(.name == "webhook:ops" and .state != "closed")] == []'
}

test_breaker_reset_unknown_is_usage() {
	run breaker reset nosuch
	expect_rc 64
	expect_err "nosuch"
	expect_one_err_line
}

# hold_lock NAME: a process that holds DIR/locks/NAME.lock the way another
# mercuryctl run would (flock, its pid inside) until release_lock.
hold_lock() {
	local dir
	dir=$(dirname "$STATE")/locks
	mkdir -p "$dir"
	mkfifo "$T_DIR/release"
	(
		exec 9>"$dir/$1.lock"
		flock 9
		echo "$BASHPID" >&9
		echo "$BASHPID" >"$T_DIR/holder"
		read -r _ <"$T_DIR/release"
	) &
	wait_until 10 test -s "$T_DIR/holder" || fail "lock holder did not start"
	HOLDER=$(cat "$T_DIR/holder")
}
release_lock() { echo go >"$T_DIR/release"; }

test_held_lock_exits_75_naming_pid() {
	add_breaker b1
	hold_lock breaker
	run breaker reset b1
	expect_rc 75
	expect_err "pid $HOLDER"
	expect_one_err_line
	release_lock
	wait
	run breaker reset b1
	expect_rc 0
	[ "$(sql "SELECT exit_code FROM runs WHERE command = 'breaker reset' ORDER BY id LIMIT 1")" = 75 ] ||
		fail "the refused run was not recorded with 75"
}

test_wait_lock_waits_for_release() {
	add_breaker b2
	hold_lock breaker
	"$MC_BIN" --wait-lock 20s breaker reset b2 >"$T_DIR/w.out" 2>"$T_DIR/w.err" &
	local pid=$!
	# Release only once the waiting run is recorded as running.
	wait_until 10 sql_is 1 "SELECT count(*) FROM runs WHERE command = 'breaker reset' AND status = 'running'" ||
		fail "the waiting run never started"
	release_lock
	wait "$pid"
	local rc=$?
	[ "$rc" = 0 ] || fail "--wait-lock run exited $rc: $(cat "$T_DIR/w.err")"
	grep -q "reset" "$T_DIR/w.out" || fail "no reset output"
	wait
}

test_wait_lock_gives_up() {
	add_breaker b3
	hold_lock breaker
	run --wait-lock 300ms breaker reset b3
	expect_rc 75
	expect_err "pid $HOLDER"
	release_lock
	wait
}

# interrupt_push SIGNAL: a health run whose push hangs, then SIGNAL.
interrupt_push() {
	local sig=$1 prefix=/hang/sig-$1-$$
	"$MC_BIN" --correlation-id "sig-$sig" health --pushgateway "$MC_TEST_RECEIVER$prefix" \
		>"$T_DIR/s.out" 2>"$T_DIR/s.err" &
	local pid=$!
	wait_until 10 receiver_got "$prefix" || fail "push never reached the receiver"
	kill "-$sig" "$pid"
	wait "$pid"
	RC=$?
}

test_sigterm_stops_cleanly_143() {
	interrupt_push TERM
	[ "$RC" = 143 ] || fail "exit $RC after SIGTERM: $(cat "$T_DIR/s.err")"
	grep -q 'interrupted' "$T_DIR/s.err" || fail "no message: $(cat "$T_DIR/s.err")"
	[ "$(sql "SELECT status, exit_code FROM runs WHERE correlation_id = 'sig-TERM'")" = "interrupted|143" ] ||
		fail "run not recorded as interrupted: $(sql 'SELECT * FROM runs')"
	[ "$(sql "SELECT count(*) FROM check_results")" = 3 ] || fail "finished step lost"
}

test_sigint_stops_cleanly_130() {
	interrupt_push INT
	[ "$RC" = 130 ] || fail "exit $RC after SIGINT"
	[ "$(sql "SELECT status, exit_code FROM runs WHERE correlation_id = 'sig-INT'")" = "interrupted|130" ] ||
		fail "run not recorded as interrupted"
}

test_deadline_bounds_the_run() {
	run --timeout 1s health --pushgateway "$MC_TEST_RECEIVER/hang/deadline-$$"
	expect_rc 74
	expect_err 'deadline'
	expect_one_err_line
}

test_correlation_headers_on_requests() {
	run --correlation-id 0af7651916cd43dd8448eb211c80319c health \
		--pushgateway "$MC_TEST_RECEIVER/pg-$$"
	expect_rc 0
	curl -sf "$MC_TEST_RECEIVER/_requests?path_prefix=/pg-$$" >"$T_DIR/req"
	jq -e '.[0].method == "PUT" and (.[0].path | startswith("/pg-'$$'/metrics/job/mercuryctl/command/health/instance/"))' "$T_DIR/req" >/dev/null ||
		fail "push request: $(cat "$T_DIR/req")"
	jq -e '.[0].headers | to_entries | map({(.key | ascii_downcase): .value}) | add |
		.["x-correlation-id"] == "0af7651916cd43dd8448eb211c80319c" and
		(.traceparent | test("^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$"))' "$T_DIR/req" >/dev/null ||
		fail "headers: $(jq '.[0].headers' "$T_DIR/req")"
}

test_signal_while_waiting_for_a_lock() {
	add_breaker b4
	hold_lock breaker
	"$MC_BIN" --correlation-id wl-int --wait-lock 30s breaker reset b4 >"$T_DIR/w.out" 2>"$T_DIR/w.err" &
	local pid=$!
	wait_until 10 sql_is 1 "SELECT count(*) FROM runs WHERE correlation_id = 'wl-int' AND status = 'running'" ||
		fail "the waiting run never started"
	kill -INT "$pid"
	wait "$pid"
	local rc=$?
	[ "$rc" = 130 ] || fail "exit $rc after SIGINT while waiting: $(cat "$T_DIR/w.err")"
	[ "$(sql "SELECT status FROM runs WHERE correlation_id = 'wl-int'")" = interrupted ] ||
		fail "not recorded as interrupted"
	[ "$(sql "SELECT state FROM breakers WHERE name = 'b4'")" = 1 ] || fail "the breaker changed"
	release_lock
	wait
}
