#!/bin/bash
# Runs every test: starts the real servers on loopback, runs the Criterion
# unit tests and the CLI tests against the built binary, stops the servers.
#   MC_BUILD     build directory (default build)
#   MC_VALGRIND  1: run the CLI tests' mercuryctl under valgrind
set -u
cd "$(dirname "$0")/.."
B=${MC_BUILD:-build}
tmp=$(mktemp -d /tmp/mercury-test.XXXXXX)
cleanup() { scripts/servers.sh stop "$tmp/servers"; rm -rf "$tmp"; }
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
echo "== unit tests ($B/unit-tests)"
# A fresh HOME so nothing leaks between tests or into ~.
if [ "${MC_VALGRIND:-0}" = 1 ]; then
	# valgrind's exit code does not see inside Criterion's forked test
	# processes: read its logs instead.
	# Children are traced (forked tests), but not third-party programs
	# the tests run (Nagios plugins, sh): their leaks are not ours.
	# Every Criterion test is a process of its own, and valgrind's
	# start-up costs each about a CPU-second: with the tests' own work,
	# 25-35 minutes on 2 shared cores (the bound leaves room for that).
	HOME=$tmp/home timeout 3600 valgrind -q --trace-children=yes \
		--trace-children-skip='/usr/*,/bin/*,*/tests/plugins/*' \
		--leak-check=full --errors-for-leak-kinds=definite \
		--show-leak-kinds=definite --suppressions=scripts/valgrind.supp \
		--log-file="$tmp/vg.%p" "$B/unit-tests" --jobs 2 || status=1
	if grep -l -E 'definitely lost: [1-9]|ERROR SUMMARY: [1-9]|Invalid (read|write)|uninitialised' \
		"$tmp"/vg.* >/dev/null 2>&1 || [ -n "$(cat "$tmp"/vg.* 2>/dev/null)" ]; then
		echo "valgrind reported errors in the unit tests:" >&2
		cat "$tmp"/vg.* >&2
		status=1
	fi
else
	HOME=$tmp/home timeout 600 "$B/unit-tests" --jobs 2 || status=1
fi
echo "== CLI tests"
# Under valgrind every mercuryctl run starts about a CPU-second slower.
timeout "$([ "${MC_VALGRIND:-0}" = 1 ] && echo 3600 || echo 900)" tests/cli/run.sh || status=1
exit $status
