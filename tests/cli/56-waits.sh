# 56-waits.sh - every wait ends at the run's deadline and within a second
# of SIGTERM: a Redis server that drips one byte every 0.5 s, a reply too
# large to hold, a resolver that never answers (DNS for http, tcp and
# redis checks).

# fake_redis MODE: starts tests/servers/fake_redis.py (bounded to 60 s);
# sets FAKE_PORT and FAKE_LOG (one line per connection it accepted).
fake_redis() {
	local pf=$T_DIR/fake-$1.port
	timeout 60 python3 "$MC_SRC/tests/servers/fake_redis.py" "$1" "$pf" 55 \
		</dev/null >/dev/null 2>"$T_DIR/fake-$1.err" &
	FAKE_PID=$!
	wait_until 10 test -s "$pf" || fail "fake redis ($1) did not start: $(cat "$T_DIR/fake-$1.err")"
	FAKE_PORT=$(cat "$pf")
	FAKE_LOG=$pf.log
}

fake_stop() { kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; }

# now_ms: the monotonic-enough wall clock in ms, for bounds on a run.
now_ms() { date +%s%3N; }

dlq_on() {
	conf "[core]
redis_url = redis://127.0.0.1:$1/0
[dlq \"q\"]
source = s
target = t
dead = d"
}

test_dripping_redis_ends_at_the_deadline() {
	local t0 ms
	fake_redis drip
	dlq_on "$FAKE_PORT"
	t0=$(now_ms)
	run dlq stats --timeout 2s
	ms=$(($(now_ms) - t0))
	expect_rc 2
	expect_err 'timed out after'
	# 2 s of deadline, some slack for the process (more under valgrind).
	[ "$ms" -lt "$(wrapped 8000 3500)" ] || fail "dlq stats took $ms ms with --timeout 2s"
	fake_stop
}

test_dripping_redis_check_ends_at_its_timeout() {
	local t0 ms
	fake_redis drip
	conf "[check \"drip\"]
type = redis
url = redis://127.0.0.1:$FAKE_PORT/0
timeout = 1500ms"
	t0=$(now_ms)
	run health --json
	ms=$(($(now_ms) - t0))
	expect_rc 1
	expect_json '.checks.drip | .status == "critical" and (.message | test("timed out after 1500 ms"))'
	[ "$ms" -lt "$(wrapped 8000 3000)" ] || fail "health took $ms ms with a 1.5 s check"
	fake_stop
}

test_sigterm_ends_a_dripping_redis_wait() {
	local pid t0 ms
	fake_redis drip
	dlq_on "$FAKE_PORT"
	${MC_WRAP:-} "$MC_BIN" dlq stats --timeout 60s >"$T_DIR/out" 2>"$T_DIR/err" </dev/null &
	pid=$!
	wait_until 20 test -s "$FAKE_LOG" || fail "mercuryctl never connected"
	t0=$(now_ms)
	kill -TERM "$pid"
	wait "$pid"
	RC=$?
	ms=$(($(now_ms) - t0))
	ERR=$T_DIR/err
	expect_rc 143
	[ "$ms" -lt "$(wrapped 5000 1000)" ] || fail "exit took $ms ms after SIGTERM"
	fake_stop
}

test_huge_redis_reply_is_refused() {
	fake_redis huge
	dlq_on "$FAKE_PORT"
	OUT=$T_DIR/out ERR=$T_DIR/err
	# Peak RSS in KiB from GNU time: the reply must not be held.
	/usr/bin/time -o "$T_DIR/rss" -f %M ${MC_WRAP:-} "$MC_BIN" dlq stats --timeout 30s \
		>"$OUT" 2>"$ERR" </dev/null
	RC=$?
	expect_rc 2
	expect_err 'a reply larger than 64 MiB: refused'
	# The reply is refused when its header announces 300 MB: nothing of
	# it is held, so the peak stays far below the 64 MiB limit (6 MiB;
	# 19 MiB under AddressSanitizer, whose shadow memory counts). Not
	# under valgrind, which is the process /usr/bin/time measures there.
	[ -n "${MC_WRAP:-}" ] || [ "$(tail -n 1 "$T_DIR/rss")" -lt 60000 ] ||
		fail "peak RSS $(tail -n 1 "$T_DIR/rss") KiB for a refused reply"
	fake_stop
}

# blackhole_dns CMD...: runs CMD (OUT, ERR, RC as run does) in user, mount
# and network namespaces of its own, where /etc/resolv.conf names
# 127.0.0.1, on which a server reads every query and answers none. No root
# needed: an unprivileged user namespace is enough (Debian allows them).
# DNS_MS: how long CMD itself took (the namespaces and the server are
# set up first, in about a second that a loaded machine may double).
blackhole_dns() {
	OUT=$T_DIR/out ERR=$T_DIR/err
	printf 'nameserver 127.0.0.1\n' >"$T_DIR/resolv.conf"
	rm -f "$T_DIR/dns.ready"
	unshare -rmn sh -c '
		ip link set lo up || exit 90
		mount --bind "$1" /etc/resolv.conf || exit 91
		timeout 60 python3 -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((\"127.0.0.1\", 53))
open(sys.argv[1], \"w\").close()
while True:
    s.recvfrom(4096)
" "$2" </dev/null >/dev/null 2>&1 &
		n=0
		while [ ! -e "$2" ]; do
			n=$((n + 1)); [ $n -gt 500 ] && exit 92
			sleep 0.02
		done
		date +%s%3N >"$3"
		shift 3
		exec "$@"' sh "$T_DIR/resolv.conf" "$T_DIR/dns.ready" "$T_DIR/dns.t0" \
		${MC_WRAP:-} "$MC_BIN" "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
	DNS_MS=$(($(now_ms) - $(cat "$T_DIR/dns.t0" 2>/dev/null || now_ms)))
	case $RC in 90|91|92) fail "cannot set up the black-hole resolver (exit $RC): $(cat "$ERR")" ;; esac
}

test_unanswered_dns_ends_at_the_check_timeouts() {
	local ms
	conf '[check "web"]
type = http
url = http://blackhole.example/
timeout = 1500ms
[check "port"]
type = tcp
address = blackhole.example:80
timeout = 1500ms
[check "cache"]
type = redis
url = redis://blackhole.example:6379/0
timeout = 1500ms'
	blackhole_dns health --timeout 10s --json
	ms=$DNS_MS
	expect_rc 1
	expect_json '.checks.port | .status == "critical" and (.message | test("timed out after 1500 ms resolving"))'
	expect_json '.checks.cache | .status == "critical" and (.message | test("timed out after 1500 ms"))'
	expect_json '.checks.web | .status == "critical" and (.message | test("[Tt]imeout|timed out|resolv"))'
	[ "$ms" -lt "$(wrapped 10000 3000)" ] || fail "health took $ms ms with 1.5 s checks"
}

test_unanswered_dns_ends_dlq_at_the_deadline() {
	local ms
	conf '[core]
redis_url = redis://blackhole.example:6379/0
[dlq "q"]
source = s
target = t
dead = d'
	blackhole_dns dlq stats --timeout 2s
	ms=$DNS_MS
	expect_rc 2
	expect_err 'timed out after [0-9]+ ms \(resolving the name\)'
	[ "$ms" -lt "$(wrapped 8000 3500)" ] || fail "dlq stats took $ms ms with --timeout 2s"
}
