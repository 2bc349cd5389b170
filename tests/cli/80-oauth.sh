# 80-oauth.sh - oauth status|refresh|login|token|exec|revoke against the
# real OAuth / OpenID Connect server (oidc-provider, scripts/oauth-server),
# whose test-only routes make lifetimes short and failures deterministic.
# The server is shared: each test starts with /_test/reset.

OS=${MC_TEST_OAUTH:-}

# osrv ROUTE: a test-only route of the server (POST).
osrv() { curl -sf -X POST "$OS/_test/$1" >/dev/null || fail "server route $1 failed"; }
# ocount KEY: the server's count of KEY (token:GRANT, discovery, ...).
ocount() { curl -sf "$OS/_test/count" | jq -r --arg k "$1" '.[$k] // 0'; }
ocount_is() { [ "$(ocount "$1")" = "$2" ]; }
# active TOKEN: what the server's introspection says of TOKEN.
active() {
	curl -sf -u "mc-conf:$MC_TEST_OAUTH_CONF_SECRET" --data-urlencode "token=$1" \
		"$OS/token/introspection" | jq -r .active
}
# stored COLUMN PROVIDER: a column of the provider's row in the state file.
stored() { sql "SELECT $1 FROM oauth_tokens WHERE provider = '$2'"; }

oauth_setup() {
	[ -n "$OS" ] || { fail "MC_TEST_OAUTH is not set (scripts/servers.sh starts the server)"; return 1; }
	osrv reset
	printf '%s\n' "$MC_TEST_OAUTH_CONF_SECRET" >"$T_DIR/conf.secret"
	printf '%s\n' "$MC_TEST_OAUTH_POST_SECRET" >"$T_DIR/post.secret"
	chmod 600 "$T_DIR/conf.secret" "$T_DIR/post.secret"
}

# The providers every test may use.
providers() {
	cat <<EOF
[oauth "cc"]
issuer = $OS
grant = client_credentials
client_id = mc-conf
client_secret_file = $T_DIR/conf.secret

[oauth "post"]
token_url = $OS/token
grant = client_credentials
client_id = mc-post
client_secret_file = $T_DIR/post.secret
auth_method = client_secret_post

[oauth "dev"]
issuer = $OS
grant = device
client_id = mc-conf
client_secret_file = $T_DIR/conf.secret
scope = openid offline_access
warn_before = 10s

[oauth "web"]
issuer = $OS
grant = authorization_code
client_id = mc-public
scope = openid offline_access
EOF
}

# device_login PROVIDER [ROUTE]: oauth login through the device flow, the
# user's approval played by the server's approve route (or ROUTE, e.g.
# deny); sets RC, OUT, ERR as run does.
device_login() {
	local name=$1 route=${2:-approve} pid code
	OUT=$T_DIR/login.out ERR=$T_DIR/login.err
	: >"$OUT"
	${MC_WRAP:-} "$MC_BIN" oauth login "$name" --timeout 30s >"$OUT" 2>"$ERR" </dev/null &
	pid=$!
	wait_until 30 grep -q 'enter the code: ' "$OUT" || fail "no user code printed: $(cat "$OUT" "$ERR")"
	code=$(sed -n 's/.*enter the code: //p' "$OUT")
	[ -n "$route" ] && osrv "$route?user_code=$code"
	wait "$pid"
	RC=$?
}

test_oauth_client_credentials_token_status_metrics() {
	oauth_setup || return
	conf "$(providers)"
	run oauth status cc
	expect_rc 1
	expect_out 'no token yet'
	run oauth token cc
	expect_rc 0
	[ "$(wc -l <"$OUT")" = 1 ] || fail "oauth token printed more than the token: $(out)"
	tok=$(out)
	[ "$(active "$tok")" = true ] || fail "the token is not active at the server"
	[ "$(stored access_token cc)" = "$tok" ] || fail "the state file does not hold the printed token"
	# a fresh token: no request at all, and nothing written
	runs=$(sql "SELECT count(*) FROM runs WHERE command = 'oauth token'")
	[ "$runs" = 1 ] || fail "the refreshing run was not recorded ($runs)"
	run oauth token cc
	expect_rc 0
	[ "$(out)" = "$tok" ] || fail "a fresh token was not reused"
	[ "$(ocount token:client_credentials)" = 1 ] || fail "requests: $(curl -s "$OS/_test/count")"
	[ "$(sql "SELECT count(*) FROM runs WHERE command = 'oauth token'")" = 1 ] ||
		fail "a fresh token's run wrote to the state file"
	# a --min-valid longer than the server's tokens live: a new token,
	# printed, and a warning that says it cannot last that long
	run oauth token cc --min-valid 2h
	expect_rc 0
	[ "$(wc -l <"$OUT")" = 1 ] && [ "$(out)" != "$tok" ] || fail "no new token printed: $(out)"
	expect_err "valid for .* only, less than --min-valid 2h"
	tok=$(out)
	# an exposition or a Nagios line never carries the token (monitoring
	# systems keep and show them)
	run -o prom oauth token cc
	expect_rc 0
	expect_out '^mercuryctl_run_exit_code'
	! grep -qF -- "$tok" "$OUT" || fail "-o prom printed the token"
	run -o nagios oauth token cc
	expect_rc 3
	expect_out '^oauth token UNKNOWN - no check result$'
	! grep -qF -- "$tok" "$OUT" || fail "-o nagios printed the token"
	run oauth status cc --warn-before 10m
	expect_rc 0
	run oauth status cc --warn-before 2h
	expect_rc 1
	expect_out 'expires in'
	run oauth status cc -o prom
	expect_out '^mercury_oauth_token_expiry_timestamp_seconds\{provider="cc"\} [0-9.e+]+$'
	expect_out '^mercury_oauth_needs_login\{provider="cc"\} 0$'
	run oauth status cc --json --warn-before 10m
	expect_json '.providers[0] | .grant == "client_credentials" and .state == "ok" and .has_refresh_token == false and .expires_in_seconds > 3500'
	expect_json '.status == "ok"'
	run oauth status cc dev --json --warn-before 10m
	expect_rc 2
	expect_json '.status == "critical"'
	# client_secret_post, explicit endpoint, no discovery
	d=$(ocount discovery)
	run oauth token post
	expect_rc 0
	[ "$(active "$(out)")" = true ] || fail "the client_secret_post token is not active"
	[ "$(ocount discovery)" = "$d" ] || fail "an explicit token_url still fetched discovery"
}

test_oauth_discovery_cached_and_rfc8414() {
	oauth_setup || return
	conf "[oauth \"as\"]
issuer = $OS/as8414
grant = client_credentials
client_id = mc-conf
client_secret_file = $T_DIR/conf.secret"
	run oauth refresh as
	expect_rc 0
	expect_out 'as: refreshed'
	[ "$(ocount discovery_rfc8414)" = 1 ] || fail "RFC 8414 metadata not fetched once: $(curl -s "$OS/_test/count")"
	run oauth refresh as --force
	expect_rc 0
	[ "$(ocount discovery_rfc8414)" = 1 ] || fail "discovery not cached: $(curl -s "$OS/_test/count")"
	[ "$(sql "SELECT count(*) FROM oauth_discovery WHERE issuer = '$OS/as8414'")" = 1 ] ||
		fail "no cached document in the state file"
	# an hour later the cache is stale: fetched again
	sql "UPDATE oauth_discovery SET fetched = fetched - 3601"
	run oauth refresh as --force
	expect_rc 0
	[ "$(ocount discovery_rfc8414)" = 2 ] || fail "a stale document was used"
	# the OIDC document serves the plain issuer
	conf "$(providers)"
	run oauth token cc
	expect_rc 0
	[ "$(ocount discovery)" -ge 1 ] || fail "OIDC discovery not used"
}

test_oauth_device_login_single_flight_rotation() {
	oauth_setup || return
	conf "$(providers)"
	run oauth token dev
	expect_rc 2
	expect_err 'needs login: run `mercuryctl oauth login dev`'
	osrv 'ttl?access=20'
	device_login dev
	expect_rc 0
	expect_out 'Or open: http'
	expect_out 'logged in to dev'
	old_rt=$(stored refresh_token dev)
	[ -n "$old_rt" ] || fail "no refresh token stored"
	# ten processes at once on a token with 20 s left (--min-valid 1m):
	# the server sees exactly one refresh (it now issues hour-long
	# tokens, each answer held 300 ms), all print the same token
	osrv 'ttl?access=3600'
	osrv 'delay?ms=300'
	for i in 1 2 3 4 5 6 7 8 9 10; do
		${MC_WRAP:-} "$MC_BIN" oauth token dev >"$T_DIR/tok.$i" 2>"$T_DIR/err.$i" </dev/null &
	done
	wait
	osrv 'delay?ms=0'
	[ "$(ocount token:refresh_token)" = 1 ] || fail "refreshes at the server: $(ocount token:refresh_token)"
	[ "$(cat "$T_DIR"/tok.* | sort -u | wc -l)" = 1 ] || fail "different tokens: $(cat "$T_DIR"/tok.* "$T_DIR"/err.*)"
	tok=$(cat "$T_DIR/tok.1")
	[ -n "$tok" ] || fail "no token printed: $(cat "$T_DIR"/err.*)"
	[ "$(active "$tok")" = true ] || fail "the shared token is not active"
	new_rt=$(stored refresh_token dev)
	[ "$new_rt" != "$old_rt" ] || fail "the rotated refresh token was not saved"
	[ "$(active "$new_rt")" = true ] || fail "the stored refresh token is not the newest"
	[ "$(stored access_token dev)" = "$tok" ] || fail "the stored access token is not the printed one"
}

test_oauth_invalid_grant_needs_login_and_notify() {
	oauth_setup || return
	local U="oauth$$-$RANDOM"
	printf '%s\n' "$MC_TEST_RECEIVER/mercury/$U" >"$T_DIR/hook.url"
	conf "$(providers)
[webhook \"ops\"]
type = json
url_file = $T_DIR/hook.url"
	device_login dev
	expect_rc 0
	# the server no longer knows the refresh token
	sql "UPDATE oauth_tokens SET refresh_token = 'revoked-$U' WHERE provider = 'dev'"
	run oauth refresh dev --force --notify
	expect_rc 2
	expect_err 'run `mercuryctl oauth login dev`'
	expect_err 'invalid_grant'
	wait_until 10 receiver_got "/mercury/$U" || fail "no alert for needs-login"
	curl -sf "$MC_TEST_RECEIVER/_requests?path_prefix=/mercury/$U" |
		jq -e '.[0].body | fromjson | .summary == "OAuth provider dev needs login" and .severity == "critical"' >/dev/null ||
		fail "the alert is not the needs-login one: $(curl -s "$MC_TEST_RECEIVER/_requests?path_prefix=/mercury/$U")"
	[ "$(stored refresh_token dev)" = "" ] || fail "the refused refresh token was kept"
	run oauth status dev
	expect_rc 2
	expect_out 'needs login'
	run oauth token dev --min-valid 2h
	expect_rc 2
	expect_err 'mercuryctl oauth login dev'
	# alerted once: a second run does not alert again
	run oauth refresh dev --notify
	expect_rc 2
	# -q (cron): nothing on stdout, one line on stderr naming the failures
	run -q oauth refresh dev web
	expect_rc 2
	expect_empty_out
	expect_one_err_line
	expect_err "^oauth refresh: provider 'dev' needs login: .*; provider 'web' needs login"
	[ "$(curl -sf "$MC_TEST_RECEIVER/_requests?path_prefix=/mercury/$U" | jq length)" = 1 ] ||
		fail "needs-login alerted more than once"
	# a new login clears it
	device_login dev
	expect_rc 0
	run oauth status dev
	expect_rc 0
}

test_oauth_invalid_client_is_config_error() {
	oauth_setup || return
	printf 'not-the-secret\n' >"$T_DIR/bad.secret"
	conf "[oauth \"bad\"]
issuer = $OS
grant = client_credentials
client_id = mc-conf
client_secret_file = $T_DIR/bad.secret"
	run oauth token bad
	expect_rc 78
	expect_err 'invalid_client'
	expect_err 'mercury.conf:1'
	expect_no_err 'not-the-secret'
}

test_oauth_503_retry_after_then_success() {
	oauth_setup || return
	conf "$(providers)"
	osrv 'fail?n=2&retry_after=1'
	run oauth token cc --timeout 20s
	expect_rc 0
	[ "$(ocount failed_503)" = 2 ] || fail "503s served: $(ocount failed_503)"
	[ "$(ocount token:client_credentials)" = 1 ] || fail "no successful request after the 503s"
	[ "$(active "$(out)")" = true ] || fail "the token is not active"
}

test_oauth_unreachable_server_keeps_token() {
	oauth_setup || return
	conf "$(providers)"
	run oauth token post
	expect_rc 0
	before=$(sql "SELECT access_token, expires_at, obtained FROM oauth_tokens WHERE provider = 'post'")
	port=$(/usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	conf "[oauth \"post\"]
token_url = http://127.0.0.1:$port/token
grant = client_credentials
client_id = mc-post
client_secret_file = $T_DIR/post.secret
auth_method = client_secret_post
retries = 1"
	run oauth refresh post --force --timeout 10s
	[ "$RC" != 0 ] || fail "a refresh against a closed port succeeded"
	expect_err 'could not be reached'
	after=$(sql "SELECT access_token, expires_at, obtained FROM oauth_tokens WHERE provider = 'post'")
	[ "$before" = "$after" ] || fail "the stored token changed"
	[ "$(stored last_result post)" != ok ] || fail "the failure was not recorded"
}

test_oauth_device_denied_expired_slow_down() {
	oauth_setup || return
	conf "$(providers)"
	device_login dev deny
	expect_rc 2
	expect_err 'access_denied'
	osrv 'device_error?error=expired_token&n=1'
	device_login dev ''
	expect_rc 2
	expect_err 'expired_token'
	# slow_down: the next poll comes 5 s later (interval 1 s + 5 s)
	osrv 'device_error?error=slow_down&n=1'
	start=$SECONDS
	device_login dev
	expect_rc 0
	[ $((SECONDS - start)) -ge 6 ] || fail "slow_down did not slow the polling ($((SECONDS - start))s)"
	[ "$(ocount device_error:slow_down)" = 1 ] || fail "no slow_down served"
}

# The authorization code flow, driven as a browser would: follow the URL,
# post the login and consent forms, land on the loopback redirect.
test_oauth_authorization_code_browser() {
	oauth_setup || return
	conf "$(providers)"
	OUT=$T_DIR/login.out ERR=$T_DIR/login.err
	DISPLAY= ${MC_WRAP:-} "$MC_BIN" oauth login web --no-browser --timeout 30s >"$OUT" 2>"$ERR" </dev/null &
	pid=$!
	wait_until 30 grep -q '^http' "$OUT" || fail "no URL printed: $(cat "$OUT" "$ERR")"
	url=$(grep '^http' "$OUT")
	case $url in *code_challenge_method=S256*state=*|*state=*code_challenge_method=S256*) ;;
	*) fail "no PKCE S256 or state in $url" ;; esac
	redirect=$(printf '%s' "$url" | sed -n 's/.*redirect_uri=\([^&]*\).*/\1/p' | sed 's/%3A/:/g; s/%2F/\//g')
	# a forged redirect with another state is refused
	code=$(curl -s -o /dev/null -w '%{http_code}' "$redirect?code=forged&state=wrong")
	[ "$code" = 400 ] || fail "a wrong state got HTTP $code"
	jar=$T_DIR/jar
	# the authorization endpoint sends the browser to the login page
	page=$(curl -s -c "$jar" -b "$jar" -L "$url")
	action=$(printf '%s' "$page" | sed -n 's/.*action="\([^"]*\/login\)".*/\1/p')
	[ -n "$action" ] || fail "no login form: $page"
	page=$(curl -s -c "$jar" -b "$jar" -L -d login=tester -d password=tester-password "$OS$action")
	action=$(printf '%s' "$page" | sed -n 's/.*action="\([^"]*\/confirm\)".*/\1/p')
	[ -n "$action" ] || fail "no consent form: $page"
	page=$(curl -s -c "$jar" -b "$jar" -L -d '' "$OS$action")
	case $page in *"logged in"*) ;; *) fail "the loopback redirect did not answer: $page" ;; esac
	wait "$pid"
	RC=$?
	expect_rc 0
	expect_out 'logged in to web'
	tok=$(stored access_token web)
	[ "$(active "$tok")" = true ] || fail "the authorization-code token is not active"
	[ -n "$(stored refresh_token web)" ] || fail "no refresh token from the code exchange"
	# and it refreshes (public client, rotating refresh token)
	run oauth refresh web --force
	expect_rc 0
	[ "$(ocount token:refresh_token)" = 1 ] || fail "no refresh"
}

test_oauth_sigkill_mid_refresh() {
	oauth_setup || return
	conf "$(providers)"
	device_login dev
	expect_rc 0
	# the server holds its answer after the exchange: the process is killed
	# once the server has rotated the refresh token, before it hears so
	osrv 'delay?ms=3000&after=1'
	"$MC_BIN" oauth refresh dev --force >/dev/null 2>&1 </dev/null &
	pid=$!
	wait_until 10 ocount_is token:refresh_token 1 || fail "the refresh never reached the server"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	osrv 'delay?ms=0'
	run oauth token dev --min-valid 2h
	if [ "$RC" = 0 ]; then
		[ "$(active "$(out)")" = true ] || fail "exit 0 with a token that is not active"
	else
		expect_rc 2
		expect_err 'needs login'
		run oauth status dev
		expect_rc 2
		expect_out 'needs login'
	fi
}

test_oauth_status_exit_codes() {
	oauth_setup || return
	conf "$(providers)"
	run oauth status dev
	expect_rc 2
	expect_out 'needs login'
	osrv 'ttl?access=30'
	device_login dev
	expect_rc 0
	run oauth status dev
	expect_rc 0
	run oauth status dev --warn-before 1m
	expect_rc 1
	# expired, with a refresh token: a refresh renews it (warning)
	sql "UPDATE oauth_tokens SET expires_at = 1000 WHERE provider = 'dev'"
	run oauth status dev
	expect_rc 1
	expect_out 'expired'
	# expired and no way to refresh: critical
	sql "UPDATE oauth_tokens SET refresh_token = NULL WHERE provider = 'dev'"
	run oauth status dev
	expect_rc 2
	run oauth status nosuch
	expect_rc 64
	expect_err "no provider 'nosuch'"
}

test_oauth_revoke() {
	oauth_setup || return
	conf "$(providers)"
	device_login dev
	expect_rc 0
	at=$(stored access_token dev)
	rt=$(stored refresh_token dev)
	run oauth revoke dev
	expect_rc 0
	expect_out 'revoked and forgotten'
	[ "$(active "$at")" = false ] || fail "the access token is still active"
	[ "$(active "$rt")" = false ] || fail "the refresh token is still active"
	[ "$(sql "SELECT count(*) FROM oauth_tokens WHERE provider = 'dev'")" = 0 ] || fail "tokens not forgotten"
	# the server unreachable: forgotten all the same, with a warning
	run oauth token post
	expect_rc 0
	conf "[oauth \"post\"]
token_url = $OS/token
revocation_url = http://127.0.0.1:9/revoke
grant = client_credentials
client_id = mc-post
client_secret_file = $T_DIR/post.secret
auth_method = client_secret_post
retries = 0"
	run oauth revoke post
	expect_rc 1
	expect_err 'did not confirm'
	[ "$(sql "SELECT count(*) FROM oauth_tokens WHERE provider = 'post'")" = 0 ] || fail "tokens not forgotten"
}

# No token or client secret anywhere but in `oauth token`'s stdout and the
# state file's token table: every command at -vv with text and JSON logs,
# JSON output, error paths, and a dump of the state file.
test_oauth_secret_sweep() {
	oauth_setup || return
	conf "$(providers)"
	device_login dev
	expect_rc 0
	run oauth token cc
	expect_rc 0
	all=$T_DIR/all
	: >"$all"
	for args in "oauth status -vv" "oauth status --json -vv --log-format json" \
		"oauth refresh --force -vv" "oauth refresh --force --json -vv --log-format json" \
		"oauth status -o prom -vv" "oauth status -o nagios" "oauth token dev --json -vv --log-format json" \
		"oauth login cc" "oauth revoke nosuch" "config show" "history"; do
		# shellcheck disable=SC2086
		run $args
		cat "$ERR" >>"$all"
		[ "${args#oauth token}" = "$args" ] && cat "$OUT" >>"$all"
	done
	# a refresh the server refuses (its error text comes back)
	osrv 'fail?n=10&retry_after=0'
	run oauth refresh cc --force -vv --timeout 5s
	cat "$OUT" "$ERR" >>"$all"
	osrv reset
	tokens=$(sql "SELECT access_token || char(10) || coalesce(refresh_token, '') FROM oauth_tokens")
	[ -n "$tokens" ] || fail "no tokens to look for"
	for s in $tokens "$MC_TEST_OAUTH_CONF_SECRET" "$MC_TEST_OAUTH_POST_SECRET"; do
		[ -n "$s" ] || continue
		! grep -qF -- "$s" "$all" || fail "a secret leaked into output or logs: $(grep -F -- "$s" "$all" | head -c 300)"
		# in the state file: only in the token table's rows
		sqlite3 "$STATE" .dump | grep -F -- "$s" | grep -qv '^INSERT INTO oauth_tokens ' &&
			fail "a secret is in the state file outside oauth_tokens"
	done
	sqlite3 "$STATE" .dump | grep -qF "$MC_TEST_OAUTH_CONF_SECRET" && fail "the client secret is in the state file"
	sql "SELECT args FROM runs" | grep -qF "$MC_TEST_OAUTH_CONF_SECRET" && fail "the secret is in the run log"
	return 0
}

# oauth exec: the token in the named variable of the child's environment
# and nowhere else; the child's exit code is ours.
test_oauth_exec_env_only_and_exit_code() {
	oauth_setup || return
	conf "$(providers)"
	run oauth token cc
	expect_rc 0
	tok=$(out)
	dump=$T_DIR/dump.sh
	printf '#!/bin/sh\nprintf "ARG=%%s\\n" "$0" "$@"\nenv\nexit 7\n' >"$dump"
	chmod +x "$dump"
	run oauth exec cc --env API_TOKEN -- "$dump" one "two words"
	expect_rc 7
	expect_out '^ARG=two words$'
	[ "$(grep -cF -- "$tok" "$OUT")" = 1 ] || fail "the token is not in exactly one line: $(grep -F -- "$tok" "$OUT")"
	grep -qxF "API_TOKEN=$tok" "$OUT" || fail "the token is not in API_TOKEN"
	expect_no_out '^OAUTH_ACCESS_TOKEN='
	! grep -qF -- "$tok" "$ERR" || fail "the token is on stderr"
	# the default variable, and the child's status passed back
	run oauth exec cc -- sh -c 'test -n "$OAUTH_ACCESS_TOKEN" && exit 0; exit 9'
	expect_rc 0
	run oauth exec cc --env 1BAD -- true
	expect_rc 64
	# a provider that needs login runs nothing
	run oauth exec dev -- sh -c 'echo ran'
	expect_rc 2
	expect_empty_out
	# a command that cannot start: 127 / 126 as env(1) and job run give,
	# and with --json the error document (nothing else had stdout)
	run oauth exec cc -- "$T_DIR/no-such-program"
	expect_rc 127
	expect_err 'cannot run .*no-such-program'
	: >"$T_DIR/not-executable"
	run --json oauth exec cc -- "$T_DIR/not-executable"
	expect_rc 126
	expect_json '.exit_code == 126 and (.error | test("cannot run"))'
}

# With a display, login opens the URL with xdg-open (never with
# --no-browser): tests/oauth/xdg-open notes the URL and refuses the login.
test_oauth_login_opens_browser() {
	oauth_setup || return
	conf "$(providers)"
	export MC_TEST_OPENED=$T_DIR/opened
	PATH=$MC_SRC/tests/oauth:$PATH DISPLAY=:99 run oauth login web --timeout 30s
	expect_rc 2
	expect_err 'refused \(access_denied\)'
	[ -s "$T_DIR/opened" ] || fail "xdg-open was not run"
	grep -qxF "$(grep '^http' "$OUT")" "$T_DIR/opened" || fail "xdg-open got another URL: $(cat "$T_DIR/opened")"
	rm -f "$T_DIR/opened"
	PATH=$MC_SRC/tests/oauth:$PATH DISPLAY=:99 run oauth login web --no-browser --timeout 1s
	expect_rc 3
	[ ! -e "$T_DIR/opened" ] || fail "--no-browser still opened a browser"
}

# A provider whose secret cannot be read fails alone; what only reads the
# state file still works for it.
test_oauth_unset_secret_env_fails_alone() {
	oauth_setup || return
	unset MC_NO_SUCH_SECRET
	conf "$(providers)
[oauth \"broken\"]
issuer = $OS
grant = client_credentials
client_id = mc-conf
client_secret_env = MC_NO_SUCH_SECRET"
	run oauth refresh cc broken
	expect_rc 78
	expect_out '^cc: refreshed'
	expect_err 'broken.*MC_NO_SUCH_SECRET'
	run oauth status broken
	expect_rc 1
	expect_out 'no token yet'
}

# grant = refresh_token logs in through the device flow when the server
# offers it; SIGTERM while waiting for the user ends the run at once (143).
test_oauth_refresh_token_grant_device_login_sigterm() {
	oauth_setup || return
	conf "$(providers)
[oauth \"rt\"]
issuer = $OS
client_id = mc-conf
client_secret_file = $T_DIR/conf.secret
scope = openid offline_access"
	OUT=$T_DIR/login.out ERR=$T_DIR/login.err
	"$MC_BIN" oauth login rt --timeout 30s >"$OUT" 2>"$ERR" </dev/null &
	pid=$!
	wait_until 30 grep -q 'enter the code: ' "$OUT" || fail "refresh_token did not choose the device flow: $(cat "$OUT" "$ERR")"
	start=$SECONDS
	kill -TERM "$pid"
	wait "$pid"
	RC=$?
	expect_rc 143
	[ $((SECONDS - start)) -le 2 ] || fail "SIGTERM took $((SECONDS - start))s"
	[ "$(sql "SELECT status FROM runs WHERE command = 'oauth login'")" = interrupted ] ||
		fail "the run is not recorded as interrupted: $(sql "SELECT status FROM runs")"
}

# The health check type oauth reports the states of oauth status.
test_oauth_health_check_type() {
	oauth_setup || return
	conf "$(providers)
[check \"cc-token\"]
type = oauth
provider = cc
warn_before = 10m

[check \"dev-token\"]
type = oauth
provider = dev
critical = true

[check \"ghost\"]
type = oauth
provider = nosuch"
	run health cc-token --json
	expect_rc 1
	expect_json '.checks["cc-token"].status == "warning"'
	expect_json '.checks["cc-token"].message | test("no token yet")'
	run oauth token cc
	expect_rc 0
	run health cc-token --json
	expect_rc 0
	expect_json '.checks["cc-token"].status == "ok" and .checks["cc-token"].value > 3500'
	run health dev-token -o nagios
	expect_rc 2
	expect_out 'needs login'
	run health ghost --json
	expect_rc 3
	expect_json '.checks.ghost.status == "unknown" and (.checks.ghost.message | test("no provider .nosuch."))'
	# a section without its provider is refused
	conf "[check \"x\"]
type = oauth"
	run config check
	expect_rc 78
	expect_err "needs 'provider'"
}

# An http check with oauth = PROVIDER sends the provider's token as a
# bearer token (getting one first), and is critical when there is none.
test_oauth_http_check_bearer() {
	oauth_setup || return
	local U="oauthhttp$$-$RANDOM"
	conf "$(providers)
[check \"api\"]
type = http
url = $MC_TEST_RECEIVER/status/200/$U
oauth = cc

[check \"api-dev\"]
type = http
url = $MC_TEST_RECEIVER/status/200/$U-dev
oauth = dev"
	run health api --json -vv
	expect_rc 0
	expect_json '.checks.api.status == "ok"'
	tok=$(stored access_token cc)
	[ -n "$tok" ] || fail "the check did not get a token"
	curl -sf "$MC_TEST_RECEIVER/_requests?path_prefix=/status/200/$U" |
		jq -e --arg t "Bearer $tok" '.[0].headers.Authorization == $t' >/dev/null ||
		fail "no bearer token at the server: $(curl -s "$MC_TEST_RECEIVER/_requests?path_prefix=/status/200/$U" | head -c 300)"
	! grep -qF -- "$tok" "$OUT" "$ERR" || fail "the token is in health's output or logs"
	run health api-dev --json
	expect_rc 1
	expect_json '.checks["api-dev"].status == "critical" and (.checks["api-dev"].message | test("needs login"))'
}

# refresh renews what expires within --if-expiring-within (default
# refresh_before), and leaves the rest alone without a request.
test_oauth_refresh_if_expiring_within() {
	oauth_setup || return
	conf "$(providers)"
	run oauth refresh cc
	expect_rc 0
	expect_out '^cc: refreshed'
	run oauth refresh cc --if-expiring-within 30m --json
	expect_rc 0
	expect_json '.providers[0].result == "fresh"'
	[ "$(ocount token:client_credentials)" = 1 ] || fail "a fresh token was refreshed"
	run oauth refresh cc --if-expiring-within 2h
	expect_rc 0
	expect_out '^cc: refreshed'
	[ "$(ocount token:client_credentials)" = 2 ] || fail "a token within the window was not refreshed"
	run oauth refresh cc --if-expiring-within soon
	expect_rc 64
}

# A recorded oauth run (exec, a refreshing token) is a fleet member as
# every run is: its heartbeat names it; a fresh token writes nothing.
test_oauth_recorded_runs_heartbeat_in_the_fleet() {
	oauth_setup || return
	local P=mc-cli-oauth-$$-$RANDOM
	conf "$(providers)
[fleet]
redis_url = $MC_TEST_REDIS_URL
name = oauth-host
key_prefix = $P"
	member() { redis-cli -p "$MC_TEST_REDIS_PORT" hget "$P:{host:oauth-host}:member" last_command; }
	run oauth exec cc -- true
	expect_rc 0
	[ "$(member)" = "oauth exec" ] || fail "oauth exec did not heartbeat: '$(member)'"
	run oauth token cc --min-valid 2h --json
	expect_rc 0
	expect_json '.fleet == "ok"'
	[ "$(member)" = "oauth token" ] || fail "a refreshing oauth token did not heartbeat: '$(member)'"
	redis-cli -p "$MC_TEST_REDIS_PORT" --scan --pattern "$P:*" | xargs -r redis-cli -p "$MC_TEST_REDIS_PORT" del >/dev/null
}

test_oauth_device_login_machine_formats_prompt_on_stderr() {
	# -o prom|nagios|json: the verification URL and code go to stderr (a
	# script still reads them there), stdout holds the one rendering.
	oauth_setup || return
	conf "$(providers)"
	local f pid code
	for f in prom nagios json; do
		OUT=$T_DIR/login.out ERR=$T_DIR/login.err
		: >"$ERR"
		${MC_WRAP:-} "$MC_BIN" -o "$f" oauth login dev --timeout 30s >"$OUT" 2>"$ERR" </dev/null &
		pid=$!
		wait_until 30 grep -q 'enter the code: ' "$ERR" ||
			fail "$f: no user code on stderr: $(cat "$OUT" "$ERR")"
		code=$(sed -n 's/.*enter the code: //p' "$ERR")
		osrv "approve?user_code=$code"
		wait "$pid"
		RC=$?
		expect_no_out 'enter the code|http'
		case $f in
		prom) expect_rc 0
			promtool check metrics <"$OUT" >"$T_DIR/pt" 2>&1 ||
				fail "prom: promtool: $(cat "$T_DIR/pt")" ;;
		nagios) expect_rc 3
			[ "$(wc -l <"$OUT")" = 1 ] || fail "nagios: $(out)" ;;
		json) expect_rc 0
			expect_json '.correlation_id != null' ;;
		esac
	done
}
