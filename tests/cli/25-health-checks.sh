# 25-health-checks.sh - every check type against the real servers, faults,
# concurrency, history and --watch.

R=${MC_TEST_RECEIVER:-}
PLUGINS=/usr/lib/nagios/plugins

# check_json NAME JQ: runs `health --json` and tests the check NAME.
check_json() {
	run health --json
	expect_json ".checks[\"$1\"] | $2"
}

test_http_ok_and_status_lists() {
	conf "[check \"web\"]
type = http
url = $R/status/200/ok-$$
[check \"maint\"]
type = http
url = $R/status/503/m-$$
expect = 200, 503
[check \"down\"]
type = http
url = $R/status/503/d-$$
expect = 2xx"
	run health --json
	expect_rc 1
	expect_json '.checks.web | .status == "ok" and (.message | test("^HTTP 200 in [0-9.]+ ms$"))'
	expect_json '.checks.maint.status == "ok"'
	expect_json '.checks.down | .status == "critical" and .message == "HTTP 503 (expected 2xx)"'
}

test_http_body_and_regex() {
	conf "[check \"has\"]
type = http
url = $R/echo/body-$$
body = body-$$
[check \"lacks\"]
type = http
url = $R/echo/body2-$$
body = no-such-text
[check \"re\"]
type = http
url = $R/echo/re-$$
body_regex = \"method\": *\"GET\"
[check \"re-miss\"]
type = http
url = $R/echo/re2-$$
body_regex = ^POST"
	run health --json
	expect_json '.checks.has.status == "ok" and .checks.re.status == "ok"'
	expect_json ".checks.lacks | .status == \"critical\" and (.message | test(\"lacks 'no-such-text'\"))"
	expect_json '.checks["re-miss"] | .status == "critical" and (.message | test("does not match"))'
}

test_http_latency_thresholds() {
	conf "[check \"slow\"]
type = http
url = $R/delay/300/slow-$$
latency_warn = 100ms
latency_crit = 10s"
	check_json slow '.status == "warning" and (.message | test("^HTTP 200 in [0-9.]+ ms \\(>= latency_warn 100ms\\)$"))'
	expect_rc 1
}

test_http_faults_are_clear() {
	conf "[check \"refused\"]
type = http
url = http://127.0.0.1:9/
[check \"nohost\"]
type = http
url = http://no-such-host.invalid/
[check \"big\"]
type = http
url = $R/bytes/2000000
[check \"hang\"]
type = http
url = $R/hang/f-$$
timeout = 500ms
[check \"redirects\"]
type = http
url = $R/redirect/3/r-$$
max_redirects = 1
[check \"follows\"]
type = http
url = $R/redirect/3/r2-$$"
	run health --json
	expect_rc 1
	expect_json '.checks.refused | .status == "critical" and (.message | test("refused"))'
	expect_json '.checks.nohost | .status == "critical" and (.message | test("resolve"))'
	expect_json '.checks.big | .status == "critical" and (.message | test("1048576"))'
	expect_json '.checks.hang | .status == "critical" and (.message | test("timed out"))'
	expect_json '.checks.redirects | .status == "critical" and (.message | test("redirect"))'
	expect_json '.checks.follows.status == "ok"'
	# The hanging check ended at its own timeout and delayed nothing.
	expect_json '.duration_ms < 2500'
	expect_no_out '127\.0\.0\.1:9/'
}

test_https_certificates() {
	# Generous timeouts: under valgrind, TLS handshakes are slow.
	conf "[check \"ok\"]
type = http
url = $MC_TEST_TLS_OK/tls-$$
ca_file = $MC_TEST_TLS_CA
timeout = 20s
[check \"soon\"]
type = http
url = $MC_TEST_TLS_SOON/tls-$$
ca_file = $MC_TEST_TLS_CA
timeout = 20s
[check \"soon-crit\"]
type = http
url = $MC_TEST_TLS_SOON/tls2-$$
ca_file = $MC_TEST_TLS_CA
timeout = 20s
cert_crit_days = 10
[check \"expired\"]
type = http
url = $MC_TEST_TLS_EXPIRED/tls-$$
ca_file = $MC_TEST_TLS_CA
timeout = 20s
[check \"wronghost\"]
type = http
url = $MC_TEST_TLS_WRONGHOST/tls-$$
ca_file = $MC_TEST_TLS_CA
timeout = 20s
[check \"untrusted\"]
type = http
url = $MC_TEST_TLS_OK/tls3-$$
timeout = 20s"
	run health --json
	expect_json '.checks.ok | .status == "ok" and (.message | test("certificate expires in (39[0-9]|40[0-9]) days")) and .value >= 390'
	expect_json '.checks.soon | .status == "warning" and .value == 10 and (.message | test("expires in 10 days \\(cert_warn_days 14\\)"))'
	expect_json '.checks["soon-crit"] | .status == "critical" and (.message | test("cert_crit_days 10"))'
	expect_json '.checks.expired | .status == "critical" and (.message | test("expired"; "i"))'
	expect_json '.checks.wronghost.status == "critical"'
	expect_json '.checks.untrusted | .status == "critical" and (.message | test("certificate"; "i"))'
}

# An expired certificate that is not verified (insecure = true) still
# fails the check, said as how long ago it expired (the test server's
# certificate ended a day before it started), not as "-2 days" left.
test_http_expired_certificate_says_when() {
	conf "[check \"expired\"]
type = http
url = $MC_TEST_TLS_EXPIRED/tls-ago-$$
insecure = true
timeout = 20s"
	run health --json
	expect_rc 1
	expect_json '.checks.expired | .status == "critical" and (.message | test("^certificate expired (less than a day|1 day|[0-9]+ days) ago \\(TLS not verified: insecure = true\\)$"))'
	expect_no_out 'expires in -'
}

test_tcp() {
	conf "[check \"open\"]
type = tcp
address = ${R#http://}
[check \"closed\"]
type = tcp
address = 127.0.0.1:9"
	run health --json
	expect_json '.checks.open | .status == "ok" and (.message | test("connected to"))'
	expect_json '.checks.closed | .status == "critical" and (.message | test("refused"))'
}

test_redis_and_auth() {
	printf '%s\n' "$MC_TEST_REDIS_PASSWORD" >"$T_DIR/redis.pw"
	conf "[check \"redis\"]
type = redis
url = $MC_TEST_REDIS_URL
[check \"noauth\"]
type = redis
url = $MC_TEST_REDIS_AUTH_URL
[check \"auth\"]
type = redis
url = $MC_TEST_REDIS_AUTH_URL
password_file = $T_DIR/redis.pw"
	run health --json
	expect_json '.checks.redis | .status == "ok" and (.message | test("PONG"))'
	expect_json '.checks.noauth | .status == "critical" and (.message | test("password"))'
	expect_json '.checks.auth.status == "ok"'
	expect_no_out "$MC_TEST_REDIS_PASSWORD"
	expect_no_err "$MC_TEST_REDIS_PASSWORD"
}

test_redis_queue_backpressure() {
	local q=mc-cli-queue-$$
	redis-cli -p "$MC_TEST_REDIS_PORT" DEL "$q" >/dev/null
	redis-cli -p "$MC_TEST_REDIS_PORT" RPUSH "$q" a b c d e f g h i j k l >/dev/null
	conf "[check \"q\"]
type = redis_queue
url = $MC_TEST_REDIS_URL
queue = $q
warn = 10
crit = 20"
	check_json q '.status == "warning" and .value == 12 and .message == "depth 12 >= warn 10"'
	expect_rc 1
	redis-cli -p "$MC_TEST_REDIS_PORT" RPUSH "$q" $(seq 1 10) >/dev/null
	check_json q '.status == "critical" and .message == "depth 22 >= crit 20"'
	# A Nagios range: alert when the depth is outside 0..5.
	sed -i 's/^warn = 10$/warn = 0:5/; s/^crit = 20$/crit = @100:200/' "$CONF"
	check_json q '.status == "warning" and (.message | test("outside warn"))'
	redis-cli -p "$MC_TEST_REDIS_PORT" SET "$q-str" x >/dev/null
	sed -i "s/^queue = .*/queue = $q-str/" "$CONF"
	check_json q '.status == "critical" and (.message | test("not a list"))'
	redis-cli -p "$MC_TEST_REDIS_PORT" DEL "$q" "$q-str" >/dev/null
}

test_prometheus() {
	conf "[check \"ready\"]
type = prometheus
url = $MC_TEST_PROMETHEUS
[check \"value\"]
type = prometheus
url = $MC_TEST_PROMETHEUS
query = vector(42)
warn = 40
crit = 50
[check \"scalar\"]
type = prometheus
url = $MC_TEST_PROMETHEUS
query = scalar(vector(7))
[check \"empty\"]
type = prometheus
url = $MC_TEST_PROMETHEUS
query = absent(vector(1))
[check \"several\"]
type = prometheus
url = $MC_TEST_PROMETHEUS
query = vector(1) or label_replace(vector(2), \"x\", \"y\", \"\", \"\")
[check \"bad\"]
type = prometheus
url = $MC_TEST_PROMETHEUS
query = sum(
[check \"gone\"]
type = prometheus
url = http://127.0.0.1:9
query = vector(1)"
	run health --json
	expect_json '.checks.ready | .status == "ok" and (.message | test("ready"))'
	expect_json '.checks.value | .status == "warning" and .value == 42 and .message == "value 42 >= warn 40"'
	expect_json '.checks.scalar | .status == "ok" and .value == 7'
	expect_json '.checks.empty | .status == "unknown" and .message == "query returned no data"'
	expect_json '.checks.several | .status == "unknown" and (.message | test("2 series"))'
	expect_json '.checks.bad | .status == "unknown" and (.message | test("query failed: .*parse"))'
	expect_json '.checks.gone | .status == "critical" and (.message | test("refused"))'
}

test_sqlite() {
	run health		# makes the state file
	head -c 4096 /dev/urandom >"$T_DIR/junk.db"
	conf "[check \"db\"]
type = sqlite
path = $STATE
[check \"junk\"]
type = sqlite
path = $T_DIR/junk.db
[check \"missing\"]
type = sqlite
path = $T_DIR/missing.db"
	run health --json
	expect_json '.checks.db | .status == "ok" and (.message | test("quick_check ok"))'
	expect_json '.checks.junk | .status == "critical" and (.message | test("not a SQLite database"))'
	expect_json '.checks.missing.status == "critical"'
	[ ! -e "$T_DIR/missing.db" ] || fail "the sqlite check created a database"
}

test_exec_plugins() {
	printf '#!/bin/sh\nexit 0\n' >"$T_DIR/silent"
	printf '#!/bin/sh\nhead -c 300 /dev/urandom\nexit 1\n' >"$T_DIR/garbage"
	chmod +x "$T_DIR/silent" "$T_DIR/garbage"
	conf "[check \"dummy\"]
type = exec
command = $PLUGINS/check_dummy 1 \"half full\"
[check \"tcp\"]
type = exec
command = $PLUGINS/check_tcp -H 127.0.0.1 -p ${R##*:}
[check \"silent\"]
type = exec
command = $T_DIR/silent
[check \"garbage\"]
type = exec
command = $T_DIR/garbage
[check \"missing\"]
type = exec
command = $T_DIR/no-such-plugin --flag"
	run health --json
	expect_json '.checks.dummy | .status == "warning" and .message == "WARNING: half full"'
	expect_json '.checks.tcp | .status == "ok" and (.message | test("TCP OK"))'
	expect_json '.checks.silent | .status == "ok" and (.message | test("printed nothing"))'
	expect_json '.checks.garbage.status == "warning"'
	expect_json '.checks.missing | .status == "unknown" and (.message | test("no-such-plugin"))'
	# a plugin's perfdata labels carry the check's name, and -o prom has
	# them
	run -o nagios health tcp
	expect_out '\| tcp_time=[0-9.e-]+s;.* tcp_latency=[0-9.]+ms'
	expect_no_out ' time='
	run -o prom health tcp
	expect_out '^mercury_check_perfdata\{check="tcp",label="time",uom="s"\} [0-9.e-]+$'
	run health tcp --json
	expect_json '.checks.tcp.perfdata[0] | .label == "time" and .uom == "s" and (.value | type) == "number"'
}

# What a plugin prints is untrusted: control characters and bytes that are
# not UTF-8 reach the terminal, the Nagios line and the state file as \xNN
# (never raw, never '?'); JSON keeps the characters (JSON-escaped) and
# writes only the bytes that are not UTF-8 as \xNN.
test_exec_plugin_output_is_shown_escaped() {
	printf '#!/bin/sh\nprintf "OK \\033]0;pwned\\007 caf\\351\\tend\\n"\n' >"$T_DIR/hostile"
	chmod +x "$T_DIR/hostile"
	conf "[check \"hostile\"]
type = exec
command = $T_DIR/hostile"
	local want='OK \\x1B\]0;pwned\\x07 caf\\xE9 end'
	run health
	expect_rc 0
	expect_out "$want"
	! grep -q "$(printf '\033')" "$OUT" || fail "a raw ESC reached the terminal"
	run -o nagios health
	expect_out "hostile: ok - $want"
	run health --json
	expect_json '.checks.hostile.message == "OK \u001b]0;pwned\u0007 caf\\xE9 end"'
	[ "$(sql "SELECT message FROM check_results WHERE check_name = 'hostile' LIMIT 1")" = 'OK \x1B]0;pwned\x07 caf\xE9 end' ] ||
		fail "state: $(sql "SELECT message FROM check_results WHERE check_name = 'hostile'")"
}

test_exec_timeout_kills_the_process_group() {
	printf '#!/bin/sh\nsleep 60 &\necho started $! >"%s/child"\nsleep 60\n' "$T_DIR" >"$T_DIR/slow"
	chmod +x "$T_DIR/slow"
	conf "[check \"slow\"]
type = exec
command = $T_DIR/slow
timeout = 500ms"
	run health --json
	expect_json '.checks.slow | .status == "critical" and (.message | test("timed out"))'
	local child
	child=$(awk '{print $2}' "$T_DIR/child")
	wait_until 5 sh -c "! kill -0 $child 2>/dev/null" || fail "the plugin's child $child survived"
}

test_checks_run_concurrently() {
	local i text=""
	for i in $(seq 1 10); do
		text="$text
[check \"c$i\"]
type = http
url = $R/delay/400/conc-$$-$i
timeout = 5s"
	done
	text="$text
[check \"q\"]
type = redis
url = $MC_TEST_REDIS_URL
[check \"sleeper\"]
type = exec
command = /bin/sleep 0.4"
	conf "$text"
	run health --json
	expect_rc 0
	curl -sf "$R/_stats?path_prefix=/delay/400/conc-$$-" >"$T_DIR/stats"
	jq -e '.max_inflight == 10' "$T_DIR/stats" >/dev/null ||
		fail "HTTP checks were not all in flight at once: $(cat "$T_DIR/stats")"
	# Eleven checks of 400 ms each: serialised they would take 4.4 s.
	# (Under valgrind, 2.3 s measured for the run: any bound below 4.4 s
	# still tells concurrent from serial.)
	expect_json ".duration_ms < $(wrapped 4000 2000)"
}

test_check_config_errors() {
	conf '[check "x"]
type = http'
	run config check
	expect_rc 78
	expect_err "a check of type 'http' needs 'url'"
	conf '[check "x"]
type = redis_queue
queue = q
warn = 10:5'
	run config check
	expect_rc 78
	expect_err "bad threshold '10:5'"
	conf '[check "x"]
type = tcp
address = localhost'
	run config check
	expect_rc 78
	expect_err "bad address 'localhost'"
	conf '[check "x"]
type = http
url = http://a/
expect = 2000'
	run config check
	expect_rc 78
	expect_err "bad status list"
	conf '[check "x"]
type = http
url = http://a/
body_regex = ([a-'
	run config check
	expect_rc 78
	expect_err 'bad regular expression'
}

test_health_history() {
	local q=mc-hist-$$
	conf "[check \"q\"]
type = redis_queue
url = $MC_TEST_REDIS_URL
queue = $q
warn = 1
crit = 3"
	redis-cli -p "$MC_TEST_REDIS_PORT" DEL "$q" >/dev/null
	run health                        # ok
	redis-cli -p "$MC_TEST_REDIS_PORT" RPUSH "$q" a >/dev/null
	run health                        # warning
	redis-cli -p "$MC_TEST_REDIS_PORT" RPUSH "$q" b c >/dev/null
	run health                        # critical
	redis-cli -p "$MC_TEST_REDIS_PORT" DEL "$q" >/dev/null
	run health                        # ok
	run health history
	expect_rc 0
	expect_out '^CHECK +TYPE +NOW +UPTIME +TRANSITIONS +LAST FAILURE +SPARKLINE'
	expect_out '^q +redis_queue +[a-z]+ +50\.00% +3 '
	run health history q --json
	expect_json '.checks.q | .samples == 4 and .transitions == 3 and .uptime_pct == 50 and .last_failure.status == "critical" and (.last_failure.message | test("depth 3 >= crit 3"))'
	run health history nosuch
	expect_rc 64
	run health history q --since 1ms --json
	expect_rc 64
}

test_watch_prints_a_line_per_run_and_exits_with_the_last_code() {
	conf "[check \"m\"]
type = memory
warn = 100
crit = 100"
	"$MC_BIN" --correlation-id watch-1 health --watch 200ms >"$T_DIR/w.out" 2>"$T_DIR/w.err" &
	local pid=$!
	wait_until 10 sh -c "[ \$(wc -l <'$T_DIR/w.out') -ge 3 ]" || fail "fewer than 3 runs printed"
	kill -INT "$pid"
	wait "$pid"
	local rc=$?
	[ "$rc" = 0 ] || fail "watch exited $rc after Ctrl-C: $(cat "$T_DIR/w.err")"
	grep -qE '^[0-9T:.-]+Z HEALTH OK - 1 of 1 checks ok$' "$T_DIR/w.out" ||
		fail "line format: $(head -2 "$T_DIR/w.out")"
	[ "$(sql "SELECT status, exit_code FROM runs WHERE correlation_id = 'watch-1'")" = "ok|0" ] ||
		fail "watch run record: $(sql 'SELECT * FROM runs')"
	[ "$(sql "SELECT count(*) FROM check_results")" -ge 3 ] || fail "each run not recorded"
}

test_watch_json_lines_and_degraded_beat() {
	conf '[check "d"]
type = disk
warn = 0
crit = 100'
	"$MC_BIN" health --watch 1h --watch-degraded 100ms --json >"$T_DIR/w.out" 2>"$T_DIR/w.err" &
	local pid=$!
	# With a 1h beat only the shorter degraded beat can print 3 runs.
	wait_until 10 sh -c "[ \$(wc -l <'$T_DIR/w.out') -ge 3 ]" || fail "degraded beat not used"
	kill -TERM "$pid"
	wait "$pid"
	local rc=$?
	[ "$rc" = 1 ] || fail "exit $rc, expected the last run's 1"
	head -3 "$T_DIR/w.out" | jq -e -s 'length == 3 and all(.[]; .status == "degraded")' >/dev/null ||
		fail "not JSON lines: $(head -3 "$T_DIR/w.out")"
	run health --watch-degraded 1s
	expect_rc 64
	expect_err 'goes with --watch'
}

# http checks send what an endpoint needs: method, headers, a body (text or
# file), basic or bearer auth from a file or the environment, through a
# proxy, and insecure = true for a self-signed test host. The receiver
# records what arrived (and stands in for the proxy).
test_http_check_request_keys() {
	local U=hk-$$-$RANDOM
	printf 'ops:s3cr3t-pw\n' >"$T_DIR/basic"
	printf '{"ping":1}' >"$T_DIR/body.json"
	chmod 600 "$T_DIR/basic"
	# Generous timeouts: under valgrind, loading libcurl and TLS
	# handshakes take longer than the default 2 s.
	local t="timeout = 20s"
	conf "[check \"put\"]
type = http
url = $MC_TEST_RECEIVER/status/200/$U/put
method = PUT
header = X-Probe: mercury
header = Content-Type: application/json
request_body_file = $T_DIR/body.json
basic_auth_file = $T_DIR/basic
$t
[check \"bearer\"]
type = http
url = $MC_TEST_RECEIVER/status/200/$U/bearer
bearer_token_env = MC_PROBE_TOKEN
request_body = hello
$t
[check \"proxied\"]
type = http
url = http://target.invalid/status/200/$U/proxied
proxy = $MC_TEST_RECEIVER
$t
[check \"selfsigned\"]
type = http
url = $MC_TEST_TLS_OK/status/200/$U/tls
insecure = true
$t"
	MC_PROBE_TOKEN=tok-ENV-S3CRET run health --json
	expect_rc 0
	expect_json '[.checks[] | .status] | unique == ["ok"]'
	expect_json '.checks.selfsigned.message | test("TLS not verified: insecure = true")'
	reqs() { curl -sf "$MC_TEST_RECEIVER/_requests?path_prefix=/status/200/$U/$1"; }
	reqs put | jq -e --arg auth "Basic $(printf 'ops:s3cr3t-pw' | base64)" \
		'length == 1 and .[0].method == "PUT" and .[0].headers["X-Probe"] == "mercury" and .[0].headers["Content-Type"] == "application/json" and .[0].headers.Authorization == $auth and .[0].body == "{\"ping\":1}"' >/dev/null ||
		fail "put: $(reqs put)"
	reqs bearer | jq -e 'length == 1 and .[0].method == "POST" and .[0].headers.Authorization == "Bearer tok-ENV-S3CRET" and .[0].body == "hello"' >/dev/null ||
		fail "bearer: $(reqs bearer)"
	reqs proxied | jq -e 'length == 1 and .[0].proxied_to == "target.invalid"' >/dev/null ||
		fail "proxied: $(reqs proxied)"
	reqs tls | jq -e 'length == 1 and .[0].tls != null' >/dev/null || fail "tls: $(reqs tls)"
	! grep -q 'S3CRET\|s3cr3t' "$OUT" "$ERR" || fail "a secret was printed"
	MC_PROBE_TOKEN=tok-ENV-S3CRET run -vv --log-format json health -o nagios
	! grep -q 'S3CRET\|s3cr3t' "$OUT" "$ERR" || fail "a secret was printed (nagios, logs)"
	# a credential that cannot be read now fails that check alone
	run health --json
	expect_json '.checks.bearer | .status == "unknown" and (.message | test("bearer_token_env: the environment variable MC_PROBE_TOKEN is not set"))'
	expect_json '.checks.put.status == "ok" and .checks.proxied.status == "ok"'
	chmod 000 "$T_DIR/basic"
	if [ "$(id -u)" != 0 ]; then
		run health put --json
		expect_json '.checks.put | .status == "unknown" and (.message | test("basic_auth_file"))'
	fi
	# verification stays on without insecure
	conf "[check \"selfsigned\"]
type = http
url = $MC_TEST_TLS_OK/status/200/$U/tls2"
	run health --json
	expect_json '.checks.selfsigned | .status == "critical" and (.message | test("certificate|TLS|SSL"; "i"))'
	# bad keys are configuration errors
	conf "[check \"h\"]
type = http
url = $MC_TEST_RECEIVER/status/200/$U
header = no colon here"
	run config check
	expect_rc 78
	expect_err "header is 'Name: value'"
	conf "[check \"h\"]
type = http
url = $MC_TEST_RECEIVER/status/200/$U
bearer_token_file = /x
bearer_token_env = Y"
	run config check
	expect_rc 78
	expect_err 'bearer_token_file or bearer_token_env, not both'
	conf "[check \"h\"]
type = http
url = $MC_TEST_RECEIVER/status/200/$U
method = FETCH"
	run config check
	expect_rc 78
}
