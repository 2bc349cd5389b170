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
# Each test gets a fresh HOME so nothing leaks between tests or into ~.
HOME=$tmp/home timeout 600 "$B/unit-tests" --jobs 2 || status=1
echo "== CLI tests"
timeout 900 tests/cli/run.sh || status=1
exit $status
