/*
 * config_env.c - what a configuration names outside itself, checked in the
 * environment `config check` runs in: the variables of *_env keys and the
 * files of *_file keys. Loading the configuration cannot refuse these (the
 * variable may be set only under cron, the file only on the target host),
 * and a run fails only the one target that names them; `config check`
 * says so before that run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config.h"

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* *_file keys whose file holds no secret. */
static int public_file(const char *key)
{
	static const char *const keys[] = { "ca_file", "request_body_file" };

	for (size_t i = 0; i < MC_ARRAY_LEN(keys); i++)
		if (strcmp(key, keys[i]) == 0)
			return 1;
	return 0;
}

static void add(char ***out, size_t *n, char *msg)
{
	*out = mc_realloc(*out, (*n + 1) * sizeof(**out));
	(*out)[(*n)++] = msg;
}

static char *where(const struct mc_conf_section *s,
		   const struct mc_conf_value *v)
{
	return s->name ? mc_asprintf("%s: [%s \"%s\"] %s", v->source,
				     s->schema->name, s->name, v->key->name)
		       : mc_asprintf("%s: [%s] %s", v->source, s->schema->name,
				     v->key->name);
}

static void check_file(const struct mc_conf_section *s,
		       const struct mc_conf_value *v, char ***out, size_t *n)
{
	struct stat sb;
	char ebuf[128];
	char *w;
	int fd = open(v->raw, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		w = where(s, v);
		add(out, n, mc_asprintf("%s: cannot read %s: %s", w, v->raw,
					mc_strerror(errno, ebuf,
						    sizeof(ebuf))));
		free(w);
		return;
	}
	if (fstat(fd, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		w = where(s, v);
		add(out, n, mc_asprintf("%s: %s is not a regular file", w,
					v->raw));
		free(w);
	} else if ((sb.st_mode & S_IROTH) && !public_file(v->key->name)) {
		w = where(s, v);
		add(out, n, mc_asprintf("%s: %s holds a secret and every user "
					"can read it (mode %04o): chmod o-r "
					"it", w, v->raw,
					(unsigned)(sb.st_mode & 07777)));
		free(w);
	}
	close(fd);
}

char **mc_conf_env_warnings(const struct mc_conf *c, size_t *n)
{
	char **out = NULL;

	*n = 0;
	for (size_t i = 0; c != NULL && i < c->n_sections; i++) {
		const struct mc_conf_section *s = &c->sections[i];

		for (size_t k = 0; s->schema->keys[k].name; k++) {
			const struct mc_conf_value *v;

			for (v = &s->values[k]; v && v->raw; v = v->next) {
				const char *name = v->key->name;
				const char *e;
				char *w;

				/* defaults name nothing the user wrote */
				if (mc_streq(v->source, "default"))
					continue;
				if (ends_with(name, "_file")) {
					check_file(s, v, &out, n);
					continue;
				}
				if (!ends_with(name, "_env"))
					continue;
				e = getenv(v->raw);
				if (e != NULL && *e != '\0')
					continue;
				w = where(s, v);
				add(&out, n, mc_asprintf("%s: the environment "
							 "variable %s is not "
							 "set here (cron and "
							 "systemd start with "
							 "few variables)", w,
							 v->raw));
				free(w);
			}
		}
	}
	return out;
}
