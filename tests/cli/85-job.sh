# 85-job.sh - job run|list|history|log and the job health check, with real
# processes: the start recorded before the command starts, output passed
# through byte for byte, the whole tree killed on timeout and on signals,
# overlap, overdue verdicts from recorded times (and --at), notify through
# the receiver.
#
# Verdicts are made deterministic with recorded times: rows written into
# the state file's job_runs and job_seen tables with sqlite3, relative to
# now, or fixed instants judged with `job list --at TIME`.

U=
uniq_setup() { U="t$$-$RANDOM$RANDOM"; }

# job_conf NAME KEY=VALUE...: a [job] section.
job_sec() {
	local name=$1
	shift
	printf '[job "%s"]\n' "$name"
	for kv in "$@"; do printf '%s\n' "$kv"; done
}

# list_state JOB: the job's state in `job list --json`.
list_state() {
	"$MC_BIN" job list "$1" --json 2>/dev/null | jq -r '.jobs[0].state'
}
state_is() { [ "$(list_state "$1")" = "$2" ]; }

# gone PIDFILE...: none of the processes is alive.
all_gone() {
	local f pid
	for f in "$@"; do
		pid=$(cat "$f")
		[ -n "$pid" ] || return 1
		if [ -e "/proc/$pid" ]; then
			# a zombie not yet reaped still counts as alive here
			return 1
		fi
	done
}

# tree.sh DIR: forks a sleeper in the job's process group and a setsid'ed
# child ignoring SIGTERM, whose own child ignores it too; writes their pids
# to DIR/p0..p3, then waits.
write_tree() {
	cat >"$T_DIR/tree.sh" <<'EOF'
#!/bin/sh
d=$1
echo $$ >"$d/p0.tmp" && mv "$d/p0.tmp" "$d/p0"
sleep 300 &
echo $! >"$d/p1.tmp" && mv "$d/p1.tmp" "$d/p1"
setsid sh -c 'trap "" TERM; echo $$ >"$1/p2.tmp"; mv "$1/p2.tmp" "$1/p2"
	sleep 300 & echo $! >"$1/p3.tmp"; mv "$1/p3.tmp" "$1/p3"; wait' sh "$d" &
echo started
wait
EOF
	chmod +x "$T_DIR/tree.sh"
}
tree_started() { [ -s "$T_DIR/p0" ] && [ -s "$T_DIR/p1" ] && [ -s "$T_DIR/p2" ] && [ -s "$T_DIR/p3" ]; }

test_job_start_recorded_before_command_and_seen_running() {
	# The command itself reads the state file: its own run must be there,
	# marked running, before it starts. Another process sees it running.
	cat >"$T_DIR/cmd.sh" <<EOF
#!/bin/sh
sqlite3 -cmd ".timeout 5000" "$STATE" "SELECT status, pid FROM job_runs WHERE job = 'rec'" >"$T_DIR/seen"
i=0
while [ ! -e "$T_DIR/go" ] && [ \$i -lt 1000 ]; do sleep 0.01; i=\$((i + 1)); done
echo done
EOF
	chmod +x "$T_DIR/cmd.sh"
	conf "$(job_sec rec "command = $T_DIR/cmd.sh" 'schedule = 0 * * * *')"
	"$MC_BIN" job run rec >"$T_DIR/bg.out" 2>"$T_DIR/bg.err" &
	local pid=$!
	wait_until 10 state_is rec running || fail "job list never showed the run running"
	"$MC_BIN" job list rec --json >"$T_DIR/list.json"
	jq -e --arg p "$pid" '.jobs[0].running.pid == ($p | tonumber) and .jobs[0].running.ended == null' \
		"$T_DIR/list.json" >/dev/null || fail "running run not shown with its pid: $(cat "$T_DIR/list.json")"
	touch "$T_DIR/go"
	wait "$pid"
	[ $? = 0 ] || fail "job run failed: $(cat "$T_DIR/bg.err")"
	grep -q "^running|$pid\$" "$T_DIR/seen" || fail "the command did not find its start recorded: $(cat "$T_DIR/seen")"
	[ "$(cat "$T_DIR/bg.out")" = done ] || fail "stdout not passed through"
	run job history rec --json
	expect_rc 0
	expect_json '.runs | length == 1 and .[0].status == "ok" and .[0].exit_code == 0 and .[0].duration_seconds > 0 and .[0].ended != null'
	cp "$OUT" "$T_DIR/history.json"
	run job list rec --json
	expect_rc 0
	expect_json '.jobs[0].state == "ok" and .jobs[0].last_success != null and .jobs[0].next_expected != null and .jobs[0].running == null'
	# one run, shown alike by both
	jq -e --slurpfile h "$T_DIR/history.json" '.jobs[0].last_run == $h[0].runs[0] and (.jobs[0].last_run | has("pid") and has("correlation_id"))' \
		"$OUT" >/dev/null || fail "job list and job history show the run differently: $(cat "$OUT" "$T_DIR/history.json")"
}

test_job_output_bytes_pass_through_unchanged() {
	head -c 300000 /dev/urandom >"$T_DIR/a.bin"
	head -c 200000 /dev/urandom >"$T_DIR/b.bin"
	printf 'line \033[31m\r\n' >>"$T_DIR/a.bin"
	cat >"$T_DIR/emit.sh" <<EOF
#!/bin/sh
# interleaved: parts of a to stdout, parts of b to stderr
dd if="$T_DIR/a.bin" bs=1000 count=100 status=none
dd if="$T_DIR/b.bin" bs=1000 count=50 status=none >&2
dd if="$T_DIR/a.bin" bs=1000 skip=100 status=none
dd if="$T_DIR/b.bin" bs=1000 skip=50 status=none >&2
EOF
	chmod +x "$T_DIR/emit.sh"
	conf "$(job_sec bytes "command = $T_DIR/emit.sh" 'keep_output = 1000')"
	# to regular files (splice), through pipes, and appended (read/write)
	"$MC_BIN" job run bytes >"$T_DIR/o1" 2>"$T_DIR/e1" || fail "run 1 failed"
	cmp -s "$T_DIR/a.bin" "$T_DIR/o1" || fail "stdout to a file differs"
	cmp -s "$T_DIR/b.bin" "$T_DIR/e1" || fail "stderr to a file differs"
	{ "$MC_BIN" job run bytes 2>&1 >&3 3>&- | cat >"$T_DIR/e2"; } 3>&1 | cat >"$T_DIR/o2"
	cmp -s "$T_DIR/a.bin" "$T_DIR/o2" || fail "stdout through a pipe differs"
	cmp -s "$T_DIR/b.bin" "$T_DIR/e2" || fail "stderr through a pipe differs"
	: >"$T_DIR/o3"
	: >"$T_DIR/e3"
	"$MC_BIN" job run bytes >>"$T_DIR/o3" 2>>"$T_DIR/e3" || fail "run 3 failed"
	cmp -s "$T_DIR/a.bin" "$T_DIR/o3" || fail "stdout appended differs"
	cmp -s "$T_DIR/b.bin" "$T_DIR/e3" || fail "stderr appended differs"
	# the kept tail: the last 1000 bytes (stderr wrote last), whole in
	# JSON but for the bytes that are not UTF-8 (NUL included), \xNN
	run job log bytes --json
	expect_rc 0
	expect_json '.output_kept == 1000 and .output_total == 500012'
	tail -c 1000 "$T_DIR/b.bin" | /usr/bin/python3 -c '
import sys
b = sys.stdin.buffer.read(); out = []; i = 0
while i < len(b):
    c = b[i]
    n = 1 if 0 < c < 0x80 else 2 if 0xc2 <= c <= 0xdf else 3 if 0xe0 <= c <= 0xef else 4 if 0xf0 <= c <= 0xf4 else 0
    try:
        s = b[i:i + n].decode("utf-8") if n else None
    except UnicodeDecodeError:
        s = None
    if s and len(s) == 1:
        out.append(s); i += n; continue
    out.append("\\x%02X" % c); i += 1
sys.stdout.buffer.write("".join(out).encode("utf-8"))' >"$T_DIR/tail.want"
	jq -j .output "$OUT" >"$T_DIR/tail.got"
	cmp -s "$T_DIR/tail.want" "$T_DIR/tail.got" || fail "kept tail is not the last 1000 bytes"
	run job history bytes --json
	expect_json '.runs | length == 3 and all(.[]; .status == "ok" and .output_total == 500012)'
}

# A tail bigger than what the tail pipe holds beside the chunks it takes
# (1 MiB): room is made by dropping what lies beyond the tail, then by
# reading the pipe into memory; the kept bytes are still the last ones.
test_job_tail_larger_than_the_pipe() {
	head -c 2400000 /dev/urandom | base64 -w 76 >"$T_DIR/big.txt"
	conf "$(job_sec big 'keep_output = 900KiB')"
	"$MC_BIN" job run big -- cat "$T_DIR/big.txt" >"$T_DIR/o" || fail "run failed"
	cmp -s "$T_DIR/big.txt" "$T_DIR/o" || fail "stdout differs"
	run job log big --json
	expect_rc 0
	expect_json ".output_kept == 921600 and .output_total == $(wc -c <"$T_DIR/big.txt")"
	jq -j .output "$OUT" >"$T_DIR/tail.got"
	tail -c 921600 "$T_DIR/big.txt" | cmp -s - "$T_DIR/tail.got" || fail "kept tail is not the last 900 KiB"
	# many small writes: the tail pipe fills with small pieces
	conf "$(job_sec small 'keep_output = 4KiB')"
	"$MC_BIN" job run small -- /usr/bin/python3 -c '
import os
for i in range(30000):
    os.write(1, b"%09d\n" % i)' >"$T_DIR/o2" || fail "run of small writes failed"
	seq -f '%09g' 0 29999 >"$T_DIR/want2"
	cmp -s "$T_DIR/want2" "$T_DIR/o2" || fail "small writes differ"
	run job log small --json
	expect_json '.output_kept == 4096 and .output_total == 300000'
	jq -j .output "$OUT" >"$T_DIR/tail2.got"
	tail -c 4096 "$T_DIR/want2" | cmp -s - "$T_DIR/tail2.got" || fail "kept tail of small writes is not the last 4 KiB"
}

test_job_log_escapes_control_bytes_and_bad_utf8() {
	conf ""
	run job run esc -- printf 'ok \033[2J\377\376 caf\303\251 \\ end\n'
	expect_rc 0
	run job log esc
	expect_rc 0
	[ "$(out)" = 'ok \x1B[2J\xFF\xFE café \ end' ] || fail "escaped log: $(out | od -c | head)"
	run job log esc --json
	expect_json '.output == "ok \u001b[2J\\xFF\\xFE café \\ end\n"'
	run job log esc 999
	expect_rc 64
	run job log esc abc
	expect_rc 64
	expect_err 'RUN_ID'
}

test_job_timeout_kills_the_whole_tree() {
	write_tree
	conf "$(job_sec tree "command = $T_DIR/tree.sh $T_DIR" 'timeout = 1s' 'kill_grace = 1s')"
	run job run tree
	expect_rc 124
	expect_err 'job tree: timed out after 1s'
	tree_started || fail "the tree did not start"
	wait_until 5 all_gone "$T_DIR"/p0 "$T_DIR"/p1 "$T_DIR"/p2 "$T_DIR"/p3 ||
		fail "processes of the tree survive: $(for f in "$T_DIR"/p?; do ps -o pid=,stat=,args= -p "$(cat "$f")"; done)"
	run job history tree --json
	# SIGTERM at 1s, SIGKILL a kill_grace later: p2 and p3 ignore SIGTERM
	expect_json '.runs[0].status == "timeout" and .runs[0].duration_seconds >= 1.9 and .runs[0].duration_seconds < 6'
	run job list tree --json
	expect_rc 2
	expect_json '.jobs[0].state == "failed" and (.jobs[0].message | test("timed out"))'
}

test_job_timeout_default_kill_grace_is_10s() {
	write_tree
	conf "$(job_sec tree10 "command = $T_DIR/tree.sh $T_DIR" 'timeout = 500ms')"
	run job run tree10
	expect_rc 124
	tree_started || fail "the tree did not start"
	wait_until 5 all_gone "$T_DIR"/p0 "$T_DIR"/p1 "$T_DIR"/p2 "$T_DIR"/p3 ||
		fail "processes of the tree survive"
	run job history tree10 --json
	expect_json '.runs[0].status == "timeout" and .runs[0].duration_seconds >= 10.4 and .runs[0].duration_seconds < 14'
}

signal_test() {
	local sig=$1 want=$2
	write_tree
	conf "$(job_sec sig "command = $T_DIR/tree.sh $T_DIR" 'kill_grace = 1s')"
	"$MC_BIN" job run sig >"$T_DIR/bg.out" 2>"$T_DIR/bg.err" &
	local pid=$! rc
	wait_until 10 tree_started || fail "the tree did not start"
	wait_until 10 state_is sig running || fail "not running"
	kill -"$sig" "$pid"
	wait "$pid"
	rc=$?
	[ "$rc" = "$want" ] || fail "job run exited $rc, expected $want: $(cat "$T_DIR/bg.err")"
	wait_until 5 all_gone "$T_DIR"/p0 "$T_DIR"/p1 "$T_DIR"/p2 "$T_DIR"/p3 ||
		fail "processes of the tree survive the $sig"
	run job history sig --json
	expect_json '.runs[0].status == "interrupted" and .runs[0].ended != null'
	run job list sig --json
	expect_rc 1
	expect_json '.jobs[0].state == "failed" and .jobs[0].status == "warning"'
}
test_job_sigterm_kills_tree_and_records_interrupted() { signal_test TERM 143; }
test_job_sigint_kills_tree_and_records_interrupted() { signal_test INT 130; }

# hold.sh: runs until $T_DIR/release-$1 exists (bounded), noting its start.
write_hold() {
	cat >"$T_DIR/hold.sh" <<EOF
#!/bin/sh
echo x >>"$T_DIR/started-\$1"
i=0
while [ ! -e "$T_DIR/release-\$1" ] && [ \$i -lt 1500 ]; do sleep 0.01; i=\$((i + 1)); done
EOF
	chmod +x "$T_DIR/hold.sh"
}
running_count() { sql "SELECT COUNT(*) FROM job_runs WHERE job = '$1' AND status = 'running'"; }

test_job_overlap_skip_exits_75_at_once() {
	write_hold
	conf "$(job_sec ov "command = $T_DIR/hold.sh a")"
	"$MC_BIN" job run ov >/dev/null 2>&1 &
	local pid=$!
	wait_until 10 test -s "$T_DIR/started-a" || fail "first run did not start"
	local t0=$SECONDS
	run job run ov
	expect_rc 75
	expect_err 'skipped.*pid'
	[ $((SECONDS - t0)) -le 2 ] || fail "skip was not at once"
	[ "$(wc -l <"$T_DIR/started-a")" = 1 ] || fail "the command ran twice"
	[ "$(sql "SELECT status FROM job_runs WHERE job = 'ov' ORDER BY id")" = "$(printf 'running\nskipped')" ] ||
		fail "skip not recorded: $(sql 'SELECT id, status FROM job_runs')"
	touch "$T_DIR/release-a"
	wait "$pid" || fail "first run failed"
}

test_job_overlap_wait_waits_then_runs() {
	write_hold
	conf "$(job_sec ow "command = $T_DIR/hold.sh w" 'overlap = wait')"
	"$MC_BIN" job run ow >/dev/null 2>&1 &
	local p1=$!
	wait_until 10 test -s "$T_DIR/started-w" || fail "first run did not start"
	# bounded by --wait-lock: 75 when it runs out
	run --wait-lock 300ms job run ow
	expect_rc 75
	"$MC_BIN" job run ow >/dev/null 2>&1 &
	local p2=$!
	wait_until 5 sql_is 2 "SELECT COUNT(*) FROM job_runs WHERE job = 'ow'" ||
		fail "no skip recorded"
	[ "$(wc -l <"$T_DIR/started-w")" = 1 ] || fail "the second run did not wait"
	kill -0 "$p2" 2>/dev/null || fail "the waiting run ended"
	touch "$T_DIR/release-w"
	wait "$p1" || fail "first run failed"
	wait "$p2" || fail "second run failed"
	[ "$(wc -l <"$T_DIR/started-w")" = 2 ] || fail "the second run did not run"
	[ "$(sql "SELECT COUNT(*) FROM job_runs a, job_runs b WHERE a.job = 'ow' AND b.job = 'ow' AND a.status = 'ok' AND b.status = 'ok' AND b.id > a.id AND b.started >= a.ended")" = 1 ] ||
		fail "the second run did not start after the first ended: $(sql 'SELECT id, status, started, ended FROM job_runs')"
}

test_job_overlap_allow_runs_both() {
	write_hold
	conf "$(job_sec oa "command = $T_DIR/hold.sh b" 'overlap = allow')"
	"$MC_BIN" job run oa >/dev/null 2>&1 &
	local p1=$!
	"$MC_BIN" job run oa >/dev/null 2>&1 &
	local p2=$!
	wait_until 10 sql_is 2 "SELECT COUNT(*) FROM job_runs WHERE job = 'oa' AND status = 'running'" ||
		fail "both runs were not running at once: $(sql 'SELECT id, status FROM job_runs')"
	touch "$T_DIR/release-b"
	wait "$p1" || fail "run 1 failed"
	wait "$p2" || fail "run 2 failed"
	[ "$(wc -l <"$T_DIR/started-b")" = 2 ] || fail "not both ran"
}

# rec_run JOB STATUS SECONDS_AGO [EXIT]: a finished run recorded that long ago.
rec_run() {
	sql "INSERT INTO job_runs (job, started, ended, status, exit_code, pid, host)
	     VALUES ('$1', strftime('%s','now') - $3, strftime('%s','now') - $3 + 1, '$2', ${4:-0}, 1, 'elsewhere')"
}

test_job_overdue_and_job_health_check_and_notify() {
	uniq_setup
	printf '%s\n' "$MC_TEST_RECEIVER/mercury/$U" >"$T_DIR/hook.url"
	conf "$(job_sec hourly 'schedule = 0 * * * *' 'grace = 10m'
		job_sec fresh 'schedule = 0 * * * *' 'grace = 10m'
		printf '[check "hourly"]\ntype = job\njob = hourly\ncritical = true\nfailure_threshold = 1\n'
		printf '[webhook "j"]\ntype = json\nurl_file = %s\n' "$T_DIR/hook.url")"
	chmod 600 "$CONF"
	run job list
	expect_rc 0			# state file created; nothing expected yet
	rec_run hourly ok 10800		# 3 hours ago: two hourly starts missed
	rec_run fresh ok 60
	run job list --json
	expect_rc 2
	expect_json '(.jobs[] | select(.job == "hourly") | .state == "overdue" and .overdue == true and .missed_start != null and .status == "critical")'
	expect_json '(.jobs[] | select(.job == "fresh") | .state == "ok")'
	run job list -o prom
	expect_out '^mercury_job_overdue\{job="hourly"\} 1$'
	expect_out '^mercury_job_overdue\{job="fresh"\} 0$'
	expect_out '^mercury_job_last_success_timestamp_seconds\{job="hourly"\} [0-9]+'
	expect_out '^mercury_job_running\{job="fresh"\} 0$'
	run health hourly --json
	expect_rc 2
	expect_json '.checks.hourly.status == "critical" and (.checks.hourly.message | test("overdue"))'
	run health hourly --notify --json
	expect_rc 2
	wait_until 10 receiver_got "/mercury/$U" || fail "no alert for the overdue job"
	curl -sf "$MC_TEST_RECEIVER/_requests?path_prefix=/mercury/$U" |
		jq -e '.[0].body | fromjson | .action == "trigger" and .severity == "critical"' >/dev/null ||
		fail "the overdue alert is not a critical trigger"
	# a start clears it
	run job run hourly -- true
	expect_rc 0
	run health hourly --json
	expect_rc 0
}

test_job_running_past_timeout_and_last_failed() {
	conf "$(job_sec late 'timeout = 1h' 'every = 1d'
		job_sec bad 'every = 1d')"
	# a run started 2 h ago by a live process on this host (this shell)
	sql "INSERT INTO job_runs (job, started, status, pid, host) VALUES ('late', strftime('%s','now') - 7200, 'running', $$, '$(hostname)')" 2>/dev/null ||
		{ run job list; sql "INSERT INTO job_runs (job, started, status, pid, host) VALUES ('late', strftime('%s','now') - 7200, 'running', $$, '$(hostname)')"; }
	rec_run bad failed 600 3
	run job list --json
	expect_rc 2
	expect_json '(.jobs[] | select(.job == "late") | .state == "running-late" and .status == "critical" and (.message | test("past its timeout 1h")))'
	expect_json '(.jobs[] | select(.job == "bad") | .state == "failed" and (.message | test("exit 3")))'
	# a running run whose mercuryctl is gone from this host: lost
	sql "UPDATE job_runs SET pid = 2147483647 WHERE job = 'late'"
	run job list late --json
	expect_json '.jobs[0].state == "failed" and (.jobs[0].message | test("without a record"))'
}

test_job_dst_in_cron_tz_zone() {
	# Berlin springs forward 2026-03-29 at 01:00Z (02:00 -> 03:00): the
	# 02:30 start is expected at the jump; and falls back 2026-10-25 at
	# 01:00Z (03:00 -> 02:00): 02:30 is expected once, at 00:30Z.
	conf "$(job_sec dst 'schedule = CRON_TZ=Europe/Berlin 30 2 * * *' 'grace = 10m')"
	run job list
	sql "INSERT INTO job_runs (job, started, ended, status, exit_code) VALUES ('dst', strftime('%s','2026-03-28 01:30:05'), strftime('%s','2026-03-28 01:31:00'), 'ok', 0)"
	run job list dst --json --at 2026-03-29T00:30:00Z
	expect_rc 0
	expect_json '.jobs[0].next_expected == "2026-03-29T01:00:00.000Z"'
	run job list dst --json --at 2026-03-29T01:09:00Z
	expect_rc 0
	expect_json '.jobs[0].state == "ok"'
	run job list dst --json --at 2026-03-29T01:11:00Z
	expect_rc 2
	expect_json '.jobs[0].state == "overdue" and .jobs[0].missed_start == "2026-03-29T01:00:00.000Z"'
	sql "INSERT INTO job_runs (job, started, ended, status, exit_code) VALUES ('dst', strftime('%s','2026-10-25 00:30:02'), strftime('%s','2026-10-25 00:31:00'), 'ok', 0)"
	# 02:45 CET, after the repeated 02:30 CET: no second start expected
	run job list dst --json --at 2026-10-25T01:45:00Z
	expect_rc 0
	expect_json '.jobs[0].state == "ok" and .jobs[0].next_expected == "2026-10-26T01:30:00.000Z"'
	run job list dst --json --at 2026-10-26T01:45:00Z
	expect_rc 2
	expect_json '.jobs[0].missed_start == "2026-10-26T01:30:00.000Z"'
}

test_job_notify_failure_once_then_resolve() {
	uniq_setup
	printf '%s\n' "$MC_TEST_RECEIVER/mercury/$U" >"$T_DIR/hook.url"
	conf "$(job_sec nj 'notify = true'
		printf '[webhook "j"]\ntype = json\nurl_file = %s\n' "$T_DIR/hook.url")"
	chmod 600 "$CONF"
	run job run nj -- sh -c 'exit 3'
	expect_rc 3
	expect_err 'job nj: exit 3'
	wait_until 10 receiver_got "/mercury/$U" || fail "no alert for the failure"
	run job run nj -- sh -c 'exit 4'
	expect_rc 4
	[ "$(curl -sf "$MC_TEST_RECEIVER/_requests?path_prefix=/mercury/$U" | jq length)" = 1 ] ||
		fail "a second failure alerted again"
	run job run nj -- true
	expect_rc 0
	expect_empty_out
	curl -sf "$MC_TEST_RECEIVER/_requests?path_prefix=/mercury/$U" |
		jq -e 'length == 2 and (.[0].body | fromjson | .action == "trigger" and (.summary | test("job nj failed"))) and (.[1].body | fromjson | .action == "resolve")' >/dev/null ||
		fail "not one trigger then one resolve: $(curl -sf "$MC_TEST_RECEIVER/_requests?path_prefix=/mercury/$U")"
	run job run nj -- true
	[ "$(curl -sf "$MC_TEST_RECEIVER/_requests?path_prefix=/mercury/$U" | jq length)" = 2 ] ||
		fail "a second success resolved again"
}

test_job_bad_schedule_is_config_error_naming_field() {
	conf "$(job_sec b 'schedule = 0 25 * * *')"
	run job list
	expect_rc 78
	expect_err 'mercury.conf:2: \[job "b"\] schedule: hour: 25 is out of range 0-23'
	conf "$(job_sec b 'schedule = 0 0 * * fry')"
	run config check
	expect_rc 78
	expect_err 'day-of-week: unknown name'
	conf "$(job_sec b 'schedule = @reboot')"
	run job list
	expect_rc 78
	expect_err '@reboot'
	conf "$(job_sec b 'schedule = @daily' 'every = 1h')"
	run job list
	expect_rc 78
	conf "$(job_sec b 'schedule = CRON_TZ=Nowhere/Land 0 0 * * *')"
	run job list
	expect_rc 78
	expect_err 'CRON_TZ'
}

test_job_usage_errors() {
	conf "$(job_sec known 'schedule = @daily')"
	run job run nocommand
	expect_rc 64
	expect_err 'no command'
	run job run known
	expect_rc 64
	# a word after NAME is not run as a command unless it follows --
	run job run known /bin/true
	expect_rc 64
	expect_err "unexpected argument '/bin/true' \(a command to run goes after --\)"
	run job list knwon
	expect_rc 64
	expect_err "did you mean 'known'"
	run job history never
	expect_rc 64
	run job run missing -- /no/such/program
	expect_rc 127
	run job history missing --json
	expect_json '.runs[0].status == "failed" and .runs[0].exit_code == 127'
}

test_job_run_metrics_follow_the_run() {
	conf "$(job_sec m 'schedule = @daily')"
	mkdir -p "$T_DIR/tf"
	run -o prom --textfile-dir "$T_DIR/tf" job run m -- sh -c 'echo hi; exit 2'
	expect_rc 2
	# the job's stdout on stderr: stdout is the exposition alone
	expect_no_out '^hi$'
	expect_err '^hi$'
	expect_out '^mercury_job_last_exit_code\{job="m"\} 2$'
	expect_out '^mercury_job_running\{job="m"\} 0$'
	expect_out '^mercury_job_duration_seconds\{job="m"\} '
	f=$(ls "$T_DIR"/tf/mercuryctl_job*.prom 2>/dev/null | head -n 1)
	[ -n "$f" ] && grep -q '^mercury_job_last_exit_code{job="m"} 2$' "$f" ||
		fail "no job metrics in the textfile: $(ls "$T_DIR/tf")"
	run -o prom job run m -- true
	expect_rc 0
	expect_out '^mercury_job_last_success_timestamp_seconds\{job="m"\} [0-9]'
	expect_out '^mercury_job_overdue\{job="m"\} 0$'
}

test_job_run_explicit_timeout_is_a_deadline_not_core_timeout() {
	# [core] timeout (here 1s) does not bound a job; --timeout does.
	conf "$(printf '[core]\ntimeout = 1s\n'; job_sec d 'kill_grace = 1s')"
	run job run d -- sh -c 'sleep 1.5; echo slept'
	expect_rc 0
	expect_out '^slept$'
	run --timeout 500ms job run d -- sleep 30
	expect_rc 124
	expect_err 'deadline'
	run job history d --json
	expect_json '.runs[0].status == "timeout" and .runs[0].duration_seconds < 5 and .runs[1].status == "ok"'
}

test_job_list_names_a_job_known_only_by_its_runs() {
	# A job run only by name (no [job] section) is listed when named,
	# with its verdict; a bare job list shows the configured jobs.
	conf "$(job_sec conf 'schedule = @daily')"
	run job list adhoc
	expect_rc 64
	run job run adhoc -- sh -c 'exit 3'
	expect_rc 3
	run job list adhoc
	expect_rc 2
	expect_out '^adhoc +- .* failed .*exit 3'
	run job list adhoc conf --json
	expect_rc 2
	expect_json '(.jobs | map(.job) | sort) == ["adhoc", "conf"] and (.jobs[] | select(.job == "adhoc") | .state == "failed" and .last_run.exit_code == 3 and .overdue == false)'
	run job list --json
	expect_json '.jobs | map(.job) == ["conf"]'
	run job run adhoc -- true
	run job list adhoc
	expect_rc 0
	conf "$(job_sec conf 'schedule = @daily'; printf '[check "a"]\ntype = job\njob = adhoc\n')"
	run health a --json
	expect_rc 0
	expect_json '.checks.a.status == "ok"'
}

test_job_list_nagios_is_a_verdict() {
	# job list is a check: a Nagios line naming the jobs that are not ok,
	# with each job's last duration as perfdata, and the verdict's code.
	conf "$(job_sec hourly 'schedule = 0 * * * *' 'grace = 1m'; job_sec 'two words' 'schedule = @yearly')"
	run job run 'two words' -- true
	run -o nagios job list
	expect_rc 0
	expect_out "^JOBS OK - 2 of 2 jobs ok \| 'two words_duration'=[0-9.e-]+s$"
	run -o nagios job list --at "$(($(date +%s) + 7200))"
	expect_rc 2
	expect_out '^JOBS CRITICAL - hourly overdue \|'
	[ "$(wc -l <"$OUT")" = 1 ] || fail "more than one line: $(out)"
	# -q: nothing on stdout, one line on stderr naming the job
	run -q job list --at "$(($(date +%s) + 7200))"
	expect_rc 2
	expect_empty_out
	expect_one_err_line
	expect_err '^jobs: critical: hourly overdue$'
	conf "[core]"
	run -o nagios job list
	expect_rc 3
	expect_out '^job list UNKNOWN - no check result$'
}

test_job_run_reader_going_away_ends_the_job_quietly() {
	# | head: the job's own pipe is closed as in a pipeline, so a job that
	# writes forever ends (SIGPIPE, 141) instead of running on unread,
	# and nothing is said on stderr (mercuryctl(1): a reader that goes
	# away ends the run quietly).
	conf ""
	local i rc
	for i in 1 2 3; do
		timeout 20 ${MC_WRAP:-} "$MC_BIN" job run y -- yes 2>"$T_DIR/err" </dev/null |
			head -c 10 >/dev/null
		rc=${PIPESTATUS[0]}
		[ "$rc" = 141 ] || fail "try $i: job run | head exited $rc (124: it did not end)"
		[ ! -s "$T_DIR/err" ] || fail "try $i: stderr: $(cat "$T_DIR/err")"
	done
	run job history y --json
	expect_json '.runs[0].signal == 13'
	# the same through stderr
	timeout 20 ${MC_WRAP:-} "$MC_BIN" job run y2 -- sh -c 'yes >&2' 2>&1 >/dev/null </dev/null |
		head -c 10 >/dev/null
	rc=${PIPESTATUS[0]}
	[ "$rc" = 141 ] || fail "stderr: job run 2>&1 | head exited $rc"
}

test_job_run_machine_formats_keep_stdout_for_the_document() {
	# -o json|prom|nagios: stdout is the one rendering; the job's stdout
	# goes to our stderr byte for byte (cron's mail still gets it), with
	# the kept tail as before; with keep_output = 0 (no pump) as well.
	printf '#!/bin/sh\nprintf "out-1\\n"\nprintf "err-1\\n" >&2\nprintf "out-2 \\033[1m\\n"\n' >"$T_DIR/job.sh"
	chmod +x "$T_DIR/job.sh"
	conf "$(job_sec kept "command = $T_DIR/job.sh"; job_sec bare "command = $T_DIR/job.sh" 'keep_output = 0')"
	local j
	for j in kept bare; do
		run --json job run "$j"
		expect_rc 0
		expect_json ".job == \"$j\" and .status == \"ok\" and .exit_code == 0"
		grep -qx 'out-1' "$ERR" && grep -qx 'err-1' "$ERR" &&
			grep -qx $'out-2 \033\\[1m' "$ERR" ||
			fail "$j: the job's output is not on stderr as it was written: $(cat -v "$ERR")"
		run -o prom job run "$j"
		expect_rc 0
		expect_no_out 'out-'
		promtool check metrics <"$OUT" >"$T_DIR/promtool" 2>&1 ||
			fail "$j: promtool: $(cat "$T_DIR/promtool")"
		run -o nagios job run "$j"
		expect_rc 3
		[ "$(wc -l <"$OUT")" = 1 ] || fail "$j: nagios: $(out)"
		expect_err '^out-1$'
		# text: stdout is the job's, unchanged
		run job run "$j"
		expect_rc 0
		[ "$(cat "$OUT")" = $'out-1\nout-2 \033[1m' ] || fail "$j: text stdout: $(cat -v "$OUT")"
		expect_err '^err-1$'
	done
	# the tail keeps both streams (their order between the two pipes is
	# the order the pump saw them in)
	run job log kept --json
	expect_json '.output | split("\n") | sort == ["", "err-1", "out-1", "out-2 \u001b[1m"]'
}
