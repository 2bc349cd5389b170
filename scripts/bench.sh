#!/bin/bash
# Benchmarks, each figure beside a peer measured in the same invocation on
# the same machine; results written to docs/BENCHMARKS.md. The machine is
# noisy: medians and ratios, not single runs.
#   MC_BUILD   build directory (default build)
#   RUNS       hyperfine runs per command (default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${MC_BUILD:-build}
BIN=$PWD/$B/mercuryctl
RUNS=${RUNS:-200}
tmp=$(mktemp -d /tmp/mercury-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export MERCURY_STATE=$tmp/state/state.db HOME=$tmp
unset MERCURY_CONFIG XDG_CONFIG_HOME

# median_ms JSON INDEX: the median of hyperfine's result INDEX, in ms.
median_ms() { jq -r ".results[$2].median * 1000" "$1"; }

# peak_rss_kb CMD...: the median over 21 runs of /usr/bin/time's max RSS.
peak_rss_kb() {
	local i
	for i in $(seq 1 21); do
		/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1
	done | sort -n | sed -n 11p
}

"$BIN" health >/dev/null || true	# create the state file first

echo "bench: --version against curl --version ($RUNS runs each)" >&2
hyperfine -N --warmup 20 --runs "$RUNS" --export-json "$tmp/version.json" \
	"$BIN --version" "curl --version" >&2
echo "bench: health on built-in defaults" >&2
hyperfine -N --warmup 10 --runs "$RUNS" --export-json "$tmp/health.json" \
	"$BIN health" >&2

v_mc=$(median_ms "$tmp/version.json" 0)
v_curl=$(median_ms "$tmp/version.json" 1)
h_mc=$(median_ms "$tmp/health.json" 0)
rss_mc=$(peak_rss_kb "$BIN" --version)
rss_curl=$(peak_rss_kb curl --version)
rss_health=$(peak_rss_kb "$BIN" health)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
fmt() { awk -v a="$1" 'BEGIN { printf "%.2f", a }'; }
verdict() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b) ? "yes" : "NO" }'; }

mkdir -p docs
cat >docs/BENCHMARKS.md <<MD
# Benchmarks

Written by \`make bench\` (scripts/bench.sh) on $(date -u +%Y-%m-%d), $(nproc) cores,
$(uname -sr). Times are hyperfine medians over $RUNS runs without a shell
(\`-N\`); peak RSS is the median of 21 runs of \`/usr/bin/time -f %M\`. Each
figure stands beside a peer measured in the same invocation.

## Start-up: \`mercuryctl --version\` against \`curl --version\`

\`curl --version\` is the reference: a C binary with libcurl (and so OpenSSL)
loaded, as mercuryctl has.

| | median | peak RSS |
|---|---|---|
| mercuryctl --version | $(fmt "$v_mc") ms | $rss_mc KiB |
| curl --version | $(fmt "$v_curl") ms | $rss_curl KiB |
| ratio (mercuryctl / curl) | $(ratio "$v_mc" "$v_curl") | $(ratio "$rss_mc" "$rss_curl") |

Goals: median under 5 ms ($(verdict "$v_mc" 5)), peak RSS under 8 MB
($(verdict "$rss_mc" 8192)), within 2x of curl ($(verdict "$(ratio "$v_mc" "$v_curl")" 2)).

## \`mercuryctl health\` on the built-in defaults

Opens (and on first use creates) the state file, records the run, runs the
state, disk and memory checks, records the results, prints the table.

| | median | peak RSS |
|---|---|---|
| mercuryctl health | $(fmt "$h_mc") ms | $rss_health KiB |
| ratio to \`curl --version\` | $(ratio "$h_mc" "$v_curl") | |

Goal: median under 25 ms ($(verdict "$h_mc" 25)).
MD
cat docs/BENCHMARKS.md
