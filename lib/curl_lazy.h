/*
 * curl_lazy.h - libcurl, loaded on first use (private to lib/http.c and
 * cmd/version.c).
 *
 * libcurl and the libraries it pulls in (nghttp2, ssh2, ldap, kerberos,
 * psl, idn2, ...) cost every process about 3 ms of start-up and 4.7 MB of
 * resident memory (measured: an empty program linked against them against
 * one without). Most runs (health of local checks, history, breaker,
 * config) never speak HTTP, so the binary does not link libcurl: the first
 * HTTP client dlopen()s it. The names below map the curl calls of lib/ onto
 * the loaded functions, so http.c reads as ordinary libcurl code.
 */
#ifndef MC_CURL_LAZY_H
#define MC_CURL_LAZY_H

#define CURL_DISABLE_TYPECHECK	/* curl_easy_setopt becomes ours, below */
#include <curl/curl.h>
#include "mc.h"

struct mc_curl_api {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *curl, CURLoption option, ...);
	CURLcode (*easy_getinfo)(CURL *curl, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *curl);
	const char *(*easy_strerror)(CURLcode code);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_add_handle)(CURLM *m, CURL *e);
	CURLMcode (*multi_remove_handle)(CURLM *m, CURL *e);
	CURLMcode (*multi_perform)(CURLM *m, int *running);
	CURLMcode (*multi_poll)(CURLM *m, struct curl_waitfd extra[],
				unsigned int n, int timeout_ms, int *ret);
	CURLMsg *(*multi_info_read)(CURLM *m, int *left);
	CURLMcode (*multi_cleanup)(CURLM *m);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
	time_t (*getdate)(const char *p, const time_t *unused);
	curl_version_info_data *(*version_info)(CURLversion v);
};

/* Loads libcurl once; later calls return the same table. NULL with err
 * (MC_EXIT_UNKNOWN) when the library cannot be loaded. */
const struct mc_curl_api *mc_curl_load(struct mc_err *err);

/* The table, valid after a successful mc_curl_load(). */
extern const struct mc_curl_api *mc_curl;

/* curl.h makes these two function-like macros that check the argument
 * count; ours replace them. */
#undef curl_easy_setopt
#undef curl_easy_getinfo

#define curl_global_init	(mc_curl->global_init)
#define curl_easy_init		(mc_curl->easy_init)
#define curl_easy_setopt	(mc_curl->easy_setopt)
#define curl_easy_getinfo	(mc_curl->easy_getinfo)
#define curl_easy_cleanup	(mc_curl->easy_cleanup)
#define curl_easy_strerror	(mc_curl->easy_strerror)
#define curl_multi_init		(mc_curl->multi_init)
#define curl_multi_add_handle	(mc_curl->multi_add_handle)
#define curl_multi_remove_handle (mc_curl->multi_remove_handle)
#define curl_multi_perform	(mc_curl->multi_perform)
#define curl_multi_poll		(mc_curl->multi_poll)
#define curl_multi_info_read	(mc_curl->multi_info_read)
#define curl_multi_cleanup	(mc_curl->multi_cleanup)
#define curl_slist_append	(mc_curl->slist_append)
#define curl_slist_free_all	(mc_curl->slist_free_all)
#define curl_getdate		(mc_curl->getdate)
#define curl_version_info	(mc_curl->version_info)

#endif
