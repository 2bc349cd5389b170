# 35-dlq.sh - dlq stats, peek, replay and purge against the real redis.

# rcli and dlq_conf are in lib.sh.

dump() { for l in src tgt dead; do echo "== $l"; rcli LRANGE "$K:$l" 0 -1; done; }

test_dlq_config_refuses_equal_lists() {
	conf '[dlq "q"]
source = a
target = a
dead = d'
	run config check
	expect_rc 78
	expect_err "source, target and dead must be three different lists"
	expect_one_err_line
}

test_dlq_names() {
	dlq_conf
	run dlq stats qq
	expect_rc 64
	expect_err "no DLQ named 'qq' is configured \(did you mean 'q'\?\)"
	run dlq replay nope
	expect_rc 64
}

test_dlq_stats() {
	dlq_conf
	rcli RPUSH "$K:src" '{"id":1,"timestamp":1000}' b c >/dev/null
	rcli RPUSH "$K:tgt" x y >/dev/null
	rcli RPUSH "$K:dead" z >/dev/null
	run dlq stats
	expect_rc 0
	expect_out '^DLQ +SOURCE +TARGET +DEAD +OLDEST'
	expect_out '^q +3 +2 +1 +[0-9]'
	run dlq stats --json
	expect_json '.dlqs.q | .source.depth == 3 and .target.depth == 2 and .dead.depth == 1 and .oldest_age_s > 1000'
	run -o prom dlq stats q
	expect_out '^mercury_dlq_depth\{dlq="q",list="source"\} 3$'
}

test_dlq_peek() {
	dlq_conf
	rcli RPUSH "$K:src" '{"id":1,"retry_count":0}' 'not json' '{"id":3}' >/dev/null
	run dlq peek -n 2
	expect_rc 0
	expect_out '^  "id": 1,'
	expect_out '^not json$'
	expect_no_out '"id": 3'
	run dlq peek q --json
	expect_json '.messages == [{"id":1,"retry_count":0}, "not json", {"id":3}]'
	[ "$(rcli LLEN "$K:src")" = 3 ] || fail "peek removed messages"
}

# Hostile bytes in dead letters: the terminal gets them escaped (\xNN), not
# raw (no title change, no screen clear); JSON keeps every message, one
# that is not UTF-8 included, its bad bytes written \xNN.
test_dlq_peek_hostile_bytes() {
	dlq_conf
	printf 'title\033]0;pwned\007 clear\033[2J' | rcli -x RPUSH "$K:src" >/dev/null
	printf 'latin1 caf\351 \033[31m' | rcli -x RPUSH "$K:src" >/dev/null
	printf '{"id":3,"s":"c1 \302\233 x"}' | rcli -x RPUSH "$K:src" >/dev/null
	run dlq peek
	expect_rc 0
	if grep -q "$(printf '\033')" "$OUT"; then fail "ESC reached stdout: $(od -c "$OUT" | head)"; fi
	if grep -q "$(printf '\302\233')" "$OUT"; then fail "a C1 control reached stdout"; fi
	expect_out '^title\\x1B\]0;pwned\\x07 clear\\x1B\[2J$'
	expect_out '^latin1 caf\\xE9 \\x1B\[31m$'
	expect_out '"s": "c1 \\xC2\\x9B x"'
	run dlq peek --json
	expect_rc 0
	expect_json '(.messages | length) == 3'
	expect_json '.messages[0] == "title\u001b]0;pwned\u0007 clear\u001b[2J"'
	expect_json '.messages[1] == "latin1 caf\\xE9 \u001b[31m"'
	expect_json '.messages[2].id == 3'
}

# Text that is not UTF-8 keeps its place in history's JSON (args, message)
# and reaches the state file escaped.
test_history_keeps_non_utf8_members() {
	run health "bad-$(printf '\377\033')name"
	expect_rc 64
	run history --json --command health
	expect_rc 0
	expect_json '.runs[0] | (.args | test("bad-\\\\xFF\\\\x1Bname")) and (.message | test("xFF"))'
	if sql "SELECT args || message FROM runs" | grep -q "$(printf '\033')"; then
		fail "ESC stored raw in the state file"
	fi
}

test_dlq_replay_semantics() {
	dlq_conf "max_retries = 3"
	rcli RPUSH "$K:src" '{"id":1,"retry_count":0}' '{"id":2,"retry_count":3}' \
		'garbage {' '{"id":4, "big": 12345678901234567890}' '[1,2]' >/dev/null
	run --correlation-id rp-1 dlq replay --json
	expect_rc 0
	expect_json '.dlq == "q" and .replayed == 2 and .dead == 3 and .left == 0 and .stopped_by == null and .dry_run == false and .correlation_id == "rp-1"'
	[ "$(rcli LLEN "$K:src")" = 0 ] || fail "source not empty"
	rcli LRANGE "$K:tgt" 0 -1 >"$T_DIR/tgt"
	rcli LRANGE "$K:dead" 0 -1 >"$T_DIR/dead"
	jq -e -s '.[0].id == 1 and .[0].retry_count == 1 and .[0].correlation_id == "rp-1" and (.[0].replayed_at | test("Z$"))' "$T_DIR/tgt" >/dev/null ||
		fail "target[0]: $(cat "$T_DIR/tgt")"
	# Only the counter and the stamps change: the big number keeps its digits.
	grep -q '"big": 12345678901234567890' "$T_DIR/tgt" || fail "bytes of message 4 changed: $(cat "$T_DIR/tgt")"
	jq -e -s '.[0].id == 2 and (.[0].dead_reason | test("max_retries")) and .[1].dead_reason == "unparseable" and .[1].body == "garbage {" and .[2].body == "[1,2]"' "$T_DIR/dead" >/dev/null ||
		fail "dead: $(cat "$T_DIR/dead")"
	[ "$(sql "SELECT dlq, replayed, dead, left_in_source, dry_run, correlation_id FROM dlq_runs")" = "q|2|3|0|0|rp-1" ] ||
		fail "audit: $(sql 'SELECT * FROM dlq_runs')"
}

test_dlq_dry_run_changes_nothing() {
	dlq_conf
	rcli RPUSH "$K:src" '{"id":1}' '{"id":2,"retry_count":9}' junk >/dev/null
	dump >"$T_DIR/before"
	run dlq replay --dry-run --json
	expect_rc 0
	expect_json '.dry_run == true and .replayed == 1 and .dead == 2'
	dump >"$T_DIR/after"
	cmp -s "$T_DIR/before" "$T_DIR/after" || fail "dry run changed the lists"
}

test_dlq_limit_and_shed() {
	dlq_conf "shed_threshold = 6"
	rcli RPUSH "$K:src" $(for i in $(seq 1 10); do printf '{"id":%d} ' "$i"; done) >/dev/null
	run dlq replay --limit 4 --batch 3 --json
	expect_rc 0
	expect_json '.replayed == 4 and .left == 6 and .stopped_by == "limit"'
	run dlq replay --batch 1 --json
	expect_rc 1
	expect_json '.stopped_by == "shed" and .replayed == 2 and .left == 4'
	[ "$(rcli LLEN "$K:tgt")" = 6 ] || fail "target not at the threshold"
	run -q dlq replay
	expect_rc 1
	expect_err 'shed_threshold'
	expect_one_err_line
}

test_dlq_faults() {
	dlq_conf
	rcli SET "$K:src" notalist >/dev/null
	run dlq replay
	expect_rc 2
	expect_err 'not a list'
	expect_one_err_line
	rcli DEL "$K:src" >/dev/null
	sed -i "s|^redis_url = .*|redis_url = redis://127.0.0.1:9/0|" "$CONF"
	run dlq replay
	expect_rc 2
	expect_one_err_line
	sed -i "s|^redis_url = .*|redis_url = redis://:wrong-pass-123@127.0.0.1:$MC_TEST_REDIS_AUTH_PORT/0|" "$CONF"
	run dlq stats
	expect_rc 2
	expect_no_err 'wrong-pass-123'
}

test_dlq_one_replay_at_a_time() {
	dlq_conf
	hold_dlq_lock() {
		local dir
		dir=$(dirname "$STATE")/locks
		mkdir -p "$dir"
		mkfifo "$T_DIR/release"
		( exec 9>"$dir/dlq-q.lock"; flock 9; echo "$BASHPID" >&9
		  echo "$BASHPID" >"$T_DIR/holder"; read -r _ <"$T_DIR/release" ) &
		wait_until 10 test -s "$T_DIR/holder"
	}
	run dlq stats		# creates the state directory
	hold_dlq_lock
	run dlq replay
	expect_rc 75
	expect_err "pid $(cat "$T_DIR/holder")"
	echo go >"$T_DIR/release"
	wait
}

test_dlq_purge() {
	dlq_conf
	rcli RPUSH "$K:dead" a b c >/dev/null
	run dlq purge
	expect_rc 64
	expect_err 'confirm with --yes'
	run dlq purge --dead
	expect_rc 64
	expect_err 'confirm with --yes'
	[ "$(rcli LLEN "$K:dead")" = 3 ] || fail "purged without confirmation"
	# the dead list is all purge empties: --dead may be left out, and the
	# prompt says how many go
	printf 'n\n' | script -qec "$MC_BIN dlq purge" /dev/null >"$T_DIR/tty" 2>&1
	grep -q "Delete the 3 messages in the dead list $K:dead (DLQ q)?" "$T_DIR/tty" ||
		fail "the prompt: $(cat -v "$T_DIR/tty")"
	grep -q 'not confirmed; nothing deleted' "$T_DIR/tty" || fail "not refused"
	[ "$(rcli LLEN "$K:dead")" = 3 ] || fail "purged though refused"
	printf 'y\n' | script -qec "$MC_BIN dlq purge" /dev/null >"$T_DIR/tty" 2>&1
	grep -q '3 messages deleted' "$T_DIR/tty" || fail "yes: $(cat -v "$T_DIR/tty")"
	[ "$(rcli LLEN "$K:dead")" = 0 ] || fail "not purged after yes"
	printf 'y\n' | script -qec "$MC_BIN dlq purge" /dev/null >"$T_DIR/tty" 2>&1
	grep -q 'is empty: nothing to delete' "$T_DIR/tty" || fail "empty: $(cat -v "$T_DIR/tty")"
	rcli RPUSH "$K:dead" a b c >/dev/null
	run dlq purge --yes --json
	expect_rc 0
	expect_json '.purged == 3'
	[ "$(rcli LLEN "$K:dead")" = 0 ] || fail "not purged"
}

test_dlq_peek_names_the_dlqs_and_reads_dead() {
	dlq_conf
	rcli RPUSH "$K:dead" '{"id":9,"dead_reason":"max_retries exceeded (3)"}' >/dev/null
	run dlq peek --dead --json
	expect_rc 0
	expect_json '.list == "'"$K"':dead" and .messages[0].id == 9'
	rcli DEL "$K:dead" >/dev/null
	run dlq peek --dead
	expect_out "the dead list $K:dead is empty"
	conf "$(cat "$CONF"; printf '[dlq "other"]\nsource = %s:s2\ntarget = %s:t2\ndead = %s:d2\n' "$K" "$K" "$K")"
	run dlq peek
	expect_rc 64
	expect_err '^mercuryctl: dlq peek: 2 DLQs are configured \(q, other\): name one$'
}

test_dlq_ages_dry_run_and_defer_speak_plainly() {
	dlq_conf "max_retries = 2
shed_threshold = 1"
	now=$(date +%s)
	rcli RPUSH "$K:src" "{\"id\":1,\"ts\":$((now - 7270))}" '{"id":2,"retry_count":2}' 'junk' '{"id":4,"retry_count":1}' >/dev/null
	run dlq stats
	expect_out '^q +4 +0 +0 +2h01m$'
	run dlq replay --dry-run --json
	expect_rc 0
	expect_json '[.messages[] | .to] == ["target", "dead", "dead", "target"]'
	expect_json '.messages[0] | .index == 0 and .list == "'"$K"':tgt" and .why == "retry_count 0 -> 1, below max_retries 2"'
	expect_json '.messages[1].why == "max_retries exceeded (2)" and .messages[2].why == "unparseable"'
	run dlq replay --dry-run
	expect_out "^#1 +-> target $K:tgt: retry_count 0 -> 1, below max_retries 2$"
	expect_out "^#3 +-> dead +$K:dead: unparseable$"
	expect_out '^dry run: q: 2 replayed, 2 dead, 0 left'
	# --defer says what it waits for
	rcli RPUSH "$K:tgt" busy >/dev/null
	run --timeout "$(wrapped 5s 1s)" dlq replay --defer
	expect_rc 1
	expect_err "^dlq replay: --defer: waiting for $K:tgt to drain below shed_threshold 1 \(it holds 1\); the deadline is in [0-9]+(ms|s) \(--timeout\)$"
	[ "$(grep -c 'waiting for' "$ERR")" = 1 ] || fail "said more than once: $(cat "$ERR")"
}

test_dlq_prom_output() {
	dlq_conf
	rcli RPUSH "$K:src" '{"id":1}' x >/dev/null
	run -o prom dlq replay
	expect_rc 0
	expect_out '^mercury_dlq_replayed_total\{dlq="q"\} 1$'
	expect_out '^mercury_dlq_dead_total\{dlq="q"\} 1$'
	expect_out '^mercury_dlq_depth\{dlq="q",list="target"\} 1$'
}

test_dlq_rate_paces_with_the_persisted_bucket() {
	dlq_conf "rate = 1/m
batch = 10"
	rcli RPUSH "$K:src" $(seq 1 25) >/dev/null
	# The bucket starts full (one batch); the next batch would wait a
	# minute for its tokens, past the deadline, so the run stops at once.
	run --timeout 20s dlq replay --json
	expect_rc 1
	expect_json '.replayed + .dead == 10 and .stopped_by == "deadline" and .left == 15'
	[ "$(sql "SELECT count(*) FROM buckets WHERE name = 'dlq:q'")" = 1 ] ||
		fail "no persisted bucket: $(sql 'SELECT * FROM buckets')"
	# The bucket persists across runs: the next run gets nothing at once.
	run --timeout 20s dlq replay --json
	expect_json '.replayed + .dead == 0 and .stopped_by == "deadline"'
}

test_dlq_defer_waits_for_the_target_to_drain() {
	dlq_conf "shed_threshold = 5"
	rcli RPUSH "$K:tgt" a b c d e >/dev/null
	rcli RPUSH "$K:src" '{"id":1}' '{"id":2}' '{"id":3}' >/dev/null
	run --timeout "$(wrapped 5s 1s)" dlq replay --defer --json
	expect_rc 1
	expect_json '.stopped_by == "deadline" and .replayed == 0'
	"$MC_BIN" --correlation-id defer-1 dlq replay --defer --json >"$T_DIR/d.out" 2>"$T_DIR/d.err" &
	local pid=$!
	wait_until 10 sql_is 1 "SELECT count(*) FROM runs WHERE correlation_id = 'defer-1' AND status = 'running'" ||
		fail "the deferring run never started"
	rcli DEL "$K:tgt" >/dev/null	# the consumers caught up
	wait "$pid"
	local rc=$?
	[ "$rc" = 0 ] || fail "exit $rc: $(cat "$T_DIR/d.err")"
	jq -e '.replayed == 3 and .stopped_by == null' "$T_DIR/d.out" >/dev/null ||
		fail "$(cat "$T_DIR/d.out")"
}

# ids_once N: every id 0..N-1 is in source + target + dead exactly once.
ids_once() {
	local n=$1
	{ rcli LRANGE "$K:src" 0 -1; rcli LRANGE "$K:tgt" 0 -1; rcli LRANGE "$K:dead" 0 -1; } |
		jq -R -r 'fromjson? | .id // (.body | fromjson? | .id) // empty' | sort -n >"$T_DIR/ids"
	[ "$(wc -l <"$T_DIR/ids")" = "$n" ] || { echo "$(wc -l <"$T_DIR/ids") ids, not $n"; return 1; }
	[ -z "$(uniq -d "$T_DIR/ids")" ] || { echo "duplicated: $(uniq -d "$T_DIR/ids" | head -3)"; return 1; }
	[ "$(head -1 "$T_DIR/ids")" = 0 ] && [ "$(tail -1 "$T_DIR/ids")" = $((n - 1)) ] || { echo "ids out of range"; return 1; }
}

test_dlq_sigkill_loses_and_duplicates_nothing() {
	local n=20000 round pid below msg
	# Paced so that a run lasts about 2 s and each kill lands mid-run.
	dlq_conf "batch = 50
rate = 10000/s"
	seq 0 $((n - 1)) |
		awk -v q="'" '{ printf "RPUSH %s %s{\"id\":%d,\"retry_count\":%d}%s\n", K, q, $1, $1 % 4, q }' K="$K:src" |
		rcli >/dev/null
	[ "$(rcli LLEN "$K:src")" = "$n" ] || fail "loading failed: $(rcli LLEN "$K:src")"
	for round in 1 2 3 4 5; do
		below=$(( $(rcli LLEN "$K:src") - 200 - RANDOM % 1500 ))
		[ "$below" -gt 0 ] || break
		"$MC_BIN" dlq replay >/dev/null 2>&1 &
		pid=$!
		# Kill it at a random point of its run: once the source is below a
		# random mark (a condition, not a sleep).
		wait_until 20 sh -c "[ \$(redis-cli -p $MC_TEST_REDIS_PORT LLEN $K:src) -lt $below ]" ||
			fail "round $round: the replay did not progress"
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		[ "$(rcli LLEN "$K:src")" -gt 0 ] || fail "round $round: the kill came after the end"
		msg=$(ids_once "$n") || fail "round $round: $msg"
	done
	run dlq replay --json
	expect_rc 0
	expect_json '.left == 0'
	msg=$(ids_once "$n") || fail "after the final replay: $msg"
	[ "$(rcli LLEN "$K:src")" = 0 ] || fail "source not empty"
}

test_dlq_progress_bar_on_a_terminal() {
	dlq_conf "batch = 10"
	rcli RPUSH "$K:src" $(seq 1 100) >/dev/null
	script -qec "$MC_BIN dlq replay" /dev/null >"$T_DIR/tty" 2>&1
	grep -q '100/100' "$T_DIR/tty" || fail "no progress bar: $(cat -v "$T_DIR/tty" | head -3)"
	rcli RPUSH "$K:src" $(seq 1 100) >/dev/null
	run dlq replay
	! grep -q '/100' "$ERR" || fail "progress bar without a terminal"
}

# A bad --rate is a usage error like any bad option value: it names the
# option and the command's help, and is found before Redis is touched.
test_dlq_bad_rate_names_the_option() {
	dlq_conf
	rcli RPUSH "$K:src" '{"id":1}' >/dev/null
	run dlq replay --rate 5
	expect_rc 64
	expect_one_err_line
	expect_err "^mercuryctl dlq replay: --rate: bad rate '5' \(use e\.g\. 1/s, 30/m, 100/h\); see 'mercuryctl dlq replay --help'$"
	[ "$(rcli LLEN "$K:src")" = 1 ] || fail "moved a message"
}
