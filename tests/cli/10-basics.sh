# 10-basics.sh - help, usage errors, version, completions, man pages.

test_help_root() {
	run --help
	expect_rc 0
	expect_out '^usage: mercuryctl \[OPTIONS\] COMMAND'
	for c in health history breaker config completion version; do
		expect_out "^  $c "
	done
	[ ! -s "$ERR" ] || fail "stderr not empty"
}

test_help_every_level() {
	local p
	for p in "health" "history" "breaker" "breaker list" "breaker reset" \
		"config" "config check" "config show" "completion" "version"; do
		# shellcheck disable=SC2086
		run $p --help
		expect_rc 0
		expect_out "^usage: mercuryctl $p"
	done
	run health -h
	expect_rc 0
	expect_out '--critical-only'
	# a command's own options; the global ones once, in mercuryctl --help
	expect_no_out 'Global options:'
	expect_no_out '--pushgateway'
	expect_out "see 'mercuryctl --help'"
	run --help
	expect_out 'Global options:'
	expect_out '--pushgateway'
}

test_no_command_is_usage() {
	run
	expect_rc 64
	expect_err 'a command is needed'
	expect_one_err_line
	expect_empty_out
}

test_unknown_command_suggests() {
	run helth
	expect_rc 64
	expect_err "unknown command 'helth' \(did you mean 'health'\?\)"
	expect_one_err_line
}

test_unknown_option_suggests() {
	run health --josn
	expect_rc 64
	expect_err "unknown option '--josn' \(did you mean '--json'\?\)"
	expect_one_err_line
}

test_option_missing_value() {
	run health --timeout
	expect_rc 64
	expect_err "option '--timeout' needs a value"
	expect_one_err_line
}

# A number outside an option's range is refused, naming the option,
# instead of being ignored (dlq peek -n) or read as "all" (history -n 0).
test_numeric_options_out_of_range() {
	run history -n 0
	expect_rc 64
	expect_err "history: --limit: bad number '0' \(a whole number from 1 to 1000000\)"
	run dlq peek -n 1000001 somedlq
	expect_rc 64
	expect_err "--count: bad number '1000001' \(a whole number from 1 to 1000000\)"
	run dlq replay --batch 5001 somedlq
	expect_rc 64
	expect_err "--batch: bad number '5001'"
	run dlq replay --limit 0 somedlq
	expect_rc 64
	expect_err "--limit: bad number '0'"
	run history -n ' 5'
	expect_rc 64
	run history -n 0x10
	expect_rc 64
	run -o nagios history -n 0
	expect_rc 3
	expect_out "UNKNOWN - .*--limit: bad number '0'"
	run history -n 1
	expect_rc 0
}

# Thresholds are plain decimal numbers: strtod's hex, "infinity" and
# blanks are refused.
test_threshold_hex_refused() {
	conf '[check "m"]
type = memory
warn = 0x10'
	run config check
	expect_rc 78
	expect_err "mercury.conf:3: .*bad threshold '0x10'"
}

test_option_malformed_values() {
	run --timeout 5x health
	expect_rc 64
	expect_err "bad duration '5x'"
	run -o xml health
	expect_rc 64
	expect_err "'xml' is not one of text\|json\|prom\|nagios"
	run history --limit -3
	expect_rc 64
	run breaker reset
	expect_rc 64
	expect_err 'missing argument NAME'
	run version extra
	expect_rc 64
	expect_err "unexpected argument 'extra'"
	run completion tcsh
	expect_rc 64
	run config
	expect_rc 64
	expect_err 'a subcommand is needed'
	# Nothing of this reached the state file.
	[ ! -e "$STATE" ] || fail "a usage error created the state file"
}

test_usage_error_json_document() {
	run --json helth
	expect_rc 64
	expect_json '.error | test("unknown command")'
	expect_json '.exit_code == 64'
}

test_usage_error_nagios_is_3() {
	run -o nagios helth
	expect_rc 3
	expect_out '^UNKNOWN - '
}

test_usage_error_last_output_mode_wins() {
	run --json -o nagios helth
	expect_rc 3
	expect_out '^UNKNOWN - '
	run -o nagios helth --json
	expect_rc 64
	expect_json '.exit_code == 64'
	# After "--" nothing is an option, --json included.
	run -o nagios helth -- --json
	expect_rc 3
	expect_out '^UNKNOWN - '
	run helth -- --json
	expect_rc 64
	expect_empty_out
}

test_last_output_mode_wins() {
	run version -o text --json
	expect_rc 0
	expect_json '.version == "0.1.0"'
	run version --json -o text
	expect_rc 0
	expect_out '^mercuryctl 0\.1\.0'
	run --output=json version -o nagios --json
	expect_json '.version == "0.1.0"'
}

test_version() {
	run --version
	expect_rc 0
	[ "$(out)" = "mercuryctl 0.1.0" ] || fail "--version printed '$(out)'"
	run version
	expect_rc 0
	expect_out '^mercuryctl 0\.1\.0'
	expect_out 'libcurl +[0-9]+\.'
	expect_out 'sqlite3 +3\.'
	# every library of the README's table, the lazily loaded ones too
	expect_out 'c-ares +1\.[0-9]+\.'
	expect_out 'zstd +1\.[0-9]+\.'
	run version --json
	expect_json '.version == "0.1.0" and (.libraries | has("libcurl") and has("hiredis") and has("jansson") and has("openssl") and has("inih") and has("sqlite3") and has("c-ares") and has("zstd"))'
}

test_informational_commands_leave_no_state() {
	run version
	run completion bash
	run --help
	[ ! -e "$STATE" ] || fail "informational command created the state file"
}

test_completion_scripts_are_the_committed_ones() {
	run completion bash
	expect_rc 0
	cmp -s "$OUT" "$MC_SRC/completions/mercuryctl.bash" || fail "bash completion differs"
	run completion zsh
	cmp -s "$OUT" "$MC_SRC/completions/_mercuryctl" || fail "zsh completion differs"
	run completion fish
	cmp -s "$OUT" "$MC_SRC/completions/mercuryctl.fish" || fail "fish completion differs"
}

test_docs_match_the_table() {
	"$MC_GENDOC" check "$MC_SRC" || fail "man pages or completions differ from the table"
	# No page for a command that is not in the table.
	local page cmd
	for page in "$MC_SRC"/man/mercuryctl-*.1; do
		cmd=${page##*/mercuryctl-}
		cmd=${cmd%.1}
		run "$cmd" --help
		[ "$RC" = 0 ] || fail "man page for '$cmd', which is no command"
	done
	# Every man page's synopsis names every option --help shows.
	local c opt
	for c in health history breaker config completion version; do
		run "$c" --help
		for opt in $(grep -oE '^  (-., )?--[a-z-]+' "$OUT" | grep -oE -- '--[a-z-]+'); do
			grep -q -- "$(printf '%s' "$opt" | sed 's/-/\\\\-/g')" \
				"$MC_SRC/man/mercuryctl-$c.1" "$MC_SRC/man/mercuryctl.1" ||
				fail "$opt of $c not in its man page"
		done
	done
}

test_man_pages_render_cleanly() {
	local page warn
	for page in "$MC_SRC"/man/*.[15]; do
		warn=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
		[ -z "$warn" ] || fail "$page: $warn"
	done
}

# Drives the bash completion as bash would: COMP_WORDS and COMP_CWORD.
complete_bash() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _mercuryctl; printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$MC_SRC/completions/mercuryctl.bash" "$@"
}

test_bash_completion_works() {
	complete_bash mercuryctl he | grep -qx health || fail "'he' does not complete to health"
	complete_bash mercuryctl health --cr | grep -qx -- --critical-only || fail "health --cr"
	complete_bash mercuryctl breaker "" | grep -qx reset || fail "breaker subcommands"
	complete_bash mercuryctl -o "" | grep -qx nagios || fail "-o values"
	complete_bash mercuryctl --json config s | grep -qx show || fail "after a global flag"
	complete_bash mercuryctl completion "" | grep -qx fish || fail "completion shells"
	! complete_bash mercuryctl health --cr | grep -q -- --since || fail "history's option offered to health"
}

# complete_zsh LINE: what zsh's completion system offers after LINE (an
# interactive zsh in a pseudo-terminal, compinit, a Tab), one a line.
complete_zsh() {
	timeout 30 zsh -f "$MC_SRC/tests/cli/zsh-complete.zsh" "$MC_SRC/completions" "$1"
}

test_zsh_and_fish_completions_parse() {
	zsh -n "$MC_SRC/completions/_mercuryctl" || fail "zsh syntax"
	# zsh: the completions zsh itself computes.
	complete_zsh 'mercuryctl he' | grep -qx health || fail "zsh: 'he': $(complete_zsh 'mercuryctl he')"
	complete_zsh 'mercuryctl breaker ' | grep -qx reset || fail "zsh: breaker subcommands"
	complete_zsh 'mercuryctl health --cr' | grep -qx -- --critical-only || fail "zsh: health options"
	complete_zsh 'mercuryctl -o ' | grep -qx nagios || fail "zsh: -o values"
	fish --no-execute "$MC_SRC/completions/mercuryctl.fish" || fail "fish syntax"
	# fish: the completions fish itself computes.
	local got
	got=$(fish -c "source $MC_SRC/completions/mercuryctl.fish; complete -C 'mercuryctl breaker '")
	printf '%s\n' "$got" | grep -q '^reset' || fail "fish: breaker subcommands: $got"
	got=$(fish -c "source $MC_SRC/completions/mercuryctl.fish; complete -C 'mercuryctl health --crit'")
	printf '%s\n' "$got" | grep -q -- '--critical-only' || fail "fish: health options: $got"
}

test_stdout_write_failure_is_reported() {
	# /dev/full makes every write fail with ENOSPC.
	"$MC_BIN" version >/dev/full 2>"$T_DIR/err"
	RC=$?
	ERR=$T_DIR/err
	expect_rc 74
	expect_err 'cannot write output'
}

test_json_logs_carry_correlation_id() {
	run --log-format json -v --correlation-id log-7 health
	[ "$RC" -le 1 ] || fail "health exited $RC"
	[ -s "$ERR" ] || fail "no log lines with -v"
	jq -e -s 'length >= 2 and all(.[]; .correlation_id == "log-7" and .command == "health" and (.ts | test("Z$")) and (.level | IN("info","debug","warn","error")))' "$ERR" >/dev/null ||
		fail "log lines: $(cat "$ERR")"
	# numbers are numbers: "exit_code":0, not "0"
	jq -e -s 'any(.[]; .msg == "run finished" and .exit_code == '"$RC"' and (.duration_ms | type) == "number")' "$ERR" >/dev/null ||
		fail "no 'run finished' line with a numeric exit_code: $(grep 'run finished' "$ERR")"
	MERCURY_LOG_FORMAT=json run -q health
	[ ! -s "$ERR" ] || fail "-q still logs: $(cat "$ERR")"
}

test_install_and_uninstall() {
	local root=$T_DIR/root b
	b=$(dirname "$MC_BIN")
	make -s -C "$MC_SRC" install B="$b" PREFIX=/usr DESTDIR="$root" >"$T_DIR/mk" 2>&1 ||
		fail "make install: $(cat "$T_DIR/mk")"
	[ -x "$root/usr/bin/mercuryctl" ] || fail "binary not installed"
	[ -f "$root/usr/share/man/man1/mercuryctl-health.1" ] || fail "man page not installed"
	[ -f "$root/usr/share/man/man5/mercury.conf.5" ] || fail "mercury.conf.5 not installed"
	[ -f "$root/usr/share/bash-completion/completions/mercuryctl" ] || fail "bash completion"
	[ -f "$root/usr/share/zsh/vendor-completions/_mercuryctl" ] || fail "zsh completion"
	[ -f "$root/usr/share/fish/vendor_completions.d/mercuryctl.fish" ] || fail "fish completion"
	"$root/usr/bin/mercuryctl" --version | grep -q '^mercuryctl ' || fail "installed binary does not run"
	# the example systemd units, pointing at the installed binary, and
	# disabled: no .wants symlink anywhere
	for u in mercuryctl-health.service mercuryctl-health.timer; do
		[ -f "$root/usr/lib/systemd/system/$u" ] || fail "$u not installed"
	done
	grep -q '^ExecStart=/usr/bin/mercuryctl ' "$root/usr/lib/systemd/system/mercuryctl-health.service" ||
		fail "the service does not run the installed binary: $(grep ExecStart "$root/usr/lib/systemd/system/mercuryctl-health.service")"
	[ -z "$(find "$root" -type l)" ] || fail "a unit is enabled: $(find "$root" -type l)"
	make -s -C "$MC_SRC" uninstall B="$b" PREFIX=/usr DESTDIR="$root" >"$T_DIR/mk" 2>&1 ||
		fail "make uninstall"
	[ -z "$(find "$root" -type f)" ] || fail "left after uninstall: $(find "$root" -type f)"
}

# A bad --correlation-id is a usage error naming the option; a bad
# MERCURY_CORRELATION_ID, like every MERCURY_ variable's bad value, a
# configuration error naming the variable; with -o nagios, 3.
test_bad_correlation_id_names_its_source() {
	run --correlation-id "$(printf 'a\r\nX-Evil: 1')" health
	expect_rc 64
	expect_err '^mercuryctl: --correlation-id: bad value'
	expect_one_err_line
	MERCURY_CORRELATION_ID="has space" run health --json
	expect_rc 78
	expect_json '.exit_code == 78 and (.error | test("MERCURY_CORRELATION_ID"))'
	expect_err '^mercuryctl: environment MERCURY_CORRELATION_ID: bad value'
	run -o nagios --correlation-id "a b" health
	expect_rc 3
	expect_out '^UNKNOWN - mercuryctl: --correlation-id: bad value'
	[ ! -e "$STATE" ] || fail "state touched"
}

test_libcurl_loaded_only_for_http() {
	# Start-up cost: libcurl's chain of libraries is loaded on first use.
	! ldd "$MC_BIN" | grep -q libcurl || fail "mercuryctl links libcurl"
	run version
	expect_out 'libcurl +7\.'
}

names_conf() {
	conf '[check "api"]
type = memory
[check "alert-queue"]
type = memory
[dlq "alerter"]
source = s
target = t
dead = d'
}

test_config_show_names() {
	names_conf
	run config show --names check
	expect_rc 0
	[ "$(out)" = "$(printf 'api\nalert-queue')" ] || fail "names: $(out)"
	run config show --names dlq --json
	expect_json '.names == ["alerter"]'
	run config show --names core
	expect_rc 64
	expect_err "no named section kind 'core'"
}

test_completion_offers_configured_names() {
	names_conf
	local bin
	bin=$(dirname "$MC_BIN")
	PATH=$bin:$PATH complete_bash mercuryctl health "" >"$T_DIR/c"
	grep -qx api "$T_DIR/c" && grep -qx alert-queue "$T_DIR/c" && grep -qx history "$T_DIR/c" ||
		fail "bash: $(tr '\n' ' ' <"$T_DIR/c")"
	PATH=$bin:$PATH complete_bash mercuryctl dlq replay al >"$T_DIR/c"
	grep -qx alerter "$T_DIR/c" || fail "bash dlq: $(cat "$T_DIR/c")"
	PATH=$bin:$PATH fish -c "source $MC_SRC/completions/mercuryctl.fish; complete -C 'mercuryctl health a'" >"$T_DIR/c"
	grep -q '^api' "$T_DIR/c" && grep -q '^alert-queue' "$T_DIR/c" || fail "fish: $(cat "$T_DIR/c")"
}

# JSON reals are the shortest text that reads back as the same double
# (Python's repr is that text too): never jansson's 17 digits.
test_json_reals_are_shortest() {
	conf '[check "down"]
type = tcp
address = 127.0.0.1:1'
	run health --json
	/usr/bin/python3 - "$OUT" <<'PY' || fail "a real is not in its shortest form: $(cat "$OUT")"
import json, re, sys
text = open(sys.argv[1]).read()
# numbers only: what stands in strings (a timestamp's 09.177) is no real
text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
reals = [t for t in re.findall(r'-?\d+\.\d+(?:[eE][-+]?\d+)?', text)]
assert reals, "no reals"
for t in reals:
    v = float(t)
    if abs(v) < 1e15 and repr(v) != t:
        sys.exit("%s should be %s" % (t, repr(v)))
PY
}

# Completion reads the configuration given on the line (-c FILE,
# --config FILE, --config=FILE), not only $MERCURY_CONFIG; breaker reset
# completes the breakers' names, and a bare name gets the full one.
test_completion_honours_the_config_on_the_line() {
	local got
	export PATH=$(dirname "$MC_BIN"):$PATH
	printf '[check "alpha"]\ntype = memory\n' >"$T_DIR/a.conf"
	conf '[check "beta"]
type = memory'
	# names_are WANT GOT: the names offered (subcommands aside) are WANT
	names_are() { [ "$(printf '%s\n' "$2" | cut -f1 | grep -vx history)" = "$1" ]; }
	got=$(complete_bash mercuryctl -c "$T_DIR/a.conf" health "")
	names_are alpha "$got" || fail "bash -c: $got"
	got=$(complete_bash mercuryctl --config "$T_DIR/a.conf" health history "")
	[ "$got" = alpha ] || fail "bash --config: $got"
	got=$(complete_bash mercuryctl "--config=$T_DIR/a.conf" health "")
	names_are alpha "$got" || fail "bash --config=: $got"
	got=$(complete_bash mercuryctl health "")
	names_are beta "$got" || fail "bash without -c: $got"
	got=$(fish -c "source $MC_SRC/completions/mercuryctl.fish; complete -C 'mercuryctl -c $T_DIR/a.conf health '")
	names_are alpha "$got" || fail "fish -c: $got"
	got=$(fish -c "source $MC_SRC/completions/mercuryctl.fish; complete -C 'mercuryctl health '")
	names_are beta "$got" || fail "fish without -c: $got"
	got=$(complete_zsh "mercuryctl -c $T_DIR/a.conf health ")
	names_are alpha "$got" || fail "zsh -c: $got"
	got=$(complete_zsh "mercuryctl --config=$T_DIR/a.conf health history ")
	names_are alpha "$got" || fail "zsh --config=: $got"
	got=$(complete_zsh "mercuryctl health ")
	names_are beta "$got" || fail "zsh without -c: $got"
	# breaker names
	run breaker list
	sql "INSERT INTO breakers (name, state, failures, updated) VALUES ('webhook:flaky', 1, 5, 0)"
	got=$(complete_bash mercuryctl breaker reset "")
	[ "$got" = webhook:flaky ] || fail "bash breaker reset: $got"
	got=$(fish -c "source $MC_SRC/completions/mercuryctl.fish; complete -C 'mercuryctl breaker reset '")
	[ "$got" = webhook:flaky ] || fail "fish breaker reset: $got"
	got=$(complete_zsh "mercuryctl breaker reset ")
	[ "$got" = webhook:flaky ] || fail "zsh breaker reset: $got"
	run breaker reset flaky
	expect_rc 64
	expect_err "no breaker named 'flaky': did you mean 'webhook:flaky'\? \(breakers are named KIND:NAME"
	run breaker reset webhook:flaky
	expect_rc 0
}

# Every man page has EXAMPLES; mercury.conf(5)'s section headings render
# with their quotes; the state file's last fallback is documented.
test_man_pages_have_examples_and_right_headings() {
	local page
	for page in "$MC_SRC"/man/*.[15]; do
		grep -q '^\.SH EXAMPLES$' "$page" || fail "$(basename "$page") has no EXAMPLES"
	done
	# render PAGE: as man shows it (groff, no overstrike), 200 columns
	render() { groff -man -Tutf8 -rLL=200n -P -cbou "$1" 2>/dev/null; }
	render "$MC_SRC/man/mercury.conf.5" >"$T_DIR/conf.txt"
	grep -q '^SECTION \[check "NAME"\]$' "$T_DIR/conf.txt" ||
		fail "heading: $(grep '^SECTION' "$T_DIR/conf.txt" | head -3)"
	render "$MC_SRC/man/mercuryctl.1" | grep -q '/var/lib/mercury/state.db when neither XDG_STATE_HOME nor HOME' ||
		fail "the /var/lib/mercury fallback is not in mercuryctl(1)"
	render "$MC_SRC/man/mercuryctl-dlq.1" | grep -q '^ *mercuryctl dlq replay alerter --dry-run$' ||
		fail "dlq's examples do not render"
}

# Every example command line of the man pages parses: with --help added
# (before a `--`, which ends the options), a bad option or number would
# still be a usage error (64), a good line prints help (0). Redirections
# and what follows a pipe or && are left out.
test_man_page_examples_parse() {
	local page line n=0
	for page in "$MC_SRC"/man/mercuryctl*.1; do
		groff -man -Tutf8 -rLL=300n -P -cbou "$page" 2>/dev/null |
			awk '/^EXAMPLES/{p=1;next} /^[A-Z]/{p=0} p' |
			sed -n 's/^ *\(mercuryctl .*\)$/\1/p'
	done >"$T_DIR/examples"
	while IFS= read -r line; do
		line=${line%%[<>|&\\]*}
		case $line in
		*' -- '*) line="${line%% -- *} --help -- ${line#* -- }" ;;
		*) line="$line --help" ;;
		esac
		eval "set -- ${line#mercuryctl }"
		run "$@"
		[ "$RC" = 0 ] || fail "example '$line' does not parse: $(err)"
		n=$((n + 1))
	done <"$T_DIR/examples"
	[ "$n" -ge 20 ] || fail "only $n examples found"
}

# Every environment variable the configuration schema reads is in
# mercuryctl(1)'s ENVIRONMENT section.
test_man_page_names_every_environment_variable() {
	local v vars
	vars=$(sed -n 's/.*\.env = "\([^"]*\)".*/\1/p' "$MC_SRC/lib/config_schema.c")
	[ -n "$vars" ] || fail "no .env keys found in config_schema.c"
	groff -man -Tutf8 -rLL=300n -P -cbou "$MC_SRC/man/mercuryctl.1" 2>/dev/null |
		awk '/^ENVIRONMENT/{p=1;next} /^[A-Z]/{p=0} p' >"$T_DIR/env"
	for v in $vars MERCURY_CONFIG MERCURY_CORRELATION_ID NO_COLOR; do
		grep -qw -- "$v" "$T_DIR/env" || fail "$v is not in mercuryctl(1) ENVIRONMENT"
	done
}
