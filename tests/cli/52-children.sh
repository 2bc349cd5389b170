# 52-children.sh - child processes (exec checks) never outlive the run and
# never see mercuryctl's secrets. Every process a test starts carries a
# random mark in its environment, so /proc tells whether one survived.

# marked_alive MARK: the pids of live (not zombie) processes with the mark.
marked_alive() {
	local f pid
	for f in /proc/[0-9]*/environ; do
		pid=${f#/proc/}
		pid=${pid%/environ}
		grep -qaz "^MC_CLI_MARK=$1\$" "$f" 2>/dev/null || continue
		grep -qE '^State:[[:space:]]+[ZX]' "/proc/$pid/status" 2>/dev/null && continue
		[ -e "/proc/$pid" ] && echo "$pid"
	done
}

none_marked_alive() { [ -z "$(marked_alive "$1")" ]; }
lines_at_least() { [ "$(cat "$2" 2>/dev/null | wc -l)" -ge "$1" ]; }

# A plugin whose tree does what it can to survive: SIGTERM ignored, a child
# that left the process group with setsid, and a daemon whose parent is
# gone. Each announces itself with a line in $T_DIR/started.
escaping_plugin() {
	cat >"$T_DIR/plugin" <<EOF
#!/bin/sh
trap '' TERM
setsid sh -c 'trap "" TERM; echo a >>"$T_DIR/started"; sleep 60' &
setsid sh -c '(trap "" TERM; echo b >>"$T_DIR/started"; sleep 60) & exit 0'
echo c >>"$T_DIR/started"
sleep 60
EOF
	chmod +x "$T_DIR/plugin"
}

test_sigterm_during_health_kills_the_plugin_tree() {
	local mark=$$-$RANDOM-$RANDOM pid
	escaping_plugin
	conf "[check \"slow\"]
type = exec
command = $T_DIR/plugin
timeout = 60s"
	MC_CLI_MARK=$mark ${MC_WRAP:-} "$MC_BIN" health --timeout 90s \
		>"$T_DIR/out" 2>"$T_DIR/err" </dev/null &
	pid=$!
	wait_until 20 lines_at_least 3 "$T_DIR/started" || fail "the plugin did not start"
	[ -n "$(marked_alive "$mark")" ] || fail "no marked process before the signal"
	kill -TERM "$pid"
	# Within a second of the signal (more under valgrind).
	wait_until "$(wrapped 10 2)" sh -c "! kill -0 $pid" ||
		fail "mercuryctl still runs after SIGTERM"
	wait "$pid"
	RC=$? OUT=$T_DIR/out ERR=$T_DIR/err
	expect_rc 143
	none_marked_alive "$mark" ||
		fail "processes of the plugin survived: $(marked_alive "$mark" | xargs -r ps -o pid,ppid,pgid,stat,args -p)"
	[ -z "$(marked_alive "$mark")" ] || kill -KILL $(marked_alive "$mark") 2>/dev/null
}

test_exec_timeout_kills_setsid_children() {
	local mark=$$-$RANDOM-$RANDOM
	escaping_plugin
	conf "[check \"slow\"]
type = exec
command = $T_DIR/plugin
timeout = $(wrapped 10s 2s)"
	MC_CLI_MARK=$mark run health --json
	expect_json '.checks.slow | .status == "critical" and (.message | test("timed out"))'
	lines_at_least 3 "$T_DIR/started" || fail "the plugin had not started all: $(cat "$T_DIR/started")"
	none_marked_alive "$mark" ||
		fail "processes of the plugin survived: $(marked_alive "$mark" | xargs -r ps -o pid,ppid,pgid,stat,args -p)"
	[ -z "$(marked_alive "$mark")" ] || kill -KILL $(marked_alive "$mark") 2>/dev/null
}

test_plugin_environment_has_no_secrets() {
	printf '#!/bin/sh\nenv >"%s/env"\necho "OK - dumped"\n' "$T_DIR" >"$T_DIR/dump"
	chmod +x "$T_DIR/dump"
	conf "[webhook \"hook\"]
type = json
url_env = MC_CLI_HOOK_URL
[webhook \"pd\"]
type = pagerduty
url = http://127.0.0.1:9/x
routing_key_env = MC_CLI_ROUTING_KEY
[check \"dump\"]
type = exec
command = $T_DIR/dump"
	MERCURY_REDIS_PASSWORD=planted-1 REDISCLI_AUTH=planted-2 \
		MC_CLI_HOOK_URL=http://127.0.0.1:9/planted-3 \
		MC_CLI_ROUTING_KEY=planted-4 MERCURY_PUSHGATEWAY_PASSWORD=planted-5 \
		MC_CLI_PLAIN=plain-6 run health
	expect_rc 0
	[ -s "$T_DIR/env" ] || fail "the plugin wrote no environment"
	! grep -q planted "$T_DIR/env" || fail "secrets reached the plugin: $(grep planted "$T_DIR/env")"
	grep -q '^MC_CLI_PLAIN=plain-6$' "$T_DIR/env" || fail "the plain variable did not reach the plugin"
}
