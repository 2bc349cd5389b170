/* fuzz_alert_payload.c - libFuzzer target: the alert payload builders of
 * every webhook type. Parts of the input (NUL-separated) are the summary,
 * description, source, generator URL and KEY=VALUE labels; an alert that
 * mc_alert_finish() accepts gives valid JSON for every type. */
#include <jansson.h>
#include "fuzz_common.h"
#include "alert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *parts[12], *buf;
	size_t n;
	struct mc_alert a;
	struct mc_err err = { 0 };

	if (size < 1)
		return 0;
	buf = fuzz_split(data + 1, size - 1, parts, 12, &n);
	memset(&a, 0, sizeof(a));
	a.action = data[0] % 3;
	a.severity = (data[0] >> 2) % 3;
	a.summary = strdup(parts[0]);
	a.description = n > 1 ? strdup(parts[1]) : NULL;
	a.source = n > 2 && *parts[2] ? strdup(parts[2]) : NULL;
	a.generator_url = n > 3 && *parts[3] ? strdup(parts[3]) : NULL;
	a.correlation_id = strdup("0af7651916cd43dd8448eb211c80319c");
	a.started = 1.8e9;
	for (size_t i = 4; i < n; i++)
		(void)mc_alert_add_label(&a, parts[i], NULL);
	if (mc_alert_finish(&a, &err) == 0) {
		for (int t = MC_WH_SLACK; t <= MC_WH_PAGERDUTY; t++) {
			struct mc_webhook wh;
			char *body;
			json_t *j;

			memset(&wh, 0, sizeof(wh));
			wh.name = "fuzz";
			wh.type = t;
			wh.url = "http://127.0.0.1:9/hook";
			wh.routing_key = "R0UT1NGKEY";
			body = mc_alert_payload(&wh, &a, (data[0] >> 4) % 4 - 1,
						1.8e9 + 60);
			if (body == NULL)
				abort();
			j = json_loads(body, 0, NULL);
			if (j == NULL)
				abort();
			json_decref(j);
			free(body);
		}
	}
	mc_alert_release(&a);
	free(buf);
	return 0;
}
