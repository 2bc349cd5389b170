/*
 * fleet.c - the [fleet] section, and the calls of the scripts in
 * fleet_scripts.c with their answers read back. See fleet.h.
 */
#include "fleet.h"
#include "redis_script.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct mc_fleet {
	struct mc_redis *r;
	char *name;
	char *prefix;
	int64_t lease_ms;
};

int mc_fleet_conf_load(const struct mc_conf *conf, struct mc_fleet_conf *out,
		       struct mc_err *err)
{
	const struct mc_conf_section *s = mc_conf_find(conf, "fleet", NULL);
	const struct mc_conf_section *core = mc_conf_core(conf);
	const char *v;
	char host[256];

	(void)err;
	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return 0;
	v = mc_conf_str(s, "redis_url");
	out->url = mc_strdup(v ? v : mc_conf_str(core, "redis_url"));
	v = mc_conf_str(s, "password_file");
	out->password_file = mc_strdup(v ? v : mc_conf_str(core,
						"redis_password_file"));
	v = mc_conf_str(s, "name");
	if (v == NULL) {
		mc_hostname(host, sizeof(host));
		v = host;
	}
	out->name = mc_strdup(v);
	out->prefix = mc_strdup(mc_conf_str(s, "key_prefix"));
	if (out->prefix == NULL)
		out->prefix = mc_strdup("mercury");
	out->lease_ms = mc_conf_ms(s, "lease", 30000);
	return 1;
}

void mc_fleet_conf_release(struct mc_fleet_conf *fc)
{
	if (fc == NULL)
		return;
	mc_free_secret(fc->url);
	free(fc->password_file);
	free(fc->name);
	free(fc->prefix);
	memset(fc, 0, sizeof(*fc));
}

struct mc_fleet *mc_fleet_connect(const struct mc_fleet_conf *fc,
				  int64_t timeout_ms, struct mc_err *err)
{
	struct mc_redis_opts o = {
		.url = fc->url,
		.password_file = fc->password_file,
		.connect_timeout_ms = timeout_ms,
		.command_timeout_ms = timeout_ms,
	};
	struct mc_redis *r = mc_redis_connect(&o, err);
	struct mc_fleet *f;

	if (r == NULL)
		return NULL;
	f = mc_calloc(1, sizeof(*f));
	f->r = r;
	f->name = mc_strdup(fc->name ? fc->name : "localhost");
	f->prefix = mc_strdup(fc->prefix ? fc->prefix : "mercury");
	f->lease_ms = fc->lease_ms > 0 ? fc->lease_ms : 30000;
	return f;
}

void mc_fleet_close(struct mc_fleet *f)
{
	if (f == NULL)
		return;
	mc_redis_close(f->r);
	free(f->name);
	free(f->prefix);
	free(f);
}

const char *mc_fleet_name(const struct mc_fleet *f)
{
	return f->name;
}

int64_t mc_fleet_lease_ms(const struct mc_fleet *f)
{
	return f->lease_ms;
}

struct mc_redis *mc_fleet_redis(struct mc_fleet *f)
{
	return f->r;
}

char *mc_fleet_key(const struct mc_fleet *f, const char *target,
		   const char *kind)
{
	struct mc_buf b = { 0 };

	mc_buf_printf(&b, "%s:{", f->prefix);
	for (const char *p = target; *p; p++) {
		if (*p == '{')
			mc_buf_puts(&b, "%7B");
		else if (*p == '}')
			mc_buf_puts(&b, "%7D");
		else if (*p == '%')
			mc_buf_puts(&b, "%25");
		else
			mc_buf_add(&b, p, 1);
	}
	mc_buf_printf(&b, "}:%s", kind);
	return mc_buf_steal(&b);
}

/* The target of a key made by mc_fleet_key, for listings; NULL when key
 * is not one of kind. */
static char *key_target(const struct mc_fleet *f, const char *key,
			const char *kind)
{
	size_t pl = strlen(f->prefix), kl = strlen(kind), n = strlen(key);
	struct mc_buf b = { 0 };
	const char *p, *end;

	if (n < pl + 4 + kl || strncmp(key, f->prefix, pl) != 0 ||
	    strncmp(key + pl, ":{", 2) != 0 ||
	    strcmp(key + n - kl, kind) != 0 ||
	    strncmp(key + n - kl - 2, "}:", 2) != 0)
		return NULL;
	p = key + pl + 2;
	end = key + n - kl - 2;
	if (memchr(p, '}', (size_t)(end - p)) != NULL)
		return NULL;
	mc_buf_add(&b, "", 0);
	for (; p < end; p++) {
		if (*p == '%' && end - p >= 3) {
			if (strncmp(p, "%7B", 3) == 0)
				mc_buf_puts(&b, "{");
			else if (strncmp(p, "%7D", 3) == 0)
				mc_buf_puts(&b, "}");
			else if (strncmp(p, "%25", 3) == 0)
				mc_buf_puts(&b, "%");
			else {
				mc_buf_add(&b, p, 1);
				continue;
			}
			p += 2;
		} else {
			mc_buf_add(&b, p, 1);
		}
	}
	return mc_buf_steal(&b);
}

/* ---- replies ---- */

static redisReply *eval(struct mc_fleet *f, const char *script, int nkeys,
			const char *const *keys, int nargs,
			const char *const *args, size_t want,
			struct mc_err *err)
{
	redisReply *reply = mc_redis_eval(f->r, script, nkeys, keys, nargs,
					  args, NULL, err);

	if (reply == NULL)
		return NULL;
	if (want > 0 && (reply->type != REDIS_REPLY_ARRAY ||
			 reply->elements < want)) {
		freeReplyObject(reply);
		mc_err_set(err, MC_EXIT_CRITICAL,
			   "fleet: unexpected answer from a script");
		return NULL;
	}
	return reply;
}

/* Element i of an array reply as text ("" when nil). */
static const char *el_str(const redisReply *r, size_t i)
{
	const redisReply *e = r->element[i];

	return e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS ?
	       e->str : "";
}

static long long el_int(const redisReply *r, size_t i)
{
	const redisReply *e = r->element[i];

	if (e->type == REDIS_REPLY_INTEGER)
		return e->integer;
	return e->type == REDIS_REPLY_STRING ? strtoll(e->str, NULL, 10) : 0;
}

static double el_num(const redisReply *r, size_t i)
{
	const redisReply *e = r->element[i];

	if (e->type == REDIS_REPLY_INTEGER)
		return (double)e->integer;
	return e->type == REDIS_REPLY_STRING ? strtod(e->str, NULL) : 0;
}

static long long int_reply(redisReply *r)
{
	long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;

	freeReplyObject(r);
	return v;
}

/* ---- dedup ---- */

static char *dedup_key(const struct mc_fleet *f, const char *scope,
		       const char *key)
{
	char *kind = mc_asprintf("dedup:%s", key);
	char *k = mc_fleet_key(f, scope, kind);

	free(kind);
	return k;
}

int mc_fleet_dedup_claim(struct mc_fleet *f, const char *scope,
			 const char *key, int resolve, const char *severity,
			 int64_t window_ms, int64_t lease_ms, int no_dedup,
			 struct mc_fleet_claim *c, char *why, size_t size,
			 struct mc_err *err)
{
	unsigned char raw[16];
	char win[24], lease[24], keep[24];
	char *k = dedup_key(f, scope, key);
	const char *keys[1] = { k };
	const char *args[7];
	redisReply *r;
	int rc;

	memset(c, 0, sizeof(*c));
	mc_random_bytes(raw, sizeof(raw));
	mc_hex(raw, sizeof(raw), c->token);
	snprintf(win, sizeof(win), "%lld", (long long)window_ms);
	snprintf(lease, sizeof(lease), "%lld",
		 (long long)(lease_ms > 0 ? lease_ms : 1));
	snprintf(keep, sizeof(keep), "%lld", MC_FLEET_DEDUP_KEEP_MS);
	args[0] = resolve ? "resolve" : "trigger";
	args[1] = severity;
	args[2] = win;
	args[3] = lease;
	args[4] = c->token;
	args[5] = no_dedup ? "1" : "0";
	args[6] = keep;
	r = eval(f, mc_fleet_lua_dedup_claim, 1, keys, 7, args, 4, err);
	free(k);
	if (r == NULL)
		return -1;
	rc = el_int(r, 0) == 1 ? MC_FLEET_SEND : MC_FLEET_SUPPRESSED;
	snprintf(c->open_severity, sizeof(c->open_severity), "%s",
		 el_str(r, 3));
	if (rc == MC_FLEET_SEND) {
		c->active = 1;
	} else {
		const char *reason = el_str(r, 1);
		char ago[32], w[32];

		mc_format_duration((int64_t)(el_num(r, 2) * 1e3), ago,
				   sizeof(ago));
		mc_format_duration(window_ms, w, sizeof(w));
		if (strcmp(reason, "busy") == 0)
			snprintf(why, size, "another host or run is "
				 "delivering the same alert now");
		else if (strcmp(reason, "window") == 0)
			snprintf(why, size, "sent %s ago, within dedup_window "
				 "%s (fleet)", ago, w);
		else if (strcmp(reason, "no_trigger") == 0)
			snprintf(why, size, "no trigger of this alert to "
				 "resolve");
		else
			snprintf(why, size, "already resolved %s ago", ago);
	}
	freeReplyObject(r);
	return rc;
}

int mc_fleet_dedup_settle(struct mc_fleet *f, const char *scope,
			  const char *key, struct mc_fleet_claim *c,
			  int delivered, struct mc_err *err)
{
	char *k;
	const char *keys[1];
	const char *args[2];
	redisReply *r;

	if (!c->active)
		return 0;
	k = dedup_key(f, scope, key);
	keys[0] = k;
	args[0] = c->token;
	args[1] = delivered ? "1" : "0";
	r = eval(f, mc_fleet_lua_dedup_settle, 1, keys, 2, args, 0, err);
	free(k);
	c->active = 0;
	if (r == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

/* ---- buckets ---- */

int mc_fleet_bucket_reserve(struct mc_fleet *f, const char *name,
			    double rate, double burst, double n,
			    double max_wait_s, double *wait_s,
			    struct mc_err *err)
{
	char a[4][40];
	const char *args[4] = { a[0], a[1], a[2], a[3] };
	char *k;
	const char *keys[1];
	redisReply *r;
	int taken;

	if (wait_s != NULL)
		*wait_s = 0;
	if (!(rate > 0) || !(burst > 0) || !(n >= 0) || n > burst)
		return mc_err_set(err, MC_EXIT_USAGE,
				  "rate limit '%s': cannot take %g tokens at %g/s with burst %g",
				  name, n, rate, burst);
	snprintf(a[0], sizeof(a[0]), "%.17g", rate);
	snprintf(a[1], sizeof(a[1]), "%.17g", burst);
	snprintf(a[2], sizeof(a[2]), "%.17g", n);
	snprintf(a[3], sizeof(a[3]), "%.17g", max_wait_s > 0 ? max_wait_s : 0);
	k = mc_fleet_key(f, name, "bucket");
	keys[0] = k;
	r = eval(f, mc_fleet_lua_bucket, 1, keys, 4, args, 2, err);
	free(k);
	if (r == NULL)
		return -1;
	taken = el_int(r, 0) == 1;
	if (wait_s != NULL)
		*wait_s = el_num(r, 1);
	freeReplyObject(r);
	return taken;
}

/* ---- breakers ---- */

static double recovery_s(const struct mc_breaker_conf *conf)
{
	return (conf != NULL && conf->recovery_ms >= 0 ?
		(double)conf->recovery_ms : 30000) / 1e3;
}

int mc_fleet_breaker_allow(struct mc_fleet *f, const char *name,
			   const struct mc_breaker_conf *conf,
			   double *retry_at, struct mc_err *err)
{
	char rec[40], keep[24];
	const char *args[2] = { rec, keep };
	char *k = mc_fleet_key(f, name, "breaker");
	const char *keys[1] = { k };
	redisReply *r;
	int allow;

	if (retry_at != NULL)
		*retry_at = 0;
	snprintf(rec, sizeof(rec), "%.17g", recovery_s(conf));
	snprintf(keep, sizeof(keep), "%lld", MC_FLEET_BREAKER_KEEP_MS);
	r = eval(f, mc_fleet_lua_breaker_allow, 1, keys, 2, args, 2, err);
	free(k);
	if (r == NULL)
		return -1;
	allow = el_int(r, 0) == 1;
	if (!allow && retry_at != NULL)
		*retry_at = el_num(r, 1);
	freeReplyObject(r);
	return allow;
}

int mc_fleet_breaker_record(struct mc_fleet *f, const char *name,
			    int success, const struct mc_breaker_conf *conf,
			    struct mc_err *err)
{
	char fails[24], rec[40], keep[24];
	const char *args[4] = { success ? "1" : "0", fails, rec, keep };
	char *k = mc_fleet_key(f, name, "breaker");
	const char *keys[1] = { k };
	redisReply *r;

	snprintf(fails, sizeof(fails), "%d",
		 conf != NULL && conf->failures > 0 ? conf->failures : 5);
	snprintf(rec, sizeof(rec), "%.17g", recovery_s(conf));
	snprintf(keep, sizeof(keep), "%lld", MC_FLEET_BREAKER_KEEP_MS);
	r = eval(f, mc_fleet_lua_breaker_record, 1, keys, 4, args, 0, err);
	free(k);
	if (r == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

int mc_fleet_breaker_reset(struct mc_fleet *f, const char *name,
			   struct mc_err *err)
{
	char *k = mc_fleet_key(f, name, "breaker");
	redisReply *r = mc_redis_cmd(f->r, err, "DEL %s", k);

	free(k);
	if (r == NULL)
		return -1;
	if (int_reply(r) == 0)
		return mc_err_set(err, MC_EXIT_USAGE,
				  "no breaker named '%s' in the fleet", name);
	return 0;
}

/* ---- listings ---- */

/* A glob pattern matching "<prefix>:{*}:<kind>" (the prefix's own glob
 * characters escaped). Caller frees. */
static char *pattern(const struct mc_fleet *f, const char *tprefix,
		     const char *kind)
{
	struct mc_buf b = { 0 };

	for (const char *p = f->prefix; *p; p++) {
		if (strchr("*?[]\\", *p) != NULL)
			mc_buf_add(&b, "\\", 1);
		mc_buf_add(&b, p, 1);
	}
	mc_buf_printf(&b, ":{%s*}:%s", tprefix, kind);
	return mc_buf_steal(&b);
}

/* Every key of kind (SCAN, so the server is never blocked). Caller frees
 * each and the array. */
static int scan_keys(struct mc_fleet *f, const char *tprefix,
		     const char *kind, char ***out, size_t *n,
		     struct mc_err *err)
{
	char *pat = pattern(f, tprefix, kind);
	char cursor[32] = "0";
	char **keys = NULL;
	size_t len = 0;

	*out = NULL;
	*n = 0;
	do {
		redisReply *r = mc_redis_cmd(f->r, err,
					     "SCAN %s MATCH %s COUNT 1000",
					     cursor, pat);
		redisReply *list;

		if (r == NULL)
			goto fail;
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(r);
			mc_err_set(err, MC_EXIT_CRITICAL,
				   "fleet: unexpected SCAN answer");
			goto fail;
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		list = r->element[1];
		for (size_t i = 0; i < list->elements; i++) {
			if (list->element[i]->type != REDIS_REPLY_STRING)
				continue;
			keys = mc_realloc(keys, (len + 1) * sizeof(*keys));
			keys[len++] = mc_strdup(list->element[i]->str);
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	free(pat);
	*out = keys;
	*n = len;
	return 0;
fail:
	free(pat);
	for (size_t i = 0; i < len; i++)
		free(keys[i]);
	free(keys);
	return -1;
}

static void free_keys(char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

/* HMGET of nf fields of key: an array reply of nf elements, or NULL
 * (err filled; a key gone meanwhile is an array of nils). */
static redisReply *hmget(struct mc_fleet *f, const char *key,
			 const char *const *fields, size_t nf,
			 struct mc_err *err)
{
	const char *argv[16];
	size_t argc = 0;
	redisReply *r;

	argv[argc++] = "HMGET";
	argv[argc++] = key;
	for (size_t i = 0; i < nf && argc < MC_ARRAY_LEN(argv); i++)
		argv[argc++] = fields[i];
	r = mc_redis_cmdargv(f->r, (int)argc, argv, NULL, err);
	if (r != NULL && (r->type != REDIS_REPLY_ARRAY || r->elements != nf)) {
		freeReplyObject(r);
		mc_err_set(err, MC_EXIT_CRITICAL,
			   "fleet: unexpected HMGET answer");
		return NULL;
	}
	return r;
}

int mc_fleet_server_time(struct mc_fleet *f, double *now, struct mc_err *err)
{
	redisReply *r = mc_redis_cmd(f->r, err, "TIME");

	if (r == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
		freeReplyObject(r);
		return mc_err_set(err, MC_EXIT_CRITICAL,
				  "fleet: unexpected TIME answer");
	}
	*now = el_num(r, 0) + el_num(r, 1) / 1e6;
	freeReplyObject(r);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int mc_fleet_breaker_list(struct mc_fleet *f, struct mc_breaker_info **out,
			  size_t *n, struct mc_err *err)
{
	static const char *const fields[] = { "state", "failures",
					      "opened_at", "updated",
					      "recovery" };
	struct mc_breaker_info *list = NULL;
	size_t nk = 0, len = 0;
	char **keys;
	double now;

	*out = NULL;
	*n = 0;
	if (mc_fleet_server_time(f, &now, err) < 0 ||
	    scan_keys(f, "", "breaker", &keys, &nk, err) < 0)
		return -1;
	/* names sort as their keys do: one prefix, one suffix */
	if (nk > 1)
		qsort(keys, nk, sizeof(*keys), by_name);
	for (size_t i = 0; i < nk; i++) {
		char *name = key_target(f, keys[i], "breaker");
		redisReply *r;
		struct mc_breaker_info *b;
		double rec;

		if (name == NULL)
			continue;
		r = hmget(f, keys[i], fields, MC_ARRAY_LEN(fields), err);
		if (r == NULL) {
			free(name);
			mc_breaker_info_free(list, len);
			free_keys(keys, nk);
			return -1;
		}
		if (r->element[0]->type != REDIS_REPLY_STRING) {
			/* gone since the scan */
			freeReplyObject(r);
			free(name);
			continue;
		}
		list = mc_realloc(list, (len + 1) * sizeof(*list));
		b = &list[len++];
		b->name = name;
		b->state = (int)el_int(r, 0);
		b->failures = (int)el_int(r, 1);
		b->opened_at = el_num(r, 2);
		b->updated = el_num(r, 3);
		b->retry_at = 0;
		rec = el_num(r, 4);
		if (b->state == MC_BREAKER_OPEN) {
			if (now >= b->opened_at + rec)
				b->state = MC_BREAKER_HALF_OPEN;
			else
				b->retry_at = b->opened_at + rec;
		}
		freeReplyObject(r);
	}
	free_keys(keys, nk);
	*out = list;
	*n = len;
	return 0;
}

/* ---- leases ---- */

int64_t mc_fleet_fence_keep_ms(int64_t lease_ms)
{
	int64_t day = 24LL * 3600 * 1000;

	return lease_ms * 100 > day ? lease_ms * 100 : day;
}

char *mc_fleet_lock_key(const struct mc_fleet *f, const char *name)
{
	return mc_fleet_key(f, name, "lock");
}

int mc_fleet_lock_acquire(struct mc_fleet *f, const char *name,
			  int64_t lease_ms, struct mc_fleet_lease *out,
			  char *holder, size_t size, struct mc_err *err)
{
	unsigned char raw[4];
	char hex[9], lease[24], keep[24];
	char *owner, *lk, *fk;
	const char *keys[2];
	const char *args[3];
	redisReply *r;
	int rc;

	memset(out, 0, sizeof(*out));
	if (lease_ms <= 0)
		lease_ms = f->lease_ms;
	mc_random_bytes(raw, sizeof(raw));
	mc_hex(raw, sizeof(raw), hex);
	owner = mc_asprintf("%s/%ld/%s", f->name, (long)getpid(), hex);
	lk = mc_fleet_key(f, name, "lock");
	fk = mc_fleet_key(f, name, "fence");
	snprintf(lease, sizeof(lease), "%lld", (long long)lease_ms);
	snprintf(keep, sizeof(keep), "%lld",
		 (long long)mc_fleet_fence_keep_ms(lease_ms));
	keys[0] = lk;
	keys[1] = fk;
	args[0] = owner;
	args[1] = lease;
	args[2] = keep;
	r = eval(f, mc_fleet_lua_lock_acquire, 2, keys, 3, args, 5, err);
	free(lk);
	free(fk);
	if (r == NULL) {
		free(owner);
		return -1;
	}
	if (el_int(r, 0) == 1) {
		out->name = mc_strdup(name);
		out->owner = owner;
		snprintf(out->token, sizeof(out->token), "%s", el_str(r, 2));
		out->lease_ms = lease_ms;
		rc = 1;
	} else {
		char left[32];
		const char *who = el_str(r, 1);
		const char *slash = strchr(who, '/');
		const char *pid = slash ? slash + 1 : "";

		mc_format_duration(el_int(r, 4) > 0 ? el_int(r, 4) : 0, left,
				   sizeof(left));
		if (holder != NULL)
			snprintf(holder, size, "host %.*s pid %.*s, lease "
				 "ends in %s", slash ? (int)(slash - who) :
				 (int)strlen(who), who,
				 (int)strcspn(pid, "/"), pid, left);
		free(owner);
		rc = 0;
	}
	freeReplyObject(r);
	return rc;
}

int mc_fleet_lock_renew(struct mc_fleet *f, const struct mc_fleet_lease *l,
			struct mc_err *err)
{
	char lease[24], keep[24];
	char *lk = mc_fleet_key(f, l->name, "lock");
	char *fk = mc_fleet_key(f, l->name, "fence");
	const char *keys[2] = { lk, fk };
	const char *args[4] = { l->owner, l->token, lease, keep };
	redisReply *r;

	snprintf(lease, sizeof(lease), "%lld", (long long)l->lease_ms);
	snprintf(keep, sizeof(keep), "%lld",
		 (long long)mc_fleet_fence_keep_ms(l->lease_ms));
	r = eval(f, mc_fleet_lua_lock_renew, 2, keys, 4, args, 0, err);
	free(lk);
	free(fk);
	if (r == NULL)
		return -1;
	return int_reply(r) == 1;
}

int mc_fleet_lock_release(struct mc_fleet *f, const struct mc_fleet_lease *l,
			  struct mc_err *err)
{
	char *lk = mc_fleet_key(f, l->name, "lock");
	const char *keys[1] = { lk };
	const char *args[2] = { l->owner, l->token };
	redisReply *r;

	r = eval(f, mc_fleet_lua_lock_release, 1, keys, 2, args, 0, err);
	free(lk);
	if (r == NULL)
		return -1;
	return int_reply(r) == 1;
}

void mc_fleet_lease_release(struct mc_fleet_lease *l)
{
	if (l == NULL)
		return;
	free(l->name);
	free(l->owner);
	memset(l, 0, sizeof(*l));
}

int mc_fleet_locks(struct mc_fleet *f, struct mc_fleet_lock_info **out,
		   size_t *n, struct mc_err *err)
{
	static const char *const fields[] = { "owner", "token", "acquired",
					      "renewed" };
	struct mc_fleet_lock_info *list = NULL;
	size_t nk = 0, len = 0;
	char **keys;

	*out = NULL;
	*n = 0;
	if (scan_keys(f, "", "lock", &keys, &nk, err) < 0)
		return -1;
	if (nk > 1)
		qsort(keys, nk, sizeof(*keys), by_name);
	for (size_t i = 0; i < nk; i++) {
		char *name = key_target(f, keys[i], "lock");
		struct mc_fleet_lock_info *l;
		redisReply *r, *t;

		if (name == NULL)
			continue;
		r = hmget(f, keys[i], fields, MC_ARRAY_LEN(fields), err);
		t = r ? mc_redis_cmd(f->r, err, "PTTL %s", keys[i]) : NULL;
		if (t == NULL) {
			if (r)
				freeReplyObject(r);
			free(name);
			mc_fleet_locks_free(list, len);
			free_keys(keys, nk);
			return -1;
		}
		if (r->element[0]->type != REDIS_REPLY_STRING) {
			freeReplyObject(r);
			freeReplyObject(t);
			free(name);
			continue;
		}
		list = mc_realloc(list, (len + 1) * sizeof(*list));
		l = &list[len++];
		l->name = name;
		l->owner = mc_strdup(el_str(r, 0));
		l->token = mc_strdup(el_str(r, 1));
		l->acquired = el_num(r, 2);
		l->renewed = el_num(r, 3);
		l->ttl_ms = int_reply(t);
		freeReplyObject(r);
	}
	free_keys(keys, nk);
	*out = list;
	*n = len;
	return 0;
}

void mc_fleet_locks_free(struct mc_fleet_lock_info *l, size_t n)
{
	for (size_t i = 0; l != NULL && i < n; i++) {
		free(l[i].name);
		free(l[i].owner);
		free(l[i].token);
	}
	free(l);
}

/* ---- membership ---- */

int mc_fleet_heartbeat(struct mc_fleet *f, const char *command,
		       struct mc_err *err)
{
	char pid[24], keep[24];
	char *target = mc_asprintf("host:%s", f->name);
	char *k = mc_fleet_key(f, target, "member");
	const char *keys[1] = { k };
	const char *args[5] = { f->name, MC_VERSION, command ? command : "",
				pid, keep };
	redisReply *r;

	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	snprintf(keep, sizeof(keep), "%lld", MC_FLEET_MEMBER_KEEP_MS);
	r = eval(f, mc_fleet_lua_heartbeat, 1, keys, 5, args, 0, err);
	free(k);
	free(target);
	if (r == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

int mc_fleet_members(struct mc_fleet *f, struct mc_fleet_member **out,
		     size_t *n, struct mc_err *err)
{
	static const char *const fields[] = { "name", "version",
					      "last_command", "pid",
					      "last_seen" };
	struct mc_fleet_member *list = NULL;
	size_t nk = 0, len = 0;
	char **keys;

	*out = NULL;
	*n = 0;
	if (scan_keys(f, "host:", "member", &keys, &nk, err) < 0)
		return -1;
	if (nk > 1)
		qsort(keys, nk, sizeof(*keys), by_name);
	for (size_t i = 0; i < nk; i++) {
		redisReply *r = hmget(f, keys[i], fields, MC_ARRAY_LEN(fields),
				      err);
		struct mc_fleet_member *m;

		if (r == NULL) {
			mc_fleet_members_free(list, len);
			free_keys(keys, nk);
			return -1;
		}
		if (r->element[0]->type != REDIS_REPLY_STRING) {
			freeReplyObject(r);
			continue;
		}
		list = mc_realloc(list, (len + 1) * sizeof(*list));
		m = &list[len++];
		m->name = mc_strdup(el_str(r, 0));
		m->version = mc_strdup(el_str(r, 1));
		m->last_command = mc_strdup(el_str(r, 2));
		m->pid = (long)el_int(r, 3);
		m->last_seen = el_num(r, 4);
		freeReplyObject(r);
	}
	free_keys(keys, nk);
	*out = list;
	*n = len;
	return 0;
}

void mc_fleet_members_free(struct mc_fleet_member *m, size_t n)
{
	for (size_t i = 0; m != NULL && i < n; i++) {
		free(m[i].name);
		free(m[i].version);
		free(m[i].last_command);
	}
	free(m);
}
