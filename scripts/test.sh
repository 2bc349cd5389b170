#!/bin/bash
# Runs every test: starts the real servers on loopback, runs the Criterion
# unit tests and the CLI tests against the built binary, stops the servers.
#   MC_BUILD     build directory (default build)
#   MC_VALGRIND  1: run the unit tests and the CLI tests' mercuryctl under
#                valgrind, the two side by side
set -u
cd "$(dirname "$0")/.."
B=${MC_BUILD:-build}
tmp=$(mktemp -d /tmp/mercury-test.XXXXXX)
unit=
cleanup() {
	[ -z "$unit" ] || kill "$unit" 2>/dev/null	# the unit tests, run aside
	scripts/servers.sh stop "$tmp/servers"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# SLO scenarios: request counters whose error ratios over every window are
# known exactly, backfilled into the test Prometheus's TSDB; the expected
# results, computed from the same counters, go to tests/cli/70-slo.sh.
slo=$tmp/slo
MC_TEST_SLO_END=$(/usr/bin/python3 scripts/slo_data.py "$slo") || exit 1
timeout 300 promtool tsdb create-blocks-from openmetrics \
	--max-block-duration=24h "$slo/slo.om" "$slo/tsdb" >"$slo/promtool.log" 2>&1 ||
	{ cat "$slo/promtool.log" >&2; exit 1; }
rm -f "$slo/slo.om"
export MC_PROM_DATA=$slo/tsdb MC_TEST_SLO_END MC_TEST_SLO_EXPECTED=$slo/expected.json

# The servers end after MC_SERVER_LIFETIME (30 minutes by default, so a
# crashed run leaves nothing); under valgrind the suite runs longer.
[ "${MC_VALGRIND:-0}" = 1 ] && export MC_SERVER_LIFETIME=${MC_SERVER_LIFETIME:-7800}
scripts/servers.sh start "$tmp/servers" || exit 1
# shellcheck disable=SC1091
. "$tmp/servers/env"
export MC_BIN=$PWD/$B/mercuryctl MC_GENDOC=$PWD/$B/gendoc MC_SRC=$PWD
if [ "${MC_VALGRIND:-0}" = 1 ]; then
	export MC_WRAP="valgrind -q --error-exitcode=99 --leak-check=full \
--errors-for-leak-kinds=definite --show-leak-kinds=definite \
--suppressions=$PWD/scripts/valgrind.supp"
fi

# Under make asan: LeakSanitizer ignores third-party leaks listed there.
export LSAN_OPTIONS=suppressions=$PWD/scripts/lsan.supp:print_suppressions=0

status=0
if [ "${MC_VALGRIND:-0}" = 1 ]; then
	# Every test process (each Criterion test, each mercuryctl run of the
	# CLI suite) costs about a CPU-second of valgrind start-up: each half
	# takes 25-35 minutes on 2 shared cores. They run side by side (the
	# CLI suite is one process at a time, often waiting on a server), the
	# unit tests' output shown when both are done.
	# valgrind's exit code does not see inside Criterion's forked test
	# processes: its logs are read instead. Children are traced (forked
	# tests), but not third-party programs the tests run (Nagios plugins,
	# sh): their leaks are not ours.
	mkdir -p "$tmp/vg"
	HOME=$tmp/home timeout 3600 valgrind -q --trace-children=yes \
		--trace-children-skip='/usr/*,/bin/*,*/tests/plugins/*' \
		--leak-check=full --errors-for-leak-kinds=definite \
		--show-leak-kinds=definite --suppressions=scripts/valgrind.supp \
		--log-file="$tmp/vg/%p" "$B/unit-tests" --jobs 2 \
		>"$tmp/unit.out" 2>&1 &
	unit=$!
	echo "== CLI tests (the unit tests run meanwhile)"
	timeout 3600 tests/cli/run.sh || status=1
	wait "$unit" || status=1
	unit=
	echo "== unit tests ($B/unit-tests)"
	cat "$tmp/unit.out"
	if [ -n "$(cat "$tmp"/vg/* 2>/dev/null)" ]; then
		echo "valgrind reported errors in the unit tests:" >&2
		cat "$tmp"/vg/* >&2
		status=1
	fi
	exit $status
fi
echo "== unit tests ($B/unit-tests)"
# A fresh HOME so nothing leaks between tests or into ~.
HOME=$tmp/home timeout 600 "$B/unit-tests" --jobs 2 || status=1
echo "== CLI tests"
timeout 900 tests/cli/run.sh || status=1
exit $status
