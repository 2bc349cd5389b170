/* fuzz_argv.c - libFuzzer target: an exec check's command line split into
 * words as a shell would, never given to one. */
#include "fuzz_common.h"
#include "plugin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	struct mc_err err = { 0 };
	char **argv = NULL;

	if (mc_argv_split(s, &argv, &err) == 0) {
		size_t total = 0;

		if (argv == NULL || argv[0] == NULL)
			abort();
		for (char **a = argv; *a; a++)
			total += strlen(*a);
		if (total > strlen(s))	/* splitting never adds bytes */
			abort();
		mc_argv_free(argv);
	} else if (err.msg[0] == '\0') {
		abort();
	}
	free(s);
	return 0;
}
