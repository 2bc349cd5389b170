/* test_promapi.c - instant-query URLs and answers (lib/promapi.c). The
 * answers are the shapes Prometheus 2.42 sends (its API documentation),
 * and what a server that is not Prometheus sends instead. */
#include <criterion/criterion.h>

#include <math.h>
#include <string.h>

#include "mc.h"
#include "promapi.h"

static void parse(long status, const char *body, struct mc_promapi_result *r)
{
	mc_promapi_parse(status, body, strlen(body), r);
}

Test(promapi, query_url)
{
	char *u = mc_promapi_query_url("http://p:9090//", "sum(rate(x[5m]))", 0);

	cr_expect_str_eq(u, "http://p:9090/api/v1/query?query="
			 "sum%28rate%28x%5B5m%5D%29%29");
	free(u);
	u = mc_promapi_query_url("http://p:9090", "up", 1795341600.5);
	cr_expect_str_eq(u, "http://p:9090/api/v1/query?query=up&"
			 "time=1795341600.500");
	free(u);
}

Test(promapi, scalar_and_one_sample)
{
	struct mc_promapi_result r;

	parse(200, "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
	      "\"result\":[1795341600,\"7\"]}}", &r);
	cr_expect_eq(r.kind, MC_PROMAPI_VALUE);
	cr_expect_eq(r.value, 7);
	parse(200, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
	      "\"result\":[{\"metric\":{},\"value\":[1795341600.5,"
	      "\"0.0015000000000000002\"]}]}}", &r);
	cr_expect_eq(r.kind, MC_PROMAPI_VALUE);
	cr_expect_eq(r.value, 0.0015000000000000002);
	cr_expect_eq(r.n_series, 1);
}

Test(promapi, special_values)
{
	struct mc_promapi_result r;

	parse(200, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
	      "\"result\":[{\"metric\":{},\"value\":[1,\"NaN\"]}]}}", &r);
	cr_expect_eq(r.kind, MC_PROMAPI_VALUE);
	cr_expect(isnan(r.value));
	parse(200, "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
	      "\"result\":[1,\"+Inf\"]}}", &r);
	cr_expect_eq(r.kind, MC_PROMAPI_VALUE);
	cr_expect(isinf(r.value) && r.value > 0);
	parse(200, "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
	      "\"result\":[1,\"0x10\"]}}", &r);
	cr_expect_eq(r.kind, MC_PROMAPI_BAD, "a hex float is no sample");
	parse(200, "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
	      "\"result\":[1,\"12abc\"]}}", &r);
	cr_expect_eq(r.kind, MC_PROMAPI_BAD);
	cr_expect(strstr(r.msg, "12abc") != NULL, "%s", r.msg);
}

Test(promapi, empty_and_several)
{
	struct mc_promapi_result r;

	parse(200, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
	      "\"result\":[]}}", &r);
	cr_expect_eq(r.kind, MC_PROMAPI_EMPTY);
	cr_expect_eq(r.n_series, 0);
	parse(200, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
	      "\"result\":[{\"metric\":{\"code\":\"200\"},\"value\":[1,\"1\"]},"
	      "{\"metric\":{\"code\":\"500\"},\"value\":[1,\"2\"]},"
	      "{\"metric\":{\"code\":\"503\"},\"value\":[1,\"3\"]}]}}", &r);
	cr_expect_eq(r.kind, MC_PROMAPI_MANY);
	cr_expect_eq(r.n_series, 3);
}

Test(promapi, prometheus_error)
{
	struct mc_promapi_result r;

	parse(400, "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":"
	      "\"invalid parameter \\\"query\\\": 1:5: parse error: unclosed "
	      "left parenthesis\"}", &r);
	cr_expect_eq(r.kind, MC_PROMAPI_ERROR);
	cr_expect_str_eq(r.msg, "invalid parameter \"query\": 1:5: parse error: "
			 "unclosed left parenthesis");
	parse(422, "{\"status\":\"error\"}", &r);
	cr_expect_eq(r.kind, MC_PROMAPI_ERROR);
	cr_expect(strstr(r.msg, "without its text") != NULL, "%s", r.msg);
}

Test(promapi, not_prometheus)
{
	static const struct {
		long status;
		const char *body, *says;
	} cases[] = {
		{ 200, "<!DOCTYPE html><html><body>Grafana</body></html>",
		  "an HTML page" },
		{ 200, "  \n<html>", "an HTML page" },
		{ 200, "", "an empty body" },
		{ 200, "{\"status\":\"success\",\"data\":{\"resultType\":\"vec",
		  "HTTP 200 and not a Prometheus API answer" },
		{ 200, "[1,2]", "not an object" },
		{ 200, "{\"ok\":true}", "no \"status\"" },
		{ 502, "Bad Gateway", "HTTP 502" },
		{ 200, "{\"status\":\"success\",\"data\":{\"resultType\":"
		  "\"matrix\",\"result\":[]}}", "a matrix" },
		{ 200, "{\"status\":\"success\",\"data\":{\"resultType\":"
		  "\"string\",\"result\":[1,\"x\"]}}", "a string" },
		{ 200, "{\"status\":\"success\",\"data\":{\"resultType\":"
		  "\"vector\",\"result\":[{\"metric\":{}}]}}", "malformed" },
		{ 200, "{\"status\":\"success\"}", "malformed" },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		struct mc_promapi_result r;

		parse(cases[i].status, cases[i].body, &r);
		cr_expect_eq(r.kind, MC_PROMAPI_BAD, "case %zu", i);
		cr_expect(strstr(r.msg, cases[i].says) != NULL,
			  "case %zu: '%s' lacks '%s'", i, r.msg, cases[i].says);
		cr_expect(strchr(r.msg, '\n') == NULL);
	}
}

Test(promapi, body_not_terminated)
{
	/* The length counts, not a NUL: "7" is cut off here. */
	const char body[] = "{\"status\":\"success\",\"data\":{\"resultType\":"
			    "\"scalar\",\"result\":[1,\"7\"]}}XYZ";
	struct mc_promapi_result r;

	mc_promapi_parse(200, body, strlen(body) - 3, &r);
	cr_expect_eq(r.kind, MC_PROMAPI_VALUE);
	mc_promapi_parse(200, body, 20, &r);
	cr_expect_eq(r.kind, MC_PROMAPI_BAD);
	mc_promapi_parse(200, NULL, 0, &r);
	cr_expect_eq(r.kind, MC_PROMAPI_BAD);
}
