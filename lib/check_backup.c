/*
 * check_backup.c - the backup check type: critical when the backup
 * directory holds no backup, when the newest one is older than max_age, is
 * damaged, or failed its last verify; it says which. Reads the directory
 * and the state file's catalogue; nothing is decompressed or hashed (that
 * is `backup verify`'s work, on its own schedule).
 */
#include "check.h"
#include "backup.h"

#include <stdlib.h>

static const struct mc_conf_key backup_keys[] = {
	{ .name = "dir", .type = MC_CT_PATH,
	  .help = "the backup directory (default [backup] dir)" },
	{ .name = "max_age", .type = MC_CT_DURATION,
	  .help = "the newest backup may be at most this old (default "
		  "[backup] max_age, 26h)" },
	{ .name = NULL },
};

static void run_backup(const struct mc_check *c, const struct mc_health_env *env,
		       struct mc_check_result *r)
{
	const struct mc_conf_section *b = env->conf ?
		mc_conf_find(env->conf, "backup", NULL) : NULL;
	const char *dir = c->sec ? mc_conf_str(c->sec, "dir") : NULL;
	int64_t max_age = c->sec ? mc_conf_ms(c->sec, "max_age", -1) : -1;
	static const int status[] = { MC_ST_OK, MC_ST_WARNING, MC_ST_CRITICAL,
				      MC_ST_UNKNOWN };
	char *msg = NULL;
	double age;
	int st;

	if (dir == NULL && b)
		dir = mc_conf_str(b, "dir");
	if (max_age < 0)
		max_age = b ? mc_conf_ms(b, "max_age", 26 * 3600000LL) :
			  26 * 3600000LL;
	if (dir == NULL) {
		mc_check_set(r, MC_ST_UNKNOWN, "no backup directory: set dir "
			     "here or in [backup]");
		return;
	}
	st = mc_bk_health(env->st, dir, max_age, mc_wall_now(), &age, &msg);
	if (age >= 0) {
		r->has_value = 1;
		r->value = age;
		r->unit = "s";
	}
	mc_check_set(r, status[st], "%s", msg);
	free(msg);
}

const struct mc_check_type mc_check_backup = {
	.name = "backup",
	.flags = MC_CHECK_MAIN,
	.run = run_backup,
	.keys = backup_keys,
};
