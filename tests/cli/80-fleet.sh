# 80-fleet.sh - fleet status: hosts sharing one redis, each a process with
# a state file and a [fleet] name of its own.

fleet_rcli() { redis-cli -p "$MC_TEST_REDIS_PORT" "$@"; }

# host_conf NAME [URL] [EXTRA]: the config file of host NAME in $T_DIR/NAME,
# in the fleet of prefix $P (unique to the test).
host_conf() {
	mkdir -p "$T_DIR/$1"
	printf '%s\n' "[fleet]" "redis_url = ${2:-$MC_TEST_REDIS_URL}" \
		"name = $1" "key_prefix = $P" "${3:-}" >"$T_DIR/$1/mercury.conf"
}

# as_host NAME ARGS...: runs mercuryctl as host NAME.
as_host() {
	local h=$1
	shift
	run -c "$T_DIR/$h/mercury.conf" --state "$T_DIR/$h/state.db" "$@"
}

fleet_setup() { P=mc-cli-fleet-$$-$RANDOM; }

# expect_all_ttls KIND...: every key of the fleet ($P) has a TTL, and
# keys of each KIND (dedup, bucket, ...) are among them.
expect_all_ttls() {
	local keys kind
	keys=$(fleet_rcli --scan --pattern "$P:*")
	for kind in "$@"; do
		echo "$keys" | grep -q ":$kind" || fail "no $kind key among: $keys"
	done
	# shellcheck disable=SC2086
	expect_ttls $keys
}

# expect_ttls KEYS...: each key has a TTL. A key listed a moment ago that
# is gone now (PTTL -2) ran out of its TTL in between: a short-lived one,
# a token bucket that filled up, on a loaded machine. Only -1 (a key that
# never expires) fails.
expect_ttls() {
	local k ttl
	for k in "$@"; do
		ttl=$(fleet_rcli PTTL "$k")
		[ "$ttl" -gt 0 ] || [ "$ttl" = -2 ] || fail "key $k has PTTL $ttl"
	done
}

test_fleet_status_lists_members_of_every_host() {
	fleet_setup
	host_conf web-1
	host_conf web-2
	as_host web-1 fleet status
	expect_rc 0
	as_host web-2 fleet status --json
	expect_rc 0
	expect_json '.fleet == "ok" and .name == "web-2"'
	expect_json '[.members[].name] == ["web-1", "web-2"]'
	expect_json 'all(.members[]; .last_command == "fleet status" and .version != "" and .pid > 0 and .age_s >= 0)'
	expect_json '.breakers == [] and .locks == []'
	as_host web-1 fleet status
	expect_rc 0
	expect_out "^fleet: ok, this host is 'web-1'"
	expect_out '^web-1 +[0-9.]+m?s ago +[0-9.]+ +fleet status +[0-9]+'
	expect_out '^web-2 +'
}

test_fleet_status_shows_shared_breakers_and_held_locks() {
	fleet_setup
	host_conf web-1
	# what the scripts leave for an open breaker and a lock held by
	# another host (layout: lib/fleet_scripts.c)
	now=$(date +%s)
	fleet_rcli HSET "$P:{webhook:ops}:breaker" state 1 failures 5 \
		opened_at "$now" updated "$now" recovery 600 >/dev/null
	fleet_rcli PEXPIRE "$P:{webhook:ops}:breaker" 60000 >/dev/null
	fleet_rcli HSET "$P:{dlq:alerter}:lock" owner "web-9/4242/abcd" \
		token 7 acquired "$((now - 12))" renewed "$now" >/dev/null
	fleet_rcli PEXPIRE "$P:{dlq:alerter}:lock" 30000 >/dev/null
	as_host web-1 fleet status
	expect_rc 0
	expect_out '^webhook:ops +open +5 '
	expect_out '^dlq:alerter +web-9 +4242 +7 +(1[2-9]|[2-9][0-9])s '
	as_host web-1 fleet status -o json
	expect_json '.breakers[0] | .name == "webhook:ops" and .state == "open" and .failures == 5 and (.retry_at | type) == "string"'
	expect_json '.locks[0] | .name == "dlq:alerter" and .host == "web-9" and .pid == 4242 and .token == "7" and .age_s >= 12 and .lease_left_ms > 0'
}

test_fleet_status_escapes_what_other_hosts_wrote() {
	fleet_setup
	host_conf web-1
	now=$(date +%s)
	fleet_rcli HSET "$P:{host:evil}:member" name "$(printf 'ev\033[31mil')" \
		version 1 last_command "$(printf 'alert\rsend')" pid 7 last_seen "$now" >/dev/null
	fleet_rcli PEXPIRE "$P:{host:evil}:member" 60000 >/dev/null
	as_host web-1 fleet status
	expect_rc 0
	expect_out '^ev\\x1B\[31mil .* alert\\x0Dsend '
	grep -q "$(printf '\033')" "$OUT" && fail "an escape sequence reached the terminal"
	as_host web-1 fleet status --json
	expect_json '[.members[].name] | index("ev\u001b[31mil") != null'
}

test_fleet_every_key_has_a_ttl() {
	fleet_setup
	host_conf web-1
	as_host web-1 fleet status
	expect_rc 0
	expect_all_ttls member
}

test_fleet_status_degraded_when_redis_is_unreachable() {
	fleet_setup
	host_conf web-1 redis://127.0.0.1:9/0
	as_host web-1 fleet status
	expect_rc 3
	expect_err '^mercuryctl: fleet: degraded: redis 127.0.0.1:9: cannot connect'
	expect_one_err_line
	as_host web-1 fleet status --json
	expect_rc 3
	expect_json '.fleet == "degraded" and .exit_code == 3 and (.error | test("fleet: degraded"))'
}

test_fleet_password_from_file() {
	fleet_setup
	printf '%s\n' "$MC_TEST_REDIS_PASSWORD" >"$T_DIR/pw"
	chmod 600 "$T_DIR/pw"
	host_conf web-1 "$MC_TEST_REDIS_AUTH_URL" "password_file = $T_DIR/pw"
	as_host web-1 fleet status
	expect_rc 0
	expect_no_err "$MC_TEST_REDIS_PASSWORD"
	host_conf web-1 "$MC_TEST_REDIS_AUTH_URL"
	as_host web-1 fleet status
	expect_rc 3
	expect_err 'fleet: degraded: .*password'
}

test_fleet_status_without_a_fleet_is_a_config_error() {
	conf '[core]'
	run fleet status
	expect_rc 78
	expect_err 'no \[fleet\] section'
	expect_one_err_line
}

test_fleet_config_refuses_bad_names_and_short_leases() {
	conf '[fleet]
name = web 1'
	run config check
	expect_rc 78
	expect_err 'name may not hold spaces'
	conf '[fleet]
lease = 500ms'
	run config check
	expect_rc 78
	expect_err 'lease must be at least 1s'
}

# alert_hosts N [WEBHOOK KEYS...]: hosts web-1..web-N in the fleet, each
# with the json webhook "ops" at the receiver under /mercury/$P (or at
# $HOOK_URL).
alert_hosts() {
	local n=$1 i
	shift
	printf '%s\n' "${HOOK_URL:-$MC_TEST_RECEIVER/mercury/$P}" >"$T_DIR/ops.url"
	for i in $(seq 1 "$n"); do
		host_conf "web-$i" "$MC_TEST_REDIS_URL" "[webhook \"ops\"]
type = json
url_file = $T_DIR/ops.url
$(printf '%s\n' "$@")"
	done
}

# send_all N ARGS...: `alert send ARGS` N times on each host at once.
send_all() {
	local n=$1 h k
	shift
	for h in "$T_DIR"/web-*; do
		for k in $(seq 1 "$n"); do
			"$MC_BIN" -c "$h/mercury.conf" --state "$h/state.db" \
				alert send "$@" >/dev/null 2>&1 </dev/null &
		done
	done
	wait
}

delivered() { curl -sf "$MC_TEST_RECEIVER/_requests?path_prefix=/mercury/$P" | jq length; }

test_fleet_alert_one_delivery_from_three_hosts() {
	fleet_setup
	alert_hosts 3
	send_all 10 --severity warning --summary "disk full $P" --source db-1 ops
	[ "$(delivered)" = 1 ] || fail "trigger: $(delivered) deliveries from 30 sends"
	send_all 10 --severity critical --summary "disk full $P" --source db-1 ops
	[ "$(delivered)" = 2 ] || fail "escalation: $(delivered) deliveries in all"
	send_all 10 --resolve --summary "disk full $P" --source db-1 ops
	[ "$(delivered)" = 3 ] || fail "resolve: $(delivered) deliveries in all"
	send_all 2 --resolve --summary "disk full $P" --source db-1 ops
	[ "$(delivered)" = 3 ] || fail "a second resolve went out"
	curl -sf "$MC_TEST_RECEIVER/_requests?path_prefix=/mercury/$P" |
		jq -e '[.[].body | fromjson | [.action, .severity]] == [["trigger", "warning"], ["trigger", "critical"], ["resolve", "critical"]]' >/dev/null ||
		fail "not trigger, escalation, resolve: $(curl -sf "$MC_TEST_RECEIVER/_requests?path_prefix=/mercury/$P" | jq -c '[.[].body | fromjson | [.action, .severity]]')"
	# each host's own log says what it did
	as_host web-2 alert history --json
	expect_json '[.alerts[] | .result] | all(. == "delivered" or . == "suppressed")'
	expect_all_ttls dedup member
}

test_fleet_alert_rate_holds_across_hosts() {
	fleet_setup
	alert_hosts 3 "rate = 2/s" "burst = 2"
	for h in 1 2 3; do
		for k in 1 2 3 4; do
			"$MC_BIN" -c "$T_DIR/web-$h/mercury.conf" \
				--state "$T_DIR/web-$h/state.db" alert send \
				--severity info --summary "job $h.$k $P" ops \
				>/dev/null 2>&1 </dev/null &
		done
	done
	# The bucket's TTL is the time it takes to fill again: by the end of
	# the sends it may have run out (on a loaded machine it does), so it
	# is read while they queue behind it.
	local bucket=$P:{webhook:ops}:bucket
	has_bucket() { [ "$(fleet_rcli EXISTS "$bucket")" = 1 ]; }
	wait_until 30 has_bucket || fail "no bucket key $bucket"
	[ "$(fleet_rcli PTTL "$bucket")" -gt 0 ] || fail "the bucket has no TTL"
	wait
	[ "$(delivered)" = 12 ] || fail "$(delivered) of 12 delivered"
	# 12 at 2/s with a burst of 2: the last arrives 5 s after the first
	# at the earliest (less what the clocks blur: 0.3 s)
	span=$(curl -sf "$MC_TEST_RECEIVER/_requests?path_prefix=/mercury/$P" |
		jq '[.[].ts] | max - min')
	awk -v s="$span" 'BEGIN { exit !(s >= 4.7) }' ||
		fail "12 deliveries within $span s"
	expect_all_ttls
}

test_fleet_breaker_opened_on_one_host_is_open_on_another() {
	fleet_setup
	HOOK_URL=$MC_TEST_RECEIVER/status/500/$P alert_hosts 2 "retries = 0" \
		"breaker_failures = 5" "breaker_recovery = 10m"
	for k in 1 2 3 4 5; do
		as_host web-1 alert send --severity warning --summary "a$k $P" ops
		expect_rc 2
	done
	n=$(curl -sf "$MC_TEST_RECEIVER/_requests?path_prefix=/status/500/$P" | jq length)
	[ "$n" = 5 ] || fail "$n requests from host A"
	as_host web-2 alert send --severity warning --summary "b $P" ops --json
	expect_rc 2
	expect_json '(.deliveries.ops | .result == "failed" and .circuit_open) and .fleet == "ok"'
	n=$(curl -sf "$MC_TEST_RECEIVER/_requests?path_prefix=/status/500/$P" | jq length)
	[ "$n" = 5 ] || fail "host B made a request ($n in all)"
	as_host web-2 fleet status --json
	expect_json '.breakers[] | select(.name == "webhook:ops") | .state == "open" and .failures == 5'
	expect_all_ttls breaker
	# breaker list and reset act on the fleet's breakers
	as_host web-2 breaker list --json
	expect_json '[.breakers[] | select(.name == "webhook:ops")] | length == 1 and .[0].state == "open" and .[0].scope == "fleet" and .[0].failures == 5'
	as_host web-2 breaker list
	expect_out '^webhook:ops +open +5 .* fleet$'
	as_host web-2 breaker reset ops
	expect_rc 64
	expect_err "did you mean 'webhook:ops'"
	as_host web-2 breaker reset webhook:ops
	expect_rc 0
	expect_out "breaker 'webhook:ops' reset"
	as_host web-1 breaker list --json
	expect_json '[.breakers[] | select(.name == "webhook:ops" and .state != "closed")] == []'
	[ "$(fleet_rcli EXISTS "$P:{webhook:ops}:breaker")" = 0 ] || fail "the fleet breaker is still there"
	as_host web-1 breaker reset webhook:ops
	expect_rc 64
}

test_fleet_alert_degraded_when_redis_is_unreachable() {
	fleet_setup
	alert_hosts 1
	sed -i "s|^redis_url = .*|redis_url = redis://127.0.0.1:9/0|" "$T_DIR/web-1/mercury.conf"
	as_host web-1 alert send --severity warning --summary "down $P" ops --json
	expect_rc 0
	expect_json '.deliveries.ops.result == "delivered" and .fleet == "degraded" and (.fleet_error | test("127.0.0.1:9"))'
	expect_err 'fleet: degraded: redis 127.0.0.1:9: cannot connect'
	[ "$(delivered)" = 1 ] || fail "$(delivered) deliveries"
	# the dedup held on the state file alone
	as_host web-1 alert send --severity warning --summary "down $P" ops
	expect_rc 0
	[ "$(delivered)" = 1 ] || fail "sent twice from one host"
}

test_fleet_k8s_example_config_passes_config_check() {
	# the ConfigMap's mercury.conf, without its YAML indentation
	awk '/^  mercury.conf: \|/ { on = 1; next } on && /^---/ { exit }
	     on { sub(/^    /, ""); print }' "$MC_SRC/scripts/examples/k8s-cronjob.yaml" \
		>"$T_DIR/k8s.conf"
	grep -q '^\[fleet\]' "$T_DIR/k8s.conf" || fail "no [fleet] in the example"
	export OPS_SLACK_URL=https://hooks.example.com/services/T0/B0/x
	run -c "$T_DIR/k8s.conf" config check
	expect_rc 0
}

# dlq_hosts N [EXTRA]: hosts web-1..web-N in the fleet, with a lease of
# 1s, each with the DLQ "q" on the lists $K:src, $K:tgt, $K:dead of the
# fleet's redis (batches of 10).
dlq_hosts() {
	local i
	K=mc-cli-fleet-dlq-$$-$RANDOM
	for i in $(seq 1 "$1"); do
		host_conf "web-$i" "$MC_TEST_REDIS_URL" "lease = 1s
[core]
redis_url = ${2:-$MC_TEST_REDIS_URL}
[dlq \"q\"]
source = $K:src
target = $K:tgt
dead = $K:dead
batch = 10"
	done
}

# dlq_fill FROM TO: messages with ids FROM..TO at the tail of the source.
dlq_fill() {
	seq "$1" "$2" | awk -v k="$K:src" \
		'{ printf "RPUSH %s '\''{\"id\":%d,\"retry_count\":%d}'\''\n", k, $1, $1 % 4 }' |
		fleet_rcli >/dev/null
}

# dlq_ids LIST: the ids in LIST, one a line, in order.
dlq_ids() { fleet_rcli --raw LRANGE "$1" 0 -1 | jq -r .id; }

# err_has FILE PATTERN: for wait_until.
err_has() { grep -qE -- "$2" "$1"; }

moved() { echo $(($(fleet_rcli LLEN "$K:tgt") + $(fleet_rcli LLEN "$K:dead"))); }
moved_some() { [ "$(moved)" -gt 0 ]; }
lock_gone() { [ "$(fleet_rcli EXISTS "$P:{$K:src}:lock")" = 0 ]; }

test_fleet_dlq_replay_one_replayer_and_fencing() {
	fleet_setup
	dlq_hosts 3
	dlq_fill 1 300
	local i pid replayer="" m1
	declare -a pids
	# three hosts at once, paced so the replay lasts a few seconds
	for i in 1 2 3; do
		"$MC_BIN" -c "$T_DIR/web-$i/mercury.conf" --state "$T_DIR/web-$i/state.db" \
			dlq replay q --rate 100/s --timeout 5m --json \
			>"$T_DIR/out.$i" 2>"$T_DIR/err.$i" </dev/null &
		pids[i]=$!
	done
	wait_until 20 moved_some || fail "no host replayed"
	wait_until 20 bash -c "[ \$(grep -lE 'holds the fleet lock' $T_DIR/err.[123] | wc -l) = 2 ]" ||
		fail "not two hosts refused: $(cat "$T_DIR"/err.*)"
	for i in 1 2 3; do
		if ! grep -q 'holds the fleet lock' "$T_DIR/err.$i"; then
			replayer=$i
		else
			wait "${pids[i]}"
			rc=$?
			[ "$rc" = 75 ] || fail "host $i exited $rc, expected 75"
		fi
	done
	[ -n "$replayer" ] || { fail "no replayer"; return; }
	# the replayer is paused past its lease
	kill -STOP "${pids[replayer]}"
	wait_until 20 lock_gone || fail "the paused replayer's lease never ended"
	m1=$(moved)
	[ "$m1" -lt 300 ] || fail "the replay was over before the pause ($m1 moved)"
	# another host takes over and finishes
	other=$((replayer % 3 + 1))
	as_host "web-$other" dlq replay q --json
	expect_rc 0
	expect_json ".replayed + .dead == $((300 - m1)) and .left == 0 and .fleet == \"ok\""
	[ "$(fleet_rcli LLEN "$K:src")" = 0 ] || fail "the takeover left messages"
	# new dead letters arrive; the first replayer wakes up: not one more
	# message moves (its lease's token is stale: the batch script refuses)
	dlq_fill 301 400
	kill -CONT "${pids[replayer]}"
	wait "${pids[replayer]}"
	rc=$?
	[ "$rc" = 75 ] || fail "the woken replayer exited $rc, expected 75: $(cat "$T_DIR/err.$replayer")"
	grep -q "fleet lease of this replay was lost" "$T_DIR/err.$replayer" ||
		fail "no clear message: $(cat "$T_DIR/err.$replayer")"
	[ "$(fleet_rcli LLEN "$K:src")" = 100 ] || fail "the woken replayer moved messages"
	# every message of the first 300 exactly once in target or dead
	{ dlq_ids "$K:tgt"; dlq_ids "$K:dead"; } | sort -n >"$T_DIR/ids"
	seq 1 300 | diff - "$T_DIR/ids" >/dev/null ||
		fail "messages lost or duplicated: $(seq 1 300 | diff - "$T_DIR/ids" | head -5)"
	fleet_rcli DEL "$K:src" "$K:tgt" "$K:dead" >/dev/null
	# the lease's fencing counter and the members: each with a TTL
	expect_all_ttls fence member
}

test_fleet_dlq_replay_refused_when_degraded() {
	fleet_setup
	dlq_hosts 1
	sed -i "0,/^redis_url = .*/s||redis_url = redis://127.0.0.1:9/0|" "$T_DIR/web-1/mercury.conf"
	dlq_fill 1 20
	as_host web-1 dlq replay q --json
	expect_rc 75
	expect_json '.fleet == "degraded" and (.error | test("fleet: degraded"))'
	expect_err 'fleet: degraded .*does not start'
	expect_one_err_line
	[ "$(fleet_rcli LLEN "$K:src")" = 20 ] || fail "a degraded replay moved messages"
	# a dry run moves nothing and needs no lease
	as_host web-1 dlq replay q --dry-run
	expect_rc 0
	fleet_rcli DEL "$K:src" >/dev/null
}

test_fleet_dlq_replay_refused_when_the_fleet_is_another_redis() {
	fleet_setup
	dlq_hosts 1
	sed -i "0,/^redis_url = .*/s||redis_url = ${MC_TEST_REDIS_URL%/0}/1|" "$T_DIR/web-1/mercury.conf"
	dlq_fill 1 5
	as_host web-1 dlq replay q
	expect_rc 78
	expect_err 'must be one Redis server and database'
	[ "$(fleet_rcli LLEN "$K:src")" = 5 ] || fail "messages moved"
	fleet_rcli DEL "$K:src" >/dev/null
}

# lock_older_than KEY SECONDS: the fleet lock KEY was acquired SECONDS ago
# or more (by the server's clock).
lock_older_than() {
	local acq now
	acq=$(fleet_rcli HGET "$1" acquired)
	now=$(fleet_rcli TIME | head -n 1)
	[ -n "$acq" ] && awk -v a="$acq" -v n="$now" -v s="$2" 'BEGIN { exit !(n - a >= s) }'
}

test_fleet_job_overlap_skip_one_run_across_hosts() {
	fleet_setup
	cat >"$T_DIR/hold.sh" <<SH
#!/bin/sh
echo "\$1" >>"$T_DIR/started"
i=0
while [ ! -e "$T_DIR/release" ] && [ \$i -lt 3000 ]; do sleep 0.01; i=\$((i + 1)); done
SH
	chmod +x "$T_DIR/hold.sh"
	local i rc
	declare -a pids
	for i in 1 2 3 4; do
		host_conf "web-$i" "$MC_TEST_REDIS_URL" "lease = 1s
[job \"nightly\"]
command = $T_DIR/hold.sh web-$i
overlap = skip"
	done
	for i in 1 2 3; do
		"$MC_BIN" -c "$T_DIR/web-$i/mercury.conf" --state "$T_DIR/web-$i/state.db" \
			job run nightly >/dev/null 2>"$T_DIR/err.$i" </dev/null &
		pids[i]=$!
	done
	wait_until 20 bash -c "[ \$(grep -l 'skipped' $T_DIR/err.[123] | wc -l) = 2 ]" ||
		fail "not two hosts skipped: $(cat "$T_DIR"/err.*)"
	wait_until 10 test -s "$T_DIR/started" || fail "no host ran the job"
	# held past its lease (renewed while the job runs): still one run
	wait_until 10 lock_older_than "$P:{job:nightly}:lock" 1.5 ||
		fail "the lock was not held past its lease"
	as_host web-4 job run nightly
	expect_rc 75
	expect_err "skipped.*host web-[123]"
	touch "$T_DIR/release"
	for i in 1 2 3; do
		wait "${pids[i]}"
		rc=$?
		if grep -q skipped "$T_DIR/err.$i"; then
			[ "$rc" = 75 ] || fail "host $i skipped with exit $rc"
			[ "$(sqlite3 "$T_DIR/web-$i/state.db" "SELECT status FROM job_runs WHERE job = 'nightly'")" = skipped ] ||
				fail "host $i did not record its skip"
		else
			[ "$rc" = 0 ] || fail "the run on host $i exited $rc"
		fi
	done
	[ "$(wc -l <"$T_DIR/started")" = 1 ] || fail "the job ran $(wc -l <"$T_DIR/started") times: $(cat "$T_DIR/started")"
	lock_gone_key "$P:{job:nightly}:lock" || fail "the lock outlived the run"
	expect_all_ttls fence
}
lock_gone_key() { [ "$(fleet_rcli EXISTS "$1")" = 0 ]; }

test_fleet_backup_create_one_at_a_time_into_a_shared_dir() {
	fleet_setup
	mkdir -p "$T_DIR/data"
	printf 'app = 1\n' >"$T_DIR/data/app.conf"
	cat >"$T_DIR/dump.sh" <<SH
#!/bin/sh
echo "\$1" >>"$T_DIR/started"
echo data
i=0
while [ ! -e "$T_DIR/release" ] && [ \$i -lt 3000 ]; do sleep 0.01; i=\$((i + 1)); done
SH
	chmod +x "$T_DIR/dump.sh"
	local i pid rc
	for i in 1 2; do
		host_conf "web-$i" "$MC_TEST_REDIS_URL" "lease = 1s
[backup]
dir = $T_DIR/shared
include = $T_DIR/data
[backup_source \"dump\"]
command = $T_DIR/dump.sh web-$i
timeout = 60s"
	done
	"$MC_BIN" -c "$T_DIR/web-1/mercury.conf" --state "$T_DIR/web-1/state.db" \
		backup create >/dev/null 2>"$T_DIR/err.1" </dev/null &
	pid=$!
	wait_until 20 test -s "$T_DIR/started" || fail "web-1's create did not start"
	# held past its lease while the create runs
	wait_until 10 lock_older_than "$P:{backup:$T_DIR/shared}:lock" 1.5 ||
		fail "the lock was not held past its lease"
	as_host web-2 backup create
	expect_rc 75
	expect_err "fleet lock 'backup:$T_DIR/shared' \\(host web-1 pid $pid"
	expect_one_err_line
	touch "$T_DIR/release"
	wait "$pid"
	rc=$?
	[ "$rc" = 0 ] || fail "web-1's create exited $rc: $(cat "$T_DIR/err.1")"
	[ "$(cat "$T_DIR/started")" = web-1 ] || fail "web-2's source ran: $(cat "$T_DIR/started")"
	lock_gone_key "$P:{backup:$T_DIR/shared}:lock" || fail "the lock outlived the create"
	as_host web-2 backup create
	expect_rc 0
}
