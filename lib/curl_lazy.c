/* curl_lazy.c - see curl_lazy.h. */
#include "curl_lazy.h"
#include "lazylib.h"

const struct mc_curl_api *mc_curl;

/* The soname of Debian's libcurl4 (the OpenSSL flavour the headers come
 * from). */
#define MC_CURL_SONAME "libcurl.so.4"

const struct mc_curl_api *mc_curl_load(struct mc_err *err)
{
	static struct mc_curl_api api;
	static const struct mc_lazy_sym syms[] = {
#define SYM(field, name) { name, offsetof(struct mc_curl_api, field) }
		SYM(global_init, "curl_global_init"),
		SYM(easy_init, "curl_easy_init"),
		SYM(easy_setopt, "curl_easy_setopt"),
		SYM(easy_getinfo, "curl_easy_getinfo"),
		SYM(easy_cleanup, "curl_easy_cleanup"),
		SYM(easy_strerror, "curl_easy_strerror"),
		SYM(multi_init, "curl_multi_init"),
		SYM(multi_add_handle, "curl_multi_add_handle"),
		SYM(multi_remove_handle, "curl_multi_remove_handle"),
		SYM(multi_perform, "curl_multi_perform"),
		SYM(multi_poll, "curl_multi_poll"),
		SYM(multi_info_read, "curl_multi_info_read"),
		SYM(multi_cleanup, "curl_multi_cleanup"),
		SYM(slist_append, "curl_slist_append"),
		SYM(slist_free_all, "curl_slist_free_all"),
		SYM(getdate, "curl_getdate"),
		SYM(version_info, "curl_version_info"),
#undef SYM
	};

	if (mc_curl != NULL)
		return mc_curl;
	if (mc_lazy_load(MC_CURL_SONAME, syms, MC_ARRAY_LEN(syms), &api,
			 err) < 0)
		return NULL;
	mc_curl = &api;
	return mc_curl;
}
