/* fuzz_config_value.c - libFuzzer target: git-config quoting of a value.
 * A value read is never longer than what was written; a refusal says why
 * in one line. */
#include "fuzz_common.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), *v, why[MC_ERR_MSG];
	int cut = -1;

	why[0] = '\0';
	v = mc_conf_unquote(s, &cut, why, sizeof(why));
	if (v != NULL) {
		if (strlen(v) > strlen(s) || (cut != 0 && cut != 1))
			abort();
		free(v);
	} else if (why[0] == '\0' || strchr(why, '\n') != NULL) {
		abort();
	}
	free(s);
	return 0;
}
