/* fleet.c - `mercuryctl fleet status`: the hosts sharing one Redis, their
 * circuit breakers and the locks they hold. */
#include "cmd.h"
#include "coord.h"

#include <stdlib.h>
#include <string.h>

/* A span for people: whole seconds from one second up. */
static void span(int64_t ms, char *buf, size_t size)
{
	if (ms < 0)
		ms = 0;
	mc_format_duration(ms >= 1000 ? ms / 1000 * 1000 : ms, buf, size);
}

static void age(double now, double then, char *buf, size_t size)
{
	span((int64_t)((now - then) * 1e3), buf, size);
}

static void add_section(struct mc_ctx *ctx, const char *title,
			struct mc_table *t, const char *none)
{
	mc_buf_printf(&ctx->report.text, "%s\n", title);
	mc_table_render_or(t, &ctx->report.text, ctx->color, NULL, "  %s\n",
			   none);
}

static int members(struct mc_ctx *ctx, struct mc_fleet *f, double now)
{
	static const char *const headers[] = { "NAME", "LAST SEEN", "VERSION",
					       "LAST COMMAND", "PID" };
	struct mc_table *t = mc_table_new(5, headers);
	struct mc_fleet_member *m = NULL;
	json_t *arr = json_array();
	size_t n = 0;

	json_object_set_new(ctx->report.doc, "members", arr);
	if (mc_fleet_members(f, &m, &n, &ctx->err) < 0) {
		mc_table_free(t);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		char seen[40], ago[40], pid[24];
		/* text other hosts wrote, made safe for a terminal */
		char *name = mc_escape_str(m[i].name);
		char *ver = mc_escape_str(m[i].version);
		char *cmd = mc_escape_str(m[i].last_command);
		const char *cells[5] = { name, ago, ver, cmd, pid };

		mc_format_time(m[i].last_seen, seen, sizeof(seen));
		age(now, m[i].last_seen, ago, sizeof(ago));
		strncat(ago, " ago", sizeof(ago) - strlen(ago) - 1);
		snprintf(pid, sizeof(pid), "%ld", m[i].pid);
		json_object_set_new(o, "name", mc_json_str(m[i].name));
		json_object_set_new(o, "last_seen", mc_json_str(seen));
		json_object_set_new(o, "age_s",
				    json_real(now - m[i].last_seen));
		json_object_set_new(o, "version", mc_json_str(m[i].version));
		json_object_set_new(o, "last_command",
				    mc_json_str(m[i].last_command));
		json_object_set_new(o, "pid", json_integer(m[i].pid));
		json_array_append_new(arr, o);
		mc_table_row(t, cells);
		free(name);
		free(ver);
		free(cmd);
	}
	add_section(ctx, "MEMBERS", t, "none");
	mc_table_free(t);
	mc_fleet_members_free(m, n);
	return 0;
}

static int breakers(struct mc_ctx *ctx, struct mc_fleet *f)
{
	static const char *const headers[] = { "NAME", "STATE", "FAILURES",
					       "OPENED", "RETRY AT" };
	struct mc_table *t = mc_table_new(5, headers);
	struct mc_breaker_info *b = NULL;
	json_t *arr = json_array();
	size_t n = 0;

	json_object_set_new(ctx->report.doc, "breakers", arr);
	if (mc_fleet_breaker_list(f, &b, &n, &ctx->err) < 0) {
		mc_table_free(t);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		char opened[40] = "-", retry[40] = "-", fails[16];
		char *name = mc_escape_str(b[i].name);
		const char *cells[5] = { name,
					 mc_breaker_state_name(b[i].state),
					 fails, opened, retry };

		snprintf(fails, sizeof(fails), "%d", b[i].failures);
		json_object_set_new(o, "name", mc_json_str(b[i].name));
		json_object_set_new(o, "state",
				    mc_json_str(mc_breaker_state_name(b[i].state)));
		json_object_set_new(o, "failures", json_integer(b[i].failures));
		if (b[i].opened_at > 0) {
			mc_format_time(b[i].opened_at, opened, sizeof(opened));
			json_object_set_new(o, "opened_at", mc_json_str(opened));
		}
		if (b[i].retry_at > 0) {
			mc_format_time(b[i].retry_at, retry, sizeof(retry));
			json_object_set_new(o, "retry_at", mc_json_str(retry));
		}
		json_array_append_new(arr, o);
		mc_table_row(t, cells);
		free(name);
	}
	add_section(ctx, "BREAKERS", t, "none recorded");
	mc_table_free(t);
	mc_breaker_info_free(b, n);
	return 0;
}

static int locks(struct mc_ctx *ctx, struct mc_fleet *f, double now)
{
	static const char *const headers[] = { "NAME", "HOST", "PID", "TOKEN",
					       "HELD FOR", "LEASE LEFT" };
	struct mc_table *t = mc_table_new(6, headers);
	struct mc_fleet_lock_info *l = NULL;
	json_t *arr = json_array();
	size_t n = 0;

	json_object_set_new(ctx->report.doc, "locks", arr);
	if (mc_fleet_locks(f, &l, &n, &ctx->err) < 0) {
		mc_table_free(t);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		/* owner: "<host>/<pid>/<nonce>" */
		const char *o1 = strchr(l[i].owner, '/');
		char *hostname = o1 ? mc_strndup(l[i].owner,
						 (size_t)(o1 - l[i].owner)) :
				 mc_strdup(l[i].owner);
		long pid = o1 ? strtol(o1 + 1, NULL, 10) : 0;
		char held[40], left[40], pids[24], acquired[40];
		char *name = mc_escape_str(l[i].name);
		char *host = mc_escape_str(hostname);
		char *token = mc_escape_str(l[i].token);
		const char *cells[6] = { name, host, pids, token, held, left };
		json_t *o = json_object();

		age(now, l[i].acquired, held, sizeof(held));
		span(l[i].ttl_ms, left, sizeof(left));
		mc_format_time(l[i].acquired, acquired, sizeof(acquired));
		snprintf(pids, sizeof(pids), "%ld", pid);
		json_object_set_new(o, "name", mc_json_str(l[i].name));
		json_object_set_new(o, "host", mc_json_str(hostname));
		json_object_set_new(o, "pid", json_integer(pid));
		json_object_set_new(o, "owner", mc_json_str(l[i].owner));
		json_object_set_new(o, "token", mc_json_str(l[i].token));
		json_object_set_new(o, "acquired", mc_json_str(acquired));
		json_object_set_new(o, "age_s", json_real(now - l[i].acquired));
		json_object_set_new(o, "lease_left_ms",
				    json_integer(l[i].ttl_ms));
		json_array_append_new(arr, o);
		mc_table_row(t, cells);
		free(name);
		free(host);
		free(token);
		free(hostname);
	}
	add_section(ctx, "LOCKS", t, "none held");
	mc_table_free(t);
	mc_fleet_locks_free(l, n);
	return 0;
}

static int status_run(struct mc_ctx *ctx)
{
	struct mc_coord *c = ctx->coord;
	struct mc_fleet *f;
	double now = 0;
	int rc = -1;

	if (mc_conf_find(ctx->conf, "fleet", NULL) == NULL)
		return mc_err_set(&ctx->err, MC_EXIT_CONFIG,
				  "no [fleet] section in %s: this host is not "
				  "in a fleet (see mercury.conf(5))",
				  ctx->conf->path ? ctx->conf->path :
				  "the configuration");
	f = mc_coord_fleet(c);
	if (f == NULL) {
		json_object_set_new(ctx->report.doc, "fleet",
				    json_string("degraded"));
		mc_err_set(&ctx->err, MC_EXIT_UNKNOWN, "fleet: degraded: %s",
			   mc_coord_degraded_why(c));
		goto out;
	}
	json_object_set_new(ctx->report.doc, "fleet", json_string("ok"));
	json_object_set_new(ctx->report.doc, "name",
			    mc_json_str(mc_fleet_name(f)));
	mc_buf_printf(&ctx->report.text, "fleet: ok, this host is '%s'\n\n",
		      mc_fleet_name(f));
	if (mc_fleet_server_time(f, &now, &ctx->err) < 0 ||
	    members(ctx, f, now) < 0)
		goto out;
	mc_buf_puts(&ctx->report.text, "\n");
	if (breakers(ctx, f) < 0)
		goto out;
	mc_buf_puts(&ctx->report.text, "\n");
	if (locks(ctx, f, now) < 0)
		goto out;
	rc = 0;
out:
	/* a Redis that failed midway is as unreachable as one that never
	 * answered: the state is unknown */
	if (rc < 0 && ctx->err.code == MC_EXIT_CRITICAL)
		ctx->err.code = MC_EXIT_UNKNOWN;
	return rc;
}

static const struct mc_cmd fleet_status = {
	.name = "status",
	.summary = "List the fleet's members, shared breakers and held locks",
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.max_args = 0,
	.run = status_run,
};

static const struct mc_cmd *const fleet_subs[] = {
	&fleet_status, NULL,
};

const struct mc_cmd mc_cmd_fleet = {
	.examples =
	"The members, shared breakers and held locks of the fleet:\n"
	"$ mercuryctl fleet status\n"
	"The same for a script:\n"
	"$ mercuryctl fleet status --json\n",
	.name = "fleet",
	.summary = "Show the hosts that share state through Redis",
	.description =
	"When one host is not enough, several run the same cron entries and "
	"share what must be shared through a Redis they already run, named "
	"by a [fleet] section in mercury.conf (redis_url, name, key_prefix, "
	"lease; see mercury.conf(5)). In the fleet, alert dedup records, "
	"rate-limit buckets, circuit breakers and locks live in Redis instead "
	"of the state file, changed only by server-side Lua scripts (atomic; "
	"called by SHA with EVALSHA, sent whole with EVAL when the server does "
	"not have them): one delivery per alert identity, severity and window "
	"fleet-wide, a rate that holds for the fleet, a breaker opened by one "
	"host open on all with one half-open probe fleet-wide, a lock held by "
	"one host: dlq replay (one replayer per source fleet-wide, fenced "
	"inside each batch's script; see mercuryctl-dlq(1)) and job run's "
	"overlap lock (one run of a job fleet-wide, renewed while it runs) "
	"and backup create into a shared directory (one create at a time). "
	"OAuth refreshes stay single-flight per host, not fleet-wide: tokens "
	"live in each host's state file, so no two hosts share a refresh "
	"token. "
	"History, results and tokens stay in each host's state "
	"file. alert send and alert test, health --notify and oauth's alerts "
	"keep their dedup records, rate-limit buckets and webhook breakers in "
	"the fleet; fleet status shows its breakers, breaker list shows them "
	"(scope fleet) beside this host's, and breaker reset closes them. "
	"Every run recorded in the state file joins the fleet and "
	"heartbeats (an oauth token that finds its token fresh is not "
	"recorded, and asks nothing of Redis either).\n\n"
	"Keys are PREFIX:{TARGET}:KIND, so every script touches one Redis "
	"Cluster slot, and every key has a TTL: a dedup record lives 7 days "
	"past its window, a breaker a day past its last change, a bucket as "
	"long as it takes to fill up, a lock one lease (renewed while held), a "
	"member 7 days past its last run. A lock carries a fencing token from "
	"a counter that only grows (its TTL, at least a day and 100 leases, is "
	"renewed on each use); a script that must refuse a holder whose lease "
	"ran out checks the token inside Redis.\n\n"
	"Every run records its host name, version and command in the fleet "
	"(a heartbeat). fleet status lists the members with when they "
	"were last seen, the shared breakers, and the held locks with their "
	"owner (host and pid), token, how long they have been held and what "
	"is left of the lease.\n\n"
	"Degraded mode: when Redis cannot be reached, a run goes on with the "
	"state file and says \"fleet: degraded\" (on stderr; in JSON the "
	"member \"fleet\" is \"degraded\", with \"fleet_error\", where it is "
	"\"ok\" otherwise), its exit code unchanged: an alert is never lost, at "
	"worst it goes out once per host; a lock "
	"that must hold fleet-wide is not taken locally instead: that run "
	"exits 75. The next run uses Redis again by itself. fleet status "
	"exits 3 (UNKNOWN) when Redis cannot be reached, and 78 without a "
	"[fleet] section.",
	.subs = fleet_subs,
};
