#!/bin/bash
# Benchmark of `job run`: what wrapping a job costs. Two figures, each
# beside its peers in the same invocation:
#   - `job run NAME -- /bin/true` against `/bin/true` itself and against
#     `chronic /bin/true` (moreutils, the usual cron wrapper): the time
#     mercuryctl adds (state file opened, start and end recorded, the
#     process tree reaped), median of hyperfine runs;
#   - `job run NAME -- cat FILE` with 1 GiB passing through to /dev/null
#     (its tail kept) against `cat FILE` alone: the throughput ratio; and
#     against `cat FILE | cat`, the least any wrapper that reads a job's
#     output through a pipe must pay.
# Prints a Markdown section on stdout; progress goes to stderr.
#
# The runs are split into rounds that alternate the commands (hyperfine
# runs one command's runs back to back), and the medians are taken over
# all rounds' runs: a machine whose load drifts during the benchmark then
# weighs on each command alike.
#
#   MC_BUILD    build directory (default build)
#   JOB_RUNS    hyperfine runs for the /bin/true figure (default 200)
#   CAT_RUNS    hyperfine runs for the 1 GiB figure (default 10)
#   ROUNDS      rounds the /bin/true runs are split into (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${MC_BUILD:-build}
case $B in /*) BIN=$B/mercuryctl ;; *) BIN=$PWD/$B/mercuryctl ;; esac
RUNS=${JOB_RUNS:-200}
CAT_RUNS=${CAT_RUNS:-10}
ROUNDS=${ROUNDS:-10}
die() { echo "bench_job: $*" >&2; exit 1; }
command -v chronic >/dev/null || die "chronic is missing: scripts/deps.sh bench installs moreutils"
command -v hyperfine >/dev/null || die "hyperfine is missing"
tmp=$(mktemp -d /tmp/mercury-bench-job.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export MERCURY_STATE=$tmp/state.db
printf '[job "bench"]\nkeep_output = 64KiB\n' >"$tmp/job.conf"
mc="$BIN -c $tmp/job.conf job run bench --"
$mc /bin/true || die "job run failed"	# the state file, created once

# rounds ROUNDS RUNS NAME [hyperfine options --] COMMAND...: ROUNDS
# hyperfine calls of RUNS/ROUNDS runs of every COMMAND, their JSON in
# $tmp/NAME.N.json.
rounds() {
	local n=$1 runs=$2 name=$3 i per
	shift 3
	per=$(( runs / n ))
	[ "$per" -ge 2 ] || per=2
	for i in $(seq "$n"); do
		hyperfine -N --runs "$per" --export-json "$tmp/$name.$i.json" "$@" >&2
	done
}
echo "bench: job run -- /bin/true against /bin/true and chronic /bin/true ($RUNS runs in $ROUNDS rounds)" >&2
hyperfine -N --warmup 20 --runs 2 "$mc /bin/true" "/bin/true" "chronic /bin/true" >/dev/null 2>&1
rounds "$ROUNDS" "$RUNS" true "$mc /bin/true" "/bin/true" "chronic /bin/true"

# CPU time (perf stat's task-clock, the command and its children) beside
# the wall-clock medians: on a busy machine it is the steadier figure.
# cpu_ms [-r N] COMMAND...: the mean over N runs (default 100).
cpu_ms() {
	local r=100
	[ "$1" = -r ] && { r=$2; shift 2; }
	command -v perf >/dev/null || { echo "n/a"; return; }
	perf stat -x, -e task-clock -r "$r" "$@" 2>&1 >/dev/null |
		awk -F, '$3 == "task-clock" { printf "%.2f", $1 }'
}
c_true=$(cpu_ms /bin/true)
c_chronic=$(cpu_ms chronic /bin/true)
# shellcheck disable=SC2086
c_job=$(cpu_ms $mc /bin/true)

head -c 1073741824 /dev/zero | tr '\0' 'x' >"$tmp/big"	# 1 GiB, in the page cache
cat "$tmp/big" >/dev/null
echo "bench: 1 GiB through job run -- cat against cat alone ($CAT_RUNS runs)" >&2
rounds $(( (CAT_RUNS + 1) / 2 )) "$CAT_RUNS" cat --output=null "$mc cat $tmp/big" "cat $tmp/big" \
	"sh -c 'cat $tmp/big | cat'"
# the tail was kept: the run recorded 1 GiB written and 64 KiB kept
total=$($BIN -c "$tmp/job.conf" job history bench -n 1 --json | jq '.runs[0].output_total')
[ "$total" = 1073741824 ] || die "job run saw $total bytes, not 1 GiB"
kept=$($BIN -c "$tmp/job.conf" job log bench --json | jq '.output_kept')
[ "$kept" = 65536 ] || die "job run kept $kept bytes, not 64 KiB"
k_cat=$(cpu_ms -r 3 cat "$tmp/big")
# shellcheck disable=SC2086
k_mc=$(cpu_ms -r 3 $mc cat "$tmp/big")

# ms NAME K: the median of command K's runs over every round, in ms.
ms() {
	jq -s -r "[.[].results[$2].times[]] | sort |
		if length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end * 1000" "$tmp/$1".*.json
}
fmt() { awk -v a="$1" 'BEGIN { printf "%.2f", a }'; }
m_mc=$(ms true 0)
m_true=$(ms true 1)
m_chronic=$(ms true 2)
added=$(awk -v a="$m_mc" -v b="$m_true" 'BEGIN { printf "%.2f", a - b }')
cpu_added=$(awk -v a="$c_job" -v b="$c_true" 'BEGIN { if (a == "n/a" || b == "n/a") print "n/a"; else printf "%.2f", a - b }')
c_mc=$(ms cat 0)
c_cat=$(ms cat 1)
gibs() { awk -v t="$1" 'BEGIN { printf "%.2f", 1024 / t }'; }	# GiB/s from ms
ratio=$(awk -v a="$c_cat" -v b="$c_mc" 'BEGIN { printf "%.2f", a / b }')
c_pipe=$(ms cat 2)
ratio_pipe=$(awk -v a="$c_pipe" -v b="$c_mc" 'BEGIN { printf "%.2f", a / b }')
verdict() { awk -v a="$1" -v b="$2" -v op="$3" 'BEGIN { ok = op == "le" ? a <= b : a >= b; print ok ? "yes" : "NO" }'; }
cat <<MD

## \`job run\`: what keeping a cron job costs

\`job run NAME -- COMMAND\` opens the state file, records the start before the
command starts and the end after it, runs the command in its own process
group (as a child subreaper, so the whole tree is reaped) and keeps the tail
of its output. Medians of hyperfine runs without a shell (\`-N\`).

| | median | added to /bin/true | CPU time (task-clock) |
|---|---|---|---|
| /bin/true | $(fmt "$m_true") ms | | $c_true ms |
| chronic /bin/true (moreutils) | $(fmt "$m_chronic") ms | $(awk -v a="$m_chronic" -v b="$m_true" 'BEGIN { printf "%.2f", a - b }') ms | $c_chronic ms |
| mercuryctl job run bench -- /bin/true | $(fmt "$m_mc") ms | $added ms | $c_job ms |

Goal: at most 5 ms added ($(verdict "$added" 5 le)). $RUNS runs each, in $ROUNDS
rounds that alternate the three commands; CPU
time is perf stat's mean task-clock over 100 runs (the command and its
children), which a busy machine disturbs less than the wall clock. The
load average when this ran: $(cut -d' ' -f1-3 /proc/loadavg).

CPU time added to /bin/true: $cpu_added ms. On a machine with more runnable
processes than cores the kernel's fair scheduler makes a process that has
used the CPU wait its turn after each sleep, and makes a new child wait for
the others: the wall-clock figure above then grows with the load (about
the CPU time added times the load per core), while on an idle machine it
is close to the CPU time added.

### 1 GiB of output through \`job run -- cat\`

\`cat FILE\` of a 1 GiB file in the page cache, its output to /dev/null,
alone and wrapped; the wrapped run passes every byte through (spliced from
the command's pipe; only what may still be in the tail is duplicated with
tee into the tail pipe, so only the 64 KiB tail is ever copied) and
recorded 1 GiB written, 64 KiB kept.

| | median | throughput | CPU time (task-clock) |
|---|---|---|---|
| cat | $(fmt "$c_cat") ms | $(gibs "$c_cat") GiB/s | $k_cat ms |
| mercuryctl job run bench -- cat | $(fmt "$c_mc") ms | $(gibs "$c_mc") GiB/s | $k_mc ms |
| cat FILE \| cat (any pipe's cost) | $(fmt "$c_pipe") ms | $(gibs "$c_pipe") GiB/s | |
| ratio (wrapped / alone) | | $ratio | |

Goal: at least 0.8x the throughput of cat alone ($(verdict "$ratio" 0.8 ge)).
Against \`cat FILE | cat\`, the cost of passing output through any pipe
(which every wrapper that keeps a tail pays; cat alone writes straight to
/dev/null): $ratio_pipe times its throughput. $CAT_RUNS runs each,
two at a time, alternating; CPU time is the mean of 3 runs (cat and
mercuryctl together for the wrapped run). The wrapping's work is cat's
copy into the pipe and mercuryctl's splices, done on the other core; on a
loaded machine the wrapped run, two processes each given their share of
the CPU, can beat cat alone on the wall clock.
MD
