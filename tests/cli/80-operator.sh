# 80-operator.sh - what an operator relies on across commands: a reader
# that goes away, Nagios exit codes, a failed metrics export, counters.

# piped N ARGS...: mercuryctl ARGS | head -N, bounded; sets RC (mercuryctl's
# exit code), OUT and ERR.
piped() {
	local n=$1
	shift
	OUT=$T_DIR/out ERR=$T_DIR/err
	timeout 20 bash -c 'e=$0 n=$1 o=$2; shift 2
		"$@" 2>"$e" </dev/null | head -n "$n" >"$o"
		exit "${PIPESTATUS[0]}"' "$ERR" "$n" "$OUT" "$MC_BIN" "$@"
	RC=$?
}

test_a_reader_that_goes_away_ends_the_run_quietly() {
	dlq_conf
	# 3000 messages of 200 bytes: far more than a pipe holds
	pad=$(head -c 200 /dev/zero | tr '\0' x)
	for i in $(seq 1 3000); do printf '{"id":%d,"pad":"%s"}\n' "$i" "$pad"; done |
		awk '{printf "*3\r\n$5\r\nRPUSH\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length($0), $0}' k="$K:src" |
		rcli --pipe >/dev/null
	[ "$(rcli LLEN "$K:src")" = 3000 ] || fail "the DLQ was not filled"
	piped 2 dlq peek -n 3000
	expect_rc 0
	[ "$(wc -l <"$OUT")" = 2 ] || fail "head did not get its 2 lines"
	[ ! -s "$ERR" ] || fail "stderr is not empty: $(cat "$ERR")"
	[ "$(sql "SELECT status || ' ' || exit_code FROM runs WHERE command = 'dlq peek'")" = "ok 0" ] ||
		fail "the run is not recorded as completed: $(sql 'SELECT * FROM runs')"
	piped 2 dlq peek -n 3000 --json
	expect_rc 0
	[ ! -s "$ERR" ] || fail "stderr is not empty (json): $(cat "$ERR")"
	# --watch: the next run's write finds the reader gone, and it ends
	conf '[check "down"]
type = tcp
address = 127.0.0.1:1'
	piped 1 health --watch 200ms
	expect_rc 1
	[ "$RC" != 124 ] || fail "health --watch | head -1 did not end"
	expect_out 'HEALTH DEGRADED'
	[ ! -s "$ERR" ] || fail "stderr is not empty (watch): $(cat "$ERR")"
	piped 1 health --watch 200ms --json
	expect_rc 1
	# help and a long table
	piped 1 --help
	expect_rc 0
	[ ! -s "$ERR" ] || fail "stderr is not empty (help): $(cat "$ERR")"
	# a real write error is still one: /dev/full
	"$MC_BIN" --help >/dev/full 2>"$ERR"
	RC=$?
	expect_rc 74
	"$MC_BIN" history >/dev/full 2>"$ERR"
	RC=$?
	expect_rc 74
	expect_err 'cannot write output: No space left on device'
}

test_nagios_codes_are_a_verdict_or_unknown() {
	dlq_conf 'shed_threshold = 2'
	run history -o nagios
	expect_rc 3
	expect_out '^history UNKNOWN - no check result$'
	run breaker list -o nagios
	expect_rc 3
	run dlq peek -o nagios
	expect_rc 3
	# dlq stats: depths against thresholds
	run dlq stats -o nagios
	expect_rc 0
	expect_out "^DLQ OK - 1 DLQ \| q_source=0 q_target=0;;2 q_dead=0$"
	rcli RPUSH "$K:src" '{"id":1,"timestamp":1000}' '{"id":2}' >/dev/null
	run dlq stats -o nagios
	expect_rc 1
	expect_out "^DLQ WARNING - 1 DLQ, q: 2 dead letters waiting \| q_source=2 q_target=0;;2 q_dead=0 q_oldest=[0-9]+s$"
	run dlq stats
	expect_rc 0
	rcli RPUSH "$K:tgt" a b >/dev/null
	run dlq stats -o nagios
	expect_rc 2
	expect_out '^DLQ CRITICAL - 1 DLQ, q: target at shed_threshold \(2 >= 2\)'
	# dlq replay: its own result
	rcli DEL "$K:tgt" >/dev/null
	run dlq replay -o nagios
	expect_rc 0
	expect_out '^DLQ REPLAY OK - q: 2 replayed, 0 dead, 0 left( |$)'
	run dlq replay -o nagios --dry-run
	expect_rc 1
	expect_out '^DLQ REPLAY WARNING - dry run: q: 0 replayed, 0 dead, 0 left; stopped by shed '
	# config check: valid is OK, with warnings WARNING
	run config check -o nagios
	expect_rc 0
	expect_out '^CONFIG OK - .*mercury.conf: 2 sections, 0 warnings \| sections=2 warnings=0$'
	conf "$(cat "$CONF"; printf '[webhook "w"]\ntype = json\nurl_env = MC_OP_UNSET_HOOK\n')"
	run config check -o nagios
	expect_rc 1
	expect_out '^CONFIG WARNING - .*1 warning'
}

test_a_failed_metrics_export_keeps_the_result() {
	conf '[check "down"]
type = tcp
address = 127.0.0.1:1'
	run -q --pushgateway http://127.0.0.1:1 health
	expect_rc 74
	expect_err 'HEALTH DEGRADED'
	expect_err 'Pushgateway'
	run --pushgateway http://127.0.0.1:1 health
	expect_rc 74
	expect_out '^down +tcp +no +failed'
	expect_err 'Pushgateway'
	run --pushgateway http://127.0.0.1:1 health --json
	expect_rc 74
	expect_json '.status == "degraded" and .checks.down.status == "critical" and (.metrics_error | test("Pushgateway"))'
	run --textfile-dir "$T_DIR/no/such/dir" -o nagios health
	expect_rc 3
	expect_out '^HEALTH DEGRADED'
	# a run that is fine but for the export: the export decides
	conf '[check "state"]
type = state'
	run --pushgateway http://127.0.0.1:1 health
	expect_rc 74
	expect_out '^state +state +no +ok'
}

test_dlq_counters_are_counters() {
	dlq_conf 'max_retries = 1'
	rcli RPUSH "$K:src" '{"id":1}' '{"id":2,"retry_count":5}' '{"id":3,"timestamp":"2026-01-01T00:00:00Z"}' >/dev/null
	run -o prom dlq replay
	expect_rc 0
	expect_out '^mercury_dlq_replayed_total\{dlq="q"\} 2$'
	expect_out '^mercury_dlq_dead_total\{dlq="q"\} 1$'
	expect_out '^# TYPE mercury_dlq_replayed_last_run gauge$'
	rcli RPUSH "$K:src" '{"id":4}' >/dev/null
	run -o prom dlq replay --dry-run
	expect_out '^mercury_dlq_replayed_total\{dlq="q"\} 2$'
	expect_out '^mercury_dlq_replayed_last_run\{dlq="q"\} 1$'
	run -o prom dlq replay
	expect_out '^mercury_dlq_replayed_total\{dlq="q"\} 3$'
	expect_out '^mercury_dlq_replayed_last_run\{dlq="q"\} 1$'
	# history pruning does not make the counter go down
	sql "DELETE FROM dlq_runs"
	run -o prom dlq replay
	expect_out '^mercury_dlq_replayed_total\{dlq="q"\} 3$'
	# the age of the oldest dead letter, as JSON has it
	rcli RPUSH "$K:src" '{"id":5,"timestamp":1000}' >/dev/null
	run -o prom dlq stats
	expect_out '^mercury_dlq_oldest_age_seconds\{dlq="q"\} [0-9.e+]+$'
}

# -n N on health history and alert history; health history says where
# each check stands now, and its line ends there.
test_history_last_n_and_now() {
	conf '[check "flip"]
type = tcp
address = 127.0.0.1:1'
	run health
	run health
	conf "$(printf '[check "flip"]\ntype = sqlite\npath = %s\n' "$STATE")"
	run health
	expect_rc 0
	run health history
	expect_rc 0
	expect_out '^CHECK +TYPE +NOW +UPTIME +TRANSITIONS +LAST FAILURE +SPARKLINE$'
	expect_out '^flip +sqlite +ok +33\.33% +1 .*▁$'
	run health history --json
	expect_json '.checks.flip | .samples == 3 and .current == "ok" and .buckets[-1] == "ok"'
	run health history -n 2 --json
	expect_json '.checks.flip | .samples == 2 and .transitions == 1'
	run health history -n 1
	expect_out '^flip +sqlite +ok +100\.00% +0 +- '
	# alert history -n
	conf "[webhook \"j\"]
type = json
url_file = $T_DIR/j.url
retries = 0"
	printf '%s/mercury/n-%s\n' "$MC_TEST_RECEIVER" "$$" >"$T_DIR/j.url"
	chmod 600 "$T_DIR/j.url" "$CONF"
	for i in 1 2 3; do run alert send --severity info --summary "n $i"; done
	run alert history -n 2 --json
	expect_json '[.alerts[].summary] == ["n 3", "n 2"]'
	run alert history --json
	expect_json '.alerts | length == 3'
}

# Times in text output: UTC by default, local with --local-time or
# [core] time_zone = local; JSON stays UTC.
test_local_time_in_text() {
	conf '[core]
timeout = 10s'
	run health
	TZ=Asia/Kolkata run history
	expect_out ' [0-9-]+T[0-9:]+Z +ok '
	TZ=Asia/Kolkata run --local-time history
	expect_out ' [0-9-]+T[0-9:]+\+05:30 +ok '
	TZ=Asia/Kolkata run --local-time history --json
	expect_json '.runs[0].started | endswith("Z")'
	conf '[core]
time_zone = local'
	TZ=America/St_Johns run history
	expect_out ' [0-9-]+T[0-9:]+-0[23]:30 +ok '
	conf '[core]
time_zone = mars'
	run history
	expect_rc 78
}

# A gate never passes on nothing; the table marks critical checks, shows a
# failed non-critical one as failed (it degrades the run) and cuts a long
# message to one line.
test_health_gate_and_table() {
	printf '#!/bin/sh\nhead -c 4096 /dev/zero | tr "\\\\0" x\necho\necho second line\nexit 2\n' >"$T_DIR/loud"
	chmod +x "$T_DIR/loud"
	# three: a failing tcp check, a loud plugin, a critical state check
	three() {
		conf "[check \"api\"]
type = tcp
address = 127.0.0.1:1
[check \"loud\"]
type = exec
command = $T_DIR/loud
[check \"state\"]
type = state
critical = true"
	}
	three
	run health --critical-only state
	expect_rc 0
	run health --critical-only api
	expect_rc 3
	expect_out '^health: unknown: no check was selected'
	run health --critical-only api --json
	expect_rc 3
	expect_json '.status == "unknown" and .checks == {}'
	run health --critical-only api -o nagios
	expect_rc 3
	expect_out '^HEALTH UNKNOWN - no check selected'
	conf '[check "api"]
type = tcp
address = 127.0.0.1:1'
	run health --critical-only
	expect_rc 3
	three
	run health
	expect_rc 1
	expect_out '^CHECK +TYPE +CRITICAL +STATUS +LATENCY +MESSAGE$'
	expect_out '^api +tcp +no +failed +'
	expect_out '^state +state +yes +ok +'
	expect_out '^health: degraded'
	[ "$(awk 'length > 200' "$OUT" | wc -l)" = 0 ] || fail "a long message was not cut: $(awk '{print length}' "$OUT")"
	expect_out '^loud +exec +no +failed +[0-9.]+ms +x+…$'
	run health --json
	expect_json '.checks.api.status == "critical" and (.checks.loud.message | length) >= 4096'
}

# --timeout bounds the run: 0 is refused, naming the option, not taken for
# "no deadline".
test_timeout_zero_is_a_usage_error() {
	run --timeout 0s health
	expect_rc 64
	expect_err "^mercuryctl: --timeout: '0s': must be longer than 0"
	expect_one_err_line
	run --timeout 0 -o nagios health
	expect_rc 3
	run --timeout 1ms version
	expect_rc 0
}

# A Nagios line without perfdata ends at its text: no '|' with nothing
# after it (health selecting nothing, an SLO Prometheus could not answer,
# an alert that made no request, no DLQ).
test_nagios_line_has_no_empty_perfdata() {
	conf '[check "api"]
type = tcp
address = 127.0.0.1:1'
	run health --critical-only -o nagios
	expect_rc 3
	expect_out '^HEALTH UNKNOWN - no check selected$'
	# nothing configured: not a pass (a gate never passes on nothing)
	run dlq stats -o nagios
	expect_rc 3
	expect_out '^DLQ UNKNOWN - 0 DLQs: no \[dlq "NAME"\] section is configured$'
	printf '%s\n' "$MC_TEST_RECEIVER/mercury/nobar-$$" >"$T_DIR/w.url"
	conf "[slo \"s\"]
objective = 99.9
error_query = sum(rate(e[{{window}}]))
total_query = sum(rate(t[{{window}}]))
[webhook \"w\"]
type = json
url_file = $T_DIR/w.url"
	run slo status -o nagios --prometheus http://127.0.0.1:1
	expect_rc 3
	expect_out '^SLO UNKNOWN - 1 of 1 SLOs unknown: s Prometheus unreachable[^|]*$'
	run alert send -o nagios --severity info --summary "nobar $$"
	expect_rc 0
	expect_out '^ALERT OK - 1 delivered, .* \| w_latency=[0-9.]+ms$'
	run alert send -o nagios --severity info --summary "nobar $$"
	expect_rc 0
	expect_out '^ALERT OK - 0 delivered, 1 suppressed, 0 filtered, 0 failed of 1$'
}
