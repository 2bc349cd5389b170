#!/bin/bash
# Benchmark of one `http` check of a fast endpoint, and of what recording a
# run in the state file costs; each figure beside its peer in the same
# invocation, the commands alternating (scripts/bench_lib.sh):
#   - `mercuryctl health web` against `curl -sf -o /dev/null URL` (the peer
#     that loads the same chain of libraries) and Debian's check_http;
#   - `mercuryctl breaker list` (opens the state file, records the run's
#     start and end, looks for history to prune, reads an empty table,
#     closes) against `mercuryctl config check` (the same start-up and
#     configuration, no state file): the difference is the recording.
# Prints a Markdown section on stdout; progress goes to stderr. Needs the
# test servers' environment (MC_TEST_RECEIVER), as scripts/bench.sh sets it.
#
#   MC_BUILD    build directory (default build)
#   RUNS        runs of each command (default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${MC_BUILD:-build}
case $B in /*) BIN=$B/mercuryctl ;; *) BIN=$PWD/$B/mercuryctl ;; esac
RUNS=${RUNS:-200}
CHECK_HTTP=/usr/lib/nagios/plugins/check_http
die() { echo "bench_http_one: $*" >&2; exit 1; }
[ -n "${MC_TEST_RECEIVER:-}" ] || die "MC_TEST_RECEIVER is not set (start scripts/servers.sh)"
tmp=$(mktemp -d /tmp/mercury-bench-one.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=scripts/bench_lib.sh
. scripts/bench_lib.sh
export MERCURY_STATE=$tmp/state/state.db
RPORT=${MC_TEST_RECEIVER##*:}
URL=$MC_TEST_RECEIVER/status/200/one
printf '[check "web"]\ntype = http\nurl = %s\n' "$URL" >"$tmp/one.conf"
"$BIN" -c "$tmp/one.conf" health web >/dev/null || die "health web failed"

echo "bench: one http check: mercuryctl health web against curl and check_http" >&2
alternate one "$RUNS" \
	"$BIN -c $tmp/one.conf health web" \
	"curl -sf -o /dev/null $URL" \
	"$CHECK_HTTP -H 127.0.0.1 -p $RPORT -u /status/200/one"
echo "bench: recording a run: breaker list against config check" >&2
alternate rec "$RUNS" \
	"$BIN -c $tmp/one.conf breaker list" \
	"$BIN -c $tmp/one.conf config check"

one=$(median_ms "$tmp/one.json" 0)
one_curl=$(median_ms "$tmp/one.json" 1)
one_peer=$(median_ms "$tmp/one.json" 2)
rec=$(median_ms "$tmp/rec.json" 0)
norec=$(median_ms "$tmp/rec.json" 1)
c_one=$(cpu_ms "$tmp/one.json" 0)
c_curl=$(cpu_ms "$tmp/one.json" 1)
c_peer=$(cpu_ms "$tmp/one.json" 2)
c_rec=$(cpu_ms "$tmp/rec.json" 0)
c_norec=$(cpu_ms "$tmp/rec.json" 1)
p_rec=$(p10_ms "$tmp/rec.json" 0)
p_norec=$(p10_ms "$tmp/rec.json" 1)
cost=$(awk -v a="$rec" -v b="$norec" 'BEGIN { printf "%.2f", a - b }')
c_cost=$(awk -v a="$c_rec" -v b="$c_norec" 'BEGIN { printf "%.2f", a - b }')
p_cost=$(awk -v a="$p_rec" -v b="$p_norec" 'BEGIN { printf "%.2f", a - b }')
cat <<MD

## One \`http\` check of a fast endpoint

The test receiver's /status/200 route on loopback; medians of $RUNS runs
of each command (hyperfine -N), taken two at a time in turn, and the mean
CPU time (user + system) of a run, which a busy machine disturbs less. The
load average when this ran: $(cut -d' ' -f1-3 /proc/loadavg).

| | median | ratio to curl | CPU | ratio to curl |
|---|---|---|---|---|
| mercuryctl health web | $(fmt "$one") ms | $(ratio "$one" "$one_curl") | $(fmt "$c_one") ms | $(ratio "$c_one" "$c_curl") |
| curl -sf -o /dev/null URL | $(fmt "$one_curl") ms | 1.00 | $(fmt "$c_curl") ms | 1.00 |
| check_http | $(fmt "$one_peer") ms | $(ratio "$one_peer" "$one_curl") | $(fmt "$c_peer") ms | $(ratio "$c_peer" "$c_curl") |

mercuryctl's figure includes opening the state file, recording the run and
its result, and loading libcurl. curl is the peer that pays the same chain
of libraries (libcurl, OpenSSL, GnuTLS, nghttp2, ssh2, LDAP, Kerberos...);
check_http links none of it, which alone costs more than check_http's
whole run. Goal: at most 1.2x curl, by the medians ($(at_most "$(ratio "$one" "$one_curl")" 1.2)).

Recording a run in the state file: \`mercuryctl breaker list\` (opens the
state file, records the run's start and end, looks for history to prune,
reads one empty table, closes it) took $(fmt "$rec") ms, \`mercuryctl config
check\` on the same configuration (the same start-up and configuration
load, no state file) $(fmt "$norec") ms: the state file costs a run
$cost ms. On a busy machine the wall clock stretches the longer run more;
the fastest tenth of the runs differ by $p_cost ms ($(fmt "$p_rec") against
$(fmt "$p_norec") ms), their mean CPU times by $c_cost ms ($(fmt "$c_rec")
against $(fmt "$c_norec") ms). Goal: under 1 ms, by the medians
($(at_most "$cost" 1)); by the fastest tenth $(at_most "$p_cost" 1), by CPU
time $(at_most "$c_cost" 1).
MD
