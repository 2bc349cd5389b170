/* fuzz_plugin.c - libFuzzer target: a plugin's output (first line "TEXT |
 * PERF", long output, more perfdata after a '|') and perfdata alone. The
 * text must come out one line of valid UTF-8 (other control characters are
 * kept for each output to escape), and escaped it must hold none. */
#include "fuzz_common.h"
#include "plugin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mc_plugin_result res;
	struct mc_perf *perf = NULL;
	size_t n = 0;
	char *s;

	memset(&res, 0, sizeof(res));
	mc_plugin_parse_output((const char *)data, size, &res);
	if (res.text == NULL || !mc_utf8_valid(res.text, strlen(res.text)))
		abort();
	if (strpbrk(res.text, "\n\r\t\v\f") != NULL)
		abort();
	s = mc_escape(res.text, strlen(res.text));
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
	free(s);
	for (size_t i = 0; i < res.n_perf; i++)
		if (res.perf[i].label == NULL || res.perf[i].uom == NULL)
			abort();
	mc_plugin_result_release(&res);
	s = fuzz_str(data, size);
	mc_perf_parse(s, &perf, &n);
	mc_perf_free(perf, n);
	free(s);
	return 0;
}
