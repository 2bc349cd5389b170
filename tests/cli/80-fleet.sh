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
	expect_out '^dlq:alerter +web-9 +4242 +7 +1[2-9]s '
	as_host web-1 fleet status -o json
	expect_json '.breakers[0] | .name == "webhook:ops" and .state == "open" and .failures == 5 and (.retry_at | type) == "string"'
	expect_json '.locks[0] | .name == "dlq:alerter" and .host == "web-9" and .pid == 4242 and .token == "7" and .age_s >= 12 and .lease_left_ms > 0'
}

test_fleet_every_key_has_a_ttl() {
	fleet_setup
	host_conf web-1
	as_host web-1 fleet status
	expect_rc 0
	keys=$(fleet_rcli --scan --pattern "$P:*")
	[ -n "$keys" ] || fail "no fleet keys written"
	for k in $keys; do
		ttl=$(fleet_rcli PTTL "$k")
		[ "$ttl" -gt 0 ] || fail "key $k has PTTL $ttl"
	done
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
