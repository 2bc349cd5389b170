/* version.c - `mercuryctl version`: this build and the libraries it runs on. */
#include "cmd.h"
#include "curl_lazy.h"
#include "lazylib.h"

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <sqlite3.h>

#ifndef MC_INIH_VERSION
#define MC_INIH_VERSION "unknown"
#endif

static int version_run(struct mc_ctx *ctx)
{
	const char *names[] = { "libcurl", "sqlite3", "jansson", "hiredis",
				"inih", "openssl", "c-ares", "zstd" };
	char hiredis[32];
	const char *vers[8];
	json_t *libs = json_object();

	snprintf(hiredis, sizeof(hiredis), "%d.%d.%d", HIREDIS_MAJOR,
		 HIREDIS_MINOR, HIREDIS_PATCH);
	/* libcurl is loaded only now (see lib/curl_lazy.h). */
	vers[0] = mc_curl_load(NULL) ? curl_version_info(CURLVERSION_NOW)->version
				     : "not loadable";
	vers[1] = sqlite3_libversion();
	vers[2] = jansson_version_str();
	vers[3] = hiredis;		/* hiredis has no run-time version */
	vers[4] = MC_INIH_VERSION;	/* nor has inih: the build's */
	vers[5] = OpenSSL_version(OPENSSL_VERSION_STRING);
	/* loaded on first use too (lib/lazylib.h) */
	vers[6] = mc_lazy_ready(MC_LAZY_ARES, NULL) == 0 ? ares_version(NULL) :
		  "not loadable";
	vers[7] = mc_lazy_ready(MC_LAZY_ZSTD, NULL) == 0 ?
		  ZSTD_versionString() : "not loadable";
	mc_buf_printf(&ctx->report.text, "mercuryctl %s\n", MC_VERSION);
	for (size_t i = 0; i < MC_ARRAY_LEN(names); i++) {
		mc_buf_printf(&ctx->report.text, "  %-8s %s\n", names[i], vers[i]);
		mc_json_set(libs, names[i], mc_json_str(vers[i]));
	}
	json_object_set_new(ctx->report.doc, "version", mc_json_str(MC_VERSION));
	json_object_set_new(ctx->report.doc, "libraries", libs);
	return 0;
}

const struct mc_cmd mc_cmd_version = {
	.examples =
	"The version, and those of the libraries it runs on:\n"
	"$ mercuryctl version\n"
	"For a bug report:\n"
	"$ mercuryctl version --json\n",
	.name = "version",
	.summary = "Print the version and the versions of the libraries in use",
	.max_args = 0,
	.run = version_run,
};
