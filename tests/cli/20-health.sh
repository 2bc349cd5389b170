# 20-health.sh - the built-in checks, statuses, exit codes and formats.

# Thresholds nothing on a working machine reaches, so results are certain.
calm_conf() {
	conf "[check \"state\"]
type = state
critical = true

[check \"disk\"]
type = disk
warn = 100%
crit = 100%

[check \"memory\"]
type = memory
warn = 100
crit = 100"
}

test_health_defaults_table() {
	run health
	[ "$RC" -le 1 ] || fail "health on defaults exited $RC: $(err)"
	expect_out '^CHECK +TYPE +CRITICAL +STATUS +LATENCY +MESSAGE'
	expect_out '^state +state +yes +ok '
	expect_out '^disk +disk +[a-z]+ '
	expect_out '^memory +memory +[a-z]+ '
	expect_out '^health: (ok|degraded) \(3 checks'
	expect_no_out $'\033'
}

test_health_ok_exit_0() {
	calm_conf
	run health
	expect_rc 0
	expect_out '^health: ok'
	[ ! -s "$ERR" ] || fail "stderr on success: $(err)"
}

test_health_json_shape() {
	calm_conf
	run --correlation-id cid-123 health --json
	expect_rc 0
	expect_json '.status == "ok" and .correlation_id == "cid-123"'
	expect_json '(.duration_ms | type) == "number"'
	expect_json '.timestamp | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$")'
	expect_json '.checks.state == {type:"state",status:"ok",critical:true,latency_ms:.checks.state.latency_ms,message:.checks.state.message,value:.checks.state.value}'
	expect_json '.checks.disk.type == "disk" and .checks.disk.critical == false and (.checks.disk.value | type) == "number"'
	expect_json '.checks.memory.value > 0 and .checks.memory.value < 100'
}

test_health_warning_exit_1() {
	conf '[check "disk"]
type = disk
path = /
warn = 0%
crit = 100%'
	run health --json
	expect_rc 1
	expect_json '.status == "degraded" and .checks.disk.status == "warning"'
}

test_noncritical_failure_is_degraded() {
	conf '[check "disk"]
type = disk
warn = 0
crit = 0'
	run health --json
	expect_rc 1
	expect_json '.status == "degraded" and .checks.disk.status == "critical"'
}

test_critical_failure_exit_2() {
	conf '[check "disk"]
type = disk
critical = true
warn = 0
crit = 0
[check "memory"]
type = memory
warn = 100
crit = 100'
	run health
	expect_rc 2
	expect_out '^disk +disk +yes +critical'
	expect_out '^health: unavailable'
}

test_unknown_exit_3() {
	conf '[check "gone"]
type = disk
path = /nonexistent/mercury'
	run health --json
	expect_rc 3
	expect_json '.status == "unknown" and .checks.gone.status == "unknown"'
	expect_json '.checks.gone.message | test("cannot stat /nonexistent/mercury")'
}

test_nagios_output() {
	calm_conf
	run -o nagios health
	expect_rc 0
	# the state check's perfdata is a run count, named so (not state=3)
	expect_out '^HEALTH OK - 3 of 3 checks ok \| state_latency=[0-9.]+ms state_runs=[0-9]+ disk_latency=[0-9.]+ms disk=[0-9.]+%;100;100;0;100 memory_latency'
	# then the long output: one line per check
	[ "$(wc -l <"$OUT")" = 4 ] || fail "not 1 + 3 lines: $(cat "$OUT")"
	expect_out '^state: ok - schema v[0-9]+, [0-9]+ runs? recorded'
	expect_out '^disk: ok - '
	expect_out '^memory: ok - '
	expect_no_out 'runs? recorded.*\|'
	MERCURY_STATE=$T_DIR/fresh/state.db run health
	expect_out ' 1 run recorded'
	expect_no_out '1 runs'
	MERCURY_STATE=$T_DIR/fresh/state.db run health
	expect_out ' 2 runs recorded'
	conf '[check "disk"]
type = disk
critical = true
warn = 0
crit = 0'
	run -o nagios health
	expect_rc 2
	expect_out '^HEALTH UNAVAILABLE - 1 of 1 checks critical: disk '
}

test_nagios_maps_every_code_to_0_3() {
	calm_conf
	run -o nagios health nosuch
	expect_rc 3
	expect_out 'UNKNOWN'
	printf '[core]\ntimeout = nope\n' >"$CONF"
	run -o nagios health
	expect_rc 3
}

test_prom_output() {
	calm_conf
	run -o prom health
	expect_rc 0
	expect_out '^# TYPE mercury_check_status gauge'
	expect_out '^mercury_check_status\{check="disk",type="disk"\} 0$'
	expect_out '^mercury_check_latency_seconds\{check="memory",type="memory"\} [0-9.e-]+$'
	expect_out '^mercury_health_status 0$'
	expect_out '^mercuryctl_run_exit_code\{command="health"\} 0$'
	[ "$(grep -c '^# TYPE mercury_check_status ' "$OUT")" = 1 ] || fail "TYPE repeated"
	# each family's samples together, as the exposition format requires
	# (several checks: their status lines are not interleaved with the
	# latencies)
	split=$(awk '/^#/ || !NF {next} {n=$0; sub(/[{ ].*/, "", n)}
		n != cur {if (n in seen) print n; seen[n]=1; cur=n}' "$OUT")
	[ -z "$split" ] || fail "families split up: $split: $(out)"
	[ "$(grep -c '^mercury_check_status{' "$OUT")" -ge 2 ] || fail "fewer than two checks: $(out)"
}

test_unknown_check_name_is_usage() {
	calm_conf
	run health memroy
	expect_rc 64
	expect_err "no check named 'memroy' is configured \(did you mean 'memory'\?\)"
	expect_one_err_line
	run --json health memroy
	expect_rc 64
	expect_json '.exit_code == 64 and (.error | test("memroy"))'
}

test_named_checks_only() {
	calm_conf
	run health memory --json
	expect_rc 0
	expect_json '.checks | keys == ["memory"]'
}

test_critical_only() {
	calm_conf
	run health --critical-only --json
	expect_rc 0
	expect_json '.checks | keys == ["state"]'
}

test_quiet() {
	calm_conf
	run -q health
	expect_rc 0
	expect_empty_out
	[ ! -s "$ERR" ] || fail "stderr not empty with -q on success"
	conf '[check "disk"]
type = disk
critical = true
warn = 0
crit = 0'
	run -q health
	expect_rc 2
	expect_empty_out
	expect_one_err_line
	expect_err '^HEALTH UNAVAILABLE - 1 of 1 checks critical: disk'
}

test_colour_only_on_a_tty_without_no_color() {
	calm_conf
	# script(1) gives the command a terminal.
	script -qec "$MC_BIN health" /dev/null >"$T_DIR/tty" 2>&1
	grep -q $'\033\[32mok' "$T_DIR/tty" || fail "no colour on a TTY: $(cat -v "$T_DIR/tty" | head -3)"
	NO_COLOR=1 script -qec "$MC_BIN health" /dev/null >"$T_DIR/tty" 2>&1
	! grep -q $'\033\[' "$T_DIR/tty" || fail "colour despite NO_COLOR"
	# an empty NO_COLOR is not set (no-color.org)
	NO_COLOR= script -qec "$MC_BIN health" /dev/null >"$T_DIR/tty" 2>&1
	grep -q $'\033\[32mok' "$T_DIR/tty" || fail "no colour with an empty NO_COLOR"
	script -qec "$MC_BIN --no-color health" /dev/null >"$T_DIR/tty" 2>&1
	! grep -q $'\033\[' "$T_DIR/tty" || fail "colour despite --no-color"
	run health
	expect_no_out $'\033'
}

test_runs_and_results_recorded() {
	calm_conf
	run --correlation-id rec-1 health
	expect_rc 0
	[ "$(sql "SELECT command, status, exit_code, correlation_id FROM runs")" = "health|ok|0|rec-1" ] ||
		fail "runs row: $(sql 'SELECT * FROM runs')"
	[ "$(sql "SELECT count(*) FROM check_results r JOIN runs u ON u.id = r.run_id WHERE u.correlation_id = 'rec-1'")" = 3 ] ||
		fail "check_results: $(sql 'SELECT * FROM check_results')"
	[ "$(sql "SELECT status FROM check_results WHERE check_name = 'memory'")" = ok ] || fail "memory result"
}

test_textfile_dir() {
	calm_conf
	mkdir -p "$T_DIR/tf"
	run health --textfile-dir "$T_DIR/tf"
	expect_rc 0
	[ -f "$T_DIR/tf/mercuryctl_health.prom" ] || fail "no textfile"
	grep -q '^mercury_check_status{check="state",type="state"} 0$' "$T_DIR/tf/mercuryctl_health.prom" ||
		fail "textfile content"
	[ "$(ls "$T_DIR/tf")" = mercuryctl_health.prom ] || fail "temporary files left: $(ls "$T_DIR/tf")"
	# stdout stays text
	expect_out '^health: ok'
}

test_textfile_dir_missing_is_74() {
	calm_conf
	run health --textfile-dir "$T_DIR/nope"
	expect_rc 74
	expect_err 'textfile-dir'
}

test_pushgateway_push() {
	calm_conf
	run health --pushgateway "$MC_TEST_PUSHGATEWAY"
	expect_rc 0
	curl -sf "$MC_TEST_PUSHGATEWAY/metrics" >"$T_DIR/pg" || fail "pushgateway unreadable"
	grep -E '^mercury_check_status\{check="memory",command="health",instance="[^"]+",job="mercuryctl",type="memory"\} 0$' "$T_DIR/pg" >/dev/null ||
		fail "pushed sample missing: $(grep mercury_check_status "$T_DIR/pg")"
}

test_pushgateway_unreachable_is_74() {
	calm_conf
	run health --pushgateway http://127.0.0.1:9/ --timeout 5s
	expect_rc 74
	expect_err 'Pushgateway'
	# The run is still recorded, with its failure.
	[ "$(sql "SELECT exit_code FROM runs")" = 74 ] || fail "run not recorded as 74"
}

# health(1) names every check type the configuration accepts (the list the
# config error gives comes from the check registry).
test_health_help_names_every_check_type() {
	local types t
	conf '[check "x"]
type = no-such-type'
	run config check
	expect_rc 78
	types=$(sed -n "s/.*is not one of \([a-z_|]*\).*/\1/p" "$ERR" | tr '|' ' ')
	[ -n "$types" ] || fail "no type list in: $(err)"
	run health --help
	expect_rc 0
	for t in $types; do
		tr '\n' ' ' <"$OUT" | grep -qE "Check types:[^.]*[ (]$t[,). ]" ||
			fail "health --help does not name the check type $t"
	done
}

# A watch interval of 0 is a usage error that names the option, like any
# bad option value; --watch-degraded needs --watch.
test_health_watch_interval_names_the_option() {
	run health --watch 0s
	expect_rc 64
	expect_one_err_line
	expect_err "^mercuryctl health: --watch: '0s': must be longer than 0"
	run health --watch 1s --watch-degraded 0
	expect_rc 64
	expect_err "^mercuryctl health: --watch-degraded: '0': must be longer than 0"
	run health --watch-degraded 5s
	expect_rc 64
	expect_err 'watch-degraded goes with --watch'
}
