#!/bin/bash
# Benchmark of `mercuryctl oauth token` against the test OAuth server
# (oidc-provider, scripts/oauth-server) on loopback, each figure beside a
# peer in the same invocation:
#   - a fresh stored token (no request): against `mercuryctl --version`;
#   - a token request due (client_credentials, every run): against `curl`
#     making the same token request;
#   - ten processes at once on a token about to expire: the number of
#     token requests the server counted (it must be 1), beside the time.
# Prints a Markdown section on stdout; progress goes to stderr. Needs the
# test servers' environment (MC_TEST_OAUTH), as scripts/bench.sh sets it.
#
#   MC_BUILD     build directory (default build)
#   OAUTH_RUNS   hyperfine runs of each command (default 100), taken two
#                at a time in turn
set -euo pipefail
cd "$(dirname "$0")/.."
B=${MC_BUILD:-build}
case $B in /*) BIN=$B/mercuryctl ;; *) BIN=$PWD/$B/mercuryctl ;; esac
RUNS=${OAUTH_RUNS:-100}
ROUNDS=5
die() { echo "bench_oauth: $*" >&2; exit 1; }
[ -n "${MC_TEST_OAUTH:-}" ] || die "MC_TEST_OAUTH is not set (start scripts/servers.sh)"
tmp=$(mktemp -d /tmp/mercury-bench-oauth.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=scripts/bench_lib.sh
. scripts/bench_lib.sh		# alternate, median_ms, ratio, fmt
OS=$MC_TEST_OAUTH
osrv() { curl -sf -X POST "$OS/_test/$1" >/dev/null || die "server route $1 failed"; }
count() { curl -sf "$OS/_test/count" | jq -r '.["token:client_credentials"] // 0'; }

osrv reset
printf '%s\n' "$MC_TEST_OAUTH_CONF_SECRET" >"$tmp/secret"
chmod 600 "$tmp/secret"
printf '[oauth "cc"]\nissuer = %s\ngrant = client_credentials\nclient_id = mc-conf\nclient_secret_file = %s\n' \
	"$OS" "$tmp/secret" >"$tmp/oauth.conf"
export MERCURY_STATE=$tmp/state.db MERCURY_CONFIG=$tmp/oauth.conf
"$BIN" oauth token cc >/dev/null || die "oauth token failed"

echo "bench: oauth token with a fresh stored token, against mercuryctl --version" >&2
alternate fresh "$RUNS" "$BIN oauth token cc" "$BIN --version"

# A refresh every run: the server issues hour-long tokens, --min-valid asks
# for two. The peer makes the same client_credentials request.
printf 'user = "mc-conf:%s"\n' "$MC_TEST_OAUTH_CONF_SECRET" >"$tmp/curl.cfg"
token_url=$(curl -sf "$OS/.well-known/openid-configuration" | jq -r .token_endpoint)
before=$(count)
echo "bench: oauth token with a refresh due, against curl making the same request" >&2
alternate due "$RUNS" \
	"$BIN oauth token cc --min-valid 2h" \
	"curl -sf -K $tmp/curl.cfg -d grant_type=client_credentials $token_url" \
	"$BIN history -n 1"
made=$(($(count) - before))
# each run of either made one request (warm-ups included)
expected=$((2 * ALT_EACH))
[ "$made" -eq "$expected" ] || die "the server counted $made token requests, expected $expected"

# Ten at once on a token with 30 s left (--min-valid 1m by default).
counts=""
walls=""
for r in $(seq 1 $ROUNDS); do
	osrv 'ttl?access=30'
	"$BIN" oauth refresh cc --force >/dev/null
	osrv 'ttl?access=3600'
	before=$(count)
	start=$(date +%s%N)
	for i in $(seq 1 10); do
		"$BIN" oauth token cc >"$tmp/tok.$i" &
	done
	wait
	end=$(date +%s%N)
	[ "$(sort -u "$tmp"/tok.* | wc -l)" = 1 ] || die "round $r: the ten printed different tokens"
	counts="$counts $(($(count) - before))"
	walls="$walls $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')"
done
osrv reset

fresh=$(median_ms "$tmp/fresh.json" 0)
version=$(median_ms "$tmp/fresh.json" 1)
due=$(median_ms "$tmp/due.json" 0)
curl_ms=$(median_ms "$tmp/due.json" 1)
floor=$(median_ms "$tmp/due.json" 2)
c_fresh=$(cpu_ms "$tmp/fresh.json" 0)
c_version=$(cpu_ms "$tmp/fresh.json" 1)
c_due=$(cpu_ms "$tmp/due.json" 0)
c_curl=$(cpu_ms "$tmp/due.json" 1)
verdict() { awk -v a="$1" -v b="$2" -v m="$3" 'BEGIN { print (a <= m * b) ? "yes" : "NO" }'; }
all_one=yes
for c in $counts; do [ "$c" = 1 ] || all_one=NO; done
cat <<MD

## OAuth: \`oauth token\`

Against the test OAuth server (oidc-provider $(jq -r .version scripts/oauth-server/node_modules/oidc-provider/package.json), Node.js $(node --version)) on
loopback, provider \`cc\` (client_credentials, client_secret_basic,
discovery cached in the state file). Medians of $RUNS runs of each command
(hyperfine -N), taken two at a time in turn; the load
average when this ran: $(cut -d' ' -f1-3 /proc/loadavg).

| case | mercuryctl | peer | ratio | bar | met | CPU ratio |
|---|---|---|---|---|---|---|
| fresh stored token (no request) vs \`mercuryctl --version\` | $(fmt "$fresh") ms | $(fmt "$version") ms | $(ratio "$fresh" "$version") | ≤ 2 | $(verdict "$fresh" "$version" 2) | $(ratio "$c_fresh" "$c_version") |
| refresh due (one token request) vs \`curl\` making the same request | $(fmt "$due") ms | $(fmt "$curl_ms") ms | $(ratio "$due" "$curl_ms") | ≤ 1.3 | $(verdict "$due" "$curl_ms" 1.3) | $(ratio "$c_due" "$c_curl") |

The bars are judged on the medians; the last column is the ratio of the
mean CPU times (user + system) of a run, which a busy machine disturbs
less.

A refresh is a recorded run: besides the request it opens the state file,
records the run, takes the provider's lock, asks and updates the breaker,
saves the tokens in one transaction and closes the file (whose WAL is
checkpointed, with its fsyncs, every 100 pages, not at each close). For scale, \`mercuryctl history -n 1\` - a recorded run that
makes no request at all - took $(fmt "$floor") ms in the same invocation
($(ratio "$floor" "$curl_ms") of curl's whole request).

Ten \`oauth token cc\` processes at once on a token with 30 s left
(\`--min-valid\` 1m), $ROUNDS rounds: token requests counted by the server
per round:$counts (every round exactly 1: $all_one); wall time of the ten,
in ms:$walls. All ten printed the same token in every round.
MD
