/* fuzz_redact.c - libFuzzer target: redaction. The first NUL-separated
 * part is registered as a secret; whatever text follows, the secret never
 * survives mc_redact() (see checkable()), and mc_redact_url() never
 * crashes. */
#include "fuzz_common.h"
#include "log.h"

/* A secret that masking and escaping cannot make up: printable ASCII
 * without '*' (what masks are made of) and without the characters of a
 * \xNN escape (0-9, A-F, x and the backslash), which escaping an
 * invalid byte next to the text could join into it (found: 0xB2 before
 * "secret" gives "\xB2secret", holding "2secret"). */
static int checkable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x21 || *s > 0x7e || *s == '*' || *s == 'x' ||
		    *s == '\\' || (*s >= '0' && *s <= '9') ||
		    (*s >= 'A' && *s <= 'F'))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *parts[2], *buf, *out;
	size_t n;

	buf = fuzz_split(data, size, parts, 2, &n);
	if (n == 2) {
		mc_redact_add(parts[0]);
		out = mc_redact(parts[1]);
		if (strlen(parts[0]) >= 4 && checkable(parts[0]) &&
		    strstr(out, parts[0]) != NULL)
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
