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
	  .help = "the job whose verdict the check gives (a [job \"NAME\"], "
		  "or one run by name with its command after --): overdue, "
		  "running past its timeout or failed is critical, an "
		  "interrupted last run warns" },
	{ .name = NULL },
};

/* Reads the state file: in the main thread. */
static void run_job(const struct mc_check *c, const struct mc_health_env *env,
		    struct mc_check_result *r)
{
	const char *name = mc_conf_str(c->sec, "job");
	struct mc_job_def *def = NULL;
	size_t n = 0;
	struct mc_job_status st;
	struct mc_err e = { 0 };
	char *m;

	/* a [job] section, or a job known by its runs (job run NAME -- ...) */
	if (mc_job_select_known(env->conf, env->st, &name, 1, &def, &n,
				&e) < 0) {
		mc_check_set(r, MC_ST_UNKNOWN, "%s", e.msg);
		return;
	}
	if (mc_job_evaluate(env->st, &def[0], mc_wall_now(), &st, &e) < 0) {
		mc_check_set(r, MC_ST_UNKNOWN, "%s", e.msg);
		mc_job_defs_free(def, n);
		return;
	}
	m = mc_utf8_clean(st.message);	/* escaped where it is shown */
	mc_check_set(r, st.status, "job %s: %s", name, m);
	free(m);
	mc_job_status_release(&st);
	mc_job_defs_free(def, n);
}

const struct mc_check_type mc_check_job = {
	.name = "job",
	.flags = MC_CHECK_MAIN,
	.run = run_job,
	.keys = job_keys,
};
