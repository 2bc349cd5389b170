# 45-alert.sh - alert send/test/history and health --notify, against the
# receiver (which checks each payload against its service's format) and a
# real Alertmanager.

# A prefix no other test uses.
U=
uniq_setup() { U="t$$-$RANDOM$RANDOM"; }

# hook NAME TYPE URL [KEY=VALUE...]: a [webhook] section whose URL is kept
# in a file (the secret stays out of the config).
hook() {
	local name=$1 type=$2 url=$3
	shift 3
	printf '%s\n' "$url" >"$T_DIR/$name.url"
	printf '[webhook "%s"]\ntype = %s\nurl_file = %s\n' "$name" "$type" \
		"$T_DIR/$name.url"
	[ "$type" = pagerduty ] && {
		printf 'abcdef0123456789abcdef0123456789\n' >"$T_DIR/$name.key"
		printf 'routing_key_file = %s\n' "$T_DIR/$name.key"
	}
	for kv in "$@"; do printf '%s\n' "$kv"; done
}

# reqs PREFIX: the receiver's records under PREFIX (a JSON array).
reqs() { curl -sf "$MC_TEST_RECEIVER/_requests?path_prefix=$1"; }
nreqs() { reqs "$1" | jq length; }

# am_alerts: Alertmanager's active alerts carrying label run=$U.
am_alerts() {
	curl -sf -G "$MC_TEST_ALERTMANAGER/api/v2/alerts" \
		--data-urlencode "filter=run=\"$U\""
}
am_count_is() { [ "$(am_alerts | jq length)" = "$1" ]; }

five_hooks() {
	conf "$(hook slack slack "$MC_TEST_RECEIVER/slack/$U"
		hook discord discord "$MC_TEST_RECEIVER/discord/$U"
		hook pd pagerduty "$MC_TEST_RECEIVER/pagerduty/$U"
		hook json json "$MC_TEST_RECEIVER/mercury/$U"
		hook am alertmanager "$MC_TEST_ALERTMANAGER")"
	chmod 600 "$CONF"
}

test_alert_send_every_type_and_resolve() {
	uniq_setup
	five_hooks
	run alert send --severity critical --summary "disk full $U" \
		--description "98% used" --label run="$U" --label team=ops \
		--correlation-id "cid-$U" --json
	expect_rc 0
	expect_json '.status == "ok" and .action == "trigger" and ([.deliveries[] | .result] | unique) == ["delivered"] and (.deliveries | length) == 5'
	expect_json '.deliveries.discord.http_status == 204 and .deliveries.pd.http_status == 202'
	# the receiver found every body well-formed, and each carries the id
	[ "$(reqs "/" | jq --arg u "$U" '[.[] | select(.path | endswith($u)) | select((.problems | length) == 0) | select(.body | contains("cid-'"$U"'"))] | length')" = 4 ] ||
		fail "not 4 valid payloads carrying the correlation id: $(reqs /slack/$U)"
	reqs "/slack/$U" | jq -e '.[0].headers["X-Correlation-ID"] == "cid-'"$U"'"' >/dev/null ||
		fail "no X-Correlation-ID header"
	# read back from Alertmanager
	wait_until 10 am_count_is 1 || fail "Alertmanager does not have the alert: $(am_alerts)"
	am_alerts | jq -e '.[0] | .labels.severity == "critical" and .labels.team == "ops" and .annotations.summary == "disk full '"$U"'" and .annotations.correlation_id == "cid-'"$U"'" and .status.state == "active"' >/dev/null ||
		fail "Alertmanager's alert is not what was sent: $(am_alerts)"

	run alert send --severity critical --summary "disk full $U" \
		--label run="$U" --label team=ops --resolve --json
	expect_rc 0
	expect_json '.action == "resolve" and ([.deliveries[] | .result] | unique) == ["delivered"]'
	reqs "/pagerduty/$U" | jq -e '.[1].body | fromjson | .event_action == "resolve"' >/dev/null ||
		fail "PagerDuty got no resolve"
	wait_until 10 am_count_is 0 || fail "Alertmanager still has the alert active: $(am_alerts)"
	# a second resolve has nothing to resolve
	run alert send --severity critical --summary "disk full $U" \
		--label run="$U" --label team=ops --resolve --json
	expect_rc 0
	expect_json '([.deliveries[] | .result] | unique) == ["suppressed"]'
}

test_alert_retries_500_500_then_200() {
	uniq_setup
	conf "$(hook j json "$MC_TEST_RECEIVER/flaky/$U/2/500" 'retries = 3')"
	run alert send --severity warning --summary "retry $U" --json
	expect_rc 0
	expect_json '.deliveries.j | .result == "delivered" and .attempts == 3 and .http_status == 200'
	[ "$(nreqs "/flaky/$U")" = 3 ] || fail "not 3 requests"
}

test_alert_honours_retry_after() {
	uniq_setup
	conf "$(hook j json "$MC_TEST_RECEIVER/retry-after/$U/1/2" 'retries = 2')"
	run alert send --severity warning --summary "later $U" --json
	expect_rc 0
	expect_json '.deliveries.j | .result == "delivered" and .attempts == 2'
	reqs "/retry-after/$U" | jq -e 'length == 2 and (.[1].ts - .[0].ts) >= 2.0' >/dev/null ||
		fail "the second attempt came sooner than Retry-After: 2 allows: $(reqs "/retry-after/$U" | jq '[.[].ts]')"
}

test_alert_hanging_receiver_fails_at_timeout() {
	uniq_setup
	conf "$(hook j json "$MC_TEST_RECEIVER/hang/$U" 'timeout = 1s' 'retries = 0')"
	OUT=$T_DIR/out ERR=$T_DIR/err
	timeout 15 "$MC_BIN" alert send --severity critical --summary "hang $U" \
		--json >"$OUT" 2>"$ERR" </dev/null
	RC=$?
	expect_rc 2
	expect_json '.status == "failed" and .deliveries.j.result == "failed" and (.deliveries.j.message | test("time"; "i"))'
}

# breaker_conf RECOVERY: the failing webhook, with that breaker_recovery.
breaker_conf() {
	conf "$(hook j json "$MC_TEST_RECEIVER/status/500/$U" 'retries = 0' \
		"breaker_recovery = $1" 'dedup_window = 0s')"
}
# not_circuit_open: one send that made a request (for wait_until).
not_circuit_open() {
	"$MC_BIN" alert send --severity critical --summary "down $U" --json \
		>"$T_DIR/probe.json" 2>&1
	! jq -e '.deliveries.j.circuit_open' "$T_DIR/probe.json"
}

test_alert_breaker_opens_after_five_failures_then_probes() {
	uniq_setup
	# A recovery of an hour: the breaker cannot half-open during the
	# first part, however slowly the runs go.
	breaker_conf 1h
	for i in 1 2 3 4 5; do
		run alert send --severity critical --summary "down $U" --json
		expect_rc 2
		expect_json '.deliveries.j.result == "failed"'
	done
	[ "$(nreqs "/status/500/$U")" = 5 ] || fail "not 5 requests"
	run alert send --severity critical --summary "down $U" --json
	expect_rc 2
	# An open circuit is a failed delivery (PRODUCT.md 3.4's four
	# results); circuit_open says no request was made.
	expect_json '.deliveries.j | .result == "failed" and .circuit_open == true and .attempts == 0 and (.message | test("circuit open"))'
	run alert send --severity critical --summary "down $U"
	expect_out '^j +json +failed +0 +- +- +circuit open: no request made'
	run alert history --json
	expect_json '.alerts[0] | .result == "failed" and (.message | test("circuit open"))'
	[ "$(nreqs "/status/500/$U")" = 5 ] || fail "a request went out while the circuit was open"
	run breaker list --json
	expect_json '.breakers[] | select(.name == "webhook:j") | .state == "open"'
	# With a recovery of 1s the breaker half-opens: the first send after
	# that is the one probe; it fails, and the circuit is open again.
	breaker_conf 1s
	wait_until 20 not_circuit_open || fail "no probe: $(cat "$T_DIR/probe.json")"
	jq -e '.deliveries.j | .result == "failed" and .circuit_open == false and .attempts == 1' "$T_DIR/probe.json" >/dev/null ||
		fail "the probe: $(cat "$T_DIR/probe.json")"
	[ "$(nreqs "/status/500/$U")" = 6 ] || fail "not one probe"
	breaker_conf 1h
	run alert send --severity critical --summary "down $U" --json
	expect_json '.deliveries.j | .result == "failed" and .circuit_open'
	[ "$(nreqs "/status/500/$U")" = 6 ] || fail "a request after the failed probe"
}

test_alert_dedup_across_two_processes() {
	uniq_setup
	conf "$(hook j json "$MC_TEST_RECEIVER/delay/400/$U")"
	"$MC_BIN" alert send --severity warning --summary "twice $U" --json \
		>"$T_DIR/a.json" 2>"$T_DIR/a.err" &
	"$MC_BIN" alert send --severity warning --summary "twice $U" --json \
		>"$T_DIR/b.json" 2>"$T_DIR/b.err" &
	wait
	results=$(jq -r '.deliveries.j.result' "$T_DIR/a.json" "$T_DIR/b.json" | sort | tr '\n' ' ')
	[ "$results" = "delivered suppressed " ] ||
		fail "two processes: $results ($(cat "$T_DIR"/a.err "$T_DIR"/b.err))"
	[ "$(nreqs "/delay/400/$U")" = 1 ] || fail "the receiver got it $(nreqs "/delay/400/$U") times"
	# and a later cron run within the window
	run alert send --severity warning --summary "twice $U" --json
	expect_json '.deliveries.j | .result == "suppressed" and (.message | test("within dedup_window 15m"))'
	run alert send --severity warning --summary "twice $U" --no-dedup --json
	expect_json '.deliveries.j.result == "delivered"'
}

test_alert_rate_limit_spaces_a_burst() {
	uniq_setup
	conf "$(hook j json "$MC_TEST_RECEIVER/mercury/$U" 'rate = 1/s' 'burst = 1')"
	for i in 1 2 3 4 5; do
		"$MC_BIN" alert send --severity info --summary "burst $i $U" \
			--json >"$T_DIR/r$i.json" 2>&1 &
	done
	wait
	for i in 1 2 3 4 5; do
		jq -e '.deliveries.j.result == "delivered"' "$T_DIR/r$i.json" >/dev/null ||
			fail "alert $i: $(cat "$T_DIR/r$i.json")"
	done
	# The limiter spaces the requests' starts. A request reaches the
	# receiver its transfer time later, and the first one, sent while
	# the four others are still starting, measured 25-65 ms of latency
	# under load where the others took 1 ms: each start is its arrival
	# less the latency its sender measured.
	reqs "/mercury/$U" >"$T_DIR/reqs.json"
	for i in 1 2 3 4 5; do
		jq -r --arg s "burst $i $U" --argjson lat "$(jq '.deliveries.j.latency_ms' "$T_DIR/r$i.json")" \
			'.[] | select((.body | fromjson | .summary) == $s) | .ts - $lat / 1000' "$T_DIR/reqs.json"
	done | sort -n >"$T_DIR/starts"
	[ "$(wc -l <"$T_DIR/starts")" = 5 ] || fail "not 5 requests: $(cat "$T_DIR/reqs.json")"
	awk 'NR > 1 && $1 - prev < 0.95 { bad = 1 } { prev = $1 } END { exit bad }' "$T_DIR/starts" ||
		fail "5 alerts at 1/s not started a second apart: $(tr '\n' ' ' <"$T_DIR/starts")"
}

test_alert_test_is_marked_and_bypasses_dedup() {
	uniq_setup
	five_hooks
	conf "$(cat "$CONF"; printf 'min_severity = critical\n')"
	chmod 600 "$CONF"
	for i in 1 2; do
		run alert test --correlation-id "test-$U-$i" --json
		expect_rc 0
		expect_json '.test == true and ([.deliveries[] | .result] | unique) == ["delivered"]'
	done
	reqs "/slack/$U" | jq -e 'length == 2 and (.[0].body | fromjson | .text | startswith("[TEST]"))' >/dev/null || fail "slack test not marked"
	reqs "/discord/$U" | jq -e '.[0].body | fromjson | .content | startswith("[TEST]")' >/dev/null || fail "discord test not marked"
	reqs "/pagerduty/$U" | jq -e '.[0].body | fromjson | .payload.summary | startswith("[TEST]")' >/dev/null || fail "pagerduty test not marked"
	reqs "/mercury/$U" | jq -e '.[0].body | fromjson | .test == true and .action == "test"' >/dev/null || fail "json test not marked"
	curl -sf -G "$MC_TEST_ALERTMANAGER/api/v2/alerts" --data-urlencode 'filter=mercury_test="true"' |
		jq -e 'map(select(.annotations.correlation_id | startswith("test-'"$U"'"))) | length == 2' >/dev/null ||
		fail "Alertmanager has no marked test alerts"
	run alert test slack
	expect_rc 0
	expect_out '^slack +slack +delivered'
	expect_no_out '^discord'
}

test_alert_bad_input() {
	uniq_setup
	conf "$(hook slack slack "$MC_TEST_RECEIVER/slack/$U"
		hook discord discord "$MC_TEST_RECEIVER/discord/$U"
		hook pd pagerduty "$MC_TEST_RECEIVER/pagerduty/$U")"
	run alert send --severity critical --summary x --label novalue
	expect_rc 64; expect_err "--label 'novalue': expected KEY=VALUE"; expect_one_err_line
	run alert send --severity sever --summary x
	expect_rc 64; expect_err "not one of info\|warning\|critical"; expect_one_err_line
	run alert send --severity critical --summary ''
	expect_rc 64; expect_err 'summary: empty value'; expect_one_err_line
	run alert send --severity critical --summary '   '
	expect_rc 64; expect_err 'summary is empty'; expect_one_err_line
	run alert send --severity critical
	expect_rc 64; expect_err 'alert send: --summary is required'; expect_one_err_line
	run alert send --summary x
	expect_rc 64; expect_err 'alert send: --severity is required'
	run alert send --help
	expect_rc 0; expect_out '^usage: mercuryctl alert send \[--severity LEVEL\] --summary TEXT \['
	run alert send --severity critical --summary x slak
	expect_rc 64; expect_err "no webhook 'slak'.*did you mean 'slack'"; expect_one_err_line
	run alert send --severity critical --summary "$(printf 'bad \377 byte')"
	expect_rc 65; expect_err 'not valid UTF-8'; expect_one_err_line
	run alert send --severity critical --summary x --json --label =x
	expect_rc 64
	expect_json '.exit_code == 64 and (.error | test("label"))'
	[ "$(nreqs "/slack/$U")" = 0 ] || fail "bad input sent something"
	# 100 KB of summary: cut to each service's limit, still accepted
	big=$(head -c 100000 /dev/zero | tr '\0' 'x')
	run alert send --severity critical --summary "$big" --json
	expect_rc 0
	expect_json '([.deliveries[] | .result] | unique) == ["delivered"]'
	reqs "/slack/$U" | jq -e '.[0].problems == [] and (.[0].body | fromjson | .blocks[0].text.text | length) == 150' >/dev/null ||
		fail "slack: not cut to 150"
	reqs "/discord/$U" | jq -e '.[0].problems == [] and (.[0].body | fromjson | .embeds[0].title | length) == 256' >/dev/null ||
		fail "discord: not cut to 256"
	reqs "/pagerduty/$U" | jq -e '.[0].problems == [] and (.[0].body | fromjson | .payload.summary | length) == 1024' >/dev/null ||
		fail "pagerduty: not cut to 1024"
	# the description from standard input
	OUT=$T_DIR/out ERR=$T_DIR/err
	printf 'line one\nline two\n' | "$MC_BIN" alert send --severity info \
		--summary "stdin $U" --description - slack >"$OUT" 2>"$ERR"
	RC=$?
	expect_rc 0
	reqs "/slack/$U" | jq -e '.[1].body | fromjson | .blocks[1].text.text == "line one\nline two"' >/dev/null ||
		fail "the description from stdin did not arrive"
}

test_alert_exit_codes() {
	uniq_setup
	conf "$(hook ok json "$MC_TEST_RECEIVER/mercury/$U"
		hook bad json "$MC_TEST_RECEIVER/status/404/$U" 'retries = 0'
		hook picky json "$MC_TEST_RECEIVER/mercury/p$U" 'min_severity = critical')"
	run alert send --severity warning --summary "mixed $U" --json
	expect_rc 1
	expect_json '.status == "partial" and .deliveries.ok.result == "delivered" and .deliveries.bad.result == "failed" and .deliveries.bad.http_status == 404 and .deliveries.picky.result == "filtered"'
	run alert send --severity warning --summary "mixed $U" bad --json
	expect_rc 2
	run alert send --severity warning --summary "mixed $U" picky ok
	expect_rc 0
	expect_out '^ok +json +suppressed'
	expect_out '^picky +json +filtered'
	run alert send --severity warning --summary "nag $U" -o nagios
	expect_rc 1
	expect_out '^ALERT WARNING - 1 delivered, 0 suppressed, 1 filtered, 1 failed of 3 \|'
	run alert send --severity warning --summary "prom $U" -o prom ok
	expect_rc 0
	expect_out '^mercury_alert_delivery\{webhook="ok",result="delivered"\} 1$'
	run alert history --json
	expect_rc 0
	expect_json '[.alerts[].result] | (index("delivered") != null and index("failed") != null and index("filtered") != null and index("suppressed") != null)'
	expect_json '.alerts[0].summary == "prom '"$U"'"'
	run alert history bad
	expect_rc 0
	expect_out 'failed'
	expect_no_out ' ok '
	run alert history nosuch
	expect_rc 64
}

test_alert_url_is_a_secret() {
	uniq_setup
	secret="T0SECRET/B0/$U"
	conf "$(hook j json "$MC_TEST_RECEIVER/status/500/$secret" 'retries = 1')"
	run -vv --log-format json alert send --severity critical --summary "s $U" --json
	expect_rc 2
	expect_out '"result":"failed"'
	! grep -q T0SECRET "$OUT" "$ERR" || fail "the webhook URL was printed"
	! sqlite3 "$STATE" .dump | grep -q T0SECRET || fail "the webhook URL is in the state file"
	run config show
	expect_no_out T0SECRET
	# a plain url in a file others can read: accepted, with a warning
	conf "$(printf '[webhook "p"]\ntype = json\nurl = %s/mercury/%s\n' "$MC_TEST_RECEIVER" "$secret")"
	chmod 644 "$CONF"
	run alert send --severity info --summary "plain $U"
	expect_rc 0
	expect_err 'url is a secret in a file others can read'
	expect_no_err T0SECRET
	expect_no_out T0SECRET
	chmod 600 "$CONF"
	run alert send --severity info --summary "plain2 $U"
	expect_no_err 'others can read'
	# url_env that is not set: that webhook fails (here the only one)
	conf "$(printf '[webhook "e"]\ntype = json\nurl_env = MC_NO_SUCH_HOOK\n')"
	run alert send --severity info --summary "env $U"
	expect_rc 2
	expect_out 'mercury.conf:3: .*MC_NO_SUCH_HOOK.* is not set'
	MC_NO_SUCH_HOOK="$MC_TEST_RECEIVER/mercury/$secret" run alert send --severity info --summary "env $U"
	expect_rc 0
	# no webhooks at all
	conf "[core]"
	run alert send --severity info --summary x
	expect_rc 78
	expect_err 'no webhooks'
}

test_health_notify_damped_across_runs() {
	uniq_setup
	hc() {
		conf "$(printf '[check "api"]\ntype = http\nurl = %s/status/%s/%s\ncritical = true\nfailure_threshold = 2\nsuccess_threshold = 2\n' \
			"$MC_TEST_RECEIVER" "$1" "$U"
			hook j json "$MC_TEST_RECEIVER/mercury/$U")"
		chmod 600 "$CONF"
	}
	hc 503
	run health --notify --json
	expect_rc 2
	expect_json '.notifications == []'
	run health --notify --json
	expect_rc 2
	expect_json '.notifications[0] | .check == "api" and .action == "trigger" and .from == "ok" and .to == "critical" and .deliveries.j.result == "delivered"'
	run health --notify
	expect_no_out 'notify:'
	[ "$(nreqs "/mercury/$U")" = 1 ] || fail "not one alert"
	reqs "/mercury/$U" | jq -e '.[0].problems == [] and (.[0].body | fromjson | .severity == "critical" and .labels.check == "api" and (.summary | test("api.*critical")))' >/dev/null ||
		fail "the alert is not about api: $(reqs "/mercury/$U")"
	hc 200
	run health --notify
	expect_rc 0
	expect_no_out 'notify:'
	run health --notify
	expect_rc 0
	expect_out "notify: api critical -> ok: j delivered"
	run health --notify
	[ "$(nreqs "/mercury/$U")" = 2 ] || fail "not one alert and one resolve"
	reqs "/mercury/$U" | jq -e '.[1].body | fromjson | .action == "resolve"' >/dev/null || fail "no resolve"
	run alert history --json
	expect_json '[.alerts[] | .action] == ["resolve", "trigger"]'
}

test_health_notify_retries_a_failed_delivery() {
	uniq_setup
	conf "$(printf '[check "api"]\ntype = tcp\naddress = 127.0.0.1:1\nfailure_threshold = 1\n'
		hook j json "$MC_TEST_RECEIVER/flaky/$U/1/500" 'retries = 0')"
	chmod 600 "$CONF"
	run health --notify --json
	expect_json '.notifications[0].deliveries.j.result == "failed"'
	expect_err 'the next run tries again'
	run health --notify --json
	expect_json '.notifications[0] | .to == "critical" and .deliveries.j.result == "delivered"'
	run health --notify --json
	expect_json '.notifications == []'
}

# A 2xx answer decides, whatever its size: a body over 64 KiB (here 2 MB,
# with and without a Content-Length) is cut unread, the delivery counts, and
# nothing is retried (no duplicate alert).
test_alert_big_2xx_answer_is_delivered() {
	uniq_setup
	conf "$(hook big json "$MC_TEST_RECEIVER/bytes/2000000/$U-big" "retries = 2"
		hook chunked json "$MC_TEST_RECEIVER/bytes/2000000/$U-chunked?chunked=1" "retries = 2")"
	chmod 600 "$CONF"
	run alert send --severity critical --summary "big $U" --json
	expect_rc 0
	expect_json '.deliveries.big.result == "delivered" and .deliveries.big.http_status == 200'
	expect_json '.deliveries.chunked.result == "delivered"'
	n=$(reqs /bytes/ | jq --arg u "$U" '[.[] | select(.path | contains($u))] | length')
	[ "$n" = 2 ] || fail "not one request per hook: $n"
	run breaker list --json
	expect_no_out '"open"'
}

# One webhook whose secret cannot be read (an unset url_env under cron, a
# missing url_file) fails alone, by name; the others are delivered, in alert
# send, alert test and health --notify; config check warns beforehand.
test_alert_one_broken_webhook_never_stops_the_others() {
	uniq_setup
	unset MC_GONE_HOOK
	conf "$(printf '[check "api"]\ntype = tcp\naddress = 127.0.0.1:1\nfailure_threshold = 1\n'
		printf '[webhook "gone"]\ntype = json\nurl_env = MC_GONE_HOOK\n'
		printf '[webhook "nofile"]\ntype = slack\nurl_file = %s/missing.url\n' "$T_DIR"
		hook good json "$MC_TEST_RECEIVER/mercury/$U")"
	chmod 600 "$CONF" "$T_DIR/good.url"
	run config check --json
	expect_rc 0
	expect_json '(.warnings | length) == 2'
	expect_err "mercury.conf:7: \[webhook \"gone\"\] url_env: the environment variable MC_GONE_HOOK is not set"
	expect_err "mercury.conf:10: \[webhook \"nofile\"\] url_file: cannot read .*missing.url"
	run alert send --severity critical --summary "broken $U" --json
	expect_rc 1
	expect_json '.deliveries.good.result == "delivered" and .deliveries.gone.result == "failed" and .deliveries.nofile.result == "failed" and .deliveries.gone.attempts == 0'
	expect_json '.deliveries.gone.message | test("MC_GONE_HOOK")'
	expect_json '.deliveries.nofile.message | test("missing.url")'
	run -q alert send --severity critical --summary "broken2 $U"
	expect_rc 1
	expect_empty_out
	expect_err "2 of 3 deliveries failed: gone \(.*MC_GONE_HOOK.*\); nofile \(.*missing.url"
	expect_one_err_line
	run alert test --json
	expect_rc 1
	expect_json '.deliveries.good.result == "delivered" and .deliveries.gone.result == "failed"'
	run health --notify --json
	expect_rc 1
	expect_json '.notifications[0] | .check == "api" and .deliveries.good.result == "delivered" and .deliveries.gone.result == "failed"'
	[ "$(nreqs "/mercury/$U")" = 4 ] || fail "good got $(nreqs "/mercury/$U") of 4"
	# set the variable: it is delivered, and config check is quiet
	export MC_GONE_HOOK="$MC_TEST_RECEIVER/mercury/$U"
	: >"$T_DIR/missing.url"
	chmod 644 "$T_DIR/missing.url"
	run config check
	expect_rc 0
	expect_no_err 'MC_GONE_HOOK'
	expect_err 'missing.url holds a secret and every user can read it'
	run alert send --severity critical --summary "broken $U" gone --json
	expect_rc 0
	expect_json '.deliveries.gone.result == "delivered"'
}

# The identity is summary, source and labels, not severity: warning then
# critical is one incident (one active Alertmanager alert, one PagerDuty
# dedup_key), and --resolve needs no --severity.
test_alert_escalation_updates_the_same_incident() {
	uniq_setup
	conf "$(hook pd pagerduty "$MC_TEST_RECEIVER/pagerduty/$U"
		hook am alertmanager "$MC_TEST_ALERTMANAGER")"
	chmod 600 "$CONF"
	run alert send --severity warning --summary "lag $U" --label run="$U" --json
	expect_rc 0
	key=$(jq -r .dedup_key "$OUT")
	wait_until 10 am_count_is 1 || fail "Alertmanager has not the warning: $(am_alerts)"
	run alert send --severity critical --summary "lag $U" --label run="$U" --json
	expect_rc 0
	expect_json '.dedup_key == "'"$key"'" and ([.deliveries[] | .result] | unique) == ["delivered"]'
	am_one_critical() { am_alerts | jq -e 'length == 1 and .[0].labels.severity == "critical"'; }
	wait_until 10 am_one_critical || fail "not exactly one active alert, at critical: $(am_alerts | jq -c '[.[] | .labels.severity]')"
	reqs "/pagerduty/$U" | jq -e --arg k "$key" '[.[].body | fromjson] | length == 2 and all(.event_action == "trigger" and .dedup_key == $k) and .[1].payload.severity == "critical"' >/dev/null ||
		fail "PagerDuty did not get a second trigger with the same dedup_key: $(reqs "/pagerduty/$U" | jq -c '[.[].body]')"
	# the same severity again: a duplicate
	run alert send --severity critical --summary "lag $U" --label run="$U" --json
	expect_json '([.deliveries[] | .result] | unique) == ["suppressed"]'
	# resolve, no severity given: whatever was triggered
	run alert send --summary "lag $U" --label run="$U" --resolve --json
	expect_rc 0
	expect_json '.severity == null and ([.deliveries[] | .result] | unique) == ["delivered"]'
	wait_until 10 am_count_is 0 || fail "Alertmanager still has an active alert: $(am_alerts)"
	reqs "/pagerduty/$U" | jq -e --arg k "$key" '.[2].body | fromjson | .event_action == "resolve" and .dedup_key == $k' >/dev/null ||
		fail "PagerDuty got no resolve of the key"
	run alert history --json
	expect_json '[.alerts[] | select(.webhook == "am") | .severity] == ["critical", "critical", "critical", "warning"]'
	# a trigger still needs a severity
	run alert send --summary "lag $U"
	expect_rc 64
	expect_err 'severity is required \(except with --resolve\)'
}
