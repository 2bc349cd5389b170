/*
 * check_types.c - the registry of check types, and the [check "NAME"]
 * section's schema made from it.
 *
 * To add a check type, define its struct mc_check_type in a file of its
 * own (check.h says what each field is for) and add one line to
 * mc_check_types[] below; docs/DESIGN.md has the whole recipe. The type
 * key's choices, the keys a section of the type takes, their defaults,
 * mercury.conf(5) and `config show` follow from the registry.
 */
#include "check.h"

#include <stdio.h>
#include <string.h>

/* Every check type, in the order mercury.conf(5) lists their keys; the
 * MC_CHECK_DEFAULT ones run in this order when no check is configured. */
const struct mc_check_type *const mc_check_types[] = {
	&mc_check_state,
	&mc_check_disk,
	&mc_check_memory,
	&mc_check_http,
	&mc_check_tcp,
	&mc_check_redis,
	&mc_check_redis_queue,
	&mc_check_prometheus,
	&mc_check_sqlite,
	&mc_check_exec,
	&mc_check_oauth,
	&mc_check_backup,
	&mc_check_job,
	NULL,
};

const struct mc_check_type *mc_check_type_find(const char *name)
{
	for (size_t i = 0; name != NULL && mc_check_types[i] != NULL; i++)
		if (strcmp(mc_check_types[i]->name, name) == 0)
			return mc_check_types[i];
	return NULL;
}

/* ---- the [check] schema --------------------------------------------------- */

/* The keys every check takes, whatever its type. */
static const struct mc_conf_key common_keys[] = {
	{ .name = "type", .type = MC_CT_ENUM, .flags = MC_CK_REQUIRED,
	  .help = "what the check probes" },	/* .choices: the registry */
	{ .name = "timeout", .type = MC_CT_DURATION, .def = "2s",
	  .help = "time one probe may take; one that overruns is critical" },
	{ .name = "critical", .type = MC_CT_BOOL, .def = "false",
	  .help = "a failure makes the run unavailable, not degraded" },
	{ .name = "failure_threshold", .type = MC_CT_INT, .def = "3",
	  .help = "consecutive failures before the check alerts" },
	{ .name = "success_threshold", .type = MC_CT_INT, .def = "2",
	  .help = "consecutive passes before the check resolves" },
	{ .name = "breaker_failures", .type = MC_CT_INT,
	  .help = "overrides [core] breaker_failures for this check: failed "
		  "runs in a row that open its circuit breaker (types that "
		  "probe a target: http, prometheus, tcp, redis, redis_queue)" },
	{ .name = "breaker_recovery", .type = MC_CT_DURATION,
	  .help = "overrides [core] breaker_recovery for this check: how long "
		  "its open breaker leaves the target alone" },
};

/* Room for the common keys and every type's: MC_BUG when outgrown. */
#define MAX_KEYS 96
#define TYPES_LEN 128

static struct mc_conf_key check_keys[MAX_KEYS + 1];
static char key_types[MAX_KEYS][TYPES_LEN];
static char type_choices[MAX_KEYS * 16];

static int same_text(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/* Two types declare a key alike: it is shown once, for both. */
static int same_key(const struct mc_conf_key *a, const struct mc_conf_key *b)
{
	return strcmp(a->name, b->name) == 0 && a->type == b->type &&
	       a->flags == b->flags && same_text(a->def, b->def) &&
	       same_text(a->help, b->help) &&
	       same_text(a->choices, b->choices) && same_text(a->env, b->env);
}

static void append(char *dst, size_t size, const char *sep, const char *word)
{
	size_t n = strlen(dst);

	if (snprintf(dst + n, size - n, "%s%s", n ? sep : "", word) >=
	    (int)(size - n))
		MC_BUG("check type table outgrew its buffer at '%s'", word);
}

/* Adds type's key k to the schema: a key another type declared alike gets
 * this type added to its .types; any other is a new entry. Whether the
 * type requires it is the type's business (check_validate), not the
 * schema's: the flag is dropped here. */
static void add_key(size_t *n, const struct mc_conf_key *k, const char *type)
{
	struct mc_conf_key want = *k;

	want.flags &= ~(unsigned)MC_CK_REQUIRED;
	for (size_t i = MC_ARRAY_LEN(common_keys); i < *n; i++) {
		if (same_key(&check_keys[i], &want)) {
			append(key_types[i], TYPES_LEN, "|", type);
			return;
		}
	}
	if (*n >= MAX_KEYS)
		MC_BUG("more than %d [check] keys", MAX_KEYS);
	append(key_types[*n], TYPES_LEN, "|", type);
	want.types = key_types[*n];
	check_keys[(*n)++] = want;
}

/* Built before main() runs (and before any test), so that the schema is
 * complete wherever it is read: by the loader, `config show`, gendoc. */
__attribute__((constructor)) static void build_check_keys(void)
{
	size_t n = 0;

	for (size_t i = 0; i < MC_ARRAY_LEN(common_keys); i++)
		check_keys[n++] = common_keys[i];
	for (size_t t = 0; mc_check_types[t] != NULL; t++) {
		const struct mc_check_type *ct = mc_check_types[t];

		if ((ct->flags & MC_CHECK_HTTP) ?
		    ct->http_prepare == NULL || ct->http_evaluate == NULL :
		    ct->run == NULL)
			MC_BUG("check type '%s' has no code to run", ct->name);
		append(type_choices, sizeof(type_choices), "|", ct->name);
		for (size_t k = 0; ct->keys && ct->keys[k].name; k++)
			add_key(&n, &ct->keys[k], ct->name);
	}
	check_keys[0].choices = type_choices;
	check_keys[n].name = NULL;
}

/* The type's required keys, its own rules, then one rule for warn and crit
 * of every type. */
static int check_validate(const struct mc_conf_section *s, const char **key,
			  char *why, size_t size)
{
	const char *type = mc_conf_str(s, "type");
	const struct mc_check_type *t = mc_check_type_find(type);
	const struct mc_conf_value *w, *c;
	struct mc_range rw, rc;

	if (t == NULL)
		MC_BUG("type '%s' passed the schema but is not registered",
		       type ? type : "(none)");
	for (size_t k = 0; t->keys && t->keys[k].name; k++) {
		if ((t->keys[k].flags & MC_CK_REQUIRED) &&
		    mc_conf_get(s, t->keys[k].name) == NULL) {
			*key = "type";
			snprintf(why, size, "a check of type '%s' needs '%s'",
				 type, t->keys[k].name);
			return -1;
		}
	}
	if (t->validate != NULL && t->validate(s, key, why, size) < 0)
		return -1;
	/* For two plain numbers, warn beyond crit can never warn. */
	w = mc_conf_get(s, "warn");
	c = mc_conf_get(s, "crit");
	if (w == NULL || c == NULL || mc_range_parse(w->raw, &rw, NULL) < 0 ||
	    mc_range_parse(c->raw, &rc, NULL) < 0 ||
	    !(rw.flags & MC_RANGE_PLAIN) || !(rc.flags & MC_RANGE_PLAIN) ||
	    rw.hi <= rc.hi)
		return 0;
	*key = mc_streq(w->source, "default") ? "crit" : "warn";
	snprintf(why, size, "warn (%s) must not exceed crit (%s)", w->raw,
		 c->raw);
	return -1;
}

const struct mc_conf_schema mc_check_schema = {
	.name = "check",
	.named = 1,
	.help = "one health check, run by `mercuryctl health`",
	.keys = check_keys,
	.validate = check_validate,
};
