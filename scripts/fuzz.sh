#!/bin/bash
# Builds each libFuzzer target in tests/fuzz/ with clang (ASan + UBSan) and
# runs it for FUZZ_SECONDS (default 60), seeded from tests/fuzz/corpus/NAME.
#   scripts/fuzz.sh [NAME...]   only these targets (fuzz_config, fuzz_cli...)
# FUZZ_BUILD_ONLY=1 builds without running. A crash, leak or timeout fails
# the script, with the reproducer left in the build directory.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${MC_BUILD:-build-fuzz}
SECS=${FUZZ_SECONDS:-60}
mkdir -p "$B"
command -v clang >/dev/null || { echo "fuzz: clang is needed (apt-get install clang)" >&2; exit 1; }
# Fuzzers link everything: the Makefile's packages, one list for both.
PKGS="libcurl $(sed -n 's/^PKGS *:= *//p' Makefile) $(sed -n 's/^LAZY_PKGS *:= *//p' Makefile)"
FLAGS="-std=c11 -g -O1 -D_GNU_SOURCE -DMC_VERSION=\"fuzz\" -Ilib -Icmd -fsanitize=address,undefined"
# The command table (for the CLI parser) comes with cmd/, without main().
CMD_SRC=$(ls cmd/*.c | grep -v '^cmd/main\.c$')
if [ $# -gt 0 ]; then
	targets=$(printf 'tests/fuzz/%s.c ' "$@")
else
	targets=$(ls tests/fuzz/fuzz_*.c)
fi
# The library is compiled once, then linked into each target.
O=$B/obj
mkdir -p "$O"
objs=""
for c in lib/*.c $CMD_SRC; do
	o=$O/$(echo "$c" | tr / _).o
	if [ ! -e "$o" ] || [ "$c" -nt "$o" ] ||
	   [ -n "$(find lib cmd -name "*.h" -newer "$o")" ]; then
		# shellcheck disable=SC2046,SC2086
		clang $FLAGS -fsanitize=fuzzer-no-link $(pkg-config --cflags $PKGS) \
			-c -o "$o" "$c"
	fi
	objs="$objs $o"
done
failed=0
for src in $targets; do
	name=$(basename "$src" .c)
	# shellcheck disable=SC2046,SC2086
	clang $FLAGS -fsanitize=fuzzer $(pkg-config --cflags $PKGS) -o "$B/$name" "$src" $objs \
		$(pkg-config --libs $PKGS) -lm -lpthread
	[ "${FUZZ_BUILD_ONLY:-0}" = 1 ] && continue
	corpus=$B/corpus-$name
	mkdir -p "$corpus"
	[ -d "tests/fuzz/corpus/$name" ] && cp -n tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true
	echo "fuzz: $name for ${SECS}s" >&2
	start=$SECONDS
	if (cd "$B" && "./$name" -max_total_time="$SECS" -max_len=4096 \
		-timeout=10 -rss_limit_mb=2048 "corpus-$name" >"$name.log" 2>&1); then
		echo "fuzz: $name clean after $((SECONDS - start))s: $(grep -E '^#[0-9]+' "$B/$name.log" | tail -n 1)" >&2
	else
		echo "fuzz: $name FAILED after $((SECONDS - start))s (see $B/$name.log)" >&2
		tail -n 30 "$B/$name.log" >&2
		failed=1
	fi
done
exit $failed
