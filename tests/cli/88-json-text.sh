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
	# One of the two cuts would fall inside an "é" (two bytes), whatever
	# the length of Prometheus's own words before the query.
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
	# and the cut takes the whole "é" or none of it (mc_utf8_uncut)
	expect_json '[.checks[].message | select(test("\\\\x"))] | length == 0'
	expect_json '[.checks[].message | length] | .[0] != .[1]'
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

test_check_json_finds_each_way_to_lose_a_member() {
	local src=$T_DIR/src
	mkdir -p "$src/lib" "$src/cmd"
	# the one file allowed to make strings from text
	printf 'json_t *f(const char *s) { return json_string(s); }\n' >"$src/lib/json.c"
	cat >"$src/cmd/ok.c" <<'C'
/* json_string(s) in a comment, and "json_string(s)" in a string */
static const char *c = "json_string(s)";
void ok(json_t *o, const char *s)
{
	json_object_set_new(o, "a", json_string("lit" "eral"));
	json_object_set_new(o,
			    "b", json_pack("{s:s, s:o, s+#}", "k", "v", "o",
					   mc_json_str(s), "x", "y", 1));
	mc_json_set(o, s, mc_json_str(s));
}
C
	cat >"$src/lib/bad.c" <<'C'
void bad(json_t *o, const char *s, const char *k)
{
	json_object_set_new(o, "a", json_string(s));
	json_object_set_new(o, "b", json_string(
		s ? s : "-"));
	json_object_set_new(o, "c", json_stringn(s, 3));
	json_object_set_new(o, "d", json_pack("{s:s}", "k", s));
	json_object_set_new(o, "e", json_pack("{s:i, s:s+}", "n", 1,
					      "k", "x", s));
	json_object_set_new(o, k, json_true());
	json_object_set(o,
			k, json_true());
	json_object_set_new(o, "f", json_sprintf("%s", s));
}
C
	run_check() { "$MC_SRC/scripts/check-json.sh" "$src" >"$T_DIR/out" 2>"$T_DIR/err"; RC=$?; OUT=$T_DIR/out ERR=$T_DIR/err; }
	run_check
	expect_rc 1
	[ "$(grep -c . "$OUT")" = 8 ] || fail "not 8 findings: $(cat "$OUT")"
	[ "$(grep -c 'lib/bad.c' "$OUT")" = 8 ] || fail "a finding outside lib/bad.c: $(cat "$OUT")"
	for want in 'bad.c:3: json_string\(\) of text' 'bad.c:4: json_string\(\)' \
		'bad.c:6: json_stringn\(\)' 'bad.c:7: json_pack\(\) "s" .*\(s\)' \
		'bad.c:9: json_pack\(\) "s" .*\(s\)' 'bad.c:10: json_object_set_new\(\) with a key' \
		'bad.c:11: json_object_set\(\) with a key' 'bad.c:13: json_sprintf\(\)'; do
		expect_out "$want"
	done
	rm "$src/lib/bad.c"
	run_check
	expect_rc 0
	expect_empty_out
	"$MC_SRC/scripts/check-json.sh" "$MC_SRC" || fail "the tree itself does not pass"
}
