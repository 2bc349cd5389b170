/*
 * backup_source.c - the child processes of a backup: backup_source commands
 * whose stdout becomes a file, restore_commands fed a file on stdin, and the
 * before_restore/after_restore hooks. They run through lib/proc.c (argv,
 * never a shell; own process group; the whole tree killed on a timeout).
 */
#include "backup_int.h"

int mc_bk_source_store(const struct mc_bk_source *s, int zstd,
		       const char *out_path, struct mc_bk_io *io,
		       struct mc_bk_file *f, struct mc_err *err)
{
	(void)zstd; (void)out_path; (void)io; (void)f;
	return mc_err_set(err, MC_EXIT_CONFIG, "backup_source '%s': not "
			  "supported yet", s->name);
}

int mc_bk_source_feed(const char *command, const char *what,
		      const struct mc_bk_file *f, const char *stored_path,
		      int64_t timeout_ms, struct mc_bk_io *io,
		      struct mc_err *err)
{
	(void)command; (void)f; (void)stored_path; (void)timeout_ms; (void)io;
	return mc_err_set(err, MC_EXIT_CONFIG, "%s: not supported yet", what);
}

int mc_bk_hook_run(const char *name, const char *command, int64_t timeout_ms,
		   const struct mc_deadline *dl, struct mc_err *err)
{
	(void)command; (void)timeout_ms; (void)dl;
	return mc_err_set(err, MC_EXIT_CONFIG, "%s: not supported yet", name);
}
