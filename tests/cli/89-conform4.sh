# 89-conform4.sh - PRODUCT.md sentences a black-box tester checks, found
# wrong by the fourth conformance sweep: prune's --keep-within boundary,
# the breakers of health checks, ...

. "$(dirname "${BASH_SOURCE[0]}")/backup-lib.sh"

# bk_at ID CREATED: a copy of the first backup in $BK under ID, its
# manifest saying it was created at CREATED (RFC 3339), re-signed.
bk_at() {
	local src
	src=$BK/$(bk_ids | tail -1)
	cp -a "$src" "$BK/$1"
	jq --arg c "$2" --arg id "$1" '.created = $c | .id = $id' \
		"$BK/$1/manifest.json" >"$T_DIR/m.json" &&
		cat "$T_DIR/m.json" >"$BK/$1/manifest.json"
	resign "$BK/$1/manifest.json"
	chmod 600 "$BK/$1/manifest.json"
}

# §3.5: "--keep-within D every backup within D of the newest one (restic's
# rule)". restic keeps a snapshot whose time is after newest - D: one
# exactly D older than the newest is removed (restic 0.14 forget --dry-run
# --keep-within 1h removes the snapshot of 09:00 beside one of 10:00).
test_prune_keep_within_boundary_as_restic() {
	bk_setup
	run backup create
	expect_rc 0
	local first
	first=$(bk_ids)
	bk_at 20261003T100000Z-aaaa 2026-10-03T10:00:00.000Z
	bk_at 20261003T093000Z-bbbb 2026-10-03T09:30:00.000Z
	bk_at 20261003T090000Z-cccc 2026-10-03T09:00:00.000Z
	rm -rf "${BK:?}/$first"
	run backup prune --keep-within 1h --dry-run --json
	expect_rc 0
	expect_json '[.backups[] | select(.action == "keep") | .id] == ["20261003T100000Z-aaaa", "20261003T093000Z-bbbb"]'
	expect_json '.backups[] | select(.id == "20261003T090000Z-cccc") | .action == "remove"'
	run backup prune --keep-within 1h
	expect_rc 0
	[ "$(bk_ids | tr '\n' ' ')" = "20261003T100000Z-aaaa 20261003T093000Z-bbbb " ] ||
		fail "kept: $(bk_ids | tr '\n' ' ')"
}
