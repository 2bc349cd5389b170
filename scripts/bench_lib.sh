#!/bin/bash
# bench_lib.sh - helpers the bench scripts share; sourced, not run.
# Needs $tmp (a scratch directory) set by the caller.
# shellcheck disable=SC2154

# alternate NAME RUNS CMD...: times the commands with hyperfine (no shell),
# RUNS runs of each, taken two at a time in turn (A A B B A A B B ...) after
# three warm-up runs of each, so that a shared machine whose load drifts
# slows each command alike rather than whichever ran last. $tmp/NAME.json
# then holds every run of each command, in hyperfine's layout
# (.results[i].times, .median) for median_ms, with .p10 the time the
# fastest tenth of the runs took at most (p10_ms) and .cpu the mean user +
# system time of a run (cpu_ms); ALT_EACH is how many times each command
# ran, its warm-up runs included.
alternate() {
	local name=$1 runs=$2 rounds r
	shift 2
	rounds=$(((runs + 1) / 2))
	for r in $(seq 1 "$rounds"); do
		hyperfine -N --style none --warmup $((r == 1 ? 3 : 0)) --runs 2 \
			--export-json "$tmp/$name.round$r.json" "$@" >&2
	done
	# shellcheck disable=SC2034	# read by the callers
	ALT_EACH=$((rounds * 2 + 3))
	jq -s '{results: [range(0; .[0].results | length) as $i
		| ([.[].results[$i] | .user + .system] | add / length) as $cpu
		| [.[].results[$i].times[]] | sort as $t
		| {times: $t, cpu: $cpu, p10: $t[($t | length) / 10 | floor],
		   median: (if ($t | length) % 2 == 1
			    then $t[($t | length - 1) / 2]
			    else ($t[($t | length) / 2 - 1] + $t[($t | length) / 2]) / 2
			    end)}]}' "$tmp/$name".round*.json >"$tmp/$name.json"
}

# median_ms JSON INDEX: the median of result INDEX, in ms; cpu_ms and
# p10_ms: its mean CPU time (user + system) and its fastest tenth, in ms
# (alternate's files only).
median_ms() { jq -r ".results[$2].median * 1000" "$1"; }
cpu_ms() { jq -r ".results[$2].cpu * 1000" "$1"; }
p10_ms() { jq -r ".results[$2].p10 * 1000" "$1"; }

# ratio A B: A / B to two decimals; fmt A: A to two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
fmt() { awk -v a="$1" 'BEGIN { printf "%.2f", a }'; }
# at_most A B: yes when A <= B, else NO.
at_most() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? "yes" : "NO" }'; }
