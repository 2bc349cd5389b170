/* fuzz_config.c - libFuzzer target: mercury.conf parsing and validation.
 * Any input must load or fail with MC_EXIT_CONFIG and a one-line message;
 * never crash, leak or loop. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct mc_err err = { 0 };
	struct mc_conf *c;

	memcpy(text, data, size);
	text[size] = '\0';
	c = mc_conf_load_string(text, "fuzz.conf", NULL, 0, &err);
	if (c == NULL) {
		if (err.code != MC_EXIT_CONFIG || err.msg[0] == '\0' ||
		    strchr(err.msg, '\n') != NULL)
			abort();
	}
	mc_conf_free(c);
	free(text);
	return 0;
}
