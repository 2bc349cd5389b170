# 62-secret-sweep.sh - secrets planted in every place a secret can come
# from (config URLs and their query, webhook URL and routing-key files, the
# Redis password, the Pushgateway URL from the environment, and a config
# error that quotes a broken URL) are searched for in everything every
# command prints, in every output format, with text and JSON logs, and in
# the state file. Something must be printed, and what was secret masked.

sweep_conf() {
	local R=$MC_TEST_RECEIVER
	printf '%s\n' "$R/mercury/$S_HOOK" >"$T_DIR/hook.url"
	printf '%s\n' "$R/pagerduty/pd-$$" >"$T_DIR/pd.url"
	printf '%s\n' "$S_ROUTING" >"$T_DIR/pd.key"
	conf "[core]
redis_url = redis://:$MC_TEST_REDIS_PASSWORD@127.0.0.1:$MC_TEST_REDIS_AUTH_PORT/0
prometheus_url = \"${MC_TEST_PROMETHEUS%/}/?key=$S_QKEY&x=1\"
timeout = 8s
[check \"web\"]
type = http
url = $R/status/200?token=$S_TOKEN
[check \"q\"]
type = redis_queue
queue = sweep-$$
warn = 10
crit = 20
[dlq \"d\"]
source = sweep-src-$$
target = sweep-tgt-$$
dead = sweep-dead-$$
[slo \"s\"]
objective = 99.9
window = 30d
error_query = sum(rate(none_total{code=\"500\"}[{{window}}]))
total_query = sum(rate(none_total[{{window}}]))
[webhook \"hook\"]
type = json
url_file = $T_DIR/hook.url
[webhook \"pd\"]
type = pagerduty
url_file = $T_DIR/pd.url
routing_key_file = $T_DIR/pd.key"
	chmod 600 "$CONF" "$T_DIR"/*.url "$T_DIR/pd.key"
}

test_secret_sweep_every_command_and_format() {
	S_HOOK=HookPathSecret-$$ S_ROUTING=RoutingKeySecret0123456789abcdef
	S_QKEY=QueryKeySecret-$$ S_TOKEN=TokenParamSecret-$$
	local s_push=PushSecret-$$ all=$T_DIR/all
	sweep_conf
	redis-cli -p "$MC_TEST_REDIS_AUTH_PORT" -a "$MC_TEST_REDIS_PASSWORD" \
		--no-auth-warning RPUSH "sweep-src-$$" '{"id":1}' >/dev/null
	export MERCURY_PUSHGATEWAY_URL="http://pg:$s_push@${MC_TEST_RECEIVER#http://}/pg-$$"
	: >"$all"
	local cmd fmt
	while IFS= read -r cmd; do
		for fmt in text json prom nagios; do
			# shellcheck disable=SC2086
			run -o "$fmt" --log-format json -vv $cmd
			cat "$OUT" "$ERR" >>"$all"
		done
		# shellcheck disable=SC2086
		run -vv $cmd
		cat "$OUT" "$ERR" >>"$all"
	done <<-CMDS
	health
	slo status
	slo rules
	slo history s
	dlq stats
	dlq peek d
	dlq replay d --dry-run
	alert test --summary sweep-$$
	alert send --severity warning --summary sweep-$$ --label a=b
	alert history
	history
	breaker list
	config check
	config show
	version
	CMDS
	# The Pushgateway got the run's metrics, from the environment's URL.
	curl -sf "$MC_TEST_RECEIVER/_requests?path_prefix=/pg-$$/metrics/job/mercuryctl" |
		jq -e 'length > 0' >/dev/null || fail "nothing pushed to the Pushgateway URL from the environment"
	grep -q 'redis://:\*\*\*@127.0.0.1' "$all" || fail "config show did not show the masked Redis URL"
	grep -q "key=\*\*\*" "$all" || fail "the ?key= parameter was not shown masked"
	sqlite3 "$STATE" .dump >>"$all"
	cat "$STATE" "$STATE-wal" 2>/dev/null | strings >>"$all"
	local s
	for s in "$MC_TEST_REDIS_PASSWORD" "$S_HOOK" "$S_ROUTING" "$S_QKEY" "$S_TOKEN" "$s_push"; do
		! grep -q -- "$s" "$all" || fail "secret $s leaked: $(grep -m3 -- "$s" "$all" | cut -c1-300)"
	done
}

# A configuration error that quotes a broken URL (a trailing line break, a
# space, a slash in the password): the error says what is wrong on stderr,
# in the JSON document and in the Nagios line, and shows no password.
test_secret_sweep_config_errors() {
	local s=ErrSecret-$$ all=$T_DIR/all u fmt
	: >"$all"
	for u in "redis://:$s@127.0.0.1:6379/0
" "redis://:$s pw@127.0.0.1:6379/0" "redis://:$s/x@127.0.0.1:6379/0" \
		"ftp://:$s@127.0.0.1/"; do
		for fmt in text json nagios; do
			REDIS_URL=$u run -o "$fmt" --log-format json dlq stats
			cat "$OUT" "$ERR" >>"$all"
			conf "[core]
redis_url = $u"
			run -o "$fmt" health
			cat "$OUT" "$ERR" >>"$all"
			unset MERCURY_CONFIG
		done
	done
	grep -q "bad URL" "$all" || fail "no bad-URL error at all"
	! grep -q -- "$s" "$all" || fail "secret leaked: $(grep -m3 -- "$s" "$all")"
	# A trailing line break alone (a Kubernetes secret) is forgiven.
	REDIS_URL="redis://:$s@127.0.0.1:6379/0
" run config show --json
	expect_rc 0
	expect_json '.sections[0].values.redis_url.value == "redis://:***@127.0.0.1:6379/0"'
}

# The Pushgateway URL from a file or a variable the config names: the push
# happens, and its password shows nowhere; two sources in the file are a
# configuration error.
test_pushgateway_url_from_file_or_env_key() {
	local s=PgFileSecret-$$ R=${MC_TEST_RECEIVER#http://}
	printf 'http://pg:%s@%s/pgf-%s\n' "$s" "$R" "$$" >"$T_DIR/pg.url"
	conf "[core]
pushgateway_url_file = $T_DIR/pg.url"
	run -vv --log-format json health
	expect_rc 0
	receiver_got "/pgf-$$/metrics/job/mercuryctl" || fail "nothing pushed from pushgateway_url_file"
	export MC_PG_URL="http://pg:$s@$R/pge-$$"
	conf "[core]
pushgateway_url_env = MC_PG_URL"
	run -vv health --json
	expect_rc 0
	receiver_got "/pge-$$/metrics/job/mercuryctl" || fail "nothing pushed from pushgateway_url_env"
	unset MC_PG_URL
	run health --json
	expect_rc 78
	expect_json '.metrics_error | test("pushgateway_url_env: the environment variable MC_PG_URL")'
	conf "[core]
pushgateway_url = http://127.0.0.1:9/
pushgateway_url_file = $T_DIR/pg.url"
	run config check
	expect_rc 78
	expect_err 'mercury.conf:3: \[core\] give one of pushgateway_url, pushgateway_url_file and pushgateway_url_env'
	sqlite3 "$STATE" .dump >"$T_DIR/dump"
	! grep -q -- "$s" "$OUT" "$ERR" "$T_DIR/dump" || fail "the Pushgateway password leaked"
}
