# 70-slo.sh - slo status|rules|history against the real Prometheus, whose
# TSDB scripts/test.sh filled with the scenarios of scripts/slo_data.py.
# Every expected number, state, alert and note comes from that generator's
# expected.json (computed from the counters it wrote), never from here.

EXP=${MC_TEST_SLO_EXPECTED:-/nonexistent}
END=${MC_TEST_SLO_END:-0}

# slo_conf [EXTRA]: [core] with the test Prometheus and one [slo] section
# per SLO of expected.json, then EXTRA.
slo_conf() {
	[ -s "$EXP" ] || fail "no expected.json (MC_TEST_SLO_EXPECTED=$EXP)"
	{
		printf '[core]\nprometheus_url = %s\n' "$MC_TEST_PROMETHEUS"
		jq -r '.objective as $o | .slos | to_entries[] |
			"[slo \"\(.key)\"]\nobjective = \($o)\n" +
			"window = \(.value.window)\n" +
			"error_query = \(.value.error_query)\n" +
			"total_query = \(.value.total_query)\n" +
			(if .value.min_rate > 0 then
				"min_rate = \(.value.min_rate)\n" else "" end)' "$EXP"
		printf '%s\n' "${1:-}"
	} >"$T_DIR/mercury.conf"
	export MERCURY_CONFIG=$T_DIR/mercury.conf
}

# The jq helper: a agrees with b to 6 significant digits.
JQ_CLOSE='def abs(x): if x < 0 then -x else x end;
	def close(a; b): a != null and abs(a - b) <= 5e-7 * abs(b) + 1e-12;'

# expect_slo NAME: .slos[NAME] of stdout agrees with expected.json: SLI,
# budget consumed and remaining, the seven burn rates to 6 significant
# digits; state, alerts and notes exactly.
expect_slo() {
	jq -e --arg n "$1" --slurpfile exp "$EXP" "$JQ_CLOSE"'
		.slos[$n] as $got | $exp[0].slos[$n] as $want |
		$want != null and $got != null and
		close($got.sli; $want.sli) and
		close($got.error_budget.consumed; $want.consumed) and
		close($got.error_budget.remaining; $want.remaining) and
		([$want.burn | to_entries[] | close($got.burn_rates[.key]; .value)]
		 | all) and ($got.burn_rates | length) == 7 and
		$got.state == $want.state and $got.alerts == $want.alerts and
		$got.notes == $want.notes and
		$got.error_budget.total == $exp[0].budget' "$OUT" >/dev/null ||
		fail "slo $1: got $(jq -c --arg n "$1" '.slos[$n]' "$OUT"); want $(jq -c --arg n "$1" '.slos[$n] | del(.windows)' "$EXP")"
}

slo_names() { jq -r '.slos | keys[]' "$EXP"; }

# The exit code of a state.
state_rc() {
	case $1 in ok) echo 0 ;; warning) echo 1 ;; critical) echo 2 ;; *) echo 3 ;; esac
}

test_slo_scenarios_agree_with_the_data() {
	local n worst=ok
	slo_conf
	run slo status --at "$END" --json
	[ "$(jq -r '.evaluated_at | sub("\\.[0-9]+Z$"; "Z") | fromdate' "$OUT")" = "$END" ] ||
		fail "evaluated_at is not --at: $(jq -r .evaluated_at "$OUT")"
	for n in $(slo_names); do
		expect_slo "$n"
	done
	# The run's status and exit code: the worst state.
	worst=$(jq -r '[.slos[].state] as $s | if ($s | index("critical")) then "critical"
		elif ($s | index("warning")) then "warning" else "ok" end' "$EXP")
	expect_rc "$(state_rc "$worst")"
	expect_json ".status == \"$worst\""
	# Eight windows (seven burn windows and the SLO window), two queries
	# each, for every SLO.
	expect_json '.queries == (.slos | length) * 16'
	expect_json ".prometheus == \"$MC_TEST_PROMETHEUS\""
	# Recorded: one row per SLO, at the evaluation instant.
	[ "$(sql "SELECT count(*) FROM slo_results WHERE ts = $END")" = "$(slo_names | wc -l)" ] ||
		fail "slo_results: $(sql 'SELECT slo, ts, state FROM slo_results')"
	[ "$(sql "SELECT state FROM slo_results WHERE slo = 'fast'")" = \
	  "$(jq -r '.slos.fast.state' "$EXP")" ] || fail "fast recorded wrongly"
}

test_slo_each_scenario_exit_code() {
	local n want
	slo_conf
	for n in $(slo_names); do
		want=$(jq -r --arg n "$n" '.slos[$n].state' "$EXP")
		run slo status "$n" --at "$END" -o json
		expect_rc "$(state_rc "$want")"
		expect_json ".status == \"$want\" and (.slos | keys) == [\"$n\"]"
		expect_slo "$n"
	done
	# The scenarios cover every state the policy gives.
	[ "$(jq -r '[.slos[].state] | unique | join(",")' "$EXP")" = "critical,ok,warning" ] ||
		fail "the scenarios do not cover ok, warning and critical"
}

test_slo_rfc3339_at_is_the_same_instant() {
	local iso
	slo_conf
	iso=$(date -u -d "@$END" +%Y-%m-%dT%H:%M:%SZ)
	run slo status fast --at "$iso" --json
	expect_rc "$(state_rc "$(jq -r .slos.fast.state "$EXP")")"
	expect_slo fast
	run slo status fast --at "$(date -u -d "@$END" +%Y-%m-%dT%H:%M:%S+02:00)" --json
	# Two hours earlier: 1h and 5m are back at the old error ratio.
	expect_json '.slos.fast.burn_rates["1h"] < 1'
}

# fmt FORMAT JQ: a value of expected.json, printed as mercuryctl prints it.
fmt() { LC_ALL=C printf "$1" "$(jq -r "$2" "$EXP")"; }

test_slo_text_nagios_prom() {
	local sli rem fill bar burn v
	slo_conf
	sli=$(fmt %.4f .slos.fast.sli)
	rem=$(fmt %.1f '.slos.fast.remaining * 100')
	fill=$(fmt %.0f '.slos.fast.remaining * 20')
	bar=$(printf "█%.0s" $(seq 1 "$fill"))$(printf "░%.0s" $(seq 1 $((20 - fill))))
	burn=$(fmt %.3g '.slos.fast.burn["1h"]')
	run slo status fast idle --at "$END"
	expect_rc 2
	expect_out '^SLO +STATE +SLI +BUDGET LEFT +5m +30m +1h +2h +6h +1d +3d'
	expect_out "^fast +critical +$sli% +$bar $rem% +$(fmt %.3g '.slos.fast.burn["5m"]') +$(fmt %.3g '.slos.fast.burn["30m"]') +$burn "
	expect_out "^idle +ok +$(fmt %.4f .slos.idle.sli)% +█{20} 100\.0% +0 "
	expect_out "^fast: $(jq -r '.slos.fast.alerts[0]' "$EXP")\$"
	expect_out "^idle: note: $(jq -r '.slos.idle.notes[0]' "$EXP")\$"
	expect_out '^slo: critical \(2 SLOs, 32 queries to '
	run slo status fast idle --at "$END" -o nagios
	expect_rc 2
	expect_out "^SLO CRITICAL - 1 of 2 SLOs critical: fast $(jq -r '.slos.fast.alerts[0]' "$EXP") \\|"
	expect_out " fast_sli=$(fmt %.6g .slos.fast.sli)%;;;0;100 fast_budget_remaining=$(fmt %.4g '.slos.fast.remaining * 100')%;;;;100 fast_worst_burn=$(fmt %.6g '[.slos.fast.burn[]] | max') "
	run slo status fast idle --at "$END" -o prom
	expect_rc 2
	v=$(sed -n 's/^mercury_slo_burn_rate{slo="fast",window="1h"} //p' "$OUT")
	jq -en --argjson v "${v:-null}" --slurpfile exp "$EXP" \
		"$JQ_CLOSE"' close($v; $exp[0].slos.fast.burn["1h"])' >/dev/null ||
		fail "prom burn rate 1h: '$v'"
	expect_out '^mercury_slo_state\{slo="idle"\} 0$'
	expect_out '^mercury_slo_error_budget_remaining_ratio\{slo="idle"\} 1$'
	expect_out '^mercury_slo_status 2$'
	run slo status idle --at "$END" -q
	expect_rc 0
	expect_empty_out
	run slo status fast --at "$END" -q
	expect_rc 2
	expect_empty_out
	expect_err '^SLO CRITICAL - 1 of 1 SLOs critical: fast page'
}

test_slo_now_is_one_instant() {
	local before after
	slo_conf
	before=$(date +%s)
	run slo status steady --json
	after=$(date +%s)
	expect_json '.slos.steady.state != null'
	jq -e --argjson b "$before" --argjson a "$after" \
		'.evaluated_at | sub("\\.[0-9]+Z$"; "Z") | fromdate | . >= $b and . <= $a' \
		"$OUT" >/dev/null || fail "evaluated_at $(jq .evaluated_at "$OUT") not in [$before, $after]"
}

test_slo_no_data_is_unknown() {
	conf "[core]
prometheus_url = $MC_TEST_PROMETHEUS
[slo \"ghost\"]
objective = 99.9
error_query = sum(rate(slo_requests_total{scenario=\"absent\",code=\"500\"}[{{window}}]))
total_query = sum(rate(slo_requests_total{scenario=\"absent\"}[{{window}}]))"
	run slo status --at "$END" --json
	expect_rc 3
	expect_json '.status == "unknown" and .slos.ghost.state == "unknown" and .slos.ghost.sli == null'
	expect_json '.slos.ghost.error | test("^no data: (error|total)_query over [0-9a-z]+ returned no series")'
	run slo status --at "$END" -o nagios
	expect_rc 3
	expect_out '^SLO UNKNOWN - 1 of 1 SLOs unknown: ghost no data'
}

test_slo_several_series_names_the_slo() {
	conf "[core]
prometheus_url = $MC_TEST_PROMETHEUS
[slo \"unsummed\"]
objective = 99.9
error_query = rate(slo_requests_total{scenario=\"fast\"}[{{window}}])
total_query = sum(rate(slo_requests_total{scenario=\"fast\"}[{{window}}]))"
	run slo status --at "$END"
	expect_rc 3
	expect_out '^unsummed: error_query over [0-9a-z]+ returned 2 series: the expression must aggregate to one'
	run slo status --at "$END" --json
	expect_json '.slos.unsummed.state == "unknown" and (.slos.unsummed.error | test("returned 2 series"))'
}

test_slo_prometheus_error_text() {
	conf "[core]
prometheus_url = $MC_TEST_PROMETHEUS
[slo \"typo\"]
objective = 99.9
error_query = sum(rate(slo_requests_total[{{window}}])
total_query = sum(rate(slo_requests_total[{{window}}]))"
	run slo status --at "$END" --json
	expect_rc 3
	expect_json '.slos.typo.state == "unknown"'
	# Prometheus's own words, and which query they are about.
	expect_json '.slos.typo.error | test("^Prometheus: .*parse error.*\\(error_query over [0-9a-z]+\\)$")'
}

test_slo_unreachable_shows_last_known() {
	slo_conf "[slo \"later\"]
objective = 99
error_query = x[{{window}}]
total_query = y[{{window}}]"
	# A run ten minutes earlier records values; Prometheus then goes away.
	run slo status fast steady --at $((END - 600)) --json
	expect_rc 2
	run slo status fast later --at "$END" --prometheus http://127.0.0.1:9 --json
	expect_rc 3
	expect_json '.status == "unknown" and .slos.fast.state == "unknown"'
	expect_json '.slos.fast.error | test("^Prometheus unreachable: .*refused")'
	expect_json '.slos.fast.last_known.age_s == 600 and .slos.fast.last_known.state == "critical"'
	expect_json '.slos.fast.last_known.burn_rates["5m"] > 14.4'
	expect_json '.slos.later.last_known == null'
	run slo status fast later --at "$END" --prometheus http://127.0.0.1:9
	expect_rc 3
	expect_out '^fast: last known 10m ago: critical, SLI 99\.[0-9]+%, budget left [0-9.]+%$'
	expect_out '^later: no earlier evaluation recorded$'
	run slo status fast --at "$END" --prometheus http://127.0.0.1:9 -o nagios
	expect_rc 3
	expect_out '^SLO UNKNOWN - 1 of 1 SLOs unknown: fast Prometheus unreachable'
	# The unknown runs are recorded too, without values.
	[ "$(sql "SELECT count(*) FROM slo_results WHERE slo = 'fast' AND state = 'unknown' AND sli IS NULL")" = 3 ] ||
		fail "unknown evaluations not recorded: $(sql 'SELECT slo, state, sli FROM slo_results')"
}

test_slo_not_prometheus() {
	slo_conf
	run slo status fast --at "$END" --prometheus "$MC_TEST_RECEIVER/html" --json
	expect_rc 3
	expect_json '.slos.fast.error == "HTTP 200 and not a Prometheus API answer (an HTML page)"'
	run slo status fast --at "$END" --prometheus "$MC_TEST_RECEIVER/malformed" --json
	expect_rc 3
	expect_json '.slos.fast.error | test("^HTTP 200 and not a Prometheus API answer \\(.+\\)$")'
	run slo status fast --at "$END" --prometheus "$MC_TEST_RECEIVER/some/json" --json
	expect_rc 3
	expect_json '.slos.fast.error | test("no \"status\": \"success\"")'
	run slo status fast --at "$END" --prometheus "$MC_TEST_RECEIVER/status/404/x" -o nagios
	expect_rc 3
	expect_out '^SLO UNKNOWN - .*HTTP 404'
}

test_slo_queries_run_concurrently() {
	local pfx="/delay/300/conc-$$-$RANDOM"
	slo_conf
	# Each of the 32 queries of two SLOs waits 300 ms at the receiver; one
	# after another they would take 9.6 s.
	run slo status fast steady --at "$END" --prometheus "$MC_TEST_RECEIVER$pfx" --json
	expect_rc 3
	expect_json '.queries == 32'
	curl -sf "$MC_TEST_RECEIVER/_stats?path_prefix=$pfx/" |
		jq -e '.count == 32 and .max_inflight == 32' >/dev/null ||
		fail "not concurrent: $(curl -sf "$MC_TEST_RECEIVER/_stats?path_prefix=$pfx/")"
	expect_json '.duration_ms < 3000'
	# Every query asked for the same instant, with the run's correlation id.
	curl -sf "$MC_TEST_RECEIVER/_requests?path_prefix=$pfx/" |
		jq -e --arg t "time=$END.000" --arg c "$(jq -r .correlation_id "$OUT")" \
		'length == 32 and all(.[]; (.query | split("&") | index($t)) and
		 .headers["X-Correlation-ID"] == $c)' \
		>/dev/null || fail "queries not all at $END with the correlation id"
}

test_slo_breaker_stops_asking() {
	slo_conf "[slo \"flaky\"]
objective = 99.9
error_query = e[{{window}}]
total_query = t[{{window}}]
breaker_failures = 1
breaker_recovery = 1h"
	run slo status flaky --at "$END" --prometheus "$MC_TEST_RECEIVER/status/503/brk-$$-$RANDOM" --json
	expect_rc 3
	expect_json '.slos.flaky.error | test("HTTP 503")'
	local again="/status/503/brk-$$-$RANDOM"
	run slo status flaky --at "$END" --prometheus "$MC_TEST_RECEIVER$again" --json
	expect_rc 3
	expect_json '.slos.flaky.error | test("^circuit breaker open")'
	expect_json '.queries == 0'
	receiver_got "$again" && fail "an open breaker still sent queries"
	run breaker list --json
	expect_json '.breakers[] | select(.name == "slo flaky") | .state == "open"'
}

test_slo_bad_config() {
	local base="[slo \"a\"]
error_query = e[{{window}}]
total_query = t[{{window}}]"
	conf "$base
objective = 100"
	run slo status
	expect_rc 78
	expect_one_err_line
	expect_err "mercury\.conf:4: \[slo \"a\"\] objective must be above 0 and below 100"
	run slo status --json
	expect_rc 78
	expect_json '.exit_code == 78 and (.error | test("objective"))'
	conf "$base
objective = 0"
	run slo status
	expect_rc 78
	expect_err 'objective must be above 0'
	conf "$base
objective = 99.9
window = 2d"
	run slo status
	expect_rc 78
	expect_one_err_line
	expect_err 'mercury\.conf:5: \[slo "a"\] window 2d is shorter than the longest burn window 3d'
	conf "[slo \"a\"]
objective = 99.9
error_query = sum(rate(e[5m]))
total_query = t[{{window}}]"
	run slo status
	expect_rc 78
	expect_err 'mercury\.conf:3: \[slo "a"\] error_query has no \{\{window\}\} placeholder'
	run config check
	expect_rc 78
	run slo status -o nagios
	expect_rc 3
}

test_slo_usage_errors() {
	slo_conf
	run slo status fsat
	expect_rc 64
	expect_one_err_line
	expect_err "no SLO named 'fsat' is configured \(did you mean 'fast'\?\)"
	run slo history nope
	expect_rc 64
	run slo rules nope
	expect_rc 64
	run slo history
	expect_rc 64
	run slo status --at yesterday --json
	expect_rc 64
	expect_json '.error | test("--at: bad time .yesterday.")'
	conf "[core]"
	run slo status
	expect_rc 64
	expect_err 'no \[slo "NAME"\] section is configured'
}

test_slo_history_over_time() {
	local t
	slo_conf
	# Four evaluations of fast: 3h, 2h, 1h and 0h before the end of data.
	for t in 10800 7200 3600 0; do
		run slo status fast --at $((END - t))
	done
	run slo history fast --since 1d --json
	expect_rc 0
	expect_json '.slo == "fast" and .evaluations == 4 and (.cells | length) == 60'
	jq -e --slurpfile exp "$EXP" "$JQ_CLOSE"'
		close(.current.budget_remaining; $exp[0].slos.fast.remaining) and
		close(.max_worst_burn; [$exp[0].slos.fast.burn[]] | max) and
		.current.state == $exp[0].slos.fast.state' "$OUT" >/dev/null ||
		fail "history current: $(jq -c .current "$OUT")"
	expect_json '(.sparklines.budget_remaining | length) == 60 and (.sparklines.state | test("█"))'
	expect_json '[.cells[] | select(.state != null)] | length == 4'
	run slo history fast --since 1d
	expect_rc 0
	# Before the last hour fast burns at its baseline (ok); then it pages.
	expect_out '^SLO fast: 4 evaluations, 1 state change, '
	expect_out "^budget remaining  [▁▂▃▄▅▆▇█·]{60}  now $(fmt %.1f '.slos.fast.remaining * 100')%"
	expect_out "^worst burn rate   [▁▂▃▄▅▆▇█·]{60}  now $(fmt %.3g '[.slos.fast.burn[]] | max'), highest $(fmt %.3g '[.slos.fast.burn[]] | max') "
	expect_out "^state             [▁▄▆█·]{60}  now $(jq -r .slos.fast.state "$EXP")\$"
	run slo history steady
	expect_rc 0
	expect_out "no evaluations of SLO 'steady' in the span"
}

test_slo_rules_pass_promtool() {
	conf "[slo \"checkout\"]
objective = 99.9
error_query = sum(rate(http_requests_total{job=\"checkout\",code=~\"5..\"}[{{window}}]))
total_query = sum(rate(http_requests_total{job=\"checkout\"}[{{window}}]))
[slo \"search\"]
objective = 99.9
error_query = sum(rate(http_requests_total{job=\"search\",code=~\"5..\"}[{{window}}]))
total_query = sum(rate(http_requests_total{job=\"search\"}[{{window}}]))
[slo \"guarded o'ne\\\\\"]
objective = 99.5
window = 7d
min_rate = 1
page = 1h 5m 2%
ticket = none
error_query = sum(rate(x{code=~\"5..\"}[{{window}}]))
total_query = sum(rate(x[{{window}}]))"
	run slo rules
	expect_rc 0
	mkdir -p "$T_DIR/rules"
	cp "$OUT" "$T_DIR/rules/all.yml"
	promtool check rules "$T_DIR/rules/all.yml" >"$T_DIR/check.log" 2>&1 ||
		fail "promtool check rules: $(cat "$T_DIR/check.log")"
	grep -q 'SUCCESS: 30 rules found' "$T_DIR/check.log" ||
		fail "rule count: $(cat "$T_DIR/check.log")"
	# The page alert fires on a 20x burn and not on 2x.
	run slo rules checkout search
	cp "$OUT" "$T_DIR/rules/slo_rules.yml"
	cp "$MC_SRC/tests/slo/rules_test.yml" "$T_DIR/rules/"
	promtool test rules "$T_DIR/rules/rules_test.yml" >"$T_DIR/test.log" 2>&1 ||
		fail "promtool test rules: $(cat "$T_DIR/test.log")"
	run slo rules search --json
	expect_json '.rules | test("alert: MercurySLOBurnRatePage")'
}

test_slo_prometheus_credentials_never_shown() {
	slo_conf
	run slo status fast --at "$END" --prometheus "http://mc:pr0m-s3cret-pw@127.0.0.1:9" --json
	expect_rc 3
	expect_json '.prometheus | test("^http://mc:\\*+@127\\.0\\.0\\.1:9")'
	expect_no_out 'pr0m-s3cret-pw'
	expect_no_err 'pr0m-s3cret-pw'
	run slo status fast --at "$END" --prometheus "http://mc:pr0m-s3cret-pw@127.0.0.1:9"
	expect_no_out 'pr0m-s3cret-pw'
	[ -z "$(sql "SELECT 1 FROM runs WHERE args LIKE '%pr0m-s3cret-pw%' UNION ALL SELECT 1 FROM slo_results WHERE message LIKE '%pr0m-s3cret-pw%'")" ] ||
		fail "the password is in the state file"
}

# const_slo NAME OBJECTIVE ERRORS TOTAL: an [slo] section whose queries are
# constants (no data needed): the error ratio is ERRORS / TOTAL in every
# window.
const_slo() {
	printf '[slo "%s"]\nobjective = %s\n' "$1" "$2"
	printf 'error_query = sum(rate(mc_none_total[{{window}}])) or vector(%s)\n' "$3"
	printf 'total_query = sum(rate(mc_none_total[{{window}}])) or vector(%s)\n' "$4"
}

test_slo_status_at_in_the_future_is_refused() {
	# Prometheus has no samples after now: a later instant would judge an
	# empty window as a clean one. 64, naming the option, before any query.
	conf "[core]
prometheus_url = $MC_TEST_PROMETHEUS
$(const_slo s 99.9 1 1000)"
	local later
	later=$(($(date +%s) + 3600))
	run slo status --at "$later" --json
	expect_rc 64
	expect_json '(.error | test("--at: .*future")) and .exit_code == 64'
	run slo status --at "$(date -u -d "@$later" +%Y-%m-%dT%H:%M:%SZ)"
	expect_rc 64
	expect_err '--at: .*future'
	run -o nagios slo status --at "$later"
	expect_rc 3
	expect_out '^UNKNOWN - |UNKNOWN - .*--at'
	# a minute ago is fine
	run slo status --at "$(($(date +%s) - 60))" --json
	expect_rc 0
	expect_json '.slos.s.state == "ok"'
}

test_slo_ratios_are_the_decimals_written() {
	# 99.9 as a ratio is 0.999 (the double nearest), not 99.9 / 100 =
	# 0.9990000000000001; the SLI ratio is 1 - errors/total, not sli/100.
	conf "[core]
prometheus_url = $MC_TEST_PROMETHEUS
$(const_slo s 99.9 1 1000)
$(const_slo t 99.7% 3 1000)"
	run -o prom slo status
	expect_rc 0
	expect_out '^mercury_slo_objective_ratio\{slo="s"\} 0\.999$'
	expect_out '^mercury_slo_objective_ratio\{slo="t"\} 0\.997$'
	expect_out '^mercury_slo_sli_ratio\{slo="s"\} 0\.999$'
	expect_out '^mercury_slo_sli_ratio\{slo="t"\} 0\.997$'
	run slo status --json
	expect_json '.slos.s.objective == 99.9 and .slos.s.error_budget.total == 0.001'
}
