/* fuzz_dlq_time.c - libFuzzer target: the time a DLQ message carries (a
 * top-level timestamp, ts, created_at or failed_at; Unix seconds or
 * milliseconds, or RFC 3339). What is found is a finite number. */
#include <math.h>
#include "fuzz_common.h"
#include "dlq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	double t = 0;

	if (mc_dlq_msg_time((const char *)data, size, &t) == 0 && !isfinite(t))
		abort();
	return 0;
}
