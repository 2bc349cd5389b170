# 81-backup-sources.sh - backup_source commands, restore_commands and
# restore hooks: failures, timeouts that kill the whole tree, a real
# PostgreSQL dumped and restored, and the progress bar.
. "$(dirname "${BASH_SOURCE[0]}")/backup-lib.sh"

# Sources that fail, print nothing, or overrun their timeout (with a
# grandchild in a session of its own): exit 2, nothing listed, no partial,
# no process left.
test_backup_failing_sources_fail_the_backup() {
	local cmd why
	for cmd in "/bin/sh -c \"echo half; exit 3\"|exited 3" \
		"/bin/true|printed nothing" \
		"/bin/sh -c \"setsid sleep 30 & echo \\\$! >$T_DIR/gc.pid; echo data; sleep 30\"|overran its timeout"; do
		why=${cmd#*|}
		bk_setup "[backup_source \"dump\"]
command = ${cmd%|*}
timeout = 500ms"
		rm -f "$T_DIR/gc.pid"
		run backup create
		expect_rc 2
		expect_err "backup_source 'dump' $why"
		expect_one_err_line
		[ "$(bk_count)" = 0 ] || fail "a backup is listed after '$why'"
		[ "$(partials)" = 0 ] || fail "a partial is left after '$why'"
		if [ -s "$T_DIR/gc.pid" ]; then
			local gc
			gc=$(cat "$T_DIR/gc.pid")
			wait_until 5 eval "! kill -0 $gc" || fail "the grandchild $gc survived"
		fi
	done
	[ -s "$T_DIR/gc.pid" ] || fail "the overrun case never started its grandchild"
	# Its last line on stderr is quoted escaped, as all untrusted text.
	printf '#!/bin/sh\nprintf "first\\n\\033[2Jgone\\001" >&2\nexit 3\n' >"$T_DIR/noisy"
	chmod +x "$T_DIR/noisy"
	bk_setup "[backup_source \"dump\"]
command = $T_DIR/noisy"
	run backup create
	expect_rc 2
	expect_err "backup_source 'dump' exited 3 \(\\\\x1B\[2Jgone\\\\x01\)"
}

# PostgreSQL: pg_dump -Fc as a source, rows changed, pg_restore --clean
# --if-exists as its restore_command, rows back.
test_backup_postgres_round_trip() {
	local db=app_$$ pg="-h 127.0.0.1 -p $MC_TEST_PG_PORT -U postgres"
	psql() { "$MC_TEST_PG_BIN/psql" $pg -v ON_ERROR_STOP=1 -Atq "$@"; }
	psql -d postgres -c "CREATE DATABASE $db" || fail "createdb"
	psql -d "$db" -c "CREATE TABLE accounts (id int PRIMARY KEY, owner text, balance numeric);
		INSERT INTO accounts SELECT g, 'owner-' || g, g * 10 FROM generate_series(1, 500) g;"
	bk_setup "before_restore = /bin/sh -c \"echo before >>$T_DIR/hooks\"
after_restore = /bin/sh -c \"echo after >>$T_DIR/hooks\"
[backup_source \"pg\"]
command = $MC_TEST_PG_BIN/pg_dump -Fc $pg $db
file = app.pgdump
timeout = 60s
restore_command = $MC_TEST_PG_BIN/pg_restore --clean --if-exists $pg -d $db"
	run --json backup create
	expect_rc 0
	expect_json '.backup.files | map(select(.kind == "source" and .source == "pg")) | length == 1'
	local id
	id=$(jq -r .id "$OUT")
	psql -d "$db" -c "DELETE FROM accounts WHERE id > 100; UPDATE accounts SET balance = 0;"
	[ "$(psql -d "$db" -c 'SELECT count(*), sum(balance) FROM accounts')" = '100|0' ] ||
		fail "the change did not take"
	run backup verify "$id"
	expect_rc 0
	run backup restore "$id" --yes --only pg
	expect_rc 0
	[ "$(psql -d "$db" -c 'SELECT count(*), sum(balance) FROM accounts')" = '500|1252500' ] ||
		fail "rows not back: $(psql -d "$db" -c 'SELECT count(*), sum(balance) FROM accounts')"
	[ "$(cat "$T_DIR/hooks")" = $'before\nafter' ] || fail "hooks: $(cat "$T_DIR/hooks")"
	# --to writes the dump itself; pg_restore reads it.
	run backup restore "$id" --yes --to "$T_DIR/to" --only pg
	expect_rc 0
	"$MC_TEST_PG_BIN/pg_restore" --list "$T_DIR/to/sources/app.pgdump" | grep -q 'TABLE DATA public accounts' ||
		fail "the dump under --to is not a pg_dump archive"
	# A failing restore_command: reported, the hooks after it not run.
	bk_setup "[backup_source \"pg\"]
command = $MC_TEST_PG_BIN/pg_dump -Fc $pg $db
restore_command = $MC_TEST_PG_BIN/pg_restore $pg -d no_such_db_$$"
	run backup restore "$id" --yes --only pg
	expect_rc 2
	expect_err "restore_command of backup_source 'pg' exited 1"
	expect_err 'replaced: none; not replaced: source pg'
	psql -d postgres -c "DROP DATABASE $db"
}

test_backup_before_restore_failing_touches_nothing() {
	bk_setup "before_restore = /bin/false"
	run backup create
	printf 'app = 9\n' >"$DATA/app.conf"
	run backup restore latest --yes
	expect_rc 2
	expect_err 'before_restore exited 1'
	[ "$(cat "$DATA/app.conf")" = 'app = 9' ] || fail "restored anyway"
}

# A progress bar on a terminal for work over a second (a slow source),
# none when stderr is not one.
test_backup_progress_bar_only_on_a_tty() {
	bk_setup "[backup_source \"slow\"]
command = /bin/sh -c \"echo start; sleep 1.3; head -c 300000 /dev/zero\""
	script -qec "$MC_BIN backup create" /dev/null </dev/null >"$T_DIR/tty.out" 2>&1
	grep -q $'\r\\[[# -]*\\] ' "$T_DIR/tty.out" || fail "no bar on a tty: $(od -c "$T_DIR/tty.out" | head -5)"
	run backup create
	expect_rc 0
	expect_no_err '\['
	! grep -q $'\r' "$ERR" || fail "a bar when not on a tty"
}

# SIGINT while a source runs: exit 130, the source's tree killed, the
# partial backup gone, nothing listed.
test_backup_sigint_during_a_source() {
	bk_setup "[backup_source \"slow\"]
command = /bin/sh -c \"echo \\\$\\\$ >$T_DIR/src.pid; echo start; exec sleep 30\""
	"$MC_BIN" backup create >/dev/null 2>"$T_DIR/err" &
	local pid=$! src
	wait_until 10 test -s "$T_DIR/src.pid" || fail "the source did not start"
	wait_until 10 has_partial || fail "no partial"
	src=$(cat "$T_DIR/src.pid")
	kill -INT "$pid"
	wait "$pid"
	RC=$?
	expect_rc 130
	grep -q 'interrupted by SIGINT' "$T_DIR/err" || fail "stderr: $(cat "$T_DIR/err")"
	[ "$(partials)" = 0 ] || fail "partial left"
	[ "$(bk_count)" = 0 ] || fail "a backup is listed"
	wait_until 5 eval "! kill -0 $src" || fail "the source $src survived"
}

# A source whose command exits while a process it started still writes
# its output (a dump finished by a helper, a wrapper that forks): every
# byte is read and stored, not cut when the command exits and stored as
# whole. One that holds its output past the source's timeout, or past the
# run's deadline, fails the backup (exit 2), its tree killed, nothing
# listed.
test_backup_source_output_read_to_its_end() {
	bk_setup "compress = none
[backup_source \"late\"]
command = /bin/sh -c \"(sleep 0.5; echo late) & echo early\"
file = late.txt
timeout = 60s"
	run --json backup create
	expect_rc 0
	local id
	id=$(jq -r .id "$OUT")
	[ "$(cat "$BK/$id/sources/late.txt")" = $'early\nlate' ] ||
		fail "stored: '$(cat "$BK/$id/sources/late.txt")'"
	run backup verify "$id"
	expect_rc 0
	bk_setup "compress = none
[backup_source \"held\"]
command = /bin/sh -c \"sleep 60 & echo \\\$! >$T_DIR/held.pid; echo early\"
file = held.txt
timeout = 1s"
	run backup create
	expect_rc 2
	expect_err "backup_source 'held' overran its timeout of 1s: its process tree was killed"
	expect_one_err_line
	[ "$(bk_count)" = 1 ] || fail "a backup is listed"
	[ "$(partials)" = 0 ] || fail "a partial is left"
	wait_until 5 eval "! kill -0 $(cat "$T_DIR/held.pid")" || fail "the holder survived"
	bk_setup "compress = none
[backup_source \"held\"]
command = /bin/sh -c \"sleep 60 & echo \\\$! >$T_DIR/held.pid; echo early\"
file = held.txt"
	run --timeout "$(wrapped 15s 1s)" backup create
	expect_rc 2
	expect_err "backup_source 'held' stopped at the run's deadline"
	[ "$(bk_count)" = 1 ] || fail "a backup is listed"
	wait_until 5 eval "! kill -0 $(cat "$T_DIR/held.pid")" || fail "the holder survived"
}
