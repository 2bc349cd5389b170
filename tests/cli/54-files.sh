# 54-files.sh - files are created safely: links planted where mercuryctl
# writes (textfile directory, locks) are never written through, state and
# lock directories of another user or writable by all are refused, a loose
# state file is tightened.

# victim: a file of ours that a planted link points at.
make_victim() {
	VICTIM=$T_DIR/victim
	printf 'precious\n' >"$VICTIM"
	chmod 600 "$VICTIM"
}

victim_untouched() {
	[ "$(cat "$VICTIM")" = precious ] || fail "the victim was written: $(head -c 200 "$VICTIM")"
	[ "$(stat -c %a "$VICTIM")" = 600 ] || fail "the victim's mode changed: $(stat -c %a "$VICTIM")"
}

test_textfile_dir_planted_links_are_not_followed() {
	local tf=$T_DIR/tf
	mkdir -p "$tf"
	chmod 1777 "$tf"
	make_victim
	conf "[core]"
	# A link at the temporary name the old code used (PATH.tmp.PID: the
	# pid is known when the process is exec'd from this shell) and one at
	# the final name.
	ln -s "$VICTIM" "$tf/mercuryctl_health.prom"
	OUT=$T_DIR/out ERR=$T_DIR/err
	sh -c 'ln -s "$1" "$2/mercuryctl_health.prom.tmp.$$"; shift 2; exec "$@"' sh \
		"$VICTIM" "$tf" ${MC_WRAP:-} "$MC_BIN" health --textfile-dir "$tf" \
		>"$OUT" 2>"$ERR" </dev/null
	RC=$?
	expect_rc 0
	victim_untouched
	[ -f "$tf/mercuryctl_health.prom" ] && [ ! -L "$tf/mercuryctl_health.prom" ] ||
		fail "the textfile is not a regular file"
	grep -q '^mercuryctl_run_exit_code' "$tf/mercuryctl_health.prom" ||
		fail "textfile content: $(head -c 300 "$tf/mercuryctl_health.prom")"
	[ "$(find "$tf" -name '*.tmp.*' ! -type l | wc -l)" = 0 ] ||
		fail "temporary files left: $(ls -la "$tf")"
}

test_lock_file_link_is_refused() {
	make_victim
	run breaker list
	expect_rc 0
	mkdir -p "$(dirname "$STATE")/locks"
	ln -s "$VICTIM" "$(dirname "$STATE")/locks/breaker.lock"
	run breaker reset some-target
	expect_rc 74
	expect_err 'breaker.lock is a symbolic link: refused'
	victim_untouched
	# A hard link is refused too: the lock would truncate its target.
	rm "$(dirname "$STATE")/locks/breaker.lock"
	ln "$VICTIM" "$(dirname "$STATE")/locks/breaker.lock"
	run breaker reset some-target
	expect_rc 74
	expect_err 'not a lock file of ours \(it has other names\)'
	victim_untouched
}

test_foreign_or_open_state_directory_is_refused() {
	local dir
	dir=$(dirname "$STATE")
	run breaker list
	expect_rc 0
	chmod 777 "$dir"
	run breaker list
	expect_rc 74
	expect_err "$dir: writable by every user \(mode 0777\): refused"
	chmod 700 "$dir"
	chmod 777 "$dir/locks" 2>/dev/null || mkdir -m 777 "$dir/locks"
	chmod 777 "$dir/locks"
	run breaker reset some-target
	expect_rc 74
	expect_err "locks: writable by every user"
	chmod 700 "$dir/locks"
	chown nobody "$dir"
	run breaker list
	expect_rc 74
	expect_err "$dir: owned by uid [0-9]+, not by this user"
	chown "$(id -u)" "$dir"
	run breaker list
	expect_rc 0
}

test_state_file_link_is_refused() {
	local real=$T_DIR/real.db
	run breaker list
	expect_rc 0
	mv "$STATE" "$real"
	ln -s "$real" "$STATE"
	run breaker list
	expect_rc 74
	expect_err 'state.db is a symbolic link: refused'
}

test_loose_state_file_is_tightened() {
	run breaker list
	expect_rc 0
	chmod 644 "$STATE"
	run breaker list
	expect_rc 0
	[ "$(stat -c %a "$STATE")" = 600 ] || fail "state file mode $(stat -c %a "$STATE")"
	for f in "$STATE-wal" "$STATE-shm"; do
		[ ! -e "$f" ] || [ "$(stat -c %a "$f")" = 600 ] || fail "$f mode $(stat -c %a "$f")"
	done
}
