# 30-config.sh - config check/show, precedence, and every error class.

test_config_check_valid() {
	conf '# a comment
[core]
timeout = 30s   # inline comment
history = 7d
; another comment
[check "root"]
type = disk
path = /
warn = 80%
crit = 90%'
	run config check
	expect_rc 0
	expect_out "$CONF: OK \(2 sections\)"
	run config check --json
	expect_json ".ok == true and .file == \"$CONF\""
}

test_config_none_uses_defaults() {
	run config check
	expect_rc 0
	expect_out 'built-in defaults'
	run config show
	expect_rc 0
	expect_out '^core +timeout +60s +default'
}

test_config_show_sources_and_precedence() {
	conf '[core]
timeout = 30s
log_format = text
history = 7d'
	MERCURY_LOG_FORMAT=json run --timeout 5s config show
	expect_rc 0
	expect_out '^core +timeout +5s +flag --timeout'
	expect_out "^core +log_format +json +env MERCURY_LOG_FORMAT"
	expect_out "^core +history +7d +$CONF:4"
	expect_out '^core +breaker_failures +5 +default'
	MERCURY_LOG_FORMAT=json run --log-format text config show --json
	expect_json '.sections[0].values.log_format == {value:"text",source:"flag --log-format"}'
	expect_json ".sections[0].values.timeout.source == \"$CONF:2\""
}

test_config_show_redacts_url_credentials() {
	conf '[core]
redis_url = redis://:Hunter2Secret@127.0.0.1:6379/0'
	run config show
	expect_rc 0
	expect_no_out 'Hunter2Secret'
	expect_out 'redis://:\*\*\*@127\.0\.0\.1:6379/0'
	run config show --json
	expect_no_out 'Hunter2Secret'
}

# expect_config_error TEXT LINE PATTERN
expect_config_error() {
	conf "$1"
	run config check
	expect_rc 78
	expect_err "mercury\.conf:$2: $3"
	expect_one_err_line
	expect_empty_out
	run health
	expect_rc 78
	[ ! -e "$STATE" ] || fail "a config error touched the state file"
}

test_config_error_unknown_key() {
	expect_config_error '[core]
tiemout = 5s' 2 "\[core\] unknown key 'tiemout' \(did you mean 'timeout'\?\)"
}

test_config_error_unknown_section() {
	expect_config_error '[chek "x"]
type = disk' 1 "unknown section \[chek"
	expect_err "did you mean \[check\]"
}

test_config_error_bad_value() {
	expect_config_error '[check "d"]
type = disk
timeout = 2x' 3 "\[check \"d\"\] bad value for 'timeout'"
}

test_config_error_bad_enum_suggests() {
	expect_config_error '[check "d"]
type = dsk' 2 "\\[check \"d\"\\] bad value for 'type': 'dsk'"
	expect_err "did you mean 'disk'"
}

test_config_error_duplicate_section() {
	expect_config_error '[check "a"]
type = disk
[check "a"]
type = memory' 3 "duplicate section \[check \"a\"\] \(first at line 1\)"
}

test_config_error_duplicate_key() {
	expect_config_error '[core]
timeout = 1s
timeout = 2s' 3 "\\[core\\] 'timeout' given twice \(first at line 2\)"
}

test_config_error_syntax() {
	expect_config_error '[core]
this line has no equals sign' 2 'syntax error'
}

test_config_error_key_for_other_type() {
	expect_config_error '[check "m"]
type = memory
path = /' 3 "\\[check \"m\"\\] key 'path' does not apply to type 'memory'"
}

test_config_error_missing_type() {
	expect_config_error '[check "m"]
warn = 50' 1 "\\[check \"m\"\\] missing required key 'type'"
}

test_config_missing_explicit_file() {
	run --config "$T_DIR/nope.conf" config check
	expect_rc 78
	expect_err 'nope\.conf'
	expect_one_err_line
	MERCURY_CONFIG=$T_DIR/nope2.conf run health
	expect_rc 78
	expect_err 'nope2\.conf'
}

test_config_unreadable_file() {
	mkdir -p "$T_DIR/adir"
	run --config "$T_DIR/adir" config check
	expect_rc 78
	expect_err 'adir'
	expect_one_err_line
}

test_config_bad_env_value() {
	MERCURY_LOG_FORMAT=yaml run config check
	expect_rc 78
	expect_err 'MERCURY_LOG_FORMAT'
	expect_one_err_line
}

test_config_error_as_json() {
	conf '[core]
tiemout = 5s'
	run --json config check
	expect_rc 78
	expect_json '.exit_code == 78 and (.error | test("mercury.conf:2"))'
}

test_config_xdg_location() {
	mkdir -p "$XDG_CONFIG_HOME/mercury"
	printf '[core]\nhistory = 3d\n' >"$XDG_CONFIG_HOME/mercury/mercury.conf"
	run config show
	expect_rc 0
	expect_out "^core +history +3d +$XDG_CONFIG_HOME/mercury/mercury.conf:2"
}

# git-config quoting: the README's `body = "ready"` works (the quotes are not
# part of the text), a quoted value keeps '#' and ';', an unquoted one ends
# at an inline comment, and config check warns (without the value) when a
# comment cut what looks like a URL or a secret.
test_config_quoted_values() {
	local R=$MC_TEST_RECEIVER
	conf "[check \"readme\"]
type     = http
url      = $R/echo/ready-$$
body     = \"ready-$$\"             # or body_regex = ...
[check \"cut\"]
type = http
url = $R/echo/needle-$$
body = needle-$$ #frag
[check \"kept\"]
type = http
url = $R/echo/kept-$$
body = \"kept-$$ #frag\""
	run health --json
	expect_json '.checks.readme.status == "ok" and .checks.cut.status == "ok"'
	expect_json '.checks.kept.status == "critical"'
	run config show
	expect_out "^check \"kept\" +body +kept-$$ #frag "
	expect_out "^check \"cut\" +body +needle-$$ "
	run config check
	expect_rc 0
	expect_no_err warn
	conf "[core]
prometheus_url = http://127.0.0.1:9/tenant-$$ #frag"
	run config check --json
	expect_rc 0
	expect_json '.warnings | length == 1'
	expect_json ".warnings[0] | test(\"mercury.conf:2: \\\\[core\\\\] 'prometheus_url' looks like a URL and an inline comment\")"
	expect_no_out "tenant-$$"
	expect_err "warn: .*mercury.conf:2: .*prometheus_url"
	expect_no_err "tenant-$$"
	conf '[core]
state = "/tmp/x'
	run config check
	expect_rc 78
	expect_err "mercury.conf:2: key 'state': unterminated quoted value"
}

# config init prints an annotated example that config check accepts as is,
# without warnings, and needs no configuration of its own.
test_config_init_prints_an_example_config_check_accepts() {
	export MERCURY_CONFIG=$T_DIR/none.conf
	run config init
	expect_rc 0
	expect_out '^# mercury.conf - an example configuration'
	for s in '\[core\]' '\[check "api"\]' '\[dlq "alerter"\]' '\[slo "api-availability"\]' '# \[webhook "ops"\]'; do
		expect_out "^$s"
	done
	cp "$OUT" "$T_DIR/example.conf"
	MERCURY_CONFIG=$T_DIR/example.conf run config check --json
	expect_rc 0
	expect_json '.ok == true and .warnings == [] and .sections > 5'
	MERCURY_CONFIG=$T_DIR/example.conf run config show --names check
	expect_out '^api$'
	expect_out '^memory$'
	run config init --json
	expect_json '.config | startswith("# mercury.conf")'
	# the 3.0 sections are there to uncomment, and config check takes them
	# (a warning only for the example's secret file, absent here)
	for s in job backup oauth fleet; do
		grep -q "^# \[$s[] ]" "$T_DIR/example.conf" || fail "no commented [$s] example"
	done
	awk '/^# The sections below are examples to uncomment/ {on = 1}
		on && /^# \[/ {sec = 1}
		sec && /^$/ {sec = 0}
		{ if (sec) sub(/^# /, ""); print }' "$T_DIR/example.conf" >"$T_DIR/all.conf"
	MERCURY_CONFIG=$T_DIR/all.conf run config check --json
	expect_rc 0
	expect_json '.sections == 12 and (.warnings | length) == 1 and (.warnings[0] | test("client_secret_file"))'
}

# An exec check's command is an absolute path: a bare check_load would not
# be found under cron's PATH (nor is the plugin directory on any PATH).
test_config_check_refuses_a_relative_plugin() {
	conf '[check "load"]
type = exec
command = check_load -w 5,4,3 -c 9,8,7'
	run config check
	expect_rc 78
	expect_err "mercury.conf:3: \[check \"load\"\] command 'check_load' is not an absolute path"
	expect_one_err_line
	if [ -x /usr/lib/nagios/plugins/check_load ]; then
		expect_err 'did you mean /usr/lib/nagios/plugins/check_load\?'
	fi
	conf '[check "load"]
type = exec
command = /usr/lib/nagios/plugins/check_load -w 5,4,3 -c 9,8,7'
	run config check
	expect_rc 0
}
