/* fuzz_redact.c - libFuzzer target: redaction. The first NUL-separated
 * part is registered as a secret; whatever text follows, the secret never
 * survives mc_redact(), and mc_redact_url() never crashes. */
#include "fuzz_common.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *parts[2], *buf, *out;
	size_t n;

	buf = fuzz_split(data, size, parts, 2, &n);
	if (n == 2) {
		mc_redact_add(parts[0]);
		out = mc_redact(parts[1]);
		if (strlen(parts[0]) >= 4 && strstr(out, parts[0]) != NULL &&
		    strchr(parts[0], '*') == NULL)
			abort();
		free(out);
		out = mc_redact_url(parts[1], 1);
		free(out);
		out = mc_redact_url(parts[1], 0);
		free(out);
		mc_log_shutdown();
	} else {
		free(mc_redact(parts[0]));
		free(mc_redact_url(parts[0], 0));
	}
	free(buf);
	return 0;
}
