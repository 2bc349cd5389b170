/* config.c - `mercuryctl config check|show`. */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>

static int check_run(struct mc_ctx *ctx)
{
	const struct mc_conf *c = ctx->conf;
	size_t n_env = 0, n_warn;
	char **env = mc_conf_env_warnings(c, &n_env);
	json_t *warnings;

	/* A key that names a section the file lacks is an error here. */
	if (mc_conf_check_refs(c, &ctx->err) < 0) {
		for (size_t i = 0; i < n_env; i++)
			free(env[i]);
		free(env);
		return -1;
	}
	warnings = json_array();
	/* Loading already checked every value: reaching here means valid.
	 * What is valid but likely not meant (a value an inline comment cut)
	 * and what the file names outside itself that this environment cannot
	 * give (variables, secret files) are warned about, on stderr and in
	 * the document. */
	for (size_t i = 0; i < c->n_warnings; i++) {
		mc_log(MC_LOG_WARN, "%s", c->warnings[i]);
		json_array_append_new(warnings, mc_json_str(c->warnings[i]));
	}
	for (size_t i = 0; i < n_env; i++) {
		mc_log(MC_LOG_WARN, "%s", env[i]);
		json_array_append_new(warnings, mc_json_str(env[i]));
		free(env[i]);
	}
	free(env);
	n_warn = c->n_warnings + n_env;
	json_object_set_new(ctx->report.doc, "ok", json_true());
	json_object_set_new(ctx->report.doc, "file",
			    c->path ? mc_json_str(c->path) : json_null());
	json_object_set_new(ctx->report.doc, "sections",
			    json_integer((json_int_t)c->n_sections));
	json_object_set_new(ctx->report.doc, "warnings", warnings);
	if (c->path)
		mc_buf_printf(&ctx->report.text, "%s: OK (%zu section%s%s)\n",
			      c->path, c->n_sections,
			      c->n_sections == 1 ? "" : "s",
			      n_warn == 0 ? "" :
			      n_warn == 1 ? ", 1 warning" : ", warnings");
	else
		mc_buf_puts(&ctx->report.text,
			    "no configuration file found: the built-in defaults serve\n");
	/* As a Nagios check: valid is OK, valid with warnings WARNING. */
	ctx->report.nagios = mc_asprintf("CONFIG %s - %s: %zu section%s, %zu "
					 "warning%s | sections=%zu warnings=%zu",
					 mc_status_word(n_warn ? MC_ST_WARNING :
							MC_ST_OK),
					 c->path ? c->path : "built-in defaults",
					 c->n_sections,
					 c->n_sections == 1 ? "" : "s", n_warn,
					 n_warn == 1 ? "" : "s", c->n_sections,
					 n_warn);
	return ctx->format == MC_FMT_NAGIOS && n_warn ? MC_EXIT_WARNING : 0;
}

/* The value as it may be shown: secrets masked, URL credentials hidden. */
static char *shown(const struct mc_conf_value *v)
{
	if (v->key->flags & MC_CK_SECRET)
		return mc_strdup("***");
	if (v->key->type == MC_CT_URL)
		return mc_redact_url(v->raw, 0);
	return mc_redact(v->raw);
}

/* `config show --names SECTION`: the names of the [SECTION "NAME"]
 * sections, one a line (for scripts and the shell completions). */
static int names_run(struct mc_ctx *ctx, const char *schema)
{
	const struct mc_conf_section *s = NULL;
	json_t *arr;
	int known = 0;

	/* The kinds are the schema's: no list here to drift from it. */
	for (size_t i = 0; mc_conf_schemas[i]; i++)
		known |= mc_conf_schemas[i]->named &&
			 strcmp(mc_conf_schemas[i]->name, schema) == 0;
	if (!known)
		return mc_err_set(&ctx->err, MC_EXIT_USAGE, "config show: no "
				  "named section kind '%s'", schema);
	arr = json_array();
	while ((s = mc_conf_next(ctx->conf, schema, s)) != NULL) {
		mc_buf_printf(&ctx->report.text, "%s\n", s->name);
		json_array_append_new(arr, mc_json_str(s->name));
	}
	json_object_set_new(ctx->report.doc, "names", arr);
	return 0;
}

static int show_run(struct mc_ctx *ctx)
{
	static const char *const headers[] = { "SECTION", "KEY", "VALUE",
					       "SOURCE" };
	const struct mc_conf *c = ctx->conf;
	const char *names = mc_args_value(ctx->args, "names");
	json_t *sections;
	struct mc_table *t;

	if (names)
		return names_run(ctx, names);
	sections = json_array();
	t = mc_table_new(4, headers);
	json_object_set_new(ctx->report.doc, "file",
			    c->path ? mc_json_str(c->path) : json_null());
	json_object_set_new(ctx->report.doc, "sections", sections);
	for (size_t i = 0; i < c->n_sections; i++) {
		const struct mc_conf_section *s = &c->sections[i];
		json_t *so = json_object(), *vals = json_object();
		char *title = s->name ? mc_asprintf("%s \"%s\"", s->schema->name,
						    s->name)
				      : mc_strdup(s->schema->name);

		json_object_set_new(so, "section", mc_json_str(s->schema->name));
		json_object_set_new(so, "name", s->name ? mc_json_str(s->name)
							: json_null());
		json_object_set_new(so, "values", vals);
		json_array_append_new(sections, so);
		for (size_t k = 0; s->schema->keys[k].name; k++) {
			const struct mc_conf_value *v = &s->values[k];
			json_t *list = NULL;

			if (v->raw == NULL)
				continue;
			for (; v; v = v->next) {
				char *val = shown(v);
				const char *cells[4] = { title, v->key->name, val,
							 v->source };
				json_t *vo = json_object();

				json_object_set_new(vo, "value", mc_json_str(val));
				json_object_set_new(vo, "source",
						    mc_json_str(v->source));
				if (v->key->flags & MC_CK_LIST) {
					if (list == NULL) {
						list = json_array();
						mc_json_set(vals, v->key->name,
							    list);
					}
					json_array_append_new(list, vo);
				} else {
					mc_json_set(vals, v->key->name, vo);
				}
				mc_table_row(t, cells);
				free(val);
			}
		}
		free(title);
	}
	if (c->path)
		mc_buf_printf(&ctx->report.text, "# %s\n", c->path);
	else
		mc_buf_puts(&ctx->report.text, "# no configuration file: built-in defaults\n");
	mc_table_render(t, &ctx->report.text, ctx->color, NULL);
	mc_table_free(t);
	return 0;
}

static const struct mc_cmd config_check = {
	.name = "check",
	.summary = "Validate the configuration and exit 0, or 78 naming file, line and key",
	.description =
	"Every value is checked as the commands read it. Then what the file "
	"names outside itself is checked in the environment config check runs "
	"in, and each problem is a warning on standard error (and in the "
	"\"warnings\" array of -o json), not an error: a *_env variable that "
	"is not set (run config check the way cron or systemd runs "
	"mercuryctl, e.g. under env -i, to see what they see), a *_file that "
	"cannot be read or is not a regular file, and a secret *_file that "
	"every user can read. At run time such a webhook, check or provider "
	"fails alone, by name, and the others go on.\n\n"
	"A key that names another section of the file - an http check's "
	"oauth, an oauth check's provider, a job's notify webhooks - must name "
	"one that is there: config check exits 78 naming file, line and key "
	"(with a did-you-mean) where it does not. At run time that check or "
	"notification fails alone.",
	.needs = MC_NEED_CONFIG,
	.max_args = 0,
	.run = check_run,
};

static const struct mc_opt show_opts[] = {
	{ 0, "names", "SECTION", MC_OPT_VALUE, MC_ARG_STRING, NULL,
	  "Print only the names of the [SECTION \"NAME\"] sections, one a line",
	  0 },
	{ 0 },
};

static const struct mc_cmd config_show = {
	.name = "show",
	.opts = show_opts,
	.summary = "Print the effective configuration with the source of every value",
	.description =
	"Each value is shown with where it came from: FILE:LINE, env NAME, "
	"flag --NAME or default. Secrets and the credentials inside URLs are "
	"shown as ***.",
	.needs = MC_NEED_CONFIG,
	.max_args = 0,
	.run = show_run,
};

static int init_run(struct mc_ctx *ctx)
{
	mc_buf_puts(&ctx->report.text, mc_config_example);
	json_object_set_new(ctx->report.doc, "config",
			    mc_json_str(mc_config_example));
	return 0;
}

static const struct mc_cmd config_init = {
	.name = "init",
	.summary = "Print an annotated example configuration",
	.description =
	"Prints an example mercury.conf on standard output: [core], checks of "
	"the common types, a DLQ, a webhook and an SLO, each key explained. "
	"config check accepts it as printed; edit the URLs and names to what "
	"runs here. It writes no file: redirect it, e.g. mercuryctl config "
	"init > ~/.config/mercury/mercury.conf.",
	.max_args = 0,
	.run = init_run,
};

static const struct mc_cmd *const config_subs[] = {
	&config_check, &config_show, &config_init, NULL,
};

const struct mc_cmd mc_cmd_config = {
	.examples =
	"Start a configuration from the annotated example:\n"
	"$ mercuryctl config init > ~/.config/mercury/mercury.conf\n"
	"Check it the way cron will run it (few environment variables):\n"
	"$ env -i HOME=$HOME mercuryctl config check\n"
	"Where each value comes from:\n"
	"$ mercuryctl config show\n",
	.name = "config",
	.summary = "Check the configuration or show the values in effect",
	.description =
	"The configuration is read from --config, else $MERCURY_CONFIG, else "
	"$XDG_CONFIG_HOME/mercury/mercury.conf, else /etc/mercury/mercury.conf; "
	"with none, built-in defaults serve. See mercury.conf(5).",
	.subs = config_subs,
};
