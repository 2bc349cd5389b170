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
trap 'scripts/servers.sh stop "$tmp/servers"; rm -rf "$tmp"' EXIT
CHECK_HTTP=/usr/lib/nagios/plugins/check_http
export MERCURY_STATE=$tmp/state/state.db HOME=$tmp
unset MERCURY_CONFIG XDG_CONFIG_HOME

# shellcheck source=scripts/bench_lib.sh
. scripts/bench_lib.sh		# median_ms, ratio, fmt

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

# ---- health: 100 http checks, and one ------------------------------------
scripts/servers.sh start "$tmp/servers" >&2
# shellcheck disable=SC1091
. "$tmp/servers/env"
RPORT=${MC_TEST_RECEIVER##*:}
: >"$tmp/urls"
{
	for i in $(seq 0 99); do
		d=$((200 + i * 100 / 99))	# 200..300 ms
		echo "/delay/$d/bench-$i" >>"$tmp/urls"
		printf '[check "c%d"]\ntype = http\nurl = %s/delay/%d/bench-%d\ntimeout = 5s\n' \
			"$i" "$MC_TEST_RECEIVER" "$d" "$i"
	done
} >"$tmp/hundred.conf"
cat >"$tmp/seq.sh" <<SH
#!/bin/sh
while read -r u; do $CHECK_HTTP -H 127.0.0.1 -p $RPORT -u "\$u" -t 5 >/dev/null; done <"$tmp/urls"
SH
cat >"$tmp/par.sh" <<SH
#!/bin/sh
xargs -P 16 -I{} $CHECK_HTTP -H 127.0.0.1 -p $RPORT -u {} -t 5 <"$tmp/urls" >/dev/null
SH
chmod +x "$tmp/seq.sh" "$tmp/par.sh"
echo "bench: 100 http checks (200-300 ms each): mercuryctl, xargs -P16 check_http, check_http one by one" >&2
hyperfine -N --warmup 1 --runs 10 --export-json "$tmp/h100.json" \
	"$BIN -c $tmp/hundred.conf health" "$tmp/par.sh" >&2
hyperfine -N --runs 3 --export-json "$tmp/seq.json" "$tmp/seq.sh" >&2
h100=$(median_ms "$tmp/h100.json" 0)
par=$(median_ms "$tmp/h100.json" 1)
seq=$(median_ms "$tmp/seq.json" 0)
rss100=$(peak_rss_kb "$BIN" -c "$tmp/hundred.conf" health)

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

## 100 \`http\` checks against endpoints answering after 200-300 ms

The test receiver on loopback answers /delay/D after D ms; the 100 checks
ask D = 200..300 ms, so the slowest single endpoint takes 300 ms. The peers
check the same 100 URLs with Debian's \`check_http\`: one after another, and
16 at a time with \`xargs -P 16\`.

| | median | ratio to the slowest endpoint (300 ms) | ratio to mercuryctl |
|---|---|---|---|
| mercuryctl health (100 checks) | $(fmt "$h100") ms | $(ratio "$h100" 300) | 1.00 |
| xargs -P 16 check_http | $(fmt "$par") ms | $(ratio "$par" 300) | $(ratio "$par" "$h100") |
| check_http one after another | $(fmt "$seq") ms | $(ratio "$seq" 300) | $(ratio "$seq" "$h100") |

Peak RSS of the 100-check run: $rss100 KiB.
Goals: at most 1.25x the slowest endpoint ($(verdict "$(ratio "$h100" 300)" 1.2501)),
peak RSS under 16 MB ($(verdict "$rss100" 16384)).

MD
# one http check against curl and check_http, and the cost of recording.
MC_BUILD=$B RUNS=$RUNS scripts/bench_http_one.sh >>docs/BENCHMARKS.md
# dlq replay of 1,000,000 messages against a Python peer and redis-benchmark.
MC_BUILD=$B scripts/bench_dlq.sh >>docs/BENCHMARKS.md
# alert fan-out against apprise, on the receiver started above.
MC_BUILD=$B scripts/bench_alert.sh >>docs/BENCHMARKS.md
# slo status: 20 SLOs against a backfilled Prometheus, beside promtool.
MC_BUILD=$B scripts/bench_slo.sh >>docs/BENCHMARKS.md
# oauth token: fresh, refresh due, ten at once, on the test OAuth server.
MC_BUILD=$B scripts/bench_oauth.sh >>docs/BENCHMARKS.md
# backup create and verify of a 1 GiB state database, beside sqlite3,
# zstd, sha256sum and restic.
MC_BUILD=$B scripts/bench_backup.sh >>docs/BENCHMARKS.md
# job run: /bin/true beside chronic, and 1 GiB through it beside cat.
MC_BUILD=$B scripts/bench_job.sh >>docs/BENCHMARKS.md
cat docs/BENCHMARKS.md
