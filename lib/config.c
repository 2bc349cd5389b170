/*
 * config.c - mercury.conf (mercury.conf(5)), read with inih and checked
 * against a schema list (config_schema.c).
 *
 * inih splits lines into comments and "key = value" pairs. Our reader feeds
 * it one line at a time and counts lines, so when the handler is given a key
 * the reader's line is that key's line. Section headers are parsed here, in
 * the reader, not by inih: inih keeps only 50 bytes of a header, says nothing
 * of a section without keys, and knows no [name "instance"] form.
 *
 * A section's keys are collected while it is read and checked in file order
 * when it ends, since what a key means may depend on a `type` given below
 * it. Then come the environment, the flags ([core] only), the required keys,
 * the defaults and the schema's own cross-key rules.
 */
#include "config.h"
#include "proc.h"
#include "threshold.h"

#include <ctype.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CONF_MAX_FILE	(4u << 20)
#define CONF_MAX_LINE	65536	/* inih's line buffer, "\r\n\0" included */
#define NO_SECTION	((size_t)-1)
#define SYNTAX_MSG	"syntax error (expected 'key = value' or '[section]')"

struct entry {
	char *name;
	char *value;
	int line;
	int cut;		/* an inline comment ended the value */
};

/* What the parser keeps about a section while the file is read. */
struct pending {
	int line;		/* of its header; 0: not in the file */
	int done;		/* finished: checked and complete */
	struct entry *ents;	/* keys as read, in file order */
	size_t n_ents;
	size_t cap_ents;
	int *lines;		/* per value slot: file line of its value */
};

struct parser {
	const char *name;	/* file name in messages */
	const struct mc_conf_schema *const *schemas;
	const struct mc_conf_flag *flags;
	size_t n_flags;
	struct mc_conf *conf;
	struct pending *pend;	/* beside conf->sections */
	size_t cap_sections;	/* of conf->sections and pend */
	size_t *index;		/* open addressing: section number + 1, 0 free */
	size_t cap_index;	/* a power of two, or 0 */
	size_t cur;		/* section being read, or NO_SECTION */
	const char *text;
	size_t len;
	size_t pos;
	int lineno;
	int at_bol;
	int failed;
	struct mc_err *err;
};

static size_t n_keys(const struct mc_conf_schema *sc)
{
	size_t n = 0;

	while (sc->keys[n].name != NULL)
		n++;
	return n;
}

/* Index of word in a '|'-separated list, or -1. */
static int list_index(const char *word, const char *list)
{
	size_t n = strlen(word);
	const char *p = list;

	for (int i = 0;; i++) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);

		if (len == n && strncmp(p, word, n) == 0)
			return i;
		if (bar == NULL)
			return -1;
		p = bar + 1;
	}
}

/* The word of a '|' list nearest to word, copied to out ("" when none). */
static void list_suggest(const char *word, const char *list, char *out,
			 size_t size)
{
	char *buf = mc_strdup(list), *p;
	const char **v;
	const char *best;
	size_t n = 1, i = 0;

	for (p = buf; *p; p++)
		n += *p == '|';
	v = mc_calloc(n, sizeof(*v));
	v[i++] = buf;
	for (p = buf; *p; p++) {
		if (*p == '|') {
			*p = '\0';
			v[i++] = p + 1;
		}
	}
	best = mc_suggest(word, v, n);
	snprintf(out, size, "%s", best ? best : "");
	free(v);
	free(buf);
}

static int key_applies(const struct mc_conf_key *k, const char *type)
{
	return k->types == NULL ||
	       (type != NULL && list_index(type, k->types) >= 0);
}

static int schema_has_type(const struct mc_conf_schema *sc)
{
	for (size_t k = 0; sc->keys[k].name != NULL; k++)
		if (strcmp(sc->keys[k].name, "type") == 0)
			return 1;
	return 0;
}

/* Does key k count in this section: any key of a schema without a type,
 * else the keys its type allows. */
static int key_counts(const struct mc_conf_section *s, size_t k,
		      const char *type)
{
	return !schema_has_type(s->schema) ||
	       key_applies(&s->schema->keys[k], type);
}

/* The value of the section's "type" key, NULL when unset. */
static const char *section_type(const struct mc_conf_section *s)
{
	for (size_t k = 0; s->schema->keys[k].name != NULL; k++)
		if (strcmp(s->schema->keys[k].name, "type") == 0 &&
		    s->values[k].raw != NULL)
			return s->values[k].raw;
	return NULL;
}

static void sec_label(const char *schema, const char *name, char *buf,
		      size_t size)
{
	if (name != NULL)
		snprintf(buf, size, "[%s \"%s\"]", schema, name);
	else
		snprintf(buf, size, "[%s]", schema);
}

static const struct mc_conf_schema *
find_schema(const struct mc_conf_schema *const *schemas, const char *name)
{
	for (size_t i = 0; schemas[i] != NULL; i++)
		if (strcmp(schemas[i]->name, name) == 0)
			return schemas[i];
	return NULL;
}

/* http://, https:// or redis://, then a host (after any user info). */
static int url_ok(const char *s)
{
	static const char *const schemes[] = {
		"http://", "https://", "redis://",
	};

	for (const char *c = s; *c; c++)
		if (isspace((unsigned char)*c) || iscntrl((unsigned char)*c))
			return 0;
	for (size_t i = 0; i < MC_ARRAY_LEN(schemes); i++) {
		size_t n = strlen(schemes[i]);
		const char *host, *end, *at;

		if (strncmp(s, schemes[i], n) != 0)
			continue;
		host = s + n;
		end = host + strcspn(host, "/?#");
		for (at = host; at < end; at++)
			if (*at == '@')
				host = at + 1;
		return host < end && *host != ':';
	}
	return 0;
}

/* Parses raw as key's type into out->v; -1 with a reason in why. */
static int parse_value(const struct mc_conf_key *k, const char *raw,
		       struct mc_conf_value *out, char *why, size_t size)
{
	struct mc_conf_value t;
	struct mc_err e;
	char sug[128];
	int rc = 0, i;

	memset(&t, 0, sizeof(t));
	mc_err_clear(&e);
	switch (k->type) {
	case MC_CT_STRING:
		break;
	case MC_CT_PATH:
		if (*raw == '\0') {
			snprintf(why, size, "empty path");
			return -1;
		}
		break;
	case MC_CT_URL:
		if (url_ok(raw))
			break;
		/* A URL with user info may hold a password anywhere (a space
		 * or a slash in it defeats any masking): not quoted then. */
		if (strchr(raw, '@') != NULL)
			snprintf(why, size, "bad URL (not shown: it has user "
				 "info, which may hold a password; %s)",
				 strpbrk(raw, " \t\r\n") ? "it holds white "
				 "space or a line break" :
				 "use http://, https:// or redis:// and a host");
		else
			snprintf(why, size, "bad URL '%s' (use http://, "
				 "https:// or redis:// and a host)", raw);
		return -1;
	case MC_CT_DURATION:
		rc = mc_parse_duration_ms(raw, &t.v.ms, &e);
		break;
	case MC_CT_SIZE:
		rc = mc_parse_size(raw, &t.v.size, &e);
		break;
	case MC_CT_PERCENT:
		rc = mc_parse_percent(raw, &t.v.d, &e);
		break;
	case MC_CT_INT:
		if (mc_parse_int(raw, 0, LLONG_MAX, &t.v.i, &e) < 0) {
			snprintf(why, size,
				 "bad number '%s' (a whole number, 0 or more)",
				 raw);
			return -1;
		}
		break;
	case MC_CT_BOOL:
		rc = mc_parse_bool(raw, &t.v.b, &e);
		break;
	case MC_CT_RATE:
		rc = mc_parse_rate(raw, &t.v.d, &e);
		break;
	case MC_CT_THRESHOLD: {
		struct mc_range r;

		rc = mc_range_parse(raw, &r, &e);
		break;
	}
	case MC_CT_ENUM:
		i = list_index(raw, k->choices);
		if (i < 0) {
			list_suggest(raw, k->choices, sug, sizeof(sug));
			if (*sug)
				snprintf(why, size,
					 "'%s' is not one of %s (did you mean '%s'?)",
					 raw, k->choices, sug);
			else
				snprintf(why, size, "'%s' is not one of %s",
					 raw, k->choices);
			return -1;
		}
		t.v.i = i;
		break;
	}
	if (rc < 0) {
		snprintf(why, size, "%s", e.msg);
		return -1;
	}
	out->v = t.v;
	return 0;
}

/* As parse_value, but a reason never quotes a secret. */
static int parse_checked(const struct mc_conf_key *k, const char *raw,
			 struct mc_conf_value *out, char *why, size_t size)
{
	if (parse_value(k, raw, out, why, size) == 0)
		return 0;
	if (k->flags & MC_CK_SECRET) {
		explicit_bzero(why, size);
		snprintf(why, size, "not a valid %s (a secret: value not shown)",
			 k->type == MC_CT_URL ? "URL" : "value");
	}
	return -1;
}

static void value_clear(struct mc_conf_value *v)
{
	struct mc_conf_value *n = v->next;

	if (v->key != NULL && (v->key->flags & MC_CK_SECRET))
		mc_free_secret(v->raw);
	else
		free(v->raw);
	free(v->source);
	v->raw = NULL;
	v->source = NULL;
	v->next = NULL;
	memset(&v->v, 0, sizeof(v->v));
	while (n != NULL) {
		struct mc_conf_value *next = n->next;

		n->next = NULL;
		value_clear(n);
		free(n);
		n = next;
	}
}

/* Makes slot hold this one value: raw is copied, source taken. */
static void value_set(struct mc_conf_value *slot,
		      const struct mc_conf_value *parsed, const char *raw,
		      char *source)
{
	value_clear(slot);
	slot->raw = mc_strdup(raw);
	slot->source = source;
	slot->v = parsed->v;
}

/* Adds a value at the end of a list key's chain. */
static void value_append(struct mc_conf_value *slot,
			 const struct mc_conf_value *parsed, const char *raw,
			 char *source)
{
	struct mc_conf_value *n = mc_calloc(1, sizeof(*n)), **tail;

	n->key = slot->key;
	n->raw = mc_strdup(raw);
	n->source = source;
	n->v = parsed->v;
	for (tail = &slot->next; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = n;
}

/* Records the first error only. line > 0: "FILE:LINE: "; 0: "FILE: ";
 * < 0: no place (environment, flags). */
static void fail(struct parser *p, int code, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void fail(struct parser *p, int code, int line, const char *fmt, ...)
{
	char msg[MC_ERR_MSG];
	va_list ap;

	if (p->failed)
		return;
	p->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		mc_err_set(p->err, code, "%s:%d: %s", p->name, line, msg);
	else if (line == 0 && p->name != NULL)
		mc_err_set(p->err, code, "%s: %s", p->name, msg);
	else
		mc_err_set(p->err, code, "%s", msg);
}

/* The section names are hashed so that finding a duplicate header costs the
 * same in a file of 30 000 sections as in one of 3. */
static size_t section_hash(const struct mc_conf_schema *sc, const char *name)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (const char *c = sc->name; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ULL;
	h = (h ^ (name != NULL ? 1u : 2u)) * 1099511628211ULL;
	for (const char *c = name ? name : ""; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ULL;
	return (size_t)h;
}

static void index_put(struct parser *p, size_t i)
{
	const struct mc_conf_section *s = &p->conf->sections[i];
	size_t mask = p->cap_index - 1;
	size_t h = section_hash(s->schema, s->name) & mask;

	while (p->index[h] != 0)
		h = (h + 1) & mask;
	p->index[h] = i + 1;
}

/* The section of that schema and name, or NO_SECTION. */
static size_t index_find(const struct parser *p,
			 const struct mc_conf_schema *sc, const char *name)
{
	size_t mask = p->cap_index - 1, h;

	if (p->cap_index == 0)
		return NO_SECTION;
	for (h = section_hash(sc, name) & mask; p->index[h] != 0;
	     h = (h + 1) & mask) {
		const struct mc_conf_section *o =
			&p->conf->sections[p->index[h] - 1];

		if (o->schema == sc && mc_streq(o->name, name))
			return p->index[h] - 1;
	}
	return NO_SECTION;
}

static size_t add_section(struct parser *p, const struct mc_conf_schema *sc,
			  const char *name, int line)
{
	struct mc_conf *c = p->conf;
	size_t i = c->n_sections, nk = n_keys(sc);
	struct mc_conf_section *s;

	if (i == p->cap_sections) {
		p->cap_sections = p->cap_sections ? 2 * p->cap_sections : 8;
		c->sections = mc_realloc(c->sections, p->cap_sections *
					 sizeof(*c->sections));
		p->pend = mc_realloc(p->pend,
				     p->cap_sections * sizeof(*p->pend));
	}
	s = &c->sections[i];
	memset(s, 0, sizeof(*s));
	s->schema = sc;
	s->name = mc_strdup(name);
	s->source = line > 0 ? mc_asprintf("%s:%d", p->name, line)
			     : mc_strdup("default");
	s->values = mc_calloc(nk, sizeof(*s->values));
	for (size_t k = 0; k < nk; k++)
		s->values[k].key = &sc->keys[k];
	memset(&p->pend[i], 0, sizeof(p->pend[i]));
	p->pend[i].line = line;
	p->pend[i].lines = mc_calloc(nk, sizeof(*p->pend[i].lines));
	c->n_sections++;
	/* Kept at most half full. */
	if (2 * c->n_sections > p->cap_index) {
		p->cap_index = p->cap_index ? 2 * p->cap_index : 16;
		free(p->index);
		p->index = mc_calloc(p->cap_index, sizeof(*p->index));
		for (size_t j = 0; j < c->n_sections; j++)
			index_put(p, j);
	} else {
		index_put(p, i);
	}
	return i;
}

static void free_entries(struct pending *pd)
{
	for (size_t i = 0; i < pd->n_ents; i++) {
		free(pd->ents[i].name);
		mc_free_secret(pd->ents[i].value);
	}
	free(pd->ents);
	pd->ents = NULL;
	pd->n_ents = pd->cap_ents = 0;
}

/* A value an inline comment cut, when it looks like a URL or a secret:
 * the rest may have been part of it (a '#' in a password, a URL fragment
 * after a space). The value itself is never quoted. */
static void warn_cut(struct parser *p, const struct entry *e,
		     const struct mc_conf_key *key, const char *label)
{
	static const char *const words[] = { "url", "password", "secret",
					     "token", "key", "auth" };
	struct mc_conf *c = p->conf;
	const char *what = NULL;

	if (key->flags & MC_CK_SECRET)
		what = "a secret";
	else if (key->type == MC_CT_URL || strstr(e->value, "://") != NULL)
		what = "a URL";
	/* By its name, for free text only: a file's path, a variable's name
	 * or one of a key's choices (auth_method = client_secret_basic) is
	 * no secret. */
	for (size_t i = 0; what == NULL && key->type == MC_CT_STRING &&
			   strstr(e->name, "_env") == NULL &&
			   i < MC_ARRAY_LEN(words); i++)
		if (strstr(e->name, words[i]) != NULL)
			what = "a secret";
	if (what == NULL)
		return;
	c->warnings = mc_realloc(c->warnings,
				 (c->n_warnings + 1) * sizeof(*c->warnings));
	c->warnings[c->n_warnings++] = mc_asprintf(
		"%s:%d: %s '%s' looks like %s and an inline comment (' #' or "
		"' ;') cut it; put the whole value in double quotes to keep "
		"'#' and ';'", p->name, e->line, label, e->name, what);
}

static int apply_entry(struct parser *p, size_t idx, const struct entry *e,
		       const char *type, const char *label)
{
	struct mc_conf_section *s = &p->conf->sections[idx];
	struct pending *pd = &p->pend[idx];
	const struct mc_conf_schema *sc = s->schema;
	const struct mc_conf_key *key;
	struct mc_conf_value parsed;
	char why[MC_ERR_MSG];
	size_t k, ki = (size_t)-1;
	int known = 0;

	for (k = 0; sc->keys[k].name != NULL; k++) {
		if (strcmp(sc->keys[k].name, e->name) != 0)
			continue;
		known = 1;
		if (type == NULL || key_counts(s, k, type)) {
			ki = k;
			break;
		}
	}
	if (!known) {
		const char **names = mc_calloc(n_keys(sc), sizeof(*names));
		const char *best;
		size_t n = 0;

		for (k = 0; sc->keys[k].name != NULL; k++)
			if (type == NULL || key_counts(s, k, type))
				names[n++] = sc->keys[k].name;
		best = mc_suggest(e->name, names, n);
		if (best != NULL)
			fail(p, MC_EXIT_CONFIG, e->line,
			     "%s unknown key '%s' (did you mean '%s'?)", label,
			     e->name, best);
		else
			fail(p, MC_EXIT_CONFIG, e->line, "%s unknown key '%s'",
			     label, e->name);
		free(names);
		return -1;
	}
	if (ki == (size_t)-1) {
		fail(p, MC_EXIT_CONFIG, e->line,
		     "%s key '%s' does not apply to type '%s'", label, e->name,
		     type);
		return -1;
	}
	key = &sc->keys[ki];
	if (pd->lines[ki] && !(key->flags & MC_CK_LIST)) {
		fail(p, MC_EXIT_CONFIG, e->line,
		     "%s '%s' given twice (first at line %d)", label, e->name,
		     pd->lines[ki]);
		return -1;
	}
	if (parse_checked(key, e->value, &parsed, why, sizeof(why)) < 0) {
		fail(p, MC_EXIT_CONFIG, e->line, "%s bad value for '%s': %s",
		     label, e->name, why);
		return -1;
	}
	if (e->cut)
		warn_cut(p, e, key, label);
	if (pd->lines[ki]) {
		value_append(&s->values[ki], &parsed, e->value,
			     mc_asprintf("%s:%d", p->name, e->line));
	} else {
		value_set(&s->values[ki], &parsed, e->value,
			  mc_asprintf("%s:%d", p->name, e->line));
		pd->lines[ki] = e->line;
	}
	return 0;
}

/* Checks the keys read for a section, in file order, and stores them. */
static int apply_entries(struct parser *p, size_t idx)
{
	struct mc_conf_section *s = &p->conf->sections[idx];
	struct pending *pd = &p->pend[idx];
	const struct mc_conf_schema *sc = s->schema;
	const char *type = NULL;
	char label[MC_ERR_MSG];
	int rc = 0;

	sec_label(sc->name, s->name, label, sizeof(label));
	/* The type first, whatever its place: other keys depend on it. A bad
	 * type is reported when its own line comes. */
	for (size_t k = 0; sc->keys[k].name != NULL && type == NULL; k++) {
		const struct mc_conf_key *key = &sc->keys[k];

		if (strcmp(key->name, "type") != 0)
			continue;
		for (size_t i = 0; i < pd->n_ents; i++) {
			if (strcmp(pd->ents[i].name, "type") != 0)
				continue;
			if (key->type != MC_CT_ENUM ||
			    list_index(pd->ents[i].value, key->choices) >= 0)
				type = pd->ents[i].value;
			break;
		}
		break;
	}
	for (size_t i = 0; i < pd->n_ents && rc == 0; i++)
		rc = apply_entry(p, idx, &pd->ents[i], type, label);
	free_entries(pd);
	return rc;
}

/* The first variable of a space-separated list that is set and not empty;
 * its name goes to var. */
static const char *env_lookup(const char *names, char *var, size_t size)
{
	const char *p = names;

	for (;;) {
		size_t n;
		const char *v;

		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (n == 0)
			return NULL;
		if (n < size) {
			memcpy(var, p, n);
			var[n] = '\0';
			v = getenv(var);
			if (v != NULL && *v != '\0')
				return v;
		}
		p += n;
	}
}

static const struct mc_conf_flag *
flag_for(const struct parser *p, const char *key)
{
	const struct mc_conf_flag *found = NULL;

	/* The last one given wins, as with repeated options. */
	for (size_t i = 0; i < p->n_flags; i++)
		if (p->flags[i].value != NULL &&
		    strcmp(p->flags[i].key, key) == 0)
			found = &p->flags[i];
	return found;
}

static const char *flag_name(const struct mc_conf_flag *f)
{
	return f->flag != NULL ? f->flag : f->key;
}

static int finish_section(struct parser *p, size_t idx)
{
	struct mc_conf_section *s = &p->conf->sections[idx];
	struct pending *pd = &p->pend[idx];
	const struct mc_conf_schema *sc = s->schema;
	struct mc_conf_value parsed;
	char label[MC_ERR_MSG], why[MC_ERR_MSG], var[128], *tmp;
	const char *type;
	size_t k;

	pd->done = 1;
	if (apply_entries(p, idx) < 0)
		return -1;
	sec_label(sc->name, s->name, label, sizeof(label));
	type = section_type(s);
	for (k = 0; sc->keys[k].name != NULL; k++) {
		const struct mc_conf_key *key = &sc->keys[k];
		const char *v;

		if (key->env == NULL || !key_counts(s, k, type))
			continue;
		v = env_lookup(key->env, var, sizeof(var));
		if (v == NULL)
			continue;
		/* A URL from a file-backed secret (Kubernetes) often ends in
		 * a line break that no URL has. */
		tmp = mc_strdup(v);
		if (key->type == MC_CT_URL)
			for (size_t n = strlen(tmp);
			     n > 0 && isspace((unsigned char)tmp[n - 1]); n--)
				tmp[n - 1] = '\0';
		if (parse_checked(key, tmp, &parsed, why, sizeof(why)) < 0) {
			mc_free_secret(tmp);
			fail(p, MC_EXIT_CONFIG, -1,
			     "environment %s: bad value for '%s': %s", var,
			     key->name, why);
			return -1;
		}
		value_set(&s->values[k], &parsed, tmp,
			  mc_asprintf("env %s", var));
		mc_free_secret(tmp);
		pd->lines[k] = 0;
	}
	if (strcmp(sc->name, "core") == 0) {
		for (k = 0; sc->keys[k].name != NULL; k++) {
			const struct mc_conf_flag *f = flag_for(p, sc->keys[k].name);

			if (f == NULL)
				continue;
			if (parse_checked(&sc->keys[k], f->value, &parsed, why,
					  sizeof(why)) < 0) {
				fail(p, MC_EXIT_USAGE, -1,
				     "option %s: bad value for '%s': %s",
				     flag_name(f), f->key, why);
				return -1;
			}
			value_set(&s->values[k], &parsed, f->value,
				  mc_asprintf("flag %s", flag_name(f)));
			pd->lines[k] = 0;
		}
	}
	type = section_type(s);
	for (k = 0; sc->keys[k].name != NULL; k++) {
		if ((sc->keys[k].flags & MC_CK_REQUIRED) &&
		    s->values[k].raw == NULL && key_counts(s, k, type)) {
			fail(p, MC_EXIT_CONFIG, pd->line,
			     "%s missing required key '%s'", label,
			     sc->keys[k].name);
			return -1;
		}
	}
	for (k = 0; sc->keys[k].name != NULL; k++) {
		/* Read while no type was known, and none came. */
		if (s->values[k].raw != NULL && !key_counts(s, k, type)) {
			fail(p, MC_EXIT_CONFIG,
			     pd->lines[k] ? pd->lines[k] : pd->line,
			     "%s key '%s' does not apply without a type", label,
			     sc->keys[k].name);
			return -1;
		}
	}
	for (k = 0; sc->keys[k].name != NULL; k++) {
		const struct mc_conf_key *key = &sc->keys[k];

		if (key->def == NULL || s->values[k].raw != NULL ||
		    !key_counts(s, k, type))
			continue;
		if (parse_value(key, key->def, &parsed, why, sizeof(why)) < 0)
			MC_BUG("[%s] %s: the default '%s' is invalid: %s",
			       sc->name, key->name, key->def, why);
		value_set(&s->values[k], &parsed, key->def,
			  mc_strdup("default"));
	}
	if (sc->validate != NULL) {
		const char *blame = NULL;
		int line = pd->line;

		why[0] = '\0';
		if (sc->validate(s, &blame, why, sizeof(why)) < 0) {
			for (k = 0; blame != NULL && sc->keys[k].name; k++)
				if (strcmp(sc->keys[k].name, blame) == 0 &&
				    pd->lines[k] > 0)
					line = pd->lines[k];
			fail(p, MC_EXIT_CONFIG, line, "%s %s", label, why);
			return -1;
		}
	}
	return 0;
}

/* A structural error at line: an earlier bad key of the section being read
 * is reported first, as it comes first in the file. */
static void fail_syntax(struct parser *p, int line, const char *msg)
{
	if (p->cur != NO_SECTION && !p->pend[p->cur].done)
		apply_entries(p, p->cur);
	fail(p, MC_EXIT_CONFIG, line, "%s", msg);
}

static char *skip_space(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

static int is_header(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && isspace((unsigned char)line[i]))
		i++;
	return i < len && line[i] == '[';
}

/* [name] or [name "instance"], then perhaps a comment. */
static int read_header(struct parser *p, const char *line, size_t len)
{
	const struct mc_conf_schema *sc;
	char *buf = mc_strndup(line, len), *s, *name, *name_end, *inst = NULL;
	char label[MC_ERR_MSG];
	size_t i, idx = NO_SECTION;
	int rc = -1;

	if (p->cur != NO_SECTION && !p->pend[p->cur].done &&
	    finish_section(p, p->cur) < 0)
		goto out;
	p->cur = NO_SECTION;
	s = skip_space(buf) + 1;
	name = s = skip_space(s);
	while (*s && !isspace((unsigned char)*s) && *s != '"' && *s != ']' &&
	       *s != '[')
		s++;
	name_end = s;
	s = skip_space(s);
	if (*s == '"') {
		inst = ++s;
		while (*s && *s != '"' && !iscntrl((unsigned char)*s))
			s++;
		if (*s != '"')
			goto syntax;
		*s = '\0';
		s = skip_space(s + 1);
	}
	if (*s != ']')
		goto syntax;
	s = skip_space(s + 1);
	if (*s && *s != '#' && *s != ';')
		goto syntax;
	if (name == name_end)
		goto syntax;
	*name_end = '\0';

	sec_label(name, inst, label, sizeof(label));
	sc = find_schema(p->schemas, name);
	if (sc == NULL) {
		const char *names[64], *best;
		size_t n = 0;

		for (i = 0; p->schemas[i] != NULL && n < MC_ARRAY_LEN(names);
		     i++)
			names[n++] = p->schemas[i]->name;
		best = mc_suggest(name, names, n);
		if (best != NULL)
			fail(p, MC_EXIT_CONFIG, p->lineno,
			     "unknown section %s (did you mean [%s]?)", label,
			     best);
		else
			fail(p, MC_EXIT_CONFIG, p->lineno,
			     "unknown section %s", label);
		goto out;
	}
	if (sc->named && inst == NULL) {
		fail(p, MC_EXIT_CONFIG, p->lineno,
		     "section [%s] needs a name, as in [%s \"NAME\"]", name,
		     name);
		goto out;
	}
	if (!sc->named && inst != NULL) {
		fail(p, MC_EXIT_CONFIG, p->lineno,
		     "section [%s] takes no name (found %s)", name, label);
		goto out;
	}
	if (inst != NULL && *inst == '\0') {
		fail(p, MC_EXIT_CONFIG, p->lineno,
		     "empty name in section header %s", label);
		goto out;
	}
	i = index_find(p, sc, inst);
	if (i != NO_SECTION) {
		if (p->pend[i].line > 0) {
			fail(p, MC_EXIT_CONFIG, p->lineno,
			     "duplicate section %s (first at line %d)", label,
			     p->pend[i].line);
			goto out;
		}
		/* [core], made beforehand, now found in the file. */
		idx = i;
		p->pend[i].line = p->lineno;
		free(p->conf->sections[i].source);
		p->conf->sections[i].source =
			mc_asprintf("%s:%d", p->name, p->lineno);
	}
	if (idx == NO_SECTION)
		idx = add_section(p, sc, inst, p->lineno);
	p->cur = idx;
	rc = 0;
	goto out;
syntax:
	fail(p, MC_EXIT_CONFIG, p->lineno,
	     "syntax error in section header (expected [name] or [name \"instance\"])");
out:
	free(buf);
	return rc;
}

/* fgets(3) for inih over the text, counting lines. */
static char *conf_reader(char *str, int num, void *stream)
{
	struct parser *p = stream;
	size_t n = 0, max = num > 0 ? (size_t)num - 1 : 0;

	if (p->failed || p->pos >= p->len) {
		/* inih's line buffer may have held a secret. */
		if (num > 0)
			explicit_bzero(str, (size_t)num);
		return NULL;
	}
	if (p->at_bol) {
		const char *line = p->text + p->pos;
		const char *nl = memchr(line, '\n', p->len - p->pos);
		size_t len = nl ? (size_t)(nl - line) : p->len - p->pos;

		p->lineno++;
		p->at_bol = 0;
		if (len + 3 > CONF_MAX_LINE) {
			fail_syntax(p, p->lineno, "line too long (over 65533 bytes)");
			return NULL;
		}
		if (memchr(line, '\0', len) != NULL) {
			fail_syntax(p, p->lineno, "NUL byte in line");
			return NULL;
		}
		if (is_header(line, len) && max >= 1) {
			p->pos += len + (nl != NULL);
			p->at_bol = 1;
			if (read_header(p, line, len) < 0)
				return NULL;
			/* inih sees a blank line: sections are ours. */
			str[0] = '\n';
			str[1] = '\0';
			return str;
		}
	}
	while (n < max && p->pos < p->len) {
		char c = p->text[p->pos++];

		str[n++] = c;
		if (c == '\n') {
			p->at_bol = 1;
			break;
		}
	}
	str[n] = '\0';
	return str;
}

static int conf_handler(void *user, const char *section, const char *name,
			const char *value)
{
	struct parser *p = user;
	struct pending *pd;
	struct entry *e;
	char why[MC_ERR_MSG], *v;
	int cut;

	(void)section;
	if (p->failed)
		return 0;
	if (*name == '\0') {
		fail_syntax(p, p->lineno, SYNTAX_MSG);
		return 0;
	}
	if (p->cur == NO_SECTION) {
		fail(p, MC_EXIT_CONFIG, p->lineno,
		     "key '%s' outside any section (put it under [core] or another section)",
		     name);
		return 0;
	}
	pd = &p->pend[p->cur];
	if (pd->n_ents == pd->cap_ents) {
		pd->cap_ents = pd->cap_ents ? 2 * pd->cap_ents : 8;
		pd->ents = mc_realloc(pd->ents,
				      pd->cap_ents * sizeof(*pd->ents));
	}
	v = mc_conf_unquote(value, &cut, why, sizeof(why));
	if (v == NULL) {
		char msg[MC_ERR_MSG + 64];

		snprintf(msg, sizeof(msg), "key '%s': %s", name, why);
		fail_syntax(p, p->lineno, msg);
		return 0;
	}
	e = &pd->ents[pd->n_ents++];
	e->name = mc_strdup(name);
	e->value = v;
	e->line = p->lineno;
	e->cut = cut;
	return 1;
}

static int comment_at(const char *s, size_t i)
{
	return (s[i] == '#' || s[i] == ';') &&
	       (i == 0 || isspace((unsigned char)s[i - 1]));
}

char *mc_conf_unquote(const char *s, int *cut, char *why, size_t size)
{
	size_t n = strlen(s), end = n, i, close = 0, o = 0;
	int inq = 0;
	char *out;

	*cut = 0;
	/* Where the value ends: at the first inline comment outside quotes. */
	for (i = 0; i < n; i++) {
		if (inq) {
			if (s[i] == '\\' && i + 1 < n)
				i++;
			else if (s[i] == '"')
				inq = 0;
		} else if (s[i] == '"') {
			inq = 1;
		} else if (comment_at(s, i)) {
			end = i;
			break;
		}
	}
	if (inq && s[0] == '"') {
		snprintf(why, size, "unterminated quoted value (a value that "
			 "starts with '\"' ends with one)");
		return NULL;
	}
	if (inq)	/* a lone quote inside plain text is only a character */
		for (end = n, i = 0; i < n; i++)
			if (comment_at(s, i)) {
				end = i;
				break;
			}
	*cut = end < n;
	while (end > 0 && isspace((unsigned char)s[end - 1]))
		end--;
	/* A value in double quotes, whole: the quotes go, escapes count. */
	if (s[0] == '"') {
		for (close = 1; close < end && s[close] != '"'; close++)
			if (s[close] == '\\')
				close++;
	}
	if (s[0] != '"' || close + 1 != end)
		return mc_strndup(s, end);
	*cut = 0;	/* quoted whole: the comment after it took nothing */
	/* Built in place: a realloc would leave copies of a secret behind. */
	out = mc_malloc(close);
	for (i = 1; i < close; i++) {
		char c = s[i];

		if (c == '\\') {
			switch (s[++i]) {
			case '"': c = '"'; break;
			case '\\': c = '\\'; break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			default:
				snprintf(why, size, "unknown escape '\\%c' in a "
					 "quoted value (known: \\\" \\\\ \\n \\t)",
					 isprint((unsigned char)s[i]) ? s[i] : '?');
				explicit_bzero(out, close);
				free(out);
				return NULL;
			}
		}
		out[o++] = c;
	}
	out[o] = '\0';
	return out;
}

/* Flags are the user's command line: a bad one is a usage error, found
 * before the file is read. A key that is not in [core] is our bug. */
static int check_flags(struct parser *p)
{
	const struct mc_conf_schema *core = NULL;

	if (p->n_flags > 0)
		core = find_schema(p->schemas, "core");
	for (size_t i = 0; i < p->n_flags; i++) {
		const struct mc_conf_flag *f = &p->flags[i];
		struct mc_conf_value parsed;
		char why[MC_ERR_MSG];
		size_t k;

		if (core == NULL)
			MC_BUG("no [core] schema for the flag %s", flag_name(f));
		for (k = 0; core->keys[k].name != NULL; k++)
			if (strcmp(core->keys[k].name, f->key) == 0)
				break;
		if (core->keys[k].name == NULL)
			MC_BUG("flag %s names [core] key '%s', which the schema lacks",
			       flag_name(f), f->key);
		if (f->value == NULL)
			continue;
		if (parse_checked(&core->keys[k], f->value, &parsed, why,
				  sizeof(why)) < 0) {
			fail(p, MC_EXIT_USAGE, -1,
			     "option %s: bad value for '%s': %s", flag_name(f),
			     f->key, why);
			return -1;
		}
	}
	return 0;
}

/* The variables a *_env key names hold secrets (a webhook URL, a routing
 * key, a token): child processes must not see them (proc.h). */
static void register_secret_env(const struct mc_conf *c)
{
	for (size_t i = 0; i < c->n_sections; i++) {
		const struct mc_conf_section *s = &c->sections[i];

		for (size_t k = 0; s->schema->keys[k].name; k++) {
			const char *name = s->schema->keys[k].name;
			size_t len = strlen(name);

			if (len > 4 && strcmp(name + len - 4, "_env") == 0)
				for (const struct mc_conf_value *v =
				     &s->values[k]; v; v = v->next)
					mc_proc_secret_env(v->raw);
		}
	}
}

static struct mc_conf *load(const char *text, size_t len, const char *name,
			    const struct mc_conf_schema *const *schemas,
			    const struct mc_conf_flag *flags, size_t n_flags,
			    struct mc_err *err)
{
	static char comment_chars[] = "#;";
	const struct mc_conf_schema *core;
	struct parser p;

	memset(&p, 0, sizeof(p));
	p.name = name;
	p.schemas = schemas;
	p.flags = flags;
	p.n_flags = n_flags;
	p.err = err;
	p.cur = NO_SECTION;
	p.at_bol = 1;
	p.conf = mc_calloc(1, sizeof(*p.conf));
	if (check_flags(&p) < 0)
		goto out;
	core = find_schema(schemas, "core");
	if (core != NULL)
		add_section(&p, core, NULL, 0);
	if (text != NULL) {
		int rc;

		p.text = text;
		p.len = len;
		if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
			p.pos = 3;
		ini_allow_multiline = false;
		ini_allow_bom = false;
		/* Inline comments are ours: inih would cut a quoted value. */
		ini_allow_inline_comments = false;
		ini_inline_comment_prefixes = comment_chars;
		ini_start_comment_prefixes = comment_chars;
		ini_allow_no_value = false;
		ini_use_stack = false;
		ini_allow_realloc = true;
		ini_max_line = CONF_MAX_LINE;
		ini_stop_on_first_error = true;
		rc = ini_parse_stream(conf_reader, &p, conf_handler, &p);
		if (rc == -2 && !p.failed) {
			/* Out of memory inside inih, as mc_malloc() dies. */
			MC_BUG("out of memory (inih)");
		}
		if (rc != 0 && !p.failed)
			fail_syntax(&p, rc > 0 ? rc : p.lineno, SYNTAX_MSG);
	}
	if (!p.failed && p.cur != NO_SECTION && !p.pend[p.cur].done)
		finish_section(&p, p.cur);
	for (size_t i = 0; !p.failed && i < p.conf->n_sections; i++)
		if (!p.pend[i].done)
			finish_section(&p, i);
out:
	for (size_t i = 0; i < p.conf->n_sections; i++) {
		free_entries(&p.pend[i]);
		free(p.pend[i].lines);
	}
	free(p.pend);
	free(p.index);
	if (p.failed) {
		mc_conf_free(p.conf);
		return NULL;
	}
	register_secret_env(p.conf);
	return p.conf;
}

static int file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

char *mc_conf_find_path(const char *flag_path, int *explicit)
{
	const char *env, *xdg, *home;
	char *path = NULL;
	int dummy;

	if (explicit == NULL)
		explicit = &dummy;
	*explicit = 0;
	if (flag_path != NULL) {
		*explicit = 1;
		return mc_strdup(flag_path);
	}
	env = getenv("MERCURY_CONFIG");
	if (env != NULL && *env != '\0') {
		*explicit = 1;
		return mc_strdup(env);
	}
	xdg = getenv("XDG_CONFIG_HOME");
	home = getenv("HOME");
	/* The XDG spec: a relative XDG_CONFIG_HOME is to be ignored. */
	if (xdg != NULL && xdg[0] == '/')
		path = mc_asprintf("%s/mercury/mercury.conf", xdg);
	else if (home != NULL && *home != '\0')
		path = mc_asprintf("%s/.config/mercury/mercury.conf", home);
	if (path != NULL && file_exists(path))
		return path;
	free(path);
	if (file_exists("/etc/mercury/mercury.conf"))
		return mc_strdup("/etc/mercury/mercury.conf");
	return NULL;
}

struct mc_conf *mc_conf_load(const char *path, const struct mc_conf_flag *flags,
			     size_t n_flags, struct mc_err *err)
{
	struct mc_conf *c;
	struct mc_err e;
	char *text;
	size_t len;

	if (path == NULL)
		return load(NULL, 0, NULL, mc_conf_schemas, flags, n_flags,
			    err);
	mc_err_clear(&e);
	text = mc_read_file(path, CONF_MAX_FILE, &len, &e);
	if (text == NULL) {
		if (e.sys_errno)
			mc_err_sys(err, MC_EXIT_CONFIG, e.sys_errno,
				   "cannot read config %s", path);
		else
			mc_err_set(err, MC_EXIT_CONFIG,
				   "cannot read config %s: larger than %u bytes",
				   path, CONF_MAX_FILE);
		return NULL;
	}
	c = load(text, len, path, mc_conf_schemas, flags, n_flags, err);
	explicit_bzero(text, len);
	free(text);
	if (c != NULL)
		c->path = mc_strdup(path);
	return c;
}

struct mc_conf *mc_conf_load_schemas(const char *text, const char *name,
				     const struct mc_conf_schema *const *schemas,
				     const struct mc_conf_flag *flags,
				     size_t n_flags, struct mc_err *err)
{
	return load(text, text ? strlen(text) : 0, name ? name : "<string>",
		    schemas, flags, n_flags, err);
}

struct mc_conf *mc_conf_load_string(const char *text, const char *name,
				    const struct mc_conf_flag *flags,
				    size_t n_flags, struct mc_err *err)
{
	return mc_conf_load_schemas(text, name, mc_conf_schemas, flags,
				    n_flags, err);
}

void mc_conf_free(struct mc_conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_sections; i++) {
		struct mc_conf_section *s = &c->sections[i];

		for (size_t k = 0; s->schema->keys[k].name != NULL; k++)
			value_clear(&s->values[k]);
		free(s->values);
		free(s->name);
		free(s->source);
	}
	free(c->sections);
	for (size_t i = 0; i < c->n_warnings; i++)
		free(c->warnings[i]);
	free(c->warnings);
	free(c->path);
	free(c);
}

const struct mc_conf_section *mc_conf_find(const struct mc_conf *c,
					   const char *schema,
					   const char *name)
{
	for (size_t i = 0; c != NULL && i < c->n_sections; i++) {
		const struct mc_conf_section *s = &c->sections[i];

		if (strcmp(s->schema->name, schema) == 0 &&
		    mc_streq(s->name, name))
			return s;
	}
	return NULL;
}

const struct mc_conf_section *mc_conf_core(const struct mc_conf *c)
{
	return mc_conf_find(c, "core", NULL);
}

const struct mc_conf_section *mc_conf_next(const struct mc_conf *c,
					   const char *schema,
					   const struct mc_conf_section *prev)
{
	size_t i;

	if (c == NULL)
		return NULL;
	i = prev == NULL ? 0 : (size_t)(prev - c->sections) + 1;
	for (; i < c->n_sections; i++)
		if (strcmp(c->sections[i].schema->name, schema) == 0)
			return &c->sections[i];
	return NULL;
}

const char *mc_conf_unknown_name(const struct mc_conf *c, const char *schema,
				 const char *const *names, size_t n_names,
				 const char **near)
{
	const struct mc_conf_section *s = NULL;
	const char **all = NULL, *unknown = NULL;
	size_t n_all = 0;

	*near = NULL;
	while ((s = mc_conf_next(c, schema, s)) != NULL) {
		all = mc_realloc(all, (n_all + 1) * sizeof(*all));
		all[n_all++] = s->name;
	}
	for (size_t i = 0; i < n_names && unknown == NULL; i++) {
		size_t k = 0;

		while (k < n_all && strcmp(all[k], names[i]) != 0)
			k++;
		if (k == n_all) {
			unknown = names[i];
			*near = mc_suggest(names[i], all, n_all);
		}
	}
	free(all);
	return unknown;
}

/* Keys whose value names other sections of the file. */
static const struct {
	const char *schema, *key, *target;
	int words;	/* a list of names, or a boolean (notify = true) */
} conf_refs[] = {
	{ "check", "oauth", "oauth", 0 },	/* an http check's provider */
	{ "check", "provider", "oauth", 0 },	/* an oauth check's */
	{ "job", "notify", "webhook", 1 },
};

/* Whether the section s names in v (its key refs[r].key) all exist. */
static int ref_ok(const struct mc_conf *c, const struct mc_conf_section *s,
		  const struct mc_conf_value *v, size_t r, struct mc_err *err)
{
	char *copy = mc_strdup(v->raw), *save = NULL, *w;
	const char *names[64], *unknown, *near;
	size_t n = 0;
	int b;

	if (conf_refs[r].words && mc_parse_bool(v->raw, &b, NULL) == 0) {
		free(copy);
		return 0;
	}
	for (w = strtok_r(copy, conf_refs[r].words ? " ,\t" : "", &save);
	     w != NULL && n < MC_ARRAY_LEN(names);
	     w = strtok_r(NULL, " ,\t", &save))
		names[n++] = w;
	unknown = mc_conf_unknown_name(c, conf_refs[r].target, names, n, &near);
	if (unknown != NULL)
		mc_err_set(err, MC_EXIT_CONFIG, "%s: [%s \"%s\"] %s: no [%s "
			   "\"%s\"] section in the configuration%s%s%s",
			   v->source, s->schema->name, s->name, v->key->name,
			   conf_refs[r].target, unknown,
			   near ? " (did you mean '" : "", near ? near : "",
			   near ? "'?)" : "");
	free(copy);
	return unknown != NULL ? -1 : 0;
}

int mc_conf_check_refs(const struct mc_conf *c, struct mc_err *err)
{
	for (size_t r = 0; r < MC_ARRAY_LEN(conf_refs); r++) {
		const struct mc_conf_section *s = NULL;

		while ((s = mc_conf_next(c, conf_refs[r].schema, s)) != NULL) {
			const struct mc_conf_value *v;

			v = mc_conf_get(s, conf_refs[r].key);
			if (v == NULL || v->raw == NULL ||
			    mc_streq(v->source, "default"))
				continue;
			if (ref_ok(c, s, v, r, err) < 0)
				return -1;
		}
	}
	return 0;
}

int mc_conf_select(const struct mc_conf *c, const char *schema,
		   const char *what, const char *const *names, size_t n_names,
		   const struct mc_conf_section ***out, size_t *n,
		   struct mc_err *err)
{
	const struct mc_conf_section *s = NULL;
	const char *unknown, *near;

	*out = NULL;
	*n = 0;
	unknown = mc_conf_unknown_name(c, schema, names, n_names, &near);
	if (unknown != NULL) {
		if (mc_conf_next(c, schema, NULL) == NULL)
			mc_err_set(err, MC_EXIT_USAGE, "no %s '%s': the "
				   "configuration has no [%s] sections", what,
				   unknown, schema);
		else
			mc_err_set(err, MC_EXIT_USAGE, "no %s '%s' in the "
				   "configuration%s%s%s", what, unknown,
				   near ? " (did you mean '" : "",
				   near ? near : "", near ? "'?)" : "");
		return -1;
	}
	while ((s = mc_conf_next(c, schema, s)) != NULL) {
		int keep = n_names == 0;

		for (size_t i = 0; i < n_names && !keep; i++)
			keep = strcmp(names[i], s->name) == 0;
		if (!keep)
			continue;
		*out = mc_realloc((void *)*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = s;
	}
	return 0;
}

int mc_conf_secret(const struct mc_conf_section *s, const char *key_file,
		   const char *key_env, const char *what, char **out,
		   struct mc_err *err)
{
	const struct mc_conf_value *v;
	char sec[MC_ERR_MSG], *raw, *t;

	*out = NULL;
	sec_label(s->schema->name, s->name, sec, sizeof(sec));
	if ((v = mc_conf_get(s, key_file)) != NULL && v->raw != NULL) {
		struct mc_err e = { 0 };

		raw = mc_read_file(v->raw, 64 * 1024, NULL, &e);
		if (raw == NULL)
			return mc_err_set(err, MC_EXIT_CONFIG,
					  "%s: %s %s: %s", v->source,
					  sec, key_file, e.msg);
		t = mc_trim(raw);
		if (*t == '\0') {
			mc_free_secret(raw);
			return mc_err_set(err, MC_EXIT_CONFIG,
					  "%s: %s %s: %s is empty",
					  v->source, sec, key_file, v->raw);
		}
		*out = mc_strdup(t);
		mc_free_secret(raw);
	} else if ((v = mc_conf_get(s, key_env)) != NULL && v->raw != NULL) {
		const char *e = getenv(v->raw);

		if (e == NULL || *e == '\0')
			return mc_err_set(err, MC_EXIT_CONFIG,
					  "%s: %s %s: the environment "
					  "variable %s that should hold the %s "
					  "is not set", v->source, sec,
					  key_env, v->raw, what);
		raw = mc_strdup(e);
		*out = mc_strdup(mc_trim(raw));
		mc_free_secret(raw);
	}
	return 0;
}

const struct mc_conf_value *mc_conf_get(const struct mc_conf_section *s,
					const char *key)
{
	int known = 0;

	if (s == NULL)
		return NULL;
	/* A name may appear more than once in a schema, each for other
	 * types; at most one of them is set. */
	for (size_t k = 0; s->schema->keys[k].name != NULL; k++) {
		if (strcmp(s->schema->keys[k].name, key) != 0)
			continue;
		known = 1;
		if (s->values[k].raw != NULL)
			return &s->values[k];
	}
	if (!known)
		MC_BUG("[%s] has no key '%s'", s->schema->name, key);
	return NULL;
}

const char *mc_conf_str(const struct mc_conf_section *s, const char *key)
{
	const struct mc_conf_value *v = mc_conf_get(s, key);

	return v != NULL ? v->raw : NULL;
}

int64_t mc_conf_ms(const struct mc_conf_section *s, const char *key,
		   int64_t fallback)
{
	const struct mc_conf_value *v = mc_conf_get(s, key);

	if (v == NULL)
		return fallback;
	if (v->key->type != MC_CT_DURATION)
		MC_BUG("'%s' read as a duration", key);
	return v->v.ms;
}

int mc_conf_range(const struct mc_conf_section *s, const char *key,
		  struct mc_range *r)
{
	const struct mc_conf_value *v = mc_conf_get(s, key);

	memset(r, 0, sizeof(*r));
	if (v == NULL)
		return 0;
	if (v->key->type != MC_CT_THRESHOLD)
		MC_BUG("'%s' read as a threshold", key);
	return mc_range_parse(v->raw, r, NULL) == 0;	/* checked at load */
}

double mc_conf_double(const struct mc_conf_section *s, const char *key,
		      double fallback)
{
	const struct mc_conf_value *v = mc_conf_get(s, key);

	if (v == NULL)
		return fallback;
	switch (v->key->type) {
	case MC_CT_PERCENT:
	case MC_CT_RATE:
		return v->v.d;
	case MC_CT_INT:
		return (double)v->v.i;
	case MC_CT_SIZE:
		return (double)v->v.size;
	default:
		MC_BUG("'%s' read as a number", key);
	}
}

long long mc_conf_int(const struct mc_conf_section *s, const char *key,
		      long long fallback)
{
	const struct mc_conf_value *v = mc_conf_get(s, key);

	if (v == NULL)
		return fallback;
	switch (v->key->type) {
	case MC_CT_INT:
	case MC_CT_ENUM:
		return v->v.i;
	case MC_CT_SIZE:
		return v->v.size > (uint64_t)LLONG_MAX ? LLONG_MAX
						       : (long long)v->v.size;
	default:
		MC_BUG("'%s' read as an integer", key);
	}
}

int mc_conf_bool(const struct mc_conf_section *s, const char *key,
		 int fallback)
{
	const struct mc_conf_value *v = mc_conf_get(s, key);

	if (v == NULL)
		return fallback;
	if (v->key->type != MC_CT_BOOL)
		MC_BUG("'%s' read as a boolean", key);
	return v->v.b;
}
