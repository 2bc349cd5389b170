/*
 * check_job.c - the `job` check type: the verdict of a [job "NAME"]
 * (mercuryctl-job(1)) as a health check, so the cron entry that runs
 * `mercuryctl health` is the dead-man switch of every job.
 */
#include "check.h"
#include "job.h"

#include <stdlib.h>
#include <string.h>

static const struct mc_conf_key job_keys[] = {
	{ .name = "job", .type = MC_CT_STRING, .flags = MC_CK_REQUIRED,
	  .help = "the [job \"NAME\"] whose verdict the check gives: overdue, "
		  "running past its timeout or failed is critical, an "
		  "interrupted last run warns" },
	{ .name = NULL },
};

/* Reads the state file: in the main thread. */
static void run_job(const struct mc_check *c, const struct mc_health_env *env,
		    struct mc_check_result *r)
{
	const char *name = mc_conf_str(c->sec, "job");
	const struct mc_conf_section *s = mc_conf_find(env->conf, "job", name);
	struct mc_job_def def;
	struct mc_job_status st;
	struct mc_err e = { 0 };
	const char *key = NULL;
	char why[256];
	char *m;

	if (s == NULL) {
		mc_check_set(r, MC_ST_UNKNOWN, "no [job \"%s\"] is configured",
			     name);
		return;
	}
	if (mc_job_def_from_section(s, &def, &key, why, sizeof(why)) < 0) {
		mc_check_set(r, MC_ST_UNKNOWN, "[job \"%s\"] %s", name, why);
		return;
	}
	if (mc_job_evaluate(env->st, &def, mc_wall_now(), &st, &e) < 0) {
		mc_check_set(r, MC_ST_UNKNOWN, "%s", e.msg);
		mc_job_def_release(&def);
		return;
	}
	m = mc_utf8_clean(st.message);	/* escaped where it is shown */
	mc_check_set(r, st.status, "job %s: %s", name, m);
	free(m);
	mc_job_status_release(&st);
	mc_job_def_release(&def);
}

const struct mc_check_type mc_check_job = {
	.name = "job",
	.flags = MC_CHECK_MAIN,
	.run = run_job,
	.keys = job_keys,
};
