# 80-backup.sh - backup create|list|verify|restore|prune: round trips,
# crashes at many instants, a full disk, damaged backups, unsafe manifests,
# interrupted restores, retention, and a new machine with only the backups.

. "$(dirname "${BASH_SOURCE[0]}")/backup-lib.sh"

test_backup_create_list_verify() {
	bk_setup
	run health
	run --json backup create --note "first one"
	expect_rc 0
	local id
	id=$(jq -r .id "$OUT")
	[[ $id =~ ^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{4}$ ]] || fail "id '$id'"
	expect_json '.backup.files | map(.kind) | sort == ["file","file","state"]'
	expect_json '[.backup.files[].original] | index("'"$DATA"'/sub/scratch.tmp") == null'
	[ -f "$BK/$id/manifest.json" ] || fail "no manifest"
	[ "$(stat -c %a "$BK/$id")" = 700 ] || fail "backup dir mode $(stat -c %a "$BK/$id")"
	[ "$(find "$BK/$id" -type f ! -perm 600 | wc -l)" = 0 ] || fail "a file not 0600"
	[ "$(find "$BK/$id" -type d ! -perm 700 | wc -l)" = 0 ] || fail "a dir not 0700"
	run backup create
	expect_rc 0
	expect_out "^backup [0-9]{8}T[0-9]{6}Z-[0-9a-f]{4} created"
	expect_no_err $'\r'
	run backup list
	expect_rc 0
	expect_out "$id .* first one"
	[ "$(grep -c 'Z-' "$OUT")" = 2 ] || fail "not two backups listed"
	run backup verify "$id"
	expect_rc 0
	expect_out "$id ok"
	run backup verify --all --restore-test --json
	expect_rc 0
	expect_json '.backups | length == 2 and all(.ok) and all(.restore_seconds > 0)'
	run backup list --json
	expect_json '.backups[0].last_verify.ok == true'
	run -o prom backup list
	expect_out '^mercury_backup_count\{dir=".*"\} 2$'
	expect_out '^mercury_backup_files\{dir=".*"\} 3$'
	expect_out '^mercury_backup_last_success_timestamp_seconds'
	expect_out '^mercury_backup_size_bytes'
	expect_out '^mercury_backup_stored_bytes'
	expect_out '^mercury_backup_duration_seconds'
	expect_out '^mercury_backup_restore_test_seconds\{dir=".*"\} [0-9.e-]+$'
	[ "$(sql "SELECT count(*) FROM backups WHERE verify_ok = 1")" = 2 ] ||
		fail "catalogue: $(sql 'SELECT * FROM backups')"
}

test_backup_needs_a_directory() {
	conf '[core]'
	run backup list
	expect_rc 64
	expect_err 'no backup directory'
	conf "[backup]
dir = $T_DIR/bk
include = relative/*.conf"
	run backup create
	expect_rc 78
	expect_err 'include'
	conf "[backup]
dir = relative/bk"
	run backup list
	expect_rc 78
	expect_err 'absolute'
}

# On the command line a relative --dest or --to is taken from the current
# directory, as cp and tar take theirs; manifests and the catalogue keep
# the absolute path.
test_backup_relative_dest_and_to() {
	bk_setup
	mkdir -p "$T_DIR/cwd"
	cd "$T_DIR/cwd" || return
	run backup create --json --dest ./new/bk/
	expect_rc 0
	expect_json '.dir == "'"$T_DIR/cwd/new/bk"'"'
	cd new || return
	run backup list --dest ../new/bk --json
	expect_rc 0
	expect_json '.backups | length == 1'
	run backup restore latest --dest bk --to ../out --yes
	expect_rc 0
	cmp "$DATA/app.conf" "$T_DIR/cwd/out$DATA/app.conf" || fail "not restored under --to"
	cd .. || return
	run backup list --dest ..
	expect_rc 0
	cd "$T_DIR" || return
}

# SIGKILL at instants spread over creates of a large file: after the
# partial directory appears, and when it holds 10%, 20%, ... 100% of the
# file (the last ones land in the fsync, manifest and rename). list never
# shows a partial, every listed backup verifies, the next create removes
# the stale partials.
test_backup_sigkill_at_many_instants() {
	bk_setup 'compress = none'
	# Not smaller under valgrind: the kills go to unwrapped runs.
	local size=$((96 << 20)) i pid target mid=0 listed
	head -c "$size" /dev/urandom >"$DATA/big.bin"
	# Fourteen kills, twelve aimed inside the data: at least ten must land
	# mid-write even when a busy machine lets a poll come late.
	for i in 0 1 2 3 4 5 6 7 8 9 10 11 12 13; do
		target=$((size * i / 12))
		"$MC_BIN" backup create >/dev/null 2>&1 &
		pid=$!
		# Poll the partial directory's size, bounded.
		local end=$((SECONDS + 20))
		while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $end ]; do
			local got
			got=$(du -sb "$BK"/.partial-* 2>/dev/null | awk '{s += $1} END {print s + 0}')
			[ -n "$(ls -d "$BK"/.partial-* 2>/dev/null)" ] && [ "$got" -ge "$target" ] && break
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		[ "$(partials)" -gt 0 ] && mid=$((mid + 1))
		# Whatever is listed is whole.
		run backup list --json
		expect_rc 0
		listed=$(jq '.backups | length' "$OUT")
		jq -e '[.backups[] | select(.damaged)] | length == 0' "$OUT" >/dev/null ||
			fail "a damaged backup listed after kill $i"
		[ "$(ls -d "$BK"/[0-9]* 2>/dev/null | wc -l)" = "$listed" ] ||
			fail "directories and list disagree"
	done
	[ "$mid" -ge 10 ] || fail "only $mid kills landed mid-write"
	# One more, half-way, so the next create has a stale partial to remove.
	"$MC_BIN" backup create >/dev/null 2>&1 &
	pid=$!
	wait_until 20 has_partial || fail "no partial"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	run backup verify --all
	[ "$(bk_count)" = 0 ] || expect_rc 0
	run --json backup create
	expect_rc 0
	expect_json '.removed_partials >= 1'
	[ "$(partials)" = 0 ] || fail "stale partials left: $(ls -a "$BK")"
	run backup verify --all
	expect_rc 0
}

# A full disk: RLIMIT_FSIZE stands in for it (EFBIG once SIGXFSZ is
# ignored, as mercuryctl does).
test_backup_disk_full_is_74_and_leaves_nothing() {
	bk_setup
	head -c $((8 << 20)) /dev/urandom >"$DATA/big.bin"
	run health
	OUT=$T_DIR/out ERR=$T_DIR/err
	(ulimit -f 4096; exec "$MC_BIN" backup create) >"$OUT" 2>"$ERR" </dev/null
	RC=$?
	expect_rc 74
	expect_err 'cannot write .*big\.bin.*File too large'
	expect_one_err_line
	[ "$(partials)" = 0 ] || fail "partial left behind"
	[ "$(bk_count)" = 0 ] || fail "a backup is listed"
	run backup create
	expect_rc 0
}

test_backup_damage_is_found_and_restore_refused() {
	bk_setup
	local kind id why
	for kind in flip truncate delete manifest; do
		run --json backup create
		id=$(jq -r .id "$OUT")
		damage "$kind" "$id"
		printf 'changed\n' >"$DATA/app.conf"
		run backup verify "$id"
		expect_rc 2
		case $kind in
		flip) why='tokens.txt.zst: SHA-256 of the stored bytes differs|corrupt' ;;
		truncate) why='tokens.txt.zst: truncated' ;;
		delete) why='tokens.txt.zst: missing' ;;
		manifest) why='manifest.json: .*checksum mismatch' ;;
		esac
		expect_out "$id BAD: .*($why)"
		! grep -q 'manifest\.json: manifest\.json' "$OUT" ||
			fail "the manifest named twice: $(out)"
		run backup restore "$id" --yes
		expect_rc 2
		expect_err "failed verify.*nothing restored"
		[ "$(cat "$DATA/app.conf")" = changed ] || fail "$kind: restore touched app.conf"
		[ -z "$(find "$DATA" -name '*.pre-restore-*' -o -name '*.restore-*')" ] ||
			fail "$kind: restore left files"
		run backup list --json
		[ "$kind" != manifest ] ||
			expect_json '.backups[] | select(.id == "'"$id"'") | .damaged | test("checksum")'
	done
}

test_backup_unsafe_manifest_paths_refused() {
	bk_setup
	run --json backup create
	local id p
	id=$(jq -r .id "$OUT")
	for p in '/etc/passwd' '../../escape' 'files/../../../escape'; do
		jq --arg p "$p" '.files[1].path = $p' "$BK/$id/manifest.json" >"$T_DIR/m" &&
			cp "$T_DIR/m" "$BK/$id/manifest.json"
		resign "$BK/$id/manifest.json"
		run backup verify "$id"
		expect_rc 2
		expect_out 'unsafe path'
		run backup restore "$id" --yes --to "$T_DIR/to"
		expect_rc 2
		[ ! -e "$T_DIR/escape" ] && [ ! -e "$T_DIR/to" ] || fail "restore wrote something for '$p'"
	done
	jq '.files[1].original = "/tmp/../etc/shadow"' "$BK/$id/manifest.json" >"$T_DIR/m" &&
		cp "$T_DIR/m" "$BK/$id/manifest.json"
	jq --arg p "files$DATA/app.conf.zst" '.files[1].path = $p' "$BK/$id/manifest.json" >"$T_DIR/m" &&
		cp "$T_DIR/m" "$BK/$id/manifest.json"
	resign "$BK/$id/manifest.json"
	run backup verify "$id"
	expect_rc 2
	expect_out 'original path'
}

test_backup_restore_in_place_only_and_to() {
	bk_setup
	run --correlation-id before-backup health
	run --json backup create
	local id
	id=$(jq -r .id "$OUT")
	printf 'app = 2\n' >"$DATA/app.conf"
	printf 'new\n' >"$DATA/sub/tokens.txt"
	run --correlation-id after-backup health
	run backup restore latest
	expect_rc 64
	expect_err 'yes'
	[ "$(cat "$DATA/app.conf")" = 'app = 2' ] || fail "restored without --yes"
	run backup restore "$id" --yes --only "$DATA/app.conf"
	expect_rc 0
	[ "$(cat "$DATA/app.conf")" = 'app = 1' ] || fail "app.conf not restored"
	[ "$(cat "$DATA/app.conf.pre-restore-$id")" = 'app = 2' ] || fail "no pre-restore copy"
	[ "$(cat "$DATA/sub/tokens.txt")" = new ] || fail "--only restored another file"
	run backup restore "$id" --yes --only /no/such/file
	expect_rc 64
	run backup restore "$id" --yes --to "$T_DIR/to"
	expect_rc 0
	cmp -s "$T_DIR/to$DATA/sub/tokens.txt" <(printf 'token-%s\n' {1..2000}) || fail "--to content"
	[ "$(cat "$DATA/sub/tokens.txt")" = new ] || fail "--to touched the original"
	run backup restore "$id" --yes --json
	expect_rc 0
	expect_json '.replaced | length == 3'
	[ "$(sql "SELECT count(*) FROM runs WHERE correlation_id = 'before-backup'")" = 1 ] ||
		fail "state not restored"
	[ "$(sql "SELECT count(*) FROM runs WHERE correlation_id = 'after-backup'")" = 0 ] ||
		fail "state still has the later run"
	[ -f "$STATE.pre-restore-$id" ] || fail "no pre-restore copy of the state"
	[ "$(sqlite3 "$STATE.pre-restore-$id" "SELECT count(*) FROM runs WHERE correlation_id = 'after-backup'")" = 1 ] ||
		fail "the pre-restore state copy lacks the later run"
	[ "$(sql 'PRAGMA integrity_check')" = ok ] || fail "state integrity"
}

# The live state file replaced while another mercuryctl run (a health
# --watch) has it open and keeps writing.
test_backup_restore_with_state_open_elsewhere() {
	bk_setup
	run --correlation-id before-backup health
	run backup create
	expect_rc 0
	run --correlation-id after-backup health
	local n
	n=$(sql "SELECT count(*) FROM check_results")
	"$MC_BIN" --correlation-id watcher health --watch 100ms >/dev/null 2>"$T_DIR/watch.err" &
	local w=$!
	wait_until 10 sql_is 1 "SELECT count(*) > $n + 3 FROM check_results" ||
		fail "the watch did not start: $(cat "$T_DIR/watch.err")"
	run backup restore latest --yes
	expect_rc 0
	[ "$(sql "SELECT count(*) FROM runs WHERE correlation_id = 'after-backup'")" = 0 ] ||
		fail "not restored"
	kill -0 "$w" || fail "the watch died: $(cat "$T_DIR/watch.err")"
	n=$(sql "SELECT count(*) FROM check_results")
	wait_until 10 sql_is 1 "SELECT count(*) > $n FROM check_results" ||
		fail "the watch stopped writing after the restore"
	kill -TERM "$w"
	wait "$w"
	[ "$(sql 'PRAGMA integrity_check')" = ok ] || fail "state integrity"
}

# SIGTERM between files: the report names what was replaced and what not,
# and the .pre-restore copies of the replaced ones are there. The restore
# is held before b.bin by a gate, not by timing: b.bin is an SQLite
# database (known by its header) and a FIFO by restore time, and restore
# opens an SQLite target to see whether it is a live database; that open
# waits for a writer that never comes, until the SIGTERM.
# A database in place held locked by another process: restore waits for
# the lock no longer than the run's --timeout (it waited 10 s whatever
# --timeout said) and says what held it up.
test_backup_restore_waits_on_a_lock_no_longer_than_timeout() {
	bk_setup
	local db=$DATA/app.db id start
	sqlite3 "$db" 'CREATE TABLE t (x); INSERT INTO t VALUES (1)'
	run --json backup create
	expect_rc 0
	id=$(jq -r .id "$OUT")
	/usr/bin/python3 - "$db" "$T_DIR/locked" "$T_DIR/stop" <<'EOF' &
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
end = time.monotonic() + 60
while not os.path.exists(sys.argv[3]) and time.monotonic() < end:
    time.sleep(0.05)
EOF
	local holder=$!
	wait_until 10 test -e "$T_DIR/locked" || fail "the lock holder did not start"
	start=$SECONDS
	run --timeout 2s backup restore "$id" --yes
	touch "$T_DIR/stop"
	wait "$holder"
	[ $((SECONDS - start)) -lt "$(wrapped 9 6)" ] ||
		fail "restore waited $((SECONDS - start)) s on the lock (--timeout 2s)"
	# the files before it were replaced, app.db was not: a partial restore
	expect_rc 2
	expect_err "cannot read .*app\.db: database is locked"
	expect_err "not replaced: .*app\.db"
	[ "$(sqlite3 "$db" 'SELECT count(*) FROM t')" = 1 ] || fail "app.db changed"
}

test_backup_restore_interrupted_names_files() {
	bk_setup
	local f
	for f in a c d; do head -c "$(mb 32)" /dev/urandom >"$DATA/$f.bin"; done
	sqlite3 "$DATA/b.bin" 'CREATE TABLE t (x); INSERT INTO t VALUES (1)'
	run --json backup create
	local id
	id=$(jq -r .id "$OUT")
	for f in a c d; do printf 'changed\n' >"$DATA/$f.bin"; done
	rm "$DATA/b.bin"
	mkfifo "$DATA/b.bin"
	OUT=$T_DIR/out ERR=$T_DIR/err
	# shellcheck disable=SC2086
	${MC_WRAP:-} "$MC_BIN" --json backup restore "$id" --yes >"$OUT" 2>"$ERR" &
	local pid=$!
	wait_until "$(wrapped 600 60)" test -e "$DATA/a.bin.pre-restore-$id" ||
		fail "a.bin never replaced"
	kill -TERM "$pid"
	wait "$pid"
	RC=$?
	expect_rc 143
	expect_err "replaced: .*a\.bin"
	expect_err "not replaced: .*b\.bin"
	expect_json '.replaced | map(test("a.bin$")) | any'
	expect_json '.not_replaced | map(test("d.bin$")) | any'
	expect_json '.not_replaced | map(test("b.bin$")) | any'
	expect_json '.exit_code == 143'
	[ "$(cat "$DATA/a.bin.pre-restore-$id")" = changed ] || fail "a.bin's copy"
	[ "$(cat "$DATA/d.bin")" = changed ] || fail "d.bin was touched"
	for f in $(jq -r '.replaced[]' "$OUT"); do
		case $f in *.db) continue ;; esac
		[ -e "$f.pre-restore-$id" ] || fail "no pre-restore copy of $f"
	done
	[ -z "$(find "$DATA" -name '*.restore-*')" ] || fail "a temporary file left"
}

test_backup_prune_rules() {
	bk_setup
	run backup prune
	expect_rc 64
	expect_err 'no retention policy'
	local i
	for i in 1 2 3 4; do run backup create; expect_rc 0; done
	local newest before
	newest=$(bk_ids | head -1)
	before=$(ls "$BK")
	run backup prune --keep-last 2 --dry-run --json
	expect_rc 0
	expect_json '[.backups[] | select(.action == "remove")] | length == 2'
	expect_json '.backups[0].reasons == ["newest","last"]'
	[ "$(ls "$BK")" = "$before" ] || fail "--dry-run changed the directory"
	run backup prune --keep-daily 1
	expect_rc 0
	expect_out "keep    $newest  \(newest,daily\)"
	[ "$(bk_count)" = 1 ] || fail "keep-daily 1 on one day left $(bk_count)"
	[ "$(bk_ids)" = "$newest" ] || fail "the newest did not survive"
	run backup prune --keep-within 1s
	[ "$(bk_ids)" = "$newest" ] || fail "the newest did not survive keep-within"
	[ "$(sql "SELECT count(*) FROM backups WHERE removed IS NOT NULL")" = 3 ] ||
		fail "catalogue not told"
	bk_setup 'keep_last = 2'
	run backup create --prune
	expect_rc 0
	run backup create --prune --json
	expect_rc 0
	expect_json '.prune | length == 3'
	[ "$(bk_count)" = 2 ] || fail "create --prune kept $(bk_count)"
}

test_backup_new_machine_empty_state() {
	bk_setup
	run --json backup create --note dr
	local id
	id=$(jq -r .id "$OUT")
	export MERCURY_STATE=$T_DIR/fresh/state.db STATE=$T_DIR/fresh/state.db
	run backup list
	expect_rc 0
	expect_out "$id .* dr"
	run backup verify --latest --restore-test
	expect_rc 0
	run backup restore "$id" --yes --to "$T_DIR/dr"
	expect_rc 0
	[ "$(cat "$T_DIR/dr$DATA/app.conf")" = 'app = 1' ] || fail "not restored"
	[ "$(sql "SELECT count(*) FROM backups WHERE id = '$id' AND verify_ok = 1")" = 1 ] ||
		fail "the fresh catalogue did not learn the backup"
}

# The first create is held by its source, a FIFO's reader, until the
# second has been refused: no window for the first to finish in, however
# slow the second is (valgrind).
test_backup_two_creates_one_is_75() {
	mkfifo "$T_DIR/gate"
	bk_setup "compress = none
[backup_source \"gate\"]
command = /bin/cat $T_DIR/gate
file = gate.txt"
	# shellcheck disable=SC2086
	${MC_WRAP:-} "$MC_BIN" backup create >/dev/null 2>"$T_DIR/first.err" &
	local pid=$!
	wait_until "$(wrapped 300 20)" has_partial || fail "no partial"
	run backup create
	expect_rc 75
	expect_err "lock on backup directory $BK \(pid $pid\)"
	expect_one_err_line
	timeout 60 bash -c 'printf "gate\n" >"$1"' - "$T_DIR/gate" ||
		fail "the first create's source never read its gate"
	wait "$pid" || fail "the first create failed: $(cat "$T_DIR/first.err")"
	[ "$(bk_count)" = 1 ] || fail "not one backup"
}

# A second SQLite database among the includes, written to all the time:
# its copy is consistent (a snapshot: rows 1..N without a gap).
test_backup_live_sqlite_include() {
	bk_setup
	local db=$DATA/app.db
	/usr/bin/python3 - "$db" "$T_DIR/stop" <<'EOF' &
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, pad TEXT)")
db.execute("CREATE TABLE IF NOT EXISTS total (n INTEGER)")
db.execute("INSERT INTO total VALUES (0)")
while not os.path.exists(sys.argv[2]):
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO t (pad) VALUES (hex(randomblob(500)))")
    db.execute("UPDATE total SET n = n + 1")
    db.execute("COMMIT")
EOF
	local w=$!
	wait_until 10 test -s "$db-wal" || fail "the writer did not start"
	run --json backup create
	local rc1=$RC id
	id=$(jq -r .id "$OUT")
	run backup create
	touch "$T_DIR/stop"
	wait "$w"
	RC=$rc1
	expect_rc 0
	run backup verify "$id"
	expect_rc 0
	run backup restore "$id" --yes --to "$T_DIR/to"
	expect_rc 0
	local copy=$T_DIR/to$db
	[ "$(sqlite3 "$copy" 'PRAGMA integrity_check')" = ok ] || fail "copy integrity"
	[ "$(sqlite3 "$copy" 'SELECT count(*) = max(id) AND count(*) = (SELECT n FROM total) FROM t')" = 1 ] ||
		fail "not a consistent snapshot: $(sqlite3 "$copy" 'SELECT count(*), max(id), (SELECT n FROM total) FROM t')"
	[ "$(sqlite3 "$copy" 'SELECT count(*) > 0 FROM t')" = 1 ] || fail "empty copy"
	[ ! -e "$T_DIR/to$db-wal" ] || fail "a -wal was restored"
}


# The backup health check: no backup, fine, overdue, failed verify.
test_backup_health_check() {
	bk_setup '[check "backups"]
type = backup
critical = true
[check "stale"]
type = backup
max_age = 1ms'
	run health backups
	expect_rc 2
	expect_out 'no backup in'
	run --json backup create
	local id
	id=$(jq -r .id "$OUT")
	run --json health backups
	expect_rc 0
	expect_json '.checks.backups.message | test("newest backup '"$id"' is .* old \\(max_age 1d2h\\), not verified yet")'
	run --json health stale
	expect_rc 1
	expect_json '.checks.stale.status == "critical"'
	expect_json '.checks.stale.message | test("older than max_age 1ms")'
	damage flip "$id"
	run backup verify
	expect_rc 2
	run -o nagios health backups
	expect_rc 2
	expect_out "failed its last verify: files/.*tokens.txt.zst"
	run config check
	expect_rc 0
	conf '[check "b"]
type = backup
max_age = soon'
	run config check
	expect_rc 78
}

# A restore reads its backup for as long as it runs: a prune meanwhile
# (or the prune of create --prune) is refused, 75 naming the restore's pid
# and the directory, and removes nothing; readers beside it (verify, list)
# and a create go on. The restore is held in its before_restore hook, a
# FIFO's reader, until the others have run.
test_backup_restore_holds_off_prune() {
	mkfifo "$T_DIR/gate"
	bk_setup "keep_last = 1
before_restore = /bin/sh -c \"touch $T_DIR/in-hook; exec cat $T_DIR/gate\""
	run backup create
	expect_rc 0
	run backup create
	expect_rc 0
	local old pid
	old=$(bk_ids | tail -1)
	printf 'app = 2\n' >"$DATA/app.conf"
	# shellcheck disable=SC2086
	${MC_WRAP:-} "$MC_BIN" backup restore "$old" --yes >/dev/null 2>"$T_DIR/restore.err" &
	pid=$!
	wait_until "$(wrapped 300 20)" test -e "$T_DIR/in-hook" ||
		fail "the restore never reached its hook: $(cat "$T_DIR/restore.err")"
	run backup prune --keep-last 1
	expect_rc 75
	expect_err "another run holds the lock on backup directory $BK \(pid $pid\)"
	expect_one_err_line
	run backup create --prune
	expect_rc 75
	expect_err "backup [0-9]{8}T[0-9]{6}Z-[0-9a-f]{4} created in $BK, but not pruned: another run holds the lock on backup directory $BK \(pid $pid\)"
	expect_one_err_line
	[ "$(bk_count)" = 3 ] || fail "$(bk_count) backups: something was pruned under the restore"
	[ -d "$BK/$old" ] || fail "the backup being restored is gone"
	run backup verify --all
	expect_rc 0
	run backup list
	expect_rc 0
	timeout 60 bash -c 'printf "go\n" >"$1"' - "$T_DIR/gate" ||
		fail "the restore's hook never read its gate"
	wait "$pid" || fail "the restore failed: $(cat "$T_DIR/restore.err")"
	[ "$(cat "$DATA/app.conf")" = 'app = 1' ] || fail "not restored"
	run backup prune
	expect_rc 0
	[ "$(bk_count)" = 1 ] || fail "prune after the restore left $(bk_count)"
}

# While a prune removes backups (its lock held here by a process standing
# in for it, flock and its pid inside, as mercuryctl holds it), verify and
# restore, which read backups over time, are refused with 75 naming its
# pid; list, which reads each manifest once, goes on.
test_backup_readers_wait_for_prune() {
	bk_setup
	run backup create
	expect_rc 0
	mkfifo "$T_DIR/release"
	(
		exec 9>"$BK/.backup-readers.lock"
		flock 9
		echo "$BASHPID" >&9
		echo "$BASHPID" >"$T_DIR/holder"
		read -r _ <"$T_DIR/release"
	) &
	wait_until 10 test -s "$T_DIR/holder" || fail "the lock holder did not start"
	local holder
	holder=$(cat "$T_DIR/holder")
	run backup verify
	expect_rc 75
	expect_err "lock on backup directory $BK \(pid $holder\)"
	run backup verify --restore-test
	expect_rc 75
	run backup restore latest --yes --to "$T_DIR/to"
	expect_rc 75
	expect_err "pid $holder"
	[ ! -e "$T_DIR/to" ] || fail "restore wrote under --to while refused"
	run backup list
	expect_rc 0
	echo go >"$T_DIR/release"
	wait
	run backup verify --restore-test
	expect_rc 0
}

# A backup directory that is not there (a volume not mounted, a typo in
# --dest): list, verify, restore and prune say so (74, naming it) and make
# nothing; only create makes it (0700). An existing empty one holds no
# backups (0).
test_backup_missing_dir_is_74() {
	bk_setup '[check "backups"]
type = backup
critical = true'
	local sub
	for sub in list verify "restore latest --yes" "prune --keep-last 1"; do
		# shellcheck disable=SC2086
		run backup $sub
		expect_rc 74
		expect_err "backup directory $BK does not exist"
		expect_one_err_line
		[ ! -e "$BK" ] || fail "$sub made the backup directory"
		# shellcheck disable=SC2086
		run --json backup $sub --dest "$T_DIR/nodir"
		expect_rc 74
		expect_json '.error | test("backup directory .*/nodir does not exist")'
		[ ! -e "$T_DIR/nodir" ] || fail "$sub --dest made the directory"
	done
	run health backups
	expect_rc 2
	expect_out "no backup in $BK: the directory does not exist"
	mkdir -m 700 "$BK"
	run backup list
	expect_rc 0
	expect_out "no backups in $BK"
	run backup prune --keep-last 1
	expect_rc 0
	run backup verify
	expect_rc 2
	expect_err "no backup in $BK"
	run -o nagios backup verify --dest "$T_DIR/nodir"
	expect_rc 2
	expect_out "^BACKUP VERIFY CRITICAL - no backup in $T_DIR/nodir \| verified=0"
	expect_out "^backup directory $T_DIR/nodir does not exist"
	rm -r "$BK"
	run backup create --dest "$T_DIR/new/bk"
	expect_rc 0
	[ "$(stat -c %a "$T_DIR/new/bk")" = 700 ] || fail "create made it $(stat -c %a "$T_DIR/new/bk")"
}

# A backup that cannot be removed (here a stale partial of its id, not
# empty, stands where prune renames it) is not reported removed: prune
# says which one failed and why, removes the others, and exits 74.
test_backup_prune_failure_is_not_reported_as_removal() {
	bk_setup
	local i
	for i in 1 2 3; do run backup create; expect_rc 0; done
	local oldest middle newest
	oldest=$(bk_ids | tail -1)
	middle=$(bk_ids | sed -n 2p)
	newest=$(bk_ids | head -1)
	mkdir -p "$BK/.partial-$oldest/stuck"
	run --json backup prune --keep-last 1
	expect_rc 74
	expect_json '.backups[] | select(.id == "'"$oldest"'") | .removed == false and (.error | test("cannot remove"))'
	expect_json '.backups[] | select(.id == "'"$middle"'") | .removed == true'
	[ "$(bk_ids)" = "$(printf '%s\n%s' "$newest" "$oldest")" ] || fail "left: $(bk_ids)"
	rm -rf "$BK/.partial-$oldest"
	mkdir -p "$BK/.partial-$oldest/stuck"
	run backup prune --keep-last 1
	expect_rc 74
	expect_err "cannot remove $BK/$oldest: .*; 1 kept, 0 removed, 1 could not be removed"
	expect_one_err_line
}

# A FIFO in place of a stored file: verify finds it no regular file at
# once (it waited for a writer for ever).
test_backup_verify_fifo_in_backup_does_not_hang() {
	bk_setup 'compress = none'
	run --json backup create
	local id f
	id=$(jq -r .id "$OUT")
	f=$(find "$BK/$id/files" -name app.conf -type f)
	rm "$f"
	mkfifo "$f"
	OUT=$T_DIR/out ERR=$T_DIR/err
	# shellcheck disable=SC2086
	timeout "$(wrapped 120 20)" ${MC_WRAP:-} "$MC_BIN" backup verify "$id" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
	expect_rc 2
	expect_out "$id BAD: .*app.conf: not a regular file"
	# shellcheck disable=SC2086
	timeout "$(wrapped 120 20)" ${MC_WRAP:-} "$MC_BIN" backup restore "$id" --yes --to "$T_DIR/to" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
	expect_rc 2
	expect_err "failed verify: .*app.conf: not a regular file; nothing restored"
}
