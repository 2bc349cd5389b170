/* fuzz_cli.c - libFuzzer target: the command-line parser over the real
 * command table. NUL-separated parts are the arguments; a refusal is a
 * usage error in one line. */
#include "fuzz_common.h"
#include "cli.h"
#include "output.h"

extern const struct mc_cmd mc_cmd_root;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *parts[32], *buf, *argv[34];
	size_t n;
	struct mc_args a;
	struct mc_err err = { 0 };

	buf = fuzz_split(data, size, parts, 32, &n);
	argv[0] = "mercuryctl";
	for (size_t i = 0; i < n; i++)
		argv[i + 1] = parts[i];
	argv[n + 1] = NULL;
	(void)mc_format_scan((int)n + 1, argv);
	memset(&a, 0, sizeof(a));
	if (mc_cli_parse(&mc_cmd_root, (int)n + 1, argv, &a, &err) == 0) {
		mc_args_release(&a);
	} else if (err.code != MC_EXIT_USAGE || err.msg[0] == '\0' ||
		   strchr(err.msg, '\n') != NULL) {
		abort();
	}
	free(buf);
	return 0;
}
