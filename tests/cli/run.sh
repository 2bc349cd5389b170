#!/bin/bash
# Runs the CLI tests: every function named test_* in tests/cli/[0-9]*.sh,
# each in a subshell with its own HOME, config and state. Prints one line per
# failure and closes with "cli: N passed, M failed".
#   tests/cli/run.sh [PATTERN]   only tests whose name matches PATTERN
set -u
here=$(cd "$(dirname "$0")" && pwd)
pattern=${1:-}
passed=0 failed=0 failures=""
root=$(mktemp -d /tmp/mercury-cli.XXXXXX)
trap 'rm -rf "$root"' EXIT

for file in "$here"/[0-9]*.sh; do
	# A file that does not parse would lose its later tests silently.
	if ! bash -n "$file" 2>"$root/syntax"; then
		failed=$((failed + 1))
		echo "FAIL $(basename "$file"): does not parse"
		sed 's/^/    /' "$root/syntax"
		continue
	fi
	# shellcheck disable=SC1090
	tests=$(bash -c ". '$here/lib.sh'; . '$file'; declare -F" |
		awk '$3 ~ /^test_/ {print $3}')
	for t in $tests; do
		[ -n "$pattern" ] && [[ $t != *$pattern* ]] && continue
		dir=$root/$t
		mkdir -p "$dir"
		if (cd "$dir" && T_DIR=$dir bash -c ". '$here/lib.sh'; . '$file'; t_setup; $t; t_finish") \
			>"$dir/log" 2>&1; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
			failures="$failures $t"
			echo "FAIL $(basename "$file"): $t"
			sed 's/^/    /' "$dir/log" | tail -n 25
		fi
	done
done
echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
