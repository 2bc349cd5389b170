/* completion.c - `mercuryctl completion SHELL`: print a completion script. */
#include "cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static int completion_run(struct mc_ctx *ctx)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return mc_err_sys(&ctx->err, MC_EXIT_IOERR, errno, "open_memstream");
	mc_cli_completion(f, &mc_cmd_root, ctx->args->pos[0]);
	fclose(f);
	mc_buf_add(&ctx->report.text, buf, len);
	json_object_set_new(ctx->report.doc, "shell",
			    mc_json_str(ctx->args->pos[0]));
	json_object_set_new(ctx->report.doc, "script", mc_json_str(buf));
	free(buf);
	return 0;
}

const struct mc_cmd mc_cmd_completion = {
	.examples =
	"Complete mercuryctl in the current bash:\n"
	"$ source <(mercuryctl completion bash)\n"
	"Install the zsh completion for one user:\n"
	"$ mercuryctl completion zsh > ~/.zfunc/_mercuryctl\n"
	"Complete mercuryctl in the current zsh (after compinit) or fish:\n"
	"$ source <(mercuryctl completion zsh)\n"
	"$ mercuryctl completion fish | source\n",
	.name = "completion",
	.summary = "Print the shell completion script for bash, zsh or fish",
	.args = "SHELL",
	.description =
	"Prints a completion script generated from the command table. To use "
	"it now: source <(mercuryctl completion bash), in zsh (after "
	"compinit) source <(mercuryctl completion zsh), in fish mercuryctl "
	"completion fish | source. The zsh script also works from a directory "
	"on $fpath, as _mercuryctl. Installed copies live in the "
	"bash-completion, zsh and fish vendor directories.",
	.min_args = 1,
	.max_args = 1,
	.arg_choices = "bash|zsh|fish",
	.run = completion_run,
};
