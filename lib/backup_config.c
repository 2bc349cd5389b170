/*
 * backup_config.c - the [backup] and [backup_source "NAME"] sections of
 * mercury.conf, checked when the file is loaded.
 */
#include "backup.h"
#include "config.h"
#include "plugin.h"

#include <stdio.h>
#include <string.h>

/* A number as the text of a default. */
#define LEVEL_TEXT_(n) #n
#define LEVEL_TEXT(n) LEVEL_TEXT_(n)

static const struct mc_conf_key backup_keys[] = {
	{ .name = "dir", .type = MC_CT_PATH,
	  .help = "the backup directory, an absolute path (--dest overrides); "
		  "backup create makes it (0700), the other backup commands "
		  "exit 74 when it does not exist" },
	{ .name = "include", .type = MC_CT_PATH, .flags = MC_CK_LIST,
	  .help = "a file to back up: an absolute path, a glob, or a "
		  "directory taken whole (repeatable); SQLite databases are "
		  "copied with the online backup API" },
	{ .name = "exclude", .type = MC_CT_STRING, .flags = MC_CK_LIST,
	  .help = "a glob matched against an included file's path and its "
		  "name: matching files are left out (repeatable)" },
	{ .name = "compress", .type = MC_CT_ENUM, .def = "zstd",
	  .choices = "zstd|none",
	  .help = "how files are stored" },
	{ .name = "compress_level", .type = MC_CT_INT,
	  .def = LEVEL_TEXT(MC_BK_ZSTD_LEVEL),
	  .help = "zstd level, 1 (fastest) to 19; the default, 2, stores "
		  "databases as small as 3 does with about 40% less CPU, "
		  "other files a few per cent larger" },
	{ .name = "keep_last", .type = MC_CT_INT,
	  .help = "prune keeps the newest N backups" },
	{ .name = "keep_hourly", .type = MC_CT_INT,
	  .help = "prune keeps the newest backup of each of the last N hours "
		  "that have backups" },
	{ .name = "keep_daily", .type = MC_CT_INT,
	  .help = "the same for days (local time)" },
	{ .name = "keep_weekly", .type = MC_CT_INT,
	  .help = "the same for ISO weeks" },
	{ .name = "keep_monthly", .type = MC_CT_INT,
	  .help = "the same for months" },
	{ .name = "keep_within", .type = MC_CT_DURATION,
	  .help = "prune keeps every backup within this span of the newest" },
	{ .name = "max_age", .type = MC_CT_DURATION, .def = "26h",
	  .help = "the age after which the newest backup is overdue (the "
		  "backup health check)" },
	{ .name = "before_restore", .type = MC_CT_STRING,
	  .help = "a command run before restore puts files back (shell "
		  "words, never a shell), e.g. /bin/systemctl stop app" },
	{ .name = "after_restore", .type = MC_CT_STRING,
	  .help = "a command run after every file is back" },
	{ .name = "hook_timeout", .type = MC_CT_DURATION, .def = "5m",
	  .help = "time each restore hook may take" },
	{ .name = NULL },
};

static int words_ok(const struct mc_conf_section *s, const char *key,
		    const char **bad, char *why, size_t size)
{
	const char *v = mc_conf_str(s, key);
	char **argv;
	struct mc_err e = { 0 };

	if (v == NULL)
		return 0;
	if (mc_argv_split(v, &argv, &e) < 0) {
		*bad = key;
		snprintf(why, size, "%s", e.msg);
		return -1;
	}
	mc_argv_free(argv);
	return 0;
}

static int backup_validate(const struct mc_conf_section *s, const char **key,
			   char *why, size_t size)
{
	const char *dir = mc_conf_str(s, "dir");
	long long level = mc_conf_int(s, "compress_level", MC_BK_ZSTD_LEVEL);

	if (dir && !mc_bk_abs_path_safe(dir)) {
		*key = "dir";
		snprintf(why, size, "dir must be an absolute path without "
			 "'..', not '%s'", dir);
		return -1;
	}
	for (const struct mc_conf_value *v = mc_conf_get(s, "include"); v;
	     v = v->next)
		if (!mc_bk_abs_path_safe(v->raw)) {
			*key = "include";
			snprintf(why, size, "include must be an absolute path "
				 "or glob without '..', not '%s'", v->raw);
			return -1;
		}
	if (level < 1 || level > 19) {
		*key = "compress_level";
		snprintf(why, size, "compress_level must be 1 to 19");
		return -1;
	}
	if (words_ok(s, "before_restore", key, why, size) < 0 ||
	    words_ok(s, "after_restore", key, why, size) < 0)
		return -1;
	return 0;
}

const struct mc_conf_schema mc_backup_schema = {
	.name = "backup",
	.named = 0,
	.help = "what `mercuryctl backup` writes, where, and how long it is "
		"kept",
	.keys = backup_keys,
	.validate = backup_validate,
};

static const struct mc_conf_key source_keys[] = {
	{ .name = "command", .type = MC_CT_STRING, .flags = MC_CK_REQUIRED,
	  .help = "a command whose stdout becomes one file of the backup "
		  "(shell words, never a shell), e.g. /usr/bin/pg_dump -Fc app" },
	{ .name = "file", .type = MC_CT_STRING,
	  .help = "the stored file's name (default: the section's name)" },
	{ .name = "timeout", .type = MC_CT_DURATION, .def = "30m",
	  .help = "time the command may take, and what it started still "
		  "writing its output after it exited (read to the end); "
		  "one that overruns has its whole process tree killed and "
		  "fails the backup" },
	{ .name = "restore_command", .type = MC_CT_STRING,
	  .help = "a command restore feeds the file to on its stdin, e.g. "
		  "/usr/bin/pg_restore --clean --if-exists -d app" },
	{ .name = NULL },
};

static int source_validate(const struct mc_conf_section *s, const char **key,
			   char *why, size_t size)
{
	const char *file = mc_conf_str(s, "file");

	if (file == NULL)
		file = s->name;
	if (!mc_bk_path_safe(file) || strchr(file, '/')) {
		*key = mc_conf_str(s, "file") ? "file" : NULL;
		snprintf(why, size, "the stored file's name '%s' must be one "
			 "plain name (no '/', not '.' or '..')", file);
		return -1;
	}
	if (mc_conf_ms(s, "timeout", 1) <= 0) {
		*key = "timeout";
		snprintf(why, size, "timeout must be longer than 0");
		return -1;
	}
	if (words_ok(s, "command", key, why, size) < 0 ||
	    words_ok(s, "restore_command", key, why, size) < 0)
		return -1;
	return 0;
}

const struct mc_conf_schema mc_backup_source_schema = {
	.name = "backup_source",
	.named = 1,
	.help = "a command whose output `mercuryctl backup create` stores "
		"(a database dump), and how restore feeds it back",
	.keys = source_keys,
	.validate = source_validate,
};
