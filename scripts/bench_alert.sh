#!/bin/bash
# Benchmark of alert fan-out: one alert to 20 `json` webhooks on loopback
# that each answer after 300 ms, `mercuryctl alert send` beside Debian's
# `apprise` CLI sending the same alert to the same 20 endpoints (json://
# URLs), and beside itself in a fleet ([fleet] on the test redis: dedup,
# buckets and breakers in Redis), measured in the same invocation against
# the same receiver.
# Prints a Markdown section on stdout; progress goes to stderr. Needs the
# test servers' environment (MC_TEST_RECEIVER), as scripts/bench.sh sets it.
#
#   MC_BUILD     build directory (default build)
#   ALERT_RUNS   hyperfine runs of each command (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${MC_BUILD:-build}
case $B in /*) BIN=$B/mercuryctl ;; *) BIN=$PWD/$B/mercuryctl ;; esac
RUNS=${ALERT_RUNS:-10}
N=20
DELAY=300
die() { echo "bench_alert: $*" >&2; exit 1; }
[ -n "${MC_TEST_RECEIVER:-}" ] || die "MC_TEST_RECEIVER is not set (start scripts/servers.sh)"
command -v apprise >/dev/null || die "apprise is missing: scripts/deps.sh bench installs it"
tmp=$(mktemp -d /tmp/mercury-bench-alert.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
hostport=${MC_TEST_RECEIVER#http://}

# The same 20 endpoints for both. mercuryctl's rate limit is opened wide
# and dedup is off (--no-dedup): the figure is the fan-out, and hyperfine
# sends the same alert again and again.
urls=()
for i in $(seq 1 $N); do
	printf '%s/delay/%d/bench-alert-%d\n' "$MC_TEST_RECEIVER" "$DELAY" "$i" >"$tmp/h$i.url"
	printf '[webhook "h%d"]\ntype = json\nurl_file = %s\nrate = 1000/s\nburst = 1000\n' \
		"$i" "$tmp/h$i.url" >>"$tmp/alert.conf"
	urls+=("json://$hostport/delay/$DELAY/bench-alert-$i")
done
export MERCURY_STATE=$tmp/state.db
[ -n "${MC_TEST_REDIS_URL:-}" ] || die "MC_TEST_REDIS_URL is not set (start scripts/servers.sh)"
cp "$tmp/alert.conf" "$tmp/fleet.conf"
printf '[fleet]\nredis_url = %s\nname = bench\nkey_prefix = bench-%s\n' \
	"$MC_TEST_REDIS_URL" "$$" >>"$tmp/fleet.conf"
mc="$BIN -c $tmp/alert.conf alert send --no-dedup --severity warning --summary 'bench: queue depth 1204' -q"
fleet="$BIN -c $tmp/fleet.conf --state $tmp/fleet.db alert send --no-dedup --severity warning --summary 'bench: queue depth 1204' -q"
peer="apprise -t 'bench' -b 'bench: queue depth 1204' ${urls[*]}"
# apprise must reach them all: check once, by the receiver's count.
before=$(curl -sf "$MC_TEST_RECEIVER/_stats?path_prefix=/delay/$DELAY/bench-alert-" | jq .count)
eval "$peer" >/dev/null 2>&1 || die "apprise failed"
after=$(curl -sf "$MC_TEST_RECEIVER/_stats?path_prefix=/delay/$DELAY/bench-alert-" | jq .count)
[ $((after - before)) -eq $N ] || die "apprise reached $((after - before)) of $N endpoints"
eval "$mc" || die "mercuryctl alert send failed"
eval "$fleet --json" | jq -e '.fleet == "ok"' >/dev/null ||
	die "mercuryctl alert send in the fleet failed or was degraded"

echo "bench: one alert to $N json webhooks answering after $DELAY ms: mercuryctl, apprise, mercuryctl in a fleet" >&2
hyperfine --warmup 1 --runs "$RUNS" --export-json "$tmp/fan.json" "$mc" "$peer" "$fleet" >&2
m=$(jq -r '.results[0].median * 1000' "$tmp/fan.json")
a=$(jq -r '.results[1].median * 1000' "$tmp/fan.json")
f=$(jq -r '.results[2].median * 1000' "$tmp/fan.json")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? "yes" : "NO" }'; }
fmt() { awk -v a="$1" 'BEGIN { printf "%.1f", a }'; }
cat <<MD

## Alert fan-out: one alert to $N \`json\` webhooks answering after $DELAY ms

Each endpoint is the test receiver's /delay/$DELAY route on loopback. The peer
is Debian's \`apprise\` CLI ($(apprise --version 2>/dev/null | head -n 1)) with the
same $N endpoints as \`json://\` URLs. mercuryctl's figure includes opening the
state file and recording the dedup, rate-limit, breaker and log rows of all
$N deliveries. Medians of $RUNS runs (hyperfine, through a shell for both).

| | median | ratio to $DELAY ms | ratio to mercuryctl |
|---|---|---|---|
| mercuryctl alert send ($N webhooks) | $(fmt "$m") ms | $(ratio "$m" $DELAY) | 1.00 |
| apprise ($N json:// URLs) | $(fmt "$a") ms | $(ratio "$a" $DELAY) | $(ratio "$a" "$m") |
| mercuryctl alert send in a fleet ($N webhooks) | $(fmt "$f") ms | $(ratio "$f" $DELAY) | $(ratio "$f" "$m") |

In the fleet (\`[fleet]\` on the test redis on loopback) each of the $N deliveries
claims and settles its dedup record (--no-dedup lets every one through, but
the claim is made), and runs its breaker and bucket scripts in Redis,
and the run connects and heartbeats.

Goals: at most 1.3x $DELAY ms ($(verdict "$(ratio "$m" $DELAY)" 1.3)), apprise at
least 5x slower ($(verdict 5 "$(ratio "$a" "$m")")), the fleet at most 1.2x
without it ($(verdict "$(ratio "$f" "$m")" 1.2)). No sender can finish in less
than the endpoints' $DELAY ms, so against this apprise the largest ratio any
sender could reach is $(ratio "$a" $DELAY): mercuryctl's overhead over that floor is
$(awk -v m="$m" -v d=$DELAY 'BEGIN { printf "%.1f", m - d }') ms.
MD
