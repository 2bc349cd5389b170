#!/bin/bash
# Benchmark of `mercuryctl slo status` on 20 SLOs against a real Prometheus
# loaded with the scenarios of scripts/slo_data.py (31 days at 60 s steps),
# beside peers measured in the same invocation against the same server:
#   - the slowest single query: each distinct query of the run asked alone
#     with curl, the median of SLO_QUERY_RUNS tries, the largest of those;
#   - the same queries one after another with `promtool query instant`;
#   - the same queries all at once from one curl process (--parallel):
#     how fast this Prometheus answers them at all, the floor.
# Every SLO asks 16 queries (error and total over 5m, 30m, 1h, 2h, 6h, 1d,
# 3d and the 30d SLO window), 320 in all, at one instant (--at the end of
# the data). Prints a Markdown section on stdout; progress goes to stderr.
#
#   MC_BUILD        build directory (default build)
#   SLO_RUNS        hyperfine runs of mercuryctl (default 21)
#   SLO_QUERY_RUNS  tries of each single query (default 5; odd)
#   SLO_SEQ_RUNS    runs of the promtool sequence (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${MC_BUILD:-build}
case $B in /*) BIN=$B/mercuryctl ;; *) BIN=$PWD/$B/mercuryctl ;; esac
RUNS=${SLO_RUNS:-21}
QRUNS=${SLO_QUERY_RUNS:-5}
SEQ_RUNS=${SLO_SEQ_RUNS:-3}
N_SLOS=20

die() { echo "bench_slo: $*" >&2; exit 1; }
say() { echo "bench_slo: $*" >&2; }

[ -x "$BIN" ] || die "$BIN missing (make first)"
for t in promtool prometheus hyperfine curl jq; do
	command -v "$t" >/dev/null || die "$t missing (make deps)"
done

tmp=$(mktemp -d /tmp/mercury-bench-slo.XXXXXX)
trap 'scripts/servers.sh stop "$tmp/servers"; rm -rf "$tmp"' EXIT
export MERCURY_STATE=$tmp/state/state.db HOME=$tmp
unset MERCURY_CONFIG XDG_CONFIG_HOME

say "generating and backfilling the scenarios"
END=$(/usr/bin/python3 scripts/slo_data.py "$tmp/slo")
promtool tsdb create-blocks-from openmetrics --max-block-duration=24h \
	"$tmp/slo/slo.om" "$tmp/slo/tsdb" >"$tmp/promtool.log" 2>&1 ||
	die "backfill failed: $(tail -n 5 "$tmp/promtool.log")"
rm -f "$tmp/slo/slo.om"
MC_PROM_DATA=$tmp/slo/tsdb scripts/servers.sh start "$tmp/servers" >&2
# shellcheck disable=SC1091
. "$tmp/servers/env"
PROM=$MC_TEST_PROMETHEUS

# 20 SLOs over the five scenarios (each four times, under its own name).
scenarios=(steady fast daily slow idle)
{
	printf '[core]\nprometheus_url = %s\n' "$PROM"
	for i in $(seq 0 $((N_SLOS - 1))); do
		s=${scenarios[$((i % ${#scenarios[@]}))]}
		printf '[slo "%s-%d"]\nobjective = 99.9\n' "$s" "$i"
		printf 'error_query = sum(rate(slo_requests_total{scenario="%s",code="500"}[{{window}}]))\n' "$s"
		printf 'total_query = sum(rate(slo_requests_total{scenario="%s"}[{{window}}]))\n' "$s"
	done
} >"$tmp/slo.conf"

"$BIN" -c "$tmp/slo.conf" slo status --at "$END" --json >"$tmp/run.json" || true
n_queries=$(jq .queries "$tmp/run.json")
[ "$n_queries" = $((N_SLOS * 16)) ] || die "expected $((N_SLOS * 16)) queries, the run sent $n_queries"
jq -e '[.slos[].state] | all(. != "unknown")' "$tmp/run.json" >/dev/null ||
	die "an SLO came back unknown: $(jq -c '[.slos[] | .error] | unique' "$tmp/run.json")"

# The queries of the run, as mercuryctl expands them.
windows=(5m 30m 1h 2h 6h 1d 3d 30d)
: >"$tmp/queries"
for i in $(seq 0 $((N_SLOS - 1))); do
	s=${scenarios[$((i % ${#scenarios[@]}))]}
	for w in "${windows[@]}"; do
		printf 'sum(rate(slo_requests_total{scenario="%s",code="500"}[%s]))\n' "$s" "$w"
		printf 'sum(rate(slo_requests_total{scenario="%s"}[%s]))\n' "$s" "$w"
	done >>"$tmp/queries"
done
[ "$(wc -l <"$tmp/queries")" = "$n_queries" ] || die "query list and run disagree"

say "mercuryctl slo status: $N_SLOS SLOs, $n_queries queries ($RUNS runs)"
hyperfine -N -i --warmup 3 --runs "$RUNS" --export-json "$tmp/mc.json" \
	"$BIN -c $tmp/slo.conf slo status --at $END" >&2
mc_ms=$(jq -r '.results[0].median * 1000' "$tmp/mc.json")

say "each distinct query alone with curl (median of $QRUNS)"
slowest=0 slowest_q=""
while read -r q; do
	t=$(for _ in $(seq 1 "$QRUNS"); do
		curl -sf -o /dev/null -w '%{time_total}\n' "$PROM/api/v1/query" \
			--data-urlencode "query=$q" --data-urlencode "time=$END" -G
	done | sort -n | sed -n "$(((QRUNS + 1) / 2))p")
	if awk -v a="$t" -v b="$slowest" 'BEGIN { exit !(a > b) }'; then
		slowest=$t slowest_q=$q
	fi
done < <(sort -u "$tmp/queries")
slowest_ms=$(awk -v a="$slowest" 'BEGIN { printf "%.3f", a * 1000 }')

say "the same $n_queries queries one after another with promtool query instant"
{
	echo '#!/bin/sh'
	while read -r q; do
		printf "promtool query instant --time=%s '%s' '%s' >/dev/null || exit 1\n" \
			"$END" "$PROM" "$q"
	done <"$tmp/queries"
} >"$tmp/seq.sh"
chmod +x "$tmp/seq.sh"
hyperfine -N --runs "$SEQ_RUNS" --export-json "$tmp/seq.json" "$tmp/seq.sh" >&2
seq_ms=$(jq -r '.results[0].median * 1000' "$tmp/seq.json")

say "the same $n_queries queries at once: curl --parallel"
while read -r q; do
	printf 'url = "%s/api/v1/query?query=%s&time=%s"\noutput = "/dev/null"\n' \
		"$PROM" "$(jq -rn --arg q "$q" '$q | @uri')" "$END"
done <"$tmp/queries" >"$tmp/curl.cfg"
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$tmp/par.json" \
	"curl -sf --parallel --parallel-max $n_queries -K $tmp/curl.cfg" >&2
par_ms=$(jq -r '.results[0].median * 1000' "$tmp/par.json")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
fmt() { awk -v a="$1" 'BEGIN { printf "%.1f", a }'; }
atmost() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? "yes" : "NO" }'; }

cat <<MD

## \`slo status\`: $N_SLOS SLOs, $n_queries Prometheus queries

Prometheus $(prometheus --version 2>&1 | awk 'NR == 1 { print $3 }') on loopback, its TSDB backfilled by
\`promtool tsdb create-blocks-from openmetrics\` with scripts/slo_data.py's
scenarios (10 series, 31 days at 60 s steps). $N_SLOS SLOs over them, 16
queries each (error and total over 5m, 30m, 1h, 2h, 6h, 1d, 3d and the 30d
window), all evaluated at the end of the data. mercuryctl asks them all
concurrently on one libcurl multi handle; its time is the whole process
(start, configuration, state file, queries, evaluation, recording).
The slowest single query is the slowest of the distinct queries asked
alone with curl (median of $QRUNS tries each): \`$slowest_q\`.
The sequential peer asks the same $n_queries queries one after another with
\`promtool query instant\` (one process each); the parallel one asks them
all at once from one \`curl --parallel\` process, which is as fast as this
Prometheus answers them at all.

| | median | ratio to the slowest single query | ratio to mercuryctl |
|---|---|---|---|
| mercuryctl slo status ($n_queries queries) | $(fmt "$mc_ms") ms | $(ratio "$mc_ms" "$slowest_ms") | 1.00 |
| slowest single query (curl) | $(fmt "$slowest_ms") ms | 1.00 | $(ratio "$slowest_ms" "$mc_ms") |
| promtool query instant, one after another | $(fmt "$seq_ms") ms | $(ratio "$seq_ms" "$slowest_ms") | $(ratio "$seq_ms" "$mc_ms") |
| curl --parallel, all at once | $(fmt "$par_ms") ms | $(ratio "$par_ms" "$slowest_ms") | $(ratio "$par_ms" "$mc_ms") |

Goal: at most 2x the slowest single query ($(atmost "$(ratio "$mc_ms" "$slowest_ms")" 2)).
Where it is not met, compare mercuryctl with \`curl --parallel\`: the same
queries sent at once by a bare HTTP client take as long, so the time is
Prometheus's work on this machine's $(nproc) cores (the 30d windows read
43,200 samples a series), not queries waiting on each other in mercuryctl.
MD
