# 82-backup-conform.sh - backup as a monitoring system and §2.9 see it:
# verify's Nagios verdict, the note escaped in the state file, a file-size
# limit reported as an I/O error rather than a kill.

. "$(dirname "${BASH_SOURCE[0]}")/backup-lib.sh"

# A Nagios user of `backup verify` gets a verdict: OK (exit 0) with the
# count verified, CRITICAL (exit 2) naming the bad backup, file and reason
# on one line, perfdata after '|'; never UNKNOWN for a result it has.
test_backup_verify_nagios_verdict() {
	bk_setup
	local id
	run -o nagios backup verify
	expect_rc 2
	expect_out "^BACKUP VERIFY CRITICAL - no backup in $BK \| verified=0"
	run --json backup create
	expect_rc 0
	id=$(jq -r .id "$OUT")
	run -o nagios backup verify --latest
	expect_rc 0
	expect_out "^BACKUP VERIFY OK - 1 backup verified \| verified=1 bad=0"
	[ "$(wc -l <"$OUT")" = 1 ] || fail "not one line: $(out)"
	run -o nagios backup verify --all --restore-test
	expect_rc 0
	expect_out "^BACKUP VERIFY OK - 1 backup verified with a restore drill \|.* restore_seconds=[0-9.]+s"
	run backup create
	damage flip "$id"
	run -o nagios backup verify --all
	expect_rc 2
	expect_out "^BACKUP VERIFY CRITICAL - 1 of 2 bad: $id BAD: files/.*tokens\.txt\.zst: .* \| verified=2 bad=1"
	[ "$(wc -l <"$OUT")" = 1 ] || fail "not one line: $(out)"
}

# §2.9: the note is untrusted text; the manifest and JSON keep it, the
# state file's catalogue and the text table show it escaped.
test_backup_note_escaped_in_state() {
	bk_setup
	run backup create --note $'before\e]0;title\abetween\e[2Jafter'
	expect_rc 0
	[ "$(sql "SELECT count(*) FROM backups WHERE note GLOB '*'||char(27)||'*'")" = 0 ] ||
		fail "ESC stored raw in the catalogue"
	[ "$(sql "SELECT note FROM backups")" = 'before\x1B]0;title\x07between\x1B[2Jafter' ] ||
		fail "note in the catalogue: $(sql "SELECT note FROM backups" | cat -v)"
	run --json backup list
	expect_json '.backups[0].note == "before\u001b]0;title\u0007between\u001b[2Jafter"'
	run backup list
	! grep -q $'\e' "$OUT" || fail "ESC reached the terminal"
	expect_out 'before\\x1B\]0;title\\x07between'
}

# A file-size limit (ulimit -f) is a write error like a full disk - exit 74
# with one line - not SIGXFSZ killing the run (exit 153) half-way, even
# when the limit bites on the state file before the command starts.
test_file_size_limit_is_74_not_a_kill() {
	bk_setup
	OUT=$T_DIR/out ERR=$T_DIR/err
	(ulimit -f 8; exec "$MC_BIN" backup create) >"$OUT" 2>"$ERR" </dev/null
	RC=$?
	expect_rc 74
	expect_one_err_line
	[ ! -d "$BK" ] || [ "$(partials)" = 0 ] || fail "partial left behind"
}

# §2.9: restore puts files back at the paths a manifest names, as root in
# production: a backup directory (or one backup in it) that another user
# could write might hold a planted backup - the manifest's checksum is no
# signature. Restoring in place from it is refused, exit 74, nothing
# touched (create and prune already refused such a directory); --to DIR,
# which keeps every file under DIR and runs nothing, still works.
test_backup_restore_refuses_a_dir_others_can_write() {
	bk_setup
	local id
	run --json backup create
	id=$(jq -r .id "$OUT")
	printf 'changed\n' >"$DATA/app.conf"
	chmod 0777 "$BK"
	run backup restore latest --yes
	expect_rc 74
	expect_err "$BK: writable by every user .*refused.*nothing restored.*--to DIR"
	chmod 0700 "$BK"
	chmod 0777 "$BK/$id"
	run backup restore "$id" --yes --only "$DATA/app.conf"
	expect_rc 74
	expect_err "$BK/$id: writable by every user"
	[ "$(cat "$DATA/app.conf")" = changed ] || fail "restore touched app.conf"
	[ -z "$(find "$DATA" -name '*.pre-restore-*')" ] || fail "restore left copies"
	run backup restore "$id" --yes --to "$T_DIR/scratch"
	expect_rc 0
	[ "$(cat "$T_DIR/scratch$DATA/app.conf")" = 'app = 1' ] || fail "not restored under --to"
	chmod 0700 "$BK/$id"
	run backup restore "$id" --yes
	expect_rc 0
	[ "$(cat "$DATA/app.conf")" = 'app = 1' ] || fail "not restored"
}

# A file whose name holds an escape sequence, dropped into an included
# directory: the backup is refused as bad input data (65), not as a
# configuration error (78 promises a file and line), with the name escaped
# on stderr and nothing listed.
test_backup_hostile_file_name_is_65_escaped() {
	bk_setup
	printf 'x\n' >"$DATA/sub/evil"$'\e]0;pwn\a'".conf"
	run backup create
	expect_rc 65
	expect_one_err_line
	expect_err 'cannot back up .*/sub/evil\\x1B\]0;pwn\\x07\.conf: .*control characters'
	! grep -q $'\e' "$ERR" || fail "ESC reached stderr"
	[ "$(bk_count)" = 0 ] || fail "a backup is listed"
	[ "$(partials)" = 0 ] || fail "partial left behind"
	printf 'exclude = *pwn*\n' >>"$MERCURY_CONFIG"
	run backup create
	expect_rc 0
}
