# backup-lib.sh - helpers of the backup CLI tests (sourced by 8x-backup*.sh).

# bk_setup [EXTRA CONFIG]: files under $T_DIR/data, backups in $T_DIR/bk.
bk_setup() {
	BK=$T_DIR/bk
	DATA=$T_DIR/data
	mkdir -p "$DATA/sub"
	printf 'app = 1\n' >"$DATA/app.conf"
	printf 'token-%s\n' {1..2000} >"$DATA/sub/tokens.txt"
	printf 'skip me\n' >"$DATA/sub/scratch.tmp"
	conf "[backup]
dir = $BK
include = $DATA
exclude = *.tmp
${1:-}"
}

bk_ids() { "$MC_BIN" backup list --json 2>/dev/null | jq -r '.backups[].id'; }
bk_count() { bk_ids | wc -l; }
partials() { find "$BK" -maxdepth 1 -name '.partial-*' | wc -l; }
has_partial() { [ "$(partials)" -gt 0 ]; }

# resign FILE: recomputes a manifest's checksum after a hand edit (the
# SHA-256 of the document without it, compact with sorted keys).
resign() {
	local body sum
	body=$(jq -cS 'del(.checksum)' "$1")
	sum=$(printf '%s' "$body" | sha256sum | cut -d' ' -f1)
	jq -S --arg s "$sum" '. + {checksum: $s}' "$1" >"$1.new" && mv "$1.new" "$1"
}

# mb N: N MiB of test data, a sixth of it under valgrind (MC_WRAP), where
# every byte is hashed fifty times slower.
mb() { if [ -n "${MC_WRAP:-}" ]; then echo $((($1 / 6 + 1) << 20)); else echo $(($1 << 20)); fi; }

# damage KIND ID: one way a stored backup goes bad.
damage() {
	local f
	f=$(find "$BK/$2/files" -name 'tokens.txt*' -type f)
	case $1 in
	flip)	# byte 100 with all its bits inverted: a change whatever it was
		local b
		b=$(od -An -tu1 -j100 -N1 "$f" | tr -d ' ')
		printf "\\$(printf '%03o' $((b ^ 255)))" |
			dd of="$f" bs=1 seek=100 count=1 conv=notrunc status=none ;;
	truncate) truncate -s -7 "$f" ;;
	delete) rm -f "$f" ;;
	manifest) sed -i 's/"note": null/"note": "edited"/' "$BK/$2/manifest.json" ;;
	esac
}
