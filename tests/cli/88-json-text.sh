# 88-json-text.sh - JSON output keeps every member (PRODUCT.md §2.9): text
# that is not UTF-8 (from a server, argv, a path, a name in the
# configuration) is written with \xNN, never dropped with its member.

# prom_regex_error N: a query that Prometheus refuses with an error quoting
# it: N x's, then enough "é" that the error runs past the 255 bytes the
# message keeps of it.
prom_regex_error() {
	printf '{__name__=~"(%s%s"}' "$(printf 'x%.0s' $(seq "$1"))" \
		"$(printf 'é%.0s' $(seq 150))"
}

test_health_json_keeps_a_server_message_cut_mid_character() {
	# One of the two cuts falls inside an "é" (two bytes), whatever the
	# length of Prometheus's own words before the query.
	conf "[check \"even\"]
type = prometheus
url = $MC_TEST_PROMETHEUS
query = $(prom_regex_error 10)
[check \"odd\"]
type = prometheus
url = $MC_TEST_PROMETHEUS
query = $(prom_regex_error 11)"
	run health --json
	expect_rc 3
	expect_json '[.checks.even, .checks.odd] | all(.status == "unknown" and (.message | test("query failed: .*regexp")))'
	expect_json '[.checks[].message | select(test("é\\\\xC3$"))] | length == 1'
}

test_health_json_keeps_names_and_paths_that_are_not_utf8() {
	mkdir "$T_DIR/caf"$'\xe9'
	printf '#!/bin/sh\necho "OK | b\\377=1;;;;"\n' >"$T_DIR/perf"
	chmod +x "$T_DIR/perf"
	conf "[check \"disk-"$'\xe9'"\"]
type = disk
path = $T_DIR/caf"$'\xe9'"
[check \"plugin\"]
type = exec
command = $T_DIR/perf"
	run health --json
	expect_rc 0
	expect_json '.checks["disk-\\xE9"] | .status == "ok" and (.message | endswith("/caf\\xE9"))'
	expect_json '.checks.plugin.perfdata | length == 1 and .[0].label == "b\\xFF"'
	run health history --json
	expect_json '.checks | has("disk-\\xE9")'
}

test_alert_json_keeps_a_webhook_name_that_is_not_utf8() {
	# The summary must be UTF-8 (alert send refuses it otherwise); a
	# webhook's name is whatever the configuration says.
	local u="t$$-$RANDOM"
	printf '%s\n' "$MC_TEST_RECEIVER/mercury/$u" >"$T_DIR/hook.url"
	conf "[webhook \"hook-"$'\xe9'"\"]
type = json
url_file = $T_DIR/hook.url"
	chmod 600 "$CONF"
	run alert send --severity warning --summary "disk full" --json
	expect_rc 0
	expect_json '.deliveries["hook-\\xE9"].result == "delivered"'
	[ "$(curl -sf "$MC_TEST_RECEIVER/_stats?path_prefix=/mercury/$u" | jq .count)" = 1 ] ||
		fail "the webhook did not get one alert"
	run alert history --json
	expect_rc 0
	expect_json '.alerts | length == 1 and .[0].webhook == "hook-\\xE9" and .[0].summary == "disk full"'
	run alert send --severity warning --summary $'disk\xff' --json
	expect_rc 65
	expect_json '.error == "the summary is not valid UTF-8 text"'
}

test_backup_json_keeps_a_note_that_is_not_utf8() {
	mkdir -p "$T_DIR/data"
	printf 'x\n' >"$T_DIR/data/f"
	conf "[backup]
dir = $T_DIR/bk
include = $T_DIR/data"
	run --json backup create --note "before "$'\xff'"upgrade"
	expect_rc 0
	expect_json '.backup.note == "before \\xFFupgrade"'
	run --json backup list
	expect_rc 0
	expect_json '.backups[0].note == "before \\xFFupgrade"'
	run backup verify
	expect_rc 0
}
