# 60-secrets.sh - secrets planted in config, environment and a URL appear
# nowhere: stdout, stderr (text and JSON logs) or the state file.

test_planted_secrets_never_leak() {
	local s_file=FileSecret-9f8e7d s_env=EnvSecret-7a6b5c s_arg=ArgSecret-5c4d3e
	conf "[core]
redis_url = redis://:$s_file@127.0.0.1:6379/0
[check \"memory\"]
type = memory
warn = 100
crit = 100"
	export MERCURY_PROMETHEUS_URL="http://ops:$s_env@127.0.0.1:9090"
	local all=$T_DIR/all
	: >"$all"
	local args
	for args in "health" "-vv health" "--log-format json -vv health" "config show" \
		"config show --json" "history" "history --json" \
		"-vv health --pushgateway http://u:$s_arg@127.0.0.1:9/ --timeout 3s" \
		"--log-format json health --pushgateway http://u:$s_arg@127.0.0.1:9/x?token=$s_arg --timeout 3s" \
		"health --pushgateway http://u:$s_arg@${MC_TEST_RECEIVER#http://}/pg"; do
		# shellcheck disable=SC2086
		run $args
		cat "$OUT" "$ERR" >>"$all"
	done
	# Something was printed, and the secrets were masked, not dropped.
	grep -q 'redis://:\*\*\*@127.0.0.1' "$all" || fail "config show did not show the masked URL"
	grep -q '\*\*\*' "$all" || fail "nothing masked"
	sqlite3 "$STATE" .dump >>"$all"
	cat "$STATE" "$STATE-wal" 2>/dev/null | strings >>"$all"
	local s
	for s in "$s_file" "$s_env" "$s_arg"; do
		! grep -q "$s" "$all" || fail "secret $s leaked: $(grep -m3 "$s" "$all")"
	done
}
