#!/bin/bash
# Benchmark of `mercuryctl dlq replay` on 1,000,000 messages, beside two
# peers measured in the same invocation against the same redis-server:
#   - scripts/bench_dlq_peer.py: the same replay in Python (redis-py,
#     LRANGE + one MULTI/EXEC pipeline per batch), on the same data;
#   - redis-benchmark RPOPLPUSH q q, pipelined (-P 100): the speed at which
#     this redis moves list items at all, the reference.
# And beside itself in a fleet: the same replay with a [fleet] section on
# the same redis (the fleet lease taken, renewed and checked by every
# batch's script: fencing), run alternately with the plain one.
# After every replay the lists are checked: source empty, target + dead
# holding every message, the split between them as the data says.
# Prints a Markdown section on stdout; progress goes to stderr.
#
#   MC_BUILD      build directory (default build)
#   DLQ_N         messages (default 1000000)
#   DLQ_SMALL     messages of the small run for the RSS difference (10000)
#   DLQ_RUNS      runs of each timing, median reported (default 3; odd)
#   DLQ_BENCH_SKIP_MC=1  measure only the peers (while mercuryctl has no
#                 `dlq replay`); otherwise its absence is an error
set -euo pipefail
cd "$(dirname "$0")/.."
B=${MC_BUILD:-build}
case $B in /*) BIN=$B/mercuryctl ;; *) BIN=$PWD/$B/mercuryctl ;; esac
PEER=$PWD/scripts/bench_dlq_peer.py
PY=/usr/bin/python3
N=${DLQ_N:-1000000}
SMALL=${DLQ_SMALL:-10000}
RUNS=${DLQ_RUNS:-3}
BATCH=1000
MAXR=3
LIFETIME=${MC_SERVER_LIFETIME:-1800}
SKIP_MC=${DLQ_BENCH_SKIP_MC:-0}

die() { echo "bench_dlq: $*" >&2; exit 1; }
say() { echo "bench_dlq: $*" >&2; }

[ $((RUNS % 2)) -eq 1 ] || die "DLQ_RUNS must be odd (a median of one run)"
[ "$SMALL" -lt "$N" ] || die "DLQ_SMALL must be below DLQ_N"
[ -x "$PY" ] || die "$PY missing"
$PY -c 'import redis' 2>/dev/null ||
	die "$PY cannot import redis: apt-get install python3-redis"
for t in redis-server redis-cli redis-benchmark /usr/bin/time; do
	command -v "$t" >/dev/null || die "$t missing"
done
if [ "$SKIP_MC" != 1 ]; then
	[ -x "$BIN" ] || die "$BIN missing: build mercuryctl first (MC_BUILD=$B)"
	if ! "$BIN" dlq --help 2>/dev/null | grep -q replay; then
		die "$BIN has no 'dlq replay' command ('$BIN dlq --help' fails" \
			"or does not name replay); set DLQ_BENCH_SKIP_MC=1 to" \
			"measure the peers only"
	fi
fi

tmp=$(mktemp -d /tmp/mercury-bench-dlq.XXXXXX)
# what else the machine was doing: absolute rates follow it, ratios less
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
rpid="" rst=""
start_time() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null; }
cleanup() {
	if [ -n "$rpid" ] && [ "$(start_time "$rpid")" = "$rst" ]; then
		kill -TERM "$rpid" 2>/dev/null || true	# timeout forwards it
		local end=$((SECONDS + 10))
		while [ "$(start_time "$rpid")" = "$rst" ] &&
		      ! grep -q '^[^ ]* ([^)]*) Z' "/proc/$rpid/stat" 2>/dev/null; do
			if [ $SECONDS -ge $end ]; then
				kill -KILL "$rpid" 2>/dev/null || true
				break
			fi
			sleep 0.05
		done
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# ---- redis-server, as scripts/servers.sh starts it --------------------------
P=$($PY -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$tmp/redis"
timeout "$LIFETIME" redis-server --bind 127.0.0.1 --port "$P" \
	--save '' --appendonly no --daemonize no --dir "$tmp/redis" \
	--logfile "$tmp/redis.log" </dev/null >/dev/null 2>&1 &
rpid=$!
rst=$(start_time "$rpid")
end=$((SECONDS + 10))
until timeout 2 redis-cli -p "$P" ping >/dev/null 2>&1; do
	[ $SECONDS -ge $end ] && die "redis-server not ready after 10s: $(tail -n 5 "$tmp/redis.log")"
	sleep 0.05
done
rcli() { timeout 120 redis-cli -p "$P" "$@"; }

SRC=bench:dlq:source TGT=bench:dlq:target DEAD=bench:dlq:dead
ORIG=bench:dlq:orig ORIG_SMALL=bench:dlq:orig-small

# ---- the data: N JSON objects of about 200 bytes ----------------------------
# Unique ids; retry_count cycles 0..3, so with max_retries 3 every fourth
# message goes dead. Loaded once into ORIG with redis-cli --pipe (RPUSH of
# 1000 at a time); every run starts from a server-side COPY of it.
say "loading $N messages"
$PY - "$N" "$ORIG" "$tmp/expected" <<'PY' | rcli --pipe >"$tmp/load.out" 2>&1 ||
import sys
n, key, expected = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3]
out = sys.stdout.buffer
fmt = ('{"id":"msg-%07d","retry_count":%d,"type":"alert.failed",'
       '"error":"HTTP 503 from webhook ops","payload":{"host":"web-%02d",'
       '"severity":"warning","summary":"disk above 85%% on /var"},'
       '"failed_at":%d}')
live = dead = 0
for lo in range(0, n, 1000):
    hi = min(n, lo + 1000)
    parts = [b"*%d\r\n$5\r\nRPUSH\r\n$%d\r\n%s\r\n" % (hi - lo + 2, len(key), key)]
    for i in range(lo, hi):
        r = i % 4
        if r < 3:
            live += 1
        else:
            dead += 1
        m = (fmt % (i, r, i % 100, 1714564800 + i)).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(m), m))
    out.write(b"".join(parts))
with open(expected, "w") as f:
    f.write("%d %d\n" % (live, dead))
PY
	die "loading failed: $(cat "$tmp/load.out")"
grep -q 'errors: 0,' "$tmp/load.out" || die "loading failed: $(cat "$tmp/load.out")"
[ "$(rcli LLEN "$ORIG")" = "$N" ] || die "loaded $(rcli LLEN "$ORIG") messages, not $N"
read -r EXP_TGT EXP_DEAD <"$tmp/expected"
rcli COPY "$ORIG" "$ORIG_SMALL" >/dev/null
rcli LTRIM "$ORIG_SMALL" 0 $((SMALL - 1)) >/dev/null
msg_bytes=$(rcli --raw LINDEX "$ORIG" 0 | wc -c)
msg_bytes=$((msg_bytes - 1))

# reload FROM: source gets a copy of FROM; target and dead start empty.
reload() {
	rcli DEL "$SRC" "$TGT" "$DEAD" >/dev/null
	[ "$(rcli COPY "$1" "$SRC")" = 1 ] || die "COPY $1 $SRC failed"
}

bad=0
# verify LABEL COUNT: source empty, target + dead = COUNT, split as expected
# (for the full data set), order kept at the head of target.
verify() {
	local s t d
	s=$(rcli LLEN "$SRC") t=$(rcli LLEN "$TGT") d=$(rcli LLEN "$DEAD")
	if [ "$s" != 0 ] || [ $((t + d)) -ne "$2" ] ||
	   { [ "$2" = "$N" ] && { [ "$t" != "$EXP_TGT" ] || [ "$d" != "$EXP_DEAD" ]; }; }; then
		{
			echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
			echo "!!! bench_dlq: $1 LOST OR DUPLICATED MESSAGES:"
			echo "!!!   source $s (want 0), target $t + dead $d = $((t + d)) (want $2)"
			[ "$2" = "$N" ] && echo "!!!   want target $EXP_TGT, dead $EXP_DEAD"
			echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
		} >&2
		bad=1
		return 0
	fi
	if ! rcli --raw LINDEX "$TGT" 0 | grep -q '"id":"msg-0000000"'; then
		echo "!!! bench_dlq: $1: the head of target is not the oldest message" >&2
		bad=1
	fi
}

now_ns() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", (b - a) / 1e9 }'; }
median() { sort -g | awk '{ a[NR] = $1 } END { print a[(NR + 1) / 2] }'; }

# ---- mercuryctl dlq replay --------------------------------------------------
export MERCURY_STATE=$tmp/state/state.db HOME=$tmp
unset MERCURY_CONFIG XDG_CONFIG_HOME XDG_STATE_HOME MERCURY_REDIS_URL REDIS_URL
unset MERCURY_LOG_FORMAT MERCURY_LOG_LEVEL
cat >"$tmp/mercury.conf" <<EOF
[core]
redis_url = redis://127.0.0.1:$P/0
timeout = 30m

[dlq "bench"]
source = $SRC
target = $TGT
dead = $DEAD
max_retries = $MAXR
batch = $BATCH
EOF

cp "$tmp/mercury.conf" "$tmp/fleet.conf"
printf '[fleet]\nname = bench\nkey_prefix = bench-%s\n' "$$" >>"$tmp/fleet.conf"

# mc_run COUNT [CONF LABEL]: one replay of COUNT messages already in
# source (with CONF, default mercury.conf); appends "seconds rss_kib" to
# $tmp/LABEL.COUNT (default mc).
mc_run() {
	local t0 t1 rc=0 conf=${2:-mercury.conf} label=${3:-mc}
	t0=$(now_ns)
	timeout 1800 /usr/bin/time -f %M -o "$tmp/rss" "$BIN" -c "$tmp/$conf" \
		dlq replay bench --batch "$BATCH" >"$tmp/mc.out" 2>"$tmp/mc.err" || rc=$?
	t1=$(now_ns)
	[ $rc -eq 0 ] || die "mercuryctl dlq replay ($label) exited $rc: $(tail -n 5 "$tmp/mc.err") $(cat "$tmp/mc.out")"
	verify "mercuryctl dlq replay ($label, $1 messages)" "$1"
	echo "$(secs "$t0" "$t1") $(tail -n 1 "$tmp/rss")" >>"$tmp/$label.$1"
}

if [ "$SKIP_MC" != 1 ]; then
	"$BIN" health >/dev/null 2>&1 || true	# create the state file first
	# the fleet's lease must be there and checked, or the figure is void
	reload "$ORIG_SMALL"
	"$BIN" -c "$tmp/fleet.conf" dlq replay bench --json >"$tmp/mc.out" 2>"$tmp/mc.err" ||
		die "mercuryctl dlq replay in the fleet failed: $(cat "$tmp/mc.err")"
	jq -e '.fleet == "ok"' "$tmp/mc.out" >/dev/null ||
		die "mercuryctl dlq replay did not use the fleet: $(cat "$tmp/mc.out")"
	[ "$(rcli EXISTS "bench-$$:{$SRC}:fence")" = 1 ] ||
		die "no fencing counter in the fleet after a replay"
	for i in $(seq 1 "$RUNS"); do
		say "mercuryctl dlq replay, $N messages, run $i/$RUNS"
		reload "$ORIG"
		mc_run "$N"
		say "mercuryctl dlq replay in a fleet, $N messages, run $i/$RUNS"
		reload "$ORIG"
		mc_run "$N" fleet.conf fleet
	done
	for i in $(seq 1 "$RUNS"); do
		say "mercuryctl dlq replay, $SMALL messages, run $i/$RUNS"
		reload "$ORIG_SMALL"
		mc_run "$SMALL"
	done
	mc_s=$(awk '{print $1}' "$tmp/mc.$N" | median)
	fleet_s=$(awk '{print $1}' "$tmp/fleet.$N" | median)
	rss_big=$(awk '{print $2}' "$tmp/mc.$N" | median)
	rss_small=$(awk '{print $2}' "$tmp/mc.$SMALL" | median)
fi

# ---- the Python peer --------------------------------------------------------
for i in $(seq 1 "$RUNS"); do
	say "python peer, $N messages, run $i/$RUNS"
	reload "$ORIG"
	t0=$(now_ns)
	timeout 1800 "$PY" "$PEER" --port "$P" --source "$SRC" --target "$TGT" \
		--dead "$DEAD" --batch "$BATCH" --max-retries "$MAXR" >"$tmp/peer.out" ||
		die "the python peer failed"
	t1=$(now_ns)
	verify "python peer ($N messages)" "$N"
	secs "$t0" "$t1" >>"$tmp/peer.times"
	echo >>"$tmp/peer.times"
done
peer_s=$(median <"$tmp/peer.times")

# ---- redis-benchmark RPOPLPUSH q q, the reference ---------------------------
rcli DEL "$SRC" "$TGT" "$DEAD" >/dev/null
rcli COPY "$ORIG" q >/dev/null
for i in $(seq 1 "$RUNS"); do
	say "redis-benchmark -n $N -P 100 RPOPLPUSH q q, run $i/$RUNS"
	timeout 600 redis-benchmark -p "$P" -n "$N" -P 100 -q RPOPLPUSH q q |
		tr '\r' '\n' | grep 'requests per second' | tail -n 1 |
		awk '{ for (i = 2; i <= NF; i++) if ($i == "requests") print $(i - 1) }' \
		>>"$tmp/rb.rates"
done
[ "$(wc -l <"$tmp/rb.rates")" -eq "$RUNS" ] || die "could not read redis-benchmark's rate"
rb_rate=$(median <"$tmp/rb.rates")
[ "$(rcli LLEN q)" = "$N" ] || die "q holds $(rcli LLEN q), not $N, after redis-benchmark"

# ---- the section ------------------------------------------------------------
commas() {
	awk -v a="$1" 'BEGIN {
		s = sprintf("%.0f", a); neg = s ~ /^-/; if (neg) s = substr(s, 2)
		o = ""; while (length(s) > 3) { o = "," substr(s, length(s) - 2) o
		s = substr(s, 1, length(s) - 3) }
		print (neg ? "-" : "") s o }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
rate() { awk -v n="$N" -v s="$1" 'BEGIN { printf "%.0f", n / s }'; }
fmt() { awk -v a="$1" 'BEGIN { printf "%.2f", a }'; }
atleast() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? "yes" : "NO" }'; }

peer_rate=$(rate "$peer_s")
cat <<MD

## dlq replay: $(commas "$N") messages

$(commas "$N") JSON objects of $msg_bytes bytes each (unique id, \`retry_count\`
0..3 in turn, so with \`max_retries = $MAXR\` one in four goes dead) are
replayed from one list of a local redis-server to a target and a dead list,
in batches of $BATCH. Each replay starts from a fresh server-side copy of the
data; after each, the source is checked empty and target + dead to hold all
$(commas "$N") messages (target $(commas "$EXP_TGT"), dead $(commas "$EXP_DEAD")).
The peers: the same replay in Python (\`scripts/bench_dlq_peer.py\`, redis-py:
LRANGE a batch, decide each message, one MULTI/EXEC with LTRIM and RPUSH), and
\`redis-benchmark -n $N -P 100 -q RPOPLPUSH q q\` on a list of the same
$(commas "$N") messages, the rate at which this redis moves list items at all.
Medians of $RUNS runs, wall clock including process start-up. Load
average of the machine ($(nproc) cores) at the start: $load_start; at the
end: $(cut -d' ' -f1-3 /proc/loadavg).

MD
if [ "$SKIP_MC" = 1 ]; then
	cat <<MD
**mercuryctl was not measured** (DLQ_BENCH_SKIP_MC=1).

| | median time | messages/s |
|---|---|---|
| Python peer | $(fmt "$peer_s") s | $(commas "$peer_rate") |
| redis-benchmark RPOPLPUSH (-P 100) | | $(commas "$rb_rate") |
| ratio (Python peer / redis-benchmark) | | $(ratio "$peer_rate" "$rb_rate") |
MD
else
	mc_rate=$(rate "$mc_s")
	rss_diff=$((rss_big - rss_small))
	cat <<MD
| | median time | messages/s | mercuryctl / this |
|---|---|---|---|
| mercuryctl dlq replay --batch $BATCH | $(fmt "$mc_s") s | $(commas "$mc_rate") | 1.00 |
| Python peer | $(fmt "$peer_s") s | $(commas "$peer_rate") | $(ratio "$mc_rate" "$peer_rate") |
| redis-benchmark RPOPLPUSH (-P 100) | | $(commas "$rb_rate") | $(ratio "$mc_rate" "$rb_rate") |
| mercuryctl dlq replay --batch $BATCH in a fleet | $(fmt "$fleet_s") s | $(commas "$(rate "$fleet_s")") | $(ratio "$fleet_s" "$mc_s") |

In the fleet (\`[fleet]\` on the same redis) the replay takes the fleet
lease of its source, a keepalive renews it, and every batch's script
checks the lease's owner and fencing token (and renews it) before it
moves anything; the plain and the fleet replay ran in turn, $RUNS each.

Peak RSS of mercuryctl (median of $RUNS runs, \`/usr/bin/time -f %M\`):
$(commas "$rss_big") KiB replaying $(commas "$N") messages,
$(commas "$rss_small") KiB replaying $(commas "$SMALL"); difference $(commas "$rss_diff") KiB.

Goals: at least 100,000 messages/s ($(atleast "$mc_rate" 100000)), at least 3x the
Python peer ($(atleast "$(ratio "$mc_rate" "$peer_rate")" 3)), RSS difference at most
2 MB ($(atleast 2048 "$rss_diff")), the fleet at most 1.15x the plain replay's
time ($(ratio "$fleet_s" "$mc_s")x: $(atleast 1.15 "$(ratio "$fleet_s" "$mc_s")")).
MD
fi
if [ "$bad" != 0 ]; then
	printf '\n**A replay lost or duplicated messages: these figures are void.**\n'
	die "a replay lost or duplicated messages (see above)"
fi
