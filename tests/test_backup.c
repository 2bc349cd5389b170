/* test_backup.c - manifests, the streaming pass and restic's forget rules
 * (lib/backup_manifest.c, lib/backup_stream.c, lib/backup_prune.c); a
 * create, verify and restore at library level. The CLI tests
 * (tests/cli/80-backup.sh) cover faults end to end. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backup.h"
#include "backup_int.h"
#include "state.h"
#include "testlib.h"

/* ---- paths and ids ---------------------------------------------------------- */

Test(backup, path_rules)
{
	static const struct {
		const char *p;
		int rel, abs;
	} cases[] = {
		{ "state.db.zst", 1, 0 },
		{ "files/etc/mercury/mercury.conf.zst", 1, 0 },
		{ "/etc/passwd", 0, 1 },
		{ "../x", 0, 0 },
		{ "files/../../etc/passwd", 0, 0 },
		{ "files/./x", 0, 0 },
		{ "files//x", 0, 0 },
		{ "files/x/", 0, 0 },
		{ "", 0, 0 },
		{ "/", 0, 0 },
		{ "/etc/../root", 0, 0 },
		{ "/etc/..hidden", 0, 1 },
		{ "a\nb", 0, 0 },
		{ "..", 0, 0 },
		{ "...", 1, 0 },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		cr_expect_eq(mc_bk_path_safe(cases[i].p), cases[i].rel,
			     "relative '%s'", cases[i].p);
		cr_expect_eq(mc_bk_abs_path_safe(cases[i].p), cases[i].abs,
			     "absolute '%s'", cases[i].p);
	}
	cr_expect(mc_bk_id_valid("20261207T020000Z-3f9a"));
	cr_expect(!mc_bk_id_valid("20261207T020000Z-3F9A"));
	cr_expect(!mc_bk_id_valid("20261207T020000Z-3f9"));
	cr_expect(!mc_bk_id_valid("../1207T020000Z-3f9a"));
	cr_expect(!mc_bk_id_valid(".partial-20261207T020000Z-3f9a"));
}

/* ---- manifests --------------------------------------------------------------- */

static struct mc_bk_manifest *sample(void)
{
	struct mc_bk_manifest *m = mc_calloc(1, sizeof(*m));

	m->format = MC_BK_FORMAT;
	m->id = mc_strdup("20261207T020000Z-3f9a");
	m->created = 1796608800.25;
	m->host = mc_strdup("box");
	m->tool_version = mc_strdup("0.1.0");
	m->note = mc_strdup("nightly \"one\"");
	m->correlation_id = mc_strdup("abc");
	m->duration = 1.5;
	m->n_files = 2;
	m->files = mc_calloc(2, sizeof(*m->files));
	m->files[0].path = mc_strdup("state.db.zst");
	m->files[0].original = mc_strdup("/var/lib/mercury/state.db");
	m->files[0].kind = MC_BK_STATE;
	m->files[0].mode = 0600;
	m->files[0].size = 4096;
	m->files[0].stored_size = 100;
	m->files[0].zstd = 1;
	m->files[0].sqlite = 1;
	memset(m->files[0].sha256, 'a', 64);
	memset(m->files[0].sha256_original, 'b', 64);
	m->files[1].path = mc_strdup("sources/app.pgdump.zst");
	m->files[1].source = mc_strdup("pg");
	m->files[1].kind = MC_BK_SOURCE;
	m->files[1].mode = 0600;
	m->files[1].size = 10;
	m->files[1].stored_size = 20;
	m->files[1].zstd = 1;
	memset(m->files[1].sha256, 'c', 64);
	memset(m->files[1].sha256_original, 'd', 64);
	return m;
}

Test(backup, manifest_round_trip)
{
	struct mc_bk_manifest *m = sample(), *back = NULL;
	char *text = mc_bk_manifest_dump(m);
	struct mc_err err = { 0 };

	cr_assert_eq(mc_bk_manifest_parse(text, strlen(text), &back, &err), 0,
		     "%s", err.msg);
	cr_expect_str_eq(back->id, m->id);
	cr_expect_eq(back->created, m->created);
	cr_expect_str_eq(back->note, "nightly \"one\"");
	cr_expect_eq(back->n_files, 2);
	cr_expect_str_eq(back->files[0].original, "/var/lib/mercury/state.db");
	cr_expect_eq(back->files[0].kind, MC_BK_STATE);
	cr_expect_eq(back->files[0].sqlite, 1);
	cr_expect_eq(back->files[1].original, NULL);
	cr_expect_str_eq(back->files[1].source, "pg");
	cr_expect_eq(back->files[1].stored_size, 20);
	cr_expect_eq(mc_bk_manifest_size(back), 4106);
	cr_expect_eq(back->duration, 1.5);
	mc_bk_manifest_free(back);
	free(text);
	mc_bk_manifest_free(m);
}

/* Replaces the first `from` in text with `to`. */
static char *edit(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);

	cr_assert_not_null(at, "'%s' not in the manifest", from);
	return mc_asprintf("%.*s%s%s", (int)(at - text), text, to,
			   at + strlen(from));
}

/* The checksum member recomputed, as an attacker (or a careless hand)
 * who knows the format would: the other rules must still hold. */
static char *resign(const char *text)
{
	json_t *doc = json_loads(text, 0, NULL);
	char *s, sum[65], *out;

	cr_assert_not_null(doc);
	json_object_del(doc, "checksum");
	s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	mc_bk_sha256_hex(s, strlen(s), sum);
	free(s);
	json_object_set_new(doc, "checksum", json_string(sum));
	out = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return out;
}

Test(backup, manifest_edits_refused)
{
	struct mc_bk_manifest *m = sample(), *back = NULL;
	char *text = mc_bk_manifest_dump(m);
	static const struct {
		const char *from, *to, *why;
		int resign;
	} cases[] = {
		{ "nightly", "weekly!", "checksum mismatch", 0 },
		{ "\"size\": 4096", "\"size\": 4097", "checksum mismatch", 0 },
		{ "state.db.zst", "/etc/shadow", "unsafe path", 1 },
		{ "state.db.zst", "../../etc/shadow", "unsafe path", 1 },
		{ "state.db.zst", "files/../../x", "unsafe path", 1 },
		{ "/var/lib/mercury/state.db", "var/lib/state.db",
		  "original path", 1 },
		{ "/var/lib/mercury/state.db", "/var/../etc/passwd",
		  "original path", 1 },
		{ "\"zstd\"", "\"lz4\"", "unknown compression", 1 },
		{ "\"state\"", "\"other\"", "unknown kind", 1 },
		{ "\"format\": 1", "\"format\": 2", "format 2", 1 },
		{ "\"format\": 1", "\"format\": \"1\"", "format", 1 },
		{ "aaaaaaaa", "AAAAAAAA", "SHA-256", 1 },
		{ "sources/app.pgdump.zst", "state.db.zst", "appears twice", 1 },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		struct mc_err err = { 0 };
		char *e = edit(text, cases[i].from, cases[i].to);

		if (cases[i].resign) {
			char *r = resign(e);

			free(e);
			e = r;
		}
		cr_expect_eq(mc_bk_manifest_parse(e, strlen(e), &back, &err),
			     -1, "case %zu accepted", i);
		cr_expect_eq(err.code, MC_EXIT_CRITICAL);
		cr_expect(strstr(err.msg, cases[i].why) != NULL,
			  "case %zu: '%s' lacks '%s'", i, err.msg,
			  cases[i].why);
		cr_expect_null(back);
		free(e);
	}
	free(text);
	mc_bk_manifest_free(m);
}

Test(backup, manifest_garbage_refused)
{
	static const char *const bad[] = {
		"", "[]", "{}", "null", "{\"checksum\": 5}", "{\"a\":1,\"a\":2}",
		"\xff\xfe", "{\"checksum\": \"zz\"}",
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(bad); i++) {
		struct mc_bk_manifest *m = NULL;
		struct mc_err err = { 0 };

		cr_expect_eq(mc_bk_manifest_parse(bad[i], strlen(bad[i]), &m,
						  &err), -1, "case %zu", i);
		cr_expect_null(m);
	}
}

/* ---- the streaming pass -------------------------------------------------------- */

static void sha_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned int len;

	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
	mc_hex(md, 32, out);
}

/* Writes n bytes of mixed content (text runs and random runs) to path. */
static char *fill(const char *path, size_t n)
{
	char *buf = mc_malloc(n);
	int fd;

	for (size_t i = 0; i < n; i++)
		buf[i] = (char)((i / 4096) % 2 ? rand() : 'a' + (int)(i % 26));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, buf, n), (ssize_t)n);
	close(fd);
	return buf;
}

/* Stores file in (fill()ed) as st, compressed when zstd is set. */
static void store(const char *in, const char *st, int zstd,
		  struct mc_bk_sums *s)
{
	struct mc_err err = { 0 };
	int a = open(in, O_RDONLY);
	int b = open(st, O_WRONLY | O_CREAT, 0600);

	cr_assert(a >= 0 && b >= 0);
	cr_assert_eq(mc_bk_store(a, in, b, st, zstd, NULL, s, &err), 0, "%s",
		     err.msg);
	close(a);
	close(b);
}

static void round_trip(int zstd)
{
	char dir[MC_TEST_DIR_LEN], *in, *st, *out, *data, want[65];
	struct mc_bk_sums s1, s2;
	struct mc_err err = { 0 };
	size_t n = 3 * 1024 * 1024 + 17;
	int a, b;

	mc_test_dir(dir);
	in = mc_asprintf("%s/in", dir);
	st = mc_asprintf("%s/stored", dir);
	out = mc_asprintf("%s/out", dir);
	data = fill(in, n);
	sha_hex(data, n, want);
	store(in, st, zstd, &s1);
	cr_expect_str_eq(s1.sha256_original, want);
	cr_expect_eq(s1.size, n);
	if (zstd)
		cr_expect_lt(s1.stored, n / 2 + n / 4, "compressed %llu",
			     (unsigned long long)s1.stored);
	else
		cr_expect_str_eq(s1.sha256, want);
	a = open(st, O_RDONLY);
	b = open(out, O_WRONLY | O_CREAT, 0600);
	cr_assert_eq(mc_bk_load(a, st, b, out, zstd, NULL, &s2, &err), 0, "%s",
		     err.msg);
	close(a);
	close(b);
	cr_expect_str_eq(s2.sha256, s1.sha256);
	cr_expect_str_eq(s2.sha256_original, want);
	cr_expect_eq(s2.size, n);
	cr_expect_eq(s2.stored, s1.stored);
	{
		struct stat sb;

		cr_assert_eq(stat(out, &sb), 0);
		cr_expect_eq((size_t)sb.st_size, n);
	}
	if (zstd) {
		/* The split pass: the same bytes written from another
		 * thread, both hashes left to the caller. */
		struct mc_bk_sums s3;

		unlink(out);
		a = open(st, O_RDONLY);
		b = open(out, O_WRONLY | O_CREAT, 0600);
		cr_assert_eq(mc_bk_unpack(a, st, b, out, NULL, &s3, &err), 0,
			     "%s", err.msg);
		close(a);
		close(b);
		cr_expect_str_eq(s3.sha256, "");
		cr_expect_str_eq(s3.sha256_original, "");
		cr_expect_eq(s3.size, n);
		cr_expect_eq(s3.stored, s1.stored);
		a = open(out, O_RDONLY);
		cr_assert_eq(mc_bk_load(a, out, -1, NULL, 0, NULL, &s3, &err),
			     0, "%s", err.msg);
		close(a);
		cr_expect_str_eq(s3.sha256, want);
		cr_expect_eq(s3.size, n);
	}
	free(data);
	free(in);
	free(st);
	free(out);
	mc_test_rmtree(dir);
}

Test(backup, stream_zstd_round_trip) { round_trip(1); }
Test(backup, stream_plain_round_trip) { round_trip(0); }

/* A stored zstd file cut short, or with a flipped byte, is found. */
Test(backup, stream_damage_found)
{
	char dir[MC_TEST_DIR_LEN], *in, *st;
	struct mc_bk_sums s;
	struct mc_err err = { 0 };
	struct stat sb;
	int a;
	char *data;

	mc_test_dir(dir);
	in = mc_asprintf("%s/in", dir);
	st = mc_asprintf("%s/stored", dir);
	data = fill(in, 1 << 20);
	store(in, st, 1, &s);
	cr_assert_eq(stat(st, &sb), 0);
	cr_assert_eq(truncate(st, sb.st_size - 9), 0);
	a = open(st, O_RDONLY);
	cr_expect_eq(mc_bk_load(a, st, -1, NULL, 1, NULL, &s, &err), -1);
	cr_expect_eq(err.code, MC_EXIT_CRITICAL);
	cr_expect(strstr(err.msg, "truncated") || strstr(err.msg, "corrupt"),
		  "%s", err.msg);
	close(a);
	/* Empty: no frame at all. */
	cr_assert_eq(truncate(st, 0), 0);
	a = open(st, O_RDONLY);
	mc_err_clear(&err);
	cr_expect_eq(mc_bk_load(a, st, -1, NULL, 1, NULL, &s, &err), -1);
	cr_expect(strstr(err.msg, "truncated") != NULL, "%s", err.msg);
	close(a);
	free(data);
	free(in);
	free(st);
	mc_test_rmtree(dir);
}

/* A write that fails while decompressing (here a descriptor open for
 * reading only) stops the pass with 74 naming the file, not a hang; in
 * the split pass too, where another thread writes. */
Test(backup, stream_load_write_error)
{
	char dir[MC_TEST_DIR_LEN], *in, *st, *out;
	struct mc_bk_sums s;
	struct mc_err err = { 0 };
	int a, b;
	char *data;

	mc_test_dir(dir);
	in = mc_asprintf("%s/in", dir);
	st = mc_asprintf("%s/stored", dir);
	out = mc_asprintf("%s/out", dir);
	data = fill(in, 6 << 20);
	store(in, st, 1, &s);
	a = open(st, O_RDONLY);
	b = open(out, O_RDONLY | O_CREAT, 0600);
	cr_expect_eq(mc_bk_load(a, st, b, out, 1, NULL, &s, &err), -1);
	cr_expect_eq(err.code, MC_EXIT_IOERR);
	cr_expect(strstr(err.msg, out) != NULL, "%s", err.msg);
	close(a);
	/* The split pass: the writing thread's error, the other stopped. */
	a = open(st, O_RDONLY);
	mc_err_clear(&err);
	cr_expect_eq(mc_bk_unpack(a, st, b, out, NULL, &s, &err), -1);
	cr_expect_eq(err.code, MC_EXIT_IOERR);
	cr_expect(strstr(err.msg, out) != NULL, "%s", err.msg);
	close(a);
	close(b);
	free(data);
	free(in);
	free(st);
	free(out);
	mc_test_rmtree(dir);
}

/* ---- forget ------------------------------------------------------------------ */

static double at(const char *local)
{
	struct tm tm = { 0 };

	cr_assert_not_null(strptime(local, "%Y-%m-%d %H:%M", &tm));
	tm.tm_isdst = -1;
	return (double)mktime(&tm);
}

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

/* times, newest first, as local wall clock strings */
static void forget(const char *const *times, size_t n,
		   const struct mc_bk_policy *p, unsigned *keep)
{
	double t[32];

	cr_assert_leq(n, 32);
	for (size_t i = 0; i < n; i++)
		t[i] = at(times[i]);
	mc_bk_forget(t, n, p, keep);
}

Test(backup, forget_daily_crosses_local_midnight)
{
	/* 23:30 and 00:30 local are different days, however UTC sees
	 * them (Berlin is UTC+1 in December). */
	static const char *const t[] = {
		"2026-12-08 00:30", "2026-12-07 23:30", "2026-12-07 12:00",
		"2026-12-06 23:59", "2026-12-06 00:00", "2026-12-05 10:00",
	};
	struct mc_bk_policy p = { .daily = 3 };
	unsigned k[6];

	set_tz("Europe/Berlin");
	forget(t, 6, &p, k);
	cr_expect(k[0] & MC_BK_KEEP_DAILY);
	cr_expect(k[1] & MC_BK_KEEP_DAILY);
	cr_expect_eq(k[2], 0);
	cr_expect(k[3] & MC_BK_KEEP_DAILY);
	cr_expect_eq(k[4], 0);
	cr_expect_eq(k[5], 0, "only the last 3 days with backups");
	/* The same two instants, 22:10 and 23:10 UTC on the 7th: one day
	 * in UTC, two days in Berlin (23:10 on the 7th, 00:10 on the 8th). */
	{
		double u[2] = { 1796685000, 1796681400 };
		struct mc_bk_policy d = { .daily = 5 };
		unsigned uk[2];

		mc_bk_forget(u, 2, &d, uk);
		cr_expect(uk[1] & MC_BK_KEEP_DAILY, "Berlin: two days");
		set_tz("UTC");
		mc_bk_forget(u, 2, &d, uk);
		cr_expect_eq(uk[1], 0, "UTC: one day");
	}
}

Test(backup, forget_weekly_iso_weeks_across_the_year)
{
	/* 2027-01-03 is a Sunday in ISO week 2026-W53; 2027-01-04 starts
	 * 2027-W01; 2026-12-28 (Monday) starts 2026-W53. */
	static const char *const t[] = {
		"2027-01-04 01:00", "2027-01-03 23:00", "2026-12-28 00:10",
		"2026-12-27 23:50", "2026-12-21 09:00",
	};
	struct mc_bk_policy p = { .weekly = 3 };
	unsigned k[5];

	set_tz("UTC");
	forget(t, 5, &p, k);
	cr_expect(k[0] & MC_BK_KEEP_WEEKLY);
	cr_expect(k[1] & MC_BK_KEEP_WEEKLY, "Sunday is the end of W53");
	cr_expect_eq(k[2], 0, "same ISO week as the Sunday");
	cr_expect(k[3] & MC_BK_KEEP_WEEKLY, "W52");
	cr_expect_eq(k[4], 0, "a fourth week");
}

Test(backup, forget_monthly_hourly_last_within)
{
	static const char *const t[] = {
		"2026-12-01 00:05", "2026-11-30 23:55", "2026-11-30 23:05",
		"2026-11-30 22:59", "2026-10-15 12:00", "2026-09-01 00:00",
	};
	struct mc_bk_policy m = { .monthly = 2 };
	struct mc_bk_policy h = { .hourly = 2 };
	struct mc_bk_policy l = { .last = 2 };
	struct mc_bk_policy w = { .within_ms = 3600 * 1000 };
	struct mc_bk_policy or = { .last = 1, .monthly = 4 };
	unsigned k[6];

	set_tz("UTC");
	forget(t, 6, &m, k);
	cr_expect(k[0] & MC_BK_KEEP_MONTHLY);
	cr_expect(k[1] & MC_BK_KEEP_MONTHLY);
	cr_expect_eq(k[2] | k[3] | k[4] | k[5], 0);
	forget(t, 6, &h, k);
	cr_expect(k[0] & MC_BK_KEEP_HOURLY);
	cr_expect(k[1] & MC_BK_KEEP_HOURLY, "23:55 is hour 23 of the 30th");
	cr_expect_eq(k[2], 0, "23:05 is the same hour");
	cr_expect_eq(k[3], 0, "a third hour");
	forget(t, 6, &l, k);
	cr_expect_eq(k[0], MC_BK_KEEP_NEWEST | MC_BK_KEEP_LAST);
	cr_expect_eq(k[1], MC_BK_KEEP_LAST);
	cr_expect_eq(k[2], 0);
	forget(t, 6, &w, k);
	cr_expect(k[0] & MC_BK_KEEP_WITHIN);
	cr_expect(k[1] & MC_BK_KEEP_WITHIN);
	/* restic keeps a snapshot after newest - D: exactly D older is out */
	cr_expect_eq(k[2], 0, "exactly one hour older: not within");
	cr_expect_eq(k[3], 0);
	cr_expect_eq(k[5], 0);
	/* Rules are ORed: last keeps #0, monthly #0, #1, #4, #5. */
	forget(t, 6, &or, k);
	cr_expect(k[0] & MC_BK_KEEP_LAST);
	cr_expect(k[1] & MC_BK_KEEP_MONTHLY);
	cr_expect_eq(k[2] | k[3], 0);
	cr_expect(k[4] & MC_BK_KEEP_MONTHLY);
	cr_expect(k[5] & MC_BK_KEEP_MONTHLY);
}

/* restic's within is measured from the newest backup, not from now: old
 * backups that stopped coming are not all aged out. */
Test(backup, forget_within_counts_from_the_newest_and_newest_survives)
{
	double t[3] = { 1000000, 1000000 - 1800, 1000000 - 7200 };
	struct mc_bk_policy p = { .within_ms = 3600 * 1000 };
	struct mc_bk_policy tiny = { .hourly = 1 };
	unsigned k[3];
	char why[64];

	mc_bk_forget(t, 3, &p, k);
	cr_expect(k[0] & MC_BK_KEEP_WITHIN);
	cr_expect(k[1] & MC_BK_KEEP_WITHIN);
	cr_expect_eq(k[2], 0);
	mc_bk_forget(t, 3, &tiny, k);
	cr_expect(k[0] & MC_BK_KEEP_NEWEST);
	mc_bk_keep_reasons(MC_BK_KEEP_NEWEST | MC_BK_KEEP_DAILY, why,
			   sizeof(why));
	cr_expect_str_eq(why, "newest,daily");
	cr_expect(mc_bk_policy_empty(&(struct mc_bk_policy){ 0 }));
	cr_expect(!mc_bk_policy_empty(&tiny));
}

/* ---- create, verify, restore through the library ---------------------------------- */

Test(backup, create_verify_restore_to)
{
	char dir[MC_TEST_DIR_LEN], *bdir, *f1, *to, *got;
	struct mc_bk_create_opts o = { 0 };
	struct mc_bk_restore_opts ro = { 0 };
	struct mc_bk_restore_result rr;
	struct mc_bk_manifest *m = NULL;
	struct mc_bk_verify_result vr;
	struct mc_err err = { 0 };
	const char *inc[1];
	char *data;
	size_t len;

	mc_test_dir(dir);
	bdir = mc_asprintf("%s/backups", dir);
	f1 = mc_asprintf("%s/data.bin", dir);
	to = mc_asprintf("%s/to", dir);
	data = fill(f1, 200000);
	inc[0] = f1;
	o.dir = bdir;
	o.includes = inc;
	o.n_includes = 1;
	o.zstd = 1;
	o.note = "unit";
	cr_assert_eq(mc_bk_create(&o, &m, &err), 0, "%s", err.msg);
	cr_expect_eq(m->n_files, 1);
	cr_expect_str_eq(m->files[0].original, f1);
	cr_assert_eq(mc_bk_verify(bdir, m->id, 1, NULL, &vr, &err), 0, "%s",
		     err.msg);
	cr_expect(vr.ok, "%s: %s", vr.bad_file, vr.reason);
	cr_expect_gt(vr.restore_seconds, 0);
	mc_bk_verify_result_release(&vr);
	ro.dir = bdir;
	ro.id = m->id;
	ro.to = to;
	cr_assert_eq(mc_bk_restore(&ro, &rr, &err), 0, "%s", err.msg);
	cr_expect_eq(rr.n_replaced, 1);
	cr_expect_eq(rr.n_kept, 0, "--to keeps nothing: nothing is replaced");
	got = mc_read_file(rr.replaced[0], 1 << 20, &len, &err);
	cr_assert_not_null(got, "%s", err.msg);
	cr_expect_eq(len, 200000);
	cr_expect_eq(memcmp(got, data, len), 0);
	cr_expect(strncmp(rr.replaced[0], to, strlen(to)) == 0);
	free(got);
	mc_bk_restore_result_release(&rr);
	mc_bk_manifest_free(m);
	free(data);
	free(bdir);
	free(f1);
	free(to);
	mc_test_rmtree(dir);
}

static void exec_ok(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &msg), SQLITE_OK,
		     "%s: %s", sql, msg ? msg : "");
}

static long long count_rows(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long n = -1;

	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
		     SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* A database included in WAL mode is stored as its latest commit, whether
 * page 1 is in the file (the streamed pass) or only in the WAL because a
 * reader holds back the checkpoint (the pass through a copy); compressed
 * and not; verify passes and the restored copy has every row. */
static void wal_database(int page1_in_wal, int zstd)
{
	char dir[MC_TEST_DIR_LEN], *bdir, *db, *to, *back;
	struct mc_bk_create_opts o = { 0 };
	struct mc_bk_restore_opts ro = { 0 };
	struct mc_bk_restore_result rr;
	struct mc_bk_manifest *m = NULL;
	struct mc_bk_verify_result vr;
	struct mc_err err = { 0 };
	sqlite3 *w = NULL, *r = NULL;
	const char *inc[1];

	mc_test_dir(dir);
	bdir = mc_asprintf("%s/backups", dir);
	db = mc_asprintf("%s/app.db", dir);
	to = mc_asprintf("%s/to", dir);
	cr_assert_eq(sqlite3_open(db, &w), SQLITE_OK);
	exec_ok(w, "PRAGMA journal_mode=WAL; CREATE TABLE a(x, y);"
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
		"FROM n WHERE i < 3000) INSERT INTO a SELECT i, "
		"hex(randomblob(200)) FROM n; PRAGMA wal_checkpoint(TRUNCATE);");
	if (page1_in_wal) {
		cr_assert_eq(sqlite3_open(db, &r), SQLITE_OK);
		exec_ok(r, "BEGIN; SELECT count(*) FROM a;");
	}
	/* A new table: page 1 (the schema) changes, in the WAL. */
	exec_ok(w, "CREATE TABLE b(z); INSERT INTO b VALUES (1), (2);"
		"INSERT INTO a SELECT x + 3000, y FROM a;");
	inc[0] = db;
	o.dir = bdir;
	o.includes = inc;
	o.n_includes = 1;
	o.zstd = zstd;
	cr_assert_eq(mc_bk_create(&o, &m, &err), 0, "%s", err.msg);
	cr_assert_eq(m->n_files, 1);
	cr_expect(m->files[0].sqlite);
	cr_expect_eq(o.copies_on_disk, page1_in_wal, "streamed: %d",
		     !o.copies_on_disk);
	cr_assert_eq(mc_bk_verify(bdir, m->id, 0, NULL, &vr, &err), 0, "%s",
		     err.msg);
	cr_expect(vr.ok, "%s: %s", vr.bad_file, vr.reason);
	mc_bk_verify_result_release(&vr);
	ro.dir = bdir;
	ro.id = m->id;
	ro.to = to;
	cr_assert_eq(mc_bk_restore(&ro, &rr, &err), 0, "%s", err.msg);
	cr_assert_eq(rr.n_replaced, 1);
	back = rr.replaced[0];
	cr_expect_eq(count_rows(back, "SELECT count(*) FROM a"), 6000);
	cr_expect_eq(count_rows(back, "SELECT count(*) FROM b"), 2);
	cr_expect_eq(count_rows(back, "SELECT count(*) FROM "
				"pragma_integrity_check WHERE "
				"integrity_check = 'ok'"), 1);
	mc_bk_restore_result_release(&rr);
	if (r)
		exec_ok(r, "COMMIT;");
	sqlite3_close(r);
	sqlite3_close(w);
	mc_bk_manifest_free(m);
	free(bdir);
	free(db);
	free(to);
	mc_test_rmtree(dir);
}

Test(backup, wal_database_streamed) { wal_database(0, 1); }
Test(backup, wal_database_page1_in_wal) { wal_database(1, 1); }
Test(backup, wal_database_streamed_uncompressed) { wal_database(0, 0); }
Test(backup, wal_database_page1_in_wal_uncompressed) { wal_database(1, 0); }

/* The `backup` health check: none, overdue, failed verify, fine. */
Test(backup, health_of_the_newest_backup)
{
	char dir[MC_TEST_DIR_LEN], *bdir, *f1, *sp, *msg = NULL;
	struct mc_bk_create_opts o = { 0 };
	struct mc_bk_manifest *m = NULL;
	struct mc_bk_verify_result bad = { 0 };
	struct mc_state *st;
	struct mc_err err = { 0 };
	const char *inc[1];
	double age;

	mc_test_dir(dir);
	bdir = mc_asprintf("%s/backups", dir);
	f1 = mc_asprintf("%s/data.txt", dir);
	sp = mc_asprintf("%s/state.db", dir);
	free(fill(f1, 1000));
	st = mc_state_open(sp, &err);
	cr_assert_not_null(st, "%s", err.msg);
	cr_expect_eq(mc_bk_health(st, bdir, 3600000, mc_wall_now(), &age, &msg),
		     2);
	cr_expect(strstr(msg, "no backup") != NULL, "%s", msg);
	free(msg);
	inc[0] = f1;
	o.dir = bdir;
	o.includes = inc;
	o.n_includes = 1;
	o.zstd = 1;
	cr_assert_eq(mc_bk_create(&o, &m, &err), 0, "%s", err.msg);
	cr_expect_eq(mc_bk_health(st, bdir, 3600000, m->created + 60, &age,
				  &msg), 0);
	cr_expect(strstr(msg, "not verified yet") != NULL, "%s", msg);
	cr_expect(age > 59.999 && age < 60.001, "age %f", age);
	free(msg);
	cr_expect_eq(mc_bk_health(st, bdir, 3600000, m->created + 7200, &age,
				  &msg), 2);
	cr_expect(strstr(msg, "older than max_age 1h") != NULL, "%s", msg);
	free(msg);
	bad.bad_file = "files/x";
	bad.reason = "missing";
	cr_assert_eq(mc_bk_catalog_verified(st, m, bdir, &bad, 0, &err), 0,
		     "%s", err.msg);
	cr_expect_eq(mc_bk_health(st, bdir, 3600000, m->created + 60, &age,
				  &msg), 2);
	cr_expect(strstr(msg, "failed its last verify: files/x: missing") !=
		  NULL, "%s", msg);
	free(msg);
	mc_state_close(st);
	mc_bk_manifest_free(m);
	free(bdir);
	free(f1);
	free(sp);
	mc_test_rmtree(dir);
}

/* ---- the locks on a backup directory ----------------------------------------- */

/* A process of its own holding mc_bk_lock(dir, mode) until released. */
struct bk_holder {
	pid_t pid;
	int cmd, ready;
};

static void bk_hold(struct bk_holder *h, const char *dir, int mode)
{
	int to_child[2], from_child[2];
	char c;

	cr_assert_eq(pipe(to_child), 0);
	cr_assert_eq(pipe(from_child), 0);
	h->pid = fork();
	cr_assert(h->pid >= 0);
	if (h->pid == 0) {
		struct mc_bk_lock *l = mc_bk_lock(dir, mode, 0, NULL);

		close(to_child[1]);
		close(from_child[0]);
		c = l ? 'y' : 'n';
		if (write(from_child[1], &c, 1) != 1 || l == NULL)
			_exit(1);
		while (read(to_child[0], &c, 1) < 0 && errno == EINTR)
			;
		mc_bk_unlock(l);
		_exit(0);
	}
	close(to_child[0]);
	close(from_child[1]);
	h->cmd = to_child[1];
	h->ready = from_child[0];
	cr_assert_eq(read(h->ready, &c, 1), 1);
	cr_assert_eq(c, 'y', "the child could not take the lock");
}

static void bk_release(struct bk_holder *h)
{
	int status;

	cr_assert_eq(write(h->cmd, "r", 1), 1);
	close(h->cmd);
	close(h->ready);
	cr_assert_eq(waitpid(h->pid, &status, 0), h->pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* mc_bk_lock(dir, mode) in this process: 1 when taken (and released),
 * else 0 with err. */
static int bk_try(const char *dir, int mode, struct mc_err *err)
{
	struct mc_bk_lock *l;

	mc_err_clear(err);
	l = mc_bk_lock(dir, mode, 0, err);
	mc_bk_unlock(l);
	return l != NULL;
}

static void expect_held_by(const char *dir, int mode, pid_t pid)
{
	struct mc_err err = { 0 };
	char want[512];

	cr_expect_not(bk_try(dir, mode, &err), "mode %d taken", mode);
	cr_expect_eq(err.code, MC_EXIT_TEMPFAIL);
	snprintf(want, sizeof(want), "another run holds the lock on backup "
		 "directory %s (pid %ld)", dir, (long)pid);
	cr_expect_str_eq(err.msg, want);
}

/* Readers (verify, restore) share; a prune waits for none of them and
 * none of them for it; a create goes on beside readers; the message
 * names the directory and the holder's pid, also a shared holder's, which
 * writes none into the lock file. */
Test(backup, lock_readers_share_prune_excludes)
{
	char dir[MC_TEST_DIR_LEN], *missing;
	struct bk_holder h;
	struct mc_err err = { 0 };
	struct stat st;

	mc_test_dir(dir);
	bk_hold(&h, dir, MC_BK_LOCK_READ);
	cr_expect(bk_try(dir, MC_BK_LOCK_READ, &err), "%s", err.msg);
	cr_expect(bk_try(dir, MC_BK_LOCK_CREATE, &err), "%s", err.msg);
	expect_held_by(dir, MC_BK_LOCK_PRUNE, h.pid);
	bk_release(&h);
	cr_expect(bk_try(dir, MC_BK_LOCK_PRUNE, &err), "%s", err.msg);

	bk_hold(&h, dir, MC_BK_LOCK_PRUNE);
	expect_held_by(dir, MC_BK_LOCK_READ, h.pid);
	expect_held_by(dir, MC_BK_LOCK_CREATE, h.pid);
	expect_held_by(dir, MC_BK_LOCK_PRUNE, h.pid);
	bk_release(&h);

	bk_hold(&h, dir, MC_BK_LOCK_CREATE);
	cr_expect(bk_try(dir, MC_BK_LOCK_READ, &err), "%s", err.msg);
	expect_held_by(dir, MC_BK_LOCK_PRUNE, h.pid);
	bk_release(&h);

	/* a directory that is not there is not made by taking a lock */
	missing = mc_asprintf("%s/missing", dir);
	for (int mode = MC_BK_LOCK_CREATE; mode <= MC_BK_LOCK_PRUNE; mode++) {
		cr_expect_not(bk_try(missing, mode, &err));
		cr_expect_eq(err.code, MC_EXIT_IOERR);
		cr_expect(strstr(err.msg, "does not exist") != NULL, "%s",
			  err.msg);
		cr_expect_neq(stat(missing, &st), 0, "mode %d made it", mode);
	}
	free(missing);
	mc_test_rmtree(dir);
}

/* list: a missing directory is an I/O error naming it, never "no
 * backups"; an empty one is an empty list. */
Test(backup, list_missing_dir_is_an_error)
{
	char dir[MC_TEST_DIR_LEN], *missing;
	struct mc_bk_entry *e = NULL;
	struct mc_err err = { 0 };
	size_t n = 99;

	mc_test_dir(dir);
	missing = mc_asprintf("%s/missing", dir);
	cr_expect_eq(mc_bk_list(missing, &e, &n, &err), -1);
	cr_expect_eq(err.code, MC_EXIT_IOERR);
	cr_expect_eq(err.sys_errno, ENOENT);
	cr_expect(strstr(err.msg, missing) != NULL, "%s", err.msg);
	cr_expect_eq(mc_bk_list(dir, &e, &n, &err), 0, "%s", err.msg);
	cr_expect_eq(n, 0);
	mc_bk_entries_free(e, n);
	free(missing);
	mc_test_rmtree(dir);
}
