#!/bin/bash
# Benchmark of `mercuryctl backup create` and `backup verify` on a state
# database of BACKUP_MB MiB (default 1024): check_results rows whose
# messages and values are of mixed sizes, part text, part random, so
# compression has work to do. Peers, measured in the same invocation:
#   - compress = none against `sqlite3 DB ".backup COPY"` + `sha256sum COPY`;
#   - zstd (the default level, and compress_level = 3 beside it) against
#     `sqlite3 .backup` + `zstd -T0 -3` + `sha256sum` of the
#     copy and of the compressed file (the two hashes a backup records),
#     one after another, and against `restic backup` of a consistent copy
#     (made once beforehand) into a fresh local repository; stored size
#     against zstd -3's;
#   - verify against `sha256sum` of the stored file + `PRAGMA
#     integrity_check` of a copy of the database already on disk;
#   - peak RSS of create and verify (/usr/bin/time).
# The commands take turns: BACKUP_RUNS rounds, each one hyperfine run of
# every command in a row, so a change in the machine's load falls on all of
# them alike; medians over the rounds.
# Prints a Markdown section on stdout; progress goes to stderr.
#
#   MC_BUILD     build directory (default build)
#   BACKUP_MB    size of the database (default 1024)
#   BACKUP_RUNS  rounds (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${MC_BUILD:-build}
case $B in /*) BIN=$B/mercuryctl ;; *) BIN=$PWD/$B/mercuryctl ;; esac
MB=${BACKUP_MB:-1024}
RUNS=${BACKUP_RUNS:-3}

die() { echo "bench_backup: $*" >&2; exit 1; }
say() { echo "bench_backup: $*" >&2; }

[ -x "$BIN" ] || die "$BIN missing (make first)"
for t in sqlite3 zstd restic sha256sum hyperfine jq; do
	command -v "$t" >/dev/null || die "$t missing (make deps)"
done

tmp=$(mktemp -d /tmp/mercury-bench-backup.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp RESTIC_PASSWORD=bench
unset MERCURY_CONFIG XDG_CONFIG_HOME
DB=$tmp/state.db
export MERCURY_STATE=$DB

say "filling a ${MB} MiB state database"
"$BIN" health >/dev/null 2>&1 || true	# the state schema
# Rows of mixed sizes: a JSON-ish message (compressible) of 40-1000 bytes
# and random hex of up to 800 bytes (about 2:1); recent times, so that
# the history pruning at the end of every run keeps them.
rows=$((MB * 1024 * 1024 / 790))
sqlite3 "$DB" >/dev/null <<SQL
PRAGMA journal_mode=WAL;
PRAGMA synchronous=OFF;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
INSERT INTO check_results (run_id, ts, check_name, type, status, critical,
	latency_ms, message, value)
SELECT (SELECT max(id) FROM runs), CAST(strftime('%s', 'now') AS REAL) - i / 100.0, 'check-' || (i % 97), 'http',
	CASE WHEN i % 13 = 0 THEN 'critical' ELSE 'ok' END, i % 2, (i % 997) / 3.0,
	printf('{"url":"https://svc-%d.example/health","status":%d,"body":"%s"}',
	       i % 211, 200 + i % 5, substr(printf('%.*c', 200, 'x') || 'the quick brown fox jumps over the lazy dog, status ok, latency fine; ', 1 + abs(random()) % 200, 40 + abs(random()) % 600))
	|| hex(randomblob(abs(random()) % 400)),
	i
FROM n;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
size=$(stat -c %s "$DB")
say "database: $((size >> 20)) MiB"

printf '[backup]\ndir = %s/bk-none\ncompress = none\n' "$tmp" >"$tmp/none.conf"
printf '[backup]\ndir = %s/bk-zstd\n' "$tmp" >"$tmp/zstd.conf"
printf '[backup]\ndir = %s/bk-zstd3\ncompress_level = 3\n' "$tmp" >"$tmp/zstd3.conf"
COPY=$tmp/copy.db

RCOPY=$tmp/restic-copy.db
sqlite3 "$DB" ".backup $RCOPY"
peer_none="bash -c 'sqlite3 $DB \".backup $COPY\" && sha256sum $COPY >/dev/null'"
peer_zstd="bash -c 'sqlite3 $DB \".backup $COPY\" && zstd -T0 -3 -q $COPY -o $COPY.zst && sha256sum $COPY $COPY.zst >/dev/null'"

say "create ($RUNS rounds): none, its peer, zstd, its peer, restic, zstd level 3"
for i in $(seq 1 "$RUNS"); do
	hyperfine -N --runs 1 --export-json "$tmp/create-$i.json" \
		--prepare "rm -rf $tmp/bk-none $COPY" \
		"$BIN -c $tmp/none.conf backup create" \
		--prepare "rm -rf $tmp/bk-none $COPY" \
		"$peer_none" \
		--prepare "rm -rf $tmp/bk-zstd $COPY $COPY.zst" \
		"$BIN -c $tmp/zstd.conf backup create" \
		--prepare "rm -rf $tmp/bk-zstd $COPY $COPY.zst" \
		"$peer_zstd" \
		--prepare "bash -c 'rm -rf $tmp/repo && restic -q -r $tmp/repo init >/dev/null'" \
		"restic -q -r $tmp/repo backup $RCOPY" \
		--prepare "rm -rf $tmp/bk-zstd3" \
		"$BIN -c $tmp/zstd3.conf backup create" >&2
done
zstd -T0 -3 -q -f "$RCOPY" -o "$tmp/zstd3.zst"
zstd_size=$(stat -c %s "$tmp/zstd3.zst")
level3_size=$(stat -c %s "$(find "$tmp/bk-zstd3" -name 'state.db.zst')")
rm -rf "$tmp/repo" "$tmp/zstd3.zst" "$RCOPY" "$tmp/bk-zstd3"

say "verify ($RUNS rounds): zstd, its peer, none, its peer"
rm -rf "$tmp/bk-zstd" "$tmp/bk-none" "$COPY" "$COPY.zst"
"$BIN" -c "$tmp/zstd.conf" backup create >/dev/null
"$BIN" -c "$tmp/none.conf" backup create >/dev/null
stored=$(find "$tmp/bk-zstd" -name 'state.db.zst')
stored_size=$(stat -c %s "$stored")
stored_none=$(find "$tmp/bk-none" -name 'state.db')
sqlite3 "$DB" ".backup $COPY"
for i in $(seq 1 "$RUNS"); do
	hyperfine -N --runs 1 --export-json "$tmp/verify-$i.json" \
		"$BIN -c $tmp/zstd.conf backup verify --latest" \
		"bash -c 'sha256sum $stored >/dev/null && sqlite3 $COPY \"PRAGMA integrity_check\" >/dev/null'" \
		"$BIN -c $tmp/none.conf backup verify --latest" \
		"bash -c 'sha256sum $stored_none >/dev/null && sqlite3 $COPY \"PRAGMA integrity_check\" >/dev/null'" >&2
done

say "peak RSS"
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1; }
rm -rf "$tmp/bk-zstd"
rss_create=$(rss "$BIN" -c "$tmp/zstd.conf" backup create)
rss_verify=$(rss "$BIN" -c "$tmp/zstd.conf" backup verify --latest)
rm -rf "$tmp/bk-none"
rss_none=$(rss "$BIN" -c "$tmp/none.conf" backup create)

# med NAME INDEX: the median over the rounds of command INDEX's time.
med() {
	jq -s "[.[].results[$2].median] | sort | .[length / 2 | floor]" \
		"$tmp/$1"-*.json
}
# cpu NAME INDEX: mean user + system seconds of command INDEX (steadier
# than wall time on a shared machine).
cpu() {
	jq -s "[.[].results[$2] | .user + .system] | add / length" \
		"$tmp/$1"-*.json
}
fmt() { printf '%.2f' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? "met" : "NOT met" }'; }

c_none=$(med create 0); p_none=$(med create 1)
c_zstd=$(med create 2); p_zstd=$(med create 3)
p_restic=$(med create 4)
c_zstd3=$(med create 5)
v_mc=$(med verify 0); v_peer=$(med verify 1)
vn_mc=$(med verify 2); vn_peer=$(med verify 3)
r_none=$(ratio "$c_none" "$p_none")
r_zstd=$(ratio "$c_zstd" "$p_zstd")
r_restic=$(ratio "$p_restic" "$c_zstd")
r_size=$(ratio "$stored_size" "$zstd_size")
r_verify=$(ratio "$v_mc" "$v_peer")
r_verify_none=$(ratio "$vn_mc" "$vn_peer")

load=$(cut -d' ' -f1 /proc/loadavg)
cat <<MD

## \`backup create\` and \`verify\`: a $((size >> 20)) MiB state database

A state file of check results with messages of mixed sizes (40-640
bytes of text and up to 800 bytes of random hex in each), $((size >> 20)) MiB,
on $(nproc) cores; measured at $(date -u +%H:%M) UTC with a load average of
$load. $RUNS rounds, each one hyperfine run (\`-N\`) of every command in the
table in turn; the figures are the medians over the rounds. The machine
is shared: read the ratios, not the absolute times.

What each side does:

- \`backup create\` (zstd, level 2, the default): SQLite's online backup API
  in one read transaction, its pages streamed straight (no copy on disk)
  through SHA-256, zstd (one worker per core, 2 MiB jobs) and SHA-256 of
  the compressed bytes into the stored file; then the manifest; every file
  and directory fsynced. With compress = none the same without zstd.
- Its peer, one after another: \`sqlite3 DB ".backup COPY"\`, \`zstd -T0 -3
  COPY\`, \`sha256sum COPY COPY.zst\`; none of them fsyncs. For compress =
  none: \`sqlite3 .backup\` and \`sha256sum COPY\`.
- restic: \`restic backup COPY\` of a copy made once beforehand (not timed)
  into a repository initialised before each run (not timed).
- \`backup create\` with \`compress_level = 3\`: the same at zstd's level
  3, for the trade-off of the default; its ratios are against the default
  (above 1: level 3 takes longer).
- \`backup verify --latest\` (zstd): decompresses the stored file on one
  thread while another writes it to a temporary copy; then runs \`PRAGMA
  integrity_check\` on the copy while the other thread hashes the copy
  (the original's SHA-256) and the stored file; compares both hashes and
  the size with the manifest. compress = none: hashes the stored file
  while integrity_check runs on it. Both keep two cores busy: with one
  free, their wall time nears their CPU time.
- Its peer: \`sha256sum\` of the stored file, then \`sqlite3 COPY "PRAGMA
  integrity_check"\` of a copy of the database that is already on disk (the
  decompression and the original's hash are not part of it).
- SHA-256: \`sha256sum\` is coreutils' portable code; mercuryctl uses
  OpenSSL's, which uses the processor's SHA instructions.

| | median wall | ratio | CPU (user + sys, mean) | ratio |
|---|---|---|---|---|
| mercuryctl backup create, compress = none | $(fmt "$c_none") s | 1.00 | $(fmt "$(cpu create 0)") s | 1.00 |
| sqlite3 .backup + sha256sum | $(fmt "$p_none") s | $(ratio "$p_none" "$c_none") | $(fmt "$(cpu create 1)") s | $(ratio "$(cpu create 1)" "$(cpu create 0)") |
| mercuryctl backup create, zstd | $(fmt "$c_zstd") s | 1.00 | $(fmt "$(cpu create 2)") s | 1.00 |
| sqlite3 .backup + zstd -T0 -3 + sha256sum (copy and .zst) | $(fmt "$p_zstd") s | $(ratio "$p_zstd" "$c_zstd") | $(fmt "$(cpu create 3)") s | $(ratio "$(cpu create 3)" "$(cpu create 2)") |
| restic backup of a copy (fresh local repository) | $(fmt "$p_restic") s | $(ratio "$p_restic" "$c_zstd") | $(fmt "$(cpu create 4)") s | $(ratio "$(cpu create 4)" "$(cpu create 2)") |
| mercuryctl backup create, zstd, compress_level = 3 | $(fmt "$c_zstd3") s | $(ratio "$c_zstd3" "$c_zstd") | $(fmt "$(cpu create 5)") s | $(ratio "$(cpu create 5)" "$(cpu create 2)") |
| mercuryctl backup verify, compress = none | $(fmt "$vn_mc") s | 1.00 | $(fmt "$(cpu verify 2)") s | 1.00 |
| sha256sum of the stored file + PRAGMA integrity_check of a copy | $(fmt "$vn_peer") s | $(ratio "$vn_peer" "$vn_mc") | $(fmt "$(cpu verify 3)") s | $(ratio "$(cpu verify 3)" "$(cpu verify 2)") |
| mercuryctl backup verify, zstd | $(fmt "$v_mc") s | 1.00 | $(fmt "$(cpu verify 0)") s | 1.00 |
| sha256sum of the stored .zst + PRAGMA integrity_check of a copy | $(fmt "$v_peer") s | $(ratio "$v_peer" "$v_mc") | $(fmt "$(cpu verify 1)") s | $(ratio "$(cpu verify 1)" "$(cpu verify 0)") |

Stored size: $((stored_size >> 20)) MiB against zstd -3's $((zstd_size >> 20)) MiB
(ratio $r_size); mercuryctl at compress_level = 3 stores $((level3_size >> 20)) MiB
(the default, level 2: see mercury.conf(5)). Peak RSS: create (zstd) $rss_create KiB, create (none)
$rss_none KiB, verify $rss_verify KiB.

Ratios above 1 in the peer rows mean mercuryctl is faster. The goals are
judged on the wall-clock medians:

Goals: create with compress = none at most 1.3x its peer ($r_none:
$(verdict "$r_none" 1.3001)); create with zstd faster than the three steps in
sequence ($r_zstd: $(verdict "$r_zstd" 0.9999)) and at least 2x faster than
restic ($r_restic: $(awk -v r="$r_restic" 'BEGIN { print (r >= 2) ? "met" : "NOT met" }'));
stored size within 10% of zstd -3's ($r_size: $(awk -v r="$r_size" 'BEGIN { print (r >= 0.9 && r <= 1.1) ? "met" : "NOT met" }'));
verify at most 1.3x its peer: compress = none $r_verify_none
($(verdict "$r_verify_none" 1.3001)), zstd $r_verify ($(verdict "$r_verify" 1.3001));
peak RSS of create and verify under 64 MiB ($(verdict "$rss_create" 65535),
$(verdict "$rss_verify" 65535)).
MD
