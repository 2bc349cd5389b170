#!/bin/bash
# Benchmark of `mercuryctl backup create` and `backup verify` on a state
# database of BACKUP_MB MiB (default 1024): check_results rows whose
# messages and values are of mixed sizes, part text, part random, so
# compression has work to do. Peers, measured in the same invocation:
#   - compress = none against `sqlite3 DB ".backup COPY"` + `sha256sum COPY`;
#   - zstd against `sqlite3 .backup` + `zstd -T0 -3` + `sha256sum` of the
#     copy and of the compressed file (the two hashes a backup records),
#     one after another, and against `restic backup` of the same copy into
#     a fresh local repository; stored size against zstd -3's;
#   - verify against `sha256sum` of the stored file + `PRAGMA
#     integrity_check` of the copy;
#   - peak RSS of create and verify (/usr/bin/time).
# Prints a Markdown section on stdout; progress goes to stderr.
#
#   MC_BUILD     build directory (default build)
#   BACKUP_MB    size of the database (default 1024)
#   BACKUP_RUNS  hyperfine runs of each command (default 3)
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
COPY=$tmp/copy.db

say "create, compress = none, against sqlite3 .backup + sha256sum"
hyperfine -N --runs "$RUNS" --export-json "$tmp/none.json" \
	--prepare "rm -rf $tmp/bk-none $COPY" \
	"$BIN -c $tmp/none.conf backup create" \
	--prepare "rm -rf $tmp/bk-none $COPY" \
	"bash -c 'sqlite3 $DB \".backup $COPY\" && sha256sum $COPY >/dev/null'" >&2

say "create, zstd, against sqlite3 .backup + zstd -T0 -3 + sha256sum, and restic"
hyperfine -N --runs "$RUNS" --export-json "$tmp/zstd.json" \
	--prepare "rm -rf $tmp/bk-zstd $COPY $COPY.zst" \
	"$BIN -c $tmp/zstd.conf backup create" \
	--prepare "rm -rf $tmp/bk-zstd $COPY $COPY.zst" \
	"bash -c 'sqlite3 $DB \".backup $COPY\" && zstd -T0 -3 -q $COPY -o $COPY.zst && sha256sum $COPY $COPY.zst >/dev/null'" >&2
# restic gets the same consistent copy, made once, into a fresh repository
# each run (a second backup of the same bytes would only deduplicate).
sqlite3 "$DB" ".backup $COPY"
hyperfine -N --runs "$RUNS" --export-json "$tmp/restic.json" \
	--prepare "bash -c 'rm -rf $tmp/repo && restic -q -r $tmp/repo init >/dev/null'" \
	"restic -q -r $tmp/repo backup $COPY" >&2
zstd -T0 -3 -q -f "$COPY" -o "$COPY.zst"
zstd_size=$(stat -c %s "$COPY.zst")

say "verify against sha256sum of the stored file + integrity_check"
rm -rf "$tmp/bk-zstd"
"$BIN" -c "$tmp/zstd.conf" backup create >/dev/null
stored=$(find "$tmp/bk-zstd" -name 'state.db.zst')
stored_size=$(stat -c %s "$stored")
hyperfine -N --runs "$RUNS" --export-json "$tmp/verify.json" \
	"$BIN -c $tmp/zstd.conf backup verify --latest" \
	"bash -c 'sha256sum $stored >/dev/null && sqlite3 $COPY \"PRAGMA integrity_check\" >/dev/null'" >&2

rm -rf "$tmp/bk-none"
"$BIN" -c "$tmp/none.conf" backup create >/dev/null
stored_none=$(find "$tmp/bk-none" -name 'state.db')
hyperfine -N --runs "$RUNS" --export-json "$tmp/verify-none.json" \
	"$BIN -c $tmp/none.conf backup verify --latest" \
	"bash -c 'sha256sum $stored_none >/dev/null && sqlite3 $COPY \"PRAGMA integrity_check\" >/dev/null'" >&2

say "peak RSS"
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1; }
rm -rf "$tmp/bk-zstd"
rss_create=$(rss "$BIN" -c "$tmp/zstd.conf" backup create)
rss_verify=$(rss "$BIN" -c "$tmp/zstd.conf" backup verify --latest)
rm -rf "$tmp/bk-none"
rss_none=$(rss "$BIN" -c "$tmp/none.conf" backup create)

med() { jq -r ".results[$2].median" "$1"; }
# cpu JSON INDEX: mean user + system seconds (steadier than wall time on a
# shared machine).
cpu() { jq -r ".results[$2] | .user + .system" "$1"; }
fmt() { printf '%.2f' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? "met" : "NOT met" }'; }

c_none=$(med "$tmp/none.json" 0); p_none=$(med "$tmp/none.json" 1)
c_zstd=$(med "$tmp/zstd.json" 0); p_zstd=$(med "$tmp/zstd.json" 1)
p_restic=$(med "$tmp/restic.json" 0)
v_mc=$(med "$tmp/verify.json" 0); v_peer=$(med "$tmp/verify.json" 1)
vn_mc=$(med "$tmp/verify-none.json" 0); vn_peer=$(med "$tmp/verify-none.json" 1)
r_none=$(ratio "$c_none" "$p_none")
r_zstd=$(ratio "$c_zstd" "$p_zstd")
r_restic=$(ratio "$p_restic" "$c_zstd")
r_size=$(ratio "$stored_size" "$zstd_size")
r_verify=$(ratio "$v_mc" "$v_peer")
r_verify_none=$(ratio "$vn_mc" "$vn_peer")

cat <<MD

## \`backup create\` and \`verify\`: a $((size >> 20)) MiB state database

A state file of check results with messages of mixed sizes (40-640
bytes of text and up to 800 bytes of random hex in each), $((size >> 20)) MiB; medians of $RUNS
runs each (hyperfine), on $(nproc) cores. \`create\` copies it with SQLite's
online backup API and streams the copy once through SHA-256, zstd (level
3, one worker per core, 2 MiB jobs) and SHA-256 of the stored bytes,
fsyncing every file; the peers do the same steps one after another,
without fsync. The machine is shared (other builds and tests ran at the
same time): read the ratios, not the absolute times.

| | median wall | ratio | CPU (user + sys) | ratio |
|---|---|---|---|---|
| mercuryctl backup create, compress = none | $(fmt "$c_none") s | 1.00 | $(fmt "$(cpu "$tmp/none.json" 0)") s | 1.00 |
| sqlite3 .backup + sha256sum | $(fmt "$p_none") s | $(ratio "$p_none" "$c_none") | $(fmt "$(cpu "$tmp/none.json" 1)") s | $(ratio "$(cpu "$tmp/none.json" 1)" "$(cpu "$tmp/none.json" 0)") |
| mercuryctl backup create, zstd | $(fmt "$c_zstd") s | 1.00 | $(fmt "$(cpu "$tmp/zstd.json" 0)") s | 1.00 |
| sqlite3 .backup + zstd -T0 -3 + sha256sum (copy and .zst) | $(fmt "$p_zstd") s | $(ratio "$p_zstd" "$c_zstd") | $(fmt "$(cpu "$tmp/zstd.json" 1)") s | $(ratio "$(cpu "$tmp/zstd.json" 1)" "$(cpu "$tmp/zstd.json" 0)") |
| restic backup of the same copy (fresh local repository) | $(fmt "$p_restic") s | $(ratio "$p_restic" "$c_zstd") | $(fmt "$(cpu "$tmp/restic.json" 0)") s | $(ratio "$(cpu "$tmp/restic.json" 0)" "$(cpu "$tmp/zstd.json" 0)") |
| mercuryctl backup verify, compress = none | $(fmt "$vn_mc") s | 1.00 | $(fmt "$(cpu "$tmp/verify-none.json" 0)") s | 1.00 |
| sha256sum of the stored file + PRAGMA integrity_check of it | $(fmt "$vn_peer") s | $(ratio "$vn_peer" "$vn_mc") | $(fmt "$(cpu "$tmp/verify-none.json" 1)") s | $(ratio "$(cpu "$tmp/verify-none.json" 1)" "$(cpu "$tmp/verify-none.json" 0)") |
| mercuryctl backup verify, zstd | $(fmt "$v_mc") s | 1.00 | $(fmt "$(cpu "$tmp/verify.json" 0)") s | 1.00 |
| sha256sum of the stored .zst + PRAGMA integrity_check of the copy | $(fmt "$v_peer") s | $(ratio "$v_peer" "$v_mc") | $(fmt "$(cpu "$tmp/verify.json" 1)") s | $(ratio "$(cpu "$tmp/verify.json" 1)" "$(cpu "$tmp/verify.json" 0)") |

Stored size: $((stored_size >> 20)) MiB against zstd -3's $((zstd_size >> 20)) MiB
(ratio $r_size). Peak RSS: create (zstd) $rss_create KiB, create (none)
$rss_none KiB, verify $rss_verify KiB.

Ratios above 1 in the peer rows mean mercuryctl is faster. The goals are
judged on the wall-clock medians:

Goals: create with compress = none at most 1.3x its peer ($r_none:
$(verdict "$r_none" 1.3001)); create with zstd faster than the three steps in
sequence ($r_zstd: $(verdict "$r_zstd" 0.9999)) and at least 2x faster than
restic ($r_restic: $(awk -v r="$r_restic" 'BEGIN { print (r >= 2) ? "met" : "NOT met" }'));
stored size within 10% of zstd -3's ($r_size: $(awk -v r="$r_size" 'BEGIN { print (r >= 0.9 && r <= 1.1) ? "met" : "NOT met" }'));
verify at most 1.3x its peer: compress = none $r_verify_none
($(verdict "$r_verify_none" 1.3001)), zstd $r_verify ($(verdict "$r_verify" 1.3001); a zstd
backup is also decompressed, its original hashed and written to a
temporary copy for integrity_check, three steps the peer does not take); peak
RSS of create and verify under 64 MiB ($(verdict "$rss_create" 65535),
$(verdict "$rss_verify" 65535)).
MD
