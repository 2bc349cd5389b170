/*
 * promapi.h - the Prometheus HTTP API's instant queries (/api/v1/query),
 * shared by the `prometheus` health check and `slo status`: the URL of a
 * query, and one parser for its answer.
 */
#ifndef MC_PROMAPI_H
#define MC_PROMAPI_H

#include <stddef.h>

/* What an answer held. */
enum mc_promapi_kind {
	MC_PROMAPI_VALUE,	/* a scalar, or a vector of one sample */
	MC_PROMAPI_EMPTY,	/* an empty vector: no data */
	MC_PROMAPI_MANY,	/* a vector of several samples */
	MC_PROMAPI_ERROR,	/* "status": "error": msg is Prometheus's text */
	MC_PROMAPI_BAD,		/* not an instant-query answer of the API */
};

struct mc_promapi_result {
	int kind;		/* enum mc_promapi_kind */
	double value;		/* MC_PROMAPI_VALUE (NaN and ±Inf possible) */
	size_t n_series;	/* the vector's length */
	char msg[256];		/* ERROR and BAD: why, one line */
};

/* The URL asking base (a Prometheus base URL, trailing slashes ignored)
 * for query, evaluated at the Unix time at (at <= 0: Prometheus's now).
 * Caller frees. */
char *mc_promapi_query_url(const char *base, const char *query, double at);

/* Reads an answer: its HTTP status and body (len bytes, need not be
 * NUL-terminated). Never fails: what the body is not goes into out->kind
 * and out->msg. Prometheus answers a bad query with HTTP 400 and a JSON
 * error; that is MC_PROMAPI_ERROR, whatever the status. */
void mc_promapi_parse(long http_status, const char *body, size_t len,
		      struct mc_promapi_result *out);

/* A sample value as Prometheus writes it ("1.5", "NaN", "+Inf"): 0, or -1
 * when text is not one. */
int mc_promapi_number(const char *text, double *out);

#endif
