/* redis_script.c - EVALSHA with the EVAL fallback; see redis_script.h. */
#include "redis_script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

void mc_redis_script_sha(const char *script, char out[41])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	EVP_Digest(script, strlen(script), md, &mdlen, EVP_sha1(), NULL);
	mc_hex(md, 20, out);
}

redisReply *mc_redis_eval(struct mc_redis *r, const char *script, int nkeys,
			  const char *const *keys, int nargs,
			  const char *const *args, const size_t *argvlen,
			  struct mc_err *err)
{
	int argc = 3 + nkeys + nargs;
	const char **argv = mc_calloc((size_t)argc, sizeof(*argv));
	size_t *lens = mc_calloc((size_t)argc, sizeof(*lens));
	char sha[41], num[16];
	struct mc_err e = { 0 };
	redisReply *reply;
	int i;

	mc_redis_script_sha(script, sha);
	snprintf(num, sizeof(num), "%d", nkeys);
	argv[0] = "EVALSHA";
	argv[1] = sha;
	argv[2] = num;
	for (i = 0; i < nkeys; i++)
		argv[3 + i] = keys[i];
	for (i = 0; i < nargs; i++) {
		argv[3 + nkeys + i] = args[i];
		lens[3 + nkeys + i] = argvlen ? argvlen[i] : strlen(args[i]);
	}
	for (i = 0; i < 3 + nkeys; i++)
		lens[i] = strlen(argv[i]);
	reply = mc_redis_cmdargv(r, argc, argv, lens, &e);
	if (reply == NULL && strstr(e.msg, "NOSCRIPT") != NULL) {
		argv[0] = "EVAL";
		argv[1] = script;
		lens[0] = 4;
		lens[1] = strlen(script);
		mc_err_clear(&e);
		reply = mc_redis_cmdargv(r, argc, argv, lens, &e);
	}
	if (reply == NULL && err != NULL)
		*err = e;
	free(argv);
	free(lens);
	return reply;
}
