#!/bin/bash
# Builds each libFuzzer target in tests/fuzz/ with clang (ASan + UBSan) and
# runs it for FUZZ_SECONDS (default 60), seeded from tests/fuzz/corpus/NAME.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${MC_BUILD:-build-fuzz}
SECS=${FUZZ_SECONDS:-60}
mkdir -p "$B"
command -v clang >/dev/null || { echo "fuzz: clang is needed (apt-get install clang)" >&2; exit 1; }
PKGS="libcurl sqlite3 jansson hiredis inih libcrypto libzstd"  # fuzzers link everything
FLAGS="-std=c11 -g -O1 -D_GNU_SOURCE -DMC_VERSION=\"fuzz\" -Ilib -fsanitize=fuzzer,address,undefined"
for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	# shellcheck disable=SC2046,SC2086
	clang $FLAGS $(pkg-config --cflags $PKGS) -o "$B/$name" "$src" lib/*.c \
		$(pkg-config --libs $PKGS) -lm
	corpus=$B/corpus-$name
	mkdir -p "$corpus"
	[ -d "tests/fuzz/corpus/$name" ] && cp -n tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true
	echo "fuzz: $name for ${SECS}s" >&2
	"$B/$name" -max_total_time="$SECS" -max_len=4096 "$corpus" 2>&1 | tail -n 3
done
